// "Similar sentences" for an index whose sentence rows cover only a scope (README "What fits on a laptop": 250 M
// sentence vectors do not fit on a laptop). Outside the scope, the sentences come from the best-matching papers of
// the query: their abstracts (stored in `articles`) are split, the sentences sharing most words with the query are
// kept, embedded now and ranked against the query vector. Every result says where its sentences came from.
// No `vscode` import here.
import type { Embedder } from '../inference/types';
import { splitSentences } from '../inference/sentences';
import type { AbstractSection } from './citation';
import { abstractSentences } from './build';
import { checkModel, lexicalBest, search, similarSentences, type SentenceHit, type SentencesResult } from './search';
import { rowSections, sectionColumns, sentenceScopeOf, sqlIn, type IndexStore, type SentenceScope } from './store';

/** Papers whose abstracts are split per query (the README's measured choice). */
export const ON_DEMAND_PAPERS = 10;
/** Sentences of those abstracts embedded per query: the ones sharing most words with the query. */
export const ON_DEMAND_SENTENCES = 20;

/** Where a result's sentences came from, in words the panel shows. */
export interface SentenceScopeView {
  /** index: the sentence index alone; papers: the best-matching papers' abstracts alone; both. */
  kind: 'index' | 'papers' | 'both';
  /** The index's sentence scope (meta.json). */
  indexScope: SentenceScope;
  /** One line for the panel: "From the sentence index" / "From the 10 best-matching papers' abstracts, …". */
  label: string;
  /** Papers whose abstracts were split (those without sentence rows among the best-matching ones). */
  papers?: number;
  /** Sentences of those abstracts, and how many of them were embedded now. */
  candidates?: number;
  embedded?: number;
  /** Milliseconds: finding the papers, reading + splitting their abstracts, embedding, all of it. */
  ms?: { papers: number; split: number; embed: number; total: number };
}

export interface ScopedSentenceHit extends SentenceHit {
  /** index: a row of the sentence index; abstract: split from the paper's abstract for this query. */
  from: 'index' | 'abstract';
}

export interface ScopedSentencesResult extends Omit<SentencesResult, 'hits'> {
  hits: ScopedSentenceHit[];
  scope: SentenceScopeView;
}

export interface ScopedSentencesOptions {
  k?: number;
  excludePmids?: string[];
  mode?: 'dense' | 'fts';
  /** The query's best-matching papers, best first, when the caller has searched already (else searched here). */
  papers?: string[];
  /** How many best-matching papers to split (default ON_DEMAND_PAPERS). */
  topPapers?: number;
  /** How many of their sentences to embed (default ON_DEMAND_SENTENCES). */
  maxEmbed?: number;
  /** Split the best papers' abstracts even when the index has every sentence (benchmarks: both in one run). */
  forceOnDemand?: boolean;
}

const INDEX_LABEL = 'From the sentence index (every paper’s sentences)';

/**
 * Sentences similar to `text`, from wherever this index has them: the sentence index when it holds every
 * citation's sentences (scope 'all', every index made before the option); otherwise the sentence index for its
 * scope (the writer's library) plus the best-matching papers' abstracts split and embedded now. Dense (cosine with
 * the query vector) with a model of real weights; with generated weights (or no model) both are ranked by shared
 * words and nothing is embedded, and the result says so.
 */
export async function scopedSimilarSentences(
  store: IndexStore,
  embedder: Embedder | undefined,
  text: string,
  opts: ScopedSentencesOptions = {},
): Promise<ScopedSentencesResult> {
  const t0 = performance.now();
  const k = Math.max(1, opts.k ?? 10);
  const indexScope = sentenceScopeOf(store.meta);
  if (indexScope === 'all' && !opts.forceOnDemand) {
    const r = await similarSentences(store, embedder, text, { k, excludePmids: opts.excludePmids, mode: opts.mode });
    return {
      ...r,
      hits: r.hits.map((h) => ({ ...h, from: 'index' as const })),
      scope: { kind: 'index', indexScope, label: INDEX_LABEL },
    };
  }
  const mode: 'dense' | 'fts' = opts.mode ?? (store.identity.generated || !embedder ? 'fts' : 'dense');
  // The query is embedded once for the paper search, the sentence index and the ranking here.
  if (embedder) embedder = onceForQuery(embedder, text);
  if (mode === 'dense' && !embedder) throw new Error('dense sentence search needs a model');
  if (mode === 'dense') checkModel(store, embedder!);
  const nPapers = Math.max(1, opts.topPapers ?? ON_DEMAND_PAPERS);
  const maxEmbed = Math.max(1, opts.maxEmbed ?? ON_DEMAND_SENTENCES);
  const exclude = new Set(opts.excludePmids ?? []);
  // forceOnDemand: as an index without sentences (the benchmark's on-demand leg on an index that has them all).
  const stored: SentenceScope = opts.forceOnDemand ? 'none' : indexScope;

  // The sentence index, for what it covers (the library scope); nothing to search in an index without sentences.
  const indexedP: Promise<SentencesResult | undefined> =
    stored !== 'none' && (await store.sentences.countRows()) > 0
      ? similarSentences(store, embedder, text, { k, excludePmids: opts.excludePmids, mode })
      : Promise.resolve(undefined);

  // The best-matching papers (the caller's, or a search of our own: hybrid, full-text while weights are generated).
  const tp = performance.now();
  let papers = opts.papers;
  if (!papers) {
    const r = await search(store, embedder, text, {
      k: nPapers,
      mode: mode === 'dense' && embedder ? 'hybrid' : 'fts',
      excludePmids: opts.excludePmids,
      noWhy: true,
    });
    papers = r.hits.map((h) => h.pmid);
  }
  papers = papers.filter((p) => !exclude.has(p)).slice(0, nPapers);
  const msPapers = performance.now() - tp;

  // Those of them with sentence rows are the index's to answer; the others' abstracts are split now.
  const ts = performance.now();
  const covered = new Set<string>();
  if (stored !== 'none' && papers.length)
    for (const r of await store.sentences.query().where(sqlIn('pmid', papers)).select(['pmid']).toArray())
      covered.add(String(r.pmid));
  const todo = papers.filter((p) => !covered.has(p));
  const cands = todo.length ? await abstractCandidates(store, todo) : [];
  // The sentences sharing most words with the query (idf over the candidates), ties by paper rank, then order.
  const lex = lexicalBest(text, cands);
  const order = cands
    .map((c, i) => ({ c, s: lex[i]! }))
    .filter((x) => mode === 'dense' || x.s > 0)
    .sort((a, b) => b.s - a.s || a.c.paperRank - b.c.paperRank || a.c.idx - b.c.idx)
    .slice(0, maxEmbed);
  const msSplit = performance.now() - ts;

  const te = performance.now();
  let scored: { c: Candidate; score: number }[];
  if (mode === 'dense' && order.length) {
    const [[qv], vecs] = await Promise.all([
      embedder!.embed([text], 'query'),
      embedder!.embed(
        order.map((x) => x.c.text),
        'passage',
      ),
    ]);
    scored = order.map((x, i) => ({ c: x.c, score: dot(qv!, vecs[i]!) }));
  } else scored = order.map((x) => ({ c: x.c, score: x.s }));
  const msEmbed = performance.now() - te;

  const indexed = await indexedP;
  const fromIndex: ScopedSentenceHit[] = (indexed?.hits ?? []).map((h) => ({ ...h, from: 'index' as const }));
  const fromAbstracts: ScopedSentenceHit[] = scored.map(({ c, score }) => ({
    pmid: c.pmid,
    idx: c.idx,
    start: c.start,
    end: c.end,
    text: c.text,
    score,
    rank: 0,
    title: c.title,
    year: c.year,
    journal: c.journal,
    from: 'abstract' as const,
  }));
  // Full-text scores of the index (BM25) and shared-word scores are not on one scale: rank both by shared words.
  if (mode === 'fts' && fromIndex.length && fromAbstracts.length) {
    const all = [...fromIndex, ...fromAbstracts];
    const s = lexicalBest(text, all);
    all.forEach((h, i) => {
      h.score = s[i]!;
    });
  }
  const seen = new Set<string>();
  const hits = [...fromIndex, ...fromAbstracts]
    .sort((a, b) => b.score - a.score || (a.from === b.from ? 0 : a.from === 'index' ? -1 : 1))
    .filter((h) => {
      const key = `${h.pmid}\u0000${h.idx}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, k);
  hits.forEach((h, i) => {
    h.rank = i + 1;
  });

  const kind: SentenceScopeView['kind'] = fromIndex.length && !todo.length ? 'index' : indexed ? 'both' : 'papers';
  const n = todo.length;
  const abstractsPart =
    mode === 'dense'
      ? `the ${n} best-matching paper${n === 1 ? '’s abstract' : 's’ abstracts'} (${scored.length} sentence${scored.length === 1 ? '' : 's'} embedded now)`
      : `the ${n} best-matching paper${n === 1 ? '’s abstract' : 's’ abstracts'} (ranked by shared words; nothing embedded)`;
  const label =
    kind === 'index'
      ? 'From the sentence index of your library'
      : kind === 'both'
        ? `From the sentence index of your library and ${abstractsPart}`
        : `From ${abstractsPart}: this index stores no sentence vectors`;
  const note =
    mode === 'fts' && store.identity.generated && !opts.mode
      ? "The model's weights are GENERATED (random): similar sentences are ranked by the words they share with your text instead of embeddings."
      : indexed?.note;
  return {
    hits,
    mode,
    note,
    ms: performance.now() - t0,
    scope: {
      kind,
      indexScope,
      label,
      papers: n,
      candidates: cands.length,
      embedded: mode === 'dense' ? scored.length : 0,
      ms: { papers: msPapers, split: msSplit, embed: msEmbed, total: performance.now() - t0 },
    },
  };
}

interface Candidate {
  pmid: string;
  paperRank: number;
  idx: number;
  start: number;
  end: number;
  text: string;
  title?: string;
  year?: number;
  journal?: string;
}

/** The sentences of these papers' abstracts, split as the build splits them (offsets into the stored abstract). */
export async function abstractCandidates(store: IndexStore, pmids: string[]): Promise<Candidate[]> {
  const rows = await store.articles
    .query()
    .where(sqlIn('pmid', pmids))
    .select([...new Set(['pmid', 'title', 'year', 'journal', ...(await sectionColumns(store))])])
    .toArray();
  const by = new Map(rows.map((r: Record<string, unknown>) => [String(r.pmid), r]));
  const out: Candidate[] = [];
  pmids.forEach((pmid, rank) => {
    const r = by.get(pmid);
    if (!r) return;
    const sections: AbstractSection[] = rowSections(r);
    abstractSentences({ abstract: sections } as Parameters<typeof abstractSentences>[0], splitSentences).forEach(
      (s, idx) =>
        out.push({
          pmid,
          paperRank: rank,
          idx,
          start: s.start,
          end: s.end,
          text: s.text,
          title: String(r.title ?? ''),
          year: r.year == null ? undefined : Number(r.year),
          journal: String(r.journal ?? ''),
        }),
    );
  });
  return out;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * The best sentence of each hit that has none (its citation has no sentence rows: outside the index's sentence
 * scope): its abstract split now, the sentence sharing most words with the query. Offsets into the stored abstract,
 * as the sentence index gives them.
 */
export async function fillBestSentences(
  store: IndexStore,
  hits: {
    pmid: string;
    why: { bestSentence?: { text: string; start: number; end: number; idx: number; score: number } };
  }[],
  text: string,
): Promise<number> {
  const need = hits.filter((h) => !h.why.bestSentence).map((h) => h.pmid);
  if (!need.length) return 0;
  const cands = await abstractCandidates(store, need);
  const scores = lexicalBest(text, cands);
  const best = new Map<string, { c: Candidate; s: number }>();
  cands.forEach((c, i) => {
    const b = best.get(c.pmid);
    if (!b || scores[i]! > b.s) best.set(c.pmid, { c, s: scores[i]! });
  });
  let n = 0;
  for (const h of hits) {
    const b = best.get(h.pmid);
    if (h.why.bestSentence || !b) continue;
    h.why.bestSentence = { text: b.c.text, start: b.c.start, end: b.c.end, idx: b.c.idx, score: b.s };
    n++;
  }
  return n;
}

/** `embedder`, with the query vector of `text` computed once however often it is asked for. */
function onceForQuery(embedder: Embedder, text: string): Embedder {
  let q: Promise<Float32Array[]> | undefined;
  return {
    get identity() {
      return embedder.identity;
    },
    get report() {
      return embedder.report;
    },
    embed: (texts, kind, onProgress) => {
      if (kind !== 'query' || texts.length !== 1 || texts[0] !== text) return embedder.embed(texts, kind, onProgress);
      q ??= embedder.embed(texts, kind, onProgress);
      return q;
    },
    dispose: () => embedder.dispose(),
  };
}
