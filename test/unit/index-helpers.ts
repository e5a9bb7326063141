// Helpers for the index tests: a deterministic bag-of-words embedder computed in the test (hashed term counts,
// L2-normalised: texts that share terms get high cosine), a JSON-lines citation reader, and citation fixtures.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Embedder, EmbedProgress, ModelIdentity, TextKind } from '../../src/inference/types';
import type { Citation, ReaderEvent } from '../../src/index/citation';
import { splitSentences } from '../../src/inference/sentences';
import type { BuildDeps } from '../../src/index/build';

export const DIM = 64;

export function testIdentity(over: Partial<ModelIdentity> = {}): ModelIdentity {
  return {
    repo: 'test:bow',
    revision: '1',
    manifestHash: 'abc123',
    dim: DIM,
    pooling: 'cls',
    queryPrefix: false,
    generated: false,
    ...over,
  };
}

function termIndex(t: string): number {
  return crypto.createHash('md5').update(t).digest().readUInt32LE(0) % DIM;
}

export function bowVector(text: string): Float32Array {
  const v = new Float32Array(DIM);
  for (const t of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) if (t.length > 2) v[termIndex(t)] += 1;
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < DIM; i++) v[i] /= n;
  if (n === 1 && v.every((x) => x === 0)) v[0] = 1;
  return v;
}

export class BowEmbedder implements Embedder {
  calls = 0;
  texts = 0;
  constructor(
    readonly identity: ModelIdentity = testIdentity(),
    private readonly delayMs = 0,
  ) {}
  readonly report = {
    provider: 'test',
    requested: 'cpu' as const,
    ortVersion: '-',
    threads: 1,
    modelFile: '-',
    precision: 'fp32' as const,
  };
  async embed(texts: string[], _kind: TextKind, onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
    this.calls++;
    this.texts += texts.length;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const out = texts.map(bowVector);
    onProgress?.({ done: texts.length, total: texts.length, tokens: texts.join(' ').split(/\s+/).length });
    return out;
  }
  async dispose(): Promise<void> {
    /* nothing */
  }
}

/** Reader over a JSON-lines file of ReaderEvents (test input format). */
export async function* readJsonl(file: string): AsyncGenerator<ReaderEvent> {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (const l of lines) if (l.trim()) yield JSON.parse(l) as ReaderEvent;
}

export const deps: BuildDeps = { read: readJsonl, split: splitSentences };

export function tmpDir(prefix = 'biohicl-idx-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const TOPICS = [
  ['insulin', 'glucose', 'diabetes', 'pancreatic', 'beta cells', 'glycemic control'],
  ['tumor', 'carcinoma', 'chemotherapy', 'metastasis', 'oncology', 'survival'],
  ['influenza', 'vaccine', 'antibody', 'immunization', 'virus', 'hemagglutinin'],
  ['cardiac', 'myocardial', 'infarction', 'arrhythmia', 'ventricular', 'troponin'],
  ['neuron', 'synaptic', 'hippocampus', 'memory', 'dopamine', 'cortex'],
];

export function makeCitation(i: number, over: Partial<Citation> = {}): Citation {
  const t = TOPICS[i % TOPICS.length];
  const w = (j: number): string => t[(i + j) % t.length];
  return {
    pmid: String(10000 + i),
    title: `Study ${i} of ${w(0)} and ${w(1)}`,
    abstract: [
      {
        label: 'BACKGROUND',
        text: `We examined ${w(2)} in ${w(3)} patients (n = ${i + 10}). The role of ${w(4)} is unclear, e.g. in older adults.`,
      },
      {
        label: 'RESULTS',
        text: `Levels of ${w(5)} rose by ${i % 7}.5 mg in ${w(0)} cases vs. controls (p < 0.05). Fig. 2 shows ${w(1)}.`,
      },
    ],
    authors: [`Author${i} A`, 'Smith JA'],
    journal: i % 2 ? 'J Test Med' : 'Test Biol',
    year: 1990 + (i % 30),
    doi: `10.1000/test.${i}`,
    publicationTypes: i % 3 === 0 ? ['Journal Article', 'Review'] : ['Journal Article'],
    language: 'eng',
    mesh: [{ ui: `D00${1000 + (i % TOPICS.length)}`, name: `Topic ${i % TOPICS.length}`, major: true, qualifiers: [] }],
    source: 'test',
    ...over,
  };
}

export function writeJsonl(file: string, events: ReaderEvent[]): void {
  fs.writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
}
