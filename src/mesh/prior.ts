// How often a descriptor found in a citation's text is among that citation's MeSH headings, learned from indexed
// citations (shipped: data/mesh/lexical-prior.json, from the MEDLINE citations of the demo corpus that are not in
// the PubMedQA dev set). "Therapeutics" matched by "therapy" is almost never indexed; "Mammography" nearly always.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LexicalMatcher } from './lexical';
import { shippedVocabDir, type MeshVocab } from './vocab';
import * as v from 'valibot';
import { nonNegativeInt, readJson } from '../util/json';

const matchedIndexed = v.tuple([nonNegativeInt, nonNegativeInt]);
export const PriorFileSchema = v.object({
  format: v.literal('biohicl-mesh-prior/1'),
  source: v.string(),
  docs: nonNegativeInt,
  /** ui → [documents where matched, of those where indexed] */
  counts: v.record(v.string(), matchedIndexed),
  /** match kind → [matched, indexed] over rarely seen descriptors (≤ 2 documents) */
  backoff: v.record(v.string(), matchedIndexed),
});
export type PriorFile = v.InferOutput<typeof PriorFileSchema>;

/** Kind of a match for back-off: a cue phrase, or a name/entry term of one or more tokens, shallow (depth ≤ 2) or
 *  deep in the tree. */
export function matchKind(vocab: MeshVocab, ui: string, tokens: number, cue = false): string {
  if (cue) return 'cue';
  const depth = vocab.depth(ui);
  return `${tokens > 1 ? 'multi' : 'single'}-${depth > 0 && depth <= 2 ? 'shallow' : 'deep'}`;
}

export class LexicalPrior {
  constructor(
    readonly file: PriorFile,
    readonly strength = 3,
  ) {}

  /** Smoothed P(indexed | matched): (indexed + a·p0) / (matched + a), p0 from the back-off of the match kind. */
  p(ui: string, kind: string, strength = this.strength): number {
    const b = this.file.backoff[kind] ?? [1, 0.35];
    const p0 = (b[1] + 0.35) / (b[0] + 1);
    const c = this.file.counts[ui];
    if (!c) return p0;
    return (c[1] + strength * p0) / (c[0] + strength);
  }
}

/** Count, over citations with MeSH headings, how often each matched descriptor is indexed. */
export function learnPrior(
  docs: { text: string; mesh: { ui?: string; name: string }[] }[],
  vocab: MeshVocab,
  matcher: LexicalMatcher,
  source: string,
): PriorFile {
  const counts: Record<string, [number, number]> = {};
  const kinds: Record<string, string> = {};
  let n = 0;
  for (const d of docs) {
    if (!d.mesh.length || !d.text.trim()) continue;
    n++;
    const gold = new Set(d.mesh.map((h) => vocab.resolve(h)?.ui).filter((x): x is string => !!x));
    const seen = new Map<string, string>();
    for (const m of matcher.match(d.text)) {
      const k = matchKind(vocab, m.ui, m.tokens, m.cue);
      // a descriptor found by its own words counts as such even if a cue also found it
      if (!seen.has(m.ui) || seen.get(m.ui) === 'cue') seen.set(m.ui, k);
    }
    for (const [ui, kind] of seen) {
      const c = (counts[ui] ??= [0, 0]);
      c[0]++;
      c[1] += gold.has(ui) ? 1 : 0;
      kinds[ui] ??= kind;
    }
  }
  // The back-off stands for descriptors never seen in training: estimate it from the rarely seen ones, which are
  // like them (specific headings), not from the frequent generic ones that dominate the match counts.
  const backoff: Record<string, [number, number]> = {};
  for (const [ui, c] of Object.entries(counts)) {
    if (c[0] > 2) continue;
    const b = (backoff[kinds[ui]!] ??= [0, 0]);
    b[0] += c[0];
    b[1] += c[1];
  }
  return { format: 'biohicl-mesh-prior/1', source, docs: n, counts, backoff };
}

let shipped: LexicalPrior | null | undefined;

/** The shipped prior (undefined when the file is absent). */
export function shippedPrior(): LexicalPrior | undefined {
  if (shipped === undefined) {
    const f = path.join(shippedVocabDir(), 'lexical-prior.json');
    shipped = fs.existsSync(f) ? new LexicalPrior(readJson(f, PriorFileSchema)) : null;
  }
  return shipped ?? undefined;
}
