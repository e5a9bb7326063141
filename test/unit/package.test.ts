// The per-platform VSIX (scripts/package.mjs): what is inside, what must never be, and that the packaged natives load.
// The linux-x64 VSIX is built (or reused when its staged inputs are byte-identical) through the real CLI. The other
// targets are staged for real (their LanceDB native package fetched once with `npm pack` into .cache/npm-natives)
// and checked with `vsce ls`, which applies the same .vscodeignore without spending a minute zipping 150 MB each.
// BIOHICL_PACKAGE_OFFLINE=1 skips a target whose native package is not cached instead of fetching it.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, before, after } from 'node:test';
import { unzipSync } from 'fflate';
import targetTable from '../../scripts/targets.json';

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  devDependencies?: Record<string, string>;
};

interface TargetSpec {
  ort?: { dir: string; files: string[] };
  lancedb?: { package: string; file: string };
  budgetMB?: { total: number; nonNative: number };
  unsupported?: string;
}
const TARGETS = targetTable.targets as Record<string, TargetSpec>;

interface BuildResult {
  target: string;
  vsix: string;
  reused: boolean;
  hash: string;
  error?: string;
  files?: string[];
  sizes: { total: number; natives: number; nonNative: number; withinBudget: boolean };
}

function packageTarget(
  target: string,
  extra: string[] = [],
): { status: number | null; result: BuildResult; output: string } {
  const r = spawnSync(process.execPath, ['scripts/package.mjs', '--target', target, '--reuse', '--json', ...extra], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = r.stdout.trim().split('\n');
  let result: BuildResult;
  try {
    result = JSON.parse(lines[lines.length - 1]) as BuildResult;
  } catch {
    throw new Error(`package.mjs printed no JSON result (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return { status: r.status, result, output: `${r.stdout}\n${r.stderr}` };
}

function listing(vsix: string): Map<string, { size: number; originalSize: number }> {
  const entries = new Map<string, { size: number; originalSize: number }>();
  unzipSync(fs.readFileSync(vsix), {
    filter: (f) => {
      entries.set(f.name, { size: f.size, originalSize: f.originalSize });
      return false;
    },
  });
  return entries;
}

const NM = 'extension/dist/node_modules/';

/** The checks every target's VSIX must pass, from the table alone. */
function checkListing(target: string, names: string[]): void {
  const t = TARGETS[target];
  assert.ok(t.ort && t.lancedb);
  const set = new Set(names);
  const expected = [
    'extension/package.json',
    'extension/package.nls.json',
    'extension/dist/extension.js',
    'extension/dist/worker.js',
    'extension/dist/cli.js',
    `${NM}onnxruntime-node/package.json`,
    `${NM}onnxruntime-node/dist/index.js`,
    `${NM}@lancedb/lancedb/dist/index.js`,
    `${NM}apache-arrow/Arrow.node.js`,
    ...t.ort.files.map((f) => `${NM}onnxruntime-node/bin/napi-v6/${t.ort!.dir}/${f}`),
    `${NM}${t.lancedb.package}/${t.lancedb.file}`,
  ];
  for (const e of expected) assert.ok(set.has(e), `${target}: ${e} missing from the VSIX`);
  // Whatever the repo has under media/ and models/tokenizer/ (and the model registry) ships.
  for (const dir of ['media', 'models/tokenizer']) {
    const abs = path.join(ROOT, dir);
    if (!fs.existsSync(abs)) continue;
    for (const f of fs.readdirSync(abs, { recursive: true, withFileTypes: true })) {
      if (!f.isFile() || /\.map$|^tsconfig.*\.json$|(?<!\.d)\.ts$/.test(f.name)) continue; // dev-only files
      const r = path.relative(ROOT, path.join(f.parentPath, f.name)).split(path.sep).join('/');
      assert.ok(set.has(`extension/${r}`), `${target}: ${r} missing from the VSIX`);
    }
  }
  if (fs.existsSync(path.join(ROOT, 'models', 'registry.json'))) assert.ok(set.has('extension/models/registry.json'));

  const devNames = [
    ...Object.keys(pkg.devDependencies ?? {}),
    'typescript',
    'esbuild',
    'playwright-core',
    'tsx',
    '@huggingface/transformers',
    '@vscode/vsce',
    '@vscode/test-electron',
    'adm-zip',
    'global-agent',
    'sharp',
    'onnxruntime-web',
  ];
  const otherOrt = new RegExp(`/bin/napi-v6/(?!${t.ort.dir.replace('/', '\\/')}/)`);
  for (const n of names) {
    assert.ok(
      !/^extension\/(src|test|scripts|\.cache|dist-vsix)\//.test(n),
      `${target}: development file ${n} shipped`,
    );
    assert.ok(!/\.(map|tsbuildinfo)$/.test(n) && !/(?<!\.d)\.[cm]?ts$/.test(n), `${target}: source/map ${n} shipped`);
    assert.ok(!/^extension\/dist\/(bench|eval)\.js$/.test(n), `${target}: dev bundle ${n} shipped`);
    assert.ok(!otherOrt.test(n), `${target}: another platform's onnxruntime binary ${n} shipped`);
    assert.ok(
      !/libonnxruntime_providers_(cuda|tensorrt)/.test(n),
      `${target}: CUDA provider ${n} shipped (fetched on request only)`,
    );
    const lance = /node_modules\/@lancedb\/(lancedb-[^/]+)\//.exec(n);
    if (lance)
      assert.equal(`@lancedb/${lance[1]}`, t.lancedb.package, `${target}: another platform's LanceDB ${n} shipped`);
    for (const d of devNames)
      assert.ok(!n.includes(`node_modules/${d}/`), `${target}: dev dependency ${d} shipped (${n})`);
    // Only the staged dist/node_modules: vsce must not have walked the developer's node_modules.
    assert.ok(!n.startsWith('extension/node_modules/'), `${target}: top-level node_modules entry ${n}`);
  }
}

/** A one-node ONNX model (Identity on float[2]), encoded by hand: enough to open a real session. */
function identityModel(): Uint8Array {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  const str = (field: number, s: string): number[] => [
    ...varint((field << 3) | 2),
    ...varint(Buffer.byteLength(s)),
    ...Buffer.from(s),
  ];
  const msg = (field: number, body: number[]): number[] => [
    ...varint((field << 3) | 2),
    ...varint(body.length),
    ...body,
  ];
  const int = (field: number, v: number): number[] => [...varint(field << 3), ...varint(v)];
  const valueInfo = (field: number, name: string): number[] =>
    msg(field, [...str(1, name), ...msg(2, msg(1, [...int(1, 1), ...msg(2, msg(1, int(1, 2)))]))]);
  const node = msg(1, [...str(1, 'x'), ...str(2, 'y'), ...str(4, 'Identity')]);
  const graph = msg(7, [...node, ...str(2, 'g'), ...valueInfo(11, 'x'), ...valueInfo(12, 'y')]);
  return Uint8Array.from([...int(1, 8), ...graph, ...msg(8, int(2, 13))]);
}

describe('VSIX packaging (scripts/package.mjs)', () => {
  let linux: BuildResult;
  let names: string[];
  let tmp: string;

  before(() => {
    const r = packageTarget('linux-x64');
    assert.equal(r.status, 0, r.output);
    linux = r.result;
    names = [...listing(linux.vsix).keys()];
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-vsix-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes the linux-x64 VSIX at its stable path', () => {
    assert.equal(linux.vsix, path.join(ROOT, 'dist-vsix', `${pkg.name}-linux-x64-${pkg.version}.vsix`));
    const manifest = names.find((n) => n === 'extension.vsixmanifest');
    assert.ok(manifest, 'no extension.vsixmanifest');
    const xml = Buffer.from(
      unzipSync(fs.readFileSync(linux.vsix), { filter: (f) => f.name === 'extension.vsixmanifest' })[
        'extension.vsixmanifest'
      ],
    ).toString();
    assert.match(xml, /TargetPlatform="linux-x64"/);
  });

  it('holds the linux-x64 natives and the product, and nothing from development or other platforms', () => {
    checkListing('linux-x64', names);
  });

  it('ships a package.json without scripts or devDependencies', () => {
    const shipped = JSON.parse(
      Buffer.from(
        unzipSync(fs.readFileSync(linux.vsix), { filter: (f) => f.name === 'extension/package.json' })[
          'extension/package.json'
        ],
      ).toString(),
    ) as Record<string, unknown>;
    assert.equal(shipped.devDependencies, undefined);
    assert.equal(shipped.scripts, undefined);
    assert.equal(shipped.main, './dist/extension.js');
  });

  it('meets the linux-x64 size budget (natives + ≤ 6 MB, ≤ 80 MB in all)', () => {
    const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`;
    const b = TARGETS['linux-x64'].budgetMB!;
    assert.ok(linux.sizes.nonNative <= b.nonNative * 1048576, `non-native part is ${mb(linux.sizes.nonNative)}`);
    assert.ok(linux.sizes.total <= b.total * 1048576, `VSIX is ${mb(linux.sizes.total)}`);
    assert.equal(linux.sizes.total, fs.statSync(linux.vsix).size);
  });

  it('loads onnxruntime (a real session) and LanceDB (a real table) from the unpacked VSIX alone', () => {
    const files = unzipSync(fs.readFileSync(linux.vsix), { filter: (f) => f.name.startsWith('extension/') });
    for (const [name, data] of Object.entries(files)) {
      const dst = path.join(tmp, name);
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      fs.writeFileSync(dst, data);
    }
    const dist = path.join(tmp, 'extension', 'dist');
    fs.writeFileSync(path.join(tmp, 'identity.onnx'), identityModel());
    const probe = `
      const path = require('node:path');
      const inside = (m) => { const p = require.resolve(m); if (!p.startsWith(${JSON.stringify(dist)})) throw new Error(m + ' resolved outside the VSIX: ' + p); };
      ['onnxruntime-node', '@lancedb/lancedb', 'apache-arrow'].forEach(inside);
      const ort = require('onnxruntime-node');
      const lancedb = require('@lancedb/lancedb');
      (async () => {
        const s = await ort.InferenceSession.create(${JSON.stringify(path.join(tmp, 'identity.onnx'))});
        const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1.5, -2]), [2]) });
        const db = await lancedb.connect(${JSON.stringify(path.join(tmp, 'db'))});
        const t = await db.createTable('t', [{ id: 1, vector: [0, 1] }, { id: 2, vector: [1, 0] }]);
        const hits = await t.search([1, 0.1]).limit(1).toArray();
        console.log(JSON.stringify({ y: Array.from(out.y.data), hit: hits[0].id, rows: await t.countRows() }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const env = { ...process.env };
    delete env.NODE_PATH;
    delete env.NODE_OPTIONS; // no tsx loader in the probe
    const r = spawnSync(process.execPath, ['-e', probe], { cwd: dist, encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()), { y: [1.5, -2], hit: 2, rows: 2 });
  });

  it('runs the packaged CLI from the unpacked VSIX', () => {
    const env = { ...process.env };
    delete env.NODE_PATH;
    delete env.NODE_OPTIONS;
    const cli = path.join(tmp, 'extension', 'dist', 'cli.js');
    assert.ok(fs.existsSync(cli), 'unpack first (previous test)');
    const r = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
  });

  it('reuses the VSIX exactly when the staged inputs are unchanged', () => {
    const r = packageTarget('linux-x64');
    assert.equal(r.status, 0, r.output);
    assert.equal(r.result.vsix, linux.vsix);
    // In CI nothing changes in between; in a shared working tree someone may have edited a source meanwhile.
    assert.equal(r.result.reused, r.result.hash === linux.hash, `hash ${r.result.hash} vs ${linux.hash}`);
  });

  it('refuses darwin-x64 with the reason instead of building a broken VSIX', () => {
    const r = packageTarget('darwin-x64');
    assert.notEqual(r.status, 0);
    assert.match(r.result.error ?? '', /darwin\/x64|lancedb-darwin-x64/);
    assert.ok(!fs.existsSync(path.join(ROOT, 'dist-vsix', `${pkg.name}-darwin-x64-${pkg.version}.vsix`)));
  });

  for (const target of Object.keys(TARGETS).filter((t) => t !== 'linux-x64' && !TARGETS[t].unsupported)) {
    it(`${target}: vsce ls of the staged extension`, (t) => {
      const r = packageTarget(target, ['--ls', ...(process.env.BIOHICL_PACKAGE_OFFLINE === '1' ? ['--offline'] : [])]);
      if (r.status !== 0 && /not available locally/.test(r.result.error ?? '')) {
        t.skip(`${TARGETS[target].lancedb!.package} not cached; run npm run package -- --target ${target}`);
        return;
      }
      assert.equal(r.status, 0, r.output);
      assert.ok(r.result.files && r.result.files.length > 0);
      checkListing(
        target,
        r.result.files.map((f) => `extension/${f}`),
      );
    });
  }
});
