// The extension's engine service (src/app/engine.ts) against the real parts: a generated tiny model in the
// inference worker, a LanceDB index built through Engine.buildIndex from real MEDLINE records, the shipped MeSH
// vocabulary. Also: a query opens no network socket and makes no DNS lookup.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import dns from 'node:dns';
import { Engine, EngineProblem, type EngineOptions } from '../../src/app/engine';
import { generateModel } from '../../src/inference/convert';
import { DEMO_PUBMED } from '../fixtures/paths';

const PUBMED = path.join(DEMO_PUBMED, 'mesh-papers.medline.txt');
const logs: string[] = [];
const logger = {
  info: (m: string) => logs.push(m),
  warn: (m: string) => logs.push(m),
  error: (m: string) => logs.push(m),
};
let dir = '';
let opts: EngineOptions;
let engine: Engine;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-engine-'));
  await generateModel({ shape: 'tiny', outDir: path.join(dir, 'model'), precisions: ['fp32'] });
  // the first 40 MEDLINE records of a real PubMed export
  const records = fs
    .readFileSync(PUBMED, 'utf8')
    .split(/\n\s*\n(?=PMID- )/)
    .slice(0, 40);
  fs.writeFileSync(path.join(dir, 'papers.medline.txt'), records.join('\n\n') + '\n');
  opts = {
    modelDir: path.join(dir, 'model'),
    indexDir: path.join(dir, 'index'),
    device: 'cpu',
    threads: 1,
    queryPrefix: true,
  };
  engine = new Engine(opts, logger);
});

after(async () => {
  await engine?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('without an index a query fails with an actionable problem; without a model too', async () => {
  await assert.rejects(
    engine.query('drug interactions', { papers: 3, mesh: 3, sentences: 3 }),
    (e: Error) => e instanceof EngineProblem && e.action === 'buildIndex' && /Build index from files/.test(e.message),
  );
  const noModel = new Engine({ ...opts, modelDir: path.join(dir, 'nothing') }, logger);
  await assert.rejects(
    noModel.query('x', { papers: 1, mesh: 0, sentences: 0 }),
    (e: Error) => e instanceof EngineProblem && e.action === 'chooseModel',
  );
  await noModel.dispose();
});

test('buildIndex adds real MEDLINE records; a query returns papers, MeSH terms and sentences, and opens no socket', async () => {
  const steps: string[] = [];
  const msg = await engine.buildIndex(
    [path.join(dir, 'papers.medline.txt')],
    (m) => steps.push(m),
    new AbortController().signal,
  );
  assert.match(msg, /40 added/);
  assert.ok(steps.length > 0, 'progress reported');

  const calls: string[] = [];
  const origConnect = net.Socket.prototype.connect;
  const origLookup = dns.lookup;
  net.Socket.prototype.connect = function (this: net.Socket, ...a: unknown[]) {
    calls.push(`connect ${JSON.stringify(a[0])}`);
    return (origConnect as (...x: unknown[]) => net.Socket).apply(this, a);
  } as typeof origConnect;
  (dns as { lookup: unknown }).lookup = (...a: unknown[]) => {
    calls.push(`lookup ${String(a[0])}`);
    return (origLookup as (...x: unknown[]) => unknown)(...a);
  };
  // the spy sees a real connect (so an empty list below means something)
  const probe = net.connect({ host: '127.0.0.1', port: 9 });
  probe.on('error', () => undefined);
  probe.destroy();
  assert.equal(calls.length, 1, 'the socket spy works');
  calls.length = 0;
  let r;
  try {
    r = await engine.query(
      'We characterized the mechanism of drug-drug interactions from PubMed using MeSH terms and co-occurrence heatmaps.',
      { papers: 5, mesh: 5, sentences: 4 },
    );
  } finally {
    net.Socket.prototype.connect = origConnect;
    (dns as { lookup: unknown }).lookup = origLookup;
  }
  assert.deepEqual(calls, [], 'a query opens no socket and resolves no host name');
  assert.ok(r);
  assert.equal(r.papers.length, 5);
  assert.equal(r.papers[0]?.pmid, '28422961', 'full-text ranking (generated weights) puts the matching paper first');
  assert.equal(r.papers[0]?.score, 1);
  assert.ok(r.papers.every((p) => p.score >= 0 && p.score <= 1));
  const best = r.papers[0]?.best;
  assert.ok(best && best.end > best.start && best.text.length >= best.end, 'best sentence with a highlight span');
  assert.ok(r.papers[0]?.abstract?.includes(best.text.slice(best.start, best.end)));
  assert.ok(r.sentences.length > 0 && r.sentences.length <= 4);
  assert.ok(r.mesh.length > 0 && r.mesh.length <= 5);
  const m = r.mesh[0]!;
  assert.match(m.ui, /^D\d+$/);
  assert.ok(m.breadcrumbs.length > 0 && m.url.includes(m.ui));
  assert.equal(r.status.generated, true);
  assert.equal(r.status.provider, 'cpu');
  assert.equal(r.status.indexSize, 40);
  assert.ok(r.status.notes.some((n) => /GENERATED/.test(n)));
  assert.ok(
    logs.some((l) => /provider cpu/.test(l)),
    'the provider is logged',
  );

  const p = await engine.paper('28422961');
  assert.equal(p?.title.startsWith('Characterization of the mechanism of drug-drug interactions'), true);
  assert.deepEqual(p?.authors.slice(0, 2), ['Lu Y', 'Figler B']);
  assert.equal(await engine.paper('1'), undefined);
  assert.equal((await engine.paperByDoi('10.1371/JOURNAL.PONE.0173548'))?.pmid, '28422961');
});

test('a stale query (superseded by a newer one) returns nothing', async () => {
  const r = await engine.query('MeSH indexing', { papers: 3, mesh: 0, sentences: 0 }, () => true);
  assert.equal(r, undefined);
});

test('the first query answers early: full-text papers while the model loads, then everything; status never waits for a load', async () => {
  // a MeSH vocabulary no other test has loaded (the TSV pair copied), so this engine loads it itself
  const vocabDir = path.join(dir, 'mesh-copy');
  fs.cpSync(path.join(__dirname, '..', '..', 'data', 'mesh'), vocabDir, { recursive: true });
  const fresh = new Engine({ ...opts, meshVocab: vocabDir }, logger);
  try {
    await fresh.indexCurrency(); // the index is open, the model is not loaded
    fresh.warmUp(); // the worker starts
    const s0 = await fresh.status();
    assert.equal(s0.provider, undefined, 'status() answers at once: the model is still loading');
    assert.equal(s0.indexSize, 40);
    const text = 'We characterized the mechanism of drug-drug interactions from PubMed using MeSH terms.';
    const early: { pending?: string[]; papers: string[]; mesh: number; provider?: string }[] = [];
    const r = await fresh.query(text, { papers: 5, mesh: 5, sentences: 4 }, undefined, (e) =>
      early.push({
        pending: e.pending,
        papers: e.papers.map((p) => p.pmid),
        mesh: e.mesh.length,
        provider: e.status.provider,
      }),
    );
    assert.ok(r);
    assert.ok(early.length >= 1, 'an early answer came');
    assert.deepEqual(early[0]!.pending, ['ranking', 'mesh'], 'first: full-text papers, ranking and MeSH to follow');
    assert.equal(early[0]!.provider, undefined, 'it came before the model was loaded');
    const papers = r.papers.map((p) => p.pmid);
    // generated weights: the hybrid ranking is the full-text ranking, so the early papers are the final ones
    assert.deepEqual(early[0]!.papers, papers);
    assert.equal(papers[0], '28422961');
    for (const e of early) {
      assert.ok(e.pending?.includes('mesh'));
      assert.equal(e.mesh, 0);
    }
    assert.equal(r.pending, undefined, 'the final answer has everything');
    assert.ok(r.mesh.length > 0);
    assert.equal(r.status.provider, 'cpu');
    assert.ok(r.sentences.length > 0);
    // a later query: nothing is loading, so no early answer
    const later: unknown[] = [];
    const r2 = await fresh.query('drug interactions and MeSH', { papers: 3, mesh: 3, sentences: 2 }, undefined, (e) =>
      later.push(e),
    );
    assert.equal(later.length, 0);
    assert.ok(r2 && r2.mesh.length > 0);
  } finally {
    await fresh.dispose();
  }
});

test('reconfigure restarts the worker only when model/device settings change', async () => {
  const before = logs.length;
  await engine.reconfigure({ ...opts });
  assert.equal(logs.slice(before).filter((l) => /worker will restart/.test(l)).length, 0);
  await engine.reconfigure({ ...opts, threads: 2 });
  assert.equal(logs.slice(before).filter((l) => /worker will restart/.test(l)).length, 1);
  const r = await engine.query('drug interactions', { papers: 2, mesh: 0, sentences: 0 });
  assert.equal(r?.papers.length, 2);
});

test('an index built by another model: the query fails with a recognised mismatch; buildIndex with rebuild makes it again with this model', async () => {
  const { isModelMismatch, readIndexMeta, indexFiles } = await import('../../src/app/index-model');
  await generateModel({ shape: 'tiny', outDir: path.join(dir, 'model2'), precisions: ['fp32'], seed: 7 });
  const other = new Engine({ ...opts, modelDir: path.join(dir, 'model2') }, logger);
  try {
    await assert.rejects(other.query('drug interactions', { papers: 2, mesh: 0, sentences: 0 }), (e: Error) =>
      isModelMismatch(e),
    );
    const files = await indexFiles(opts.indexDir);
    assert.deepEqual(
      files.map((f) => path.basename(f)),
      ['papers.medline.txt'],
      'the index records the files it was built from',
    );
    const msg = await other.buildIndex(files, () => undefined, new AbortController().signal, { rebuild: true });
    assert.match(msg, /40 added/);
    const r = await other.query('drug interactions', { papers: 2, mesh: 0, sentences: 0 });
    assert.equal(r?.papers.length, 2);
    assert.equal(
      readIndexMeta(opts.indexDir)?.model?.manifestHash,
      (await import('../../src/inference/identity')).modelIdentity(path.join(dir, 'model2'), true).manifestHash,
    );
  } finally {
    await other.dispose();
  }
});
