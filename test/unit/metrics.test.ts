// Retrieval metrics against values computed by hand (trec_eval / BEIR definitions).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { evaluateRuns, mrrAt, ndcgAt, recallAt, type Qrels } from '../../src/index/metrics';

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);
const q = (o: Record<string, number>): Qrels => new Map(Object.entries(o));

test('nDCG@k, binary relevance', () => {
  // relevant d1, d2; run: d3 d1 d4 d2 → DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3)
  const dcg = 1 / Math.log2(3) + 1 / Math.log2(5);
  const idcg = 1 + 1 / Math.log2(3);
  close(ndcgAt(['d3', 'd1', 'd4', 'd2'], q({ d1: 1, d2: 1 }), 10), dcg / idcg);
  // cut at 2: only d1 counts
  close(ndcgAt(['d3', 'd1', 'd4', 'd2'], q({ d1: 1, d2: 1 }), 2), 1 / Math.log2(3) / idcg);
  close(ndcgAt(['d1', 'd2'], q({ d1: 1, d2: 1 }), 10), 1);
  close(ndcgAt(['x', 'y'], q({ d1: 1 }), 10), 0);
});

test('nDCG@k, graded relevance with linear gain; zero-graded judgements are not relevant', () => {
  // qrels a:2, b:1, c:0; run b a → DCG = 1 + 2/log2(3); IDCG = 2 + 1/log2(3)
  close(ndcgAt(['b', 'a'], q({ a: 2, b: 1, c: 0 }), 10), (1 + 2 / Math.log2(3)) / (2 + 1 / Math.log2(3)));
  close(ndcgAt(['c'], q({ a: 2, c: 0 }), 10), 0);
});

test('Recall@k and MRR@k', () => {
  close(recallAt(['a', 'x', 'b', 'c'], q({ a: 1, b: 1, z: 1 }), 2), 1 / 3);
  close(recallAt(['a', 'x', 'b', 'c'], q({ a: 1, b: 1, z: 1 }), 100), 2 / 3);
  close(mrrAt(['x', 'y', 'a'], q({ a: 1 }), 10), 1 / 3);
  close(mrrAt(['x', 'y', 'a'], q({ a: 1 }), 2), 0);
});

test('means over judged queries only', () => {
  const runs = new Map([
    ['q1', ['a', 'b']],
    ['q2', ['x', 'c']],
    ['q3', ['a']],
  ]);
  const qrels = new Map([
    ['q1', q({ a: 1 })],
    ['q2', q({ c: 1 })],
    ['q3', q({ a: 0 })],
  ]);
  const m = evaluateRuns(runs, qrels);
  assert.equal(m.queries, 2);
  close(m.mrr10, (1 + 0.5) / 2);
  close(m.ndcg10, (1 + 1 / Math.log2(3)) / 2);
  close(m.recall100, 1);
});
