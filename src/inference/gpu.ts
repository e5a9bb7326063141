// Delivering onnxruntime's CUDA execution provider, explicitly and verifiably (linux-x64 only).
//
// onnxruntime-node ships the CPU runtime (and DirectML on win32) but not the CUDA provider libraries: they are
// hundreds of MB, so its install script (node_modules/onnxruntime-node/script/install.js, `ONNXRUNTIME_NODE_INSTALL=
// cuda12`) downloads the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux <same version> from nuget.org and copies
// runtimes/linux-x64/native/libonnxruntime_providers_{shared,cuda,tensorrt}.so next to libonnxruntime.so.1 in
// bin/napi-v6/linux/x64/. onnxruntime looks for provider libraries in the folder of libonnxruntime.so only, so
// that folder is where they must end up.
//
// This module does the same with checks and without npm: fetch the .nupkg (resumable, cancellable, progress) into a
// store (the extension's global storage, or ~/.cache/biohicl for the CLI), verify it against the SHA-512 that the
// NuGet catalog publishes (and a pinned SHA-256 when one is known), extract the two libraries CUDA needs (TensorRT
// is not used), record their SHA-256 in the store's manifest, and install them (hard link, else copy) into
// onnxruntime-node's bin folder after re-checking those hashes. The store survives extension updates, so a new
// version re-installs from it without fetching. It also tells whether CUDA 12 + cuDNN 9 can be loaded here.
// No `vscode` import: the extension, the CLI and the backend all use it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Unzip, UnzipInflate } from 'fflate';
import { download, DownloadError, fetchText, HashMismatchError } from '../net/download';
import { hashFile, hashFileSync, newHash } from '../util/hash';
import * as v from 'valibot';
import { errorText } from '../util/errors';
import { jsonObject, parseJson, readJson, sha256Hex } from '../util/json';

export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'] as const;
export const NUGET_PACKAGE = 'Microsoft.ML.OnnxRuntime.Gpu.Linux';
const NUGET_PATH_IN_PACKAGE = 'runtimes/linux-x64/native/';
/** nuget.org's flat container (package downloads) and registration (catalog metadata with the package hash). */
export const NUGET_FEED = {
  flat: 'https://api.nuget.org/v3-flatcontainer/',
  registration: 'https://api.nuget.org/v3/registration5-semver1/',
};
/**
 * SHA-256 of the .nupkg per onnxruntime version, when someone has recorded it from a machine with network access
 * (`sha256sum microsoft.ml.onnxruntime.gpu.linux.<v>.nupkg`). When present it is enforced in addition to the NuGet
 * catalog's SHA-512.
 */
export const PINNED_NUPKG_SHA256: Record<string, string> = {};
/**
 * What libonnxruntime_providers_cuda.so (CUDA 12 build) needs from CUDA 12 and cuDNN 9, used until the library is
 * here to read its own list (DT_NEEDED) from. libcuda.so.1 comes with the NVIDIA driver.
 */
export const CUDA12_RUNTIME_LIBRARIES = [
  'libcudart.so.12',
  'libcublas.so.12',
  'libcublasLt.so.12',
  'libcurand.so.10',
  'libcufft.so.11',
  'libcudnn.so.9',
];
export const CUDA_DRIVER_LIBRARY = 'libcuda.so.1';
const MANIFEST = 'cuda-providers.json';

export const CudaStoreManifestSchema = v.object({
  ortVersion: v.string(),
  package: v.string(),
  source: v.string(),
  /** base64, as NuGet publishes it */
  nupkgSha512: v.string(),
  /** hex */
  nupkgSha256: sha256Hex,
  files: v.record(v.string(), v.object({ sha256: sha256Hex, size: v.number() })),
  fetchedAt: v.string(),
});
export type CudaStoreManifest = v.InferOutput<typeof CudaStoreManifestSchema>;

const LibraryCheckSchema = v.object({
  name: v.string(),
  found: v.boolean(),
  /** Loader's error when not found. */
  error: v.optional(v.string()),
});
export type LibraryCheck = v.InferOutput<typeof LibraryCheckSchema>;

export interface CudaProviderStatus {
  /** CUDA is only offered on linux-x64 (onnxruntime publishes no other CUDA build for Node). */
  supported: boolean;
  platform: string;
  ortVersion: string;
  /** onnxruntime-node's native folder: where the provider libraries must be for onnxruntime to load them. */
  binDir: string;
  /** Provider libraries present in binDir. */
  providersInstalled: boolean;
  /** The store that holds verified copies (undefined when none was given). */
  storeDir?: string;
  /** Provider libraries present in the store with the manifest's sizes (installable without fetching). */
  providersInStore: boolean;
  /** The NVIDIA driver's libcuda.so.1. */
  driver: LibraryCheck;
  /** CUDA 12 runtime + cuDNN 9 libraries the provider needs. */
  runtime: LibraryCheck[];
  /** Everything is in place: the CUDA provider should load (it can still fail, e.g. on a too-old driver). */
  ready: boolean;
  /** What is missing, each with what to do. Empty when ready. */
  problems: string[];
  /** One line for logs and the status bar. */
  summary: string;
}

export interface FetchProgress {
  phase: 'metadata' | 'download' | 'verify' | 'extract' | 'install';
  received: number;
  total?: number;
  bytesPerSecond?: number;
}

export interface FetchOptions {
  /** Folder that keeps the verified libraries (created). E.g. `<globalStorage>/onnxruntime-cuda/1.30.0`. */
  storeDir: string;
  /** onnxruntime-node version whose providers to fetch (default: the installed one). */
  ortVersion?: string;
  /** A .nupkg already downloaded by hand (offline machines): used instead of downloading. */
  fromFile?: string;
  /** Expected SHA-256 (hex) of the .nupkg; default PINNED_NUPKG_SHA256[version]. */
  expectedSha256?: string;
  feed?: { flat: string; registration: string };
  onProgress?: (p: FetchProgress) => void;
  signal?: AbortSignal;
  /** Attempts after a dropped connection, each resuming with Range (default 3). */
  retries?: number;
  retryDelayMs?: number;
}

/** onnxruntime-node's installed version (read from its package.json, without loading the native binding). */
export function installedOrtVersion(): string {
  return readJson(require.resolve('onnxruntime-node/package.json'), v.object({ version: v.string() })).version;
}

/** onnxruntime-node's N-API folder for its natives (the one place that names it). */
export const ORT_NAPI_DIR = 'napi-v6';

/** The folder onnxruntime-node loads its natives from, and where it looks for provider libraries. */
export function ortNativeDir(platform: string = process.platform, arch: string = process.arch): string {
  return path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin', ORT_NAPI_DIR, platform, arch);
}

/** The default store below a base folder (extension: globalStorageUri.fsPath; CLI: biohiclHome()). */
export function cudaStoreDir(baseDir: string, ortVersion: string = installedOrtVersion()): string {
  return path.join(baseDir, 'onnxruntime-cuda', ortVersion);
}

/** Reads the store manifest; undefined when absent or damaged (then the provider is set up again). */
export function readStoreManifest(storeDir: string): CudaStoreManifest | undefined {
  try {
    return readJson(path.join(storeDir, MANIFEST), CudaStoreManifestSchema);
  } catch {
    return undefined;
  }
}

/**
 * Files of the store that are missing or whose SHA-256 (or, with hashes: false, only size) differs from the
 * manifest. Empty: the store is good.
 */
export function verifyStore(storeDir: string, { hashes = true }: { hashes?: boolean } = {}): string[] {
  const m = readStoreManifest(storeDir);
  if (!m) return [`${path.join(storeDir, MANIFEST)} (missing or unreadable)`];
  const bad: string[] = [];
  for (const f of CUDA_PROVIDER_FILES) {
    const p = path.join(storeDir, f);
    const want = m.files[f];
    if (
      !want ||
      !fs.existsSync(p) ||
      fs.statSync(p).size !== want.size ||
      (hashes && hashFileSync(p, 'sha256') !== want.sha256)
    )
      bad.push(p);
  }
  return bad;
}

/** The shared libraries an ELF64 little-endian file depends on (its DT_NEEDED entries), read without loading it. */
export function elfNeeded(file: string): string[] {
  const fd = fs.openSync(file, 'r');
  try {
    const read = (pos: number, len: number): Buffer => {
      const b = Buffer.alloc(len);
      fs.readSync(fd, b, 0, len, pos);
      return b;
    };
    const h = read(0, 64);
    if (h.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
    if (h[4] !== 2 || h[5] !== 1) throw new Error(`${file} is not a 64-bit little-endian ELF file`);
    const phoff = Number(h.readBigUInt64LE(0x20));
    const phentsize = h.readUInt16LE(0x36);
    const phnum = h.readUInt16LE(0x38);
    const loads: { vaddr: number; offset: number; filesz: number }[] = [];
    let dyn: { offset: number; size: number } | undefined;
    for (let i = 0; i < phnum; i++) {
      const ph = read(phoff + i * phentsize, phentsize);
      const type = ph.readUInt32LE(0);
      const offset = Number(ph.readBigUInt64LE(8));
      const vaddr = Number(ph.readBigUInt64LE(16));
      const filesz = Number(ph.readBigUInt64LE(32));
      if (type === 1) loads.push({ vaddr, offset, filesz });
      if (type === 2) dyn = { offset, size: filesz };
    }
    if (!dyn) return [];
    const d = read(dyn.offset, dyn.size);
    const needed: number[] = [];
    let strtab = -1;
    for (let o = 0; o + 16 <= d.length; o += 16) {
      const tag = Number(d.readBigInt64LE(o));
      const val = Number(d.readBigUInt64LE(o + 8));
      if (tag === 0) break;
      if (tag === 1) needed.push(val);
      if (tag === 5) strtab = val;
    }
    const seg = loads.find((l) => strtab >= l.vaddr && strtab < l.vaddr + l.filesz);
    if (!seg) throw new Error(`${file}: no loadable segment holds the dynamic string table`);
    const strOff = seg.offset + (strtab - seg.vaddr);
    return needed.map((n) => {
      const b = read(strOff + n, 256);
      return b.subarray(0, b.indexOf(0)).toString('latin1');
    });
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Whether the dynamic loader can find each library, asked in a child process (`process.dlopen` behaves like
 * onnxruntime's dlopen: LD_LIBRARY_PATH, the ld.so cache, the default folders). A library that loads but is not a
 * Node addon fails with "did not self-register": that counts as found. The child keeps this process clean.
 */
export function probeLibraries(names: string[]): LibraryCheck[] {
  const script = `
    const out = [];
    for (const name of ${JSON.stringify(names)}) {
      try { process.dlopen({ exports: {} }, name); out.push({ name, found: true }); }
      catch (e) {
        const msg = String(e && e.message || e);
        if (/self-register|napi_register|Module did not/i.test(msg)) out.push({ name, found: true });
        else out.push({ name, found: false, error: msg.split('\\n')[0] });
      }
    }
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', NODE_OPTIONS: '' },
  });
  try {
    return parseJson(r.stdout, v.array(LibraryCheckSchema), 'the dynamic loader probe');
  } catch {
    const why = `could not probe the dynamic loader (${r.error?.message ?? r.stderr?.split('\n')[0] ?? `exit ${r.status}`})`;
    return names.map((name) => ({ name, found: false, error: why }));
  }
}

/** The CUDA/cuDNN libraries the provider needs: from its own DT_NEEDED when present, else the CUDA 12 list. */
function runtimeNeeds(candidates: string[]): string[] {
  for (const f of candidates) {
    if (!fs.existsSync(f)) continue;
    try {
      const libs = elfNeeded(f).filter((n) => /^lib(cu|nv|cudnn)/.test(n) && n !== CUDA_DRIVER_LIBRARY);
      if (libs.length) return libs;
    } catch {
      // a damaged file is reported by verifyStore/installation; use the documented list meanwhile
    }
  }
  return CUDA12_RUNTIME_LIBRARIES;
}

export const CUDA_SETUP_HINT =
  'the extension: run "BioHiCL: Enable CUDA"; the CLI or a development clone: run `npm run gpu:setup` ' +
  '(or `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js`)';

/**
 * Where CUDA stands here, in words: provider libraries installed next to onnxruntime (or only in the store), NVIDIA
 * driver, CUDA 12 runtime and cuDNN 9. The backend uses `ready`/`problems` to explain a CPU fallback.
 */
export function cudaProviderStatus(
  opts: { storeDir?: string; binDir?: string; probe?: (names: string[]) => LibraryCheck[] } = {},
): CudaProviderStatus {
  const platform = `${process.platform}-${process.arch}`;
  const supported = platform === 'linux-x64';
  const binDir = opts.binDir ?? ortNativeDir();
  let ortVersion = 'unknown';
  try {
    ortVersion = installedOrtVersion();
  } catch {
    // onnxruntime-node not resolvable from here: reported through binDir below
  }
  const base = { supported, platform, ortVersion, binDir, storeDir: opts.storeDir };
  if (!supported) {
    const why =
      process.platform === 'win32'
        ? 'CUDA is not offered on Windows; the DirectML provider inside onnxruntime-node uses the GPU instead (device "dml" or "auto").'
        : `onnxruntime publishes CUDA providers for Node on linux-x64 only (this is ${platform}); the CPU provider is used.`;
    const none: LibraryCheck = { name: CUDA_DRIVER_LIBRARY, found: false, error: 'not checked' };
    return {
      ...base,
      providersInstalled: false,
      providersInStore: false,
      driver: none,
      runtime: [],
      ready: false,
      problems: [why],
      summary: why,
    };
  }
  const providersInstalled = CUDA_PROVIDER_FILES.every((f) => fs.existsSync(path.join(binDir, f)));
  // sizes only: a status check must stay cheap; installCudaProviders re-checks the hashes before using them
  const providersInStore = !!opts.storeDir && verifyStore(opts.storeDir, { hashes: false }).length === 0;
  const needs = runtimeNeeds([
    path.join(binDir, 'libonnxruntime_providers_cuda.so'),
    ...(opts.storeDir ? [path.join(opts.storeDir, 'libonnxruntime_providers_cuda.so')] : []),
  ]);
  const probe = opts.probe ?? probeLibraries;
  const probed = probe([CUDA_DRIVER_LIBRARY, ...needs]);
  const driver = probed[0]!;
  const runtime = probed.slice(1);
  const problems: string[] = [];
  if (!providersInstalled) {
    problems.push(
      providersInStore
        ? `the CUDA provider libraries are fetched (${opts.storeDir}) but not installed in ${binDir}; installing them takes a second (the extension does it on start, the CLI with \`npm run gpu:setup\`).`
        : `the CUDA provider libraries (${CUDA_PROVIDER_FILES.join(', ')}) are not in ${binDir}; they are not shipped (hundreds of MB): ${CUDA_SETUP_HINT}.`,
    );
  }
  if (!driver.found)
    problems.push(
      `no NVIDIA driver: ${CUDA_DRIVER_LIBRARY} cannot be loaded (${driver.error ?? 'not found'}); install the NVIDIA driver.`,
    );
  const missing = runtime.filter((l) => !l.found).map((l) => l.name);
  if (missing.length) {
    const cudnn = missing.filter((m) => m.startsWith('libcudnn'));
    const cuda = missing.filter((m) => !m.startsWith('libcudnn'));
    const parts = [
      cuda.length ? `CUDA 12 runtime libraries ${cuda.join(', ')}` : '',
      cudnn.length ? `cuDNN 9 (${cudnn.join(', ')})` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    const wheels = [
      ...(cuda.length
        ? ['nvidia-cuda-runtime-cu12', 'nvidia-cublas-cu12', 'nvidia-cufft-cu12', 'nvidia-curand-cu12']
        : []),
      ...(cudnn.length ? ['nvidia-cudnn-cu12'] : []),
    ];
    // A machine with only another CUDA major (e.g. 13) is a common case: say so, the versions install side by side.
    const other = cuda.includes('libcudart.so.12')
      ? probe(['libcudart.so.13', 'libcudart.so.11'])
          .filter((l) => l.found)
          .map((l) => l.name)
      : [];
    const otherNote = other.length
      ? ` (${other.join(', ')} is installed, but onnxruntime-node ${ortVersion}'s CUDA provider is built for CUDA 12; both can be installed side by side)`
      : '';
    problems.push(
      `${parts} cannot be loaded${otherNote}; install ${cuda.length ? 'the CUDA 12 runtime' : ''}${cuda.length && cudnn.length ? ' and ' : ''}${cudnn.length ? 'cuDNN 9 for CUDA 12' : ''} (or the pip wheels ${wheels.join(', ')}) and put their lib folders on LD_LIBRARY_PATH.`,
    );
  }
  const ready = problems.length === 0;
  const summary = ready
    ? `CUDA ready: provider libraries in ${binDir}, driver and CUDA 12/cuDNN 9 found.`
    : `CUDA not ready: ${problems[0]}`;
  return { ...base, providersInstalled, providersInStore, driver, runtime, ready, problems, summary };
}

export class FetchError extends Error {}

/** GET a JSON document (NuGet metadata) with the downloader's URL rules and retries; errors name the URL and the cause. */
async function getJson(url: string, signal?: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    text = (await fetchText(url, { signal, retries: 1, retryDelayMs: 500 })).text;
  } catch (e) {
    if (!(e instanceof DownloadError)) throw e;
    if (e.kind === 'cancelled') throw new FetchError('cancelled; the partial download is kept and resumed next time');
    if (e.kind === 'network')
      throw new FetchError(`GET ${url}: ${e.reason} (no network, or a proxy/firewall in the way?)`);
    if (e.kind === 'refused') throw new FetchError(e.message);
    throw new FetchError(`GET ${url}: HTTP ${e.status}`);
  }
  try {
    return parseJson(text, jsonObject, `GET ${url}`);
  } catch (e) {
    throw new FetchError(`${errorText(e)} (starts with ${JSON.stringify(text.slice(0, 40))})`);
  }
}

/** The package's SHA-512 (base64) from the NuGet catalog entry of that version. */
async function nugetPackageHash(
  feed: FetchOptions['feed'] & {},
  id: string,
  version: string,
  signal?: AbortSignal,
): Promise<string> {
  const leaf = (await getJson(`${feed.registration}${id.toLowerCase()}/${version.toLowerCase()}.json`, signal)) as {
    catalogEntry?: unknown;
  };
  const entry =
    typeof leaf.catalogEntry === 'string'
      ? ((await getJson(leaf.catalogEntry, signal)) as Record<string, unknown>)
      : (leaf.catalogEntry as Record<string, unknown> | undefined);
  if (
    !entry ||
    typeof entry.packageHash !== 'string' ||
    String(entry.packageHashAlgorithm).toUpperCase() !== 'SHA512'
  ) {
    throw new FetchError(`the NuGet catalog entry of ${id} ${version} carries no SHA512 package hash`);
  }
  return entry.packageHash;
}

const b64ToHex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');
const hexToB64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

/**
 * Download the .nupkg through the project's downloader (resumes `<dest>.partial`, retries a dropped connection) and
 * check NuGet's SHA-512 while the bytes are written. Returns the SHA-512 (base64). A cancelled or interrupted
 * download keeps its partial; a wrong hash deletes it.
 */
async function downloadPackage(url: string, dest: string, expected512: string, opts: FetchOptions): Promise<string> {
  const legacy = `${dest}.part`; // what earlier versions left behind: resumed too
  if (fs.existsSync(legacy) && !fs.existsSync(`${dest}.partial`)) fs.renameSync(legacy, `${dest}.partial`);
  try {
    const r = await download(url, dest, {
      label: path.basename(dest),
      algo: 'sha512',
      expected: b64ToHex(expected512),
      signal: opts.signal,
      retries: opts.retries ?? 3,
      retryDelayMs: opts.retryDelayMs ?? 1000,
      onProgress: (p) =>
        opts.onProgress?.({ phase: 'download', received: p.bytes, total: p.total, bytesPerSecond: p.rate }),
    });
    return hexToB64(r.digest);
  } catch (e) {
    if (e instanceof HashMismatchError) {
      throw new FetchError(
        `${path.basename(dest)} failed verification (SHA-512 ${hexToB64(e.actual)} ≠ NuGet's ${expected512}); the download was deleted.`,
      );
    }
    if (!(e instanceof DownloadError)) throw e;
    switch (e.kind) {
      case 'cancelled':
        throw new FetchError('cancelled; the partial download is kept and resumed next time');
      case 'not-found':
      case 'http':
        throw new FetchError(`GET ${e.url}: HTTP ${e.status}`);
      case 'refused':
        throw new FetchError(e.message);
      default:
        if (!e.bytes)
          throw new FetchError(`GET ${url}: ${e.reason ?? e.message} (no network, or a proxy/firewall in the way?)`);
        throw new FetchError(
          `GET ${url}: interrupted after ${e.bytes} bytes (${e.reason ?? 'incomplete body'}); run again to resume`,
        );
    }
  }
}

/** Stream the .nupkg (a zip) and write the wanted entries into dir; returns each written file's sha256 and size. */
async function extractProviders(nupkg: string, dir: string): Promise<CudaStoreManifest['files']> {
  const files: CudaStoreManifest['files'] = {};
  const pending = new Set<string>(CUDA_PROVIDER_FILES);
  let failure: Error | undefined;
  const unzip = new Unzip((entry) => {
    const base = entry.name.startsWith(NUGET_PATH_IN_PACKAGE) ? entry.name.slice(NUGET_PATH_IN_PACKAGE.length) : '';
    if (!pending.has(base)) return;
    const tmp = path.join(dir, `${base}.tmp`);
    const fd = fs.openSync(tmp, 'w');
    const h = newHash('sha256');
    let size = 0;
    entry.ondata = (err, chunk, final) => {
      if (err) {
        failure ??= err;
        return;
      }
      fs.writeSync(fd, chunk);
      h.update(chunk);
      size += chunk.length;
      if (final) {
        fs.closeSync(fd);
        fs.renameSync(tmp, path.join(dir, base));
        files[base] = { sha256: h.digest('hex'), size };
        pending.delete(base);
      }
    };
    entry.start();
  });
  unzip.register(UnzipInflate);
  for await (const chunk of fs.createReadStream(nupkg, { highWaterMark: 1 << 20 })) {
    unzip.push(chunk as Buffer);
    if (failure) throw failure;
  }
  unzip.push(new Uint8Array(0), true);
  if (failure) throw failure;
  if (pending.size)
    throw new FetchError(`${nupkg} holds no ${[...pending].map((f) => NUGET_PATH_IN_PACKAGE + f).join(', ')}`);
  return files;
}

/**
 * Fetch (or take `fromFile`), verify and extract the CUDA provider libraries into `storeDir`. Does nothing when the
 * store already holds verified libraries for that version. Throws with a readable message; a cancelled download
 * keeps its .part for the next call to resume.
 */
export async function fetchCudaProviders(opts: FetchOptions): Promise<CudaStoreManifest> {
  const version = opts.ortVersion ?? installedOrtVersion();
  const feed = opts.feed ?? NUGET_FEED;
  const existing = readStoreManifest(opts.storeDir);
  if (existing?.ortVersion === version && verifyStore(opts.storeDir).length === 0) return existing;
  fs.mkdirSync(opts.storeDir, { recursive: true });
  const id = NUGET_PACKAGE.toLowerCase();
  const nupkg = path.join(opts.storeDir, `${id}.${version}.nupkg`);
  const source = opts.fromFile ? path.resolve(opts.fromFile) : `${feed.flat}${id}/${version}/${id}.${version}.nupkg`;
  const expected256 = (opts.expectedSha256 ?? PINNED_NUPKG_SHA256[version])?.toLowerCase();
  let expected512: string | undefined;
  let downloaded512: string | undefined;
  if (opts.fromFile) {
    if (!fs.existsSync(opts.fromFile)) throw new FetchError(`${opts.fromFile}: no such file`);
    if (!expected256)
      throw new FetchError(
        `a hand-downloaded package needs its SHA-256 (--sha256 <hex>): nothing else vouches for ${opts.fromFile}`,
      );
    fs.copyFileSync(opts.fromFile, nupkg);
  } else {
    opts.onProgress?.({ phase: 'metadata', received: 0 });
    expected512 = await nugetPackageHash(feed, NUGET_PACKAGE, version, opts.signal);
    // A package left by a run that stopped before extracting is re-verified below like a hand-downloaded one.
    if (!fs.existsSync(nupkg)) downloaded512 = await downloadPackage(source, nupkg, expected512, opts);
  }
  opts.onProgress?.({ phase: 'verify', received: fs.statSync(nupkg).size });
  const got = {
    sha256: await hashFile(nupkg, 'sha256'),
    sha512: downloaded512 ?? hexToB64(await hashFile(nupkg, 'sha512')),
  };
  const mismatch =
    (expected512 && got.sha512 !== expected512 ? `SHA-512 ${got.sha512} ≠ NuGet's ${expected512}` : '') ||
    (expected256 && got.sha256 !== expected256 ? `SHA-256 ${got.sha256} ≠ expected ${expected256}` : '');
  if (mismatch) {
    fs.rmSync(nupkg, { force: true });
    throw new FetchError(`${path.basename(nupkg)} failed verification (${mismatch}); the download was deleted.`);
  }
  opts.onProgress?.({ phase: 'extract', received: 0 });
  const files = await extractProviders(nupkg, opts.storeDir);
  const manifest: CudaStoreManifest = {
    ortVersion: version,
    package: `${NUGET_PACKAGE} ${version}`,
    source,
    nupkgSha512: got.sha512,
    nupkgSha256: got.sha256,
    files,
    fetchedAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(opts.storeDir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  fs.rmSync(nupkg, { force: true }); // the libraries are extracted and hashed; the archive is not needed any more
  return manifest;
}

/**
 * Put the store's verified provider libraries next to libonnxruntime (hard link, else copy), after re-checking their
 * SHA-256. Returns the files written; [] when they were already there and identical.
 */
export function installCudaProviders(storeDir: string, binDir: string = ortNativeDir()): string[] {
  const bad = verifyStore(storeDir);
  if (bad.length)
    throw new FetchError(`the CUDA provider store is incomplete or altered (${bad.join(', ')}); fetch again.`);
  const m = readStoreManifest(storeDir)!;
  if (!fs.existsSync(binDir))
    throw new FetchError(`${binDir} does not exist: is onnxruntime-node installed for this platform?`);
  const written: string[] = [];
  for (const f of CUDA_PROVIDER_FILES) {
    const dst = path.join(binDir, f);
    if (
      fs.existsSync(dst) &&
      fs.statSync(dst).size === m.files[f]!.size &&
      hashFileSync(dst, 'sha256') === m.files[f]!.sha256
    )
      continue;
    const tmp = `${dst}.tmp-${process.pid}`;
    try {
      fs.linkSync(path.join(storeDir, f), tmp);
    } catch {
      fs.copyFileSync(path.join(storeDir, f), tmp);
    }
    fs.renameSync(tmp, dst);
    written.push(dst);
  }
  return written;
}

/** On start: when the store holds verified libraries and onnxruntime's folder does not (e.g. after an update). */
export function reinstallFromStoreIfNeeded(storeDir: string, binDir: string = ortNativeDir()): string[] {
  if (process.platform !== 'linux' || process.arch !== 'x64') return [];
  if (!readStoreManifest(storeDir)) return [];
  if (CUDA_PROVIDER_FILES.every((f) => fs.existsSync(path.join(binDir, f)))) return [];
  return installCudaProviders(storeDir, binDir);
}
