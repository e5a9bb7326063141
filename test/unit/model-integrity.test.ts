// Model files are what the manifest says they are, and weight files cannot make the reader allocate more than they
// declare: a converted folder's ONNX/tokenizer files are checked against manifest.json when a model is loaded (a full
// hash the first time, a stat afterwards, via .verified.json), and PyTorch zip bombs and lying safetensors headers
// are refused before any big allocation (measured in a child process with a small heap and its peak RSS).
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawn, spawnSync } from 'node:child_process';
import { convertModel } from '../../src/inference/convert/convert';
import { openEmbedder, EmbedderError } from '../../src/inference/client';
import {
  ModelIntegrityError,
  RACY_NS,
  VERIFY_CACHE_FILE,
  readManifest,
  supportFiles,
  verifyModelFiles,
} from '../../src/inference/manifest';
import { hashFileSync } from '../../src/util/hash';
import { BIOPYTHON } from '../fixtures/paths';

const ROOT = path.resolve(__dirname, '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures', 'tiny-bert');
let dir = '';
let pristine = '';

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-integrity-'));
  pristine = path.join(dir, 'pristine');
  await convertModel({
    srcDir: FIX,
    outDir: pristine,
    precisions: ['fp32', 'int8'],
    source: { repo: `local:${FIX}`, revision: 'local' },
  });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let copies = 0;
function copyModel(): string {
  const d = path.join(dir, `m${++copies}`);
  fs.cpSync(pristine, d, { recursive: true });
  fs.rmSync(path.join(d, VERIFY_CACHE_FILE), { force: true });
  return d;
}
/** Flips one bit in the middle of the file, in place (same size, same inode). */
function flipByte(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const pos = Math.floor(fs.fstatSync(fd).size / 2);
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, pos);
    b[0] = b[0]! ^ 0x01;
    fs.writeSync(fd, b, 0, 1, pos);
  } finally {
    fs.closeSync(fd);
  }
}
const truncate = (file: string): void => fs.truncateSync(file, Math.floor(fs.statSync(file).size * 0.9));

function assertRefused(e: unknown, modelDir: string, rel: string): true {
  assert.ok(e instanceof ModelIntegrityError, String(e));
  const file = path.join(modelDir, rel);
  const want = readManifest(modelDir).outputs[rel]!;
  assert.ok(e.message.includes(file), e.message);
  assert.ok(e.message.includes(`expected ${want}`), e.message);
  assert.ok(e.message.includes(`sha256 ${hashFileSync(file)}`), e.message);
  assert.ok(e.message.includes(`biohicl model convert ${FIX} --out ${modelDir}`), e.message);
  assert.equal(e.exitCode, 4);
  assert.equal(e.file, file);
  return true;
}

test('an untouched model loads; the first load hashes what it reads, the next only stats it (cache in .verified.json)', async () => {
  const d = copyModel();
  // Files changed within RACY_NS of being hashed are hashed again next time (their timestamps could still repeat).
  await sleep(Number(RACY_NS / 1_000_000n) + 200);
  const support = supportFiles(readManifest(d));
  assert.ok(
    support.includes('tokenizer.json') && support.includes('config.json') && !support.some((f) => f.endsWith('.onnx')),
    String(support),
  );

  const a = await openEmbedder({ inProcess: true, modelDir: d, device: 'cpu', precision: 'int8' });
  assert.deepEqual(a.integrity.cached, []);
  assert.deepEqual([...a.integrity.hashed].sort(), [...support, 'model.int8.onnx'].sort());
  const [v] = await a.embed(['IL-6 in sepsis'], 'query');
  assert.equal(v!.length, 16);
  await a.dispose();

  const cache = JSON.parse(fs.readFileSync(path.join(d, VERIFY_CACHE_FILE), 'utf8')) as {
    files: Record<string, { sha256: string; size: string }>;
  };
  const m = readManifest(d);
  for (const f of a.integrity.hashed) {
    assert.equal(cache.files[f]?.sha256, m.outputs[f], f);
    assert.equal(cache.files[f]?.size, String(fs.statSync(path.join(d, f)).size), f);
  }
  assert.equal(cache.files['model.onnx'], undefined, 'a file that was not opened is not hashed');

  const b = await openEmbedder({ inProcess: true, modelDir: d, device: 'cpu', precision: 'int8' });
  assert.deepEqual(b.integrity.hashed, [], 'the second load re-hashes nothing');
  assert.deepEqual([...b.integrity.cached].sort(), [...a.integrity.hashed].sort());
  await b.dispose();

  const c = await openEmbedder({ inProcess: true, modelDir: d, device: 'cpu', precision: 'fp32' });
  assert.deepEqual(c.integrity.hashed, ['model.onnx'], 'only the newly opened file is hashed');
  await c.dispose();

  // Tampered in place after it was verified, with its mtime put back: the stat (ctime) still gives it away.
  const int8 = path.join(d, 'model.int8.onnx');
  const before = fs.statSync(int8);
  flipByte(int8);
  fs.utimesSync(int8, before.atime, before.mtime);
  await assert.rejects(openEmbedder({ inProcess: true, modelDir: d, device: 'cpu', precision: 'int8' }), (e) =>
    assertRefused(e, d, 'model.int8.onnx'),
  );
});

for (const [rel, precision] of [
  ['model.onnx', 'fp32'],
  ['model.int8.onnx', 'int8'],
  ['tokenizer.json', 'int8'],
] as const) {
  for (const [how, tamper] of [
    ['a flipped byte (same size)', flipByte],
    ['truncation', truncate],
  ] as const) {
    test(`${rel} changed by ${how} after conversion: the load is refused, naming the file and both hashes`, async () => {
      const d = copyModel();
      // Verified once (so a cached result exists), then tampered.
      await (await openEmbedder({ inProcess: true, modelDir: d, device: 'cpu', precision })).dispose();
      tamper(path.join(d, rel));
      await assert.rejects(openEmbedder({ inProcess: true, modelDir: d, device: 'cpu', precision }), (e) =>
        assertRefused(e, d, rel),
      );
      await assert.rejects(verifyModelFiles(d, [rel]), (e) => assertRefused(e, d, rel));
      if (rel === 'model.onnx') {
        // Only the files a load opens are checked: the int8 model is intact and still loads.
        await (await openEmbedder({ inProcess: true, modelDir: d, device: 'cpu', precision: 'int8' })).dispose();
      }
    });
  }
}

test('a missing or unlisted model file is refused, naming it', async () => {
  const d = copyModel();
  fs.rmSync(path.join(d, 'model.int8.onnx'));
  await assert.rejects(
    verifyModelFiles(d, ['model.int8.onnx']),
    (e: Error) => e instanceof ModelIntegrityError && /model\.int8\.onnx: missing/.test(e.message),
  );
  await assert.rejects(
    verifyModelFiles(d, ['model.fp16.onnx']),
    (e: Error) => e instanceof ModelIntegrityError && /model\.fp16\.onnx: not listed with a sha256/.test(e.message),
  );
});

test("the worker (the extension's path) refuses a tampered model with the same message", async () => {
  const d = copyModel();
  flipByte(path.join(d, 'tokenizer.json'));
  const w = await openEmbedder({ lazy: true, modelDir: d, device: 'cpu', precision: 'int8' });
  try {
    await assert.rejects(w.embed(['x'], 'query'), (e: Error) => {
      assert.ok(e instanceof EmbedderError && e.code === 'load', String(e));
      assert.ok(e.message.includes(`${path.join(d, 'tokenizer.json')} does not match the model manifest`), e.message);
      assert.ok(e.message.includes('biohicl model convert'), e.message);
      return true;
    });
  } finally {
    await w.dispose();
  }
});

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, BIOHICL_HOME: path.join(dir, 'home') },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => {
      stdout += c;
    });
    p.stderr.on('data', (c) => {
      stderr += c;
    });
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('the CLI exits 4 (no usable model) and names the file: index add on a tampered model, model info --verify', async () => {
  const d = copyModel();
  flipByte(path.join(d, 'model.int8.onnx'));
  const add = await cli(
    'index',
    'add',
    path.join(BIOPYTHON, 'pubmed1.xml'),
    '--index',
    path.join(dir, 'idx'),
    '--model',
    d,
    '--precision',
    'int8',
    '--device',
    'cpu',
    '--quiet',
  );
  assert.equal(add.code, 4, add.stderr);
  assert.match(add.stderr, /model\.int8\.onnx does not match the model manifest/);
  assert.ok(!fs.existsSync(path.join(dir, 'idx', 'meta.json')), 'nothing was indexed');
  const info = await cli('model', 'info', d, '--verify');
  assert.equal(info.code, 4, info.stderr);
  assert.match(info.stderr, /model\.int8\.onnx: sha256 [0-9a-f]{64}, manifest records [0-9a-f]{64}/);
  assert.match(info.stderr, /biohicl model convert/);
});

// ---------------------------------------------------------------------------------------------------------------
// Bounded reading of weight files.

/** A minimal zip writer (stored/deflated entries with whatever sizes the test wants to declare). */
function writeZip(file: string, entries: { name: string; method: 0 | 8; data: Buffer; size: number }[]): void {
  const locals: Buffer[] = [];
  const cds: Buffer[] = [];
  let off = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(e.method, 8);
    lh.writeUInt32LE(e.data.length, 18);
    lh.writeUInt32LE(e.size, 22);
    lh.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(e.method, 10);
    cd.writeUInt32LE(e.data.length, 20);
    cd.writeUInt32LE(e.size, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(off, 42);
    locals.push(lh, name, e.data);
    cds.push(cd, name);
    off += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(cds);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(off, 16);
  fs.writeFileSync(file, Buffer.concat([...locals, cd, eocd]));
}

/** The pickle of {'w': a float32 tensor of `numel` elements in storage '0'} (protocol 2, as torch.save writes it). */
function statePickle(numel: number): Buffer {
  const str = (t: string): Buffer => Buffer.concat([Buffer.from([0x8c, Buffer.byteLength(t)]), Buffer.from(t)]);
  const int = (n: number): Buffer => {
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(n, 1);
    return b;
  };
  return Buffer.concat([
    Buffer.from([0x80, 0x02, 0x7d, 0x28]),
    str('w'),
    Buffer.from('ctorch._utils\n_rebuild_tensor_v2\n'),
    Buffer.from([0x28, 0x28]),
    str('storage'),
    Buffer.from('ctorch\nFloatStorage\n'),
    str('0'),
    str('cpu'),
    int(numel),
    Buffer.from([0x74, 0x51]),
    int(0),
    Buffer.from([0x28]),
    int(numel),
    Buffer.from([0x74, 0x28]),
    int(1),
    Buffer.from([0x74, 0x74, 0x52]),
    Buffer.from([0x75, 0x2e]),
  ]);
}

/** Raw deflate of `mib` MiB of zeros in ~1 KB per MiB, built without ever holding the zeros (sync-flushed segments). */
function zeroBomb(mib: number): Buffer {
  const seg = zlib.deflateRawSync(Buffer.alloc(1 << 20), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return Buffer.concat([...Array<Buffer>(mib).fill(seg), Buffer.from([0x03, 0x00])]);
}

function safetensors(file: string, header: unknown, dataBytes: number, headerLen?: bigint): void {
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLen ?? BigInt(h.length));
  fs.writeFileSync(file, Buffer.concat([len, h, Buffer.alloc(dataBytes)]));
}

test(
  'zip bombs and lying safetensors headers are refused naming file and entry/tensor, in bounded memory',
  { timeout: 120_000 },
  (t) => {
    const d = path.join(dir, 'bombs');
    fs.mkdirSync(d);
    const GiB = 1024; // MiB
    const bomb = zeroBomb(GiB);
    const pkl = (n: number) => ({
      name: 'archive/data.pkl',
      method: 0 as const,
      data: statePickle(n),
      size: statePickle(n).length,
    });
    const small = 16;
    const cases: { file: string; expect: RegExp[] }[] = [];
    const add = (name: string, expect: RegExp[], write: (f: string) => void): void => {
      const f = path.join(d, name);
      write(f);
      cases.push({ file: f, expect: [new RegExp(f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), ...expect] });
    };
    // 1 MB files that inflate to 1 GiB: the directory declares it; the directory lies (declares 64 bytes); or the
    // pickle and the directory agree on 1 GiB of tensor data in a 1 MB file.
    add(
      'declared.bin',
      [
        /zip entry 'archive\/data\/0' \(storage of tensor 'w'\) declares 1073741824 bytes, but the pickle declares 16 × 4-byte elements = 64 bytes/,
      ],
      (f) => writeZip(f, [pkl(small), { name: 'archive/data/0', method: 8, data: bomb, size: GiB << 20 }]),
    );
    add(
      'lying.bin',
      [/zip entry 'archive\/data\/0' \(storage of tensor 'w'\) inflates past its declared 64 bytes/],
      (f) => writeZip(f, [pkl(small), { name: 'archive/data/0', method: 8, data: bomb, size: small * 4 }]),
    );
    add('consistent.bin', [/declares 1073741824 bytes of tensor data in a \d+-byte file/], (f) =>
      writeZip(f, [pkl((GiB << 20) / 4), { name: 'archive/data/0', method: 8, data: bomb, size: GiB << 20 }]),
    );
    add(
      'pickle.bin',
      [
        /zip entry 'archive\/data\.pkl' declares 33554432 bytes, more than the \d+ it may hold; refusing it before reading/,
      ],
      (f) => writeZip(f, [{ name: 'archive/data.pkl', method: 8, data: zeroBomb(32), size: 32 << 20 }]),
    );
    add(
      'ratio.bin',
      [
        /zip entry 'archive\/data\/0' declares 4000000000 bytes from \d+ compressed bytes, more than deflate can produce/,
      ],
      (f) => writeZip(f, [pkl(small), { name: 'archive/data/0', method: 8, data: zeroBomb(1), size: 4_000_000_000 }]),
    );
    add('past-end.bin', [/zip entry 'archive\/data\/0' declares 3000000000 compressed bytes/], (f) => {
      writeZip(f, [pkl(small), { name: 'archive/data/0', method: 0, data: Buffer.alloc(64), size: 64 }]);
      const b = fs.readFileSync(f); // the last central-directory record (data/0) now claims 3 GB, stored
      const cd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
      b.writeUInt32LE(3e9, cd + 20);
      b.writeUInt32LE(3e9, cd + 24);
      fs.writeFileSync(f, b);
    });
    // safetensors: an absurd header length, offsets past the file, a shape far larger than the file, overlapping tensors.
    add('hlen.safetensors', [/bad safetensors header length 1152921504606846976/], (f) =>
      safetensors(f, { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 16, 1n << 60n),
    );
    add('offsets.safetensors', [/tensor w has data_offsets \[16,32\] past the end of the file/], (f) =>
      safetensors(
        f,
        {
          a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
          w: { dtype: 'F32', shape: [4], data_offsets: [16, 32] },
        },
        16,
      ),
    );
    add(
      'shape.safetensors',
      [/tensor big has shape \[1048576,1048576\] F32 \(4398046511104 bytes\), more than the file's 16 bytes/],
      (f) => safetensors(f, { big: { dtype: 'F32', shape: [1 << 20, 1 << 20], data_offsets: [0, 16] } }, 16),
    );
    add('overlap.safetensors', [/tensors a \[0, 16\) and b \[8, 24\) overlap/], (f) =>
      safetensors(
        f,
        {
          a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
          b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
        },
        24,
      ),
    );

    // A model folder whose pytorch_model.bin is a bomb: the converter refuses it the same way.
    const src = path.join(d, 'bomb-model');
    fs.mkdirSync(src);
    fs.copyFileSync(path.join(FIX, 'config.json'), path.join(src, 'config.json'));
    fs.copyFileSync(path.join(d, 'lying.bin'), path.join(src, 'pytorch_model.bin'));

    const child = path.join(d, 'child.ts');
    const rel = (p: string): string => JSON.stringify(path.join(ROOT, p));
    fs.writeFileSync(
      child,
      `
    import { readTorchBin } from ${rel('src/inference/convert/pickle.ts')};
    import { readSafetensors } from ${rel('src/inference/convert/safetensors.ts')};
    import { convertModel } from ${rel('src/inference/convert/convert.ts')};
    const out: Record<string, string> = {};
    const files: string[] = JSON.parse(process.argv[2]!);
    (async () => {
      for (const f of files) {
        try {
          if (f.endsWith('.bin')) readTorchBin(f); else await readSafetensors(f);
          out[f] = 'LOADED';
        } catch (e) { out[f] = (e as Error).message; }
      }
      try { await convertModel({ srcDir: ${JSON.stringify(src)}, outDir: ${JSON.stringify(path.join(d, 'bomb-out'))}, source: { repo: 'x', revision: 'y' } }); out.convert = 'LOADED'; }
      catch (e) { out.convert = (e as Error).message; }
      // a real checkpoint still loads under the same limits
      out.fixture = String(readTorchBin(${rel('test/fixtures/tiny-bert/pytorch_model.bin')}).size);
      console.log(JSON.stringify({ out, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
    })();
  `,
    );
    const r = spawnSync(
      process.execPath,
      ['--max-old-space-size=64', '--import', 'tsx', child, JSON.stringify(cases.map((c) => c.file))],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { out: Record<string, string>; maxRssMB: number };
    for (const c of cases) for (const re of c.expect) assert.match(res.out[c.file]!, re, path.basename(c.file));
    assert.match(
      res.out.convert!,
      /pytorch_model\.bin: zip entry 'archive\/data\/0' \(storage of tensor 'w'\) inflates past its declared 64 bytes/,
    );
    assert.ok(Number(res.out.fixture) > 30, res.out.fixture);
    // Each bomb alone would take > 1 GiB (before these bounds, 2.2 GB peak); refused, the whole run stays near Node's baseline.
    t.diagnostic(`child peak RSS ${res.maxRssMB.toFixed(0)} MB over ${cases.length} refused files + the fixture`);
    assert.ok(res.maxRssMB < 300, `peak RSS ${res.maxRssMB.toFixed(0)} MB`);
  },
);
