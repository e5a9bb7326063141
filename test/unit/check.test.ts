// "Check citations" (src/check): segmentation that skips what is not prose and knows which sentences cite (through
// the syntax modules), citation stripping, claim cues, the match strength, and the whole check — threshold, cap,
// weak citations — against a real LanceDB index of real MEDLINE records built with a generated tiny model (the
// full-text leg ranks; hybrid equals it while the weights are generated). Also `biohicl check` and the eval's usage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { documentCites, segment, stripCitations } from '../../src/check/segment';
import { claimVerdict } from '../../src/check/claims';
import { matchPaper } from '../../src/check/score';
import { checkDocument, citationSupport, selectFlags, type Assessed } from '../../src/check/check';
import { keyInBibliographies } from '../../src/check/keys';
import { storeSearcher, paperInIndex } from '../../src/check/searchers';
import { generateModel } from '../../src/inference/convert';
import { openEmbedder } from '../../src/inference/client';
import { IndexStore } from '../../src/index/store';
import { addFiles } from '../../src/index/build';
import { readCitations } from '../../src/index/readers';
import { splitSentences } from '../../src/inference/sentences';
import type { Embedder } from '../../src/inference/types';
import { DEMO_PUBMED, REAL_MANUSCRIPTS } from '../fixtures/paths';
import { spawnSync } from 'node:child_process';
import { ROOT, cliRunner, ensureCliBuilt } from './cli-helpers';

const MESH_NOW = '28412964'; // MeSH Now: automatic MeSH indexing at PubMed scale via learning to rank.
const SCHOLAR = '27076802'; // Variation in number of hits for complex searches in Google Scholar.
const PREBIOTICS = '27930574'; // A MeSH-based text mining method for identifying novel prebiotics.
const CLAIM =
  'Manual MeSH indexing by human indexers has been shown to be time-consuming and costly, which motivated automatic MeSH indexing with learning to rank.';
const SCHOLAR_CLAIM =
  'The number of hits reported by Google Scholar for complex search strategies is an unreliable measure';

const MD = `---
title: "A draft"
bibliography: refs.bib
---

# Manual MeSH indexing is time-consuming and costly

${CLAIM}

${SCHOLAR_CLAIM} [@prebiotics2016].

MeSH Now ranks candidate terms with a learning-to-rank framework [@meshnow].

![Manual MeSH indexing by human indexers has been shown to be time-consuming and costly.](fig1.png)

\`\`\`r
# Manual MeSH indexing by human indexers has been shown to be time-consuming and costly.
\`\`\`

$$
E = mc^2 \\quad \\text{has been shown to be costly}
$$

| Manual MeSH indexing has been shown | to be costly |
|---|---|

As @doe2020 reported, automatic indexing has been shown to reduce the cost of indexing.

We wrote this draft on a Tuesday.
`;

const BIB = `@article{prebiotics2016,
  title = {A MeSH-based text mining method for identifying novel prebiotics},
  author = {Shinohara, Eiji},
  journal = {Medicine},
  year = {2016},
  pmid = {${PREBIOTICS}}
}
@article{meshnow,
  title = {MeSH Now: automatic MeSH indexing at PubMed scale via learning to rank},
  author = {Mao, Yuqing},
  journal = {J Biomed Semantics},
  year = {2017},
  pmid = {${MESH_NOW}}
}
`;

test('segment (Markdown): front matter, headings, captions, code, math and tables are skipped; citing sentences are known', () => {
  const s = segment(MD, 'pandoc');
  const reasons = new Set(s.skipped.map((r) => r.reason));
  for (const r of ['front matter', 'heading', 'caption', 'code', 'math', 'table'] as const)
    assert.ok(reasons.has(r), `skipped ${r}`);
  const texts = s.sentences.map((x) => x.text);
  assert.deepEqual(texts, [
    CLAIM,
    `${SCHOLAR_CLAIM} [@prebiotics2016].`,
    'MeSH Now ranks candidate terms with a learning-to-rank framework [@meshnow].',
    'As @doe2020 reported, automatic indexing has been shown to reduce the cost of indexing.',
    'We wrote this draft on a Tuesday.',
  ]);
  assert.deepEqual(
    s.sentences.map((x) => x.cites.flatMap((c) => c.keys)),
    [[], ['prebiotics2016'], ['meshnow'], ['doe2020'], []],
  );
  // the query text has no citation left in it
  assert.equal(s.sentences[1]!.query, `${SCHOLAR_CLAIM}.`);
});

test('segment (LaTeX): preamble, sections, floats with captions, equations, verbatim and comments are skipped; a \\cite after the full stop belongs to the sentence before', () => {
  const tex = String.raw`\documentclass{article}
\title{Indexing has been shown to be costly}
\begin{document}
\maketitle
\section{Manual indexing has been shown to be costly}
Manual indexing has been shown to be costly for indexers.\cite{a}
Automatic indexing reduces the cost of indexing, as shown by \citet{b}. % indexing has been shown to be costly
\begin{figure}\caption{Indexing has been shown to be costly.}\end{figure}
\begin{equation} x = y \end{equation}
\begin{verbatim}
Indexing has been shown to be costly.
\end{verbatim}
We think indexing matters.
\end{document}
`;
  const s = segment(tex, 'latex');
  const reasons = new Set(s.skipped.map((r) => r.reason));
  for (const r of ['front matter', 'heading', 'caption', 'math', 'code', 'comment'] as const)
    assert.ok(reasons.has(r), `skipped ${r}`);
  assert.equal(s.sentences.length, 3, s.sentences.map((x) => x.text).join(' | '));
  assert.deepEqual(
    s.sentences.map((x) => x.cites.flatMap((c) => c.keys)),
    [['a'], ['b'], []],
  );
  assert.doesNotMatch(s.sentences[1]!.query, /cite|%/);
});

test('segment (plain text): the References list and heading lines are skipped, [n] markers cite', () => {
  const txt = `Introduction

Indexing has been shown to be costly [1]. Nobody disputes that indexing matters.

References

1. Mao Y. MeSH Now. 2017.
`;
  const s = segment(txt, 'plain');
  assert.deepEqual(
    s.sentences.map((x) => [x.text, x.cites.length]),
    [
      ['Indexing has been shown to be costly [1].', 1],
      ['Nobody disputes that indexing matters.', 0],
    ],
  );
});

test('stripCitations removes every citation with the space before it; what is left cites nothing', () => {
  const st = stripCitations(MD, 'pandoc');
  assert.ok(st.text.includes(`${SCHOLAR_CLAIM}.`));
  assert.ok(st.text.includes('MeSH Now ranks candidate terms with a learning-to-rank framework.'));
  assert.ok(!/\[@|@doe2020/.test(st.text.replace(/^---[\s\S]*?---/, '')));
  assert.equal(segment(st.text, 'pandoc').cites.length, 0);
  // on a real manuscript: every one of its citation groups goes
  const rmd = fs.readFileSync(path.join(REAL_MANUSCRIPTS, 'rmd-topcuoglu-ml-crc', 'manuscript.Rmd'), 'utf8');
  const before = segment(rmd, 'pandoc');
  assert.ok(before.sentences.filter((x) => x.cites.length).length >= 20);
  const after = stripCitations(rmd, 'pandoc');
  assert.equal(after.edits.length, documentCites(rmd, 'pandoc').length);
  assert.ok(after.edits.length >= before.cites.length);
  assert.equal(segment(after.text, 'pandoc').sentences.filter((x) => x.cites.length).length, 0);
});

test('claim cues: findings and established knowledge count; the writer’s own method, own figures, questions and short sentences do not', () => {
  assert.equal(claimVerdict(CLAIM).claim, true);
  assert.equal(
    claimVerdict('Statin therapy is associated with an increased risk of myopathy in older adults.').claim,
    true,
  );
  assert.equal(claimVerdict('We used the R package vegan to compute the diversity of each sample.').claim, false);
  assert.equal(
    claimVerdict('Random forest performed best (Figure 2), with higher AUROC than the others.').claim,
    false,
  );
  assert.equal(claimVerdict('Does statin therapy increase the risk of myopathy in older adults?').claim, false);
  assert.equal(claimVerdict('It was shown.').claim, false);
  assert.equal(claimVerdict('We wrote this draft on a Tuesday.').claim, false);
});

test('match strength: the share of the sentence’s content terms in title + abstract; the best abstract sentence', () => {
  const m = matchPaper('Statins increase myopathy risk', {
    title: 'Statin use and muscle',
    abstract: 'Statins are widely prescribed. Myopathy risk rises with statin dose in older patients.',
  });
  // terms: statin(s→''), increase, myopathy, risk → statin, myopathy, risk present; increase absent
  assert.deepEqual(m.shared.sort(), ['myopathy', 'risk', 'statin']);
  assert.equal(m.termCount, 4);
  assert.equal(m.strength, 0.75);
  assert.equal(m.best?.text, 'Myopathy risk rises with statin dose in older patients.');
  assert.equal(matchPaper('', { title: 'x' }).strength, 0);
});

test('selectFlags: at or above the threshold, the strongest kept by the cap, returned in text order', () => {
  const mk = (start: number, strength: number, cites = 0): Assessed => ({
    sentence: {
      start,
      end: start + 5,
      text: `s${start}`,
      query: `s${start}`,
      cites: cites ? [{ start, end: start, keys: ['k'] }] : [],
    },
    verdict: { claim: true, cues: [], score: 1 },
    strength,
    papers: [],
  });
  const a = [mk(0, 0.9), mk(10, 0.4), mk(20, 0.7), mk(30, 0.8), mk(40, 0.95, 1)];
  assert.deepEqual(
    selectFlags(a, 0.5, 0).map((f) => f.start),
    [0, 20, 30],
  );
  assert.deepEqual(
    selectFlags(a, 0.5, 2).map((f) => f.start),
    [0, 30],
  );
  assert.deepEqual(selectFlags(a, 0.99, 10), []);
});

// ---- against a real index ----------------------------------------------------------------------------------------

let dir = '';
let store: IndexStore;
let embedder: Embedder;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-check-'));
  await generateModel({ shape: 'tiny', outDir: path.join(dir, 'model'), precisions: ['fp32'] });
  embedder = await openEmbedder({ modelDir: path.join(dir, 'model'), device: 'cpu', threads: 1, inProcess: true });
  store = await IndexStore.open(path.join(dir, 'index'), embedder.identity, { create: true });
  await addFiles(store, embedder, [path.join(DEMO_PUBMED, 'mesh-papers.medline.txt')], {
    read: (f) => readCitations(f),
    split: splitSentences,
  });
});

after(async () => {
  store?.close();
  await embedder?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('checkDocument on a real index: the uncited claim is flagged with the paper it states; headings, captions, code and citing sentences are not', async () => {
  const bibs = [{ path: 'refs.bib', text: BIB }];
  const r = await checkDocument(MD, 'pandoc', storeSearcher(store, embedder, 'fts'), {
    resolveKey: async (key) => {
      const id = keyInBibliographies(key, bibs);
      return id ? paperInIndex(store, id) : undefined;
    },
  });
  assert.equal(r.flags.length, 1, JSON.stringify(r.flags.map((f) => f.text)));
  const f = r.flags[0]!;
  assert.equal(f.text, CLAIM);
  assert.equal(f.papers[0]?.paper.pmid, MESH_NOW);
  assert.ok(f.strength >= 0.5 && f.strength <= 1);
  assert.equal(r.counts.citing, 3);
  // the cited papers: prebiotics2016 is weak (Google Scholar's paper matches its sentence), meshnow supports its own
  assert.equal(r.counts.citationsChecked, 2, 'doe2020 is not in the bibliography');
  assert.deepEqual(
    r.weak.map((w) => w.support.key),
    ['prebiotics2016'],
  );
  const w = r.weak[0]!.support;
  assert.equal(w.better[0]?.paper.pmid, SCHOLAR);
  assert.ok(w.better[0]!.match.strength > w.match.strength);
  assert.match(
    w.summary,
    /prebiotics2016: the abstract has \d+ % of this sentence's terms .*better-matching: Bramer 2016/,
  );
  // hybrid is the full-text ranking while the weights are generated: the same flags
  const h = await checkDocument(MD, 'pandoc', storeSearcher(store, embedder, 'hybrid'));
  assert.deepEqual(
    h.flags.map((x) => [x.start, x.papers[0]?.paper.pmid]),
    r.flags.map((x) => [x.start, x.papers[0]?.paper.pmid]),
  );
});

test('the threshold and the cap: a writer can tune how much is flagged; the cap keeps the strongest', async () => {
  const claims = [
    CLAIM,
    'Google Scholar search results have been shown to be unreliable for complex systematic review searches.',
    'MeSH terms have been shown to improve PubMed searches for clinical questions.',
  ];
  const doc = claims.join('\n\n') + '\n';
  const searcher = storeSearcher(store, embedder, 'fts');
  const all = await checkDocument(doc, 'pandoc', searcher, { threshold: 0.3, maxFlags: 0 });
  assert.equal(all.flags.length, 3, JSON.stringify(all.assessed.map((a) => [a.sentence.text, a.strength])));
  const one = await checkDocument(doc, 'pandoc', searcher, { threshold: 0.3, maxFlags: 1 });
  assert.equal(one.flags.length, 1);
  assert.equal(one.counts.capped, 2);
  assert.equal(one.flags[0]!.strength, Math.max(...all.flags.map((x) => x.strength)));
  const none = await checkDocument(doc, 'pandoc', searcher, { threshold: 1.01 });
  assert.equal(none.flags.length, 0);
  assert.equal(none.counts.searched, 3);
});

test('citationSupport: a citation that ranks first and matches is not weak; one not among the results with better matches is', async () => {
  const searcher = storeSearcher(store, embedder, 'fts');
  const meshNow = await paperInIndex(store, { pmid: MESH_NOW });
  const prebiotics = await paperInIndex(store, { pmid: PREBIOTICS });
  assert.ok(meshNow && prebiotics);
  const good = citationSupport('meshnow', CLAIM, meshNow, await searcher(CLAIM, 10));
  assert.equal(good.rank, 1);
  assert.equal(good.weak, false);
  assert.deepEqual(good.better, []);
  const bad = citationSupport('prebiotics2016', CLAIM, prebiotics, await searcher(CLAIM, 10));
  assert.equal(bad.weak, true);
  assert.equal(bad.better[0]?.paper.pmid, MESH_NOW);
  assert.ok(bad.match.best, 'the best-matching sentence of the cited abstract');
});

test('biohicl check FILE prints the flags and weak citations (and --json)', async () => {
  ensureCliBuilt();
  const home = path.join(dir, 'home');
  const { run } = cliRunner(() => home);
  fs.mkdirSync(path.join(dir, 'doc'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'doc', 'draft.md'), MD);
  fs.writeFileSync(path.join(dir, 'doc', 'refs.bib'), BIB);
  const args = ['check', path.join(dir, 'doc', 'draft.md'), '--index', path.join(dir, 'index'), '--mode', 'fts'];
  const r = await run(args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /draft\.md:8:1: uncited claim \(\d+ %\): Manual MeSH indexing/);
  assert.match(r.out, new RegExp(`cite\\? PMID ${MESH_NOW} Mao`));
  assert.match(r.out, /draft\.md:10:\d+: is this the right citation\? prebiotics2016/);
  assert.match(r.out, /1 uncited claim\(s\) at threshold 0\.5; 1 weak of 2 citation\(s\) checked/);
  const j = await run([...args, '--json']);
  assert.equal(j.code, 0, j.err);
  const o = JSON.parse(j.out);
  assert.equal(o.flags[0].papers[0].pmid, MESH_NOW);
  assert.equal(o.weak[0].cited, PREBIOTICS);
  const bad = await run([...args, '--threshold', '2']);
  assert.equal(bad.code, 2);
});

test('eval uncited: a wrong option or value is a usage error (exit 2), no stack', () => {
  ensureCliBuilt();
  for (const args of [['--bogus'], ['--threshold', '3'], ['--modes', 'sideways'], ['--max', '-1']]) {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'eval.js'), 'uncited', ...args], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('the editor’s search (Engine.searchPapers, the worker on its own channel) ranks as the index’s hybrid search, and a sidebar query running at the same time is not superseded', async () => {
  const { Engine } = await import('../../src/app/engine');
  const { engineSearcher } = await import('../../src/check/searchers');
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const engine = new Engine(
    {
      modelDir: path.join(dir, 'model'),
      indexDir: path.join(dir, 'index'),
      device: 'cpu',
      threads: 1,
      queryPrefix: true,
    },
    quiet,
  );
  try {
    const viaEngine = await engineSearcher(engine)(CLAIM, 10);
    const viaStore = await storeSearcher(store, embedder, 'hybrid')(CLAIM, 10);
    assert.deepEqual(
      viaEngine.map((p) => p.pmid),
      viaStore.map((p) => p.pmid),
    );
    assert.equal(viaEngine[0]?.pmid, MESH_NOW);
    assert.ok(viaEngine[0]!.abstract.length > 100, 'abstracts come with the papers');
    const [sidebar, check] = await Promise.all([
      engine.query('automatic MeSH indexing', { papers: 3, mesh: 0, sentences: 0 }),
      checkDocument(`${CLAIM}\n\n${SCHOLAR_CLAIM}, as has been shown.\n`, 'pandoc', engineSearcher(engine)),
    ]);
    assert.ok(sidebar, 'the sidebar query answered');
    assert.equal(sidebar.papers.length, 3);
    assert.equal(check.counts.searched, 2);
  } finally {
    await engine.dispose();
  }
});
