// How well a paper matches a sentence, in terms a writer can read: the share of the sentence's content words (the
// index's own term rules, src/index/search.ts `terms`) that the paper's title and abstract contain, and the
// abstract's best-matching sentence (src/inference/sentences.ts, scored by search.ts `lexicalBest`). Lexical, so it
// means the same with generated and real weights. Pure.
import { splitSentences } from '../inference/sentences';
import { terms, lexicalBest } from '../index/search';

export interface PaperMatch {
  /** share of the sentence's distinct content terms found in the paper's title + abstract, 0–1 */
  strength: number;
  /** the sentence's terms the paper has, and how many the sentence has */
  shared: string[];
  termCount: number;
  /** the abstract's sentence that matches best (with offsets into the abstract) */
  best?: { text: string; start: number; end: number };
}

/** The sentence's distinct content terms. */
export function contentTerms(text: string): Set<string> {
  return new Set(terms(text));
}

export function matchPaper(query: string, paper: { title: string; abstract?: string }): PaperMatch {
  const q = contentTerms(query);
  const have = contentTerms(`${paper.title} ${paper.abstract ?? ''}`);
  const shared = [...q].filter((t) => have.has(t));
  const out: PaperMatch = { strength: q.size ? shared.length / q.size : 0, shared, termCount: q.size };
  const sents = splitSentences(paper.abstract ?? '');
  if (sents.length) {
    const sc = lexicalBest(query, sents);
    let bi = 0;
    for (let i = 1; i < sc.length; i++) if (sc[i]! > sc[bi]!) bi = i;
    if (sc[bi]! > 0) out.best = { text: sents[bi]!.text, start: sents[bi]!.start, end: sents[bi]!.end };
  }
  return out;
}
