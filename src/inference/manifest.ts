// manifest.json of a converted model folder: where its weights came from, what was written, and the shapes the
// embedder needs. `manifestHash` (sha256 of manifest.json's bytes) identifies the model in an index.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';

export interface Manifest {
  format: 1;
  source: { repo: string; revision: string; generated: boolean };
  /** Input files (relative to the source folder(s)) → sha256. Base-model files of a LoRA merge are prefixed `base/`. */
  inputs: Record<string, string>;
  /** Files written to the model folder (except manifest.json) → sha256. */
  outputs: Record<string, string>;
  config: { hidden: number; layers: number; heads: number; ffn: number; vocab: number; maxPositions: number };
  pooling: 'cls';
  dim: number;
  normalize: true;
  /** ONNX files per precision, relative to the model folder; a precision that was not converted is absent. */
  files: { fp32?: string; int8?: string; fp16?: string };
  tokenizer: 'tokenizer.json';
  createdAt: string;
}

export const MANIFEST_FILE = 'manifest.json';

/** Reads and checks `${dir}/manifest.json`. */
export function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST_FILE);
  let m: Manifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  } catch (e) {
    throw new Error(`${file}: cannot read the model manifest (${(e as Error).message})`);
  }
  if (m?.format !== 1) throw new Error(`${file}: unsupported manifest format ${JSON.stringify(m?.format)}`);
  const need: (keyof Manifest)[] = ['source', 'outputs', 'config', 'dim', 'files', 'tokenizer'];
  for (const k of need) if (m[k] === undefined) throw new Error(`${file}: missing field "${k}"`);
  if (!Number.isInteger(m.dim) || m.dim <= 0) throw new Error(`${file}: bad dim ${JSON.stringify(m.dim)}`);
  return m;
}

/** sha256 (hex) of `${dir}/manifest.json`. */
export function manifestHash(dir: string): string {
  return createHash('sha256').update(fs.readFileSync(path.join(dir, MANIFEST_FILE))).digest('hex');
}

/** sha256 (hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(file, { highWaterMark: 1 << 22 })
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve());
  });
  return h.digest('hex');
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
