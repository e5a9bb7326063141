// addFiles: reader events → embedded, committed rows; summary counts; reject report; unchanged citations skipped.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addFiles, abstractSentences } from '../../src/index/build';
import { IndexStore } from '../../src/index/store';
import { abstractText } from '../../src/index/citation';
import { splitSentences } from '../../src/inference/sentences';
import { BowEmbedder, deps, makeCitation, tmpDir, writeJsonl } from './index-helpers';

test('sentence offsets point into the labelled abstract text', () => {
  const c = makeCitation(3);
  const abs = abstractText(c);
  const ss = abstractSentences(c, splitSentences);
  assert.ok(ss.length >= 4, `got ${ss.length} sentences`);
  for (const s of ss) assert.equal(abs.slice(s.start, s.end), s.text);
  assert.ok(!ss.some((s) => s.text.startsWith('BACKGROUND')), 'labels are not part of sentences');
});

test('addFiles indexes, updates, deletes, rejects and skips unchanged citations', async () => {
  const dir = tmpDir();
  const f1 = path.join(dir, 'a.jsonl');
  writeJsonl(f1, [
    ...Array.from({ length: 25 }, (_, i) => ({ type: 'citation' as const, citation: makeCitation(i) })),
    { type: 'reject', file: f1, record: '#26', where: 'line 26', message: 'no PMID' },
  ]);
  const store = await IndexStore.open(path.join(dir, 'idx'), new BowEmbedder().identity, { create: true });
  const emb = new BowEmbedder();
  const phases = new Set<string>();
  const s1 = await addFiles(store, emb, [f1], deps, { batchSize: 8, onProgress: (p) => phases.add(p.phase) });
  assert.equal(s1.added, 25);
  assert.equal(s1.rejected, 1);
  assert.ok(s1.rejectReport && fs.readFileSync(s1.rejectReport, 'utf8').includes('"record":"#26"'));
  assert.ok(phases.has('embed') && phases.has('commit') && phases.has('done'));
  const c = await store.counts();
  assert.equal(c.articles, 25);
  const nSent = (await store.articles.query().select(['n_sentences']).toArray()).reduce(
    (a: number, r: { n_sentences: number }) => a + r.n_sentences,
    0,
  );
  assert.equal(c.sentences, nSent);
  assert.equal(s1.sentences, nSent);
  assert.ok(
    await store.articles.listIndices().then((l) => l.some((i) => i.columns.includes('text'))),
    'FTS index built',
  );

  // Same file again: it had a reject, so it is not recorded as complete → read again, the reject reported again,
  // nothing re-embedded; forced → the same.
  const calls = emb.calls;
  const s2 = await addFiles(store, emb, [f1], deps, { batchSize: 8 });
  assert.equal(s2.filesSkipped, 0);
  assert.equal(s2.rejected, 1);
  assert.equal(s2.unchanged, 25);
  const s3 = await addFiles(store, emb, [f1], deps, { batchSize: 8, force: true });
  assert.equal(s3.unchanged, 25);
  assert.equal(s3.added + s3.updated, 0);
  assert.equal(emb.calls, calls, 'unchanged citations are not embedded again');

  // A second file: one update, one delete, one new.
  const f2 = path.join(dir, 'b.jsonl');
  writeJsonl(f2, [
    {
      type: 'citation',
      citation: makeCitation(5, {
        abstract: [{ text: 'Completely new abstract about insulin. Second sentence here.' }],
      }),
    },
    { type: 'delete', pmids: ['10007', '99999'] },
    { type: 'citation', citation: makeCitation(100) },
    { type: 'citation', citation: makeCitation(100, { title: 'duplicate in file: last wins' }) },
  ]);
  const s4 = await addFiles(store, emb, [f2], deps, { batchSize: 8 });
  const s4again = await addFiles(store, emb, [f2], deps, { batchSize: 8 });
  assert.equal(s4again.filesSkipped, 1, 'a file read without rejects is recorded as complete and skipped');
  assert.deepEqual([s4.added, s4.updated, s4.deleted], [1, 1, 1]);
  assert.equal(await store.articles.countRows(), 25);
  const t100 = await store.articles.query().where("pmid = '10100'").toArray();
  assert.equal(t100.length, 1);
  assert.equal(t100[0].title, 'duplicate in file: last wins');
  assert.equal(await store.sentences.countRows("pmid = '10007'"), 0);
  const ss5 = await store.sentences.query().where("pmid = '10005'").toArray();
  assert.deepEqual(ss5.map((r: { text: string }) => r.text).sort(), [
    'Completely new abstract about insulin.',
    'Second sentence here.',
  ]);
  store.close();
});

test("articleVector 'mean' embeds each text once and still gives unit vectors", async () => {
  const dir = tmpDir();
  const f = path.join(dir, 'a.jsonl');
  writeJsonl(
    f,
    Array.from({ length: 6 }, (_, i) => ({ type: 'citation' as const, citation: makeCitation(i) })),
  );
  const store = await IndexStore.open(path.join(dir, 'idx'), new BowEmbedder().identity, { create: true });
  const emb = new BowEmbedder();
  const s = await addFiles(store, emb, [f], deps, { articleVector: 'mean', skipIndexes: true });
  assert.equal(emb.texts, 6 + s.sentences, 'one text per title and per sentence');
  const rows = await store.articles.query().select(['vector']).toArray();
  for (const r of rows) {
    const v = Array.from(r.vector.toArray() as Float32Array);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-4);
  }
  store.close();
});

test('a model of another dimension is refused before anything is written', async () => {
  const dir = tmpDir();
  const f = path.join(dir, 'a.jsonl');
  writeJsonl(f, [{ type: 'citation', citation: makeCitation(1) }]);
  const store = await IndexStore.open(
    path.join(dir, 'idx'),
    { ...new BowEmbedder().identity, dim: 32 },
    { create: true },
  );
  await assert.rejects(
    addFiles(store, new BowEmbedder(), [f], deps, { skipIndexes: true }),
    /dim 64, index expects 32/,
  );
  assert.equal(await store.articles.countRows(), 0);
  store.close();
});
