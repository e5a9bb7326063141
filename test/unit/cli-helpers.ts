// The built CLI (dist/cli.js) as a child process, for the tests that drive it: built once if missing, run with a
// private BIOHICL_HOME. Asynchronous by default: tests that serve HTTP from their own process must not block it.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** Build dist/ when it is not there (a test file run on its own). */
export function ensureCliBuilt(): void {
  if (!fs.existsSync(CLI))
    spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

/** A runner whose children get `home` as BIOHICL_HOME, plus `extra` environment. */
export function cliRunner(home: () => string): {
  run: (args: string[], extra?: Record<string, string>) => Promise<CliResult>;
  runSync: (args: string[], extra?: Record<string, string>) => CliResult;
} {
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    BIOHICL_HOME: home(),
    ...extra,
  });
  return {
    run: (args, extra) =>
      new Promise((resolve) => {
        const p = spawn(process.execPath, [CLI, ...args], { env: env(extra) });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => {
          out += d;
        });
        p.stderr.on('data', (d) => {
          err += d;
        });
        p.on('close', (code) => resolve({ code, out, err }));
      }),
    runSync: (args, extra) => {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: env(extra) });
      return { code: r.status, out: r.stdout, err: r.stderr };
    },
  };
}

/**
 * A small real index made with the CLI (two Biopython PubMed fixtures, a tiny generated model) in `dir`, for the
 * tests that damage copies of it.
 */
export async function smallRealIndex(dir: string): Promise<{ model: string; index: string }> {
  const { ensureGeneratedModel } = await import('../../src/index/model');
  const { BIOPYTHON } = await import('../fixtures/paths');
  ensureCliBuilt();
  const model = path.join(dir, 'tiny');
  await ensureGeneratedModel(model, 'tiny');
  const index = path.join(dir, 'pristine');
  const r = cliRunner(() => path.join(dir, 'home')).runSync([
    'index',
    'add',
    path.join(BIOPYTHON, 'pubmed_result1.txt'),
    path.join(BIOPYTHON, 'pubmed1.xml'),
    '--index',
    index,
    '--model',
    model,
    '--quiet',
  ]);
  if (r.code !== 0) throw new Error(`index add failed (${r.code}): ${r.err}`);
  return { model, index };
}
