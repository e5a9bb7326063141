// "Check citations": the sentences of a manuscript that state a finding, cite nothing and strongly match papers in
// the index (uncited claims, each with the papers that match), and the citations whose paper matches its sentence
// weakly or ranks far below better-matching papers ("is this the right citation?"). The search is passed in (the
// engine's query in the editor, the index's search in the CLI and the eval), so nothing here opens anything.
import type { DocKind } from '../cite/detect';
import type { PaperMeta } from '../cite/paper';
import { segment, type CheckSentence, type CiteRef } from './segment';
import { claimVerdict, type ClaimVerdict } from './claims';
import { contentTerms, matchPaper, type PaperMatch } from './score';

/** A paper the search returned, with its abstract (what the match is measured on). */
export type Candidate = PaperMeta & { abstract: string };
/** The index's search for a sentence: the k best papers, best first. */
export type Searcher = (query: string, k: number) => Promise<Candidate[]>;

export const CHECK_DEFAULTS = {
  /** least share of a sentence's content terms the best paper must have for the sentence to be flagged */
  threshold: 0.5,
  /** most flags per document (the strongest are kept) */
  maxFlags: 10,
  /** papers asked of the search per sentence */
  k: 10,
  /** sentences with fewer content terms are not searched (too little to match on) */
  minTerms: 5,
  /** a citation is weak below this strength */
  weakBelow: 0.1,
  /** … or when it ranks below this (or not at all) while better-matching papers are above it */
  farRank: 5,
  /** a better-matching paper has at least this much more strength than the cited one */
  margin: 0.15,
};

export interface CheckOptions {
  threshold?: number;
  maxFlags?: number;
  k?: number;
  minTerms?: number;
  /** flag only sentences that state a finding (default true; the eval also measures without it) */
  claimsOnly?: boolean;
  /** resolve a citation key to its paper in the index, to check the document's citations too */
  resolveKey?: (key: string) => Promise<Candidate | undefined>;
  weakBelow?: number;
  farRank?: number;
  margin?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface ScoredPaper {
  paper: Candidate;
  /** 1-based rank in the search for the sentence */
  rank: number;
  match: PaperMatch;
}

/** A sentence that was searched: how strongly its best paper matches. */
export interface Assessed {
  sentence: CheckSentence;
  verdict: ClaimVerdict;
  /** strength of the best-matching paper (0 when none) */
  strength: number;
  /** the papers, strongest first */
  papers: ScoredPaper[];
}

export interface UncitedClaim {
  start: number;
  end: number;
  text: string;
  strength: number;
  cues: string[];
  /** the papers at or above the threshold, strongest first (at most 3) */
  papers: ScoredPaper[];
}

export interface CitationSupport {
  key: string;
  cited: Candidate;
  match: PaperMatch;
  /** rank of the cited paper in the search for its sentence; undefined: not among the k */
  rank?: number;
  k: number;
  /** papers that match the sentence clearly better and rank above the cited one (at most 3) */
  better: ScoredPaper[];
  weak: boolean;
  /** one line for the writer */
  summary: string;
}

export interface WeakCitation {
  cite: CiteRef;
  sentence: CheckSentence;
  support: CitationSupport;
}

export interface CheckReport {
  flags: UncitedClaim[];
  weak: WeakCitation[];
  /** every searched sentence (the eval sweeps the threshold over these) */
  assessed: Assessed[];
  counts: {
    sentences: number;
    skippedRegions: Record<string, number>;
    citing: number;
    claims: number;
    searched: number;
    aboveThreshold: number;
    /** flags left out by the cap */
    capped: number;
    citationsChecked: number;
  };
}

const pct = (x: number): string => `${Math.round(x * 100)} %`;

/** The papers of a search, each with its match to the sentence, strongest first (ties: search rank). */
export function scorePapers(query: string, hits: Candidate[]): ScoredPaper[] {
  return hits
    .map((paper, i) => ({ paper, rank: i + 1, match: matchPaper(query, paper) }))
    .sort((a, b) => b.match.strength - a.match.strength || a.rank - b.rank);
}

/** The flags at a threshold and cap, in text order: the strongest `maxFlags` of the sentences at or above it. */
export function selectFlags(assessed: Assessed[], threshold: number, maxFlags: number): UncitedClaim[] {
  const above = assessed.filter((a) => a.strength >= threshold && a.sentence.cites.length === 0);
  const kept = maxFlags > 0 ? [...above].sort((a, b) => b.strength - a.strength).slice(0, maxFlags) : above;
  return kept
    .sort((a, b) => a.sentence.start - b.sentence.start)
    .map((a) => ({
      start: a.sentence.start,
      end: a.sentence.end,
      text: a.sentence.text,
      strength: a.strength,
      cues: a.verdict.cues,
      papers: a.papers.filter((p) => p.match.strength >= threshold).slice(0, 3),
    }));
}

/** How well a cited paper supports its sentence, against what the index offers for that sentence. */
export function citationSupport(
  key: string,
  query: string,
  cited: Candidate,
  hits: Candidate[],
  o: Pick<CheckOptions, 'weakBelow' | 'farRank' | 'margin' | 'k'> = {},
): CitationSupport {
  const weakBelow = o.weakBelow ?? CHECK_DEFAULTS.weakBelow;
  const farRank = o.farRank ?? CHECK_DEFAULTS.farRank;
  const margin = o.margin ?? CHECK_DEFAULTS.margin;
  const match = matchPaper(query, cited);
  const idx = hits.findIndex((h) => h.pmid === cited.pmid);
  const rank = idx >= 0 ? idx + 1 : undefined;
  const better = scorePapers(query, hits)
    .filter((s) => s.paper.pmid !== cited.pmid && (rank === undefined || s.rank < rank))
    .filter((s) => s.match.strength >= match.strength + margin)
    .slice(0, 3);
  const far = rank === undefined || rank > farRank;
  const weak = match.strength < weakBelow || (far && better.length > 0);
  const where = rank ? `rank ${rank} of ${hits.length}` : `not among the ${hits.length} best`;
  const summary =
    `${key}: the abstract has ${pct(match.strength)} of this sentence's terms (${where} for it)` +
    (better.length
      ? `; better-matching: ${better.map((b) => `${shortRef(b.paper)} (${pct(b.match.strength)})`).join('; ')}`
      : '');
  return { key, cited, match, rank, k: o.k ?? hits.length, better, weak, summary };
}

/** "Smith et al. 2020, Title…" for messages (the title cut at `max` characters). */
export function shortRef(p: Pick<PaperMeta, 'authors' | 'year' | 'title'>, max = 60): string {
  const first = (p.authors[0] ?? '').split(/\s+/)[0] ?? '';
  const title = p.title.length > max ? `${p.title.slice(0, max - 3).trimEnd()}…` : p.title;
  return `${first}${p.authors.length > 1 ? ' et al.' : ''}${p.year ? ` ${p.year}` : ''}${first || p.year ? ', ' : ''}${title}`;
}

/** Check a document: uncited claims (capped) and, when keys can be resolved, weak citations. */
export async function checkDocument(
  text: string,
  kind: DocKind,
  searcher: Searcher,
  o: CheckOptions = {},
): Promise<CheckReport> {
  const threshold = o.threshold ?? CHECK_DEFAULTS.threshold;
  const maxFlags = o.maxFlags ?? CHECK_DEFAULTS.maxFlags;
  const k = o.k ?? CHECK_DEFAULTS.k;
  const minTerms = o.minTerms ?? CHECK_DEFAULTS.minTerms;
  const seg = segment(text, kind);
  const skippedRegions: Record<string, number> = {};
  for (const r of seg.skipped) skippedRegions[r.reason] = (skippedRegions[r.reason] ?? 0) + 1;
  const memo = new Map<string, Promise<Candidate[]>>();
  const find = (q: string): Promise<Candidate[]> => {
    let p = memo.get(q);
    if (!p) memo.set(q, (p = searcher(q, k)));
    return p;
  };
  const verdicts = seg.sentences.map((s) => claimVerdict(s.query));
  const todo = seg.sentences
    .map((s, i) => ({ s, v: verdicts[i]! }))
    .filter(({ s, v }) => s.cites.length === 0 && (o.claimsOnly === false || v.claim))
    .filter(({ s }) => contentTerms(s.query).size >= minTerms);
  const citing = seg.sentences.filter((s) => s.cites.length);
  const total = todo.length + (o.resolveKey ? citing.length : 0);
  let done = 0;
  const assessed: Assessed[] = [];
  for (const { s, v } of todo) {
    if (o.signal?.aborted) throw Object.assign(new Error('check cancelled'), { name: 'AbortError' });
    const papers = scorePapers(s.query, await find(s.query));
    assessed.push({ sentence: s, verdict: v, strength: papers[0]?.match.strength ?? 0, papers });
    o.onProgress?.(++done, total);
  }
  const weak: WeakCitation[] = [];
  let citationsChecked = 0;
  if (o.resolveKey) {
    for (const s of citing) {
      if (o.signal?.aborted) throw Object.assign(new Error('check cancelled'), { name: 'AbortError' });
      for (const c of s.cites)
        for (const key of c.keys) {
          const cited = await o.resolveKey(key);
          if (!cited || !s.query) continue;
          citationsChecked++;
          const sup = citationSupport(key, s.query, cited, await find(s.query), o);
          if (sup.weak) weak.push({ cite: c, sentence: s, support: sup });
        }
      o.onProgress?.(++done, total);
    }
  }
  const flags = selectFlags(assessed, threshold, maxFlags);
  const aboveThreshold = assessed.filter((a) => a.strength >= threshold).length;
  return {
    flags,
    weak,
    assessed,
    counts: {
      sentences: seg.sentences.length,
      skippedRegions,
      citing: citing.length,
      claims: verdicts.filter((v) => v.claim).length,
      searched: assessed.length,
      aboveThreshold,
      capped: aboveThreshold - flags.length,
      citationsChecked,
    },
  };
}
