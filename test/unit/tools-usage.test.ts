// The eval and bench tools: a missing data set or a wrong option is a usage error (exit 2) that says what to do,
// never a JavaScript stack. (SciFact is CC BY-NC and not in the repository: the eval takes its folder.)
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT, ensureCliBuilt } from './cli-helpers';

const tool = (name: string, args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, 'dist', `${name}.js`), ...args], { encoding: 'utf8' });

test('eval scifact without its data set, with a bad option or mode: exit 2, a message, no stack', () => {
  ensureCliBuilt();
  const missing = tool('eval', ['scifact', path.join(ROOT, 'no-such-folder')]);
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(
    missing.stderr,
    /no BEIR data set at .*no-such-folder.*pass its folder: npm run eval -- scifact <folder>/s,
  );
  for (const args of [
    ['scifact', '--bogus'],
    ['scifact', '--modes', 'sideways'],
    ['scifact', ROOT, '--modes', 'dense'],
  ]) {
    const r = tool('eval', args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${args.join(' ')} printed a stack`);
  }
  const bench = tool('bench', ['cluster', '--bogus']);
  assert.equal(bench.status, 2);
  assert.doesNotMatch(bench.stderr, /\n\s+at /);
  for (const args of [
    ['completion', '--bogus'],
    ['completion', '--shape', 'huge'],
    ['completion', '--entries', '0'],
  ]) {
    const r = tool('bench', args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: npm run bench -- completion/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
