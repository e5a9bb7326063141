// Downloads a model's files from Hugging Face (or a mirror) into a folder: config.json, tokenizer files and the
// weights (model.safetensors, else pytorch_model.bin; or a PEFT adapter plus its base model), over HTTPS with
// redirects, resumable through HTTP Range into `<file>.partial`, sha256-verified against models/registry.json.
// The transfer itself is the project's one downloader (src/net/download.ts); hashes go through src/util/hash.ts.
// No `vscode` import: the CLI and the extension (its worker) both call fetchModel.
import * as fs from 'node:fs';
import * as path from 'node:path';
import registryJson from '../../models/registry.json';
import { assertAllowedUrl, download, DownloadError, HashMismatchError } from '../net/download';
import * as v from 'valibot';
import { hashFile } from '../util/hash';
import { checkJson, readJsonIfExists, sha256Hex, type AnySchema } from '../util/json';

export { HashMismatchError };

const ModelKindSchema = v.picklist(['merged', 'merged-or-adapter']);
export type ModelKind = v.InferOutput<typeof ModelKindSchema>;

export const RegistryEntrySchema = v.object({
  name: v.optional(v.string()),
  repo: v.string(),
  /** Pinned commit (40 hex), or null when no pin is known yet. */
  revision: v.nullable(v.string()),
  kind: ModelKindSchema,
  /** Registry id of the base model an adapter is merged into. */
  base: v.optional(v.string()),
  /** The files at the pinned revision → sha256 (null: downloaded and recorded, not verified; weights never null when pinned). */
  files: v.record(v.string(), v.nullable(sha256Hex)),
});
export type RegistryEntry = v.InferOutput<typeof RegistryEntrySchema>;
export const RegistrySchema = v.object({
  comment: v.optional(v.unknown()),
  models: v.record(v.string(), RegistryEntrySchema),
});
export type Registry = v.InferOutput<typeof RegistrySchema>;

export interface FetchProgress {
  /** Model id and file name, e.g. `bge-base/model.safetensors`. */
  file: string;
  bytes: number;
  /** Total bytes when the server said, else undefined. */
  total?: number;
  /** Bytes per second since this file's transfer (re)started. */
  rate: number;
}

export interface FetchOptions {
  /** Registry id: biohicl-base, biohicl-large, bge-base, bge-large. */
  id: string;
  /** A revision other than the registry's pin (a commit, branch or tag); needs allowUnpinned unless it equals the pin. */
  revision?: string;
  destDir: string;
  allowUnpinned?: boolean;
  /** Default https://huggingface.co. Plain http is accepted only for loopback hosts (tests, local mirrors). */
  baseUrl?: string;
  onProgress?: (p: FetchProgress) => void;
  /** Log lines (which files, resumed from, skipped). */
  onLog?: (line: string) => void;
  signal?: AbortSignal;
  /** Attempts per file after a dropped connection (each resumes with Range). Default 3. */
  retries?: number;
  retryDelayMs?: number;
  /** Injected registry (tests); default: models/registry.json. */
  registry?: Registry;
}

export const FetchedFileSchema = v.object({ sha256: sha256Hex, bytes: v.number(), verified: v.boolean() });
export type FetchedFile = v.InferOutput<typeof FetchedFileSchema>;
export interface FetchResult {
  id: string;
  repo: string;
  /** The revision requested (pin, or --revision, or 'main'). */
  revision: string;
  /** The commit the server reported (x-repo-commit), or the pinned revision. */
  commit: string | null;
  pinned: boolean;
  kind: 'merged' | 'adapter';
  dir: string;
  files: Record<string, FetchedFile>;
  /** For an adapter: the fetched base model. */
  base?: FetchResult;
}

export class UnpinnedError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'UnpinnedError';
  }
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];
const WEIGHT_FILE = /\.(safetensors|bin)$/;
const COMMIT = /^[0-9a-f]{40}$/;
export const PINS_FILE = 'pins.json';

let shipped: Registry | undefined;
/** models/registry.json (bundled), checked on first use. */
export function defaultRegistry(): Registry {
  return (shipped ??= checkJson(registryJson, RegistrySchema, 'models/registry.json'));
}

export function registryEntry(id: string, registry: Registry = defaultRegistry()): RegistryEntry {
  const e = registry.models[id];
  if (!e)
    throw new Error(`unknown model '${id}' (models/registry.json knows: ${Object.keys(registry.models).join(', ')})`);
  return e;
}

/** Whether the registry pins this entry: a commit revision and a sha256 for every weight file. */
export function isPinned(e: RegistryEntry): boolean {
  if (!e.revision || !COMMIT.test(e.revision)) return false;
  const names = Object.keys(e.files);
  if (!names.some((n) => WEIGHT_FILE.test(n))) return false;
  return names.every((n) => !WEIGHT_FILE.test(n) || typeof e.files[n] === 'string');
}

/** GETs `url` into `dest` through the project's downloader; undefined when the server has no such file (404). */
async function downloadOne(
  url: string,
  dest: string,
  label: string,
  expected: string | null,
  opts: FetchOptions,
): Promise<{ sha256: string; bytes: number; commit: string | null } | undefined> {
  try {
    const r = await download(url, dest, {
      label,
      algo: 'sha256',
      expected,
      retries: opts.retries ?? 3,
      retryDelayMs: opts.retryDelayMs ?? 1000,
      signal: opts.signal,
      onLog: opts.onLog,
      onProgress: (p) => opts.onProgress?.({ file: label, bytes: p.bytes, total: p.total, rate: p.rate }),
    });
    const commit = r.headers['x-repo-commit'];
    return { sha256: r.digest, bytes: r.bytes, commit: typeof commit === 'string' ? commit : null };
  } catch (e) {
    if (e instanceof DownloadError && e.kind === 'not-found') return undefined;
    throw e;
  }
}

/** `<model dir>/pins.json`: what `fetchModel` downloaded (repo, revision, commit, every file's sha256). */
export const PinsFileSchema = v.object({
  id: v.string(),
  repo: v.string(),
  revision: v.string(),
  commit: v.nullable(v.string()),
  pinned: v.boolean(),
  fetchedAt: v.string(),
  kind: v.picklist(['merged', 'adapter']),
  files: v.record(v.string(), FetchedFileSchema),
});
export type PinsFile = v.InferOutput<typeof PinsFileSchema>;

/** `${dir}/pins.json`, or undefined when there is none; a damaged one throws, naming the field. */
export function readPins(dir: string): PinsFile | undefined {
  return readJsonIfExists(path.join(dir, PINS_FILE), PinsFileSchema);
}

/** Which repo and revision a fetch into a folder was for (files and partials of another are not reused). */
const FetchStateSchema = v.object({ repo: v.string(), revision: v.string() });
const FETCH_STATE_FILE = '.fetch-state.json';

/** A record left by an earlier fetch; undefined when absent or damaged (then nothing in the folder is reused). */
function readRecord<S extends AnySchema>(file: string, schema: S): v.InferOutput<S> | undefined {
  try {
    return readJsonIfExists(file, schema);
  } catch {
    return undefined;
  }
}

/**
 * Fetches a registry model into `destDir` (an adapter's base model goes to `destDir/base`). Files already present
 * with the right hash are not downloaded again. Writes `destDir/pins.json` with every file's sha256.
 */
export async function fetchModel(opts: FetchOptions): Promise<FetchResult> {
  const registry = opts.registry ?? defaultRegistry();
  const entry = registryEntry(opts.id, registry);
  const pinnedEntry = isPinned(entry);
  const revision = opts.revision ?? entry.revision ?? 'main';
  const pinned = pinnedEntry && revision === entry.revision;
  if (!pinned && !opts.allowUnpinned) {
    const why = !pinnedEntry
      ? `models/registry.json has no pinned revision and weight hashes for ${entry.repo} yet`
      : `revision '${revision}' is not the pinned ${entry.revision}`;
    throw new UnpinnedError(
      `${opts.id}: ${why}. Pass --allow-unpinned to fetch it anyway; the sha256 of every file will be recorded in ${path.join(opts.destDir, PINS_FILE)}.`,
    );
  }
  const baseUrl = (opts.baseUrl ?? 'https://huggingface.co').replace(/\/+$/, '');
  assertAllowedUrl(new URL(baseUrl), opts.id);
  fs.mkdirSync(opts.destDir, { recursive: true });
  // Files and partials left by a fetch of another repo/revision into this folder are not reused.
  const state = { repo: entry.repo, revision };
  const stateFile = path.join(opts.destDir, FETCH_STATE_FILE);
  const prevState = readRecord(stateFile, FetchStateSchema);
  const prevPins = readRecord(path.join(opts.destDir, PINS_FILE), PinsFileSchema);
  const sameSource = (o: { repo: string; revision: string } | undefined): boolean =>
    !!o && o.repo === state.repo && o.revision === state.revision;
  if (fs.existsSync(stateFile) && !sameSource(prevState)) {
    for (const f of fs.readdirSync(opts.destDir))
      if (f.endsWith('.partial')) fs.rmSync(path.join(opts.destDir, f), { force: true });
  }
  fs.writeFileSync(stateFile, JSON.stringify(state) + '\n');
  const files: Record<string, FetchedFile> = {};
  let commit: string | null = pinned ? entry.revision : null;

  const get = async (name: string, required: boolean): Promise<boolean> => {
    if (name.includes('..') || path.isAbsolute(name))
      throw new Error(`${opts.id}: bad file name ${JSON.stringify(name)}`);
    const expected = pinned ? (entry.files[name] ?? null) : null;
    const dest = path.join(opts.destDir, name);
    const label = `${opts.id}/${name}`;
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (fs.existsSync(dest)) {
      const bytes = fs.statSync(dest).size;
      const sha = await hashFile(dest, 'sha256');
      const recorded = sameSource(prevPins) && prevPins?.files?.[name]?.sha256 === sha;
      if (expected ? sha === expected : recorded) {
        files[name] = { sha256: sha, bytes, verified: !!expected };
        opts.onLog?.(`${label}: already present${expected ? ' (sha256 verified)' : ''}`);
        return true;
      }
      opts.onLog?.(
        expected
          ? `${label}: present but its sha256 ${sha} is not the pinned ${expected}; downloading again`
          : `${label}: present but not recorded for ${entry.repo}@${revision}; downloading again`,
      );
      fs.rmSync(dest);
    }
    const url = `${baseUrl}/${entry.repo}/resolve/${encodeURIComponent(revision)}/${name.split('/').map(encodeURIComponent).join('/')}`;
    const r = await downloadOne(url, dest, label, expected, opts);
    if (!r) {
      if (!required) return false;
      throw new Error(`${label}: not found (${url})`);
    }
    commit = commit ?? r.commit;
    files[name] = { sha256: r.sha256, bytes: r.bytes, verified: !!expected };
    return true;
  };

  let kind: 'merged' | 'adapter';
  let base: FetchResult | undefined;
  if (pinned) {
    // The registry lists exactly the files at the pinned revision.
    for (const name of Object.keys(entry.files)) await get(name, !TOKENIZER_FILES.slice(1).includes(name));
    kind = 'adapter_config.json' in entry.files ? 'adapter' : 'merged';
  } else {
    // Unpinned: find out what the repo holds. Merged weights are preferred over an adapter when both exist.
    const hasConfig = await get('config.json', false);
    const merged = hasConfig && ((await get('model.safetensors', false)) || (await get('pytorch_model.bin', false)));
    if (merged) {
      kind = 'merged';
    } else {
      if (entry.kind !== 'merged-or-adapter' || !(await get('adapter_config.json', false))) {
        throw new Error(
          `${opts.id}: ${entry.repo}@${revision} has neither config.json + model.safetensors/pytorch_model.bin${entry.kind === 'merged-or-adapter' ? ' nor a PEFT adapter (adapter_config.json)' : ''}`,
        );
      }
      if (!(await get('adapter_model.safetensors', false)) && !(await get('adapter_model.bin', false))) {
        throw new Error(
          `${opts.id}: ${entry.repo}@${revision} has adapter_config.json but no adapter_model.safetensors or adapter_model.bin`,
        );
      }
      kind = 'adapter';
    }
    for (const t of TOKENIZER_FILES) await get(t, false);
  }
  if (kind === 'adapter' || !files['tokenizer.json']) {
    if (!entry.base) {
      if (kind === 'adapter') throw new Error(`${opts.id}: an adapter, but the registry names no base model for it`);
      throw new Error(`${opts.id}: ${entry.repo}@${revision} has no tokenizer.json`);
    }
    // The base model is always fetched at its own pin (or refused if it has none and unpinned is not allowed).
    base = await fetchModel({ ...opts, id: entry.base, revision: undefined, destDir: path.join(opts.destDir, 'base') });
    if (!files['tokenizer.json']) {
      for (const t of TOKENIZER_FILES) {
        const src = path.join(base.dir, t);
        if (fs.existsSync(src) && base.files[t]) {
          fs.copyFileSync(src, path.join(opts.destDir, t));
          files[t] = { ...base.files[t] };
        }
      }
      opts.onLog?.(`${opts.id}: no tokenizer in ${entry.repo}; using ${entry.base}'s`);
    }
  }
  const pins: PinsFile = {
    id: opts.id,
    repo: entry.repo,
    revision,
    commit,
    pinned,
    fetchedAt: new Date().toISOString(),
    kind,
    files,
  };
  fs.writeFileSync(path.join(opts.destDir, PINS_FILE), JSON.stringify(pins, null, 2) + '\n');
  return { id: opts.id, repo: entry.repo, revision, commit, pinned, kind, dir: opts.destDir, files, base };
}
