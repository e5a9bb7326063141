// release.json: what a published index release is. Written by publish.ts, read (and distrusted) by pull.ts.
//
// A release is a folder laid out exactly like an index (so it is itself an index any LanceDB reader or
// `biohicl search --index <release>` can open), holding only the files of one version of each table:
//
//   release.json                                this file
//   meta.json                                   the index record (model identity, `release` set, no modelDir)
//   articles.lance/_versions/<n>.manifest       the published version's manifest (and no other)
//   articles.lance/_refs/tags/<tag>.json        the LanceDB tag of that version (listed under `tags`; not pulled)
//   articles.lance/_transactions/<txn>          the version's transaction record
//   articles.lance/data/*.lance                 data files (immutable, uniquely named by Lance)
//   articles.lance/_deletions/*                 deletion vectors
//   articles.lance/_indices/<uuid>/*            scalar, full-text and vector indexes
//   sentences.lance/… files.lance/… deleted.lance/…
//
// Lance never rewrites a data, deletion or index file, and names each uniquely, so two releases of one index share
// every file that did not change at the same path with the same bytes: a pull fetches only paths whose (size,
// sha256) it does not already hold.
import type { ModelIdentity } from '../inference/types';

export const RELEASE_FILE = 'release.json';
export const RELEASE_FORMAT = 'biohicl-release/1';
export const RELEASE_TABLES = ['articles', 'sentences', 'files', 'deleted'] as const;
export type ReleaseTable = (typeof RELEASE_TABLES)[number];

export interface ReleaseFile {
  /** Relative path with forward slashes, e.g. `articles.lance/data/0101….lance`. */
  path: string;
  size: number;
  sha256: string;
}

export interface ReleaseTableInfo {
  /** The Lance version published. */
  version: number;
  rows: number;
  fragments: number;
  /** Index names in the version (pmid_idx, text_idx, vector_idx). */
  indexes: string[];
  /** Index name → its folder under `_indices/` (a changed index gets a new folder, so a delta names what changed). */
  indexDirs?: Record<string, string>;
}

export interface ReleasePubmedFile {
  name: string;
  /** NLM order (yy*10000 + number); 0 for other input files. */
  file_seq: number;
  size: number;
  /** 'complete', or 'rejects' when some of its records were rejected. */
  status: string;
  /** md5 of the file as NLM published it, when known. */
  md5?: string;
  /** Where the md5 comes from: `verified` (biohicl pubmed fetch checked it against NLM's .md5), `computed` (hashed at
   * publish time from the file still at its path, same size and mtime as when it was indexed). */
  md5Source?: 'verified' | 'computed';
}

export interface ReleaseManifest {
  format: typeof RELEASE_FORMAT;
  tag: string;
  created: string;
  /** The index format (store.ts INDEX_FORMAT) of meta.json. */
  indexFormat: number;
  model: ModelIdentity;
  tables: Record<ReleaseTable, ReleaseTableInfo>;
  counts: { articles: number; sentences: number };
  pubmed: { count: number; last?: string; files: ReleasePubmedFile[] };
  files: ReleaseFile[];
  totalBytes: number;
  /** The LanceDB tag files (`<table>.lance/_refs/tags/<tag>.json`) in the release folder. They make the folder a
   * tagged version; a pull does not copy them: in LanceDB's Node SDK a tag on a version that is no longer the latest
   * makes every `optimize({cleanupOlderThan})` fail, so a tagged local copy could not be updated with `index add`.
   * The pulled index records the release in meta.json (`release`) and release.json instead. */
  tags?: ReleaseFile[];
}

/** A release.json that is not what it claims (exit 1, the working index untouched). */
export class ReleaseError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'ReleaseError';
    this.exitCode = exitCode;
  }
}

const TAG_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const SHA_RE = /^[0-9a-f]{64}$/;
/** The only paths a release may hold: meta.json and files inside the four table folders (no `..`, no absolute). */
const PATH_RE =
  /^(?:meta\.json|(?:articles|sentences|files|deleted)\.lance\/(?:[A-Za-z0-9_][A-Za-z0-9_.=-]*\/)*[A-Za-z0-9_][A-Za-z0-9_.=-]*)$/;

export function validTag(tag: string): boolean {
  return TAG_RE.test(tag) && !tag.includes('..');
}

export function validReleasePath(p: string): boolean {
  return PATH_RE.test(p) && !p.split('/').some((s) => s === '.' || s === '..') && p.length <= 400;
}

/** Parse and check a release.json text. Throws ReleaseError naming what is wrong. */
export function parseRelease(text: string, where: string): ReleaseManifest {
  let m: ReleaseManifest;
  try {
    m = JSON.parse(text) as ReleaseManifest;
  } catch (e) {
    throw new ReleaseError(`${where}: release.json is not JSON (${(e as Error).message})`);
  }
  const bad = (why: string): never => {
    throw new ReleaseError(`${where}: release.json is not a valid release: ${why}`);
  };
  if (!m || typeof m !== 'object') bad('not an object');
  if (m.format !== RELEASE_FORMAT) bad(`format ${JSON.stringify(m.format)} (this version reads ${RELEASE_FORMAT})`);
  if (typeof m.tag !== 'string' || !validTag(m.tag)) bad(`tag ${JSON.stringify(m.tag)}`);
  const id = m.model;
  if (
    !id ||
    typeof id.repo !== 'string' ||
    typeof id.revision !== 'string' ||
    typeof id.manifestHash !== 'string' ||
    typeof id.dim !== 'number'
  )
    bad('no model identity');
  if (!Array.isArray(m.files) || !m.files.length) bad('no files');
  const seen = new Set<string>();
  let total = 0;
  for (const f of m.files) {
    if (!f || typeof f.path !== 'string' || !validReleasePath(f.path))
      bad(`file path ${JSON.stringify(f?.path)} (only meta.json and files inside the table folders)`);
    if (seen.has(f.path)) bad(`${f.path} listed twice`);
    seen.add(f.path);
    if (!Number.isSafeInteger(f.size) || f.size < 0) bad(`${f.path}: size ${JSON.stringify(f.size)}`);
    if (typeof f.sha256 !== 'string' || !SHA_RE.test(f.sha256)) bad(`${f.path}: sha256 ${JSON.stringify(f.sha256)}`);
    total += f.size;
  }
  if (!seen.has('meta.json')) bad('no meta.json');
  if (m.files.some((f) => f.path.includes('/_refs/'))) bad('tag files belong in "tags", not "files"');
  for (const f of m.tags ?? []) {
    if (
      !f ||
      typeof f.path !== 'string' ||
      !/^(articles|sentences|files|deleted)\.lance\/_refs\/tags\/[A-Za-z0-9][A-Za-z0-9._-]*\.json$/.test(f.path)
    )
      bad(`tag file ${JSON.stringify(f?.path)}`);
  }
  for (const t of ['articles', 'sentences'] as const) {
    if (!m.tables?.[t] || !Number.isSafeInteger(m.tables[t].version) || !Number.isSafeInteger(m.tables[t].rows))
      bad(`no version/rows for table ${t}`);
  }
  if (m.totalBytes !== total) bad(`totalBytes ${m.totalBytes} is not the sum of the file sizes (${total})`);
  return m;
}

/** Bytes as a short human figure (for messages). */
export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
