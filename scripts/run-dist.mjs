// `npm run bench -- <name>` / `npm run eval -- <name>`: build, then run the tool with its arguments.
import { spawnSync } from 'node:child_process';
const [tool, ...args] = process.argv.slice(2);
const b = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);
const r = spawnSync(process.execPath, ['--expose-gc', `dist/${tool}.js`, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
