// `node --import tsx src/tools/fuzz.ts [--seed N] [--sample] [--only CLASS,…] [--json FILE]`: the reader fault suite.
// Builds every hostile variant of the real input files (src/tools/fuzz/hostile.ts) and checks each: no exception,
// undamaged records kept and unchanged, damaged ones that are missing named by a reject, time and memory. Prints a
// table per variant class and exits 1 if any variant failed. `--sample` is the subset `npm test` runs.
// Then the damaged-index classes (src/tools/fuzz/damage.ts): one small real index damaged each way, and verify,
// search and stats run on it with the built CLI (`--only damage` runs only those; `--no-damage` skips them).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanSources, variantsOf, checkVariant, type Outcome } from './fuzz/hostile';
import { projectRoot } from '../inference/paths';
import { spawnSync } from 'node:child_process';
import { DAMAGE_CLASSES, checkDamage, type DamageOutcome } from './fuzz/damage';

async function main(argv: string[]): Promise<void> {
  let seed = 15;
  let full = true;
  let only: Set<string> | undefined;
  let json: string | undefined;
  let damage = true;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--seed') seed = Number(argv[++i]);
    else if (k === '--sample') full = false;
    else if (k === '--only') only = new Set(String(argv[++i]).split(','));
    else if (k === '--json') json = argv[++i];
    else if (k === '--no-damage') damage = false;
    else {
      process.stderr.write(`fuzz: unknown option ${k}\n`);
      process.exit(2);
    }
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-fuzz-'));
  const t0 = performance.now();
  const results: (Outcome & { source: string })[] = [];
  const damaged: DamageOutcome[] = [];
  try {
    const sources = only?.size === 1 && only.has('damage') ? [] : await cleanSources(projectRoot(), tmp);
    for (const src of sources) {
      const vs = variantsOf(src, { seed, full }).filter((v) => !only || only.has(v.cls));
      for (const v of vs) {
        const r = await checkVariant(src, v, tmp, { measureMemory: true });
        results.push({ ...r, source: src.name });
        const mark = r.ok ? 'ok ' : 'FAIL';
        process.stdout.write(
          `${mark} ${r.variant.padEnd(46)} kept ${String(r.kept).padStart(4)}  rejects ${String(r.rejects).padStart(3)}  notes ${String(r.notes).padStart(3)}  ${r.ms.toFixed(0).padStart(6)} ms  ${(r.mb / (r.ms / 1000)).toFixed(1).padStart(6)} MB/s  peak +${r.peakMiB.toFixed(1)} MiB${r.ok ? '' : `\n     ${r.problems.join('\n     ')}`}\n`,
        );
      }
    }
    if (damage && (!only || only.has('damage'))) damaged.push(...damagedIndexes(tmp, seed));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const classes = [...new Set(results.map((r) => r.cls))];
  console.log(`\n${'class'.padEnd(14)} variants  failed  lost  missing/rejects  worst MB/s  slowest ms  peak MiB`);
  for (const c of classes) {
    const rs = results.filter((r) => r.cls === c);
    const rate = Math.min(...rs.map((r) => r.mb / (r.ms / 1000)));
    console.log(
      `${c.padEnd(14)} ${String(rs.length).padStart(8)}  ${String(rs.filter((r) => !r.ok).length).padStart(6)}  ${String(rs.reduce((s, r) => s + r.lost, 0)).padStart(4)}  ${`${rs.reduce((s, r) => s + r.missingTouched, 0)}/${rs.reduce((s, r) => s + r.rejects, 0)}`.padStart(15)}  ${rate.toFixed(1).padStart(10)}  ${Math.max(
        ...rs.map((r) => r.ms),
      )
        .toFixed(0)
        .padStart(10)}  ${Math.max(...rs.map((r) => r.peakMiB))
        .toFixed(1)
        .padStart(8)}`,
    );
  }
  const failed = results.filter((r) => !r.ok);
  const damageFailed = damaged.filter((r) => !r.ok);
  console.log(
    `\n${results.length} variants (seed ${seed}, ${full ? 'full set' : 'sample'}): ${results.length - failed.length} passed, ${failed.length} failed; ` +
      `${damaged.length} damaged indexes: ${damaged.length - damageFailed.length} passed, ${damageFailed.length} failed; ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  if (json) fs.writeFileSync(json, JSON.stringify({ readers: results, damaged }, null, 1));
  process.exit(failed.length || damageFailed.length ? 1 : 0);
}
/** The damaged-index classes against a small real index made with the built CLI and a tiny generated model. */
function damagedIndexes(tmp: string, seed: number): DamageOutcome[] {
  const root = projectRoot();
  const cliJs = path.join(root, 'dist', 'cli.js');
  if (!fs.existsSync(cliJs))
    spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const cli = [process.execPath, cliJs];
  const home = path.join(tmp, 'home');
  const model = path.join(tmp, 'damage-model');
  const pristine = path.join(tmp, 'damage-pristine');
  const must = (args: string[]): void => {
    const r = spawnSync(cli[0]!, [...cli.slice(1), ...args], {
      encoding: 'utf8',
      env: { ...process.env, BIOHICL_HOME: home },
    });
    if (r.status !== 0) throw new Error(`biohicl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  };
  must(['model', 'generate', '--shape', 'tiny', '--out', model, '--precisions', 'fp32']);
  const bio = path.join(root, 'test', 'fixtures', 'pubmed', 'biopython');
  must([
    'index',
    'add',
    path.join(bio, 'pubmed_result1.txt'),
    path.join(bio, 'pubmed1.xml'),
    '--index',
    pristine,
    '--model',
    model,
    '--quiet',
  ]);
  const out: DamageOutcome[] = [];
  console.log(`\ndamaged index (${DAMAGE_CLASSES.length} classes; exit codes verify/search/stats)`);
  for (const c of DAMAGE_CLASSES) {
    const r = checkDamage(c, { cli, pristine, model, work: tmp, home }, seed);
    out.push(r);
    process.stdout.write(
      `${r.ok ? 'ok ' : 'FAIL'} ${r.cls.padEnd(46)} ${r.codes.join('/').padEnd(8)} ${r.ms.toFixed(0).padStart(6)} ms${r.ok ? '' : `\n     ${r.problems.join('\n     ')}`}\n`,
    );
  }
  return out;
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`fuzz: ${e?.stack ?? e}\n`);
  process.exit(1);
});
