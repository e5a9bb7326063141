// The `biohicl model` commands, run as a real process (tsx on src/cli/main.ts) against a local HTTP "hub".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { HubServer, readDir, sha } from './hub-helpers';

const ROOT = path.join(__dirname, '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures');
const files = readDir(path.join(FIX, 'tiny-bert'), [
  'config.json',
  'pytorch_model.bin',
  'tokenizer.json',
  'tokenizer_config.json',
]);
const COMMIT = 'c'.repeat(40);
const server = new HubServer({ 'LunaLan07/BioHiCL-Base': { commit: COMMIT, revisions: ['main'], files } });
let home = '';
let hub = '';
before(async () => {
  hub = await server.start();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-cli-'));
});
after(async () => {
  await server.stop();
  fs.rmSync(home, { recursive: true, force: true });
});

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, BIOHICL_HOME: home, HF_ENDPOINT: hub },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('model fetch: refused without a pin (exit 1), then fetched unpinned from the hub, converted, recorded; never fetched twice', async () => {
  const refused = await cli('model', 'fetch', '--variant', 'base');
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /no pinned revision.*--allow-unpinned/);
  assert.equal(server.log.length, 0);

  const r = await cli('model', 'fetch', '--variant', 'base', '--allow-unpinned', '--precisions', 'fp32');
  assert.equal(r.code, 0, r.stderr);
  const dir = path.join(home, 'models', 'biohicl-base');
  assert.match(r.stdout, /UNPINNED: LunaLan07\/BioHiCL-Base @ main \(commit c{40}\)/);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.source, { repo: 'LunaLan07/BioHiCL-Base', revision: COMMIT, generated: false });
  assert.equal(manifest.inputs['pytorch_model.bin'], sha(files['pytorch_model.bin']));
  assert.equal(manifest.dim, 16);
  assert.ok(fs.existsSync(path.join(dir, 'model.onnx')));
  const pins = JSON.parse(fs.readFileSync(path.join(dir, 'pins.json'), 'utf8'));
  assert.equal(pins.files['pytorch_model.bin'].sha256, sha(files['pytorch_model.bin']));
  assert.equal(pins.files['model.safetensors'], undefined);

  const requests = server.log.length;
  const again = await cli('model', 'fetch', '--variant', 'base', '--allow-unpinned');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already converted/);
  assert.equal(server.log.length, requests);

  const info = await cli('model', 'info');
  assert.equal(info.code, 0);
  assert.match(info.stdout, /biohicl-base\s+LunaLan07\/BioHiCL-Base @ c{40}\s+16-d/);

  // A file changed after conversion: `fetch` does not say "already converted" but makes the folder again.
  const tok = path.join(dir, 'tokenizer.json');
  fs.appendFileSync(tok, ' ');
  const bad = await cli('model', 'info', dir, '--verify');
  assert.equal(bad.code, 4, bad.stderr);
  assert.match(bad.stderr, /tokenizer\.json: sha256 [0-9a-f]{64}, manifest records [0-9a-f]{64}/);
  const redo = await cli('model', 'fetch', '--variant', 'base', '--allow-unpinned', '--precisions', 'fp32');
  assert.equal(redo.code, 0, redo.stderr);
  assert.doesNotMatch(redo.stdout, /already converted/);
  assert.match(redo.stderr, /tokenizer\.json does not match the model manifest.*fetching and converting it again/);
  const good = await cli('model', 'info', dir, '--verify');
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /all files match the manifest/);
});

test('model generate says plainly that the weights are generated; info shows it', async () => {
  const out = path.join(home, 'gen');
  const r = await cli('model', 'generate', '--shape', 'tiny', '--out', out, '--precisions', 'fp32', '--seed', '7');
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /GENERATED \(random\), not BioHiCL: timing measured on them is honest, ranking quality is not/,
  );
  const info = await cli('model', 'info', out, '--verify');
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /generated:tiny @ seed-7\s+\[GENERATED weights\]/);
  assert.match(info.stdout, /all files match the manifest/);
});

test('model convert of the tiny-bert fixture and of the LoRA adapter over it', async () => {
  const out = path.join(home, 'conv');
  const r = await cli(
    'model',
    'convert',
    path.join(FIX, 'tiny-lora'),
    '--base',
    path.join(FIX, 'tiny-bert'),
    '--out',
    out,
    '--precisions',
    'fp32',
  );
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  assert.equal(
    m.inputs['adapter_model.safetensors'],
    sha(fs.readFileSync(path.join(FIX, 'tiny-lora', 'adapter_model.safetensors'))),
  );
  const noBase = await cli('model', 'convert', path.join(FIX, 'tiny-lora'), '--out', path.join(home, 'x'));
  assert.equal(noBase.code, 1);
  assert.match(noBase.stderr, /LoRA adapter; the base model folder/);
});

test('usage errors exit with 2', async () => {
  for (const args of [
    ['model', 'fetch', '--variant', 'huge'],
    ['model', 'generate', '--shape', 'xl'],
    ['model', 'fetch'],
    ['model', 'convert'],
    ['model', 'generate', '--shape', 'tiny', '--precisions', 'fp8'],
  ]) {
    const r = await cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  const bad = await cli('model', 'info', path.join(home, 'nothing'));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /no manifest\.json/);
});
