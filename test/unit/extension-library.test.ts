// The sidebar's view of a hit from the writer's own library: marked with the bibliography file and its key there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toPaperView } from '../../src/app/engine';
import type { SearchHit } from '../../src/index/search';

const hit = (over: Partial<SearchHit>): SearchHit => ({
  pmid: 'doi:10.1101/2024.01.01.123456',
  title: 'Zebrafish fin regeneration',
  authors: ['Lee K'],
  journal: 'bioRxiv',
  year: 2024,
  publicationTypes: [],
  mesh: [],
  score: 0.5,
  rank: 1,
  why: { ftsRank: 1, ftsScore: 3 },
  ...over,
});

test('a library hit carries the bibliography file and key into the view; others carry none', () => {
  const v = toPaperView(
    hit({ library: { key: 'preprint2024', source: '/home/w/paper/my-library.json' } }),
    undefined,
    1,
  );
  assert.deepEqual(v.inLibrary, { key: 'preprint2024', file: 'my-library.json' });
  assert.equal(toPaperView(hit({}), undefined, 1).inLibrary, undefined);
});
