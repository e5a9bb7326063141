// manifest.json of a converted model folder: where its weights came from, what was written, and the shapes the
// embedder needs. `manifestHash` (sha256 of manifest.json's bytes) identifies the model in an index.
//
// Integrity at load time (verifyModelFiles): every file the embedder opens is checked against the size and sha256
// the manifest recorded when it was converted. A file is hashed in full the first time it is seen; the result is
// remembered in `.verified.json` in the model folder (in memory where the folder is read-only), keyed by the file's
// size, mtime, ctime, inode and device, so a later load costs one stat per file. A file that differs is refused with
// an error naming it, both hashes and the command that makes the folder again.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v from 'valibot';
import { errorText } from '../util/errors';
import { hashBytes, hashFile } from '../util/hash';
import { parseJson, positiveInt, readJsonIfExists } from '../util/json';

const sizeOf = v.pipe(
  v.number('expected a size in bytes'),
  v.integer('expected a size in bytes'),
  v.minValue(0, 'expected a size in bytes'),
);

export const ManifestSchema = v.object({
  format: v.literal(1, 'expected manifest format 1'),
  source: v.object({ repo: v.string(), revision: v.string(), generated: v.boolean() }),
  /** Input files (relative to the source folder(s)) → sha256. Base-model files of a LoRA merge are prefixed `base/`. */
  inputs: v.record(v.string(), v.string()),
  /** Files written to the model folder (except manifest.json) → sha256 (checked where a file is opened). */
  outputs: v.record(v.string(), v.string()),
  /** Sizes in bytes of `outputs` (absent in manifests written before it was recorded). */
  sizes: v.optional(v.record(v.string(), sizeOf)),
  config: v.object({
    hidden: positiveInt,
    layers: positiveInt,
    heads: positiveInt,
    ffn: positiveInt,
    vocab: positiveInt,
    maxPositions: positiveInt,
  }),
  pooling: v.literal('cls'),
  dim: positiveInt,
  normalize: v.literal(true),
  /** ONNX files per precision, relative to the model folder; a precision that was not converted is absent. */
  files: v.object({ fp32: v.optional(v.string()), int8: v.optional(v.string()), fp16: v.optional(v.string()) }),
  tokenizer: v.literal('tokenizer.json'),
  createdAt: v.string(),
});
export type Manifest = v.InferOutput<typeof ManifestSchema>;

export const MANIFEST_FILE = 'manifest.json';
/** Sidecar in the model folder remembering which files were hashed and found intact (see verifyModelFiles). */
export const VERIFY_CACHE_FILE = '.verified.json';

/** Reads and checks `${dir}/manifest.json` (a missing or damaged one names the file, the field and the value). */
export function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the model manifest (${errorText(e)})`);
  }
  return parseJson(text, ManifestSchema, file);
}

/** sha256 (hex) of `${dir}/manifest.json`. */
export function manifestHash(dir: string): string {
  return hashBytes(fs.readFileSync(path.join(dir, MANIFEST_FILE)));
}

/** sha256 (hex) of a file, streamed (the project's one hasher, ../util/hash). */
export function sha256File(file: string): Promise<string> {
  return hashFile(file, 'sha256');
}

/** Re-hashes every output listed in the manifest; returns the files whose hash differs or that are missing. */
export async function verifyManifestOutputs(dir: string): Promise<string[]> {
  const m = readManifest(dir);
  const bad: string[] = [];
  for (const [f, want] of Object.entries(m.outputs)) {
    const p = path.join(dir, f);
    if (!fs.existsSync(p) || (await sha256File(p)) !== want) bad.push(f);
  }
  return bad;
}

// ---------------------------------------------------------------------------------------------------------------
// Integrity at load time.

/** A model file that does not match its manifest. Exit code 4 in the CLI: there is no usable model there. */
export class ModelIntegrityError extends Error {
  readonly exitCode = 4;
  constructor(
    message: string,
    readonly file: string,
    readonly expected?: string,
    readonly actual?: string,
  ) {
    super(message);
    this.name = 'ModelIntegrityError';
  }
}

/** The command that makes the model folder again, from where the manifest says its weights came from. */
export function remakeHint(dir: string, m: Pick<Manifest, 'source'>): string {
  const repo = m.source?.repo ?? '';
  const q = (s: string): string => (/^[\w./:@+-]+$/.test(s) ? s : JSON.stringify(s));
  if (repo.startsWith('generated:'))
    return `\`biohicl model generate --shape ${q(repo.slice('generated:'.length))} --out ${q(dir)}\``;
  if (repo.startsWith('local:')) return `\`biohicl model convert ${q(repo.slice('local:'.length))} --out ${q(dir)}\``;
  return (
    `\`biohicl model fetch --variant base|large --dir ${q(dir)} --force\` (source ${repo || 'unknown'}), ` +
    `or \`biohicl model convert <hugging-face-folder> --out ${q(dir)}\``
  );
}

const CacheEntrySchema = v.object({
  size: v.string(),
  mtimeNs: v.string(),
  ctimeNs: v.string(),
  ino: v.string(),
  dev: v.string(),
  sha256: v.string(),
  checkedNs: v.pipe(v.string(), v.regex(/^\d+$/)),
});
type CacheEntry = v.InferOutput<typeof CacheEntrySchema>;
const CacheFileSchema = v.object({ format: v.literal(1), files: v.record(v.string(), CacheEntrySchema) });
type CacheFile = v.InferOutput<typeof CacheFileSchema>;

/**
 * A file last changed this shortly before it was hashed could change again within the same timestamp tick (1–2 s
 * on some file systems) without its stat changing; such a result is not trusted on the next load ("racy" entries,
 * as in git's index): the file is hashed again.
 */
export const RACY_NS = 2_000_000_000n;

/** Where the folder cannot be written: results kept for this process, by absolute path. */
const memoryCache = new Map<string, CacheEntry>();

export interface VerifyResult {
  /** Files hashed in full this time (new, changed, or never verified). */
  hashed: string[];
  /** Files accepted from the cache on a stat alone. */
  cached: string[];
}

function statKey(st: fs.BigIntStats): Omit<CacheEntry, 'sha256' | 'checkedNs'> {
  return {
    size: String(st.size),
    mtimeNs: String(st.mtimeNs),
    ctimeNs: String(st.ctimeNs),
    ino: String(st.ino),
    dev: String(st.dev),
  };
}

function sameStat(e: CacheEntry | undefined, k: Omit<CacheEntry, 'sha256' | 'checkedNs'>): boolean {
  return (
    !!e && e.size === k.size && e.mtimeNs === k.mtimeNs && e.ctimeNs === k.ctimeNs && e.ino === k.ino && e.dev === k.dev
  );
}

function trusted(e: CacheEntry | undefined, k: Omit<CacheEntry, 'sha256' | 'checkedNs'>, want: string): boolean {
  if (!sameStat(e, k) || e!.sha256 !== want) return false;
  const changed = BigInt(k.mtimeNs) > BigInt(k.ctimeNs) ? BigInt(k.mtimeNs) : BigInt(k.ctimeNs);
  return BigInt(e!.checkedNs) - changed >= RACY_NS;
}

function readCache(dir: string): CacheFile {
  try {
    const c = readJsonIfExists(path.join(dir, VERIFY_CACHE_FILE), CacheFileSchema);
    if (c) return c;
  } catch {
    // unreadable or damaged: a cache, so every file is hashed afresh
  }
  return { format: 1, files: {} };
}

function writeCache(dir: string, c: CacheFile): boolean {
  const file = path.join(dir, VERIFY_CACHE_FILE);
  const tmp = `${file}.${process.pid}.partial`;
  try {
    fs.writeFileSync(tmp, JSON.stringify(c, null, 1) + '\n');
    fs.renameSync(tmp, file);
    return true;
  } catch {
    fs.rmSync(tmp, { force: true });
    return false;
  }
}

/**
 * Checks `files` (names relative to the model folder, as in manifest.json's `outputs`) against the manifest's sha256
 * (and size, where recorded). Throws ModelIntegrityError naming the first file that is missing, unlisted or
 * different. Cheap after the first time: see the file comment.
 */
export async function verifyModelFiles(
  dir: string,
  files: readonly string[],
  m: Manifest = readManifest(dir),
): Promise<VerifyResult> {
  const abs = path.resolve(dir);
  const manifestFile = path.join(abs, MANIFEST_FILE);
  const fix = `Make the model folder again: ${remakeHint(abs, m)}; \`biohicl model info ${abs} --verify\` lists every file that differs.`;
  const cache = readCache(abs);
  const fresh = new Map<string, CacheEntry>();
  // The sidecar when the folder is writable; else this process's memory.
  const save = (): void => {
    if (fresh.size && !writeCache(abs, cache)) for (const [f, e] of fresh) memoryCache.set(f, e);
  };
  const res: VerifyResult = { hashed: [], cached: [] };
  for (const rel of files) {
    const file = path.join(abs, rel);
    const want = m.outputs[rel];
    if (typeof want !== 'string' || !/^[0-9a-f]{64}$/.test(want)) {
      throw new ModelIntegrityError(
        `${file}: not listed with a sha256 in ${manifestFile}, so it cannot be checked; refusing to load it. ${fix}`,
        file,
      );
    }
    if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) {
      throw new ModelIntegrityError(
        `${manifestFile}: output ${JSON.stringify(rel)} is outside the model folder; refusing to load it. ${fix}`,
        file,
      );
    }
    let st: fs.BigIntStats;
    try {
      st = fs.statSync(file, { bigint: true });
    } catch {
      throw new ModelIntegrityError(
        `${file}: missing, but ${manifestFile} lists it (sha256 ${want}); refusing to load the model. ${fix}`,
        file,
        want,
      );
    }
    const key = statKey(st);
    if (trusted(memoryCache.get(file), key, want) || trusted(cache.files[rel], key, want)) {
      res.cached.push(rel);
      continue;
    }
    const checkedNs = String(BigInt(Date.now()) * 1_000_000n);
    const got = await hashFile(file, 'sha256');
    res.hashed.push(rel);
    const wantSize = m.sizes?.[rel];
    if (got !== want || (wantSize !== undefined && String(wantSize) !== key.size)) {
      delete cache.files[rel];
      memoryCache.delete(file);
      save();
      const sizes =
        wantSize !== undefined && String(wantSize) !== key.size
          ? `; ${key.size} bytes, the manifest records ${wantSize}`
          : '';
      throw new ModelIntegrityError(
        `${file} does not match the model manifest (${manifestFile}): sha256 ${got}, expected ${want}${sizes}. ` +
          `The file was changed or damaged after conversion; refusing to load the model. ${fix}`,
        file,
        want,
        got,
      );
    }
    const after = statKey(fs.statSync(file, { bigint: true }));
    if (!sameStat({ ...after, sha256: '', checkedNs: '' }, key)) continue; // changed while hashed: decide next time
    const entry: CacheEntry = { ...key, sha256: got, checkedNs };
    cache.files[rel] = entry;
    fresh.set(file, entry);
  }
  save();
  return res;
}

/** The manifest's outputs other than ONNX graphs (tokenizer files, config.json): read whenever a model is loaded. */
export function supportFiles(m: Manifest): string[] {
  const onnx = new Set(Object.values(m.files ?? {}));
  return Object.keys(m.outputs).filter((f) => !onnx.has(f) && !f.endsWith('.onnx'));
}
