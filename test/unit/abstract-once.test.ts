// Index format 3: the abstract stored once (in `text`, the full-text field) with `section_labels` to cut it back
// into sections, instead of three times (`abstract`, `text`, `sections`). A new index is made in format 3 and reads
// back every abstract, section and sentence offset exactly; an index of format 2 (a real one made by the previous
// code: test/fixtures/index-format2) opens, answers and takes writes as it is; an index of a newer format is refused
// with what to do. Real LanceDB tables, the real build code, the bag-of-words embedder of index-helpers.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addFiles } from '../../src/index/build';
import {
  INDEX_FORMAT,
  IndexStore,
  META_FILE,
  abstractColumns,
  rowAbstract,
  rowSections,
  sectionColumns,
  toArticleInfo,
} from '../../src/index/store';
import { search, similarSentences } from '../../src/index/search';
import { abstractCandidates, scopedSimilarSentences } from '../../src/index/on-demand';
import { abstractText, type Citation } from '../../src/index/citation';
import { readCitations } from '../../src/index/readers';
import { splitSentences } from '../../src/inference/sentences';
import { BowEmbedder, deps, makeCitation, tmpDir, writeJsonl } from './index-helpers';
import { DEMO_PUBMED, ROOT } from '../fixtures/paths';
import { publishRelease } from '../../src/release/publish';
import { pullRelease } from '../../src/release/pull';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'index-format2');
const emb = new BowEmbedder();
let store: IndexStore;
let cits: Citation[];

before(async () => {
  // Real MEDLINE citations (structured abstracts with labels and NLM categories) plus generated ones.
  cits = [];
  for await (const ev of readCitations(path.join(DEMO_PUBMED, 'mesh-papers.medline.txt')))
    if (ev.type === 'citation' && cits.length < 60) cits.push(ev.citation);
  cits.push(...Array.from({ length: 10 }, (_, i) => makeCitation(i)));
  cits.push(
    makeCitation(20, {
      pmid: '555',
      title: 'Odd: labels\nand a newline in the title',
      abstract: [
        { label: 'OBJECTIVE', category: 'OBJECTIVE', text: 'Colons: inside text. And a second sentence.' },
        { text: 'An unlabelled paragraph follows.' },
        { label: '', text: 'An empty label.' },
      ],
    }),
  );
  const dir = tmpDir();
  const f = path.join(dir, 'c.jsonl');
  writeJsonl(
    f,
    cits.map((c) => ({ type: 'citation' as const, citation: c })),
  );
  store = await IndexStore.open(path.join(dir, 'idx'), emb.identity, { create: true });
  await addFiles(store, emb, [f], deps, { batchSize: 16 });
});
after(() => store.close());

test('a new index is format 3: no abstract or sections column, the abstract read back exactly from text', async () => {
  assert.equal(INDEX_FORMAT, 3);
  assert.equal(JSON.parse(fs.readFileSync(path.join(store.dir, META_FILE), 'utf8')).format, 3);
  const cols = (await store.articles.schema()).fields.map((f) => f.name);
  assert.ok(!cols.includes('abstract') && !cols.includes('sections'), cols.join(','));
  assert.ok(cols.includes('section_labels') && cols.includes('text'));
  assert.deepEqual(await abstractColumns(store), ['title', 'text']);
  const rows = await store.articles.query().toArray();
  assert.equal(rows.length, cits.length);
  const by = new Map(rows.map((r) => [String(r.pmid), r as Record<string, unknown>]));
  let labelled = 0;
  for (const c of cits) {
    const r = by.get(c.pmid)!;
    assert.equal(rowAbstract(r), abstractText(c), c.pmid);
    assert.equal(toArticleInfo(r).abstract, abstractText(c), c.pmid);
    const secs = rowSections(r);
    assert.equal(secs.length, c.abstract.length, c.pmid);
    c.abstract.forEach((s, i) => {
      assert.equal(secs[i]!.text, s.text, `${c.pmid} section ${i}`);
      assert.equal(secs[i]!.label, s.label, `${c.pmid} label ${i}`);
      assert.equal(secs[i]!.category, s.category, `${c.pmid} category ${i}`);
      if (s.label) labelled++;
    });
  }
  assert.ok(labelled > 20, `real structured abstracts among the inputs (${labelled} labelled sections)`);
  // Sentence offsets still point into the abstract as the readers give it.
  const sents = await store.sentences.query().select(['pmid', 'start', 'end', 'text']).toArray();
  for (const s of sents)
    assert.equal(rowAbstract(by.get(String(s.pmid))!).slice(Number(s.start), Number(s.end)), s.text);
});

test('format 3: search, best sentences, similar sentences and on-demand splitting work on the abstract kept once', async () => {
  const r = await search(store, emb, 'Colons inside text second sentence', { k: 3, mode: 'hybrid' });
  assert.equal(r.hits[0]?.pmid, '555');
  const b = r.hits[0].why.bestSentence!;
  const row = (
    await store.articles
      .query()
      .where(`pmid = '555'`)
      .select(await abstractColumns(store))
      .toArray()
  )[0];
  assert.equal(rowAbstract(row).slice(b.start, b.end), b.text);
  const s = await similarSentences(store, emb, 'An unlabelled paragraph follows', { k: 1, mode: 'dense' });
  assert.equal(s.hits[0].text, 'An unlabelled paragraph follows.');
  // On demand, the sections come back from section_labels: the same sentences and offsets as the stored rows.
  const c = await abstractCandidates(store, ['555', cits[0]!.pmid]);
  const stored = await store.sentences
    .query()
    .where(`pmid IN ('555', '${cits[0]!.pmid}')`)
    .select(['pmid', 'idx', 'start', 'end', 'text'])
    .toArray();
  const key = (x: { pmid: unknown; idx: unknown; start: unknown; end: unknown; text: unknown }): string =>
    [x.pmid, x.idx, x.start, x.end, x.text].map(String).join('|');
  assert.deepEqual(c.map(key).sort(), stored.map(key).sort());
  const od = await scopedSimilarSentences(store, emb, 'An unlabelled paragraph follows', { k: 1, forceOnDemand: true });
  assert.equal(od.hits[0].text, 'An unlabelled paragraph follows.');
  assert.equal(od.hits[0].from, 'abstract');
});

test('format 3 costs less on disk than the same rows stored three times would', async () => {
  // The articles table's string columns: what format 2 would store (abstract + text + sections) vs format 3.
  const rows = await store.articles.query().select(['title', 'text', 'section_labels']).toArray();
  let v2 = 0;
  let v3 = 0;
  for (const r of rows) {
    const abs = rowAbstract(r);
    v2 +=
      Buffer.byteLength(abs) + Buffer.byteLength(String(r.text)) + Buffer.byteLength(JSON.stringify(rowSections(r)));
    v3 += Buffer.byteLength(String(r.text)) + Buffer.byteLength(String(r.section_labels));
  }
  assert.ok(v3 < 0.5 * v2, `format 3 ${v3} B vs format 2 ${v2} B of abstract text`);
});

test('an index of format 2 (made by the previous code) opens, answers and takes writes as it is', async () => {
  const dir = path.join(tmpDir(), 'idx');
  fs.cpSync(FIXTURE, dir, { recursive: true });
  const ro = await IndexStore.open(dir, undefined);
  assert.equal(ro.meta.format, 2);
  assert.deepEqual(await abstractColumns(ro), ['abstract']);
  assert.deepEqual(await sectionColumns(ro), ['sections']);
  const want = makeCitation(3);
  const rows = await ro.articles.query().where(`pmid = '${want.pmid}'`).toArray();
  assert.equal(toArticleInfo(rows[0] as Record<string, unknown>).abstract, abstractText(want));
  assert.deepEqual(
    rowSections(rows[0] as Record<string, unknown>).map((s) => s.text),
    want.abstract.map((s) => s.text),
  );
  const r = await search(ro, emb, 'tumor carcinoma chemotherapy', { k: 3, mode: 'hybrid' });
  assert.ok(r.hits.length > 0 && r.hits[0].why.bestSentence);
  const od = await abstractCandidates(ro, [want.pmid]);
  assert.deepEqual(
    od.map((x) => x.text),
    want.abstract.flatMap((s) => splitSentences(s.text).map((x) => x.text.trim())),
  );
  ro.close();
  // A writer: the table keeps its three columns, the new row fills them; meta.json stays format 2.
  const w = await IndexStore.open(dir, emb.identity, { create: true });
  const f = path.join(tmpDir(), 'more.jsonl');
  const more = makeCitation(30, { pmid: '4242', title: 'Zebrafish heart regeneration' });
  writeJsonl(f, [{ type: 'citation', citation: more }]);
  const s = await addFiles(w, emb, [f], deps);
  assert.equal(s.added, 1);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, META_FILE), 'utf8')).format, 2);
  const cols = (await w.articles.schema()).fields.map((x) => x.name);
  assert.ok(cols.includes('abstract') && cols.includes('sections') && !cols.includes('section_labels'));
  const nr = (await w.articles.query().where(`pmid = '4242'`).select(['abstract', 'sections']).toArray())[0];
  assert.equal(nr.abstract, abstractText(more));
  assert.deepEqual(JSON.parse(String(nr.sections)), more.abstract);
  const hit = await search(w, emb, 'Zebrafish heart regeneration', { k: 1, mode: 'hybrid' });
  assert.equal(hit.hits[0]?.pmid, '4242');
  assert.equal((await w.counts()).articles, 7);
  w.close();
});

test('an index of a newer format is refused with what to do', async () => {
  const dir = path.join(tmpDir(), 'idx');
  fs.cpSync(FIXTURE, dir, { recursive: true });
  const m = JSON.parse(fs.readFileSync(path.join(dir, META_FILE), 'utf8'));
  fs.writeFileSync(path.join(dir, META_FILE), JSON.stringify({ ...m, format: INDEX_FORMAT + 1 }));
  await assert.rejects(
    IndexStore.open(dir, undefined),
    (e: Error & { exitCode?: number }) =>
      e.exitCode === 4 &&
      /is of format 4, newer than this version of biohicl reads \(up to 3\): update biohicl/.test(e.message),
  );
});

test('a release records index format 3; a release of a newer format is refused before anything is downloaded', async () => {
  const pub = path.join(tmpDir(), 'rel');
  await publishRelease({ index: store.dir, out: pub, tag: 'r3' });
  const rel = JSON.parse(fs.readFileSync(path.join(pub, 'release.json'), 'utf8'));
  assert.equal(rel.indexFormat, 3);
  fs.writeFileSync(path.join(pub, 'release.json'), JSON.stringify({ ...rel, indexFormat: INDEX_FORMAT + 1 }));
  const target = path.join(tmpDir(), 'pulled');
  await assert.rejects(
    pullRelease({ source: pub, index: target, modelDir: path.join(tmpDir(), 'no-model') }),
    (e: Error & { exitCode?: number }) =>
      /holds an index of format 4, newer than this version of biohicl reads \(up to 3\); nothing was downloaded/.test(
        e.message,
      ),
  );
  assert.equal(fs.existsSync(target), false, 'nothing written');
});
