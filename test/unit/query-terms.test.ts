// The full-text query of a long selection keeps its rarest terms (src/index/query-terms.ts), with document
// frequencies from a sample of a real LanceDB table; short queries go unchanged.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { addFiles } from '../../src/index/build';
import { IndexStore } from '../../src/index/store';
import { ftsQuery, ftsQueryText, search } from '../../src/index/search';
import { countTerms, distinctTerms, pickTerms, termKey, termSample } from '../../src/index/query-terms';
import { abstractText, type Citation } from '../../src/index/citation';
import { BowEmbedder, deps, makeCitation, tmpDir, writeJsonl } from './index-helpers';

const cits: Citation[] = Array.from({ length: 40 }, (_, i) => makeCitation(i));
cits.push(
  makeCitation(40, {
    pmid: '777',
    title: 'Zebrafish fin regeneration',
    abstract: [{ text: 'Zebrafish regenerate fins after amputation. Blastema cells proliferate quickly in patients.' }],
  }),
);
let store: IndexStore;

before(async () => {
  const dir = tmpDir();
  const f = path.join(dir, 'c.jsonl');
  writeJsonl(
    f,
    cits.map((c) => ({ type: 'citation' as const, citation: c })),
  );
  const emb = new BowEmbedder();
  store = await IndexStore.open(path.join(dir, 'idx'), emb.identity, { create: true });
  await addFiles(store, emb, [f], deps, { batchSize: 16 });
});
after(() => store.close());

test('termKey: lower case, accents folded, plurals and -ed/-ing joined, stop words dropped', () => {
  assert.equal(termKey('Studies'), 'study');
  assert.equal(termKey('study'), 'study');
  assert.equal(termKey('Patients'), 'patient');
  assert.equal(termKey('treated'), termKey('treating'));
  assert.equal(termKey('Sjögren'), 'sjogren');
  assert.equal(termKey('virus'), 'virus', 'a word ending in -us keeps it');
  assert.equal(termKey('The'), undefined);
  assert.equal(termKey('with'), undefined);
  assert.equal(distinctTerms('The studies and the study of patients'), 2);
});

test('pickTerms: at most `max` distinct terms pass unchanged; more keep the rarest, in the order written', () => {
  const df = new Map([
    ['cell', 900],
    ['patient', 800],
    ['level', 700],
    ['blastema', 2],
    ['zebrafish', 5],
    ['amputation', 0],
  ]);
  const get = (k: string): number => df.get(k) ?? 0;
  const q = 'Cells of patients: levels of blastema in zebrafish after amputation';
  assert.equal(pickTerms(q, 6, get), undefined, 'six distinct terms, max 6: unchanged');
  assert.equal(pickTerms(q, 0, get), undefined, '0 keeps them all');
  assert.deepEqual(pickTerms(q, 3, get), ['blastema', 'zebrafish', 'amputation']);
  assert.deepEqual(pickTerms(q, 4, get), ['levels', 'blastema', 'zebrafish', 'amputation']);
  // equal frequencies: the term the query repeats goes first, then the earlier one
  const flat = (): number => 1;
  assert.deepEqual(pickTerms('alpha beta gamma beta delta', 2, flat), ['alpha', 'beta']);
  assert.deepEqual(pickTerms('alpha beta gamma gamma delta', 1, flat), ['gamma']);
});

test('termSample: document frequencies from a real table, all rows when it is small, evenly spread rows otherwise', async () => {
  const all = await termSample(store.articles, 1000);
  assert.equal(all.rows, 41);
  assert.equal(all.docs, 41);
  const texts = cits.map((c) => `${c.title}\n${abstractText(c)}`);
  assert.deepEqual(all.df, countTerms(texts).df, 'the whole table read: exact document frequencies of its texts');
  assert.equal(all.df.get('study'), 40, '"Study i of …" in 40 titles');
  assert.equal(all.df.get('zebrafish'), 1);
  assert.equal(await termSample(store.articles, 1000), all, 'read once per open table');

  const other = await IndexStore.open(store.dir, undefined); // another table object: its own sample
  try {
    const part = await termSample(other.articles, 7);
    assert.equal(part.rows, 41);
    assert.equal(part.docs, 7);
    // a word in every row is in every sampled row; the one row with 'zebrafish' (the last) is not among 7 of 41
    assert.equal(part.df.get('smith'), undefined, 'author names are not in the text column');
    assert.ok((part.df.get('study') ?? 0) >= 6, `study in ${part.df.get('study')} of 7`);
    assert.equal(part.df.get('zebrafish'), undefined);
  } finally {
    other.close();
  }
});

test('ftsQuery cuts a long selection to its rarest terms; the search still finds the paper they name', async () => {
  // a paragraph: the rare words of paper 777 among many words every paper has
  const para =
    'In this study of patients we examined levels in cases vs. controls and the role of older adults. ' +
    'Zebrafish regenerate fins after amputation, and blastema cells proliferate. Study levels rose in cases; ' +
    'patients and controls, the role of adults, older patients, unclear levels, examined cases.';
  const n = distinctTerms(ftsQueryText(para));
  assert.ok(n > 16, `${n} distinct terms`);
  const cut = (await ftsQuery(store, para, 6)).split(' ');
  assert.equal(cut.length, 6);
  for (const w of ['Zebrafish', 'regenerate', 'fins', 'amputation', 'blastema', 'proliferate'])
    assert.ok(cut.includes(w), `${w} kept: ${cut.join(' ')}`);
  assert.equal(await ftsQuery(store, para, 0), ftsQueryText(para), '0: every term');
  const short = 'zebrafish fin regeneration in patients';
  assert.equal(await ftsQuery(store, short, 6), ftsQueryText(short), 'a short query is unchanged');

  const r = await search(store, undefined, para, { mode: 'fts', k: 3, ftsMaxTerms: 6, noWhy: true });
  assert.equal(r.hits[0]?.pmid, '777');
  const full = await search(store, undefined, para, { mode: 'fts', k: 3, ftsMaxTerms: 0, noWhy: true });
  assert.equal(full.hits[0]?.pmid, '777', 'the same first paper with every term');
});
