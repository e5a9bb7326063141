// `node --import tsx src/tools/fuzz.ts [--seed N] [--sample] [--only CLASS,…] [--json FILE]`: the reader fault suite.
// Builds every hostile variant of the real input files (src/tools/fuzz/hostile.ts) and checks each: no exception,
// undamaged records kept and unchanged, damaged ones that are missing named by a reject, time and memory. Prints a
// table per variant class and exits 1 if any variant failed. `--sample` is the subset `npm test` runs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanSources, variantsOf, checkVariant, type Outcome } from './fuzz/hostile';
import { projectRoot } from '../inference/paths';

async function main(argv: string[]): Promise<void> {
  let seed = 15;
  let full = true;
  let only: Set<string> | undefined;
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--seed') seed = Number(argv[++i]);
    else if (k === '--sample') full = false;
    else if (k === '--only') only = new Set(String(argv[++i]).split(','));
    else if (k === '--json') json = argv[++i];
    else {
      process.stderr.write(`fuzz: unknown option ${k}\n`);
      process.exit(2);
    }
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-fuzz-'));
  const t0 = performance.now();
  const results: (Outcome & { source: string })[] = [];
  try {
    const sources = await cleanSources(projectRoot(), tmp);
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
  console.log(
    `\n${results.length} variants (seed ${seed}, ${full ? 'full set' : 'sample'}) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${results.length - failed.length} passed, ${failed.length} failed`,
  );
  if (json) fs.writeFileSync(json, JSON.stringify(results, null, 1));
  process.exit(failed.length ? 1 : 0);
}
main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`fuzz: ${e?.stack ?? e}\n`);
  process.exit(1);
});
