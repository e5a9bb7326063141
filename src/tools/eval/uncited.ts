// `npm run eval -- uncited [--model DIR] [--index DIR] [--modes fts,hybrid] [--threshold X] [--max N]`
// The uncited-claims check measured on real manuscripts (test/fixtures/manuscripts-real): each manuscript's
// citations are removed (src/check/segment.ts stripCitations), the check runs on what is left against an index of
// real MEDLINE records (data/demo, test/fixtures/pubmed) plus the manuscripts' own bibliographies (the papers they
// cite, with their abstracts where the bibliography has them), and the flagged sentences are scored against the
// sentences that actually cited: precision, recall and F1 over sentences, with counts, at the default threshold and
// cap, without the cap, over a threshold sweep, and for the claim detector alone. Then citation support: for each
// real citation whose paper is in the index, its rank for its own sentence (hit@1, hit@10, MRR@10) and how many the
// check would call weak.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../../inference/paths';
import type { Embedder } from '../../inference/types';
import type { DocKind } from '../../cite/detect';
import { mapOffset } from '../../cite/syntax/common';
import { IndexStore } from '../../index/store';
import type { SearchMode } from '../../index/search';
import { segment, stripCitations, type CheckSentence } from '../../check/segment';
import {
  checkDocument,
  citationSupport,
  selectFlags,
  CHECK_DEFAULTS,
  type Assessed,
  type Searcher,
} from '../../check/check';
import { claimVerdict } from '../../check/claims';
import { contentTerms } from '../../check/score';
import { storeSearcher, paperInIndex } from '../../check/searchers';
import { keyInBibliographies, type KeyIdentity } from '../../check/keys';

interface Doc {
  name: string;
  kind: DocKind;
  text: string;
  /** key → how the index knows the cited paper */
  resolve: (key: string) => KeyIdentity | undefined;
}

const usage = (m: string): Error => Object.assign(new Error(m), { exitCode: 2 });

function parseArgs(args: string[]): {
  model?: string;
  index?: string;
  modes?: SearchMode[];
  threshold: number;
  max: number;
} {
  const o = { threshold: CHECK_DEFAULTS.threshold, max: CHECK_DEFAULTS.maxFlags } as ReturnType<typeof parseArgs>;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--model') o.model = args[++i];
    else if (a === '--index') o.index = args[++i];
    else if (a === '--modes') o.modes = (args[++i] ?? '').split(',').map((m) => m.trim()) as SearchMode[];
    else if (a === '--threshold') o.threshold = Number(args[++i]);
    else if (a === '--max') o.max = Number(args[++i]);
    else throw usage(`unknown option ${a}`);
  }
  for (const m of o.modes ?? [])
    if (!['fts', 'dense', 'hybrid'].includes(m)) throw usage(`unknown mode ${m} (fts, dense or hybrid)`);
  if (!(o.threshold >= 0 && o.threshold <= 1)) throw usage('--threshold is between 0 and 1');
  if (!Number.isInteger(o.max) || o.max < 0) throw usage('--max is a whole number (0: no cap)');
  return o;
}

/** The real manuscripts and how each resolves its citation keys. */
export function loadManuscripts(root = path.join(projectRoot(), 'test', 'fixtures', 'manuscripts-real')): {
  docs: Doc[];
  bibliographies: string[];
} {
  const docs: Doc[] = [];
  const bibliographies: string[] = [];
  const rmd = path.join(root, 'rmd-topcuoglu-ml-crc');
  const bibFile = path.join(rmd, 'references.bib');
  const bib = { path: bibFile, text: fs.readFileSync(bibFile, 'utf8') };
  bibliographies.push(bibFile);
  docs.push({
    name: 'rmd-topcuoglu-ml-crc/manuscript.Rmd',
    kind: 'pandoc',
    text: fs.readFileSync(path.join(rmd, 'manuscript.Rmd'), 'utf8'),
    resolve: (key) => keyInBibliographies(key, [bib]),
  });
  const mb = path.join(root, 'manubot-openpbta');
  for (const f of ['content/manual-references.json', 'output/references.json'])
    if (fs.existsSync(path.join(mb, f))) bibliographies.push(path.join(mb, f));
  for (const n of fs
    .readdirSync(path.join(mb, 'content'))
    .filter((x) => x.endsWith('.md'))
    .sort())
    docs.push({
      name: `manubot-openpbta/content/${n}`,
      kind: 'manubot',
      text: fs.readFileSync(path.join(mb, 'content', n), 'utf8'),
      resolve: (key) => keyInBibliographies(key, []),
    });
  return { docs, bibliographies };
}

interface Scored {
  tp: number;
  flagged: number;
  gold: number;
  /** the gold sentences that cite a paper the index holds (with its abstract), and how many of them were flagged */
  goldIndexed?: number;
  tpIndexed?: number;
}
const prf = (s: Scored): { p: number; r: number; f: number } => {
  const p = s.flagged ? s.tp / s.flagged : 0;
  const r = s.gold ? s.tp / s.gold : 0;
  return { p, r, f: p + r ? (2 * p * r) / (p + r) : 0 };
};
const fmt = (s: Scored): string => {
  const { p, r, f } = prf(s);
  const ri =
    s.goldIndexed !== undefined
      ? `  R on sentences citing an indexed paper ${((s.tpIndexed ?? 0) / (s.goldIndexed || 1)).toFixed(3)} (${s.tpIndexed}/${s.goldIndexed})`
      : '';
  return `P ${p.toFixed(3)} (${s.tp}/${s.flagged})  R ${r.toFixed(3)} (${s.tp}/${s.gold})  F1 ${f.toFixed(3)}${ri}`;
};

/** For each sentence of the stripped text, the original sentence it comes from (most overlap; -1: none). */
function originOf(orig: CheckSentence[], edits: { start: number; end: number; text: string }[]) {
  const mapped = orig.map((s) => ({ a: mapOffset(s.start, edits, false), b: mapOffset(s.end, edits, false) }));
  return (s: { start: number; end: number }): number => {
    let best = 0;
    let at = -1;
    mapped.forEach((m, i) => {
      const ov = Math.min(m.b, s.end) - Math.max(m.a, s.start);
      if (ov > best) {
        best = ov;
        at = i;
      }
    });
    return at;
  };
}

export async function run(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const t0 = Date.now();
  const { docs, bibliographies } = loadManuscripts();
  const demo = path.join(projectRoot(), 'data', 'demo');
  const bio = path.join(projectRoot(), 'test', 'fixtures', 'pubmed', 'biopython');
  const medline = [
    path.join(demo, 'medline16n0902.xml.gz'),
    path.join(demo, 'mesh-papers.medline.txt'),
    ...fs
      .readdirSync(bio)
      .filter((f) => /\.(xml|txt)$/.test(f))
      .map((f) => path.join(bio, f)),
  ];
  const { openEmbedder } = await import('../../inference/client');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-eval-uncited-'));
  // the temp folder (generated model, index unless --index) goes whatever happens
  try {
    await (async () => {
      // generated weights unless --model: kept beside an --index (a second run reuses both), else in the temp folder
      let modelDir = o.model;
      if (!modelDir) {
        modelDir = o.index ? `${path.resolve(o.index)}.model` : path.join(tmp, 'model');
        if (!fs.existsSync(path.join(modelDir, 'manifest.json'))) {
          const { generateModel } = await import('../../inference/convert');
          await generateModel({ shape: 'tiny', outDir: modelDir, precisions: ['fp32'] });
        }
      }
      const embedder: Embedder = await openEmbedder({ modelDir, device: 'cpu', inProcess: true });
      const generated = embedder.identity.generated;
      console.log(
        `model ${embedder.identity.repo}${generated ? ' — GENERATED weights: the dense leg carries no meaning (hybrid search gives it weight 0, so hybrid = full-text); ranking quality of a real model is NOT measured here' : ''}`,
      );
      const indexDir = o.index ?? path.join(tmp, 'index');
      const store = await IndexStore.open(indexDir, embedder.identity, { create: true });
      try {
        if ((await store.articles.countRows()) === 0) {
          const { addFiles } = await import('../../index/build');
          const { readCitations } = await import('../../index/readers');
          const { splitSentences } = await import('../../inference/sentences');
          const te = Date.now();
          const s = await addFiles(store, embedder, [...medline, ...bibliographies], {
            read: (f) => readCitations(f),
            split: splitSentences,
          });
          console.log(
            `index: ${s.added} records (${medline.length} MEDLINE/PubMed files + the manuscripts' bibliographies: ${bibliographies.map((b) => path.relative(projectRoot(), b)).join(', ')}), ${s.rejected} rejected, built in ${((Date.now() - te) / 1000).toFixed(1)} s`,
          );
        }
        const counts = await store.counts();
        console.log(`index at ${indexDir}: ${counts.articles} papers, ${counts.sentences} sentences`);
        const modes: SearchMode[] = o.modes ?? (generated ? ['fts', 'hybrid'] : ['fts', 'dense', 'hybrid']);

        // the gold: sentences that cite, in the original manuscripts
        let goldTotal = 0;
        let sentTotal = 0;
        // per document: the citing sentences (original indices) that cite a paper the index holds with its abstract
        const indexedGold: Set<number>[] = [];
        for (const d of docs) {
          const seg = segment(d.text, d.kind);
          sentTotal += seg.sentences.length;
          goldTotal += seg.sentences.filter((s) => s.cites.length).length;
          const set = new Set<number>();
          for (const [i, s] of seg.sentences.entries())
            for (const key of s.cites.flatMap((c) => c.keys)) {
              const id = d.resolve(key);
              const p = id ? await paperInIndex(store, id) : undefined;
              if (p?.abstract) set.add(i);
            }
          indexedGold.push(set);
        }
        const indexedTotal = indexedGold.reduce((n, x) => n + x.size, 0);
        console.log(
          `\nmanuscripts: ${docs.length} files of 2 real manuscripts (test/fixtures/manuscripts-real), ${sentTotal} prose sentences, ${goldTotal} of them cite (the gold); ${indexedTotal} of those cite a paper the index holds with its abstract`,
        );
        console.log(
          `check: citations removed, then sentences with ≥ ${CHECK_DEFAULTS.minTerms} content terms searched (k = ${CHECK_DEFAULTS.k}); strength = share of the sentence's content terms in the best paper's title + abstract`,
        );

        for (const mode of modes) {
          const searcher: Searcher = storeSearcher(store, embedder, mode);
          const tm = Date.now();
          const all: {
            assessed: Assessed[];
            origin: (s: { start: number; end: number }) => number;
            orig: CheckSentence[];
            indexed: Set<number>;
            gold: number;
          }[] = [];
          let searched = 0;
          for (const [di, d] of docs.entries()) {
            const orig = segment(d.text, d.kind);
            const stripped = stripCitations(d.text, d.kind);
            const rep = await checkDocument(stripped.text, d.kind, searcher, {
              maxFlags: 0,
              threshold: 0,
              claimsOnly: false,
            });
            searched += rep.counts.searched;
            all.push({
              assessed: rep.assessed,
              origin: originOf(orig.sentences, stripped.edits),
              orig: orig.sentences,
              indexed: indexedGold[di]!,
              gold: orig.sentences.filter((s) => s.cites.length).length,
            });
          }
          const score = (threshold: number, max: number, claimsOnly: boolean): Scored => {
            const s: Scored = { tp: 0, flagged: 0, gold: 0, goldIndexed: 0, tpIndexed: 0 };
            for (const a of all) {
              s.gold += a.gold;
              s.goldIndexed! += a.indexed.size;
              const pool = claimsOnly ? a.assessed.filter((x) => x.verdict.claim) : a.assessed;
              for (const f of selectFlags(pool, threshold, max)) {
                s.flagged++;
                const i = a.origin(f);
                if (i >= 0 && a.orig[i]!.cites.length) s.tp++;
                if (a.indexed.has(i)) s.tpIndexed!++;
              }
            }
            return s;
          };
          const label =
            mode === 'hybrid' && generated
              ? 'hybrid (generated weights: dense weight 0, = full-text)'
              : mode === 'dense' && generated
                ? 'dense (GENERATED weights: meaningless)'
                : mode === 'fts'
                  ? 'full-text (BM25) alone'
                  : mode;
          console.log(
            `\n== search: ${label} — ${searched} sentences searched in ${((Date.now() - tm) / 1000).toFixed(1)} s`,
          );
          console.log(
            `  default (threshold ${o.threshold}, cap ${o.max}/document, claims only): ${fmt(score(o.threshold, o.max, true))}`,
          );
          console.log(
            `  no cap   (threshold ${o.threshold}, claims only):                ${fmt(score(o.threshold, 0, true))}`,
          );
          console.log(
            `  no claim filter (threshold ${o.threshold}, no cap):              ${fmt(score(o.threshold, 0, false))}`,
          );
          console.log('  threshold sweep (claims only, no cap):');
          for (const t of [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
            console.log(`    ${t.toFixed(1)}  ${fmt(score(t, 0, true))}`);
        }

        // baselines that need no index: every sentence, every claim sentence (same sentences the check may search)
        const base = { all: { tp: 0, flagged: 0, gold: 0 }, claims: { tp: 0, flagged: 0, gold: 0 } };
        for (const d of docs) {
          const orig = segment(d.text, d.kind);
          const gold = orig.sentences.filter((s) => s.cites.length).length;
          base.all.gold += gold;
          base.claims.gold += gold;
          for (const s of orig.sentences) {
            if (contentTerms(s.query).size < CHECK_DEFAULTS.minTerms) continue;
            base.all.flagged++;
            if (s.cites.length) base.all.tp++;
            if (claimVerdict(s.query).claim) {
              base.claims.flagged++;
              if (s.cites.length) base.claims.tp++;
            }
          }
        }
        console.log('\n== baselines (no search)');
        console.log(`  every sentence with ≥ ${CHECK_DEFAULTS.minTerms} content terms: ${fmt(base.all)}`);
        console.log(`  the claim detector alone:                  ${fmt(base.claims)}`);

        // citation support: real citations whose paper is in the index, against their own sentence
        for (const mode of modes) {
          const searcher = storeSearcher(store, embedder, mode);
          let total = 0;
          let found = 0;
          let h1 = 0;
          let h10 = 0;
          let rr = 0;
          let weak = 0;
          let strength = 0;
          for (const d of docs) {
            for (const s of segment(d.text, d.kind).sentences) {
              if (!s.cites.length || !s.query) continue;
              for (const c of s.cites)
                for (const key of c.keys) {
                  total++;
                  const id = d.resolve(key);
                  const cited = id ? await paperInIndex(store, id) : undefined;
                  if (!cited || !cited.abstract) continue;
                  found++;
                  const hits = await searcher(s.query, CHECK_DEFAULTS.k);
                  const sup = citationSupport(key, s.query, cited, hits);
                  if (sup.rank === 1) h1++;
                  if (sup.rank) {
                    h10++;
                    rr += 1 / sup.rank;
                  }
                  if (sup.weak) weak++;
                  strength += sup.match.strength;
                }
            }
          }
          console.log(
            `\n== citation support (${mode}): ${found} of ${total} citations have their paper (with an abstract) in the index; ` +
              `cited paper for its own sentence: hit@1 ${(h1 / (found || 1)).toFixed(3)} (${h1}), hit@10 ${(h10 / (found || 1)).toFixed(3)} (${h10}), MRR@10 ${(rr / (found || 1)).toFixed(3)}; ` +
              `mean strength ${(strength / (found || 1)).toFixed(3)}; called weak: ${weak} (${((100 * weak) / (found || 1)).toFixed(1)} %)`,
          );
        }
        console.log(`\n(${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      } finally {
        store.close();
        await embedder.dispose();
      }
    })();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
