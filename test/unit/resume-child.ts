// Child process for resume.test.ts: one build of <file> into <index> with the real tiny ONNX model (in-process
// onnxruntime session). It prints one line per progress event so the parent can kill it mid-way.
import { addFiles } from '../../src/index/build';
import { IndexStore } from '../../src/index/store';
import { deps } from './index-helpers';
import { openEmbedder } from '../../src/inference/client';

async function main(): Promise<void> {
  const [index, file, modelDir] = process.argv.slice(2);
  const emb = await openEmbedder({
    inProcess: true,
    modelDir: modelDir!,
    device: 'cpu',
    precision: 'fp32',
    threads: 1,
  });
  const store = await IndexStore.open(index!, emb.identity, { create: true });
  const s = await addFiles(store, emb, [file!], deps, {
    batchSize: 5,
    onProgress: (p) => process.stdout.write(`progress ${p.phase}\n`),
  });
  store.close();
  process.stdout.write(JSON.stringify(s) + '\n');
}
main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e));
  process.exit(1);
});
