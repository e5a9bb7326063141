// `npm ci` must stay offline-safe on today's and future npm versions: no dependency install script runs (onnxruntime-
// node's would download CUDA libraries), through settings npm knows — no "Unknown project config" warning.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const npm = (args: string[]) =>
  spawnSync('npm', args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, npm_config_ignore_scripts: undefined },
  });

test('.npmrc turns dependency install scripts off with a setting npm knows (no warning)', () => {
  const r = npm(['config', 'get', 'ignore-scripts']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'true');
  assert.doesNotMatch(r.stderr, /Unknown (project|user|env) config/);
});

test('every dependency install script is reviewed (denied) in allowScripts, onnxruntime-node above all', (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    allowScripts?: Record<string, boolean>;
  };
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false);
  const ls = npm(['install-scripts', 'ls']);
  if (ls.status !== 0 && /Unknown command|not a valid/i.test(ls.stderr + ls.stdout)) {
    t.skip(`this npm (${npm(['--version']).stdout.trim()}) has no install-scripts command`);
    return;
  }
  assert.equal(ls.status, 0, ls.stderr);
  assert.match(ls.stdout, /No packages with unreviewed install scripts/);
});

const bin = path.join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
test('onnxruntime-node ships its CPU build without its install script', (t) => {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    t.skip(`checks the linux-x64 files; this is ${process.platform}-${process.arch}`);
    return;
  }
  assert.ok(fs.existsSync(path.join(bin, 'libonnxruntime.so.1')), 'the CPU library is in the npm package');
});
