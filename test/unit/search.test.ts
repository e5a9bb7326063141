// Search over real LanceDB tables: dense, full-text, hybrid (RRF), filters, exclusions, why-it-matched, and the
// generated-weights rule (hybrid equals full-text, and says so).
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addFiles } from '../../src/index/build';
import { IndexStore } from '../../src/index/store';
import { explainIndexError } from '../../src/index/errors';
import { denseLeg, fetchInfo, neighbours, refineFor, rrf, search, similarSentences } from '../../src/index/search';
import { abstractText, type Citation } from '../../src/index/citation';
import { BowEmbedder, deps, makeCitation, testIdentity, tmpDir, writeJsonl } from './index-helpers';

const cits: Citation[] = Array.from({ length: 40 }, (_, i) => makeCitation(i));
cits.push(
  makeCitation(40, {
    pmid: '777',
    title: 'Zebrafish fin regeneration',
    year: 2021,
    abstract: [{ text: 'Zebrafish regenerate fins after amputation. Blastema cells proliferate quickly.' }],
  }),
);
let store: IndexStore;
let gstore: IndexStore;
const emb = new BowEmbedder();
const gemb = new BowEmbedder(testIdentity({ generated: true, repo: 'generated:test' }));

/** A fresh index of `cits` in a temp folder, built by the real build code. */
async function buildIndex(embedder: BowEmbedder, batchSize: number): Promise<IndexStore> {
  const dir = tmpDir();
  const f = path.join(dir, 'c.jsonl');
  writeJsonl(
    f,
    cits.map((c) => ({ type: 'citation' as const, citation: c })),
  );
  const s = await IndexStore.open(path.join(dir, 'idx'), embedder.identity, { create: true });
  await addFiles(s, embedder, [f], deps, { batchSize });
  return s;
}

before(async () => {
  store = await buildIndex(emb, 16);
  gstore = await buildIndex(gemb, 16);
});
after(() => {
  store.close();
  gstore.close();
});

test('rrf fuses ranks with 1/(k+rank) and drops zero-weight-only ids', () => {
  const r = rrf(
    [
      { ids: ['a', 'b', 'c'], weight: 1 },
      { ids: ['c', 'a', 'd'], weight: 1 },
    ],
    60,
  );
  assert.deepEqual(
    r.map((x) => x.id),
    ['a', 'c', 'b', 'd'],
  );
  assert.ok(Math.abs(r[0].score - (1 / 61 + 1 / 62)) < 1e-12);
  const z = rrf([
    { ids: ['x', 'y'], weight: 0 },
    { ids: ['b', 'a'], weight: 1 },
  ]);
  assert.deepEqual(
    z.map((x) => x.id),
    ['b', 'a'],
  );
});

test('each mode finds the matching citation, with why it matched', async () => {
  for (const mode of ['fts', 'dense', 'hybrid'] as const) {
    const r = await search(store, emb, 'zebrafish fin regeneration blastema', { k: 5, mode });
    assert.equal(r.hits[0]?.pmid, '777', `${mode}: top hit`);
    const h = r.hits[0];
    assert.equal(h.title, 'Zebrafish fin regeneration');
    assert.equal(h.year, 2021);
    assert.ok(h.why.bestSentence, `${mode}: best sentence`);
    const abs = abstractText(cits[40]);
    assert.equal(abs.slice(h.why.bestSentence!.start, h.why.bestSentence!.end), h.why.bestSentence!.text);
    if (mode !== 'dense') assert.equal(h.why.ftsRank, 1);
    if (mode !== 'fts') assert.equal(h.why.denseRank, 1);
    assert.equal(r.note, undefined);
  }
});

test('filters and exclusions apply in every leg', async () => {
  for (const mode of ['fts', 'dense', 'hybrid'] as const) {
    const r = await search(store, emb, 'insulin glucose diabetes', {
      k: 10,
      mode,
      filters: { yearFrom: 1995, yearTo: 2005 },
    });
    assert.ok(r.hits.length > 0);
    for (const h of r.hits) assert.ok(h.year! >= 1995 && h.year! <= 2005, `${mode}: year ${h.year}`);
    const rv = await search(store, emb, 'insulin glucose diabetes', {
      k: 10,
      mode,
      filters: { publicationTypes: ['Review'] },
    });
    assert.ok(rv.hits.length > 0);
    for (const h of rv.hits) assert.ok(h.publicationTypes.includes('Review'));
    const top = (await search(store, emb, 'insulin glucose diabetes', { k: 3, mode })).hits.map((h) => h.pmid);
    const ex = await search(store, emb, 'insulin glucose diabetes', { k: 10, mode, excludePmids: top });
    for (const h of ex.hits) assert.ok(!top.includes(h.pmid));
  }
});

test('with generated weights hybrid equals the full-text ranking and says so', async () => {
  for (const q of ['insulin glucose in older adults', 'tumor chemotherapy survival', 'zebrafish']) {
    const h = await search(gstore, gemb, q, { k: 10, mode: 'hybrid' });
    const f = await search(gstore, gemb, q, { k: 10, mode: 'fts' });
    assert.deepEqual(
      h.hits.map((x) => x.pmid),
      f.hits.map((x) => x.pmid),
    );
    assert.equal(h.denseWeight, 0);
    assert.match(h.note ?? '', /GENERATED/);
  }
});

test('similar sentences: dense with real weights, full-text with generated ones (and says so)', async () => {
  const r = await similarSentences(store, emb, 'Blastema cells proliferate', { k: 3 });
  assert.equal(r.mode, 'dense');
  assert.equal(r.hits[0].text, 'Blastema cells proliferate quickly.');
  assert.equal(r.hits[0].title, 'Zebrafish fin regeneration');
  const g = await similarSentences(gstore, gemb, 'Blastema cells proliferate', { k: 3 });
  assert.equal(g.mode, 'fts');
  assert.match(g.note ?? '', /GENERATED/);
  assert.equal(g.hits[0].pmid, '777');
  const ex = await similarSentences(store, emb, 'Blastema cells proliferate', { k: 3, excludePmids: ['777'] });
  assert.ok(ex.hits.every((h) => h.pmid !== '777'));
});

test('neighbours carry MeSH headings for the MeSH engine', async () => {
  const n = await neighbours(store, emb, cits[7].title + ' ' + abstractText(cits[7]), {
    k: 5,
    excludePmids: [cits[7].pmid],
  });
  assert.equal(n.neighbours.length, 5);
  assert.ok(n.neighbours.every((x) => x.pmid !== cits[7].pmid));
  assert.equal(n.neighbours[0].mesh[0].name, cits[7].mesh[0].name, 'nearest neighbour shares the topic heading');
  const f = await neighbours(store, undefined, 'zebrafish', { k: 2 });
  assert.equal(f.mode, 'fts');
  assert.equal(f.neighbours[0].pmid, '777');
});

test('a longer dense candidate list keeps the number of exactly re-ranked vectors the index was measured with', () => {
  assert.equal(refineFor(10, 40), 40);
  assert.equal(refineFor(5, 40), 40);
  assert.equal(refineFor(50, 40), 8); // 50 × 8 = 400 = 10 × 40
  assert.equal(refineFor(50, 10), 2);
  assert.equal(refineFor(1000, 10), 2); // never below 2
});

test('hit metadata is right even when a compaction moved the rows between the legs and the fetch', async () => {
  const s = await buildIndex(emb, 8);
  const legs = await denseLeg(
    s,
    'articles',
    (await emb.embed(['zebrafish fin regeneration'], 'query'))[0],
    10,
    undefined,
    ['pmid'],
    true,
  );
  const ids = new Map(legs.map((h) => [h.pmid, h.rowId!]));
  assert.ok(legs.every((h) => typeof h.rowId === 'bigint'));
  const fresh = await fetchInfo(
    s,
    legs.map((h) => h.pmid),
    ids,
  );
  assert.deepEqual([...fresh.keys()].sort(), legs.map((h) => h.pmid).sort());
  // Delete other citations and compact: fragments are rewritten and the old row ids point elsewhere (or nowhere).
  const keep = new Set(legs.map((h) => h.pmid));
  await s.deletePmids(
    cits
      .map((c) => c.pmid)
      .filter((p) => !keep.has(p))
      .slice(0, 20),
  );
  await s.optimize();
  const moved = await denseLeg(
    s,
    'articles',
    (await emb.embed(['zebrafish fin regeneration'], 'query'))[0],
    10,
    `pmid IN (${legs.map((h) => `'${h.pmid}'`).join(', ')})`,
    ['pmid'],
    true,
  );
  assert.ok(
    moved.some((h) => h.rowId !== ids.get(h.pmid)),
    'the compaction changed row ids (else this test proves nothing)',
  );
  const got = await fetchInfo(
    s,
    legs.map((h) => h.pmid),
    ids,
  );
  assert.deepEqual([...got.keys()].sort(), legs.map((h) => h.pmid).sort());
  for (const [pmid, row] of got) assert.equal(String(row.title), cits.find((c) => c.pmid === pmid)!.title, pmid);
  // A row id that now holds another citation is not taken for this one.
  const [a, b] = moved;
  const crossed = await fetchInfo(s, [a.pmid], new Map([[a.pmid, b.rowId!]]));
  assert.deepEqual([...crossed.keys()], [a.pmid]);
  assert.equal(String(crossed.get(a.pmid)!.title), cits.find((c) => c.pmid === a.pmid)!.title);
  s.close();
});

test('a file of the index gone under an open store: the error names the index and the missing file', async () => {
  const s = await buildIndex(emb, 64);
  assert.equal((await search(s, emb, 'zebrafish fin regeneration', { k: 3 })).hits[0].pmid, '777');
  const data = path.join(s.dir, 'articles.lance', 'data');
  for (const x of fs.readdirSync(data)) fs.renameSync(path.join(data, x), path.join(s.dir, `${x}.moved`));
  const err = await search(s, emb, 'zebrafish fin regeneration', { k: 3 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof Error, 'the search fails');
  const ex = explainIndexError(err, s.dir);
  assert.ok(ex, `explained: ${(err as Error).message}`);
  assert.ok(ex.message.startsWith(`the index at ${s.dir} could not be read: ${data}/`), ex.message);
  assert.match(ex.message, /biohicl index add --index/);
  assert.equal((ex as Error & { exitCode?: number }).exitCode, 4);
  assert.equal(explainIndexError(new Error('something else'), s.dir), undefined, 'other errors are not explained');
  assert.equal(explainIndexError('a thrown string', s.dir), undefined);
  s.close();
});
