// `npm run bench -- <suite> [args]`: speed and memory benchmarks that print ratios against a baseline measured in the same run.
const suites: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  encoder: () => import('./bench/encoder'),
  index: () => import('./bench/index-bench'),
  mesh: () => import('./bench/mesh'),
  'pubmed-fetch': () => import('./bench/pubmed-fetch'),
  release: () => import('./bench/release'),
  cluster: () => import('./bench/cluster'),
  storage: () => import('./bench/storage'),
  'sentences-on-demand': () => import('./bench/sentences-on-demand'),
  readers: () => import('./bench/readers'),
  completion: () => import('./bench/completion'),
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const load = name ? suites[name] : undefined;
  if (!load) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(suites).join('|')}> [options]\n`);
    process.exit(2);
  }
  await (await load()).run(args);
}
main().catch((e) => {
  process.stderr.write(`bench: ${typeof e?.exitCode === 'number' ? e.message : (e?.stack ?? e)}\n`);
  process.exit(typeof e?.exitCode === 'number' ? e.exitCode : 1);
});
export {};
