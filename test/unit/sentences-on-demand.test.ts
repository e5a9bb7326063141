// "Similar sentences" outside the index's sentence scope (README "What fits on a laptop"): an index built without
// sentence rows (scope none) or with them for the writer's library only; the best-matching papers' abstracts split,
// the sentences sharing most words with the query embedded at query time and ranked; every result names its scope.
// Real LanceDB tables built by the real build code; rankings with the deterministic bag-of-words embedder
// (index-helpers), the embedding path also with a generated tiny ONNX model and through the Engine.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addFiles } from '../../src/index/build';
import { IndexOptionMismatchError, IndexStore, META_FILE, abstractColumns, rowAbstract } from '../../src/index/store';
import { search, similarSentences } from '../../src/index/search';
import {
  ON_DEMAND_SENTENCES,
  abstractCandidates,
  fillBestSentences,
  scopedSimilarSentences,
} from '../../src/index/on-demand';
import { ensureGeneratedModel } from '../../src/index/model';
import { openEmbedder } from '../../src/inference/client';
import { Engine } from '../../src/app/engine';
import type { Citation } from '../../src/index/citation';
import { BowEmbedder, deps, makeCitation, testIdentity, tmpDir, writeJsonl } from './index-helpers';
import { BIOPYTHON, DEMO_PUBMED } from '../fixtures/paths';
import { cliRunner, ensureCliBuilt } from './cli-helpers';

const cits: Citation[] = Array.from({ length: 40 }, (_, i) => makeCitation(i));
cits.push(
  makeCitation(40, {
    pmid: '777',
    title: 'Zebrafish fin regeneration',
    year: 2021,
    abstract: [
      {
        label: 'BACKGROUND',
        text: 'Zebrafish regenerate fins after amputation. Blastema cells proliferate quickly in the regenerating fin.',
      },
      { label: 'RESULTS', text: 'Wound epidermis signals guide the blastema. Nothing else was measured.' },
    ],
  }),
);
const libCit = makeCitation(41, {
  pmid: '888',
  title: 'Axolotl limb regrowth',
  abstract: [{ text: 'Axolotl limbs regrow after amputation. Limb blastema forms within days in the axolotl.' }],
  library: true,
  citationKey: 'axo2020',
  source: 'mine.bib',
});

let all: IndexStore;
let none: IndexStore;
let lib: IndexStore;
let gen: IndexStore;
const emb = new BowEmbedder();
const gemb = new BowEmbedder(testIdentity({ generated: true, repo: 'generated:test' }));

async function build(
  embedder: BowEmbedder,
  sentenceScope?: 'all' | 'library' | 'none',
  extra: Citation[] = [],
): Promise<IndexStore> {
  const dir = tmpDir();
  const f = path.join(dir, 'c.jsonl');
  writeJsonl(
    f,
    [...cits, ...extra].map((c) => ({ type: 'citation' as const, citation: c })),
  );
  const s = await IndexStore.open(path.join(dir, 'idx'), embedder.identity, { create: true, sentenceScope });
  await addFiles(s, embedder, [f], deps, { batchSize: 16 });
  return s;
}

before(async () => {
  all = await build(emb);
  none = await build(emb, 'none');
  lib = await build(emb, 'library', [libCit]);
  gen = await build(gemb, 'none');
});
after(() => {
  for (const s of [all, none, lib, gen]) s.close();
});

test('scope none: no sentence rows; meta.json records it; the articles keep their abstracts', async () => {
  assert.equal((await none.counts()).sentences, 0);
  assert.equal((await none.counts()).articles, cits.length);
  assert.ok((await all.counts()).sentences > 100);
  assert.equal(JSON.parse(fs.readFileSync(path.join(none.dir, META_FILE), 'utf8')).sentenceScope, 'none');
  assert.equal('sentenceScope' in JSON.parse(fs.readFileSync(path.join(all.dir, META_FILE), 'utf8')), false);
  // The library scope stores the bibliography item's sentences only.
  const rows = await lib.sentences.query().select(['pmid']).toArray();
  assert.ok(rows.length >= 2);
  assert.deepEqual([...new Set(rows.map((r) => String(r.pmid)))], ['888']);
});

test('scope none: the best papers’ sentences are embedded now and ranked; the result names the scope', async () => {
  const before = emb.texts;
  const r = await scopedSimilarSentences(none, emb, 'blastema cells in the regenerating zebrafish fin', { k: 3 });
  assert.equal(r.mode, 'dense');
  assert.equal(r.scope.kind, 'papers');
  assert.equal(r.scope.indexScope, 'none');
  assert.ok(r.hits.length > 0);
  assert.equal(r.hits[0].pmid, '777');
  assert.equal(r.hits[0].text, 'Blastema cells proliferate quickly in the regenerating fin.');
  assert.equal(r.hits[0].from, 'abstract');
  assert.equal(r.hits[0].title, 'Zebrafish fin regeneration');
  assert.ok(r.scope.papers! > 0 && r.scope.papers! <= 10, `papers ${r.scope.papers}`);
  assert.ok(r.scope.embedded! > 0 && r.scope.embedded! <= ON_DEMAND_SENTENCES);
  assert.ok(r.scope.candidates! >= r.scope.embedded!);
  // exactly the kept sentences were embedded (plus the query)
  assert.equal(emb.texts - before, r.scope.embedded! + 1);
  assert.match(
    r.scope.label,
    new RegExp(
      `^From the ${r.scope.papers} best-matching papers’ abstracts \\(${r.scope.embedded} sentences embedded now\\): this index stores no sentence vectors$`,
    ),
  );
  // offsets into the stored abstract, as the sentence index gives them
  const a = await none.articles
    .query()
    .where(`pmid = '777'`)
    .select(await abstractColumns(none))
    .toArray();
  for (const h of r.hits.filter((x) => x.pmid === '777')) assert.equal(rowAbstract(a[0]).slice(h.start, h.end), h.text);
  // ranks and scores: descending cosine
  for (let i = 1; i < r.hits.length; i++) assert.ok(r.hits[i - 1].score >= r.hits[i].score);
  assert.deepEqual(
    r.hits.map((h) => h.rank),
    r.hits.map((_, i) => i + 1),
  );
});

test('on-demand finds what the full sentence index finds when the sentence is in a best-matching paper', async () => {
  for (const q of [
    'blastema cells in the regenerating zebrafish fin',
    'wound epidermis signals',
    'levels of glycemic control rose in insulin cases',
  ]) {
    const full = await similarSentences(all, emb, q, { k: 1, mode: 'dense' });
    const od = await scopedSimilarSentences(none, emb, q, { k: 1 });
    assert.equal(od.hits[0].pmid, full.hits[0].pmid, q);
    assert.equal(od.hits[0].idx, full.hits[0].idx, q);
    assert.equal(od.hits[0].text, full.hits[0].text, q);
    assert.ok(
      Math.abs(od.hits[0].score - full.hits[0].score) < 1e-5,
      `${q}: ${od.hits[0].score} ${full.hits[0].score}`,
    );
  }
  // The full index keeps answering from its sentence rows, and says so.
  const r = await scopedSimilarSentences(all, emb, 'wound epidermis signals', { k: 2 });
  assert.equal(r.scope.kind, 'index');
  assert.equal(r.scope.label, 'From the sentence index (every paper’s sentences)');
  assert.ok(r.hits.every((h) => h.from === 'index'));
});

test('the papers given by the caller are the ones split (no second search); exclusions hold', async () => {
  const r = await scopedSimilarSentences(none, emb, 'blastema zebrafish fin', { k: 5, papers: ['10003', '10004'] });
  assert.equal(r.scope.papers, 2);
  assert.ok(r.hits.every((h) => h.pmid === '10003' || h.pmid === '10004'));
  const x = await scopedSimilarSentences(none, emb, 'blastema zebrafish fin', { k: 5, excludePmids: ['777'] });
  assert.ok(x.hits.length > 0 && x.hits.every((h) => h.pmid !== '777'));
  const only = await scopedSimilarSentences(none, emb, 'zebrafish', { k: 5, topPapers: 1, maxEmbed: 2 });
  assert.equal(only.scope.papers, 1);
  assert.equal(only.scope.embedded, 2);
  assert.match(only.scope.label, /^From the 1 best-matching paper’s abstract \(2 sentences embedded now\)/);
});

test('scope library: the library’s sentences from the index, the others’ from their abstracts, merged by score', async () => {
  const a = await scopedSimilarSentences(lib, emb, 'axolotl limb blastema forms', { k: 3 });
  assert.equal(a.hits[0].pmid, '888');
  assert.equal(a.hits[0].from, 'index');
  const z = await scopedSimilarSentences(lib, emb, 'blastema cells in the regenerating zebrafish fin', { k: 3 });
  assert.equal(z.hits[0].pmid, '777');
  assert.equal(z.hits[0].from, 'abstract');
  assert.equal(z.scope.kind, 'both');
  assert.match(z.scope.label, /^From the sentence index of your library and the \d+ best-matching papers’ abstracts/);
  // the library paper is among the best for a query on both, and is not embedded again
  const both = await scopedSimilarSentences(lib, emb, 'blastema after amputation', { k: 10 });
  const keys = both.hits.map((h) => `${h.pmid}/${h.idx}`);
  assert.equal(new Set(keys).size, keys.length, 'no sentence twice');
  assert.ok(both.hits.some((h) => h.pmid === '888' && h.from === 'index'));
  assert.ok(!both.hits.some((h) => h.pmid === '888' && h.from === 'abstract'));
});

test('generated weights: ranked by shared words, nothing embedded, and the result says so', async () => {
  const before = gemb.texts;
  const r = await scopedSimilarSentences(gen, gemb, 'blastema cells in the regenerating zebrafish fin', { k: 3 });
  assert.equal(gemb.texts, before, 'nothing embedded');
  assert.equal(r.mode, 'fts');
  assert.equal(r.scope.embedded, 0);
  assert.match(r.scope.label, /ranked by shared words; nothing embedded/);
  assert.match(r.note ?? '', /GENERATED/);
  assert.equal(r.hits[0].pmid, '777');
  assert.ok(
    r.hits.every((h) => h.score > 0),
    'sentences sharing no word are left out',
  );
});

test('search on a scoped index: best sentences filled from the abstracts', async () => {
  const r = await search(none, emb, 'zebrafish fin regeneration blastema', { k: 5, mode: 'hybrid' });
  assert.equal(r.hits[0].pmid, '777');
  assert.equal(r.hits[0].why.bestSentence, undefined, 'no sentence rows to take it from');
  const n = await fillBestSentences(none, r.hits, 'zebrafish fin regeneration blastema');
  assert.equal(n, r.hits.length);
  const a = await none.articles
    .query()
    .where(`pmid = '777'`)
    .select(await abstractColumns(none))
    .toArray();
  const b = r.hits[0].why.bestSentence!;
  assert.equal(rowAbstract(a[0]).slice(b.start, b.end), b.text);
  assert.match(b.text, /Blastema|Zebrafish/);
  // candidates are split as the build splits (same texts and offsets as the full index's rows)
  const c = await abstractCandidates(none, ['10005']);
  const rows = await all.sentences.query().where(`pmid = '10005'`).select(['idx', 'start', 'end', 'text']).toArray();
  assert.deepEqual(
    c.map((x) => [x.idx, x.start, x.end, x.text]),
    rows
      .map((x) => [Number(x.idx), Number(x.start), Number(x.end), String(x.text)])
      .sort((p, q) => (p[0] as number) - (q[0] as number)),
  );
});

test('every writer keeps the recorded scope: another is refused, none asked writes no sentence rows', async () => {
  await assert.rejects(
    IndexStore.open(none.dir, emb.identity, { create: true, sentenceScope: 'all' }),
    (e: Error) =>
      e instanceof IndexOptionMismatchError && /stores sentence scope none .*but all was asked for/.test(e.message),
  );
  const w = await IndexStore.open(none.dir, emb.identity, { create: true });
  const f = path.join(tmpDir(), 'more.jsonl');
  writeJsonl(f, [{ type: 'citation', citation: makeCitation(50) }]);
  await addFiles(w, emb, [f], deps, { skipIndexes: true });
  assert.equal((await w.counts()).sentences, 0);
  w.close();
});

test(
  'a tiny ONNX model embeds the on-demand sentences; the Engine’s panel names the scope',
  { timeout: 180_000 },
  async () => {
    const dir = tmpDir('biohicl-od-');
    const modelDir = path.join(dir, 'tiny');
    await ensureGeneratedModel(modelDir, 'tiny');
    const onnx = await openEmbedder({ modelDir, device: 'cpu', threads: 1, inProcess: true });
    const records = fs
      .readFileSync(path.join(DEMO_PUBMED, 'mesh-papers.medline.txt'), 'utf8')
      .split(/\n\s*\n(?=PMID- )/)
      .slice(0, 30);
    const file = path.join(dir, 'papers.medline.txt');
    fs.writeFileSync(file, records.join('\n\n') + '\n');
    const indexDir = path.join(dir, 'index');
    try {
      const s = await IndexStore.open(indexDir, onnx.identity, { create: true, sentenceScope: 'none' });
      s.close();
      const engine = new Engine(
        { modelDir, indexDir, device: 'cpu', threads: 1, queryPrefix: false },
        {
          info: () => undefined,
          warn: () => undefined,
          error: () => undefined,
        },
      );
      try {
        await engine.buildIndex([file], () => undefined, new AbortController().signal);
        const store = await IndexStore.open(indexDir, undefined);
        assert.equal((await store.counts()).sentences, 0);
        const q = 'drug interactions in patients receiving several medications';
        // Forced dense: the real ONNX session embeds the kept sentences; scores are the cosine with the query.
        const r = await scopedSimilarSentences(store, onnx, q, { k: 5, mode: 'dense' });
        assert.ok(r.scope.embedded! > 0 && r.scope.embedded! <= ON_DEMAND_SENTENCES);
        assert.equal(r.hits.length, 5);
        const [qv] = await onnx.embed([q], 'query');
        const [hv] = await onnx.embed([r.hits[0].text], 'passage');
        let dot = 0;
        for (let i = 0; i < qv.length; i++) dot += qv[i] * hv[i];
        assert.ok(Math.abs(dot - r.hits[0].score) < 1e-4, `${dot} vs ${r.hits[0].score}`);
        store.close();
        // The Engine (worker, generated weights): sentences from the best papers' abstracts, the scope in the outcome.
        const out = await engine.query(q, { papers: 10, mesh: 0, sentences: 4 });
        assert.ok(out);
        assert.ok(out.sentences.length > 0);
        assert.ok(out.sentences.every((x) => x.from === 'abstract'));
        assert.match(
          out.sentenceScope ?? '',
          /^From the \d+ best-matching papers’ abstracts \(ranked by shared words; nothing embedded\)/,
        );
        assert.ok(
          out.papers.some((p) => p.best?.text),
          'papers get a best sentence from their abstract',
        );
      } finally {
        await engine.dispose();
      }
    } finally {
      await onnx.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'CLI: index setup --sentence-scope none; biohicl sentences answers from the best papers and says so; another scope exits 2',
  { timeout: 180_000 },
  async () => {
    ensureCliBuilt();
    const dir = tmpDir('biohicl-od-cli-');
    const { run } = cliRunner(() => path.join(dir, 'home'));
    const model = path.join(dir, 'tiny');
    await ensureGeneratedModel(model, 'tiny');
    const idx = path.join(dir, 'idx');
    const setup = await run([
      'index',
      'setup',
      '--index',
      idx,
      '--model',
      model,
      '--sentence-scope',
      'none',
      '--vector-type',
      'float16',
    ]);
    assert.equal(setup.code, 0, setup.err);
    assert.match(setup.out, /float16 vectors, sentences: none stored; embedded at query time/);
    const input = path.join(BIOPYTHON, 'pubmed1.xml');
    const add = await run(['index', 'add', input, '--index', idx, '--model', model, '--json']);
    assert.equal(add.code, 0, add.err);
    assert.equal(JSON.parse(add.out).sentences, 0, 'no sentence rows');
    const bad = await run([
      'index',
      'add',
      input,
      '--index',
      idx,
      '--model',
      model,
      '--quiet',
      '--sentence-scope',
      'all',
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /stores sentence scope none .*but all was asked for/);
    const js = await run(['sentences', 'protein structure and function', '--index', idx, '--model', model, '--json']);
    assert.equal(js.code, 0, js.err);
    const r = JSON.parse(js.out);
    assert.equal(r.scope.kind, 'papers');
    assert.ok(r.hits.length > 0 && r.hits.every((h: { from: string }) => h.from === 'abstract'));
    const txt = await run(['sentences', 'protein structure and function', '--index', idx, '--model', model]);
    assert.equal(txt.code, 0, txt.err);
    assert.match(
      txt.out,
      /^From the \d+ best-matching (papers’ abstracts|paper’s abstract) \(ranked by shared words; nothing embedded\): this index stores no sentence vectors\.$/m,
    );
    const st = await run(['index', 'stats', '--index', idx]);
    assert.match(st.out, /sentences {2}0 \(scope: none stored; embedded at query time from the best-matching papers\)/);
    assert.match(st.out, /vector {5}float16;/);
    fs.rmSync(dir, { recursive: true, force: true });
  },
);
