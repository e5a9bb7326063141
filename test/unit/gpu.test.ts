// CUDA provider delivery (src/inference/gpu.ts): the ELF reader, the dynamic-loader probe, and fetch → verify →
// extract → install against a NuGet-shaped HTTP server on 127.0.0.1 (real HTTP, real zip, real hashes, a real
// interrupted download resumed with a Range request). nuget.org itself is not reachable from CI.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, before, after } from 'node:test';
import { zipSync } from 'fflate';
import {
  CUDA_PROVIDER_FILES,
  NUGET_PACKAGE,
  cudaProviderStatus,
  elfNeeded,
  fetchCudaProviders,
  installCudaProviders,
  ortNativeDir,
  probeLibraries,
  reinstallFromStoreIfNeeded,
  verifyStore,
} from '../../src/inference/gpu';

const ROOT = path.resolve(__dirname, '..', '..');
const VERSION = '9.9.9';
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const sha512b64 = (b: Uint8Array): string => createHash('sha512').update(b).digest('base64');

// Two fake provider libraries (random bytes: they are only copied and hashed here) inside a NuGet-like zip.
const libs: Record<string, Uint8Array> = {
  'libonnxruntime_providers_shared.so': Uint8Array.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 251)),
  'libonnxruntime_providers_cuda.so': new Uint8Array(300_000).map((_, i) => (i * 31 + (i >> 8)) % 256),
};
const nupkg = zipSync(
  {
    '[Content_Types].xml': new TextEncoder().encode('<Types/>'),
    'runtimes/linux-x64/native/libonnxruntime.so': new Uint8Array(1000).fill(3),
    'runtimes/linux-x64/native/libonnxruntime_providers_shared.so': libs['libonnxruntime_providers_shared.so']!,
    'runtimes/linux-x64/native/libonnxruntime_providers_cuda.so': libs['libonnxruntime_providers_cuda.so']!,
    'runtimes/linux-x64/native/libonnxruntime_providers_tensorrt.so': new Uint8Array(500).fill(9),
  },
  { level: 6 },
);

describe('CUDA provider delivery (gpu.ts)', () => {
  let server: http.Server;
  let base = '';
  let tmp = '';
  const requests: { url: string; range?: string }[] = [];
  let cutNextDownload = false;
  let publishedHash = sha512b64(nupkg);

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-gpu-'));
    const id = NUGET_PACKAGE.toLowerCase();
    server = http.createServer((req, res) => {
      requests.push({ url: req.url ?? '', range: req.headers.range });
      if (req.url === `/reg/${id}/${VERSION}.json`) {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ catalogEntry: `${base}/catalog/${id}.${VERSION}.json` }));
      }
      if (req.url === `/catalog/${id}.${VERSION}.json`) {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ packageHash: publishedHash, packageHashAlgorithm: 'SHA512' }));
      }
      if (req.url === `/flat/${id}/${VERSION}/${id}.${VERSION}.nupkg`) {
        const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        const start = m ? Number(m[1]) : 0;
        const body = Buffer.from(nupkg.subarray(start));
        res.writeHead(m ? 206 : 200, {
          'content-length': body.length,
          ...(m ? { 'content-range': `bytes ${start}-${nupkg.length - 1}/${nupkg.length}` } : {}),
        });
        if (cutNextDownload) {
          cutNextDownload = false;
          res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.destroy(), 20));
          return;
        }
        return res.end(body);
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const feed = () => ({ flat: `${base}/flat/`, registration: `${base}/reg/` });

  it('reads DT_NEEDED from a real ELF library and rejects a non-ELF file', () => {
    const binding = path.join(ortNativeDir('linux', 'x64'), 'onnxruntime_binding.node');
    const needed = elfNeeded(binding);
    assert.ok(needed.includes('libonnxruntime.so.1'), needed.join(','));
    assert.ok(needed.includes('libc.so.6'), needed.join(','));
    const notElf = path.join(tmp, 'not-elf.so');
    fs.writeFileSync(notElf, 'hello, this is text');
    assert.throws(() => elfNeeded(notElf), /not an ELF file/);
  });

  it(
    'asks the dynamic loader: libc is found, a made-up library is not',
    { skip: process.platform === 'linux' ? false : 'the dynamic loader probe is for Linux' },
    () => {
      const [libc, none] = probeLibraries(['libc.so.6', 'libbiohicl-does-not-exist.so.9']);
      assert.equal(libc!.found, true);
      assert.equal(none!.found, false);
      assert.match(none!.error ?? '', /libbiohicl-does-not-exist/);
    },
  );

  it("resumes an interrupted download, checks NuGet's SHA-512, extracts and records the two libraries", async () => {
    const storeDir = path.join(tmp, 'store');
    cutNextDownload = true;
    await assert.rejects(
      fetchCudaProviders({ storeDir, ortVersion: VERSION, feed: feed(), retries: 0 }),
      /interrupted after \d+ bytes.*resume/,
    );
    const part = fs.readdirSync(storeDir).find((f) => f.endsWith('.partial'));
    assert.ok(part, 'the partial download is kept');
    const partSize = fs.statSync(path.join(storeDir, part)).size;
    assert.ok(partSize > 0 && partSize < nupkg.length);

    const phases = new Set<string>();
    const m = await fetchCudaProviders({
      storeDir,
      ortVersion: VERSION,
      feed: feed(),
      onProgress: (p) => phases.add(p.phase),
    });
    const last = requests.filter((r) => r.url.endsWith('.nupkg')).at(-1)!;
    assert.equal(last.range, `bytes=${partSize}-`, 'the second download asked only for the rest');
    assert.deepEqual([...phases].sort(), ['download', 'extract', 'metadata', 'verify']);
    assert.equal(m.nupkgSha256, sha256(nupkg));
    assert.equal(m.nupkgSha512, sha512b64(nupkg));
    for (const f of CUDA_PROVIDER_FILES) {
      assert.equal(m.files[f]!.sha256, sha256(libs[f]!));
      assert.deepEqual(new Uint8Array(fs.readFileSync(path.join(storeDir, f))), libs[f]);
    }
    assert.ok(!fs.existsSync(path.join(storeDir, 'libonnxruntime_providers_tensorrt.so')), 'TensorRT is not extracted');
    assert.deepEqual(
      fs.readdirSync(storeDir).filter((f) => /nupkg/.test(f)),
      [],
      'the archive is removed after extraction',
    );
    assert.deepEqual(verifyStore(storeDir), []);

    const before = requests.length;
    await fetchCudaProviders({ storeDir, ortVersion: VERSION, feed: feed() });
    assert.equal(requests.length, before, 'a verified store is never fetched again');
  });

  it('a dropped connection is retried within one call, resuming where it stopped (src/net/download.ts)', async () => {
    const storeDir = path.join(tmp, 'store-retry');
    cutNextDownload = true;
    const mark = requests.length;
    const m = await fetchCudaProviders({ storeDir, ortVersion: VERSION, feed: feed(), retryDelayMs: 0 });
    const downloads = requests.slice(mark).filter((r) => r.url.endsWith('.nupkg'));
    assert.equal(downloads.length, 2);
    assert.equal(downloads[0]!.range, undefined);
    assert.match(downloads[1]!.range ?? '', /^bytes=\d+-$/);
    assert.equal(m.nupkgSha512, sha512b64(nupkg));
  });

  const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
  const onlyLinuxX64 = linuxX64
    ? false
    : `CUDA is offered only on linux-x64 (this is ${process.platform}-${process.arch})`;

  it('installs next to libonnxruntime after re-checking hashes', () => {
    const storeDir = path.join(tmp, 'store');
    const binDir = path.join(tmp, 'bin');
    fs.mkdirSync(binDir);
    const written = installCudaProviders(storeDir, binDir);
    assert.equal(written.length, 2);
    for (const f of CUDA_PROVIDER_FILES) assert.equal(sha256(fs.readFileSync(path.join(binDir, f))), sha256(libs[f]!));
    assert.deepEqual(installCudaProviders(storeDir, binDir), [], 'identical files are left alone');
    const s = cudaProviderStatus({ storeDir, binDir, probe: (names) => names.map((name) => ({ name, found: true })) });
    assert.equal(s.supported, linuxX64);
    assert.equal(s.providersInstalled, linuxX64);
  });

  it('says what the loader lacks: cuDNN 9, or CUDA 13 where CUDA 12 is needed', { skip: onlyLinuxX64 }, () => {
    const storeDir = path.join(tmp, 'store');
    const binDir = path.join(tmp, 'bin');
    const s = cudaProviderStatus({ storeDir, binDir, probe: (names) => names.map((name) => ({ name, found: true })) });
    assert.equal(s.ready, true, s.problems.join('\n'));
    const noCudnn = cudaProviderStatus({
      storeDir,
      binDir,
      probe: (names) => names.map((name) => ({ name, found: !name.startsWith('libcudnn'), error: 'not found' })),
    });
    assert.equal(noCudnn.ready, false);
    assert.match(noCudnn.problems.join('\n'), /cuDNN 9 \(libcudnn\.so\.9\)/);
    assert.doesNotMatch(noCudnn.problems.join('\n'), /CUDA 12 runtime libraries/);
    // what the H200 test machine showed: driver and cuDNN 9 present, CUDA 13 instead of CUDA 12
    const cuda13 = cudaProviderStatus({
      storeDir,
      binDir,
      probe: (names) =>
        names.map((name) => ({
          name,
          found: !/\.so\.12$|libcufft\.so\.11|libcudart\.so\.11/.test(name),
          error: 'not found',
        })),
    });
    assert.equal(cuda13.ready, false);
    assert.match(cuda13.problems.join('\n'), /libcudart\.so\.13 is installed, but .* built for CUDA 12/);
    assert.doesNotMatch(cuda13.problems.join('\n'), /cuDNN/);
  });

  it(
    'after an extension update (a new, empty bin folder) the store re-installs without fetching',
    { skip: onlyLinuxX64 },
    () => {
      const fresh = path.join(tmp, 'bin-after-update');
      fs.mkdirSync(fresh);
      assert.equal(reinstallFromStoreIfNeeded(path.join(tmp, 'store'), fresh).length, 2);
    },
  );

  it('refuses to install from an altered store', () => {
    const storeDir = path.join(tmp, 'store');
    const cuda = path.join(storeDir, 'libonnxruntime_providers_cuda.so');
    const bytes = fs.readFileSync(cuda);
    bytes[1000] ^= 0xff;
    fs.writeFileSync(cuda, bytes);
    assert.throws(() => installCudaProviders(storeDir, path.join(tmp, 'bin2')), /incomplete or altered/);
  });

  it('deletes a download whose hash differs from what NuGet publishes', async () => {
    const storeDir = path.join(tmp, 'store-bad');
    publishedHash = sha512b64(new Uint8Array([1, 2, 3]));
    try {
      await assert.rejects(
        fetchCudaProviders({ storeDir, ortVersion: VERSION, feed: feed() }),
        /failed verification \(SHA-512/,
      );
      assert.deepEqual(
        fs.readdirSync(storeDir).filter((f) => /nupkg|\.so$/.test(f)),
        [],
      );
    } finally {
      publishedHash = sha512b64(nupkg);
    }
  });

  it('takes a hand-downloaded package only with its SHA-256', async () => {
    const file = path.join(tmp, 'hand.nupkg');
    fs.writeFileSync(file, nupkg);
    const storeDir = path.join(tmp, 'store-offline');
    await assert.rejects(fetchCudaProviders({ storeDir, ortVersion: VERSION, fromFile: file }), /needs its SHA-256/);
    await assert.rejects(
      fetchCudaProviders({ storeDir, ortVersion: VERSION, fromFile: file, expectedSha256: '0'.repeat(64) }),
      /SHA-256 .* expected/,
    );
    const before = requests.length;
    const m = await fetchCudaProviders({
      storeDir,
      ortVersion: VERSION,
      fromFile: file,
      expectedSha256: sha256(nupkg),
    });
    assert.equal(requests.length, before, 'no network');
    assert.equal(
      m.files['libonnxruntime_providers_cuda.so']!.sha256,
      sha256(libs['libonnxruntime_providers_cuda.so']!),
    );
  });

  it("reports this machine honestly (provider libraries in onnxruntime-node's own folder or not)", (t) => {
    const s = cudaProviderStatus();
    // node_modules may be a link (a git worktree sharing the main checkout's): compared as the real folder
    const ort = fs.realpathSync(path.join(ROOT, 'node_modules', 'onnxruntime-node'));
    const bin = path.join(ort, 'bin', 'napi-v6', process.platform, process.arch);
    assert.equal(s.binDir, bin);
    if (!s.supported) {
      t.skip(`CUDA is offered only on linux-x64 (this is ${process.platform}-${process.arch})`);
      return;
    }
    const installed = CUDA_PROVIDER_FILES.every((f) => fs.existsSync(path.join(bin, f)));
    assert.equal(s.providersInstalled, installed);
    assert.equal(s.ready, s.problems.length === 0);
    if (!installed) assert.match(s.problems.join('\n'), /gpu:setup/);
  });
});
