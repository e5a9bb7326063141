// Per-user default locations (CLI). The extension passes its own globalStorage paths instead.
import * as os from 'node:os';
import * as path from 'node:path';

/** $BIOHICL_HOME, else $XDG_CACHE_HOME/biohicl, else ~/.cache/biohicl (%LOCALAPPDATA%\biohicl on Windows). */
export function biohiclHome(): string {
  if (process.env.BIOHICL_HOME) return path.resolve(process.env.BIOHICL_HOME);
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) return path.join(process.env.LOCALAPPDATA, 'biohicl');
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'biohicl');
}
export const defaultModelsDir = (): string => path.join(biohiclHome(), 'models');
export const defaultIndexDir = (): string => path.join(biohiclHome(), 'index');

/** The project/extension root (where package.json, models/ and data/ live), from a bundled dist/*.js or from src/. */
export function projectRoot(): string {
  // dist/x.js → .. ; src/inference/paths.ts → ../..
  const here = __dirname;
  return path.basename(here) === 'dist' ? path.dirname(here) : path.resolve(here, '..', '..');
}
