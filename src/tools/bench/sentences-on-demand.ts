// `npm run bench -- sentences-on-demand [--queries 20] [--model DIR] [--k 6] [--keep]`
// What the "similar sentences" panel costs per query on an index that stores no sentence vectors (README "What fits
// on a laptop": fp16 article vectors, sentence vectors only for a scope), against the indexed-sentence baseline, in
// the same run and through the product's own functions:
//  - two real indexes of the demo corpus (data/demo, 1,388 real citations) built by `addFiles`: (A) every sentence
//    stored, float32 vectors (the default); (B) `--sentence-scope none`, float16 vectors (the laptop decision).
//    Placeholder (random) vectors: no search timed here depends on the vector values (the indexes are flat, exact).
//  - per query (a real abstract sentence as the writer's text, its own paper excluded), interleaved: (A)
//    `similarSentences` dense over the sentence rows; (B) `scopedSimilarSentences`: the 10 best papers' abstracts
//    read and split, the 20 sentences sharing most words with the query embedded with the BioHiCL-Base-shaped int8
//    model and ranked, given the papers panel's hits (as the engine does) and with its own paper search; and the
//    variants (all sentences of the top 10, top 5 / 20).
//  The query vector is embedded once before the timings (the papers panel needs it anyway; the engine memoises it),
//  and its cost is printed on its own line.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Embedder, ModelIdentity, TextKind } from '../../inference/types';
import { splitSentences } from '../../inference/sentences';
import { readCitations } from '../../index/readers';
import { addFiles } from '../../index/build';
import '../../index/lance-env';
import * as lancedb from '@lancedb/lancedb';
import {
  ARTICLES,
  FTS_OPTIONS,
  IndexStore,
  articlesSchema,
  rowAbstract,
  rowSections,
  toArticleInfo,
  toFloat32,
  type SentenceScope,
  type VectorType,
} from '../../index/store';
import { search, similarSentences } from '../../index/search';
import { scopedSimilarSentences, type ScopedSentencesOptions } from '../../index/on-demand';
import { ensureGeneratedModel } from '../../index/model';
import { openEmbedder } from '../../inference/client';
import { defaultModelsDir, projectRoot } from '../../inference/paths';

interface Args {
  queries: number;
  k: number;
  model?: string;
  keep: boolean;
}

function parse(args: string[]): Args {
  const a: Args = { queries: 20, k: 6, keep: false };
  for (let i = 0; i < args.length; i++) {
    const o = args[i];
    const num = (): number => {
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n <= 0)
        throw Object.assign(new Error(`${o} needs a positive integer`), { exitCode: 2 });
      return n;
    };
    if (o === '--queries') a.queries = num();
    else if (o === '--k') a.k = num();
    else if (o === '--model') a.model = args[++i];
    else if (o === '--keep') a.keep = true;
    else
      throw Object.assign(
        new Error(`unknown option ${o} (sentences-on-demand: --queries N, --k N, --model DIR, --keep)`),
        { exitCode: 2 },
      );
  }
  return a;
}

/** Placeholder vectors of the model's identity (so the real model's query vectors are accepted by the index). */
class RandomEmbedder implements Embedder {
  readonly report = {
    provider: 'none (random placeholder vectors)',
    requested: 'cpu' as const,
    ortVersion: '-',
    threads: 0,
    modelFile: '-',
    precision: 'fp32' as const,
  };
  private s = 12345;
  constructor(readonly identity: ModelIdentity) {}
  private next(): number {
    this.s = (Math.imul(this.s, 1103515245) + 12345) >>> 0;
    return this.s / 2 ** 32 - 0.5;
  }
  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map(() => {
      const v = Float32Array.from({ length: this.identity.dim }, () => this.next());
      const n = Math.hypot(...v) || 1;
      for (let i = 0; i < v.length; i++) v[i] /= n;
      return v;
    });
  }
  async dispose(): Promise<void> {
    /* nothing */
  }
}

/** The real embedder, with the query vectors of the benchmark's queries computed once up front. */
class CachedQueries implements Embedder {
  private q = new Map<string, Float32Array>();
  constructor(readonly inner: Embedder) {}
  get identity() {
    return this.inner.identity;
  }
  get report() {
    return this.inner.report;
  }
  async prepare(texts: string[]): Promise<number[]> {
    const ms: number[] = [];
    for (const t of texts) {
      const t0 = performance.now();
      const [v] = await this.inner.embed([t], 'query');
      ms.push(performance.now() - t0);
      this.q.set(t, v!);
    }
    return ms;
  }
  async embed(texts: string[], kind: TextKind): Promise<Float32Array[]> {
    if (kind === 'query' && texts.length === 1 && this.q.has(texts[0]!)) return [this.q.get(texts[0]!)!];
    return this.inner.embed(texts, kind);
  }
  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}
function du(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? du(p) : e.isFile() ? fs.statSync(p).size : 0;
  }
  return total;
}

export async function run(args: string[]): Promise<void> {
  const a = parse(args);
  const t0 = performance.now();
  const load = (): string =>
    os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
  let modelDir = a.model;
  if (!modelDir) {
    modelDir = path.join(defaultModelsDir(), 'generated-base');
    await ensureGeneratedModel(modelDir, 'base', (m) => console.log(m));
  }
  const real = await openEmbedder({ modelDir, precision: 'int8', inProcess: true });
  const emb = new CachedQueries(real);
  console.log(
    `sentences-on-demand bench: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load avg ${load()}; model ${real.identity.repo} (dim ${real.identity.dim}), ${real.report.provider} ${real.report.precision}, ${real.report.threads} threads`,
  );
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bench-od-'));
  const demo = path.join(projectRoot(), 'data', 'demo');
  const files = ['medline16n0902.xml.gz', 'mesh-papers.medline.txt', 'pubmedqa-pqal-dev.json'].map((f) =>
    path.join(demo, f),
  );
  const stores: IndexStore[] = [];
  try {
    const build = async (name: string, vectorType: VectorType, sentenceScope: SentenceScope): Promise<IndexStore> => {
      const tb = performance.now();
      const s = await IndexStore.open(path.join(tmp, name), real.identity, {
        create: true,
        vectorType,
        sentenceScope,
      });
      stores.push(s);
      const sum = await addFiles(
        s,
        new RandomEmbedder(real.identity),
        files,
        { read: (f) => readCitations(f), split: splitSentences },
        { batchSize: 512 },
      );
      await s.optimize();
      const c = await s.counts();
      const bytes = du(path.join(tmp, name));
      console.log(
        `index ${name}: ${c.articles} citations, ${c.sentences} sentence rows, ${vectorType} vectors, sentence scope ${sentenceScope}; ${(bytes / 1e6).toFixed(1)} MB on disk = ${(bytes / c.articles).toFixed(0)} B per citation (built in ${((performance.now() - tb) / 1000).toFixed(0)} s, ${sum.sentences} sentences written)`,
      );
      return s;
    };
    const full = await build('all-fp32', 'float32', 'all');
    const lean = await build('none-fp16', 'float16', 'none');
    console.log(
      `on disk: ${((du(path.join(tmp, 'none-fp16')) / du(path.join(tmp, 'all-fp32'))) * 100).toFixed(0)} % of the full index`,
    );
    // The abstract stored once (index format 3) vs three times (format 2): the same rows written in both layouts,
    // same vectors and the same full-text and PMID indexes, compacted.
    {
      const rows = (await lean.articles.query().toArray()).map((r: Record<string, unknown>) => {
        const { section_labels: _l, ...rest } = r;
        return {
          ...rest,
          abstract: rowAbstract(r),
          sections: JSON.stringify(rowSections(r)),
          vector: toFloat32(r.vector),
          authors: toArticleInfo(r).authors,
          publication_types: toArticleInfo(r).publicationTypes,
        };
      });
      const db = await lancedb.connect(path.join(tmp, 'format2'));
      const t = await db.createTable(ARTICLES, rows, { schema: articlesSchema(real.identity.dim, 'float16', 2) });
      await t.createIndex('pmid', { config: lancedb.Index.btree() });
      await t.createIndex('text', { config: lancedb.Index.fts(FTS_OPTIONS) });
      await t.optimize({ cleanupOlderThan: new Date() });
      t.close();
      db.close();
      const v2 = du(path.join(tmp, 'format2', `${ARTICLES}.lance`));
      const v3 = du(path.join(tmp, 'none-fp16', `${ARTICLES}.lance`));
      console.log(
        `articles table, fp16 vectors, ${rows.length} citations: abstract stored three times (format 2) ${(v2 / rows.length).toFixed(0)} B per citation, once (format 3) ${(v3 / rows.length).toFixed(0)} B: ${((v2 - v3) / rows.length).toFixed(0)} B less (${((1 - v3 / v2) * 100).toFixed(0)} %)`,
      );
    }

    // Queries: a sentence of a real abstract (5–40 words), its own paper excluded, as the text a writer selects.
    const pool: { text: string; pmid: string }[] = [];
    for await (const ev of readCitations(files[2]!))
      if (ev.type === 'citation')
        for (const sec of ev.citation.abstract)
          for (const s of splitSentences(sec.text)) {
            const n = s.text.split(/\s+/).length;
            if (n >= 8 && n <= 40) pool.push({ text: s.text, pmid: ev.citation.pmid });
          }
    const queries = Array.from(
      { length: a.queries },
      (_, i) => pool[Math.floor(((i + 0.5) * pool.length) / a.queries)]!,
    );
    const qms = await emb.prepare(queries.map((q) => q.text));
    console.log(
      `query vector (the papers panel's, shared): p50 ${pct(qms, 50).toFixed(1)} ms, p95 ${pct(qms, 95).toFixed(1)} ms over ${qms.length} queries (${real.report.precision})`,
    );
    // The papers panel's hits, as the engine hands them to the sentences (hybrid: full-text + dense).
    const papers = new Map<string, string[]>();
    for (const q of queries)
      papers.set(
        q.text,
        (await search(lean, emb, q.text, { k: 10, mode: 'hybrid', excludePmids: [q.pmid], noWhy: true })).hits.map(
          (h) => h.pmid,
        ),
      );

    type Cost = { n?: number; e?: number; split?: number; embed?: number };
    type Leg = { name: string; fn: (q: { text: string; pmid: string }) => Promise<Cost> };
    const od =
      (o: ScopedSentencesOptions, given: boolean) =>
      async (q: { text: string; pmid: string }): Promise<Cost> => {
        const r = await scopedSimilarSentences(lean, emb, q.text, {
          k: a.k,
          mode: 'dense',
          excludePmids: [q.pmid],
          papers: given ? papers.get(q.text) : undefined,
          ...o,
        });
        return { n: r.scope.candidates, e: r.scope.embedded, split: r.scope.ms?.split, embed: r.scope.ms?.embed };
      };
    const legs: Leg[] = [
      {
        name: 'indexed baseline: every sentence stored (fp32), dense over the sentence rows',
        fn: async (q) => {
          await similarSentences(full, emb, q.text, { k: a.k, mode: 'dense', excludePmids: [q.pmid] });
          return {};
        },
      },
      { name: 'on demand: top 10 papers given, 20 sentences embedded (the decision)', fn: od({}, true) },
      { name: 'on demand: top 10 papers searched here, 20 sentences embedded', fn: od({}, false) },
      { name: 'on demand: top 10 papers given, all their sentences embedded', fn: od({ maxEmbed: 10_000 }, true) },
      { name: 'on demand: top 5 papers given, 20 sentences embedded', fn: od({ topPapers: 5 }, true) },
    ];
    // warm-up
    for (const l of legs) await l.fn(queries[0]!);
    const acc = legs.map(() => ({ ms: [] as number[], n: 0, e: 0, split: [] as number[], embed: [] as number[] }));
    // Rounds interleave the legs, so that a change in the machine's load hits them all alike.
    for (const [qi, q] of queries.entries())
      for (const [i, l] of legs.entries()) {
        if (i === 0) process.stderr.write(`\r  query ${qi + 1}/${queries.length}`);
        const t = performance.now();
        const r = await l.fn(q);
        acc[i]!.ms.push(performance.now() - t);
        acc[i]!.n += r.n ?? 0;
        acc[i]!.e += r.e ?? 0;
        if (r.split !== undefined) acc[i]!.split.push(r.split);
        if (r.embed !== undefined) acc[i]!.embed.push(r.embed);
      }
    process.stderr.write('\n');
    console.log(
      `\n| similar sentences, per query (k = ${a.k}, ${queries.length} queries, query vector excluded) | p50 | p95 | sentences split / embedded per query | p50 of: read + split + pre-filter / embed | vs baseline (p50) |`,
    );
    console.log('|---|---|---|---|---|---|');
    const base = pct(acc[0]!.ms, 50);
    for (const [i, l] of legs.entries()) {
      const x = acc[i]!;
      const p50 = pct(x.ms, 50);
      console.log(
        `| ${l.name} | ${p50.toFixed(1)} ms | ${pct(x.ms, 95).toFixed(1)} ms | ${i === 0 ? '– (stored)' : `${(x.n / queries.length).toFixed(0)} / ${(x.e / queries.length).toFixed(0)}`} | ${x.split.length ? `${pct(x.split, 50).toFixed(1)} / ${pct(x.embed, 50).toFixed(0)} ms` : '–'} | ${i === 0 ? '1.0×' : `${(p50 / base).toFixed(1)}×, +${(p50 - base).toFixed(0)} ms`} |`,
      );
    }
    console.log(`load avg after: ${load()}`);
  } finally {
    for (const s of stores) s.close();
    await real.dispose();
    if (a.keep) console.log(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`sentences-on-demand bench: ${((performance.now() - t0) / 1000).toFixed(0)} s wall`);
}
