// Searching the index: dense (cosine over the model's vectors), full-text (LanceDB BM25) and hybrid (reciprocal-rank
// fusion). Every hit says why it matched. No `vscode` import here.
import type { Embedder } from '../inference/types';
import type { MeshHeading } from './citation';
import {
  ARTICLES,
  SENTENCES,
  ModelMismatchError,
  sameModel,
  sqlIn,
  sqlString,
  toArticleInfo,
  toFloat32,
  type ArticleInfo,
  type IndexStore,
} from './store';
import { FTS_MAX_TERMS, distinctTerms, pickTerms, termSample } from './query-terms';
import { terms } from './terms';

export type SearchMode = 'dense' | 'fts' | 'hybrid';

export interface SearchFilters {
  yearFrom?: number;
  yearTo?: number;
  publicationTypes?: string[]; // any of
  hasAbstract?: boolean;
}

export interface SearchOptions {
  k?: number; // default 10
  mode?: SearchMode; // default 'hybrid'
  filters?: SearchFilters;
  excludePmids?: string[];
  /** RRF constant (default 60). */
  rrfK?: number;
  /** Weight of the dense leg in hybrid (default 1; forced to 0 while the model's weights are generated). */
  denseWeight?: number;
  /** Candidates taken from each leg before fusion (default max(50, 5k)). */
  candidates?: number;
  /** Skip the best-sentence lookup (benchmarks, MeSH voting). */
  noWhy?: boolean;
  /** Distinct terms the full-text leg keeps, the rarest in the index (default FTS_MAX_TERMS; 0: all of them). */
  ftsMaxTerms?: number;
}

export interface BestSentence {
  text: string;
  start: number;
  end: number;
  idx: number;
  score: number;
}

/** A search result: the article's stored metadata (less its abstract text) plus its score and why it matched. */
export interface SearchHit extends Omit<ArticleInfo, 'abstract' | 'hasAbstract'> {
  score: number;
  /** In the writer's own bibliography (indexed from it): the key there and the file. */
  library?: { key?: string; source: string };
  rank: number; // 1-based
  why: {
    bestSentence?: BestSentence; // offsets into the article's abstract text
    denseScore?: number; // cosine similarity
    denseRank?: number;
    ftsScore?: number; // BM25
    ftsRank?: number;
  };
}

export interface SearchResult {
  hits: SearchHit[];
  mode: SearchMode;
  /** Set when the answer was changed to stay meaningful (e.g. generated weights). */
  note?: string;
  denseWeight: number;
  generated: boolean;
  ms: { embed: number; dense: number; fts: number; total: number };
}

export const GENERATED_NOTE =
  "The model's weights are GENERATED (random, for timing only): dense similarity carries no meaning, so the dense leg has weight 0 and the ranking is the full-text ranking.";

function buildWhere(filters: SearchFilters | undefined, excludePmids: string[] | undefined): string | undefined {
  const parts: string[] = [];
  if (filters?.yearFrom != null) parts.push(`year >= ${Math.trunc(filters.yearFrom)}`);
  if (filters?.yearTo != null) parts.push(`year <= ${Math.trunc(filters.yearTo)}`);
  if (filters?.publicationTypes?.length)
    parts.push(`array_has_any(publication_types, [${filters.publicationTypes.map(sqlString).join(', ')}])`);
  if (filters?.hasAbstract != null) parts.push(`has_abstract = ${filters.hasAbstract ? 'true' : 'false'}`);
  if (excludePmids?.length) parts.push(`NOT (${sqlIn('pmid', excludePmids)})`);
  return parts.length ? parts.join(' AND ') : undefined;
}

/** LanceDB's FTS parser treats some characters as syntax; a writer's paragraph must be plain terms. */
export function ftsQueryText(text: string): string {
  return text.replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/**
 * The full-text query for a writer's text: its plain terms, and for a long text (a selected paragraph) only its
 * `maxTerms` rarest distinct terms in the index (src/index/query-terms.ts; 0 keeps them all).
 */
export async function ftsQuery(store: IndexStore, text: string, maxTerms = FTS_MAX_TERMS): Promise<string> {
  const qt = ftsQueryText(text);
  if (!qt || !(maxTerms > 0) || distinctTerms(qt) <= maxTerms) return qt;
  const sample = await termSample(store.articles);
  return pickTerms(qt, maxTerms, (k) => sample.df.get(k) ?? 0)?.join(' ') ?? qt;
}

/** What a hit shows (the abstract itself is not needed: the best sentence comes from the sentences table). */
const INFO_COLS_V1 = ['pmid', 'title', 'authors', 'journal', 'year', 'doi', 'pmcid', 'publication_types', 'mesh'];
const INFO_COLS_V2 = [...INFO_COLS_V1, 'month', 'volume', 'issue', 'pages', 'issn'];
/** Hit metadata columns: format-2 indexes also have the bibliographic details (older ones get them on the next write). */
async function infoCols(store: IndexStore): Promise<string[]> {
  return (await store.hasColumn('articles', 'volume')) ? INFO_COLS_V2 : INFO_COLS_V1;
}

interface LegHit {
  pmid: string;
  score: number;
  row: Record<string, unknown>;
  rowId?: bigint;
}

/**
 * The refine factor for a dense query of `limit` rows. The index's refine factor is chosen (and its recall@10
 * measured) for 10 rows: the ANN stage hands the 10 × refineFactor nearest codes to the exact re-ranking. A longer
 * candidate list for fusion keeps about that number of exactly re-ranked vectors (never fewer, and a factor of at
 * least 2): those candidates are a superset of the measured ones, so its top 10 is at least as good as the measured
 * top 10, and the cost (reading full vectors) does not grow fivefold.
 */
export function refineFor(limit: number, refineFactor: number): number {
  return limit <= 10 ? refineFactor : Math.max(2, Math.ceil((refineFactor * 10) / limit));
}

/** Dense leg on a table: cosine, exact (flat) below the ANN threshold, IVF_RQ + refine above it. */
export async function denseLeg(
  store: IndexStore,
  table: 'articles' | 'sentences',
  vec: Float32Array,
  limit: number,
  where: string | undefined,
  cols: string[],
  withRowId = false,
): Promise<LegHit[]> {
  const t = table === ARTICLES ? store.articles : store.sentences;
  let q = t
    .query()
    .nearestTo(vec)
    .distanceType('cosine')
    .select([...cols, '_distance'])
    .limit(limit);
  const ann = store.annParams(table);
  if (ann) q = q.nprobes(ann.nprobes).refineFactor(refineFor(limit, ann.refineFactor));
  if (where) q = q.where(where);
  if (withRowId) q = q.withRowId();
  const rows = await q.toArray();
  return rows.map((r: Record<string, unknown>) => ({
    pmid: String(r.pmid),
    score: 1 - Number(r._distance),
    row: r,
    rowId: r._rowid as bigint | undefined,
  }));
}

export async function ftsLeg(
  store: IndexStore,
  table: 'articles' | 'sentences',
  text: string,
  limit: number,
  where: string | undefined,
  cols: string[],
  withRowId = false,
  maxTerms = FTS_MAX_TERMS,
): Promise<LegHit[]> {
  const qt = await ftsQuery(store, text, maxTerms);
  if (!qt) return [];
  const t = table === ARTICLES ? store.articles : store.sentences;
  let q = t
    .query()
    .fullTextSearch(qt, { columns: ['text'] })
    .select([...cols, '_score'])
    .limit(limit);
  if (where) q = q.where(where);
  if (withRowId) q = q.withRowId();
  const rows = await q.toArray();
  // BM25 ties come back in no fixed order: break them by PMID so that every mode ranks alike.
  return rows
    .map((r: Record<string, unknown>) => ({
      pmid: String(r.pmid),
      score: Number(r._score),
      row: r,
      rowId: r._rowid as bigint | undefined,
    }))
    .sort((a: LegHit, b: LegHit) => b.score - a.score || (a.pmid < b.pmid ? -1 : a.pmid > b.pmid ? 1 : 0));
}

/**
 * Load what a first query reads (the full-text indexes of both tables, the vector index's first pages, the term sample
 * long queries are cut with), so that the first query after opening the index does not pay for it.
 */
export async function warmSearch(store: IndexStore): Promise<void> {
  const unit = new Float32Array(store.identity.dim);
  unit[0] = 1;
  // a table without its index yet (a build in progress) is simply not warmed
  const quiet = (p: Promise<unknown>): Promise<unknown> => p.catch(() => undefined);
  await Promise.all([
    quiet(ftsLeg(store, ARTICLES, 'study', 1, undefined, ['pmid'])),
    quiet(ftsLeg(store, SENTENCES, 'study', 1, undefined, ['pmid'])),
    quiet(denseLeg(store, ARTICLES, unit, 1, undefined, ['pmid'])),
  ]);
  await termSample(store.articles);
}

/** Reciprocal-rank fusion: Σ w / (k + rank). Ties keep the order of first appearance. */
export function rrf(legs: { ids: string[]; weight: number }[], k = 60): { id: string; score: number }[] {
  const score = new Map<string, number>();
  const first = new Map<string, number>();
  let n = 0;
  for (const leg of legs) {
    leg.ids.forEach((id, i) => {
      if (!first.has(id)) first.set(id, n++);
      if (leg.weight > 0) score.set(id, (score.get(id) ?? 0) + leg.weight / (k + i + 1));
      else if (!score.has(id)) score.set(id, 0);
    });
  }
  return [...score.entries()]
    .filter(([, s]) => s > 0)
    .sort((a, b) => b[1] - a[1] || first.get(a[0])! - first.get(b[0])!)
    .map(([id, s]) => ({ id, score: s }));
}

/** Search citations. */
export async function search(
  store: IndexStore,
  embedder: Embedder | undefined,
  text: string,
  opts: SearchOptions = {},
): Promise<SearchResult> {
  const t0 = performance.now();
  const k = Math.max(1, opts.k ?? 10);
  const generated = store.identity.generated;
  const mode: SearchMode = opts.mode ?? 'hybrid';
  if (mode !== 'fts' && !embedder)
    throw new Error(`search mode '${mode}' needs a model; use --mode fts or give --model`);
  const where = buildWhere(opts.filters, opts.excludePmids);
  const cand = Math.max(opts.candidates ?? 50, k * 5);
  let denseWeight = opts.denseWeight ?? 1;
  let note: string | undefined;
  if (generated && mode === 'hybrid') {
    denseWeight = 0;
    note = GENERATED_NOTE;
  } else if (generated && mode === 'dense')
    note = "The model's weights are GENERATED (random): this dense ranking carries no meaning.";
  const ms = { embed: 0, dense: 0, fts: 0, total: 0 };
  if (embedder && mode !== 'fts') checkModel(store, embedder);

  let qvec: Float32Array | undefined;
  if (embedder && mode !== 'fts') {
    const te = performance.now();
    [qvec] = await embedder.embed([text], 'query');
    ms.embed = performance.now() - te;
  }
  const cols = ['pmid'];
  const [dense, fts] = await Promise.all([
    qvec
      ? (async () => {
          const t = performance.now();
          const r = await denseLeg(store, ARTICLES, qvec!, mode === 'dense' ? k : cand, where, cols, true);
          ms.dense = performance.now() - t;
          return r;
        })()
      : Promise.resolve([] as LegHit[]),
    mode !== 'dense'
      ? (async () => {
          const t = performance.now();
          const r = await ftsLeg(store, ARTICLES, text, cand, where, cols, true, opts.ftsMaxTerms);
          ms.fts = performance.now() - t;
          return r;
        })()
      : Promise.resolve([] as LegHit[]),
  ]);
  const rowIds = new Map<string, bigint>();
  for (const h of [...dense, ...fts]) if (h.rowId != null) rowIds.set(h.pmid, h.rowId);

  const dInfo = new Map<string, { score: number; rank: number }>();
  const fInfo = new Map<string, { score: number; rank: number }>();
  dense.forEach((h, i) => {
    dInfo.set(h.pmid, { score: h.score, rank: i + 1 });
  });
  fts.forEach((h, i) => {
    fInfo.set(h.pmid, { score: h.score, rank: i + 1 });
  });

  let order: { id: string; score: number }[];
  if (mode === 'dense') order = dense.map((h) => ({ id: h.pmid, score: h.score }));
  else if (mode === 'fts') order = fts.map((h) => ({ id: h.pmid, score: h.score }));
  else
    order = rrf(
      [
        { ids: dense.map((h) => h.pmid), weight: denseWeight },
        { ids: fts.map((h) => h.pmid), weight: 1 },
      ],
      opts.rrfK ?? 60,
    );
  order = order.slice(0, k);
  // Only the final hits' metadata is read (the legs return PMIDs and scores).
  const rows = await fetchInfo(
    store,
    order.map((o) => o.id),
    rowIds,
  );
  order = order.filter((o) => rows.has(o.id));

  const library = await store.libraryFor(order.map((o) => o.id));
  const hits: SearchHit[] = order.map((o, i) => {
    const { abstract: _a, hasAbstract: _h, ...meta } = toArticleInfo(rows.get(o.id)!);
    return {
      ...meta,
      score: o.score,
      rank: i + 1,
      library: library.get(o.id),
      why: {
        denseScore: dInfo.get(o.id)?.score,
        denseRank: dInfo.get(o.id)?.rank,
        ftsScore: fInfo.get(o.id)?.score,
        ftsRank: fInfo.get(o.id)?.rank,
      },
    };
  });
  if (!opts.noWhy && hits.length) {
    const best = await bestSentences(
      store,
      hits.map((h) => h.pmid),
      text,
      generated ? undefined : qvec,
    );
    for (const h of hits) {
      const b = best.get(h.pmid);
      if (b) h.why.bestSentence = b;
    }
  }
  ms.total = performance.now() - t0;
  return { hits, mode, note, denseWeight: mode === 'hybrid' ? denseWeight : mode === 'dense' ? 1 : 0, generated, ms };
}

/**
 * The hits' metadata, by row id (a direct take: no filter over the table) and, for any row whose id no longer holds
 * that PMID (a build compacted the table in between) or that came without one, by a PMID lookup.
 */
export async function fetchInfo(
  store: IndexStore,
  pmids: string[],
  rowIds: Map<string, bigint>,
): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  if (!pmids.length) return out;
  const INFO_COLS = await infoCols(store);
  const ids = pmids.map((p) => rowIds.get(p)).filter((x): x is bigint => x != null);
  if (ids.length) {
    try {
      for (const r of await store.articles.takeRowIds(ids).select(INFO_COLS).toArray()) {
        const p = String(r.pmid);
        if (pmids.includes(p)) out.set(p, r);
      }
    } catch {
      /* row ids gone with a compaction: the PMID lookup below answers */
    }
  }
  const missing = pmids.filter((p) => !out.has(p));
  if (missing.length)
    for (const r of await store.articles.query().where(sqlIn('pmid', missing)).select(INFO_COLS).toArray())
      out.set(String(r.pmid), r);
  return out;
}

/** Query vectors of one model cannot be compared with another model's index. */
export function checkModel(store: IndexStore, embedder: Embedder): void {
  if (!sameModel(store.identity, { ...embedder.identity, queryPrefix: store.identity.queryPrefix }))
    throw new ModelMismatchError(store.dir, store.identity, embedder.identity);
}

// ---- why: the best-matching sentence of each hit -------------------------------------------------------------------

export { terms };

/** Lexical score of sentences against a query: Σ idf over shared terms (idf from the candidate sentences). */
export function lexicalBest(query: string, sents: { text: string }[]): number[] {
  const q = new Set(terms(query));
  const sets = sents.map((s) => new Set(terms(s.text)));
  const df = new Map<string, number>();
  for (const s of sets) for (const t of s) if (q.has(t)) df.set(t, (df.get(t) ?? 0) + 1);
  return sets.map((s) => {
    let sc = 0;
    for (const t of s) if (q.has(t)) sc += Math.log(1 + sets.length / (df.get(t) ?? 1));
    return sc / Math.sqrt(1 + s.size / 20);
  });
}

async function bestSentences(
  store: IndexStore,
  pmids: string[],
  query: string,
  qvec: Float32Array | undefined,
): Promise<Map<string, BestSentence>> {
  const cols = ['pmid', 'idx', 'start', 'end', 'text', ...(qvec ? ['vector'] : [])];
  const rows = await store.sentences.query().where(sqlIn('pmid', pmids)).select(cols).toArray();
  const out = new Map<string, BestSentence>();
  const scores = qvec
    ? rows.map((r: Record<string, unknown>) => dot(qvec, toFloat32(r.vector)))
    : lexicalBest(query, rows as { text: string }[]);
  rows.forEach((r: Record<string, unknown>, i: number) => {
    const pmid = String(r.pmid);
    const cur = out.get(pmid);
    if (!cur || scores[i] > cur.score)
      out.set(pmid, {
        text: String(r.text),
        start: Number(r.start),
        end: Number(r.end),
        idx: Number(r.idx),
        score: scores[i],
      });
  });
  return out;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

// ---- similar sentences -----------------------------------------------------------------------------------------------

export interface SentenceHit {
  pmid: string;
  idx: number;
  start: number;
  end: number;
  text: string;
  score: number;
  rank: number;
  title?: string;
  year?: number;
  journal?: string;
}

export interface SentencesResult {
  hits: SentenceHit[];
  mode: 'dense' | 'fts';
  note?: string;
  ms: number;
}

/**
 * Sentences of the index most similar to `text` (dense). With generated weights the dense scores mean nothing, so
 * the full-text index on sentences answers instead, and the result says so.
 */
export async function similarSentences(
  store: IndexStore,
  embedder: Embedder | undefined,
  text: string,
  opts: { k?: number; excludePmids?: string[]; mode?: 'dense' | 'fts'; ftsMaxTerms?: number } = {},
): Promise<SentencesResult> {
  const t0 = performance.now();
  const k = Math.max(1, opts.k ?? 10);
  const where = opts.excludePmids?.length ? `NOT (${sqlIn('pmid', opts.excludePmids)})` : undefined;
  let mode: 'dense' | 'fts' = opts.mode ?? (store.identity.generated || !embedder ? 'fts' : 'dense');
  let note: string | undefined;
  if (mode === 'dense' && !embedder) throw new Error('dense sentence search needs a model');
  if (store.identity.generated && !opts.mode)
    note =
      "The model's weights are GENERATED (random): similar sentences come from the full-text index on sentences instead of embeddings.";
  const cols = ['pmid', 'idx', 'start', 'end', 'text'];
  let legs: LegHit[];
  if (mode === 'dense') {
    checkModel(store, embedder!);
    const [v] = await embedder!.embed([text], 'query');
    legs = await denseLeg(store, SENTENCES, v, k, where, cols);
  } else {
    legs = await ftsLeg(store, SENTENCES, text, k, where, cols, false, opts.ftsMaxTerms);
    mode = 'fts';
  }
  const hits: SentenceHit[] = legs.map((h, i) => ({
    pmid: h.pmid,
    idx: Number(h.row.idx),
    start: Number(h.row.start),
    end: Number(h.row.end),
    text: String(h.row.text),
    score: h.score,
    rank: i + 1,
  }));
  if (hits.length) {
    const pm = [...new Set(hits.map((h) => h.pmid))];
    const arts = await store.articles
      .query()
      .where(sqlIn('pmid', pm))
      .select(['pmid', 'title', 'year', 'journal'])
      .toArray();
    const by = new Map(arts.map((r: Record<string, unknown>) => [String(r.pmid), r]));
    for (const h of hits) {
      const a = by.get(h.pmid);
      if (a) {
        h.title = String(a.title);
        h.year = a.year == null ? undefined : Number(a.year);
        h.journal = String(a.journal);
      }
    }
    // Sentences whose article row is not committed yet (a build interrupted between the two writes) are left out.
    const kept = hits.filter((h) => by.has(h.pmid));
    kept.forEach((h, i) => {
      h.rank = i + 1;
    });
    return { hits: kept, mode, note, ms: performance.now() - t0 };
  }
  return { hits, mode, note, ms: performance.now() - t0 };
}

// ---- for the MeSH engine -----------------------------------------------------------------------------------------------

export interface Neighbour {
  pmid: string;
  score: number;
  rank: number;
  mesh: MeshHeading[];
  title: string;
}

/**
 * Nearest citations to `text` with their MeSH headings (the MeSH panel votes them). Mode defaults to hybrid (which
 * is full-text while the weights are generated); 'fts' needs no embedder.
 */
export async function neighbours(
  store: IndexStore,
  embedder: Embedder | undefined,
  text: string,
  opts: { k?: number; excludePmids?: string[]; mode?: SearchMode } = {},
): Promise<{ neighbours: Neighbour[]; mode: SearchMode; note?: string }> {
  const mode = opts.mode ?? (embedder ? 'hybrid' : 'fts');
  const r = await search(store, embedder, text, {
    k: opts.k ?? 20,
    mode,
    excludePmids: opts.excludePmids,
    noWhy: true,
  });
  return {
    neighbours: r.hits.map((h) => ({ pmid: h.pmid, score: h.score, rank: h.rank, mesh: h.mesh, title: h.title })),
    mode: r.mode,
    note: r.note,
  };
}
