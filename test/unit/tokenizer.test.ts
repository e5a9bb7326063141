import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WordPieceTokenizer } from '../../src/inference/tokenizer';
import { BGE_TOKENIZER } from '../fixtures/paths';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'tiny-bert');
const BGE = BGE_TOKENIZER;

test('ids match an independent Python WordPiece on real PubMed sentences', () => {
  const ref = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'reference.json'), 'utf8')).tokenizer_reference as {
    sentences: string[];
    input_ids: number[][];
  };
  assert.ok(ref.sentences.length >= 5);
  const tok = WordPieceTokenizer.load(FIXTURE);
  for (let i = 0; i < ref.sentences.length; i++) {
    assert.deepEqual(tok.encode(ref.sentences[i]!), ref.input_ids[i], `sentence ${i}: ${ref.sentences[i]}`);
  }
});

test('hand-checked word pieces: Greek letters, units, hyphenated gene names, accents', () => {
  const tok = WordPieceTokenizer.load(fs.existsSync(BGE) ? BGE : FIXTURE);
  assert.deepEqual(tok.tokens('TNF-α and IL-1β'), [
    '[CLS]',
    'tn',
    '##f',
    '-',
    'α',
    'and',
    'il',
    '-',
    '1',
    '##β',
    '[SEP]',
  ]);
  assert.deepEqual(tok.tokens('2.5 mg/kg, p < 0.05'), [
    '[CLS]',
    '2',
    '.',
    '5',
    'mg',
    '/',
    'kg',
    ',',
    'p',
    '<',
    '0',
    '.',
    '05',
    '[SEP]',
  ]);
  assert.deepEqual(tok.tokens('BRCA1-mutant cells at 37°C, 10 μM'), [
    '[CLS]',
    'br',
    '##ca',
    '##1',
    '-',
    'mutant',
    'cells',
    'at',
    '37',
    '##°',
    '##c',
    ',',
    '10',
    'μ',
    '##m',
    '[SEP]',
  ]);
  assert.deepEqual(tok.tokens('Löwenstein'), tok.tokens('lowenstein'), 'lower case and accents stripped');
});

test('truncation at the model maximum, padding per batch, token types zero', () => {
  const tok = WordPieceTokenizer.load(FIXTURE);
  assert.equal(tok.maxLength, 512);
  const long = tok.encode('cell '.repeat(2000));
  assert.equal(long.length, 512);
  assert.equal(long[0], tok.clsId);
  assert.equal(long[511], tok.sepId);
  const b = tok.batch(['short one', 'a somewhat longer sentence about cytokines']);
  const l0 = tok.encode('short one').length;
  const l1 = tok.encode('a somewhat longer sentence about cytokines').length;
  assert.equal(b.batch, 2);
  assert.equal(b.seqLen, Math.max(l0, l1));
  assert.equal(b.tokens, l0 + l1);
  assert.equal(b.inputIds.length, 2 * b.seqLen);
  assert.ok(b.tokenTypeIds.every((v) => v === 0n));
  for (let j = 0; j < b.seqLen; j++) {
    assert.equal(b.attentionMask[j], j < l0 ? 1n : 0n);
    if (j >= l0) assert.equal(b.inputIds[j], BigInt(tok.padId));
  }
  assert.equal(WordPieceTokenizer.load(FIXTURE, { maxLength: 32 }).encode('cell '.repeat(100)).length, 32);
});

test('a missing tokenizer.json is a clear error naming the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tok-'));
  try {
    assert.throws(
      () => WordPieceTokenizer.load(dir),
      (e: Error) => e.message.includes(path.join(dir, 'tokenizer.json')),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
