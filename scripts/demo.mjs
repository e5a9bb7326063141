// `npm run demo`: build the bundles, then run the embedded default (`biohicl demo`): generates a base-shaped model
// once, builds the demo index once (progress with ETA), and answers for a sample paragraph. Extra args pass through.
import { spawnSync } from 'node:child_process';
const b = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);
const r = spawnSync(process.execPath, ['dist/cli.js', 'demo', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
