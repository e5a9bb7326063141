// `npm run bench -- cluster [commit|finalize|slurm|all] [--rows N] [--table-rows N] [--model DIR] [--files N]`
// What a lab's cluster build costs, each figure against a baseline measured in the same run:
//  commit   — overhead per commit at the bulk batch size (1,024 citations + their sentences, 768-d), bulk append vs
//             the laptop mode's merge-insert + resolve, on a table already holding --table-rows rows; printed as a
//             share of the encoder time the same batch takes (measured here on CPU, and at the GPU target).
//  finalize — `index finalize` on --rows generated citations (default 100,000; the README quotes 1,000,000) of which
//             1 % have a second version from a later file and 0.1 % a DeleteCitation: resolve, indexes, compaction.
//  slurm    — the real Slurm of the test harness: --files input files (default 4, real PubMed records) embedded by
//             array tasks with the base-shaped int8 model, at most 1, 2 and 4 tasks at once; rate per task and
//             scaling efficiency (2 cores: at most 2× is possible).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { ModelIdentity } from '../../inference/types';
import { IndexStore, type ArticleRow, type SentenceRow } from '../../index/store';
import { finalizeIndex } from '../../index/finalize';
import { ensureGeneratedModel } from '../../index/model';
import { defaultModelsDir, projectRoot } from '../../inference/paths';
import { rng } from './synthetic';
import { openEmbedder } from '../../inference/client';

interface Args {
  what: string;
  rows: number;
  tableRows: number;
  model?: string;
  files: number;
  commits: number;
}

function parse(args: string[]): Args {
  const a: Args = { what: 'all', rows: 100_000, tableRows: 100_000, files: 4, commits: 5 };
  for (let i = 0; i < args.length; i++) {
    const k = args[i]!;
    const num = (): number => {
      const n = Number(args[++i]);
      if (!Number.isFinite(n) || n <= 0)
        throw Object.assign(new Error(`${k} needs a positive number`), { exitCode: 2 });
      return n;
    };
    if (['commit', 'finalize', 'slurm', 'all'].includes(k)) a.what = k;
    else if (k === '--rows') a.rows = num();
    else if (k === '--table-rows') a.tableRows = num();
    else if (k === '--files') a.files = num();
    else if (k === '--commits') a.commits = num();
    else if (k === '--model') a.model = args[++i];
    else
      throw Object.assign(new Error(`unknown option ${k} (see the header of src/tools/bench/cluster.ts)`), {
        exitCode: 2,
      });
  }
  return a;
}

function unit(r: () => number, dim: number): Float32Array {
  const v = Float32Array.from({ length: dim }, () => r() - 0.5);
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let i = 0; i < dim; i++) v[i]! /= n;
  return v;
}
const DIM = 768;
const identity: ModelIdentity = {
  repo: 'bench:cluster',
  revision: '1',
  manifestHash: 'bench',
  dim: DIM,
  pooling: 'cls',
  queryPrefix: false,
  generated: true,
};
const SENTS = 10;

function rows(
  r: () => number,
  from: number,
  n: number,
  seq: number,
  tag = '',
): { arts: ArticleRow[]; sents: SentenceRow[] } {
  const arts: ArticleRow[] = [];
  const sents: SentenceRow[] = [];
  for (let i = from; i < from + n; i++) {
    const pmid = String(i + 1);
    const hash = `h${seq}-${i}${tag}`;
    const text = `citation ${i} w${i % 997} w${i % 991} w${i % 983}${tag}`;
    arts.push({
      pmid,
      title: text,
      abstract: text,
      text,
      sections: '[]',
      authors: ['Bench A'],
      journal: 'Bench J',
      year: 2000 + (i % 25),
      doi: null,
      pmcid: null,
      publication_types: ['Journal Article'],
      language: 'eng',
      mesh: '[]',
      has_abstract: true,
      source: `bench-${seq}`,
      hash,
      n_sentences: SENTS,
      file_seq: seq,
      vector: unit(r, DIM),
    });
    for (let j = 0; j < SENTS; j++)
      sents.push({
        pmid,
        idx: j,
        start: 0,
        end: 1,
        text: `${text} s${j}`,
        hash,
        source: `bench-${seq}`,
        vector: unit(r, DIM),
      });
  }
  return { arts, sents };
}

async function commitBench(a: Args): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bench-commit-'));
  const r = rng(3);
  const batch = 1024;
  console.log(
    `\n## Overhead per commit: ${batch} citations + ${batch * SENTS} sentences (dim ${DIM}) on a table of ${a.tableRows.toLocaleString()} citations`,
  );
  const out: Record<string, number[]> = { bulk: [], laptop: [] };
  for (const mode of ['bulk', 'laptop'] as const) {
    const store = await IndexStore.open(path.join(tmp, mode), identity, { create: true });
    for (let i = 0; i < a.tableRows; i += 10_000) {
      const x = rows(r, i, Math.min(10_000, a.tableRows - i), 1);
      await store.upsert(x.arts, x.sents, { bulk: true });
    }
    if (mode === 'laptop') await store.ensureIndexes({ annMinRows: Number.MAX_SAFE_INTEGER });
    for (let c = 0; c < a.commits; c++) {
      const x = rows(r, a.tableRows + c * batch, batch, 2);
      const t = performance.now();
      await store.upsert(x.arts, x.sents, { bulk: mode === 'bulk' });
      out[mode]!.push(performance.now() - t);
    }
    store.close();
  }
  const med = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
  const b = med(out.bulk!);
  const l = med(out.laptop!);
  console.log(
    `bulk append (array tasks)          : median ${b.toFixed(0)} ms per commit = ${((b * 1000) / batch).toFixed(0)} µs per citation`,
  );
  console.log(
    `merge-insert + resolve (laptop mode): median ${l.toFixed(0)} ms per commit = ${((l * 1000) / batch).toFixed(0)} µs per citation  (${(l / b).toFixed(1)}× bulk)`,
  );
  // The encoder time of the same batch, measured here (base-shaped int8 on these cores), and at the GPU target.
  const modelDir = a.model ?? path.join(defaultModelsDir(), 'generated-base');
  if (!a.model) await ensureGeneratedModel(modelDir, 'base', (m) => console.log(m));
  const emb = await openEmbedder({ inProcess: true, modelDir });
  const texts = Array.from({ length: 16 }, (_, i) =>
    `A randomized trial of statin therapy in ${i} patients with type 2 diabetes and chronic kidney disease showed reduced cardiovascular events. `.repeat(
      3,
    ),
  );
  await emb.embed(texts.slice(0, 2), 'passage');
  const t = performance.now();
  await emb.embed(texts, 'passage');
  const perText = (performance.now() - t) / texts.length;
  await emb.dispose();
  const encCpu = perText * batch * (1 + SENTS / 3); // abstract-length text + sentences (~⅓ of an abstract each)
  const encGpu = (batch / 5000) * 1000 * (1 + SENTS / 3);
  console.log(
    `encoder for the same batch: ~${(encCpu / 1000).toFixed(0)} s on this CPU (${perText.toFixed(0)} ms per abstract-length text, ${emb.report.precision}) → bulk commit = ${((b / encCpu) * 100).toFixed(2)} % of it;` +
      ` at the GPU target (5,000 abstracts/s) ~${(encGpu / 1000).toFixed(1)} s → ${((b / encGpu) * 100).toFixed(1)} %`,
  );
  fs.rmSync(tmp, { recursive: true, force: true });
}

async function finalizeBench(a: Args): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bench-final-'));
  const r = rng(5);
  const n = a.rows;
  console.log(
    `\n## index finalize on ${n.toLocaleString()} citations × ${SENTS} sentences (dim ${DIM}); 1 % revised by a later file, 0.1 % deleted`,
  );
  const store = await IndexStore.open(tmp, identity, { create: true });
  const tw = performance.now();
  const B = 10_000;
  for (let i = 0; i < n; i += B) {
    const x = rows(r, i, Math.min(B, n - i), 260001);
    await store.upsert(x.arts, x.sents, { bulk: true });
    process.stderr.write(`\r  written ${Math.min(n, i + B).toLocaleString()}`);
  }
  // A later update file: new versions of 1 % of the PMIDs (appended: duplicates until finalize) and deletions.
  const revised = rows(r, 0, Math.round(n / 100), 261300, ' [revised]');
  revised.arts = revised.arts.map((x, i) => ({ ...x, pmid: String(i * 100 + 1) }));
  revised.sents = revised.arts.flatMap((x) =>
    Array.from({ length: SENTS }, (_, j) => ({
      pmid: x.pmid,
      idx: j,
      start: 0,
      end: 1,
      text: `${x.text} s${j}`,
      hash: x.hash,
      source: x.source,
      vector: unit(r, DIM),
    })),
  );
  await store.upsert(revised.arts, revised.sents, { bulk: true });
  const del = Array.from({ length: Math.round(n / 1000) }, (_, i) => String(i * 1000 + 51));
  await store.deleted!.add(del.map((pmid) => ({ pmid, file_seq: 261300, file: 'pubmed26n1300.xml.gz' })));
  process.stderr.write('\n');
  console.log(`write (bulk, as the array tasks): ${((performance.now() - tw) / 1000).toFixed(1)} s`);
  const res = await finalizeIndex(store, { tag: 'bench', onStep: (s) => process.stderr.write(`  ${s}\n`) });
  const c = await store.counts();
  console.log(
    `finalize: ${res.seconds.toFixed(1)} s in all; ${Object.entries(res.steps)
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
      .join('; ')}`,
  );
  console.log(
    `resolved ${res.resolved.pmids.toLocaleString()} PMIDs: removed ${res.resolved.articles.toLocaleString()} article rows, ${res.resolved.sentences.toLocaleString()} sentence rows → ${c.articles.toLocaleString()} citations, ${c.sentences.toLocaleString()} sentences` +
      ` (expected ${(n - del.length).toLocaleString()} and ${((n - del.length) * SENTS).toLocaleString()})`,
  );
  console.log(
    `on disk: ${(store.diskBytes() / 1e9).toFixed(2)} GB = ${(store.diskBytes() / c.articles).toFixed(0)} bytes per citation with ${SENTS} sentences (raw fp32 vectors + 4-bit codes; see README for the projection)`,
  );
  store.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}

async function slurmBench(a: Args): Promise<void> {
  const { startSlurm } = await import('../../../test/engines/slurm');
  const { makeNlmFiles } = await import('../../../test/fixtures/nlm-mirror');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bench-slurm-'));
  const modelDir = a.model ?? path.join(defaultModelsDir(), 'generated-base');
  if (!a.model) await ensureGeneratedModel(modelDir, 'base', (m) => console.log(m));
  const nlm = await makeNlmFiles(path.join(tmp, 'nlm'));
  const files = nlm.baseline.slice(0, a.files);
  const inputs = path.join(tmp, 'inputs.txt');
  fs.writeFileSync(inputs, files.join('\n') + '\n');
  const cli = path.join(projectRoot(), 'dist', 'cli.js');
  const slurm = await startSlurm();
  console.log(
    `\n## Real Slurm (single node, 2 cores): ${files.length} array tasks, one NLM-style file of ~75 real citations each, base-shaped int8 model, 1 encoder thread per task`,
  );
  try {
    const wall: Record<number, number> = {};
    for (const par of [1, 2, 4]) {
      const idx = path.join(tmp, `idx-${par}`);
      const env = {
        ...process.env,
        ...slurm.env(),
        BIOHICL: `${process.execPath} ${cli}`,
        BIOHICL_HOME: path.join(tmp, 'home'),
        SLURM_CPUS_PER_TASK: '1',
      };
      const t0 = Date.now();
      const r = spawnSync(
        'bash',
        [
          path.join(projectRoot(), 'deploy', 'slurm', 'submit.sh'),
          '--index',
          idx,
          '--model',
          modelDir,
          '--inputs',
          inputs,
          '--parallel',
          String(par),
          '--cpus-per-task',
          '1',
        ],
        { encoding: 'utf8', cwd: slurm.workDir, env },
      );
      if (r.status !== 0) throw new Error(`submit.sh: ${r.stderr}`);
      const ids = [...r.stdout.matchAll(/^(?:setup|array|finalize) (\d+)/gm)].map((m) => m[1]!);
      const res = await slurm.waitJobs(ids, 3_600_000);
      const bad = Object.entries(res).filter(([, x]) => x.state !== 'COMPLETED');
      if (bad.length) throw new Error(`jobs failed: ${JSON.stringify(bad)}`);
      wall[par] = (Date.now() - t0) / 1000;
      const store = await IndexStore.open(idx, undefined, {});
      const n = await store.articles.countRows();
      store.close();
      const eff = par === 1 ? 1 : wall[1]! / wall[par]! / par;
      console.log(
        `at most ${par} task${par > 1 ? 's' : ''} at once: ${wall[par]!.toFixed(1)} s for ${n} citations (setup → finalize) = ${(n / wall[par]!).toFixed(2)} citations/s` +
          (par > 1
            ? `; speed-up ${(wall[1]! / wall[par]!).toFixed(2)}× (efficiency ${(eff * 100).toFixed(0)} % of ${par}×; at most 2× on 2 cores)`
            : ' (baseline)'),
      );
    }
    console.log(
      `per array task (1 at once): ${((files.length * 75) / wall[1]!).toFixed(2)} citations/s including setup, scheduling and finalize`,
    );
  } finally {
    await slurm.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<void> {
  const a = parse(args);
  if (a.what === 'commit' || a.what === 'all') await commitBench(a);
  if (a.what === 'finalize' || a.what === 'all') await finalizeBench(a);
  if (a.what === 'slurm' || a.what === 'all') await slurmBench(a);
}
