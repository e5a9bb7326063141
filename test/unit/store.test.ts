// The LanceDB store: real tables in temp dirs; rows really land (Arrow copy), upsert replaces, deletes apply,
// and an index made by another model is refused with how to rebuild.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { denseLeg } from '../../src/index/search';
import { IndexStore, ModelMismatchError, type ArticleRow, type SentenceRow } from '../../src/index/store';
import { DIM, bowVector, testIdentity as identity, tmpDir } from './index-helpers';

function art(pmid: string, title: string, over: Partial<ArticleRow> = {}): ArticleRow {
  return {
    pmid,
    title,
    abstract: `${title} abstract`,
    text: `${title}\n${title} abstract`,
    sections: '[]',
    authors: ['A B'],
    journal: 'J',
    year: 2000,
    doi: null,
    pmcid: null,
    publication_types: ['Journal Article'],
    language: 'eng',
    mesh: '[]',
    has_abstract: true,
    source: 's',
    hash: 'h-' + title,
    n_sentences: 0,
    ...over,
    vector: over.vector ?? bowVector(title),
  };
}
function sent(pmid: string, idx: number, text: string): SentenceRow {
  return { pmid, idx, start: idx * 10, end: idx * 10 + text.length, text, vector: bowVector(text) };
}

test('rows are written with the Arrow schema and read back', async () => {
  const dir = tmpDir();
  const s = await IndexStore.open(dir, identity(), { create: true });
  await s.upsert(
    [art('1', 'insulin resistance'), art('2', 'tumor growth', { year: null, doi: '10.1/x' })],
    [sent('1', 0, 'Insulin rose.'), sent('1', 1, 'Glucose fell.'), sent('2', 0, 'Tumors grew.')],
  );
  assert.deepEqual(await s.counts(), { articles: 2, sentences: 3 });
  const rows = await s.articles.query().where("pmid = '2'").toArray();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].year, null);
  assert.equal(rows[0].doi, '10.1/x');
  assert.equal(rows[0].vector.length, DIM);
  s.close();
  assert.ok(fs.existsSync(`${dir}/meta.json`));
});

test('upsert by PMID replaces the article and all of its sentences (stale ones removed)', async () => {
  const s = await IndexStore.open(tmpDir(), identity(), { create: true });
  await s.upsert(
    [art('1', 'old title'), art('2', 'other')],
    [sent('1', 0, 'a one'), sent('1', 1, 'a two'), sent('1', 2, 'a three'), sent('2', 0, 'b one')],
  );
  await s.upsert([art('1', 'new title')], [sent('1', 0, 'new only')]);
  assert.deepEqual(await s.counts(), { articles: 2, sentences: 2 });
  const a = await s.articles.query().where("pmid = '1'").toArray();
  assert.equal(a.length, 1);
  assert.equal(a[0].title, 'new title');
  const ss = await s.sentences.query().where("pmid = '1'").toArray();
  assert.deepEqual(
    ss.map((r: { text: string }) => r.text),
    ['new only'],
  );
  // the other citation's sentences are untouched
  assert.equal(await s.sentences.countRows("pmid = '2'"), 1);
  // a citation re-indexed with no sentences loses its old ones
  await s.upsert([art('2', 'other v2')], []);
  assert.equal(await s.sentences.countRows("pmid = '2'"), 0);
  s.close();
});

test('deletePmids removes articles and their sentences', async () => {
  const s = await IndexStore.open(tmpDir(), identity(), { create: true });
  await s.upsert(
    [art('1', 'x'), art('2', 'y'), art('3', "it's")],
    [sent('1', 0, 'x'), sent('2', 0, 'y'), sent('3', 0, 'z')],
  );
  assert.equal(await s.deletePmids(['2', '3', '999']), 2);
  assert.deepEqual(await s.counts(), { articles: 1, sentences: 1 });
  assert.deepEqual([...(await s.existingRows(['1', '2'])).keys()], ['1']);
  s.close();
});

test('opening with another model refuses and says how to rebuild; --rebuild starts over', async () => {
  const dir = tmpDir();
  const s = await IndexStore.open(dir, identity(), { create: true });
  await s.upsert([art('1', 'x')], []);
  s.close();
  await assert.rejects(IndexStore.open(dir, identity({ manifestHash: 'other' }), { create: true }), (e: unknown) => {
    assert.ok(e instanceof ModelMismatchError);
    assert.match((e as Error).message, /index add --rebuild/);
    assert.match((e as Error).message, /delete the folder/);
    return true;
  });
  // the refused open changed nothing
  const again = await IndexStore.open(dir, identity(), {});
  assert.equal(await again.articles.countRows(), 1);
  again.close();
  const r = await IndexStore.open(dir, identity({ manifestHash: 'other', dim: 8 }), { rebuild: true });
  assert.deepEqual(await r.counts(), { articles: 0, sentences: 0 });
  assert.equal(r.identity.dim, 8);
  r.close();
});

test('--rebuild with the same model keeps every row; tables without meta.json are refused, not adopted', async () => {
  const dir = tmpDir();
  const s = await IndexStore.open(dir, identity(), { create: true });
  await s.upsert([art('1', 'x'), art('2', 'y')], [sent('1', 0, 'X rose.')]);
  s.close();
  const same = await IndexStore.open(dir, identity(), { rebuild: true });
  assert.deepEqual(await same.counts(), { articles: 2, sentences: 1 });
  same.close();
  fs.rmSync(dir + '/meta.json');
  await assert.rejects(
    IndexStore.open(dir, identity({ manifestHash: 'other' }), { create: true }),
    /no meta\.json[^]*--rebuild/,
  );
  const r = await IndexStore.open(dir, identity({ manifestHash: 'other' }), { rebuild: true });
  assert.deepEqual(await r.counts(), { articles: 0, sentences: 0 });
  r.close();
});

test('opening a missing index without create fails with how to build one', async () => {
  await assert.rejects(IndexStore.open(tmpDir() + '/none', identity()), /biohicl index add/);
});

test(
  'full-text and vector indexes build over tens of thousands of rows on this machine (no Lance deadlock)',
  { timeout: 120_000 },
  async () => {
    // LanceDB 0.31 on ≤ 2 CPUs deadlocked building an FTS index over ≳ 20k rows; src/index/lance-env.ts fixes it.
    const s = await IndexStore.open(tmpDir(), identity(), { create: true });
    // 40 words a row from a 20k-word vocabulary: enough distinct tokens to make the FTS builder spill partitions.
    const vocab = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`);
    let seed = 1;
    const rnd = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const rows = 30_000;
    for (let i = 0; i < rows; i += 10_000) {
      const part: ArticleRow[] = [];
      for (let j = i; j < i + 10_000; j++) {
        const text = Array.from({ length: 40 }, () => vocab[Math.floor(rnd() * vocab.length)]).join(' ');
        const v = Float32Array.from({ length: DIM }, () => rnd() - 0.5);
        part.push(art(String(j), j === 123 ? 'kidney w3f' : text, { vector: v }));
      }
      await s.upsert(part, []);
    }
    await s.ensureIndexes({ annMinRows: 20_000 });
    const idx = (await s.articles.listIndices()).map((i) => i.columns.join(','));
    assert.ok(idx.includes('text') && idx.includes('vector') && idx.includes('pmid'), idx.join(' '));
    assert.equal(s.annParams('articles')?.type, 'IVF_RQ');
    const hit = await s.articles.query().fullTextSearch('kidney').select(['pmid', '_score']).limit(3).toArray();
    assert.equal(hit[0]?.pmid, '123');
    // A 50-row candidate list (hybrid) re-ranks at least as many vectors as the measured 10-row query: its top 10 is
    // at least as close to the exact top 10.
    let recall10 = 0,
      recall50 = 0;
    for (const q of [7, 4242, 29_999, 15_000, 123_456 % rows]) {
      const v = Float32Array.from(
        (await s.articles.query().where(`pmid = '${q}'`).select(['vector']).toArray())[0].vector.toArray() as number[],
      );
      const exact = new Set(
        (
          await s.articles
            .query()
            .nearestTo(v)
            .distanceType('cosine')
            .bypassVectorIndex()
            .select(['pmid', '_distance'])
            .limit(10)
            .toArray()
        ).map((r: { pmid: string }) => r.pmid),
      );
      const top10 = (await denseLeg(s, 'articles', v, 10, undefined, ['pmid'])).map((h) => h.pmid);
      const top50 = (await denseLeg(s, 'articles', v, 50, undefined, ['pmid'])).map((h) => h.pmid).slice(0, 10);
      assert.equal(top10[0], String(q));
      recall10 += top10.filter((x) => exact.has(x)).length;
      recall50 += top50.filter((x) => exact.has(x)).length;
    }
    assert.ok(recall50 >= recall10, `top 10 of 50 candidates: ${recall50}/50 exact, of 10: ${recall10}/50`);
    assert.equal(await s.articles.countRows(), rows);
    s.close();
  },
);

test(
  'a vector index is made again once its table has more than doubled since (parameters follow the row count)',
  { timeout: 120_000 },
  async () => {
    const s = await IndexStore.open(tmpDir(), identity(), { create: true });
    let seed = 3;
    const rnd = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    let n = 0;
    const add = async (k: number): Promise<void> => {
      const part: ArticleRow[] = [];
      for (let j = 0; j < k; j++, n++)
        part.push(art(String(n), `row ${n}`, { vector: Float32Array.from({ length: DIM }, () => rnd() - 0.5) }));
      await s.upsert(part, []);
    };
    await add(1000);
    await s.ensureIndexes({ annMinRows: 500 });
    const first = s.annParams('articles')!;
    assert.equal(first.rows, 1000);
    await add(800); // 1,800 rows: not yet twice 1,000
    await s.ensureIndexes({ annMinRows: 500 });
    assert.equal(s.annParams('articles')!.builtAt, first.builtAt);
    assert.equal(await s.articles.countRows(), 1800);
    await add(500); // 2,300 rows: more than doubled
    const steps: string[] = [];
    await s.ensureIndexes({ annMinRows: 500, onStep: (x) => steps.push(x) });
    const again = s.annParams('articles')!;
    assert.equal(again.rows, 2300);
    assert.equal(again.numPartitions, Math.round(Math.sqrt(2300)));
    assert.ok(
      steps.some((x) => /vector index \(2300 rows; the last one was made for 1000\)/.test(x)),
      steps.join(' | '),
    );
    // and it is used: the nearest row to a stored vector is that row
    const v = Float32Array.from(
      (await s.articles.query().where(`pmid = '2222'`).select(['vector']).toArray())[0].vector.toArray() as number[],
    );
    assert.equal((await denseLeg(s, 'articles', v, 5, undefined, ['pmid']))[0].pmid, '2222');
    s.close();
  },
);

test('the lookups the application uses: by id, by DOI (any case), abstracts, citations with an abstract', async () => {
  const s = await IndexStore.open(tmpDir(), identity(), { create: true });
  await s.upsert(
    [
      art('11', 'statin myopathy', { doi: '10.1000/Statin.X' }),
      art('12', 'no abstract here', { abstract: '', text: 'no abstract here', has_abstract: false }),
      art("doi:10.1/o'brien", "O'Brien's library item", { doi: "10.1/O'Brien" }),
    ],
    [],
  );
  const a = await s.article('11');
  assert.equal(a?.title, 'statin myopathy');
  assert.equal(a?.abstract, 'statin myopathy abstract');
  assert.equal(await s.article('13'), undefined);
  assert.equal((await s.articleByDoi('10.1000/statin.x'))?.pmid, '11', 'DOIs compare case-insensitively');
  assert.equal((await s.articleByDoi(' 10.1000/STATIN.X '))?.pmid, '11');
  assert.equal(await s.articleByDoi('10.1000/other'), undefined);
  assert.equal((await s.articleByDoi("10.1/o'brien"))?.pmid, "doi:10.1/o'brien", 'a quote in the value is escaped');
  assert.equal((await s.article("doi:10.1/o'brien"))?.title, "O'Brien's library item");
  assert.deepEqual(
    await s.abstracts(['11', '12', '99']),
    new Map([
      ['11', 'statin myopathy abstract'],
      ['12', ''],
    ]),
  );
  assert.deepEqual(await s.abstracts([]), new Map());
  assert.equal(await s.countWithAbstract(), 2);
  s.close();
});
