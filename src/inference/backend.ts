// The one file that knows onnxruntime. It maps the device setting (auto|cuda|dml|cpu) to execution providers per
// platform, falls back to CPU with a human-readable reason when a provider cannot be loaded, picks the ONNX file for
// the precision (fp16 for GPU providers, int8 for CPU, unless told otherwise) and runs batches.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { BackendReport, Device, Precision } from './types';
import { CUDA_PROVIDER_FILES, CUDA_SETUP_HINT, cudaProviderStatus } from './gpu';
import { ortNativeDir } from './gpu';
import { MANIFEST_FILE, readManifest } from './manifest';
import { errorText } from '../util/errors';

export type Provider = 'cuda' | 'dml' | 'cpu';
export type ConcretePrecision = Exclude<Precision, 'auto'>;

export interface SessionOptions {
  device: Device;
  precision: Precision;
  /** Intra-op threads; default: physicalCores(). */
  threads?: number;
  /** Advanced/testing: try exactly these providers in order (CPU is appended), bypassing the device table. */
  providers?: Provider[];
  /**
   * Called with each ONNX file just before onnxruntime opens it; throwing refuses the model (not a fallback). The
   * embedder checks the file against the manifest's hashes here, so only the file that is used gets hashed.
   */
  verifyFile?: (file: string) => Promise<void>;
}

export interface Backend {
  session: ort.InferenceSession;
  report: BackendReport;
}

export interface BatchInput {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  batch: number;
  seqLen: number;
}

export interface HiddenState {
  /** last_hidden_state, [batch, seqLen, hidden] row-major (converted to float32 when the model outputs fp16). */
  data: Float32Array;
  dims: [number, number, number];
}

const DEFAULT_FILES: Record<ConcretePrecision, string> = {
  fp32: 'model.onnx',
  int8: 'model.int8.onnx',
  fp16: 'model.fp16.onnx',
};

/**
 * Physical CPU cores (SMT siblings counted once) on Linux, from /sys; elsewhere the logical count. GEMM-bound
 * inference gains nothing from hyper-threads, so this is the default thread count.
 */
export function physicalCores(): number {
  const logical = os.availableParallelism();
  if (process.platform !== 'linux') return logical;
  try {
    const seen = new Set<string>();
    const base = '/sys/devices/system/cpu';
    for (const d of fs.readdirSync(base)) {
      if (!/^cpu\d+$/.test(d)) continue;
      const topo = path.join(base, d, 'topology');
      if (!fs.existsSync(topo)) continue;
      const core = fs.readFileSync(path.join(topo, 'core_id'), 'utf8').trim();
      const pkg = fs.readFileSync(path.join(topo, 'physical_package_id'), 'utf8').trim();
      seen.add(`${pkg}:${core}`);
    }
    return seen.size > 0 ? Math.min(seen.size, logical) : logical;
  } catch {
    return logical;
  }
}

/** The onnxruntime-node version in use. */
export function ortVersion(): string {
  return ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown';
}

/** Folder holding onnxruntime-node's native libraries for this platform (where the CUDA provider must be installed). */
export const ortBinDir = ortNativeDir;

export const CUDA_LIBRARIES = CUDA_PROVIDER_FILES;

/**
 * Why the CUDA provider cannot be used here, or undefined when it looks usable. Cheap when the provider libraries
 * are absent (a file check); when they are installed, the NVIDIA driver, CUDA 12 and cuDNN 9 are probed too
 * (./gpu.ts, a child process), so a missing runtime is explained instead of onnxruntime failing noisily.
 */
export function cudaUnavailableReason(binDir: string = ortBinDir(), probeRuntime = true): string | undefined {
  const missing = CUDA_PROVIDER_FILES.filter((f) => !fs.existsSync(path.join(binDir, f)));
  if (missing.length) {
    return `the CUDA execution provider libraries are not installed (${missing.join(', ')} missing in ${binDir}); to install them: ${CUDA_SETUP_HINT}`;
  }
  if (!probeRuntime) return undefined;
  const st = cudaProviderStatus({ binDir });
  return st.ready ? undefined : st.problems.join(' ');
}

export interface ProviderPlan {
  /** Providers to try, in order; the last is always 'cpu'. */
  tryOrder: Provider[];
  /** Reason a requested (or, for auto, a candidate) provider was ruled out before trying it. */
  ruledOut?: string;
}

/**
 * The device → provider table. CUDA only on linux-x64, DirectML only on win32, CPU everywhere. `auto` means CUDA on
 * linux-x64 when its provider libraries are installed, DirectML on win32, otherwise CPU.
 * `cudaReason` is injectable for tests (default: checks onnxruntime-node's bin folder).
 */
export function planProviders(
  device: Device,
  platform: string = process.platform,
  arch: string = process.arch,
  cudaReason: () => string | undefined = () => cudaUnavailableReason(ortBinDir(platform, arch)),
): ProviderPlan {
  const cudaPlatform = platform === 'linux' && arch === 'x64';
  const dmlPlatform = platform === 'win32';
  switch (device) {
    case 'cpu':
      return { tryOrder: ['cpu'] };
    case 'cuda': {
      if (!cudaPlatform)
        return { tryOrder: ['cpu'], ruledOut: `CUDA is supported on linux-x64 only (this is ${platform}-${arch})` };
      const r = cudaReason();
      return r ? { tryOrder: ['cpu'], ruledOut: r } : { tryOrder: ['cuda', 'cpu'] };
    }
    case 'dml':
      if (!dmlPlatform)
        return { tryOrder: ['cpu'], ruledOut: `DirectML is supported on Windows only (this is ${platform}-${arch})` };
      return { tryOrder: ['dml', 'cpu'] };
    case 'auto': {
      if (dmlPlatform) return { tryOrder: ['dml', 'cpu'] };
      if (cudaPlatform) {
        const r = cudaReason();
        return r ? { tryOrder: ['cpu'], ruledOut: r } : { tryOrder: ['cuda', 'cpu'] };
      }
      return { tryOrder: ['cpu'] };
    }
    default:
      throw new Error(`unknown device ${JSON.stringify(device)} (expected auto, cuda, dml or cpu)`);
  }
}

/** fp16 on GPU providers, int8 on CPU, unless a precision is given. */
export function precisionFor(provider: Provider, precision: Precision): ConcretePrecision {
  if (precision !== 'auto') return precision;
  return provider === 'cpu' ? 'int8' : 'fp16';
}

/** The ONNX file of a precision in a model folder (manifest.json's `files`, else the default names). */
export function modelFile(modelDir: string, precision: ConcretePrecision): string {
  let rel = DEFAULT_FILES[precision];
  if (fs.existsSync(path.join(modelDir, MANIFEST_FILE))) {
    try {
      rel = readManifest(modelDir).files[precision] ?? rel;
    } catch {
      // a damaged manifest is reported by whoever loads the model (it checks every file against it); default name here
    }
  }
  return path.resolve(modelDir, rel);
}

function sessionOptions(provider: Provider, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    enableMemPattern: provider !== 'dml', // DirectML does not support memory patterns
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  };
}

function firstLine(e: unknown): string {
  const msg = errorText(e);
  return msg
    .split('\n')[0]!
    .replace(/\x1b\[[0-9;]*m/g, '')
    .trim();
}

/**
 * Open an inference session for a model folder. Tries the providers of the device plan in order and falls back to
 * CPU (with `report.fallbackReason`) when a provider fails to load. Throws only when the model file is missing, is
 * refused by `verifyFile`, or cannot be loaded on CPU either.
 */
export async function createSession(modelDir: string, opts: SessionOptions): Promise<Backend> {
  const threads = Math.max(1, Math.floor(opts.threads ?? physicalCores()));
  const plan: ProviderPlan = opts.providers
    ? { tryOrder: [...opts.providers.filter((p) => p !== 'cpu'), 'cpu'] }
    : planProviders(opts.device);
  const providerReasons: string[] = plan.ruledOut ? [plan.ruledOut] : [];
  let triedAndFailed = false;
  const notes: string[] = [];
  let lastError: unknown;
  for (const provider of plan.tryOrder) {
    let precision = precisionFor(provider, opts.precision);
    let file = modelFile(modelDir, precision);
    if (!fs.existsSync(file)) {
      if (opts.precision === 'auto' && precision !== 'fp32' && fs.existsSync(modelFile(modelDir, 'fp32'))) {
        notes.push(`${path.basename(file)} is missing; using the fp32 model`);
        precision = 'fp32';
        file = modelFile(modelDir, 'fp32');
      } else {
        throw new Error(`model file not found: ${file} (precision ${precision}); convert or generate the model first`);
      }
    }
    await opts.verifyFile?.(file);
    try {
      const session = await ort.InferenceSession.create(file, sessionOptions(provider, threads));
      if (provider !== 'cpu') {
        // A GPU provider can load and still fail on the first run (missing kernels, out of memory): probe it now.
        try {
          await runBatch(session, probeBatch());
        } catch (e) {
          await session.release().catch(() => undefined);
          throw new Error(`first run failed: ${firstLine(e)}`);
        }
      }
      const report: BackendReport = {
        provider,
        requested: opts.device,
        ortVersion: ortVersion(),
        threads,
        modelFile: file,
        precision,
      };
      if (provider === 'cpu' && opts.device !== 'cpu' && providerReasons.length) {
        const why = providerReasons.join('; ');
        // `auto` on a machine without GPU libraries is not a failure: say it as a note. A provider that was asked
        // for (or, for auto, installed but failing to load) is a fallback the user must see.
        if (opts.device === 'auto' && !triedAndFailed) notes.unshift(`no GPU provider: ${why}`);
        else report.fallbackReason = `${opts.device} requested but not usable, running on CPU: ${why}`;
      }
      if (notes.length) report.notes = notes;
      return { session, report };
    } catch (e) {
      lastError = e;
      if (provider === 'cpu') break;
      triedAndFailed = true;
      providerReasons.push(`the ${provider} execution provider could not be used (${firstLine(e)})`);
    }
  }
  throw new Error(`cannot open ${modelDir} with onnxruntime ${ortVersion()}: ${firstLine(lastError)}`);
}

function probeBatch(): BatchInput {
  const ids = BigInt64Array.from([101n, 2000n, 2001n, 102n]);
  return {
    inputIds: ids,
    attentionMask: new BigInt64Array(4).fill(1n),
    tokenTypeIds: new BigInt64Array(4),
    batch: 1,
    seqLen: 4,
  };
}

/** Run one padded batch; returns last_hidden_state as float32. */
export async function runBatch(session: ort.InferenceSession, b: BatchInput): Promise<HiddenState> {
  const dims = [b.batch, b.seqLen];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', b.inputIds, dims),
    attention_mask: new ort.Tensor('int64', b.attentionMask, dims),
  };
  if (session.inputNames.includes('token_type_ids'))
    feeds['token_type_ids'] = new ort.Tensor('int64', b.tokenTypeIds, dims);
  const outName = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0]!;
  const out = await session.run(feeds, [outName]);
  const t = out[outName]!;
  const d = t.dims as readonly number[];
  if (d.length !== 3)
    throw new Error(`model output ${outName} has dims [${d.join(', ')}], expected [batch, seq, hidden]`);
  let data: Float32Array;
  if (t.type === 'float32') data = t.data as Float32Array;
  else if (t.type === 'float16') data = halfToFloat(t.data as Uint16Array);
  else throw new Error(`model output ${outName} has type ${t.type}, expected float32 or float16`);
  for (const v of Object.values(out)) if (v !== t) v.dispose?.();
  return { data, dims: [d[0]!, d[1]!, d[2]!] };
}

/** A generic single-input run (bench: the MatMul peak graph). */
export async function runFeeds(
  session: ort.InferenceSession,
  feeds: Record<string, { type: 'float32' | 'int64'; data: Float32Array | BigInt64Array; dims: number[] }>,
): Promise<void> {
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor(v.type, v.data, v.dims);
  await session.run(f);
}

/** Open a session on an arbitrary ONNX file on CPU (bench). */
export async function createCpuSession(file: string, threads?: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, sessionOptions('cpu', Math.max(1, threads ?? physicalCores())));
}

export async function releaseSession(session: ort.InferenceSession): Promise<void> {
  await session.release();
}

function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const x = h[i]!;
    const s = x & 0x8000 ? -1 : 1;
    const e = (x >> 10) & 0x1f;
    const m = x & 0x3ff;
    out[i] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return out;
}
