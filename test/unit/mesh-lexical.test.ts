import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVocab, shippedVocabDir } from '../../src/mesh/vocab';
import { matcherFor, normToken, tokenize, uninvert } from '../../src/mesh/lexical';

test('token normaliser: plural, British/American spelling, diacritics', () => {
  for (const [a, b] of [
    ['Tumours', 'tumor'],
    ['haemorrhage', 'hemorrhage'],
    ['oesophagus', 'esophagus'],
    ['randomised', 'randomized'],
    ['centre', 'center'],
    ['therapies', 'therapy'],
    ['viruses', 'virus'],
    ['women', 'woman'],
    ['Sjögren', 'sjogren'],
    ['labelled', 'labeled'],
    ['paediatric', 'pediatric'],
  ] as const) {
    assert.equal(normToken(a), normToken(b), `${a} ~ ${b}`);
  }
  assert.notEqual(normToken('analysis'), normToken('analyse'));
  assert.equal(normToken('status'), 'status');
  assert.equal(normToken('diagnoses'), normToken('diagnosis'));
  assert.equal(uninvert('Carcinoma, Non-Small-Cell Lung'), 'Non-Small-Cell Lung Carcinoma');
  assert.equal(uninvert('Outcome Assessment (Health Care)'), undefined);
  const toks = tokenize("Sjögren's syndrome, COVID-19");
  assert.deepEqual(
    toks.map((t) => t.raw),
    ['Sjögren', 'syndrome', 'COVID', '19'],
  );
  assert.equal(toks[2]!.start, "Sjögren's syndrome, ".length);
});

test('matcher: names and entry terms on token boundaries, longest match, spans, variants', async () => {
  const v = await loadVocab(shippedVocabDir());
  const m = matcherFor(v);
  const text =
    'Tumours of the oesophagus in women with type 2 diabetes: a randomised controlled trial of anti-bacterial agents. ' +
    'Patients with non-small-cell lung carcinoma and AIDS had CT; haemorrhage was rare. Antibacterial agents again.';
  const found = m.match(text);
  const names = (s: string) => found.filter((x) => x.text === s).map((x) => v.get(x.ui)!.name);
  assert.deepEqual(names('Tumours'), ['Neoplasms']);
  assert.deepEqual(names('oesophagus'), ['Esophagus']);
  assert.deepEqual(names('type 2 diabetes'), ['Diabetes Mellitus, Type 2']);
  assert.deepEqual(names('randomised controlled trial'), ['Randomized Controlled Trial']);
  assert.deepEqual(names('anti-bacterial agents'), ['Anti-Bacterial Agents']);
  assert.deepEqual(names('Antibacterial agents'), ['Anti-Bacterial Agents'], 'hyphenated term written as one word');
  // longest match wins: the whole phrase, not 'Lung' or 'Carcinoma'
  assert.deepEqual(names('non-small-cell lung carcinoma'), ['Carcinoma, Non-Small-Cell Lung']);
  assert.ok(!found.some((x) => x.text === 'lung' || x.text === 'carcinoma'));
  assert.deepEqual(names('AIDS'), ['Acquired Immunodeficiency Syndrome']);
  assert.deepEqual(names('haemorrhage'), ['Hemorrhage']);
  for (const f of found) assert.equal(text.slice(f.start, f.end), f.text);
  // acronyms are matched in capitals only; common words are not entry terms on their own
  assert.ok(
    !m.match('they need aids for walking').some((x) => v.get(x.ui)!.name === 'Acquired Immunodeficiency Syndrome'),
  );
  assert.ok(!m.match('at the same time, man and his role').some((x) => ['Humans', 'Time'].includes(v.get(x.ui)!.name)));
  // no partial-token matches
  assert.ok(!m.match('Esophagusectomy').some((x) => v.get(x.ui)!.name === 'Esophagus'));
});
