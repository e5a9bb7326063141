// `npm test`: build, type-check, lint (eslint + prettier --check), Node unit tests (real onnxruntime sessions, real LanceDB tables in temp dirs),
// then the end-to-end suite in a real (offline) VS Code. `npm test -- --unit` runs only the first four.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const onlyUnit = args.includes('--unit');
const filter = args.filter((a) => !a.startsWith('--'));

function step(name, cmd, cmdArgs, env = {}) {
  const t0 = Date.now();
  console.log(`\n=== ${name}`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env: { ...process.env, ...env } });
  console.log(`=== ${name}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (r.status !== 0) process.exit(r.status ?? 1);
}

step('build', process.execPath, ['scripts/build.mjs']);
step('typecheck', process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']);
step('lint + format check', process.execPath, ['scripts/lint.mjs']);

const unitDir = 'test/unit';
let files = readdirSync(unitDir)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => join(unitDir, f))
  .sort();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
step('unit tests', process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files]);

if (!onlyUnit && !filter.length && existsSync('test/e2e/run.mjs')) {
  step('end-to-end tests (real VS Code, offline)', process.execPath, ['test/e2e/run.mjs']);
}
