// errorText: the one way a thrown value becomes the text of a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorText } from '../../src/util/errors';

test('errorText: Error message, a message-carrying object (errors as data from the worker), anything else as text', () => {
  assert.equal(errorText(new TypeError('bad pmid')), 'bad pmid');
  assert.equal(errorText({ code: 'load', message: 'model gone' }), 'model gone');
  assert.equal(errorText('plain string'), 'plain string');
  assert.equal(errorText(42), '42');
  assert.equal(errorText(undefined), 'undefined');
  assert.equal(errorText({ message: 7 }), '[object Object]');
});
