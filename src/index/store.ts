// The local PubMed index: two LanceDB tables (`articles`, `sentences`) and a `meta.json` that records which model made
// the vectors. No `vscode` import here.
import './lance-env'; // must come before @lancedb/lancedb
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { createRequire } from 'node:module';
import * as lancedb from '@lancedb/lancedb';
import type { ModelIdentity } from '../inference/types';
import { MeshHeadingSchema, type AbstractSection, type MeshHeading } from './citation';
import * as v from 'valibot';
import { parseJson } from '../util/json';
import { nlmFileOrder } from '../pubmed/nlm';
import { errorText } from '../util/errors';
import { parseLockHolder, pidAlive } from '../util/lock';
import { META_FILE, parseIndexMeta, type AnnParams, type IndexMeta, type SentenceScope, type VectorType } from './meta';
import {
  createExclusive,
  describeLocation,
  parseLocation,
  readText,
  removeFile,
  writeText,
  locationExists,
  type IndexLocation,
} from './location';

// apache-arrow must be the very copy LanceDB loads (its CommonJS build): classes from another copy (e.g. the ESM one)
// are not recognised and a table silently gets 0 rows. So load it through LanceDB's own resolution.
export const arrow: typeof import('apache-arrow') = createRequire(require.resolve('@lancedb/lancedb'))('apache-arrow');

export { META_FILE, type AnnParams, type IndexMeta } from './meta';

export const ARTICLES = 'articles';
export const SENTENCES = 'sentences';
/** Which input files are in the index (one row per file; concurrent writers upsert their own rows). */
export const FILES = 'files';
/** DeleteCitation tombstones: a PMID deleted by NLM file N never comes back from a file ≤ N. */
export const DELETED = 'deleted';
/** The writer's own bibliography items (CSL-JSON, BibTeX): which papers are "in your library", under which key. */
export const LIBRARY = 'library';
/**
 * 2: file_seq/bibliographic columns, sentences carry their article's hash, files/deleted tables.
 * 3: the abstract stored once: `text` (title + '\n' + abstract, the full-text field) holds it, `section_labels` says
 * how to cut it back into its labelled sections; no `abstract` and `sections` columns (measured: 4,371 → 2,604 B per
 * real MEDLINE citation, README "What fits on a laptop"). Tables of format ≤ 2 keep their columns and are read and
 * written as they are (the layout is the table's: `hasColumn('articles', 'abstract')`).
 */
export const INDEX_FORMAT = 3;

/** Rows below which a table is searched flat (exact); from this size up a vector index is built. */
export const ANN_MIN_ROWS = 50_000;

export { VECTOR_TYPES, SENTENCE_SCOPES, type VectorType, type SentenceScope } from './meta';

/** The index's vector type (float32 when meta.json does not say: indexes made before the option). */
export function vectorTypeOf(meta: Pick<IndexMeta, 'vectorType'>): VectorType {
  return meta.vectorType ?? 'float32';
}
/** The index's sentence scope ('all' when meta.json does not say). */
export function sentenceScopeOf(meta: Pick<IndexMeta, 'sentenceScope'>): SentenceScope {
  return meta.sentenceScope ?? 'all';
}

/** A writer asked for a storage option (vector type, sentence scope) other than the one the index records. */
export class IndexOptionMismatchError extends Error {
  readonly exitCode = 2;
  constructor(dir: string, option: string, have: string, want: string) {
    super(
      `the index at ${dir} stores ${option} ${have} (recorded in its ${META_FILE} when it was created), but ${want} was asked for. ` +
        `Every writer of an index uses the same ${option}: leave the option out (the index's own is used), ` +
        `build a new index in another folder with it, or pass --rebuild to drop this one and build it again with ${want}.`,
    );
  }
}

/** One row of `articles` as written. */
export interface ArticleRow {
  pmid: string;
  title: string;
  abstract: string; // labelled text (`LABEL: text` paragraphs)
  text: string; // title + '\n' + abstract: the full-text field
  sections: string; // JSON AbstractSection[]
  authors: string[];
  journal: string;
  year: number | null;
  doi: string | null;
  pmcid: string | null;
  publication_types: string[];
  language: string | null;
  mesh: string; // JSON MeshHeading[]
  has_abstract: boolean;
  source: string;
  hash: string; // content hash of what was embedded (+ metadata): a replay with the same hash is skipped
  n_sentences: number;
  month?: number | null;
  volume?: string | null;
  issue?: string | null;
  pages?: string | null;
  issn?: string | null;
  /** Order of the file the row came from: NLM files yy*100000+number (baseline before updates), other files 0 (default). */
  file_seq?: number;
  vector: Float32Array;
}

export interface SentenceRow {
  pmid: string;
  idx: number; // 0-based index within the abstract
  start: number; // character offsets into the article's `abstract` string
  end: number;
  text: string;
  /** The article row's content hash: sentences of any other version of the citation are stale (default: the
   * hash of the article row written with it). */
  hash?: string;
  source?: string;
  /** The article row's file order (default: that of the article row written with it). */
  file_seq?: number;
  vector: Float32Array;
}

/** One row of `files`. */
export interface FileRow {
  path: string;
  name: string;
  size: number;
  mtime_ms: number;
  file_seq: number;
  status: 'started' | 'complete' | 'rejects';
  rejected: number;
  updated_at: string;
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
  return (
    a.repo === b.repo &&
    a.revision === b.revision &&
    a.manifestHash === b.manifestHash &&
    a.dim === b.dim &&
    a.pooling === b.pooling &&
    a.queryPrefix === b.queryPrefix &&
    a.generated === b.generated
  );
}

function utf8(nullable = false): import('apache-arrow').Field {
  return new arrow.Field('item', new arrow.Utf8(), nullable);
}

function vectorField(dim: number, type: VectorType): import('apache-arrow').Field {
  const item = type === 'float16' ? new arrow.Float16() : new arrow.Float32();
  return new arrow.Field('vector', new arrow.FixedSizeList(dim, new arrow.Field('item', item, true)), false);
}

/** The articles table of a new index (format 3), or of an older format (`format` ≤ 2: abstract stored three times). */
export function articlesSchema(
  dim: number,
  vectorType: VectorType = 'float32',
  format: number = INDEX_FORMAT,
): import('apache-arrow').Schema {
  const F = arrow.Field;
  const once = format >= 3;
  return new arrow.Schema([
    new F('pmid', new arrow.Utf8(), false),
    new F('title', new arrow.Utf8(), false),
    ...(once ? [] : [new F('abstract', new arrow.Utf8(), false)]),
    new F('text', new arrow.Utf8(), false),
    once ? new F('section_labels', new arrow.Utf8(), false) : new F('sections', new arrow.Utf8(), false),
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
    vectorField(dim, vectorType),
    ...ARTICLE_V2_COLUMNS.map(
      ([name, type]) => new F(name, type === 'int' ? new arrow.Int32() : new arrow.Utf8(), true),
    ),
    new F('file_seq', new arrow.Int32(), false),
  ]);
}

/** Columns added in format 2 (nullable, so older tables get them by addColumns). */
const ARTICLE_V2_COLUMNS: [string, 'int' | 'str'][] = [
  ['month', 'int'],
  ['volume', 'str'],
  ['issue', 'str'],
  ['pages', 'str'],
  ['issn', 'str'],
];

export function sentencesSchema(dim: number, vectorType: VectorType = 'float32'): import('apache-arrow').Schema {
  const F = arrow.Field;
  return new arrow.Schema([
    new F('pmid', new arrow.Utf8(), false),
    new F('idx', new arrow.Int32(), false),
    new F('start', new arrow.Int32(), false),
    new F('end', new arrow.Int32(), false),
    new F('text', new arrow.Utf8(), false),
    vectorField(dim, vectorType),
    new F('hash', new arrow.Utf8(), false),
    new F('source', new arrow.Utf8(), false),
    new F('file_seq', new arrow.Int32(), false),
  ]);
}

export function filesSchema(): import('apache-arrow').Schema {
  const F = arrow.Field;
  return new arrow.Schema([
    new F('path', new arrow.Utf8(), false),
    new F('name', new arrow.Utf8(), false),
    new F('size', new arrow.Float64(), false),
    new F('mtime_ms', new arrow.Float64(), false),
    new F('file_seq', new arrow.Int32(), false),
    new F('status', new arrow.Utf8(), false),
    new F('rejected', new arrow.Int32(), false),
    new F('updated_at', new arrow.Utf8(), false),
  ]);
}

export function librarySchema(): import('apache-arrow').Schema {
  const F = arrow.Field;
  return new arrow.Schema([
    new F('id', new arrow.Utf8(), false), // the record id of the item (PMID, doi:…, key:…)
    new F('pmid', new arrow.Utf8(), true), // the articles row it is found under (its own, or the PubMed row of its PMID/DOI)
    new F('doi', new arrow.Utf8(), true),
    new F('citation_key', new arrow.Utf8(), true),
    new F('source', new arrow.Utf8(), false), // the bibliography file
    new F('updated_at', new arrow.Utf8(), false),
  ]);
}

/** One row of `library`. */
export interface LibraryRow {
  id: string;
  pmid: string | null;
  doi: string | null;
  citation_key: string | null;
  source: string;
  updated_at: string;
}

export function deletedSchema(): import('apache-arrow').Schema {
  const F = arrow.Field;
  return new arrow.Schema([
    new F('pmid', new arrow.Utf8(), false),
    new F('file_seq', new arrow.Int32(), false),
    new F('file', new arrow.Utf8(), false),
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
  /** LanceDB storage options for an object-store location (else the AWS_* environment variables). */
  storageOptions?: Record<string, string>;
  /** The vector type this writer asks for: recorded when it creates the index; another than the index's is refused. */
  vectorType?: VectorType;
  /** The sentence scope this writer asks for: recorded when it creates the index; another is refused. */
  sentenceScope?: SentenceScope;
}

/** Lance's optimistic-commit conflicts that are safe to retry (the operation is re-run on the newer version). */
export function isRetryableConflict(e: unknown): boolean {
  const m = errorText(e);
  return /Retryable commit conflict|commit conflict|preempted by concurrent transaction|TooMuchWriteContention/i.test(
    m,
  );
}

/** Run `fn`, retrying Lance's retryable commit conflicts with a jittered back-off. */
export async function withConflictRetry<T>(what: string, fn: () => Promise<T>, attempts = 12): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!isRetryableConflict(e)) throw e;
      if (i >= attempts - 1)
        throw Object.assign(
          new Error(`${what}: still conflicting with other writers after ${attempts} tries: ${errorText(e)}`),
          { cause: e },
        );
      await new Promise((r) => setTimeout(r, Math.min(2000, 20 * 2 ** i) * (0.5 + Math.random())));
    }
  }
}

const MAINT_LOCK = 'maintenance.lock';
/** A maintenance lock older than this is taken over (its holder died). */
const MAINT_LOCK_STALE_MS = 30 * 60_000;

export class IndexStore {
  private constructor(
    readonly loc: IndexLocation,
    readonly db: lancedb.Connection,
    readonly articles: lancedb.Table,
    readonly sentences: lancedb.Table,
    readonly files: lancedb.Table | undefined,
    readonly deleted: lancedb.Table | undefined,
    readonly library: lancedb.Table | undefined,
    public meta: IndexMeta,
  ) {}

  /** The index folder, or its URI for an object store (for messages and paths). */
  get dir(): string {
    return describeLocation(this.loc);
  }
  get identity(): ModelIdentity {
    return this.meta.model;
  }
  get isLocal(): boolean {
    return this.loc.kind === 'local';
  }

  /**
   * Open (or create) the index at `where` (a folder or an `s3://…` URI) for vectors of `model`. Refuses, with how to
   * rebuild, when the index was made by another model. Pass `model` undefined to open read-only whatever made it
   * (stats). Opening without `create` never creates or changes anything. Any number of processes may open and
   * write the same index at once: meta.json is created by exactly one of them, and every other one reads it.
   */
  static async open(
    where: string | IndexLocation,
    model: ModelIdentity | undefined,
    opts: OpenOptions = {},
  ): Promise<IndexStore> {
    const loc = typeof where === 'string' ? parseLocation(where, opts.storageOptions) : where;
    const dir = describeLocation(loc);
    const writable = !!(opts.create || opts.rebuild);
    let meta = await readMeta(loc);
    if (meta && typeof meta.format === 'number' && meta.format > INDEX_FORMAT)
      throw Object.assign(
        new Error(
          `the index at ${dir} is of format ${meta.format}, newer than this version of biohicl reads (up to ${INDEX_FORMAT}): update biohicl (or the extension) to use it`,
        ),
        { exitCode: 4 },
      );
    const mismatch = !!(meta && model && !sameModel(meta.model, model));
    if (mismatch && !opts.rebuild) throw new ModelMismatchError(dir, meta!.model, model!);
    // Storage options: the index's own unless this writer asks for another (refused; --rebuild makes it again).
    const optionMismatch = meta ? storageOptionMismatch(dir, meta, opts) : undefined;
    if (optionMismatch && !opts.rebuild) throw optionMismatch;
    const connect = (): Promise<lancedb.Connection> =>
      lancedb.connect(loc.uri, { storageOptions: loc.storageOptions, readConsistencyInterval: 0 });
    // Tables without meta.json: nobody knows which model made their vectors, so they are never mixed with new ones.
    const orphanTables =
      !meta &&
      (await locationExists(loc)) &&
      (await (await connect()).tableNames()).some((n) => n === ARTICLES || n === SENTENCES);
    if (orphanTables && !opts.rebuild) {
      throw Object.assign(
        new Error(
          `${dir} holds index tables but no ${META_FILE}, so which model made their vectors is unknown. ` +
            `Restore ${META_FILE} from a backup or pull the release again (\`biohicl index pull …\`); if you know the model, ` +
            `rebuild with \`biohicl index add --rebuild --index ${dir} <files...>\` (the tables are made again), ` +
            `or delete the folder`,
        ),
        { exitCode: 4 },
      );
    }
    // --rebuild drops the tables only when they were made by another (or an unknown) model; with the same model it
    // is a no-op, so nothing already indexed is lost.
    if (opts.rebuild && (mismatch || orphanTables || optionMismatch)) {
      const db0 = await connect();
      for (const name of await db0.tableNames()) await db0.dropTable(name);
      await removeFile(loc, META_FILE);
      // The rebuilt index keeps the storage options it had unless this writer asked for others.
      opts = {
        ...opts,
        vectorType: opts.vectorType ?? meta?.vectorType,
        sentenceScope: opts.sentenceScope ?? meta?.sentenceScope,
      };
      meta = undefined;
    }
    if (!meta) {
      if (!writable) {
        throw Object.assign(
          new Error(
            `no index at ${dir}: build one with \`biohicl index add <files...> --index ${dir}\` (or \`biohicl demo\`)`,
          ),
          { exitCode: 4 },
        );
      }
      if (!model) throw new Error('a model is needed to create an index');
      const now = new Date().toISOString();
      const mine: IndexMeta = {
        format: INDEX_FORMAT,
        model,
        createdAt: now,
        updatedAt: now,
        // Recorded only when not the default, so an index made without the options reads as before.
        ...(opts.vectorType && opts.vectorType !== 'float32' ? { vectorType: opts.vectorType } : {}),
        ...(opts.sentenceScope && opts.sentenceScope !== 'all' ? { sentenceScope: opts.sentenceScope } : {}),
      };
      // Exactly one of several racing writers creates meta.json; the others read what it wrote and check the model
      // and the storage options.
      if (!(await createExclusive(loc, META_FILE, JSON.stringify(mine, null, 2)))) {
        meta = await readMeta(loc);
        if (!meta) throw new Error(`${dir}: ${META_FILE} was created by another writer but cannot be read`);
        if (!sameModel(meta.model, model)) throw new ModelMismatchError(dir, meta.model, model);
        const om = storageOptionMismatch(dir, meta, opts);
        if (om) throw om;
      } else meta = mine;
    }
    const db = await connect();
    const names = new Set(await db.tableNames());
    const dim = meta.model.dim;
    const vtype = vectorTypeOf(meta);
    const table = async (
      name: string,
      schema: () => import('apache-arrow').Schema,
      required: boolean,
    ): Promise<lancedb.Table | undefined> => {
      if (names.has(name)) return db.openTable(name);
      if (!writable) {
        if (!required) return undefined;
        throw Object.assign(
          new Error(
            `the index at ${dir} has no '${name}' table (${META_FILE} is there): it was deleted or never finished. ` +
              `Rebuild it with \`biohicl index add --index ${dir} <files...>\` (unchanged citations are kept), or \`biohicl index verify --index ${dir}\``,
          ),
          { exitCode: 4 },
        );
      }
      // existOk: a racing writer may create it first; both then use the same table.
      return withConflictRetry(`create ${name}`, () => db.createEmptyTable(name, schema(), { existOk: true }));
    };
    const articles = (await table(ARTICLES, () => articlesSchema(dim, vtype), true))!;
    const sentences = (await table(SENTENCES, () => sentencesSchema(dim, vtype), true))!;
    const files = await table(FILES, filesSchema, false);
    const deleted = await table(DELETED, deletedSchema, false);
    const library = await table(LIBRARY, librarySchema, false);
    const store = new IndexStore(loc, db, articles, sentences, files, deleted, library, meta);
    if (writable) {
      // A writer writes vectors of the type meta.json records: tables of another type (a meta.json replaced by
      // hand, or restored from another index) are refused before anything is written.
      for (const [name, t] of [
        [ARTICLES, articles],
        [SENTENCES, sentences],
      ] as const) {
        const have = tableVectorType(await t.schema());
        if (have && have !== vtype) {
          store.close();
          throw Object.assign(
            new Error(
              `${dir}: the ${name} table stores ${have} vectors but ${META_FILE} records ${vtype}; ` +
                `restore the index's own ${META_FILE}, or rebuild it with \`biohicl index add --rebuild --index ${dir} <files...>\``,
            ),
            { exitCode: 4 },
          );
        }
      }
      await store.migrate();
      store.columns.clear();
    }
    return store;
  }

  /** Bring a format-1 index up to format 2 (writers only): new nullable columns, meta.files → the files table. */
  private async migrate(): Promise<void> {
    const acols = new Set((await this.articles.schema()).fields.map((f) => f.name));
    const add = ARTICLE_V2_COLUMNS.filter(([n]) => !acols.has(n)).map(([name, t]) => ({
      name,
      valueSql: t === 'int' ? 'CAST(NULL AS INT)' : 'CAST(NULL AS STRING)',
    }));
    if (!acols.has('file_seq')) add.push({ name: 'file_seq', valueSql: 'CAST(0 AS INT)' });
    if (add.length)
      await withConflictRetry('migrate articles', () => this.articles.addColumns(add)).catch((e) => {
        if (!/already exists/i.test(String(e))) throw e;
      });
    const scols = new Set((await this.sentences.schema()).fields.map((f) => f.name));
    const sadd: { name: string; valueSql: string }[] = [];
    if (!scols.has('hash')) sadd.push({ name: 'hash', valueSql: `CAST('' AS STRING)` });
    if (!scols.has('source')) sadd.push({ name: 'source', valueSql: `CAST('' AS STRING)` });
    if (!scols.has('file_seq')) sadd.push({ name: 'file_seq', valueSql: 'CAST(0 AS INT)' });
    if (sadd.length) {
      await withConflictRetry('migrate sentences', () => this.sentences.addColumns(sadd)).catch((e) => {
        if (!/already exists/i.test(String(e))) throw e;
      });
      // Format 1 sentences carried no hash: give them their article's, so that they count as current.
      if (!scols.has('hash')) {
        const rows = await this.articles.query().select(['pmid', 'hash']).toArray();
        for (let i = 0; i < rows.length; i += 500) {
          const part = rows.slice(i, i + 500);
          const cases = part
            .map((r) => `WHEN ${sqlString(String(r.pmid))} THEN ${sqlString(String(r.hash))}`)
            .join(' ');
          await withConflictRetry('migrate sentences', () =>
            this.sentences.update({
              where: sqlIn(
                'pmid',
                part.map((r) => String(r.pmid)),
              ),
              valuesSql: { hash: `CASE pmid ${cases} END` },
            }),
          );
        }
      }
    }
    if (this.meta.files && Object.keys(this.meta.files).length) {
      const now = new Date().toISOString();
      await this.recordFiles(
        Object.entries(this.meta.files).map(([p, f]) => ({
          path: p,
          name: path.basename(p),
          size: f.size,
          mtime_ms: f.mtimeMs,
          file_seq: fileSeq(p),
          status: 'complete' as const,
          rejected: 0,
          updated_at: f.completedAt ?? now,
        })),
      );
    }
    // A table that stores the abstract three times stays so (format 2: read and written as it is); only a new
    // index is made in format 3.
    const format = acols.has('abstract') ? 2 : INDEX_FORMAT;
    if (this.meta.files || this.meta.format < format) {
      delete this.meta.files;
      this.meta.format = format;
      await this.saveMeta();
    }
  }

  /** Rewrite meta.json atomically (maintenance only: model identity and vector-index parameters). */
  async saveMeta(): Promise<void> {
    this.meta.updatedAt = new Date().toISOString();
    await writeText(this.loc, META_FILE, JSON.stringify(this.meta, null, 2));
  }

  close(): void {
    for (const t of [this.articles, this.sentences, this.files, this.deleted, this.library]) t?.close();
    this.db.close();
  }

  private columns = new Map<string, Set<string>>();
  /** Whether a table has a column (cached; format-1 tables lack the format-2 columns until a writer migrates them). */
  async hasColumn(table: 'articles' | 'sentences', col: string): Promise<boolean> {
    let cols = this.columns.get(table);
    if (!cols) {
      const t = table === 'articles' ? this.articles : this.sentences;
      cols = new Set((await t.schema()).fields.map((f) => f.name));
      this.columns.set(table, cols);
    }
    return cols.has(col);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Files

  /** The files table's rows, latest per path. */
  async fileRecords(): Promise<Map<string, FileRow>> {
    const out = new Map<string, FileRow>();
    if (!this.files) {
      for (const [p, f] of Object.entries(this.meta.files ?? {})) {
        out.set(p, {
          path: p,
          name: path.basename(p),
          size: f.size,
          mtime_ms: f.mtimeMs,
          file_seq: fileSeq(p),
          status: 'complete',
          rejected: 0,
          updated_at: f.completedAt,
        });
      }
      return out;
    }
    for (const r of await this.files.query().toArray()) {
      const row: FileRow = {
        path: String(r.path),
        name: String(r.name),
        size: Number(r.size),
        mtime_ms: Number(r.mtime_ms),
        file_seq: Number(r.file_seq),
        status: String(r.status) as FileRow['status'],
        rejected: Number(r.rejected),
        updated_at: String(r.updated_at),
      };
      const have = out.get(row.path);
      if (!have || rank(row) > rank(have)) out.set(row.path, row);
    }
    return out;
    function rank(r: FileRow): string {
      return `${r.status === 'complete' ? 1 : 0}${r.updated_at}`;
    }
  }

  /** Upsert rows of the files table (one row per path; concurrent writers of other paths do not disturb it). */
  async recordFiles(rows: FileRow[]): Promise<void> {
    if (!rows.length) return;
    if (!this.files) throw new Error(`${this.dir}: the files table is missing (open the index for writing)`);
    await withConflictRetry('record files', () =>
      this.files!.mergeInsert('path')
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute(rows as unknown as Record<string, unknown>[]),
    );
  }

  // -------------------------------------------------------------------------------------------------------------
  // Rows

  /** pmid → {hash, file_seq} of the current row for those of `pmids` already stored. */
  async existingRows(pmids: string[]): Promise<Map<string, { hash: string; seq: number; n: number }>> {
    const out = new Map<string, { hash: string; seq: number; n: number }>();
    const hasSeq = await this.hasColumn('articles', 'file_seq');
    for (let i = 0; i < pmids.length; i += 500) {
      const part = pmids.slice(i, i + 500);
      const rows = await this.articles
        .query()
        .where(sqlIn('pmid', part))
        .select(hasSeq ? ['pmid', 'hash', 'n_sentences', 'file_seq'] : ['pmid', 'hash', 'n_sentences'])
        .toArray();
      for (const r of rows) {
        const have = out.get(String(r.pmid));
        const row = { hash: String(r.hash), seq: Number(r.file_seq ?? 0), n: Number(r.n_sentences ?? 0) };
        if (!have || row.seq >= have.seq) out.set(String(r.pmid), row);
      }
    }
    return out;
  }

  /**
   * For PMIDs whose article row has `hash`: how many of its sentences are stored, and which PMIDs also have
   * sentence rows of another version or twice (a writer killed between its writes and its resolve leaves those).
   */
  async sentenceCounts(want: Map<string, string>): Promise<{ counts: Map<string, number>; dirty: Set<string> }> {
    const counts = new Map<string, number>();
    const dirty = new Set<string>();
    const seen = new Set<string>();
    const pmids = [...want.keys()];
    for (let i = 0; i < pmids.length; i += 500) {
      for (const r of await this.sentences
        .query()
        .where(sqlIn('pmid', pmids.slice(i, i + 500)))
        .select(['pmid', 'idx', 'hash'])
        .toArray()) {
        const p = String(r.pmid);
        const key = `${p}\u0000${r.idx}`;
        if (want.get(p) !== String(r.hash) || seen.has(key)) {
          dirty.add(p);
          continue;
        }
        seen.add(key);
        counts.set(p, (counts.get(p) ?? 0) + 1);
      }
    }
    return { counts, dirty };
  }

  /** Bulk resume: pmid → hash of the article rows that `source` (an input file) has committed. */
  async committedFromSource(source: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const r of await this.articles
      .query()
      .where(`source = ${sqlString(source)}`)
      .select(['pmid', 'hash'])
      .toArray())
      out.set(String(r.pmid), String(r.hash));
    return out;
  }

  /** Bulk resume: remove the sentences of `source` whose article row never committed (or committed another version). */
  async removeOrphanSentences(source: string, committed: Map<string, string>): Promise<number> {
    const rows = await this.sentences
      .query()
      .withRowId()
      .where(`source = ${sqlString(source)}`)
      .select(['pmid', 'hash'])
      .toArray();
    const orphans = rows.filter((r) => committed.get(String(r.pmid)) !== String(r.hash)).map((r) => BigInt(r._rowid));
    for (let j = 0; j < orphans.length; j += 1000) {
      const part = orphans.slice(j, j + 1000);
      await withConflictRetry('remove orphan sentences', () => this.sentences.delete(`_rowid IN (${part.join(', ')})`));
    }
    return orphans.length;
  }

  /** Record bibliography items (one row per item and bibliography file). */
  async recordLibrary(rows: LibraryRow[]): Promise<void> {
    if (!rows.length || !this.library) return;
    await withConflictRetry('record library', () =>
      this.library!.mergeInsert(['id', 'source'])
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute(rows as unknown as Record<string, unknown>[]),
    );
  }

  /** articles row PMID → the library items found under it (key and bibliography file). */
  async libraryFor(pmids: string[]): Promise<Map<string, { key?: string; source: string }>> {
    const out = new Map<string, { key?: string; source: string }>();
    if (!this.library || !pmids.length) return out;
    for (const r of await this.library
      .query()
      .where(sqlIn('pmid', pmids))
      .select(['pmid', 'citation_key', 'source'])
      .toArray()) {
      if (!out.has(String(r.pmid)))
        out.set(String(r.pmid), {
          key: r.citation_key == null ? undefined : String(r.citation_key),
          source: String(r.source),
        });
    }
    return out;
  }

  /**
   * For bibliography items: the row (from another file: PubMed data, or another bibliography) each is found under,
   * by PMID or by DOI: such an item is linked to that row instead of being written over it as a poorer copy.
   */
  async pubmedRowsFor(
    items: { id: string; pmid?: string; doi?: string }[],
    source: string,
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const pmids = items.map((i) => i.pmid).filter((x): x is string => !!x);
    const dois = items.map((i) => i.doi?.toLowerCase()).filter((x): x is string => !!x);
    const byPmid = new Map<string, string>();
    const byDoi = new Map<string, string>();
    // Any row from another file (PubMed data, or another bibliography): the library item never replaces it.
    const cond = `source <> ${sqlString(source)}`;
    for (let i = 0; i < pmids.length; i += 500) {
      for (const r of await this.articles
        .query()
        .where(`${sqlIn('pmid', pmids.slice(i, i + 500))} AND ${cond}`)
        .select(['pmid'])
        .toArray())
        byPmid.set(String(r.pmid), String(r.pmid));
    }
    for (let i = 0; i < dois.length; i += 500) {
      for (const r of await this.articles
        .query()
        .where(`${sqlIn('lower(doi)', dois.slice(i, i + 500))} AND ${cond}`)
        .select(['pmid', 'doi'])
        .toArray())
        byDoi.set(String(r.doi).toLowerCase(), String(r.pmid));
    }
    for (const it of items) {
      const hit = (it.pmid && byPmid.get(it.pmid)) || (it.doi && byDoi.get(it.doi.toLowerCase()));
      if (hit) out.set(it.id, hit);
    }
    return out;
  }

  /** pmid → the highest file_seq of a DeleteCitation for it. */
  async tombstones(pmids: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!this.deleted) return out;
    for (let i = 0; i < pmids.length; i += 500) {
      for (const r of await this.deleted
        .query()
        .where(sqlIn('pmid', pmids.slice(i, i + 500)))
        .select(['pmid', 'file_seq'])
        .toArray()) {
        out.set(String(r.pmid), Math.max(out.get(String(r.pmid)) ?? -1, Number(r.file_seq)));
      }
    }
    return out;
  }

  /**
   * Write citations and their sentences: the sentences first (appended), then the article rows (merge-insert by
   * PMID, replacing a row only from a file of the same or a later order), then `resolve` for these PMIDs. The
   * article row, with its content hash, is the commit mark: a committed article always has all of its sentences,
   * and a build killed in between replays the batch. Several processes may write at once: whatever they
   * interleave, `resolve` leaves one row per PMID (the version of the latest file) and exactly that version's
   * sentences (see resolve for why). bulk: both appended, `resolve` left to `finalize` (a cluster build's array tasks).
   */
  async upsert(articles: ArticleRow[], sentences: SentenceRow[], opts: { bulk?: boolean } = {}): Promise<void> {
    if (!articles.length) return;
    articles = articles.map((a) => ({
      month: null,
      volume: null,
      issue: null,
      pages: null,
      issn: null,
      file_seq: 0,
      ...a,
    }));
    const byPmid = new Map(articles.map((a) => [a.pmid, a]));
    // Format 3: the abstract is kept once, in `text`; the rows written carry how to cut it into sections.
    const rows: Record<string, unknown>[] = (await this.hasColumn('articles', 'abstract'))
      ? (articles as unknown as Record<string, unknown>[])
      : articles.map(abstractOnce);
    sentences = sentences.map((x) => ({
      ...x,
      hash: x.hash ?? byPmid.get(x.pmid)?.hash ?? '',
      source: x.source ?? byPmid.get(x.pmid)?.source ?? '',
      file_seq: x.file_seq ?? byPmid.get(x.pmid)?.file_seq ?? 0,
    }));
    const addSentences = async (): Promise<void> => {
      if (!sentences.length) return;
      // Insert-if-absent by (PMID, index, version): a replayed batch (a build killed before its article rows) adds
      // no second copy. Concurrent writers can still both insert one (LanceDB's merge-insert does not keep keys
      // unique under concurrency); resolve removes it.
      await withConflictRetry('add sentences', () =>
        this.sentences
          .mergeInsert(['pmid', 'idx', 'hash'])
          .whenNotMatchedInsertAll()
          .execute(sentences as unknown as Record<string, unknown>[]),
      );
    };
    if (opts.bulk) {
      // Appended: a bulk task's rerun removes what a dead attempt left (removeOrphanSentences) before it writes.
      if (sentences.length)
        await withConflictRetry('add sentences', () =>
          this.sentences.add(sentences as unknown as Record<string, unknown>[]),
        );
      await withConflictRetry('add articles', () => this.articles.add(rows));
      return;
    }
    await addSentences();
    await withConflictRetry('merge articles', () =>
      this.articles
        .mergeInsert('pmid')
        .whenMatchedUpdateAll({ where: 'target.file_seq <= source.file_seq' })
        .whenNotMatchedInsertAll()
        .execute(rows),
    );
    await this.resolve(articles.map((a) => a.pmid));
  }

  /**
   * Apply DeleteCitation from a file of order `seq`: a tombstone is recorded first, then the PMIDs' rows from files
   * of order ≤ seq are removed. Returns how many articles were removed.
   */
  async deletePmids(pmids: string[], seq = 0, file = ''): Promise<number> {
    if (!pmids.length) return 0;
    let n = 0;
    for (let i = 0; i < pmids.length; i += 500) {
      const part = pmids.slice(i, i + 500);
      if (this.deleted) {
        await withConflictRetry('record deletions', () =>
          this.deleted!.mergeInsert(['pmid', 'file_seq'])
            .whenMatchedUpdateAll()
            .whenNotMatchedInsertAll()
            .execute(part.map((pmid) => ({ pmid, file_seq: seq, file: path.basename(file) }))),
        );
      }
      const hasSeq = await this.hasColumn('articles', 'file_seq');
      const where = `${sqlIn('pmid', part)}${hasSeq ? ` AND file_seq <= ${seq}` : ''}`;
      const before = await this.articles.countRows(where);
      await withConflictRetry('delete articles', () => this.articles.delete(where));
      n += before;
      await this.resolve(part);
    }
    return n;
  }

  /**
   * Leave, for each of `pmids`, exactly what one writer applying the files in order would have left: one article
   * row (the highest file order; ties by content hash, then row id), none when a DeleteCitation of the same or a
   * later file order exists, and only the winning version's sentences, once per sentence index.
   * Why concurrent writers converge: every writer commits its rows before it calls resolve, and the winner is a
   * fixed total order over rows. Of two writers of a PMID, the one that commits last sees both rows in its resolve
   * and removes the loser; a row removed as a loser is never the winner of a larger set. Returns rows removed
   * (dryRun: the rows that would be, nothing changed).
   */
  async resolve(pmids: string[], opts: { dryRun?: boolean } = {}): Promise<{ articles: number; sentences: number }> {
    const removed = { articles: 0, sentences: 0 };
    const uniq = [...new Set(pmids)];
    for (let i = 0; i < uniq.length; i += 500) {
      const part = uniq.slice(i, i + 500);
      await withConflictRetry('resolve', async () => {
        await this.articles.checkoutLatest();
        await this.sentences.checkoutLatest();
        const tomb = await this.tombstones(part);
        const rows = await this.articles
          .query()
          .withRowId()
          .where(sqlIn('pmid', part))
          .select(['pmid', 'hash', 'file_seq'])
          .toArray();
        const winners = new Map<string, { hash: string; seq: number; rowid: bigint }>();
        const loseArticles: bigint[] = [];
        const better = (
          a: { hash: string; seq: number; rowid: bigint },
          b: { hash: string; seq: number; rowid: bigint },
        ): boolean => (a.seq !== b.seq ? a.seq > b.seq : a.hash !== b.hash ? a.hash > b.hash : a.rowid > b.rowid);
        for (const r of rows) {
          const row = { hash: String(r.hash), seq: Number(r.file_seq ?? 0), rowid: BigInt(r._rowid) };
          const pmid = String(r.pmid);
          const t = tomb.get(pmid);
          if (t !== undefined && t >= row.seq) {
            loseArticles.push(row.rowid);
            continue;
          }
          const w = winners.get(pmid);
          if (!w) winners.set(pmid, row);
          else if (better(row, w)) {
            loseArticles.push(w.rowid);
            winners.set(pmid, row);
          } else loseArticles.push(row.rowid);
        }
        const sHasSeq = await this.hasColumn('sentences', 'file_seq');
        const srows = await this.sentences
          .query()
          .withRowId()
          .where(sqlIn('pmid', part))
          .select(sHasSeq ? ['pmid', 'idx', 'hash', 'file_seq'] : ['pmid', 'idx', 'hash'])
          .toArray();
        const seen = new Map<string, bigint>();
        const loseSentences: bigint[] = [];
        for (const r of srows) {
          const pmid = String(r.pmid);
          const w = winners.get(pmid);
          const rowid = BigInt(r._rowid);
          if (!w || String(r.hash) !== w.hash) {
            // Sentences are written before their article row: rows of a version from a later file than the current
            // winner (or than the tombstone), or of a PMID with no article row yet, belong to a writer whose article
            // commit is still to come (or that died: its rerun, or the next resolve after it, removes them).
            const seq = Number(r.file_seq ?? 0);
            const t = tomb.get(pmid);
            const pendingNewer = w
              ? seq > w.seq
              : t === undefined
                ? !rows.some((a) => String(a.pmid) === pmid)
                : seq > t;
            if (!pendingNewer) loseSentences.push(rowid);
            continue;
          }
          const key = `${pmid}\u0000${r.idx}`;
          const have = seen.get(key);
          if (have === undefined) seen.set(key, rowid);
          else if (rowid > have) {
            loseSentences.push(have);
            seen.set(key, rowid);
          } else loseSentences.push(rowid);
        }
        if (!opts.dryRun) {
          for (let j = 0; j < loseArticles.length; j += 1000)
            await this.articles.delete(`_rowid IN (${loseArticles.slice(j, j + 1000).join(', ')})`);
          for (let j = 0; j < loseSentences.length; j += 1000)
            await this.sentences.delete(`_rowid IN (${loseSentences.slice(j, j + 1000).join(', ')})`);
        }
        removed.articles += loseArticles.length;
        removed.sentences += loseSentences.length;
      });
    }
    return removed;
  }

  /**
   * The PMIDs that need `resolve` after a bulk build: those with more than one article row, and those with a
   * tombstone. One streaming pass over the pmid column (numeric PMIDs kept in typed arrays: 38 M rows ≈ 300 MB).
   */
  async pmidsToResolve(): Promise<string[]> {
    const nums: number[] = [];
    const other = new Map<string, number>();
    let buf = new Float64Array(1 << 20);
    let n = 0;
    for (const batch of (await this.articles.query().select(['pmid']).toArrow()).batches) {
      const col = batch.getChild('pmid')!;
      for (let i = 0; i < batch.numRows; i++) {
        const p = String(col.get(i));
        if (/^\d{1,15}$/.test(p)) {
          if (n === buf.length) {
            const b = new Float64Array(buf.length * 2);
            b.set(buf);
            buf = b;
          }
          buf[n++] = Number(p);
        } else other.set(p, (other.get(p) ?? 0) + 1);
      }
    }
    const sorted = buf.subarray(0, n).sort();
    for (let i = 1; i < n; i++)
      if (sorted[i] === sorted[i - 1] && (i < 2 || sorted[i - 2] !== sorted[i])) nums.push(sorted[i]);
    const out = new Set<string>(nums.map((x) => String(x)));
    for (const [p, c] of other) if (c > 1) out.add(p);
    if (this.deleted) for (const r of await this.deleted.query().select(['pmid']).toArray()) out.add(String(r.pmid));
    return [...out];
  }

  async counts(): Promise<{ articles: number; sentences: number }> {
    return { articles: await this.articles.countRows(), sentences: await this.sentences.countRows() };
  }

  /** Citations that have an abstract. */
  async countWithAbstract(): Promise<number> {
    return this.articles.countRows('has_abstract = true');
  }

  /** The paper with this id (a PMID, or the `doi:`/`key:` id of a library item without one); undefined when absent. */
  async article(id: string): Promise<ArticleInfo | undefined> {
    const rows = await this.articles
      .query()
      .where(`pmid = ${sqlString(id)}`)
      .limit(1)
      .toArray();
    return rows[0] ? toArticleInfo(rows[0] as Record<string, unknown>) : undefined;
  }

  /** The paper with this DOI (compared case-insensitively, as DOIs are); undefined when absent. */
  async articleByDoi(doi: string): Promise<ArticleInfo | undefined> {
    const rows = await this.articles
      .query()
      .where(`lower(doi) = ${sqlString(doi.trim().toLowerCase())}`)
      .limit(1)
      .toArray();
    return rows[0] ? toArticleInfo(rows[0] as Record<string, unknown>) : undefined;
  }

  /** The abstracts of these papers (id → labelled abstract text); ids the index does not hold are absent. */
  async abstracts(ids: string[]): Promise<Map<string, string>> {
    if (!ids.length) return new Map();
    const rows = await this.articles
      .query()
      .where(sqlIn('pmid', ids))
      .select(['pmid', ...(await abstractColumns(this))])
      .toArray();
    return new Map(rows.map((r: Record<string, unknown>) => [String(r.pmid), rowAbstract(r)]));
  }

  /** Bytes on disk under the index folder (undefined for an object store). */
  diskBytes(): number {
    let total = 0;
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) total += fs.statSync(p).size;
      }
    };
    if (this.loc.dir && fs.existsSync(this.loc.dir)) walk(this.loc.dir);
    return total;
  }

  /**
   * Run `fn` holding the index's maintenance lock (index builds, compaction, cleanup never run concurrently with
   * each other). When another process holds it, returns undefined without running `fn` (unless `wait`): the
   * holder's maintenance covers the data, and new rows are searched without an index until the next one.
   */
  async withMaintenanceLock<T>(
    fn: () => Promise<T>,
    opts: { wait?: boolean; onWait?: (holder: string) => void } = {},
  ): Promise<T | undefined> {
    const me = JSON.stringify({ host: os.hostname(), pid: process.pid, at: new Date().toISOString() });
    for (;;) {
      if (await createExclusive(this.loc, MAINT_LOCK, me)) break;
      const held = await readText(this.loc, MAINT_LOCK);
      const h = parseLockHolder(held ?? '{}', `${describeLocation(this.loc)}/${MAINT_LOCK}`);
      const stale =
        !h ||
        Date.now() - Date.parse(h.at ?? '') > MAINT_LOCK_STALE_MS ||
        (h.host === os.hostname() && !!h.pid && !pidAlive(h.pid));
      if (stale) {
        await removeFile(this.loc, MAINT_LOCK);
        continue;
      }
      if (!opts.wait) return undefined;
      opts.onWait?.(held ?? '');
      await new Promise((r) => setTimeout(r, 1000));
    }
    try {
      return await fn();
    } finally {
      await removeFile(this.loc, MAINT_LOCK);
    }
  }

  /**
   * Make sure the search indexes exist and cover new rows: scalar index on pmid, FTS on articles.text and
   * sentences.text, and a vector index once a table has ANN_MIN_ROWS rows. `force` rebuilds them all.
   * Runs under the maintenance lock; skipped (false) when another writer is doing it.
   */
  async ensureIndexes(
    opts: { force?: boolean; annMinRows?: number; onStep?: (s: string) => void; wait?: boolean } = {},
  ): Promise<boolean> {
    const r = await this.withMaintenanceLock(
      async () => {
        await this.ensureIndexesLocked(opts);
        return true;
      },
      { wait: opts.wait },
    );
    if (r === undefined) opts.onStep?.('another writer holds the maintenance lock: index refresh left to it');
    return r ?? false;
  }

  private async ensureIndexesLocked(opts: {
    force?: boolean;
    annMinRows?: number;
    onStep?: (s: string) => void;
  }): Promise<void> {
    const step = opts.onStep ?? (() => undefined);
    this.meta = (await readMeta(this.loc)) ?? this.meta;
    for (const [name, table] of [
      [ARTICLES, this.articles],
      [SENTENCES, this.sentences],
    ] as const) {
      await table.checkoutLatest();
      const rows = await table.countRows();
      if (!rows) continue;
      const have = new Map((await table.listIndices()).map((i) => [i.columns.join(','), i]));
      if (opts.force || !have.has('pmid')) {
        step(`${name}: scalar index on pmid`);
        await withConflictRetry('index pmid', () =>
          table.createIndex('pmid', { config: lancedb.Index.btree(), replace: true }),
        );
      }
      if (opts.force || !have.has('text')) {
        step(`${name}: full-text index on text`);
        await withConflictRetry('index text', () =>
          table.createIndex('text', { config: lancedb.Index.fts(FTS_OPTIONS), replace: true }),
        );
      }
      const annMin = opts.annMinRows ?? ANN_MIN_ROWS;
      // Parameters follow the row count they were chosen for; a table that has more than doubled since gets a new
      // index (partitions ≈ √rows), so partitions do not silently grow to many times the size that was measured.
      const built = this.meta.ann?.[name];
      const outgrown = have.has('vector') && (!built || rows > 2 * built.rows);
      if (rows >= annMin && (opts.force || !have.has('vector') || outgrown)) {
        step(
          `${name}: vector index (${rows} rows${outgrown && built ? `; the last one was made for ${built.rows}` : ''})`,
        );
        const p = await withConflictRetry('vector index', () => buildVectorIndex(table, rows, this.meta.model.dim));
        this.meta.ann = { ...(this.meta.ann ?? {}), [name]: p };
        await this.saveMeta();
      } else if (rows < annMin && have.has('vector') && opts.force) {
        await table.dropIndex(have.get('vector')!.name);
        if (this.meta.ann) delete this.meta.ann[name];
        await this.saveMeta();
      }
      // New rows since the last index build are folded in (FTS and vector indexes are incremental).
      if (!opts.force)
        await withConflictRetry('optimize', async () =>
          table.optimize({ cleanupOlderThan: await safeCleanupDate(table, new Date(Date.now() - 60_000)) }),
        );
    }
  }

  /** Compaction + index refresh + cleanup of old versions (under the maintenance lock, waiting for it). */
  async optimize(opts: { olderThan?: Date } = {}): Promise<{ articles: unknown; sentences: unknown }> {
    const r = await this.withMaintenanceLock(
      async () => {
        const out: Record<string, unknown> = {};
        for (const [name, t] of [
          [ARTICLES, this.articles],
          [SENTENCES, this.sentences],
          [FILES, this.files],
          [DELETED, this.deleted],
          [LIBRARY, this.library],
        ] as const) {
          if (!t) continue;
          await t.checkoutLatest();
          out[name] = await withConflictRetry(`optimize ${name}`, async () =>
            t.optimize({ cleanupOlderThan: await safeCleanupDate(t, opts.olderThan ?? new Date()) }),
          );
        }
        return { articles: out[ARTICLES], sentences: out[SENTENCES] };
      },
      { wait: true },
    );
    return r!;
  }

  annParams(table: string): AnnParams | undefined {
    return this.meta.ann?.[table];
  }
}

/** The element type of a table's `vector` column (undefined when it has none or another type). */
export function tableVectorType(schema: import('apache-arrow').Schema): VectorType | undefined {
  const f = schema.fields.find((x) => x.name === 'vector');
  const child = (f?.type as { children?: import('apache-arrow').Field[] } | undefined)?.children?.[0]?.type;
  if (!child) return undefined;
  if (child instanceof arrow.Float16 || String(child) === 'Float16') return 'float16';
  if (child instanceof arrow.Float32 || String(child) === 'Float32') return 'float32';
  return undefined;
}

/** The refusal for a writer whose asked-for storage options differ from those `meta` records (else undefined). */
function storageOptionMismatch(dir: string, meta: IndexMeta, opts: OpenOptions): IndexOptionMismatchError | undefined {
  if (opts.vectorType && opts.vectorType !== vectorTypeOf(meta))
    return new IndexOptionMismatchError(dir, 'vector type', vectorTypeOf(meta), opts.vectorType);
  if (opts.sentenceScope && opts.sentenceScope !== sentenceScopeOf(meta))
    return new IndexOptionMismatchError(dir, 'sentence scope', sentenceScopeOf(meta), opts.sentenceScope);
  return undefined;
}

/** meta.json of a location, or undefined when there is none; a damaged one is named with how to recover. */
export async function readMeta(loc: IndexLocation): Promise<IndexMeta | undefined> {
  const text = await readText(loc, META_FILE);
  if (text === undefined) return undefined;
  try {
    return parseIndexMeta(text, `${describeLocation(loc)}/${META_FILE}`);
  } catch (e) {
    throw Object.assign(
      new Error(
        `${errorText(e)}. This file records which model made the index's vectors; restore it from a backup, ` +
          `or rebuild with \`biohicl index add --rebuild --index ${describeLocation(loc)} <files...>\``,
      ),
      { exitCode: 4 },
    );
  }
}

/**
 * The cleanup cut-off for a table: `wanted`, but never past its oldest tagged version (a release tag): LanceDB's
 * cleanup refuses to run at all when it would remove a tagged version, so each cleanup keeps the versions from the
 * oldest tag on; the next release moves the tag and lets them go.
 */
export async function safeCleanupDate(table: lancedb.Table, wanted: Date): Promise<Date> {
  const tags = Object.values(await (await table.tags()).list()).map((t) => Number((t as { version?: number }).version));
  if (!tags.length) return wanted;
  const oldest = Math.min(...tags);
  const v = (await table.listVersions()).find((x) => x.version === oldest);
  if (!v) return wanted;
  const ts = new Date(Number(v.timestamp) > 1e12 ? Number(v.timestamp) : Number(v.timestamp) * 1000);
  return ts < wanted ? ts : wanted;
}

/**
 * The order of an input file: NLM's `pubmedYYnNNNN.xml(.gz)` → yy*100000 + NNNN (each year's baseline is numbered
 * 0001…, its update files continue the numbering), anything else 0 (a writer's own files: applied in the order given).
 */
export function fileSeq(file: string): number {
  const o = nlmFileOrder(path.basename(file));
  return o ? o.yy * 100_000 + o.n : 0;
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
export function annParamsFor(
  rows: number,
  dim: number,
  type: 'IVF_RQ' | 'IVF_PQ' = 'IVF_RQ',
): Omit<AnnParams, 'builtAt' | 'buildSeconds'> {
  const numPartitions = Math.max(8, Math.round(Math.sqrt(rows)));
  let numSubVectors = Math.max(1, Math.round(dim / 16));
  while (dim % numSubVectors) numSubVectors--;
  const nprobes = Math.min(numPartitions, Math.max(20, Math.round(numPartitions * 0.05)));
  if (type === 'IVF_PQ') return { type, rows, numPartitions, numSubVectors, nprobes, refineFactor: 10 };
  return { type, rows, numPartitions, numBits: RQ_BITS, nprobes, refineFactor: 5 };
}

/** Bits per dimension of the IVF_RQ codes (see annParamsFor). */
export const RQ_BITS = 4;

export async function buildVectorIndex(
  table: lancedb.Table,
  rows: number,
  dim: number,
  over?: Partial<AnnParams>,
): Promise<AnnParams> {
  const p = { ...annParamsFor(rows, dim, over?.type === 'IVF_PQ' ? 'IVF_PQ' : 'IVF_RQ'), ...(over ?? {}) };
  const t0 = Date.now();
  const config =
    p.type === 'IVF_PQ'
      ? lancedb.Index.ivfPq({
          numPartitions: p.numPartitions,
          numSubVectors: p.numSubVectors,
          distanceType: 'cosine',
          sampleRate: 256,
          maxIterations: 20,
        })
      : lancedb.Index.ivfRq({ numPartitions: p.numPartitions, numBits: p.numBits ?? 1, distanceType: 'cosine' });
  await table.createIndex('vector', { config, replace: true });
  return { ...p, builtAt: new Date().toISOString(), buildSeconds: (Date.now() - t0) / 1000 };
}

const MESH_COLUMN = v.array(MeshHeadingSchema);

/** Row → ArticleInfo (LanceDB returns Arrow list vectors for list columns). */
export function toArticleInfo(r: Record<string, unknown>): ArticleInfo {
  const list = (v: unknown): string[] =>
    v == null ? [] : Array.from((v as { toArray?: () => unknown[] }).toArray?.() ?? (v as unknown[])).map(String);
  let mesh: MeshHeading[] = [];
  try {
    mesh = parseJson(String(r.mesh ?? '[]'), MESH_COLUMN, `articles row ${String(r.pmid)}: mesh`);
  } catch {
    mesh = []; // a damaged column loses only the MeSH votes of this row
  }
  return {
    pmid: String(r.pmid),
    title: String(r.title ?? ''),
    abstract: rowAbstract(r),
    authors: list(r.authors),
    journal: String(r.journal ?? ''),
    year: r.year == null ? undefined : Number(r.year),
    month: r.month == null ? undefined : Number(r.month),
    volume: r.volume == null ? undefined : String(r.volume),
    issue: r.issue == null ? undefined : String(r.issue),
    pages: r.pages == null ? undefined : String(r.pages),
    issn: r.issn == null ? undefined : String(r.issn),
    doi: r.doi == null ? undefined : String(r.doi),
    pmcid: r.pmcid == null ? undefined : String(r.pmcid),
    publicationTypes: list(r.publication_types),
    mesh,
    hasAbstract: Boolean(r.has_abstract),
  };
}

/** How a format-3 row cuts its abstract (in `text`) back into sections: label, category, length of the text. */
interface SectionLabel {
  label?: string;
  category?: string;
  n: number;
}

/** An articles row as a format-3 table stores it: no `abstract`/`sections`, their labels and lengths instead. */
function abstractOnce(a: ArticleRow): Record<string, unknown> {
  const { abstract, sections, ...rest } = a;
  const secs = JSON.parse(sections || '[]') as AbstractSection[];
  const labels: SectionLabel[] = secs.map((x) => ({
    ...(x.label !== undefined ? { label: x.label } : {}),
    ...(x.category !== undefined ? { category: x.category } : {}),
    n: x.text.length,
  }));
  const row = { ...rest, section_labels: JSON.stringify(labels) };
  // Kept once only if it can be read back exactly (the build writes text = title + '\n' + abstract).
  const back = rowSections(row);
  if (
    (abstract && (rest.text !== `${rest.title}\n${abstract}` || rowAbstract(row) !== abstract)) ||
    back.some((x, i) => x.text !== secs[i]!.text)
  )
    throw new Error(
      `PMID ${a.pmid}: the articles row's text is not its title and abstract, so the abstract cannot be stored once`,
    );
  return row;
}

/** The columns a row's abstract is read from: `abstract` (format ≤ 2), or title and text (format 3). */
export async function abstractColumns(store: IndexStore): Promise<string[]> {
  return (await store.hasColumn('articles', 'abstract')) ? ['abstract'] : ['title', 'text'];
}
/** The columns a row's sections are read from: `sections` (format ≤ 2), or title, text and section_labels. */
export async function sectionColumns(store: IndexStore): Promise<string[]> {
  return (await store.hasColumn('articles', 'sections')) ? ['sections'] : ['title', 'text', 'section_labels'];
}

/** A row's abstract (labelled `LABEL: text` paragraphs): its `abstract` column, or (format 3) `text` less the title. */
export function rowAbstract(r: Record<string, unknown>): string {
  if (r.abstract != null) return String(r.abstract);
  const text = String(r.text ?? '');
  const title = String(r.title ?? '');
  return text.startsWith(`${title}\n`) ? text.slice(title.length + 1) : '';
}

/** A row's abstract sections: its `sections` column, or (format 3) its abstract cut by `section_labels`. */
export function rowSections(r: Record<string, unknown>): AbstractSection[] {
  if (r.sections != null) {
    try {
      return JSON.parse(String(r.sections)) as AbstractSection[];
    } catch {
      return [];
    }
  }
  let labels: SectionLabel[];
  try {
    labels = JSON.parse(String(r.section_labels ?? '[]')) as SectionLabel[];
  } catch {
    return [];
  }
  const abs = rowAbstract(r);
  const out: AbstractSection[] = [];
  let at = 0;
  labels.forEach((l, i) => {
    if (i > 0) at += 1; // '\n'
    if (l.label) at += l.label.length + 2; // 'LABEL: '
    out.push({
      ...(l.label !== undefined ? { label: l.label } : {}),
      text: abs.slice(at, at + l.n),
      ...(l.category !== undefined ? { category: l.category } : {}),
    });
    at += l.n;
  });
  return out;
}

export function toFloat32(v: unknown): Float32Array {
  if (v instanceof Float32Array) return v;
  const a = (v as { toArray?: () => ArrayLike<number> }).toArray?.() ?? (v as ArrayLike<number>);
  // A float16 vector column comes back as its raw bits (Uint16Array): decode them, never pass the bits on as numbers.
  if (a instanceof Uint16Array) {
    const o = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) o[i] = arrow.util.uint16ToFloat64(a[i]!);
    return o;
  }
  return a instanceof Float32Array ? a : Float32Array.from(a);
}
