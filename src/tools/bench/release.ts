// `npm run bench -- release [--rows 100000] [--update 1000] [--model DIR] [--concurrency 4] [--keep]`
// Index releases over a real HTTP server on 127.0.0.1 (src/release/serve.ts):
//  1. an index of `--rows` generated citations (768-d unit vectors, topic text; as `bench -- index` generates them),
//     with the indexes `index add` builds (pmid B-tree, full text, IVF_RQ vectors from 50k rows), compacted;
//  2. publish it (seconds, files, bytes) and pull it into an empty location (seconds, bytes received);
//  3. an update of `--update` citations (half revisions of existing PMIDs, half new), written and maintained exactly as
//     `index add` does (merge-insert, then ensureIndexes: incremental index update + compaction + cleanup), publish
//     again, pull onto the first copy: seconds and bytes received, against the release's size, per kind of file.
// The vectors' model identity is the generated base-shaped model's (the pull checks it against a real model folder).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IndexStore, type ArticleRow } from '../../index/store';
import { ensureGeneratedModel } from '../../index/model';
import { modelIdentity } from '../../inference/identity';
import { defaultModelsDir } from '../../inference/paths';
import { publishRelease } from '../../release/publish';
import { pullRelease } from '../../release/pull';
import { serveFolder } from '../../release/serve';
import { fmtBytes, parseRelease, type ReleaseManifest } from '../../release/manifest';
import { rng, gauss, normalise } from './synthetic';

interface Args {
  rows: number;
  update: number;
  model?: string;
  concurrency: number;
  keep: boolean;
}

function parse(args: string[]): Args {
  const a: Args = { rows: 100_000, update: 1000, concurrency: 4, keep: false };
  for (let i = 0; i < args.length; i++) {
    const k = args[i];
    const num = (): number => {
      const n = Number(args[++i]);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${k} needs a positive number`);
      return n;
    };
    if (k === '--rows') a.rows = num();
    else if (k === '--update') a.update = num();
    else if (k === '--model') a.model = args[++i];
    else if (k === '--concurrency') a.concurrency = num();
    else if (k === '--keep') a.keep = true;
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}

/** Rows like `bench -- index` makes: clustered unit vectors and topic text. */
function rowMaker(dim: number, rows: number, seed: number): (pmid: number, rev: string) => ArticleRow {
  const r = rng(seed);
  const nClusters = Math.max(10, Math.round(Math.sqrt(rows) * 2));
  const centroids = Array.from({ length: nClusters }, () =>
    normalise(Float32Array.from({ length: dim }, () => gauss(r))),
  );
  const vocab = Array.from({ length: 20000 }, (_, i) => `w${i.toString(36)}`);
  const sigma = 0.75 / Math.sqrt(dim);
  return (pmid, rev) => {
    const c = Math.floor(r() * nClusters);
    const v = new Float32Array(dim);
    for (let d = 0; d < dim; d++) v[d] = centroids[c][d] + gauss(r) * sigma;
    normalise(v);
    const words = Array.from({ length: 40 }, () =>
      r() < 0.5
        ? vocab[(c * 131 + Math.floor(r() * 25) * 17) % vocab.length]
        : vocab[Math.min(vocab.length - 1, Math.floor(Math.exp(r() * Math.log(vocab.length))))],
    );
    const text = words.join(' ');
    return {
      pmid: String(pmid),
      title: words.slice(0, 8).join(' ') + rev,
      abstract: text,
      text,
      sections: '[]',
      authors: ['Bench A'],
      journal: 'Bench J',
      year: 1980 + (pmid % 45),
      doi: null,
      pmcid: null,
      publication_types: ['Journal Article'],
      language: 'eng',
      mesh: '[]',
      has_abstract: true,
      source: 'bench',
      hash: `h${pmid}${rev}`,
      n_sentences: 0,
      vector: v,
    };
  };
}

/** Bytes of release `b` by kind of file that `a` does not hold (same path and sha256). */
function deltaByKind(
  a: ReleaseManifest | undefined,
  b: ReleaseManifest,
): { bytes: number; files: number; kinds: Record<string, number> } {
  const have = new Set((a?.files ?? []).map((f) => `${f.path}\0${f.sha256}`));
  const kinds: Record<string, number> = {};
  let bytes = 0;
  let files = 0;
  const indexName = new Map<string, string>();
  for (const [t, info] of Object.entries(b.tables))
    for (const [n, u] of Object.entries(info.indexDirs ?? {})) indexName.set(`${t}/${u}`, n);
  for (const f of b.files) {
    if (have.has(`${f.path}\0${f.sha256}`)) continue;
    const m = /^(\w+)\.lance\/(data|_indices|_deletions|_versions|_transactions)\/([^/]+)/.exec(f.path);
    const k = !m
      ? f.path
      : m[2] === '_indices'
        ? `${m[1]} ${indexName.get(`${m[1]}/${m[3]}`) ?? 'index'}`
        : `${m[1]} ${m[2].replace(/^_/, '')}`;
    kinds[k] = (kinds[k] ?? 0) + f.size;
    bytes += f.size;
    files++;
  }
  return { bytes, files, kinds };
}

const kindLine = (k: Record<string, number>): string =>
  Object.entries(k)
    .sort((x, y) => y[1] - x[1])
    .map(([n, b]) => `${n} ${fmtBytes(b)}`)
    .join(', ');

export async function run(args: string[]): Promise<void> {
  const a = parse(args);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bench-release-'));
  let modelDir = a.model;
  if (!modelDir) {
    modelDir = path.join(defaultModelsDir(), 'generated-base');
    await ensureGeneratedModel(modelDir, 'base', (m) => console.log(m));
  }
  const identity = modelIdentity(modelDir, false);
  const dim = identity.dim;
  console.log(
    `\n## Index releases: ${a.rows.toLocaleString()} generated citations (dim ${dim}), update of ${a.update.toLocaleString()}, local HTTP server, ${a.concurrency} connections`,
  );
  const srcDir = path.join(tmp, 'src');
  const pubDir = path.join(tmp, 'pub');
  const local = path.join(tmp, 'local');
  const server = await serveFolder(pubDir);
  try {
    // 1. The index.
    const store = await IndexStore.open(srcDir, identity, { create: true });
    const make = rowMaker(dim, a.rows, 7);
    const t0 = performance.now();
    for (let i = 0; i < a.rows; i += 10_000) {
      const part: ArticleRow[] = [];
      for (let j = i; j < Math.min(a.rows, i + 10_000); j++) part.push(make(j + 1, ''));
      await store.upsert(part, []);
      process.stderr.write(`\r  written ${Math.min(a.rows, i + 10_000).toLocaleString()} rows`);
    }
    process.stderr.write('\n');
    const tw = performance.now();
    await store.ensureIndexes({ wait: true });
    await store.optimize();
    console.log(
      `index: write ${((tw - t0) / 1000).toFixed(1)} s, indexes + compaction ${((performance.now() - tw) / 1000).toFixed(1)} s, ${fmtBytes(store.diskBytes())} on disk`,
    );

    // 2. Release 1: publish, pull into an empty location.
    const p1 = await publishRelease({ index: srcDir, out: path.join(pubDir, 'r1'), tag: 'r1' });
    console.log(
      `publish r1: ${p1.seconds.toFixed(1)} s, ${p1.files} files, ${fmtBytes(p1.totalBytes)} (${p1.totalBytes.toLocaleString()} bytes)`,
    );
    const rel1 = parseRelease(
      fs.readFileSync(path.join(pubDir, 'r1', 'release.json'), 'utf8'),
      path.join(pubDir, 'r1'),
    );
    let mark = server.log.length;
    const q1 = await pullRelease({ source: `${server.url}r1/`, index: local, modelDir, concurrency: a.concurrency });
    const served1 = server.log.slice(mark).reduce((s, r) => s + r.bytes, 0);
    console.log(
      `pull r1 into an empty location: ${q1.seconds.toFixed(1)} s, received ${fmtBytes(q1.receivedBytes)} (${q1.receivedBytes.toLocaleString()} bytes; ` +
        `server sent ${served1.toLocaleString()} incl. release.json) = ${(q1.receivedBytes / 1e6 / q1.seconds).toFixed(0)} MB/s, verified and opened`,
    );

    // 3. An update as `index add` makes it, release 2, pull onto the first copy.
    const upd = rowMaker(dim, a.rows, 11);
    const half = Math.floor(a.update / 2);
    const rows: ArticleRow[] = [];
    for (let k = 0; k < half; k++) rows.push(upd(1 + Math.floor((k * a.rows) / half), ' [revised]')); // spread over the table
    for (let k = 0; k < a.update - half; k++) rows.push(upd(a.rows + 1 + k, ''));
    const tu = performance.now();
    await store.upsert(rows, []);
    await store.ensureIndexes();
    console.log(
      `update (${half} revised + ${a.update - half} new, merge-insert + ensureIndexes as index add does): ${((performance.now() - tu) / 1000).toFixed(1)} s`,
    );
    store.close();
    const p2 = await publishRelease({ index: srcDir, out: path.join(pubDir, 'r2'), tag: 'r2' });
    const rel2 = parseRelease(
      fs.readFileSync(path.join(pubDir, 'r2', 'release.json'), 'utf8'),
      path.join(pubDir, 'r2'),
    );
    const d = deltaByKind(rel1, rel2);
    console.log(
      `publish r2: ${p2.seconds.toFixed(1)} s, ${p2.files} files, ${fmtBytes(p2.totalBytes)}; new or changed against r1: ${d.files} files, ${fmtBytes(d.bytes)} ` +
        `(${((100 * d.bytes) / p2.totalBytes).toFixed(1)} % of the release): ${kindLine(d.kinds)}`,
    );
    mark = server.log.length;
    const q2 = await pullRelease({ source: `${server.url}r2/`, index: local, modelDir, concurrency: a.concurrency });
    const served2 = server.log.slice(mark).reduce((s, r) => s + r.bytes, 0);
    console.log(
      `pull r2 onto r1 (the delta): ${q2.seconds.toFixed(1)} s, received ${fmtBytes(q2.receivedBytes)} (${q2.receivedBytes.toLocaleString()} bytes; server sent ` +
        `${served2.toLocaleString()} incl. release.json), ${q2.linkedFiles} files (${fmtBytes(q2.linkedBytes)}) hard-linked from r1, verified and opened, switched`,
    );
    if (q2.receivedBytes !== d.bytes)
      console.log(`  NOTE: received ${q2.receivedBytes} bytes, the delta is ${d.bytes}`);
    const again = await pullRelease({ source: `${server.url}r2/`, index: local, modelDir });
    console.log(`pull r2 again: ${again.status} in ${again.seconds.toFixed(2)} s`);
  } finally {
    await server.close();
    if (a.keep) console.log(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
}
