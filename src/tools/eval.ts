// `npm run eval -- <suite> [args]`: quality evaluations with standard metrics.
const suites: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  scifact: () => import('./eval/scifact'),
  beir: () => import('./eval/scifact'),
  mesh: () => import('./eval/mesh'),
  uncited: () => import('./eval/uncited'),
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const load = name ? suites[name] : undefined;
  if (!load) {
    process.stderr.write(`usage: npm run eval -- <${Object.keys(suites).join('|')}> [options]\n`);
    process.exit(2);
  }
  await (await load()).run(args);
}
// Errors that carry an exit code are the user's (a missing data set, a wrong option): their message, no stack.
main().catch((e) => {
  process.stderr.write(`eval: ${typeof e?.exitCode === 'number' ? e.message : (e?.stack ?? e)}\n`);
  process.exit(typeof e?.exitCode === 'number' ? e.exitCode : 1);
});
export {};
