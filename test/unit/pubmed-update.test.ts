// `biohicl pubmed update` on a laptop: an index holding the baseline fetches, from a real local mirror laid out like
// NLM's, the update files it has not seen and applies them in order; the result equals a one-pass build of baseline
// + updates; a rerun fetches and applies nothing; a run killed mid-way resumes to the same result.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureGeneratedModel } from '../../src/index/model';
import { makeNlmFiles, serveNlmMirror, type NlmFiles, type NlmMirror } from '../fixtures/nlm-mirror';
import { tmpDir } from './index-helpers';
import { diffSnapshots, problems, snapshot } from './index-snapshot';
import { CLI as cli, ROOT as root, cliRunner, ensureCliBuilt } from './cli-helpers';

let dir: string;
let model: string;
let nlm: NlmFiles;
let mirror: NlmMirror;

const env = (): NodeJS.ProcessEnv => ({ ...process.env, BIOHICL_HOME: path.join(dir, 'home') });
// Asynchronous: the mirror runs in this process, so a synchronous spawn would block it from answering.
const { run } = cliRunner(() => path.join(dir, 'home'));

before(async () => {
  ensureCliBuilt();
  dir = tmpDir('biohicl-upd-');
  model = path.join(dir, 'tiny');
  await ensureGeneratedModel(model, 'tiny');
  nlm = await makeNlmFiles(path.join(dir, 'nlm'));
  mirror = await serveNlmMirror(nlm);
});
after(async () => {
  await mirror?.close();
});

test(
  'pubmed update fetches and applies the missing update files in order; a rerun is a no-op',
  { timeout: 180_000 },
  async () => {
    const ref = path.join(dir, 'ref');
    assert.equal(
      (await run(['index', 'add', ...nlm.baseline, ...nlm.updates, '--index', ref, '--model', model, '--quiet'])).code,
      0,
    );
    const idx = path.join(dir, 'laptop');
    // The laptop's index holds the baseline (as a pulled release would) and no update file yet.
    let r = await run(['index', 'add', ...nlm.baseline, '--index', idx, '--model', model, '--quiet']);
    assert.equal(r.code, 0, r.err);
    const out = path.join(dir, 'pubmed');
    r = await run([
      'pubmed',
      'update',
      '--index',
      idx,
      '--mirror',
      mirror.url,
      '--out',
      out,
      '--json',
      '--threads',
      '1',
    ]);
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out);
    assert.equal(s.after, 'pubmed26n0008.xml.gz');
    assert.deepEqual(s.applied, ['pubmed26n0009.xml.gz', 'pubmed26n0010.xml.gz']);
    assert.equal(s.last, 'pubmed26n0010.xml.gz');
    assert.ok(s.updated > 0 && s.deleted === nlm.deletedPmids.length, JSON.stringify(s));
    const snap = await snapshot(idx);
    assert.deepEqual(problems(snap), []);
    assert.deepEqual(diffSnapshots(await snapshot(ref), snap), []);
    // Rerun: no file downloaded, nothing applied.
    mirror.resetStats?.();
    const before = mirror.log.length;
    r = await run(['pubmed', 'update', '--index', idx, '--mirror', mirror.url, '--out', out, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out).applied, []);
    assert.ok(!mirror.log.slice(before).some((l) => /\.xml\.gz$/.test(l.path)), 'no update file downloaded again');
    // The stats say how current the index is.
    const st = JSON.parse((await run(['index', 'stats', '--index', idx, '--json'])).out);
    assert.equal(st.lastPubmedFile, 'pubmed26n0010.xml.gz');
  },
);

test('an index with no PubMed file is told how to get one', async () => {
  const idx = path.join(dir, 'own');
  assert.equal(
    (
      await run([
        'index',
        'add',
        path.join(root, 'test', 'fixtures', 'pubmed', 'biopython', 'pubmed_result1.txt'),
        '--index',
        idx,
        '--model',
        model,
        '--quiet',
      ])
    ).code,
    0,
  );
  const r = await run(['pubmed', 'update', '--index', idx, '--mirror', mirror.url, '--out', path.join(dir, 'p2')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /holds no PubMed baseline.*index pull/s);
});

test('pubmed update killed mid-way resumes to the same index', { timeout: 180_000 }, async () => {
  const idx = path.join(dir, 'killed');
  assert.equal((await run(['index', 'add', ...nlm.baseline, '--index', idx, '--model', model, '--quiet'])).code, 0);
  const out = path.join(dir, 'pubmed-k');
  // Kill once the first update file's rows start to arrive (or after 4 s at the latest).
  const p = spawn(
    process.execPath,
    [cli, 'pubmed', 'update', '--index', idx, '--mirror', mirror.url, '--out', out, '--quiet', '--threads', '1'],
    { env: env() },
  );
  const closed = new Promise((r) => p.on('close', r));
  await new Promise<void>((resolve) => {
    const t0 = Date.now();
    const iv = setInterval(() => {
      if (fs.existsSync(path.join(out, 'updatefiles', 'pubmed26n0009.xml.gz')) || Date.now() - t0 > 4000) {
        clearInterval(iv);
        setTimeout(() => {
          p.kill('SIGKILL');
          resolve();
        }, 300);
      }
    }, 50);
  });
  await closed;
  const r = await run(['pubmed', 'update', '--index', idx, '--mirror', mirror.url, '--out', out, '--json']);
  assert.equal(r.code, 0, r.err);
  const ref = path.join(dir, 'ref');
  const snap = await snapshot(idx);
  assert.deepEqual(problems(snap), []);
  assert.deepEqual(diffSnapshots(await snapshot(ref), snap), []);
});
