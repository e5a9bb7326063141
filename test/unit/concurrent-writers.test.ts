// Many writers on one index: real `biohicl index add` processes (dist/cli.js, a generated tiny model) on real PubMed
// files split like NLM's baseline + update files, at the same time, on one real LanceDB folder. The result must be
// exactly what one process applying the files in order leaves: same PMIDs, same version of each, each sentence once,
// revisions and deletions applied — also when an older file is applied after a newer one, and in bulk mode.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ensureGeneratedModel } from '../../src/index/model';
import { makeNlmFiles, revisedTitleSuffix, type NlmFiles } from '../fixtures/nlm-mirror';
import { tmpDir } from './index-helpers';
import { diffSnapshots, problems, snapshot, type IndexSnapshot } from './index-snapshot';
import { cliRunner, ensureCliBuilt } from './cli-helpers';

let dir: string;
let model: string;
let nlm: NlmFiles;
let all: string[];
let reference: IndexSnapshot;

const { runSync: run, run: runAsync } = cliRunner(() => path.join(dir, 'home'));

const add = (idx: string, files: string[], extra: string[] = []): string[] => [
  'index',
  'add',
  ...files,
  '--index',
  idx,
  '--model',
  model,
  '--quiet',
  '--json',
  '--threads',
  '1',
  ...extra,
];

before(async () => {
  ensureCliBuilt();
  dir = tmpDir('biohicl-conc-');
  model = path.join(dir, 'tiny');
  await ensureGeneratedModel(model, 'tiny');
  nlm = await makeNlmFiles(path.join(dir, 'nlm'));
  all = [...nlm.baseline, ...nlm.updates];
  const idx = path.join(dir, 'reference');
  const r = run(add(idx, all));
  assert.equal(r.code, 0, r.err);
  reference = await snapshot(idx);
});

test(
  'one writer applying baseline then updates: revisions replace, DeleteCitation removes',
  { timeout: 60_000 },
  () => {
    assert.deepEqual(problems(reference), []);
    assert.equal(reference.articles.size, nlm.allPmids.length - nlm.deletedPmids.length);
    for (const p of nlm.deletedPmids) assert.ok(!reference.articles.has(p), `deleted PMID ${p} is still there`);
    const titles = [...reference.articles.values()].filter((a) => / \[revised in pubmed26n00(09|10)\]$/.test(a.title));
    assert.equal(titles.length, nlm.revisedPmids.length);
    assert.ok(reference.articles.get(nlm.revisedPmids[0]!)!.title.endsWith(revisedTitleSuffix('pubmed26n0009.xml.gz')));
  },
);

test(
  '4 concurrent writers with overlapping files give exactly the single-writer index',
  { timeout: 300_000 },
  async () => {
    const idx = path.join(dir, 'concurrent');
    const b = nlm.baseline;
    const u = nlm.updates;
    // Overlaps: writer 3 applies everything; the update files race with the baseline files they revise.
    const jobs = [[b[0]!, b[1]!, u[0]!], [b[2]!, b[3]!, b[4]!, u[1]!], [b[5]!, b[6]!, b[7]!], all];
    const rs = await Promise.all(jobs.map((files) => runAsync(add(idx, files))));
    for (const r of rs) {
      assert.equal(r.code, 0, r.err);
      assert.doesNotMatch(r.err, /--rebuild/, 'no writer may be told to rebuild');
    }
    const snap = await snapshot(idx);
    assert.deepEqual(problems(snap), []);
    assert.deepEqual(diffSnapshots(reference, snap), []);
    // Every file is recorded, whoever wrote it.
    const st = run(['index', 'stats', '--index', idx, '--json']);
    assert.equal(JSON.parse(st.out).files, all.length, st.err);
  },
);

test(
  'an older file applied after a newer one never brings an old version or a deleted citation back',
  { timeout: 120_000 },
  async () => {
    const idx = path.join(dir, 'reverse');
    let r = run(add(idx, [nlm.updates[1]!]));
    assert.equal(r.code, 0, r.err);
    r = run(add(idx, [nlm.updates[0]!]));
    assert.equal(r.code, 0, r.err);
    r = run(add(idx, nlm.baseline));
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out);
    assert.ok(s.superseded >= nlm.revisedPmids.length + nlm.deletedPmids.length, `superseded ${s.superseded}`);
    const snap = await snapshot(idx);
    assert.deepEqual(problems(snap), []);
    assert.deepEqual(diffSnapshots(reference, snap), []);
    // Re-applying a file is a no-op.
    r = run(add(idx, [nlm.baseline[0]!], ['--force']));
    assert.equal(r.code, 0, r.err);
    const again = JSON.parse(r.out);
    assert.equal(again.added + again.updated, 0);
    assert.deepEqual(diffSnapshots(reference, await snapshot(idx)), []);
  },
);

test(
  'bulk mode: setup, 4 concurrent array-task writers, finalize → the single-writer index, tagged',
  { timeout: 300_000 },
  async () => {
    const idx = path.join(dir, 'bulk');
    let r = run(['index', 'setup', '--index', idx, '--model', model, '--json']);
    assert.equal(r.code, 0, r.err);
    const b = nlm.baseline;
    const jobs = [
      [b[0]!, b[1]!, nlm.updates[0]!],
      [b[2]!, b[3]!],
      [b[4]!, b[5]!, nlm.updates[1]!],
      [b[6]!, b[7]!, b[0]!],
    ];
    const rs = await Promise.all(jobs.map((files) => runAsync(add(idx, files, ['--bulk']))));
    for (const x of rs) assert.equal(x.code, 0, x.err);
    r = run(['index', 'finalize', '--index', idx, '--json', '--tag', 'test-release']);
    assert.equal(r.code, 0, r.err);
    const f = JSON.parse(r.out);
    assert.equal(f.tag, 'test-release');
    const snap = await snapshot(idx);
    assert.deepEqual(problems(snap), []);
    assert.deepEqual(diffSnapshots(reference, snap), []);
    const search = run(['search', 'cancer', '--index', idx, '--model', model, '--mode', 'fts', '--json']);
    assert.equal(search.code, 0, search.err);
    assert.ok(JSON.parse(search.out).hits.length > 0);
  },
);
