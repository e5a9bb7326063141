// Damaged-index fault classes for `npm run fuzz` (and a sample in `npm test`): copies of one small real index, each
// damaged one way (a data file deleted, truncated, emptied or with flipped bytes; the newest manifest truncated or
// deleted; the _versions folder deleted; meta.json deleted or overwritten), then `biohicl index verify`, `search`
// and `index stats` run on it as a writer would run them (the built CLI, a child process). Each must:
//   - leave the index folder exactly as it was (read commands never create or change anything);
//   - never print a Rust source path (`/rustc/…`, `/usr/local/cargo/…`) or a JavaScript stack;
//   - either answer (exit 0) or fail with exit 4 (damaged/missing: the index named, the way out said);
//   - verify: report the damage (exit 4) — except flipped bytes inside a data page, which Lance serves as they are
//     (no page checksums; said in the README), where verify may pass.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUST_PATH } from '../../index/errors';

export interface DamageOutcome {
  cls: string;
  ok: boolean;
  problems: string[];
  /** exit codes of verify, search, stats */
  codes: [number, number, number];
  ms: number;
}

interface DamageClass {
  name: string;
  /** verify must report it (false: Lance cannot see it, e.g. flipped bytes inside a page) */
  verifySees: boolean;
  damage(idx: string, rnd: () => number): void;
}

function files(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile())
    .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size || a.localeCompare(b));
}
const dataFiles = (idx: string, table: string): string[] => files(path.join(idx, `${table}.lance`, 'data'));
/** A table's manifests, newest first (Lance's V2 names count down from u64::MAX). */
function manifests(idx: string, table: string): string[] {
  return files(path.join(idx, `${table}.lance`, '_versions'))
    .filter((f) => f.endsWith('.manifest'))
    .sort((a, b) => (BigInt(path.basename(a, '.manifest')) < BigInt(path.basename(b, '.manifest')) ? -1 : 1));
}

export const DAMAGE_CLASSES: DamageClass[] = [];
for (const table of ['articles', 'sentences']) {
  DAMAGE_CLASSES.push(
    { name: `${table}: data file deleted`, verifySees: true, damage: (i) => fs.rmSync(dataFiles(i, table)[0]!) },
    {
      name: `${table}: data file cut in half`,
      verifySees: true,
      damage: (i) => {
        const f = dataFiles(i, table)[0]!;
        fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2));
      },
    },
    {
      name: `${table}: data file emptied`,
      verifySees: true,
      damage: (i) => fs.truncateSync(dataFiles(i, table)[0]!, 0),
    },
    {
      name: `${table}: 64 bytes flipped in a data file`,
      verifySees: false,
      damage: (i, rnd) => {
        const f = dataFiles(i, table)[0]!;
        const b = fs.readFileSync(f);
        const at = Math.floor(rnd() * Math.max(1, b.length - 64));
        for (let k = at; k < Math.min(b.length, at + 64); k++) b[k] = b[k]! ^ 0xff;
        fs.writeFileSync(f, b);
      },
    },
    {
      name: `${table}: newest manifest truncated`,
      verifySees: true,
      damage: (i) => fs.truncateSync(manifests(i, table)[0]!, 10),
    },
    { name: `${table}: newest manifest deleted`, verifySees: true, damage: (i) => fs.rmSync(manifests(i, table)[0]!) },
    {
      name: `${table}: _versions deleted`,
      verifySees: true,
      damage: (i) => fs.rmSync(path.join(i, `${table}.lance`, '_versions'), { recursive: true }),
    },
  );
}
DAMAGE_CLASSES.push(
  { name: 'meta.json deleted', verifySees: true, damage: (i) => fs.rmSync(path.join(i, 'meta.json')) },
  {
    name: 'meta.json overwritten with garbage',
    verifySees: true,
    damage: (i) => fs.writeFileSync(path.join(i, 'meta.json'), '{"format": 2, "model": '),
  },
);

/** Sizes (and a content hash of small files) of everything under a folder, to prove a command changed nothing. */
export function folderState(p: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const q = path.join(d, e.name);
      if (e.isDirectory()) walk(q);
      else out.push(`${path.relative(p, q)}:${fs.statSync(q).size}:${fs.statSync(q).mtimeMs}`);
    }
  };
  walk(p);
  return out.sort();
}

export interface DamageRun {
  /** argv prefix that runs the biohicl CLI, e.g. [process.execPath, 'dist/cli.js'] */
  cli: string[];
  /** a sound index to copy */
  pristine: string;
  model: string;
  work: string;
  home: string;
}

export function checkDamage(c: DamageClass, run: DamageRun, seed: number): DamageOutcome {
  const t0 = performance.now();
  const idx = path.join(run.work, c.name.replace(/[^a-z0-9]+/gi, '-'));
  fs.rmSync(idx, { recursive: true, force: true });
  fs.cpSync(run.pristine, idx, { recursive: true });
  let s = seed >>> 0 || 1;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) % 1;
  c.damage(idx, rnd);
  const before = folderState(idx);
  const problems: string[] = [];
  const exec = (args: string[]): { code: number; out: string } => {
    const r = spawnSync(run.cli[0]!, [...run.cli.slice(1), ...args], {
      encoding: 'utf8',
      env: { ...process.env, BIOHICL_HOME: run.home, HOME: run.home },
      timeout: 120_000,
    });
    return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  };
  const verify = exec(['index', 'verify', '--index', idx]);
  const search = exec(['search', 'tumour growth in mice', '--index', idx, '--model', run.model]);
  const stats = exec(['index', 'stats', '--index', idx]);
  for (const [what, r] of [
    ['verify', verify],
    ['search', search],
    ['stats', stats],
  ] as const) {
    if (RUST_PATH.test(r.out)) problems.push(`${what} printed a Rust source path: ${r.out.slice(0, 300)}`);
    if (/\n\s+at .+:\d+:\d+\)?\n/.test(r.out)) problems.push(`${what} printed a stack trace: ${r.out.slice(0, 300)}`);
    if (r.code !== 0 && r.code !== 4)
      problems.push(`${what} exited ${r.code} (0, or 4 for a damaged index, expected): ${r.out.slice(0, 300)}`);
    if (r.code !== 0 && !r.out.includes(idx))
      problems.push(`${what} failed without naming the index: ${r.out.slice(0, 300)}`);
  }
  if (c.verifySees && verify.code !== 4) problems.push(`verify did not report the damage (exit ${verify.code})`);
  if (verify.code === 4 && !/fix: /.test(verify.out)) problems.push('verify named no way to repair');
  const after = folderState(idx);
  if (after.join('\n') !== before.join('\n')) {
    const b = new Set(before);
    problems.push(
      `a read command changed the index: ${after
        .filter((x) => !b.has(x))
        .slice(0, 3)
        .join(', ')}`,
    );
  }
  fs.rmSync(idx, { recursive: true, force: true });
  return {
    cls: c.name,
    ok: !problems.length,
    problems,
    codes: [verify.code, search.code, stats.code],
    ms: performance.now() - t0,
  };
}
