// `npm run lint` and the lint step of `npm test`: eslint (eslint.config.mjs) and prettier --check (.prettierrc.json)
// over the code, with the same file list as `npm run format`, read from package.json so it is written once.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const r = spawnSync(pkg.scripts.lint, {
  shell: true,
  stdio: 'inherit',
  env: { ...process.env, PATH: `node_modules/.bin:${process.env.PATH}` },
});
process.exit(r.status ?? 1);
