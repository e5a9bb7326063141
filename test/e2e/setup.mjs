// Installs what the end-to-end suite needs, once, on a fresh machine (no network but the npm registry and apt):
// Debian's chromium (+ libkrb5-dev, ripgrep for code-server's native builds) and code-server 4.100.3 into .tools/.
// Three traps, handled below: code-server's postinstall as root, the kerberos native build, and the ripgrep download.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, copyFileSync, symlinkSync, rmSync, chmodSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CODE_SERVER_VERSION = '4.100.3';
export const TOOLS = join(ROOT, '.tools', `code-server-${CODE_SERVER_VERSION}`);
export const CODE_SERVER = join(TOOLS, 'node_modules', 'code-server');
export const CHROMIUM = process.env.BIOHICL_E2E_CHROMIUM || '/usr/bin/chromium';
const DONE = join(TOOLS, '.complete');

function sh(cmd, args, opts = {}) {
  const t0 = Date.now();
  console.log(`[e2e setup] $ ${cmd} ${args.join(' ')}${opts.cwd ? `  (in ${opts.cwd})` : ''}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts, env: { ...process.env, ...(opts.env || {}) } });
  if (r.status !== 0) throw new Error(`[e2e setup] failed (${r.status}): ${cmd} ${args.join(' ')}`);
  console.log(`[e2e setup]   done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function which(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).stdout.trim();
}

export function ensureAptPackages() {
  const need = [];
  if (!existsSync(CHROMIUM)) need.push('chromium');
  if (!which('rg')) need.push('ripgrep');
  if (!existsSync('/usr/include/krb5.h') && !existsSync('/usr/include/gssapi/gssapi.h')) need.push('libkrb5-dev');
  if (!need.length) return;
  const sudo = process.getuid && process.getuid() !== 0 ? ['sudo'] : [];
  const run = (args) => (sudo.length ? sh('sudo', args) : sh(args[0], args.slice(1)));
  run(['apt-get', '-o', 'DPkg::Lock::Timeout=900', 'update']);
  run([
    'env',
    'DEBIAN_FRONTEND=noninteractive',
    'apt-get',
    '-o',
    'DPkg::Lock::Timeout=900',
    'install',
    '-y',
    '--no-install-recommends',
    ...need,
  ]);
}

export function ensureCodeServer() {
  if (existsSync(DONE)) return CODE_SERVER;
  rmSync(TOOLS, { recursive: true, force: true });
  mkdirSync(TOOLS, { recursive: true });
  writeFileSync(join(TOOLS, 'package.json'), JSON.stringify({ name: 'biohicl-e2e-tools', private: true }));
  const npm = 'npm';
  // npm passes its own settings to the scripts it runs as npm_config_* variables, and the project's .npmrc sets
  // ignore-scripts=true (no dependency install script on `npm ci`): code-server's native rebuilds below must run theirs.
  const env = {
    npm_config_yes: 'true',
    npm_config_unsafe_perm: 'true',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_ignore_scripts: 'false',
  };
  // 1. code-server without its scripts, then argon2 from source.
  sh(npm, ['install', `code-server@${CODE_SERVER_VERSION}`, '--ignore-scripts', '--no-save'], { cwd: TOOLS, env });
  sh(npm, ['rebuild', 'argon2'], { cwd: TOOLS, env });
  // 2. VS Code's own dependencies, ripgrep from Debian, native rebuilds (node-pty runs `npx node-gyp`).
  const vscodeDir = join(CODE_SERVER, 'lib', 'vscode');
  sh(npm, ['install', '--omit=dev', '--ignore-scripts'], { cwd: vscodeDir, env });
  const rgDir = join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
  mkdirSync(rgDir, { recursive: true });
  copyFileSync(which('rg') || '/usr/bin/rg', join(rgDir, 'rg'));
  chmodSync(join(rgDir, 'rg'), 0o755);
  sh(npm, ['rebuild'], { cwd: vscodeDir, env });
  // 3. The rest of code-server's postinstall.sh, by hand.
  const asar = join(vscodeDir, 'node_modules.asar');
  if (!existsSync(asar)) symlinkSync('node_modules', asar);
  for (const bin of ['bin/remote-cli/code-linux.sh', 'bin/helpers/browser-linux.sh']) {
    // postinstall links these two helpers; they only matter for terminals, so missing ones are not fatal.
    const target = join(vscodeDir, bin);
    if (!existsSync(target)) console.log(`[e2e setup] note: ${bin} not present (terminal helpers only)`);
  }
  const extDir = join(vscodeDir, 'extensions');
  if (existsSync(join(extDir, 'package.json'))) sh(npm, ['install', '--omit=dev'], { cwd: extDir, env });
  writeFileSync(DONE, new Date().toISOString());
  return CODE_SERVER;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  ensureAptPackages();
  ensureCodeServer();
  console.log(`[e2e setup] ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${CODE_SERVER}`);
}
