import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { splitSentences } from '../../src/inference/sentences';
import { DEMO_PUBMED } from '../fixtures/paths';

const SHARED = DEMO_PUBMED;

test('biomedical abbreviations, numbers and units do not end a sentence', () => {
  const parts = [
    'Tumor necrosis factor (TNF)-α levels were measured, e.g. in serum, i.e. systemically.',
    'Smith et al. reported similar findings (Fig. 2).',
    'Patients vs. controls differed (p < 0.05).',
    'Doses of 2.5 mg were given in the U.S. and Canada.',
    'We found: 1. reduced IL-6; 2. increased IL-10.',
    'Infection with E. coli and S. aureus was common.',
    'Growth was approx. 5-fold higher.',
    'The study began in 2010.',
    'Strain sp. nov. was isolated from mice (BALB.B) in Jan. 2020.',
    'Levels of ca. 10 ng/mL were seen (cf. Table S1).',
    'Is it true?',
  ];
  const text = parts.join(' ');
  const got = splitSentences(text);
  assert.deepEqual(
    got.map((s) => s.text),
    parts,
  );
  for (const s of got) assert.equal(text.slice(s.start, s.end), s.text);
});

test('numbered lists on their own lines and structured-abstract labels', () => {
  const text =
    'BACKGROUND: Sepsis is common.  METHODS: We enrolled 40 patients.\n1. First item here.\n2. Second item here.';
  const got = splitSentences(text);
  assert.deepEqual(
    got.map((s) => [s.label, s.text]),
    [
      ['BACKGROUND', 'Sepsis is common.'],
      ['METHODS', 'We enrolled 40 patients.'],
      [undefined, '1. First item here.'],
      [undefined, '2. Second item here.'],
    ],
  );
  for (const s of got) assert.equal(text.slice(s.start, s.end), s.text);
  assert.deepEqual(splitSentences('   \n '), []);
});

test('hard-wrapped lines stay one sentence; headings, bullets and list items start new ones', () => {
  const text =
    '# Introduction\nColorectal cancer (CRC) is a leading cause of\ncancer death. Early detection improves\nsurvival (Smith et al.,\n2019).\n\n- First bullet item here\n- Second bullet item.\n1. numbered one\n2) numbered two';
  const got = splitSentences(text);
  assert.deepEqual(
    got.map((s) => s.text),
    [
      '# Introduction',
      'Colorectal cancer (CRC) is a leading cause of\ncancer death.',
      'Early detection improves\nsurvival (Smith et al.,\n2019).',
      '- First bullet item here',
      '- Second bullet item.',
      '1. numbered one',
      '2) numbered two',
    ],
  );
  for (const s of got) assert.equal(text.slice(s.start, s.end), s.text);
});

test('real PubMed abstracts: offsets slice the original text and every character is covered once', () => {
  const qa = JSON.parse(fs.readFileSync(path.join(SHARED, 'pubmedqa-pqal-dev.json'), 'utf8')) as Record<
    string,
    { CONTEXTS: string[] }
  >;
  const texts = Object.values(qa)
    .slice(0, 200)
    .map((v) => v.CONTEXTS.join(' '));
  const med = fs.readFileSync(path.join(SHARED, 'mesh-papers.medline.txt'), 'utf8');
  for (const rec of med.split(/\n\s*\n/)) {
    const m = /\nAB {2}- ([\s\S]*?)\n[A-Z]{2,4} *- /.exec(rec);
    if (m) texts.push(m[1]!.replace(/\n {6}/g, ' '));
  }
  assert.ok(texts.length > 300);
  let sentences = 0;
  for (const t of texts) {
    const got = splitSentences(t);
    let last = 0;
    let covered = '';
    for (const s of got) {
      assert.equal(t.slice(s.start, s.end), s.text);
      assert.ok(s.start >= last, 'sentences are in order and do not overlap');
      assert.equal(s.text, s.text.trim());
      last = s.end;
      covered += (s.label ?? '') + s.text;
    }
    // nothing but whitespace and label colons falls between sentences
    assert.equal(covered.replace(/[\s:]/g, ''), t.replace(/[\s:]/g, ''));
    sentences += got.length;
    // no sentence ends on an abbreviation that the rules protect
    for (const s of got) assert.doesNotMatch(s.text, /\b(?:e\.g|i\.e|et al|Fig|vs|approx|cf)\.$/);
  }
  assert.ok(sentences > texts.length * 4, `${sentences} sentences from ${texts.length} abstracts`);
});
