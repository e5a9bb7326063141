// `npm run eval -- <suite> [args]`: quality evaluations with standard metrics.
const suites: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  scifact: () => import('./eval/scifact'),
  beir: () => import('./eval/scifact'),
  mesh: () => import('./eval/mesh'),
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
main().catch((e) => { process.stderr.write(`eval: ${e?.stack ?? e}\n`); process.exit(1); });
export {};
