// What the webview sends is checked before the host acts on it (src/extension/messages.ts, the schema in
// protocol.ts): every request the webview script makes passes; anything else is refused with the field and value
// named, and the id kept so the sidebar can answer it with an error reply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWebviewMessage } from '../../src/extension/messages';

test('the requests the webview makes pass unchanged', () => {
  for (const m of [
    { id: 1, type: 'ready', data: {} },
    { id: 2, type: 'insertCitation', data: { pmid: '123' } },
    { id: 3, type: 'openLink', data: { kind: 'doi', value: '10.1/x' } },
    { id: 4, type: 'insertKeyword', data: { ui: 'D001', name: 'Asthma' } },
    { id: 5, type: 'errorAction', data: { command: 'rebuildIndex' } },
    { id: 6, type: 'runCommand', data: { command: 'updateIndex' } },
    { id: 7, type: 'insertSentence', data: { pmid: '9', text: '' } },
  ]) {
    const r = checkWebviewMessage(m);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.message, m);
  }
});

test('malformed messages are refused naming the field and value; the id is kept for the error reply', () => {
  const refused = (m: unknown): { id?: number; error: string } => {
    const r = checkWebviewMessage(m);
    assert.equal(r.ok, false, `accepted ${JSON.stringify(m)}`);
    return r as { id?: number; error: string };
  };
  let r = refused({ id: 8, type: 'insertCitation', data: { pmid: 123 } });
  assert.equal(r.id, 8);
  assert.match(r.error, /^webview message: data\.pmid: expected string, got 123 \(message \{"id":8,/);
  r = refused({ id: 9, type: 'openLink', data: { kind: 'javascript', value: 'alert(1)' } });
  assert.match(r.error, /^webview message: data\.kind: expected \("pubmed" \| "doi" \| "mesh"\), got "javascript"/);
  r = refused({ id: 10, type: 'deleteEverything', data: {} });
  assert.equal(r.id, 10);
  assert.match(r.error, /^webview message: type: expected \("ready" \| "insertCitation" \|/);
  r = refused({ id: 11, type: 'errorAction', data: { command: 'rm' } });
  assert.match(r.error, /data\.command: expected \("rebuildIndex" \|/);
  r = refused({ id: 12, type: 'copyText' });
  assert.match(r.error, /^webview message: data: missing/);
  r = refused({ id: 'x', type: 'ready', data: {} });
  assert.equal(r.id, undefined, 'no usable id: nothing to reply to');
  assert.match(r.error, /^webview message: id: expected number, got "x"/);
  r = refused(null);
  assert.match(r.error, /^webview message: \(top level\): expected Object, got null/);
  r = refused({ id: 1.5, type: 'ready', data: {} });
  assert.equal(r.id, undefined);
});
