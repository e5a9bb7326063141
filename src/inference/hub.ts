// Downloads a model's files from Hugging Face (or a mirror) into a folder: config.json, tokenizer files and the
// weights (model.safetensors, else pytorch_model.bin; or a PEFT adapter plus its base model), over HTTPS with
// redirects, resumable through HTTP Range into `<file>.partial`, sha256-verified against models/registry.json.
// No `vscode` import: the CLI and the extension (its worker) both call fetchModel.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import registryJson from '../../models/registry.json';

export type ModelKind = 'merged' | 'merged-or-adapter';

export interface RegistryEntry {
  name?: string;
  repo: string;
  /** Pinned commit (40 hex), or null when no pin is known yet. */
  revision: string | null;
  kind: ModelKind;
  /** Registry id of the base model an adapter is merged into. */
  base?: string;
  /** The files at the pinned revision → sha256 (null: downloaded and recorded, not verified; weights never null when pinned). */
  files: Record<string, string | null>;
}
export interface Registry { comment?: unknown; models: Record<string, RegistryEntry> }

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

export interface FetchedFile { sha256: string; bytes: number; verified: boolean }
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

export class HashMismatchError extends Error {
  constructor(readonly file: string, readonly expected: string, readonly actual: string) {
    super(`${file}: sha256 mismatch: expected ${expected}, got ${actual}; the partial download was deleted`);
    this.name = 'HashMismatchError';
  }
}
export class UnpinnedError extends Error {
  readonly exitCode = 1;
  constructor(message: string) { super(message); this.name = 'UnpinnedError'; }
}
class NotFoundError extends Error {}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];
const WEIGHT_FILE = /\.(safetensors|bin)$/;
const COMMIT = /^[0-9a-f]{40}$/;
export const PINS_FILE = 'pins.json';

export function defaultRegistry(): Registry {
  return registryJson as unknown as Registry;
}

export function registryEntry(id: string, registry: Registry = defaultRegistry()): RegistryEntry {
  const e = registry.models[id];
  if (!e) throw new Error(`unknown model '${id}' (models/registry.json knows: ${Object.keys(registry.models).join(', ')})`);
  return e;
}

/** Whether the registry pins this entry: a commit revision and a sha256 for every weight file. */
export function isPinned(e: RegistryEntry): boolean {
  if (!e.revision || !COMMIT.test(e.revision)) return false;
  const names = Object.keys(e.files);
  if (!names.some((n) => WEIGHT_FILE.test(n))) return false;
  return names.every((n) => !WEIGHT_FILE.test(n) || typeof e.files[n] === 'string');
}

function checkUrl(u: URL, what: string): void {
  if (u.protocol === 'https:') return;
  const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
  if (u.protocol === 'http:' && loopback) return;
  throw new Error(`${what}: refusing ${u.protocol}//${u.host} (downloads must use HTTPS)`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
  });
}

async function hashExisting(file: string, h: Hash): Promise<number> {
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(file, { highWaterMark: 1 << 22 })
      .on('data', (c) => { h.update(c); n += c.length; })
      .on('error', reject)
      .on('end', () => resolve());
  });
  return n;
}

interface DownloadOutcome { sha256: string; bytes: number; commit: string | null }

/**
 * GETs `url` into `dest`, resuming `${dest}.partial` with a Range request when it exists. Verifies `expected`
 * when given (a mismatch deletes the partial). Throws NotFoundError on 404.
 */
async function downloadOne(url: string, dest: string, label: string, expected: string | null, opts: FetchOptions): Promise<DownloadOutcome> {
  const partial = `${dest}.partial`;
  const retries = opts.retries ?? 3;
  let commit: string | null = null;
  for (let attempt = 0; ; attempt++) {
    const h = createHash('sha256');
    let have = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
    const headers: Record<string, string> = { 'user-agent': 'biohicl-writer' };
    if (have > 0) headers.range = `bytes=${have}-`;
    let res: Response;
    try {
      res = await fetch(url, { headers, redirect: 'follow', signal: opts.signal });
    } catch (e) {
      if (opts.signal?.aborted) throw new Error(`${label}: download cancelled; run again to resume`);
      if (attempt >= retries) throw new Error(`${label}: download failed (${(e as Error).message}); run again to resume`);
      await sleep(opts.retryDelayMs ?? 1000, opts.signal);
      continue;
    }
    checkUrl(new URL(res.url || url), label);
    commit = res.headers.get('x-repo-commit') ?? commit;
    if (res.status === 404) { await res.body?.cancel(); throw new NotFoundError(`${label}: not found (${url})`); }
    if (res.status === 416 && have > 0) {
      // The partial is already as long as the file (or longer): check it as it is; a bad one is deleted below.
      await res.body?.cancel();
    } else if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new Error(`${label}: HTTP ${res.status} ${res.statusText} from ${url}`);
    }
    let total: number | undefined;
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== have) {
        // The server resumed from somewhere else: start over.
        await res.body?.cancel();
        fs.rmSync(partial, { force: true });
        continue;
      }
      total = m[3] === '*' ? undefined : Number(m[3]);
      opts.onLog?.(`${label}: resuming at ${have} bytes`);
    } else if (res.status === 200) {
      if (have > 0) opts.onLog?.(`${label}: server ignored the range request; downloading from the start`);
      have = 0;
      const len = res.headers.get('content-length');
      total = len !== null ? Number(len) : undefined;
    }
    if (have > 0) await hashExisting(partial, h);
    let bytes = have;
    if (res.status !== 416 && res.body) {
      const out = fs.openSync(partial, res.status === 206 ? 'a' : 'w');
      const t0 = Date.now();
      const start = bytes;
      let lastReport = 0;
      try {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          let off = 0;
          while (off < value.length) off += fs.writeSync(out, value, off, value.length - off);
          h.update(value);
          bytes += value.length;
          const now = Date.now();
          if (now - lastReport >= 100) {
            lastReport = now;
            opts.onProgress?.({ file: label, bytes, total, rate: ((bytes - start) * 1000) / Math.max(1, now - t0) });
          }
        }
      } catch (e) {
        fs.closeSync(out);
        if (opts.signal?.aborted) throw new Error(`${label}: download cancelled at ${bytes} bytes; run again to resume`);
        if (attempt >= retries) throw new Error(`${label}: connection lost at ${bytes} bytes (${(e as Error).message}); run again to resume`);
        opts.onLog?.(`${label}: connection lost at ${bytes} bytes; retrying`);
        await sleep(opts.retryDelayMs ?? 1000, opts.signal);
        continue;
      }
      fs.closeSync(out);
      opts.onProgress?.({ file: label, bytes, total, rate: ((bytes - start) * 1000) / Math.max(1, Date.now() - t0) });
      if (total !== undefined && bytes < total) {
        if (attempt >= retries) throw new Error(`${label}: got ${bytes} of ${total} bytes; run again to resume`);
        await sleep(opts.retryDelayMs ?? 1000, opts.signal);
        continue;
      }
    }
    const actual = h.digest('hex');
    if (expected && actual !== expected) {
      fs.rmSync(partial, { force: true });
      throw new HashMismatchError(label, expected, actual);
    }
    fs.renameSync(partial, dest);
    return { sha256: actual, bytes, commit };
  }
}

function readJsonOr(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

interface PinsFile {
  id: string; repo: string; revision: string; commit: string | null; pinned: boolean; fetchedAt: string;
  kind: 'merged' | 'adapter'; files: Record<string, FetchedFile>;
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
    throw new UnpinnedError(`${opts.id}: ${why}. Pass --allow-unpinned to fetch it anyway; the sha256 of every file will be recorded in ${path.join(opts.destDir, PINS_FILE)}.`);
  }
  const baseUrl = (opts.baseUrl ?? 'https://huggingface.co').replace(/\/+$/, '');
  checkUrl(new URL(baseUrl), opts.id);
  fs.mkdirSync(opts.destDir, { recursive: true });
  // Files and partials left by a fetch of another repo/revision into this folder are not reused.
  const state = { repo: entry.repo, revision };
  const stateFile = path.join(opts.destDir, '.fetch-state.json');
  const prevState = readJsonOr(stateFile);
  const prevPins = readJsonOr(path.join(opts.destDir, PINS_FILE)) as Partial<PinsFile> | null;
  const sameSource = (o: { repo?: unknown; revision?: unknown } | null): boolean => !!o && o.repo === state.repo && o.revision === state.revision;
  if (prevState && !sameSource(prevState as typeof state)) {
    for (const f of fs.readdirSync(opts.destDir)) if (f.endsWith('.partial')) fs.rmSync(path.join(opts.destDir, f), { force: true });
  }
  fs.writeFileSync(stateFile, JSON.stringify(state) + '\n');
  const files: Record<string, FetchedFile> = {};
  let commit: string | null = pinned ? entry.revision : null;

  const get = async (name: string, required: boolean): Promise<boolean> => {
    if (name.includes('..') || path.isAbsolute(name)) throw new Error(`${opts.id}: bad file name ${JSON.stringify(name)}`);
    const expected = pinned ? entry.files[name] ?? null : null;
    const dest = path.join(opts.destDir, name);
    const label = `${opts.id}/${name}`;
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (fs.existsSync(dest)) {
      const h = createHash('sha256');
      const bytes = await hashExisting(dest, h);
      const sha = h.digest('hex');
      const recorded = sameSource(prevPins) && prevPins?.files?.[name]?.sha256 === sha;
      if (expected ? sha === expected : recorded) {
        files[name] = { sha256: sha, bytes, verified: !!expected };
        opts.onLog?.(`${label}: already present${expected ? ' (sha256 verified)' : ''}`);
        return true;
      }
      opts.onLog?.(expected
        ? `${label}: present but its sha256 ${sha} is not the pinned ${expected}; downloading again`
        : `${label}: present but not recorded for ${entry.repo}@${revision}; downloading again`);
      fs.rmSync(dest);
    }
    const url = `${baseUrl}/${entry.repo}/resolve/${encodeURIComponent(revision)}/${name.split('/').map(encodeURIComponent).join('/')}`;
    try {
      const r = await downloadOne(url, dest, label, expected, opts);
      commit = commit ?? r.commit;
      files[name] = { sha256: r.sha256, bytes: r.bytes, verified: !!expected };
      return true;
    } catch (e) {
      if (e instanceof NotFoundError && !required) return false;
      throw e;
    }
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
        throw new Error(`${opts.id}: ${entry.repo}@${revision} has neither config.json + model.safetensors/pytorch_model.bin${entry.kind === 'merged-or-adapter' ? ' nor a PEFT adapter (adapter_config.json)' : ''}`);
      }
      if (!(await get('adapter_model.safetensors', false)) && !(await get('adapter_model.bin', false))) {
        throw new Error(`${opts.id}: ${entry.repo}@${revision} has adapter_config.json but no adapter_model.safetensors or adapter_model.bin`);
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
    id: opts.id, repo: entry.repo, revision, commit, pinned, fetchedAt: new Date().toISOString(), kind, files,
  };
  fs.writeFileSync(path.join(opts.destDir, PINS_FILE), JSON.stringify(pins, null, 2) + '\n');
  return { id: opts.id, repo: entry.repo, revision, commit, pinned, kind, dir: opts.destDir, files, base };
}
