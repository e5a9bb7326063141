// One esbuild script: the extension, the inference worker, the CLI and the bench/eval tools.
// Native packages stay external: they are loaded from node_modules at run time (and pruned per platform when packaging).
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
// --outdir=<dir>: build elsewhere than dist/ (scripts/package.mjs builds straight into its staging folder).
const outdir = process.argv.find((a) => a.startsWith('--outdir='))?.slice('--outdir='.length) ?? 'dist';
const external = [
  'vscode',
  'onnxruntime-node',
  '@lancedb/lancedb',
  'apache-arrow',
  '@huggingface/transformers',
  'playwright-core',
];

const options = {
  entryPoints: {
    extension: 'src/extension/extension.ts',
    worker: 'src/inference/worker.ts',
    cli: 'src/cli/main.ts',
    bench: 'src/tools/bench.ts',
    eval: 'src/tools/eval.ts',
  },
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  external,
  logLevel: 'warning',
  banner: { js: '' },
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('esbuild: watching');
} else {
  await esbuild.build(options);
  console.log(`esbuild: built ${outdir}/{extension,worker,cli,bench,eval}.js`);
}
