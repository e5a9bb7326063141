// The local PubMed index: two LanceDB tables (`articles`, `sentences`) and a `meta.json` that records which model made
// the vectors. No `vscode` import here.
import './lance-env'; // must come before @lancedb/lancedb
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import * as lancedb from '@lancedb/lancedb';
import type { ModelIdentity } from '../inference/types';
import type { MeshHeading } from './citation';

// apache-arrow must be the very copy LanceDB loads (its CommonJS build): classes from another copy (e.g. the ESM one)
// are not recognised and a table silently gets 0 rows. So load it through LanceDB's own resolution.
export const arrow: typeof import('apache-arrow') = createRequire(require.resolve('@lancedb/lancedb'))('apache-arrow');

export const ARTICLES = 'articles';
export const SENTENCES = 'sentences';
export const META_FILE = 'meta.json';
export const INDEX_FORMAT = 1;

/** Rows below which a table is searched flat (exact); from this size up a vector index is built. */
export const ANN_MIN_ROWS = 50_000;

export interface IndexMeta {
  format: number;
  model: ModelIdentity;
  /** The model folder last used to build it (a hint for the CLI's default --model). */
  modelDir?: string;
  createdAt: string;
  updatedAt: string;
  /** Per input file, the last completed build: path → {size, mtimeMs, hash of what was read}. */
  files: Record<string, { size: number; mtimeMs: number; completedAt: string }>;
  /** Vector index parameters in use (absent while tables are searched flat). */
  ann?: Record<string, AnnParams>;
}

export interface AnnParams {
  type: 'IVF_RQ' | 'IVF_PQ' | 'IVF_HNSW_SQ';
  rows: number;
  numPartitions: number;
  numSubVectors?: number;
  /** IVF_RQ code bits per dimension (absent: 1, the LanceDB default, as indexes built before 4-bit codes). */
  numBits?: number;
  nprobes: number;
  refineFactor: number;
  builtAt: string;
  buildSeconds: number;
}

/** One row of `articles` as written. */
export interface ArticleRow {
  pmid: string;
  title: string;
  abstract: string;             // labelled text (`LABEL: text` paragraphs)
  text: string;                 // title + '\n' + abstract: the full-text field
  sections: string;             // JSON AbstractSection[]
  authors: string[];
  journal: string;
  year: number | null;
  doi: string | null;
  pmcid: string | null;
  publication_types: string[];
  language: string | null;
  mesh: string;                 // JSON MeshHeading[]
  has_abstract: boolean;
  source: string;
  hash: string;                 // content hash of what was embedded (+ metadata): a replay with the same hash is skipped
  n_sentences: number;
  vector: Float32Array;
}

export interface SentenceRow {
  pmid: string;
  idx: number;                  // 0-based index within the abstract
  start: number;                // character offsets into the article's `abstract` string
  end: number;
  text: string;
  vector: Float32Array;
}

/** What search and the CLI read back from `articles`. */
export interface ArticleInfo {
  pmid: string;
  title: string;
  abstract: string;
  authors: string[];
  journal: string;
  year?: number;
  month?: number;
  volume?: string;
  issue?: string;
  pages?: string;
  issn?: string;
  doi?: string;
  pmcid?: string;
  publicationTypes: string[];
  mesh: MeshHeading[];
  hasAbstract: boolean;
}

export class ModelMismatchError extends Error {
  readonly exitCode = 3;
  constructor(dir: string, have: ModelIdentity, want: ModelIdentity) {
    super(
      `the index at ${dir} was built with model ${describeIdentity(have)}, but the model in use is ${describeIdentity(want)}.\n` +
        `Vectors of different models cannot be mixed. Rebuild it with this model: ` +
        `\`biohicl index add --rebuild --index ${dir} <files...>\` (or delete the folder ${dir}), ` +
        `or pass --model for the model that built it.`,
    );
  }
}

export function describeIdentity(m: ModelIdentity): string {
  return `${m.repo}@${m.revision} (dim ${m.dim}, manifest ${m.manifestHash.slice(0, 12)}${m.queryPrefix ? ', query prefix' : ''}${m.generated ? ', GENERATED weights' : ''})`;
}

export function sameModel(a: ModelIdentity, b: ModelIdentity): boolean {
  return a.repo === b.repo && a.revision === b.revision && a.manifestHash === b.manifestHash && a.dim === b.dim &&
    a.pooling === b.pooling && a.queryPrefix === b.queryPrefix && a.generated === b.generated;
}

function utf8(nullable = false): import('apache-arrow').Field {
  return new arrow.Field('item', new arrow.Utf8(), nullable);
}

export function articlesSchema(dim: number): import('apache-arrow').Schema {
  const F = arrow.Field;
  return new arrow.Schema([
    new F('pmid', new arrow.Utf8(), false),
    new F('title', new arrow.Utf8(), false),
    new F('abstract', new arrow.Utf8(), false),
    new F('text', new arrow.Utf8(), false),
    new F('sections', new arrow.Utf8(), false),
    new F('authors', new arrow.List(utf8(true)), false),
    new F('journal', new arrow.Utf8(), false),
    new F('year', new arrow.Int32(), true),
    new F('doi', new arrow.Utf8(), true),
    new F('pmcid', new arrow.Utf8(), true),
    new F('publication_types', new arrow.List(utf8(true)), false),
    new F('language', new arrow.Utf8(), true),
    new F('mesh', new arrow.Utf8(), false),
    new F('has_abstract', new arrow.Bool(), false),
    new F('source', new arrow.Utf8(), false),
    new F('hash', new arrow.Utf8(), false),
    new F('n_sentences', new arrow.Int32(), false),
    new F('vector', new arrow.FixedSizeList(dim, new F('item', new arrow.Float32(), true)), false),
  ]);
}

export function sentencesSchema(dim: number): import('apache-arrow').Schema {
  const F = arrow.Field;
  return new arrow.Schema([
    new F('pmid', new arrow.Utf8(), false),
    new F('idx', new arrow.Int32(), false),
    new F('start', new arrow.Int32(), false),
    new F('end', new arrow.Int32(), false),
    new F('text', new arrow.Utf8(), false),
    new F('vector', new arrow.FixedSizeList(dim, new F('item', new arrow.Float32(), true)), false),
  ]);
}

/** SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
export function sqlIn(col: string, values: string[]): string {
  return `${col} IN (${values.map(sqlString).join(', ')})`;
}

/** FTS tokenizer settings, shared by both tables (tuned on SciFact dev: see src/tools/eval/scifact.ts). */
export const FTS_OPTIONS = {
  baseTokenizer: 'simple' as const,
  language: 'English',
  lowercase: true,
  stem: true,
  removeStopWords: true,
  asciiFolding: true,
  withPosition: false,
};

export interface OpenOptions {
  /** Create the tables when absent (a build). Searching an absent index fails with a message. */
  create?: boolean;
  /** Drop what is there and start over (the model changed). */
  rebuild?: boolean;
}

export class IndexStore {
  private constructor(
    readonly dir: string,
    readonly db: lancedb.Connection,
    readonly articles: lancedb.Table,
    readonly sentences: lancedb.Table,
    public meta: IndexMeta,
  ) {}

  get identity(): ModelIdentity { return this.meta.model; }

  /**
   * Open (or create) the index in `dir` for vectors of `model`. Refuses, with how to rebuild, when the index was
   * made by another model. Pass `model` undefined to open read-only whatever made it (stats).
   */
  static async open(dir: string, model: ModelIdentity | undefined, opts: OpenOptions = {}): Promise<IndexStore> {
    dir = path.resolve(dir);
    const metaPath = path.join(dir, META_FILE);
    let meta: IndexMeta | undefined;
    if (fs.existsSync(metaPath)) {
      try {
        meta = JSON.parse(fs.readFileSync(metaPath, 'utf8')) as IndexMeta;
      } catch (e) {
        throw new Error(`${metaPath}: not a valid index record (${(e as Error).message}); delete ${dir} and rebuild`);
      }
    }
    const mismatch = !!(meta && model && !sameModel(meta.model, model));
    if (mismatch && !opts.rebuild) throw new ModelMismatchError(dir, meta!.model, model!);
    // Tables without meta.json: nobody knows which model made their vectors, so they are never mixed with new ones.
    const orphanTables = !meta && fs.existsSync(dir) && (await (await lancedb.connect(dir)).tableNames()).length > 0;
    if (orphanTables && !opts.rebuild) {
      throw Object.assign(new Error(`${dir} holds index tables but no ${META_FILE} (which model made them is unknown): ` +
        `rebuild with \`biohicl index add --rebuild --index ${dir} <files...>\` or delete the folder`), { exitCode: 3 });
    }
    // --rebuild drops the tables only when they were made by another (or an unknown) model; with the same model it
    // is a no-op, so nothing already indexed is lost.
    if (opts.rebuild && (mismatch || orphanTables)) {
      const db0 = await lancedb.connect(dir);
      for (const name of await db0.tableNames()) await db0.dropTable(name);
      fs.rmSync(metaPath, { force: true });
      meta = undefined;
    }
    if (!meta) {
      if (!opts.create && !opts.rebuild) {
        throw Object.assign(new Error(`no index at ${dir}: build one with \`biohicl index add <files...> --index ${dir}\` (or \`biohicl demo\`)`), { exitCode: 4 });
      }
      if (!model) throw new Error('a model is needed to create an index');
      const now = new Date().toISOString();
      meta = { format: INDEX_FORMAT, model, createdAt: now, updatedAt: now, files: {} };
    }
    fs.mkdirSync(dir, { recursive: true });
    const db = await lancedb.connect(dir);
    const names = new Set(await db.tableNames());
    const dim = meta.model.dim;
    const articles = names.has(ARTICLES) ? await db.openTable(ARTICLES) : await db.createEmptyTable(ARTICLES, articlesSchema(dim), { existOk: true });
    const sentences = names.has(SENTENCES) ? await db.openTable(SENTENCES) : await db.createEmptyTable(SENTENCES, sentencesSchema(dim), { existOk: true });
    const store = new IndexStore(dir, db, articles, sentences, meta);
    if (!fs.existsSync(metaPath)) store.saveMeta();
    return store;
  }

  /** Atomically rewrite meta.json (write + rename). */
  saveMeta(): void {
    this.meta.updatedAt = new Date().toISOString();
    const p = path.join(this.dir, META_FILE);
    const tmp = `${p}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.meta, null, 2));
    fs.renameSync(tmp, p);
  }

  close(): void {
    this.articles.close();
    this.sentences.close();
    this.db.close();
  }

  /** pmid → content hash for those of `pmids` already stored. */
  async existingHashes(pmids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < pmids.length; i += 500) {
      const part = pmids.slice(i, i + 500);
      const rows = await this.articles.query().where(sqlIn('pmid', part)).select(['pmid', 'hash']).toArray();
      for (const r of rows) out.set(String(r.pmid), String(r.hash));
    }
    return out;
  }

  /**
   * Upsert citations and their sentences. Sentences are written first (one merge-insert that also deletes the
   * citations' stale sentences), then the article rows (merge-insert by PMID). The article row, with its content
   * hash, is the commit mark: a build killed in between replays the batch, and both writes are idempotent.
   */
  async upsert(articles: ArticleRow[], sentences: SentenceRow[]): Promise<void> {
    if (!articles.length) return;
    const pmids = articles.map((a) => a.pmid);
    if (sentences.length) {
      await this.sentences.mergeInsert(['pmid', 'idx'])
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .whenNotMatchedBySourceDelete({ where: sqlIn('pmid', pmids) })
        .execute(sentences as unknown as Record<string, unknown>[]);
    } else {
      await this.sentences.delete(sqlIn('pmid', pmids));
    }
    await this.articles.mergeInsert('pmid').whenMatchedUpdateAll().whenNotMatchedInsertAll()
      .execute(articles as unknown as Record<string, unknown>[]);
  }

  /** Apply DeleteCitation: returns how many articles were removed. */
  async deletePmids(pmids: string[]): Promise<number> {
    if (!pmids.length) return 0;
    let n = 0;
    for (let i = 0; i < pmids.length; i += 500) {
      const part = pmids.slice(i, i + 500);
      const before = await this.articles.countRows(sqlIn('pmid', part));
      await this.sentences.delete(sqlIn('pmid', part));
      await this.articles.delete(sqlIn('pmid', part));
      n += before;
    }
    return n;
  }

  async counts(): Promise<{ articles: number; sentences: number }> {
    return { articles: await this.articles.countRows(), sentences: await this.sentences.countRows() };
  }

  /** Bytes on disk under the index folder. */
  diskBytes(): number {
    let total = 0;
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p); else if (e.isFile()) total += fs.statSync(p).size;
      }
    };
    if (fs.existsSync(this.dir)) walk(this.dir);
    return total;
  }

  /**
   * Make sure the search indexes exist and cover new rows: scalar index on pmid, FTS on articles.text and
   * sentences.text, and a vector index once a table has ANN_MIN_ROWS rows. `force` rebuilds them all.
   */
  async ensureIndexes(opts: { force?: boolean; annMinRows?: number; onStep?: (s: string) => void } = {}): Promise<void> {
    const step = opts.onStep ?? (() => undefined);
    for (const [name, table] of [[ARTICLES, this.articles], [SENTENCES, this.sentences]] as const) {
      const rows = await table.countRows();
      if (!rows) continue;
      const have = new Map((await table.listIndices()).map((i) => [i.columns.join(','), i]));
      if (opts.force || !have.has('pmid')) {
        step(`${name}: scalar index on pmid`);
        await table.createIndex('pmid', { config: lancedb.Index.btree(), replace: true });
      }
      if (opts.force || !have.has('text')) {
        step(`${name}: full-text index on text`);
        await table.createIndex('text', { config: lancedb.Index.fts(FTS_OPTIONS), replace: true });
      }
      const annMin = opts.annMinRows ?? ANN_MIN_ROWS;
      // Parameters follow the row count they were chosen for; a table that has more than doubled since gets a new
      // index (partitions ≈ √rows), so partitions do not silently grow to many times the size that was measured.
      const built = this.meta.ann?.[name];
      const outgrown = have.has('vector') && (!built || rows > 2 * built.rows);
      if (rows >= annMin && (opts.force || !have.has('vector') || outgrown)) {
        step(`${name}: vector index (${rows} rows${outgrown && built ? `; the last one was made for ${built.rows}` : ''})`);
        const p = await buildVectorIndex(table, rows, this.meta.model.dim);
        this.meta.ann = { ...(this.meta.ann ?? {}), [name]: p };
        this.saveMeta();
      } else if (rows < annMin && have.has('vector') && opts.force) {
        await table.dropIndex(have.get('vector')!.name);
        if (this.meta.ann) delete this.meta.ann[name];
        this.saveMeta();
      }
      // New rows since the last index build are folded in (FTS and vector indexes are incremental).
      if (!opts.force) await table.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
    }
  }

  /** Compaction + index refresh + cleanup of old versions. */
  async optimize(): Promise<{ articles: unknown; sentences: unknown }> {
    const a = await this.articles.optimize({ cleanupOlderThan: new Date() });
    const s = await this.sentences.optimize({ cleanupOlderThan: new Date() });
    return { articles: a, sentences: s };
  }

  annParams(table: string): AnnParams | undefined {
    return this.meta.ann?.[table];
  }
}

/**
 * Vector index parameters from the row count. Default IVF_RQ (RaBitQ codes, no codebook training): measured here it
 * builds ~30× faster than IVF_PQ (20k × 768: 7 s vs 223 s) with the same recall@10 once refined.
 * Partitions ≈ sqrt(rows) (each holds ~sqrt(rows) vectors), nprobes ≈ 5 % of partitions (≥ 20). Codes of 4 bits per
 * dimension: at 1M clustered rows, 1-bit codes needed a refine factor of 40 (400 exact re-reads per query) for
 * recall@10 1.000 (0.83 at 10), while 4-bit codes reach 1.000 at refine 3 (build 13.7 → 18 s per 100k rows, codes
 * 96 → 384 bytes per row): query time 21 → 9 ms. A refine factor of 5 keeps a margin for real embeddings, which are
 * less clustered than the benchmark's. IVF_PQ (sub-vectors dim/16) stays available.
 * Recall@10 vs exact is measured by `npm run bench -- index`.
 */
export function annParamsFor(rows: number, dim: number, type: 'IVF_RQ' | 'IVF_PQ' = 'IVF_RQ'): Omit<AnnParams, 'builtAt' | 'buildSeconds'> {
  const numPartitions = Math.max(8, Math.round(Math.sqrt(rows)));
  let numSubVectors = Math.max(1, Math.round(dim / 16));
  while (dim % numSubVectors) numSubVectors--;
  const nprobes = Math.min(numPartitions, Math.max(20, Math.round(numPartitions * 0.05)));
  if (type === 'IVF_PQ') return { type, rows, numPartitions, numSubVectors, nprobes, refineFactor: 10 };
  return { type, rows, numPartitions, numBits: RQ_BITS, nprobes, refineFactor: 5 };
}

/** Bits per dimension of the IVF_RQ codes (see annParamsFor). */
export const RQ_BITS = 4;

export async function buildVectorIndex(table: lancedb.Table, rows: number, dim: number, over?: Partial<AnnParams>): Promise<AnnParams> {
  const p = { ...annParamsFor(rows, dim, over?.type === 'IVF_PQ' ? 'IVF_PQ' : 'IVF_RQ'), ...(over ?? {}) };
  const t0 = Date.now();
  const config = p.type === 'IVF_PQ'
    ? lancedb.Index.ivfPq({ numPartitions: p.numPartitions, numSubVectors: p.numSubVectors, distanceType: 'cosine', sampleRate: 256, maxIterations: 20 })
    : lancedb.Index.ivfRq({ numPartitions: p.numPartitions, numBits: p.numBits ?? 1, distanceType: 'cosine' });
  await table.createIndex('vector', { config, replace: true });
  return { ...p, builtAt: new Date().toISOString(), buildSeconds: (Date.now() - t0) / 1000 };
}

/** Row → ArticleInfo (LanceDB returns Arrow list vectors for list columns). */
export function toArticleInfo(r: Record<string, unknown>): ArticleInfo {
  const list = (v: unknown): string[] => (v == null ? [] : Array.from((v as { toArray?: () => unknown[] }).toArray?.() ?? (v as unknown[])).map(String));
  let mesh: MeshHeading[] = [];
  try { mesh = JSON.parse(String(r.mesh ?? '[]')) as MeshHeading[]; } catch { mesh = []; }
  return {
    pmid: String(r.pmid),
    title: String(r.title ?? ''),
    abstract: String(r.abstract ?? ''),
    authors: list(r.authors),
    journal: String(r.journal ?? ''),
    year: r.year == null ? undefined : Number(r.year),
    doi: r.doi == null ? undefined : String(r.doi),
    pmcid: r.pmcid == null ? undefined : String(r.pmcid),
    publicationTypes: list(r.publication_types),
    mesh,
    hasAbstract: Boolean(r.has_abstract),
  };
}

export function toFloat32(v: unknown): Float32Array {
  if (v instanceof Float32Array) return v;
  const a = (v as { toArray?: () => ArrayLike<number> }).toArray?.() ?? (v as ArrayLike<number>);
  return a instanceof Float32Array ? a : Float32Array.from(a);
}
