// Model folders for the index, the CLI and the tools: make sure the generated default exists (an embedder is
// opened with ../inference/client's openEmbedder).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_FILE } from '../inference/manifest';

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
