import { test } from 'node:test';
import assert from 'node:assert/strict';
import { multiLabelScores } from '../../src/mesh/metrics';

test('micro P/R/F1 and example-based F1 on hand-computed cases', () => {
  // doc 1: P={a,b,c} G={a,b,d,e} → hit 2; doc 2: P={x} G={y} → hit 0; doc 3: P={} G={z} → hit 0
  const s = multiLabelScores([['a', 'b', 'c'], ['x'], []], [['a', 'b', 'd', 'e'], ['y'], ['z']]);
  assert.equal(s.tp, 2);
  assert.equal(s.fp, 2);
  assert.equal(s.fn, 4);
  assert.equal(s.MiP, 2 / 4);
  assert.equal(s.MiR, 2 / 6);
  assert.ok(Math.abs(s.MiF - (2 * 0.5 * (1 / 3)) / (0.5 + 1 / 3)) < 1e-12); // 0.4
  assert.ok(Math.abs(s.MiF - 0.4) < 1e-12);
  // EBF: doc1 2*2/(3+4)=4/7, doc2 0, doc3 0 → (4/7)/3
  assert.ok(Math.abs(s.EBF - 4 / 21) < 1e-12);
  // perfect, duplicates ignored, empty/empty counts 1 in EBF
  const p = multiLabelScores([['a', 'a'], []], [['a'], []]);
  assert.deepEqual([p.MiP, p.MiR, p.MiF, p.EBF], [1, 1, 1, 1]);
  const none = multiLabelScores([[]], [['a']]);
  assert.deepEqual([none.MiP, none.MiR, none.MiF, none.EBF], [0, 0, 0, 0]);
  assert.throws(() => multiLabelScores([[]], []), /1 predictions for 0 documents/);
});
