// `npm run gpu:setup`: the explicit CUDA step for the CLI and development clones (linux-x64).
//
// onnxruntime-node ships the CPU runtime only (.npmrc skips its CUDA download on purpose). This fetches the CUDA
// provider libraries for the installed onnxruntime-node from NuGet (Microsoft.ML.OnnxRuntime.Gpu.Linux), checks the
// package against NuGet's SHA-512 (and a pinned SHA-256 when known), keeps them in ~/.cache/biohicl/onnxruntime-cuda/
// <version>/ and installs them next to libonnxruntime.so.1 in node_modules/onnxruntime-node/bin/napi-v6/linux/x64/,
// where onnxruntime looks for them. Then it says whether CUDA 12 + cuDNN 9 can be loaded.
//
//   npm run gpu:setup                                  fetch + install + status
//   npm run gpu:setup -- --status                      status only (also on Windows/macOS: says what is used there)
//   npm run gpu:setup -- --from <file.nupkg> --sha256 <hex>   offline: a package downloaded by hand
//   npm run gpu:setup -- --store <dir>                 keep the verified libraries elsewhere
//   npm run gpu:setup -- --ort-installer               run onnxruntime-node's own installer instead (no hash check)
//
// Verify which provider ran: `biohicl` prints the backend report (provider, fallback reason) with its results,
// and the extension logs it in the "BioHiCL" output channel; `--device cuda` makes a missing piece an explicit reason.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { require as tsxRequire } from 'tsx/cjs/api';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const gpu = tsxRequire('../src/inference/gpu.ts', import.meta.url);
const { biohiclHome } = tsxRequire('../src/inference/paths.ts', import.meta.url);

const argv = process.argv.slice(2);
const value = (n) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1] : undefined;
};

function printStatus(s) {
  console.log(`\n${s.platform}, onnxruntime-node ${s.ortVersion}`);
  if (s.supported) {
    console.log(`  provider libraries in ${s.binDir}: ${s.providersInstalled ? 'yes' : 'no'}`);
    if (s.storeDir) console.log(`  verified copies in ${s.storeDir}: ${s.providersInStore ? 'yes' : 'no'}`);
    console.log(`  NVIDIA driver (${s.driver.name}): ${s.driver.found ? 'found' : 'not found'}`);
    for (const l of s.runtime) console.log(`  ${l.name.padEnd(20)} ${l.found ? 'found' : 'not found'}`);
  }
  console.log(s.ready ? `\n${s.summary}` : `\n${s.problems.map((p) => `- ${p}`).join('\n')}`);
}

const storeDir = value('--store') ?? gpu.cudaStoreDir(biohiclHome());
const status = () => gpu.cudaProviderStatus({ storeDir });

if (argv.includes('--status') || process.platform !== 'linux' || process.arch !== 'x64') {
  printStatus(status());
  process.exit(0);
}

if (argv.includes('--ort-installer')) {
  // onnxruntime-node's own script: same NuGet package, no hash check, installs the TensorRT provider too.
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'onnxruntime-node', 'script', 'install.js')], {
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12' },
  });
  printStatus(status());
  process.exit(r.status ?? 1);
}

let last = 0;
const mb = (n) => (n / 1048576).toFixed(0);
try {
  const manifest = await gpu.fetchCudaProviders({
    storeDir,
    fromFile: value('--from'),
    expectedSha256: value('--sha256'),
    onProgress: (p) => {
      if (p.phase !== 'download') return console.log(`${p.phase}…`);
      if (Date.now() - last < 1000 && p.received !== p.total) return;
      last = Date.now();
      const rate = p.bytesPerSecond ? `, ${(p.bytesPerSecond / 1048576).toFixed(1)} MB/s` : '';
      process.stdout.write(`\rdownload ${mb(p.received)}${p.total ? ` / ${mb(p.total)}` : ''} MB${rate}   `);
    },
  });
  console.log(`\nverified ${manifest.package} (sha256 ${manifest.nupkgSha256}) → ${storeDir}`);
  const written = gpu.installCudaProviders(storeDir);
  console.log(written.length ? `installed ${written.join(', ')}` : 'already installed');
} catch (e) {
  console.error(`\nCUDA provider setup failed: ${e instanceof Error ? e.message : e}`);
  console.error(
    'A partial download is kept and resumed by the next run. Offline: download the .nupkg elsewhere and use --from <file> --sha256 <hex>.',
  );
  printStatus(status());
  process.exit(1);
}
const s = status();
printStatus(s);
process.exit(s.ready ? 0 : 3);
