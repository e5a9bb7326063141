// `biohicl demo`: the embedded default. Builds (once) a demo index from the redistributable citations in data/demo
// with a generated base-shaped model, then answers for a sample manuscript paragraph: related papers, similar
// sentences, MeSH suggestions, and the execution provider used. Later runs reuse the model and the index.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { biohiclHome, defaultModelsDir, projectRoot } from '../../inference/paths';
import type { Embedder } from '../../inference/types';
import { IndexStore, describeIdentity } from '../../index/store';
import { search, similarSentences } from '../../index/search';
import { ensureGeneratedModel } from '../../index/model';
import { buildWithProgress, printSearch, printSentences, printSummary } from './index-cmds';
import { errorText } from '../../util/errors';
import { openEmbedder } from '../../inference/client';

export const DEMO_FILES = ['pubmedqa-pqal-dev.json', 'medline16n0902.xml.gz', 'mesh-papers.medline.txt'];

export const SAMPLE_PARAGRAPH =
  'Anticoagulation after major trauma remains controversial because of the risk of bleeding. In this retrospective ' +
  'cohort of injured patients with venous thromboembolism, we examined whether therapeutic heparin increased ' +
  'hemorrhagic complications or mortality compared with prophylactic dosing.';

export function demoDataDir(): string {
  return path.join(projectRoot(), 'data', 'demo');
}
export function demoIndexDir(): string {
  return path.join(biohiclHome(), 'demo-index');
}
export function demoModelDir(): string {
  return path.join(defaultModelsDir(), 'generated-base');
}

export interface DemoContext {
  store: IndexStore;
  embedder: Embedder;
  paragraph: string;
  indexDir: string;
  out: (line: string) => void;
}

/** MeSH suggestions section (the MeSH engine's own API; it votes the neighbours of the same index). */
async function meshSection(ctx: DemoContext): Promise<void> {
  const mesh = await import('../../mesh');
  const r = await mesh.meshForText(ctx.paragraph, { indexDir: ctx.indexDir, embedder: ctx.embedder });
  ctx.out(`\n== MeSH suggestions (${r.mode} neighbours + lexical)${r.note ? `\nnote: ${r.note}` : ''}`);
  ctx.out(mesh.formatSuggestions(r.suggestions.slice(0, 12)));
}

export async function runDemo(
  opts: { index?: string; model?: string; paragraph?: string; rebuild?: boolean; out?: (l: string) => void } = {},
): Promise<void> {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const t0 = Date.now();
  const modelDir = path.resolve(opts.model ?? demoModelDir());
  const indexDir = path.resolve(opts.index ?? demoIndexDir());
  const dataDir = demoDataDir();
  const files = DEMO_FILES.map((f) => path.join(dataDir, f));
  for (const f of files)
    if (!fs.existsSync(f)) throw new Error(`demo data missing: ${f} (the project's data/demo folder is incomplete)`);

  if (!opts.model) {
    const made = await ensureGeneratedModel(modelDir, 'base', (m) => process.stderr.write(m + '\n'));
    if (made) process.stderr.write(`model ready in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  const embedder = await openEmbedder({
    inProcess: true,
    modelDir,
    precision: 'auto',
    maxBatchItems: 64,
    maxBatchTokens: 8192,
  });
  try {
    const store = await IndexStore.open(indexDir, embedder.identity, { create: true, rebuild: !!opts.rebuild });
    try {
      store.meta.modelDir = modelDir;
      const records = await store.fileRecords();
      const complete = files.every((f) => records.get(path.resolve(f))?.status === 'complete');
      if (!complete) {
        out(`Building the demo index (once) at ${indexDir}`);
        out(
          `  ${files.length} files of redistributable PubMed data (data/demo), model ${describeIdentity(embedder.identity)} on ${embedder.report.provider} (${embedder.report.precision}).`,
        );
        out(
          '  Every sentence is embedded; each article vector is the mean of its title and sentence vectors (one encoder pass over the text).',
        );
        const s = await buildWithProgress(store, embedder, files, { batchSize: 64, articleVector: 'mean' });
        printSummary(s, out);
      }
      const counts = await store.counts();
      out(`\nIndex: ${counts.articles} citations, ${counts.sentences} sentences (${indexDir})`);
      out(`Encoder: ${describeIdentity(embedder.identity)}`);
      out(
        `Provider: ${embedder.report.provider} (${embedder.report.precision}, ${embedder.report.threads} threads, onnxruntime ${embedder.report.ortVersion}, ${path.basename(embedder.report.modelFile)})`,
      );
      if (embedder.identity.generated) {
        out(
          'NOTE: the weights are GENERATED (random, no download possible here): timings are real, dense similarity is not.',
        );
        out('      Related papers therefore use hybrid search with the dense leg at weight 0 (= full-text ranking),');
        out(
          '      and similar sentences use the full-text index. Fetch real weights with `biohicl model fetch --variant base`.',
        );
      }
      const paragraph = opts.paragraph ?? SAMPLE_PARAGRAPH;
      out(`\nSample manuscript paragraph:\n  ${paragraph}`);
      const r = await search(store, embedder, paragraph, { k: 5, mode: 'hybrid' });
      out('\n== Related papers (hybrid)');
      printSearch(r, paragraph, out);
      const sr = await similarSentences(store, embedder, paragraph, { k: 5 });
      out(`\n== Similar sentences (${sr.mode})`);
      printSentences(sr, out);
      const ctx: DemoContext = { store, embedder, paragraph, indexDir, out };
      try {
        await meshSection(ctx);
      } catch (e) {
        out(`\n(MeSH suggestions unavailable: ${errorText(e)})`);
      }
      out(
        `\nDone in ${((Date.now() - t0) / 1000).toFixed(1)} s. Try: biohicl search "<your text>" --index ${indexDir}`,
      );
    } finally {
      store.close();
    }
  } finally {
    await embedder.dispose();
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'build (once) and query the embedded demo index: related papers, similar sentences and MeSH terms for a sample paragraph',
    )
    .option('--index <dir>', 'demo index folder', demoIndexDir())
    .option('--model <dir>', 'model folder (default: a generated base-shaped model, made once)')
    .option('--paragraph <text>', 'your own paragraph instead of the sample')
    .option('--rebuild', 'rebuild the demo index')
    .action(async (o) => {
      await runDemo({ index: o.index, model: o.model, paragraph: o.paragraph, rebuild: !!o.rebuild });
    });
}
