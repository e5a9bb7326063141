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
import * as v from 'valibot';
import { ModelIdentitySchema } from '../inference/types';
import { errorText } from '../util/errors';
import { md5Hex, parseJson, sha256Hex } from '../util/json';

export const RELEASE_FILE = 'release.json';
export const RELEASE_FORMAT = 'biohicl-release/1';
export const RELEASE_TABLES = ['articles', 'sentences', 'files', 'deleted'] as const;
export type ReleaseTable = (typeof RELEASE_TABLES)[number];

const TAG_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** The only paths a release may hold: meta.json and files inside the four table folders (no `..`, no absolute). */
const PATH_RE =
  /^(?:meta\.json|(?:articles|sentences|files|deleted)\.lance\/(?:[A-Za-z0-9_][A-Za-z0-9_.=-]*\/)*[A-Za-z0-9_][A-Za-z0-9_.=-]*)$/;

export function validTag(tag: string): boolean {
  return TAG_RE.test(tag) && !tag.includes('..');
}

export function validReleasePath(p: string): boolean {
  return PATH_RE.test(p) && !p.split('/').some((s) => s === '.' || s === '..') && p.length <= 400;
}

const TAG_FILE_RE = /^(articles|sentences|files|deleted)\.lance\/_refs\/tags\/[A-Za-z0-9][A-Za-z0-9._-]*\.json$/;

const count = v.pipe(
  v.number('expected a count (an integer ≥ 0)'),
  v.safeInteger('expected a count (an integer ≥ 0)'),
  v.minValue(0, 'expected a count (an integer ≥ 0)'),
);

const releaseFileOf = (pathCheck: (p: string) => boolean, what: string) =>
  v.object({
    /** Relative path with forward slashes, e.g. `articles.lance/data/0101….lance`. */
    path: v.pipe(v.string(what), v.check(pathCheck, what)),
    size: count,
    sha256: sha256Hex,
  });
const ReleaseFileSchema = releaseFileOf(validReleasePath, 'expected meta.json or a file inside a table folder');
export type ReleaseFile = v.InferOutput<typeof ReleaseFileSchema>;

const ReleaseTableInfoSchema = v.object({
  /** The Lance version published. */
  version: count,
  rows: count,
  fragments: count,
  /** Index names in the version (pmid_idx, text_idx, vector_idx). */
  indexes: v.array(v.string()),
  /** Index name → its folder under `_indices/` (a changed index gets a new folder, so a delta names what changed). */
  indexDirs: v.optional(v.record(v.string(), v.string())),
});
export type ReleaseTableInfo = v.InferOutput<typeof ReleaseTableInfoSchema>;

const ReleasePubmedFileSchema = v.object({
  name: v.string(),
  /** NLM order (yy*10000 + number); 0 for other input files. */
  file_seq: count,
  size: count,
  /** 'complete', or 'rejects' when some of its records were rejected. */
  status: v.string(),
  /** md5 of the file as NLM published it, when known. */
  md5: v.optional(md5Hex),
  /** Where the md5 comes from: `verified` (biohicl pubmed fetch checked it against NLM's .md5), `computed` (hashed at
   * publish time from the file still at its path, same size and mtime as when it was indexed). */
  md5Source: v.optional(v.picklist(['verified', 'computed'])),
});
export type ReleasePubmedFile = v.InferOutput<typeof ReleasePubmedFileSchema>;

export const ReleaseManifestSchema = v.object({
  format: v.literal(RELEASE_FORMAT, `expected ${JSON.stringify(RELEASE_FORMAT)} (the format this version reads)`),
  tag: v.pipe(v.string(), v.check(validTag, 'expected a tag (letters, digits, . _ -)')),
  created: v.string(),
  /** The index format (store.ts INDEX_FORMAT) of meta.json. */
  indexFormat: count,
  model: ModelIdentitySchema,
  /** The four tables; `files` and `deleted` are absent in releases of indexes that have none. */
  tables: v.object({
    articles: ReleaseTableInfoSchema,
    sentences: ReleaseTableInfoSchema,
    files: v.optional(ReleaseTableInfoSchema),
    deleted: v.optional(ReleaseTableInfoSchema),
  }),
  counts: v.object({ articles: count, sentences: count }),
  pubmed: v.object({ count, last: v.optional(v.string()), files: v.array(ReleasePubmedFileSchema) }),
  files: v.pipe(v.array(ReleaseFileSchema), v.minLength(1, 'expected at least one file')),
  totalBytes: count,
  /** The LanceDB tag files (`<table>.lance/_refs/tags/<tag>.json`) in the release folder. They make the folder a
   * tagged version; a pull does not copy them: in LanceDB's Node SDK a tag on a version that is no longer the latest
   * makes every `optimize({cleanupOlderThan})` fail, so a tagged local copy could not be updated with `index add`.
   * The pulled index records the release in meta.json (`release`) and release.json instead. */
  tags: v.optional(v.array(releaseFileOf((p) => TAG_FILE_RE.test(p), 'expected <table>.lance/_refs/tags/<tag>.json'))),
});
export type ReleaseManifest = v.InferOutput<typeof ReleaseManifestSchema>;

/** A release.json that is not what it claims (exit 1, the working index untouched). */
export class ReleaseError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'ReleaseError';
    this.exitCode = exitCode;
  }
}

/** Parse and check a release.json text. Throws ReleaseError naming the field and the value that are wrong. */
export function parseRelease(text: string, where: string): ReleaseManifest {
  let m: ReleaseManifest;
  try {
    m = parseJson(text, ReleaseManifestSchema, `${where}: release.json`);
  } catch (e) {
    throw new ReleaseError(errorText(e));
  }
  const bad = (why: string): never => {
    throw new ReleaseError(`${where}: release.json is not a valid release: ${why}`);
  };
  const seen = new Set<string>();
  let total = 0;
  for (const f of m.files) {
    if (seen.has(f.path)) bad(`${f.path} listed twice`);
    seen.add(f.path);
    total += f.size;
  }
  if (!seen.has('meta.json')) bad('no meta.json');
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
