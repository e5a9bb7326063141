// MeSH suggestions for a paragraph: lexical matches of names and entry terms, votes of the nearest indexed
// citations' headings, and check-tag cues, combined into one ranked list with a score in [0,1].
// The neighbours are input data (from any search leg), so this module needs no index and no model.
import type { MeshHeading } from '../index/citation';
import { CHECK_TAGS, checkTagCues, isCheckTag, voteFactors, type CheckTag } from './checktags';
import { matcherFor, type LexicalMatcher, type LexicalMatch } from './lexical';
import { meshBrowserUrl, type MeshVocab } from './vocab';
import { matchKind, shippedPrior, type LexicalPrior } from './prior';

/** One neighbour citation as a search returns it (`neighbours()` of src/index/search). */
export interface Neighbour {
  pmid: string;
  rank: number; // 0-based (1-based ranks are accepted too: only the order matters)
  score?: number; // similarity or search score, unused unless weighting = 'score'
  mesh: MeshHeading[]; // UI optional: names are mapped through the vocabulary
}

export interface Span {
  start: number;
  end: number;
  text: string;
  term?: string;
}

export interface Suggestion {
  ui: string;
  name: string;
  score: number; // [0,1]
  group: 'topic' | 'checktag';
  evidence: {
    spans: Span[]; // where the text names it (lexical) or cues it (check tags)
    pmids: string[]; // neighbours that carry it, best first
    lexical: number; // part scores in [0,1]
    neighbours: number;
  };
  breadcrumbs: string[]; // 'Diseases › Infections › … › COVID-19', one per tree position
  entryTerms: string[];
  url: string; // MeSH Browser record
  collapsed?: string[]; // names of the siblings this parent stands for (collapseSiblings)
}

export interface SuggestWeights {
  lexical: number; // weight of the lexical score in the noisy-or
  neighbours: number; // weight of the neighbour vote
  agree: number; // bonus when both legs agree
  minorVote: number; // weight of a non-major heading's vote (a major one counts 1)
  rankDecay: number; // neighbour weight = 1 / (1 + rank)^rankDecay
  scoreSharpness: number; // × exp(s · (score / best score − 1)) when neighbours carry scores (0: rank only)
  priorStrength: number; // pseudo-counts pulling a descriptor's learned P(indexed | found) toward its back-off
  checkText: number; // weight of text cues for check tags
  checkNeighbours: number; // weight of neighbour votes for check tags
}

/** Tuned on half of the PubMedQA dev set (`npm run eval -- mesh --tune`), checked on the other half. */
export const DEFAULT_WEIGHTS: SuggestWeights = {
  lexical: 0.55,
  neighbours: 0.9,
  agree: 0,
  minorVote: 1,
  rankDecay: 0.5,
  scoreSharpness: 0,
  priorStrength: 3,
  checkText: 0.85,
  checkNeighbours: 0.9,
};

export interface SuggestOptions {
  k?: number; // use only the first k neighbours (default: all given)
  cutoff?: number; // minimum score of a topic (default DEFAULT_CUTOFF)
  checkTagCutoff?: number; // minimum score of a check tag (default DEFAULT_CHECK_CUTOFF, or `cutoff` when that is given)
  max?: number; // at most this many suggestions (default 40)
  lexical?: boolean; // default true
  neighbours?: boolean; // default true
  checkTags?: boolean; // suggest check tags at all (default true)
  checkTagCues?: boolean; // read check-tag cues from the text (default: same as `lexical`)
  collapseSiblings?: boolean; // ≥ 3 suggested siblings → their parent (default false)
  weights?: Partial<SuggestWeights>;
  matcher?: LexicalMatcher; // default: matcherFor(vocab)
  matches?: LexicalMatch[]; // precomputed matcher.match(text) (the text changed elsewhere: reuse them)
  prior?: LexicalPrior | false; // how often a matched descriptor is indexed (default: the shipped prior)
}

export const DEFAULT_CUTOFF = 0.25;
export const DEFAULT_CHECK_CUTOFF = 0.2;
/** Cut-offs when no neighbour votes (no index): lexical scores alone are lower (tuned on half A like the rest). */
export const LEXICAL_ONLY_CUTOFF = 0.15;
export const LEXICAL_ONLY_CHECK_CUTOFF = 0.1;
/** Neighbours that vote by default. */
export const DEFAULT_K = 30;

interface Cand {
  ui: string;
  lexical: number;
  vote: number;
  spans: Span[];
  pmids: string[];
  check: boolean;
}

/** Lexical score of a descriptor from its matches: with a prior, P(indexed | matched), raised by repeats and an
 *  early mention; without one, a name match counts more than an entry term. */
function lexicalScore(
  ms: LexicalMatch[],
  textLength: number,
  vocab: MeshVocab,
  prior: LexicalPrior | undefined,
  strength: number,
): number {
  const early = ms[0]!.start < Math.min(250, textLength / 4);
  if (prior) {
    const own = ms.filter((m) => !m.cue);
    const kind = own.length ? matchKind(vocab, ms[0]!.ui, Math.max(...own.map((m) => m.tokens))) : 'cue';
    const p = prior.p(ms[0]!.ui, kind, strength);
    const reps = 1 + 0.5 * Math.min(3, ms.length - 1) + (early ? 0.5 : 0);
    return Math.min(1, 1 - Math.pow(1 - p, reps));
  }
  const pref = ms.some((m) => m.preferred);
  let s = pref ? 0.6 : 0.5;
  s += Math.min(0.3, 0.12 * (ms.length - 1));
  if (early) s += 0.1; // named early (title, first sentence)
  return Math.min(1, s);
}

export function suggestMesh(
  text: string,
  neighbours: Neighbour[],
  vocab: MeshVocab,
  opts: SuggestOptions = {},
): Suggestion[] {
  const w = { ...DEFAULT_WEIGHTS, ...(opts.weights ?? {}) };
  const cands = new Map<string, Cand>();
  const cand = (ui: string): Cand => {
    let c = cands.get(ui);
    if (!c) {
      const d = vocab.get(ui)!;
      cands.set(ui, (c = { ui, lexical: 0, vote: 0, spans: [], pmids: [], check: isCheckTag(d.name) }));
    }
    return c;
  };

  // lexical
  if (opts.lexical !== false) {
    const matches = opts.matches ?? (opts.matcher ?? matcherFor(vocab)).match(text);
    const prior = opts.prior === false ? undefined : (opts.prior ?? shippedPrior());
    const byUi = new Map<string, LexicalMatch[]>();
    for (const m of matches) {
      let l = byUi.get(m.ui);
      if (!l) byUi.set(m.ui, (l = []));
      l.push(m);
    }
    for (const [ui, ms] of byUi) {
      const c = cand(ui);
      if (c.check) continue; // check tags are scored from cues below
      c.lexical = lexicalScore(ms, text.length, vocab, prior, w.priorStrength);
      c.spans = ms.slice(0, 5).map((m) => ({ start: m.start, end: m.end, text: m.text, term: m.term }));
    }
  }

  // neighbour votes
  if (opts.neighbours !== false && neighbours.length) {
    const ns = [...neighbours].sort((a, b) => a.rank - b.rank).slice(0, opts.k ?? neighbours.length);
    let total = 0;
    const votes = new Map<string, { v: number; pmids: string[] }>();
    const top = ns[0]?.score;
    const useScore =
      w.scoreSharpness > 0 &&
      top !== undefined &&
      top > 0 &&
      ns.every((n) => typeof n.score === 'number' && Number.isFinite(n.score));
    ns.forEach((n, i) => {
      let wt = 1 / Math.pow(1 + i, w.rankDecay);
      if (useScore) wt *= Math.exp(w.scoreSharpness * (n.score! / top! - 1));
      total += wt;
      const seen = new Set<string>();
      for (const h of n.mesh) {
        const d = vocab.resolve(h);
        if (!d || seen.has(d.ui)) continue;
        seen.add(d.ui);
        let e = votes.get(d.ui);
        if (!e) votes.set(d.ui, (e = { v: 0, pmids: [] }));
        e.v += wt * (h.major ? 1 : w.minorVote);
        e.pmids.push(n.pmid);
      }
    });
    for (const [ui, e] of votes) {
      const c = cand(ui);
      c.vote = Math.min(1, e.v / total);
      c.pmids = e.pmids;
    }
  }

  // check-tag cues
  if (opts.checkTags !== false && (opts.checkTagCues ?? opts.lexical !== false)) {
    const cues = checkTagCues(text);
    const factors = voteFactors(cues);
    for (const name of CHECK_TAGS) {
      const d = vocab.findByName(name);
      if (!d) continue;
      const cue = cues.get(name);
      const existing = cands.get(d.ui);
      if (existing) existing.vote *= factors.get(name as CheckTag) ?? 1;
      if (!cue) continue;
      const c = cand(d.ui);
      c.lexical = cue.score;
      c.spans = cue.spans;
    }
  }

  const noVotes = opts.neighbours === false || neighbours.length === 0;
  const cutoff = opts.cutoff ?? (noVotes ? LEXICAL_ONLY_CUTOFF : DEFAULT_CUTOFF);
  const checkCutoff =
    opts.checkTagCutoff ?? opts.cutoff ?? (noVotes ? LEXICAL_ONLY_CHECK_CUTOFF : DEFAULT_CHECK_CUTOFF);
  const scored: { c: Cand; score: number }[] = [];
  for (const c of cands.values()) {
    let score: number;
    if (c.check) {
      if (opts.checkTags === false) continue;
      score = 1 - (1 - w.checkText * c.lexical) * (1 - w.checkNeighbours * c.vote);
    } else {
      score = 1 - (1 - w.lexical * c.lexical) * (1 - w.neighbours * c.vote);
      if (c.lexical > 0 && c.vote > 0) score += w.agree * Math.min(c.lexical, 2 * c.vote) * (1 - score);
    }
    score = Math.max(0, Math.min(1, score));
    if (score >= (c.check ? checkCutoff : cutoff)) scored.push({ c, score });
  }
  scored.sort((a, b) => b.score - a.score || a.c.ui.localeCompare(b.c.ui));
  const max = opts.max ?? 40;
  // breadcrumbs and the rest only for what is returned (collapsing needs all of them first)
  const pick = opts.collapseSiblings ? scored : scored.slice(0, max);
  const out = pick.map(({ c, score }) => toSuggestion(vocab, c, score));
  return (opts.collapseSiblings ? collapseSiblings(out, vocab) : out).slice(0, max);
}

function toSuggestion(vocab: MeshVocab, c: Cand, score: number): Suggestion {
  const d = vocab.get(c.ui)!;
  return {
    ui: d.ui,
    name: d.name,
    score,
    group: c.check ? 'checktag' : 'topic',
    evidence: { spans: c.spans, pmids: c.pmids, lexical: c.lexical, neighbours: c.vote },
    breadcrumbs: vocab.breadcrumbStrings(d.ui),
    entryTerms: d.terms,
    url: meshBrowserUrl(d.ui),
  };
}

/** Replace three or more suggested siblings (topics sharing a parent) by that parent, scored as their best. */
export function collapseSiblings(list: Suggestion[], vocab: MeshVocab, min = 3): Suggestion[] {
  const byParent = new Map<string, Suggestion[]>();
  for (const s of list) {
    if (s.group !== 'topic') continue;
    for (const p of vocab.parents(s.ui)) {
      let l = byParent.get(p.ui);
      if (!l) byParent.set(p.ui, (l = []));
      l.push(s);
    }
  }
  const gone = new Set<string>();
  const added: Suggestion[] = [];
  const groups = [...byParent].filter(([, l]) => l.length >= min).sort((a, b) => b[1].length - a[1].length);
  for (const [pui, l] of groups) {
    const kids = l.filter((s) => !gone.has(s.ui));
    if (kids.length < min) continue;
    for (const s of kids) gone.add(s.ui);
    const existing = list.find((s) => s.ui === pui) ?? added.find((s) => s.ui === pui);
    const best = Math.max(...kids.map((s) => s.score));
    const merged: Suggestion =
      existing ?? toSuggestion(vocab, { ui: pui, lexical: 0, vote: 0, spans: [], pmids: [], check: false }, best);
    merged.score = Math.max(merged.score, best);
    merged.collapsed = [...(merged.collapsed ?? []), ...kids.map((s) => s.name)];
    merged.evidence = {
      spans: [...merged.evidence.spans, ...kids.flatMap((s) => s.evidence.spans)].slice(0, 10),
      pmids: [...new Set([...merged.evidence.pmids, ...kids.flatMap((s) => s.evidence.pmids)])],
      lexical: Math.max(merged.evidence.lexical, ...kids.map((s) => s.evidence.lexical)),
      neighbours: Math.max(merged.evidence.neighbours, ...kids.map((s) => s.evidence.neighbours)),
    };
    if (!existing) added.push(merged);
  }
  return [...list.filter((s) => !gone.has(s.ui)), ...added].sort(
    (a, b) => b.score - a.score || a.name.localeCompare(b.name),
  );
}
