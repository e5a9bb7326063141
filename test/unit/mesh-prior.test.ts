import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVocab, shippedVocabDir } from '../../src/mesh/vocab';
import { matcherFor } from '../../src/mesh/lexical';
import { LexicalPrior, learnPrior, matchKind, shippedPrior } from '../../src/mesh/prior';

test('learned prior: counts of found vs indexed, smoothing toward the back-off of the match kind', async () => {
  const v = await loadVocab(shippedVocabDir());
  const m = matcherFor(v);
  const h = (name: string) => ({ name, major: false, qualifiers: [] });
  const docs = [
    { text: 'Heparin after trauma; retrospectively reviewed.', mesh: [h('Heparin'), h('Retrospective Studies')] },
    { text: 'Heparin dosing in dialysis.', mesh: [h('Renal Dialysis')] },
    { text: 'No heading words here at all.', mesh: [h('Humans')] },
    { text: 'A citation without headings mentions heparin.', mesh: [] },
  ];
  const p = learnPrior(docs, v, m, 'test');
  assert.equal(p.docs, 3, 'citations without MeSH are skipped');
  const heparin = v.findByName('Heparin')!.ui;
  const retro = v.findByName('Retrospective Studies')!.ui;
  assert.deepEqual(p.counts[heparin], [2, 1]);
  assert.deepEqual(p.counts[retro], [1, 1]);
  assert.equal(matchKind(v, retro, 1, true), 'cue');
  assert.ok(p.backoff['cue']![0] >= 1);
  const prior = new LexicalPrior(p, 3);
  const kind = matchKind(v, heparin, 1);
  const b = p.backoff[kind]!;
  const p0 = (b[1] + 0.35) / (b[0] + 1);
  assert.ok(Math.abs(prior.p(heparin, kind) - (1 + 3 * p0) / (2 + 3)) < 1e-12);
  assert.ok(Math.abs(prior.p('D999999', kind) - p0) < 1e-12, 'unseen → back-off');
  assert.ok(Math.abs(prior.p(heparin, kind, 0) - 0.5) < 1e-12, 'no smoothing → the raw rate');
  // the shipped table is there and says generic matches are rarely indexed
  const shipped = shippedPrior()!;
  assert.ok(shipped.file.docs > 200);
  const therapeutics = v.findByName('Therapeutics')!.ui;
  assert.ok(shipped.p(therapeutics, matchKind(v, therapeutics, 1)) < 0.1);
});
