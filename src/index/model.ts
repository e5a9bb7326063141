// Model folders for the index, the CLI and the tools: open an embedder, or make sure the generated default exists.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Device, Embedder, Precision } from '../inference/types';
import { LocalEmbedder } from '../inference/embedder';
import { MANIFEST_FILE } from '../inference/manifest';

export interface OpenEmbedderOptions {
  modelDir: string;
  device?: Device;
  precision?: Precision;
  threads?: number;
  queryPrefix?: boolean;
  maxBatchItems?: number;
  maxBatchTokens?: number;
}

/** An in-process embedder on the model folder (the CLI and tools; the extension uses the worker). */
export async function openEmbedder(o: OpenEmbedderOptions): Promise<Embedder> {
  if (!fs.existsSync(path.join(o.modelDir, MANIFEST_FILE))) {
    throw Object.assign(
      new Error(
        `${o.modelDir}: no model there (no ${MANIFEST_FILE}); make one with \`biohicl model fetch\` or \`biohicl model generate\``,
      ),
      { exitCode: 4 },
    );
  }
  return LocalEmbedder.load(o.modelDir, {
    device: o.device,
    precision: o.precision,
    threads: o.threads,
    queryPrefix: o.queryPrefix,
    maxBatchItems: o.maxBatchItems,
    maxBatchTokens: o.maxBatchTokens,
  });
}

/**
 * Make sure a generated (random-weight) model of `shape` exists in `dir`; generate it once otherwise.
 * Returns true when it was generated now.
 */
export async function ensureGeneratedModel(
  dir: string,
  shape: 'tiny' | 'base' | 'large',
  onStep?: (msg: string) => void,
): Promise<boolean> {
  if (fs.existsSync(path.join(dir, MANIFEST_FILE))) return false;
  const { generateModel } = await import('../inference/convert');
  onStep?.(`generating a ${shape}-shaped model with random weights in ${dir} (once)…`);
  const tmp = `${dir}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  await generateModel({ shape, outDir: tmp, precisions: ['fp32', 'int8'] });
  fs.rmSync(path.join(tmp, 'source'), { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.renameSync(tmp, dir);
  return true;
}
