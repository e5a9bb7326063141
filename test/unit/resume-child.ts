// Child process for resume.test.ts: one build of <file> into <index>, slowed a little so a kill lands mid-way.
import { addFiles } from '../../src/index/build';
import { IndexStore } from '../../src/index/store';
import { BowEmbedder, deps } from './index-helpers';

async function main(): Promise<void> {
  const [index, file] = process.argv.slice(2);
  const emb = new BowEmbedder(undefined, 15);
  const store = await IndexStore.open(index, emb.identity, { create: true });
  const s = await addFiles(store, emb, [file], deps, { batchSize: 5 });
  store.close();
  process.stdout.write(JSON.stringify(s) + '\n');
}
main().catch((e) => { process.stderr.write(String(e?.stack ?? e)); process.exit(1); });
