// A disk that fills during `index add`: a real tmpfs mounted small (root only; skipped with the reason otherwise).
// The message names the index and says what to do; what was committed before is kept and still answers.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureGeneratedModel } from '../../src/index/model';
import { makeNlmFiles, type NlmFiles } from '../fixtures/nlm-mirror';
import { tmpDir } from './index-helpers';
import { cliRunner, ensureCliBuilt } from './cli-helpers';
import { snapshot } from './index-snapshot';

let dir: string;
let mnt: string;
let mounted = false;
let model: string;
let nlm: NlmFiles;
const { runSync: run } = cliRunner(() => path.join(dir, 'home'));

before(async () => {
  ensureCliBuilt();
  dir = tmpDir('biohicl-full-');
  mnt = path.join(dir, 'small');
  fs.mkdirSync(mnt);
  mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt]).status === 0;
  model = path.join(dir, 'tiny');
  await ensureGeneratedModel(model, 'tiny');
  nlm = await makeNlmFiles(path.join(dir, 'nlm'));
});
after(() => {
  if (mounted) spawnSync('umount', [mnt]);
});

test('index add on a disk that fills: a clear message, the committed rows kept', { timeout: 180_000 }, async (t) => {
  if (!mounted) {
    t.skip('cannot mount a small tmpfs here (needs root)');
    return;
  }
  const idx = path.join(mnt, 'idx');
  const first = run([
    'index',
    'add',
    nlm.baseline[0]!,
    '--index',
    idx,
    '--model',
    model,
    '--quiet',
    '--sentences',
    'none',
  ]);
  assert.equal(first.code, 0, `the first file fits in 3 MB: ${first.err}`);
  const kept = await snapshot(idx);
  let full: ReturnType<typeof run> | undefined;
  for (const f of [...nlm.baseline.slice(1), ...nlm.updates]) {
    full = run(['index', 'add', f, '--index', idx, '--model', model, '--quiet']);
    if (full.code !== 0) break;
  }
  assert.ok(full && full.code !== 0, 'the disk filled up');
  assert.match(
    full!.err,
    new RegExp(
      `the disk holding the index at ${idx.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is full\\. What was committed before stays`,
    ),
  );
  assert.doesNotMatch(full!.err, /\/rustc\/|\/usr\/local\/cargo\/|at .*\.js:\d+/);
  // The committed rows are all there and searchable.
  const after = await snapshot(idx);
  for (const [p, a] of kept.articles) assert.equal(after.articles.get(p)?.hash, a.hash, `committed PMID ${p} kept`);
  const s = run(['search', 'cancer', '--index', idx, '--model', model, '--mode', 'fts', '--json']);
  assert.equal(s.code, 0, s.err);
});
