// Citation completion against the real parts: a generated tiny model in the inference worker, a LanceDB index built
// through Engine.buildIndex from real MEDLINE records and from the writer's own .bib, the CiteCompleter asking
// Engine.citeRelevance. The right paper for the sentence comes first; one in the bibliography is offered as its entry;
// typing more of the key asks the index nothing new; the bibliography's dense scores come from the index's vectors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../src/app/engine';
import { CiteCompleter, type RelevanceFn } from '../../src/app/complete';
import { generateModel } from '../../src/inference/convert';
import { DEMO_PUBMED } from '../fixtures/paths';

const PUBMED = path.join(DEMO_PUBMED, 'mesh-papers.medline.txt');
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
let dir = '';
let engine: Engine;
let bibFile = '';

const PREBIOTICS = '27930574'; // "A MeSH-based text mining method for identifying novel prebiotics."
const LIVESTOCK = '26036323'; // "An application of MeSH enrichment analysis in livestock."

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-complete-'));
  await generateModel({ shape: 'tiny', outDir: path.join(dir, 'model'), precisions: ['fp32'] });
  const records = fs
    .readFileSync(PUBMED, 'utf8')
    .split(/\n\s*\n(?=PMID- )/)
    .slice(0, 40);
  fs.writeFileSync(path.join(dir, 'papers.medline.txt'), records.join('\n\n') + '\n');
  // the writer's bibliography: the livestock paper (by PMID), and a DOI-only item the PubMed data does not hold
  bibFile = path.join(dir, 'refs.bib');
  fs.writeFileSync(
    bibFile,
    `@article{jeong2015mesh,
  title = {An application of {MeSH} enrichment analysis in livestock},
  author = {Jeong, Jaehoon and Kim, Kwondo},
  journal = {Animal Genetics},
  year = {2015},
  pmid = {${LIVESTOCK}}
}

@article{doe2020probiotic,
  title = {Probiotic yoghurt and gut flora: a preprint},
  author = {Doe, Jane},
  year = {2020},
  doi = {10.1101/2020.01.01.000001}
}
`,
  );
  engine = new Engine(
    {
      modelDir: path.join(dir, 'model'),
      indexDir: path.join(dir, 'index'),
      device: 'cpu',
      threads: 1,
      queryPrefix: true,
    },
    logger,
  );
  await engine.buildIndex(
    [path.join(dir, 'papers.medline.txt'), bibFile],
    () => undefined,
    new AbortController().signal,
  );
});

after(async () => {
  await engine?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

const tex = (sentence: string, typed = ''): { text: string; offset: number } => {
  const text = `\\documentclass{article}\n\\begin{document}\nAn earlier sentence about other things. ${sentence} \\cite{${typed}}.\n\\bibliography{refs}\n\\end{document}\n`;
  return { text, offset: text.indexOf(`\\cite{${typed}`) + 6 + typed.length };
};

test('typing \\cite{ after a sentence: the paper of the index for it first; accepting it is for the insert path', async () => {
  const completer = new CiteCompleter((t, o) => engine.citeRelevance(t, o));
  const { text, offset } = tex('Text mining of MeSH annotations identifies novel prebiotics');
  const a = await completer.complete({ kind: 'latex', text, offset, bibs: [{ path: bibFile, format: 'bibtex' }] });
  assert.ok(a);
  assert.equal(a.sentence, 'Text mining of MeSH annotations identifies novel prebiotics');
  assert.equal(a.bibSize, 2);
  const first = a.items[0]!;
  assert.equal(first.source, 'index');
  assert.equal(first.paper?.pmid, PREBIOTICS);
  assert.match(first.title, /prebiotics/);
  assert.deepEqual(first.why, ['index #1', 'words #1']);
  assert.match(a.note ?? '', /GENERATED/, 'generated weights are said (the ranking is the full-text one)');
  // the bibliography's entries are offered too, after what the sentence supports
  assert.ok(a.items.some((c) => c.key === 'jeong2015mesh'));
  assert.ok(a.items.some((c) => c.key === 'doe2020probiotic'));
});

test('a paper of the index that is in the bibliography is offered once, as its entry, first', async () => {
  let asked = 0;
  const fn: RelevanceFn = (t, o) => (asked++, engine.citeRelevance(t, o));
  const completer = new CiteCompleter(fn);
  const bibs = [{ path: bibFile, format: 'bibtex' as const }];
  const { text, offset } = tex('MeSH enrichment analysis was applied to livestock genes');
  const a = (await completer.complete({ kind: 'latex', text, offset, bibs }))!;
  assert.equal(a.items[0]!.key, 'jeong2015mesh');
  assert.equal(a.items[0]!.source, 'bibliography');
  assert.ok(a.items[0]!.why.includes('index #1'), a.items[0]!.why.join(', '));
  assert.ok(a.items[0]!.why.some((w) => w.startsWith('words')));
  assert.equal(a.items.filter((c) => c.paper?.pmid === LIVESTOCK).length, 1, 'not twice');
  // typing filters; the sentence's relevance is not asked again, the .bib not parsed again
  const parses = completer.cache.parses;
  for (const typed of ['j', 'je', 'jeo']) {
    const t = tex('MeSH enrichment analysis was applied to livestock genes', typed);
    const b = (await completer.complete({ kind: 'latex', ...t, bibs }))!;
    assert.equal(b.slot?.typed, typed);
    assert.deepEqual(
      b.items.map((c) => c.key),
      ['jeong2015mesh'],
    );
  }
  assert.equal(asked, 1, 'one relevance query for the sentence');
  // typing the command of the next citation asks about its sentence ahead; the key then asks nothing new
  const next = tex('Text mining of MeSH annotations identifies novel prebiotics');
  const ahead = next.text.slice(0, next.offset - 6) + '\\cit';
  assert.ok(completer.prefetch({ kind: 'latex', text: ahead, offset: ahead.length, bibs }));
  assert.equal(asked, 2);
  const c = (await completer.complete({ kind: 'latex', ...next, bibs }))!;
  assert.equal(asked, 2, 'the list used the relevance asked ahead');
  assert.equal(c.items[0]!.paper?.pmid, PREBIOTICS);
  assert.equal(c.relevanceMs, undefined);
  assert.equal(completer.cache.parses, parses, 'no parse while typing');
});

test("dense similarity of the bibliography's entries from the index's vectors (PMID and DOI-only items)", async () => {
  const completer = new CiteCompleter((t, o) => engine.citeRelevance(t, { ...o, dense: 'always' }));
  const { text, offset } = tex('Probiotic yoghurt changes the gut flora');
  const a = (await completer.complete({ kind: 'latex', text, offset, bibs: [{ path: bibFile, format: 'bibtex' }] }))!;
  const semantic = a.items.filter((c) => c.why.some((w) => w.startsWith('semantic')));
  assert.deepEqual(
    semantic
      .filter((c) => c.source === 'bibliography')
      .map((c) => c.key)
      .sort(),
    ['doe2020probiotic', 'jeong2015mesh'],
    'both entries have vectors in the index (by PMID, and the DOI-only item indexed from the .bib)',
  );
  assert.ok(
    semantic.some((c) => c.source === 'index'),
    "the index's papers carry their dense score too",
  );
  // with generated weights and no override, no dense leg
  const plain = await engine.citeRelevance('Probiotic yoghurt changes the gut flora', {
    k: 5,
    bib: { signature: 'x', ids: [{ pmid: LIVESTOCK }] },
  });
  assert.equal(plain.dense, undefined);
  assert.equal(plain.generated, true);
  const forced = await engine.citeRelevance('Probiotic yoghurt changes the gut flora', {
    k: 5,
    bib: { signature: 'y', ids: [{ pmid: LIVESTOCK }, { pmid: '1' }, { doi: '10.1101/2020.01.01.000001' }] },
    dense: 'always',
  });
  assert.deepEqual([...forced.dense!.keys()].sort(), [0, 2], 'the entries the index holds');
  for (const v of forced.dense!.values()) assert.ok(v >= -1.0001 && v <= 1.0001);
});

test('without an index the bibliography is still offered, ranked by its words, and the note says why', async () => {
  const none = new Engine(
    {
      modelDir: path.join(dir, 'model'),
      indexDir: path.join(dir, 'no-index'),
      device: 'cpu',
      threads: 1,
      queryPrefix: true,
    },
    logger,
  );
  try {
    let asked = 0;
    const completer = new CiteCompleter((t, o) => (asked++, none.citeRelevance(t, o)));
    const { text, offset } = tex('Probiotic yoghurt changes the gut flora');
    const a = (await completer.complete({ kind: 'latex', text, offset, bibs: [{ path: bibFile, format: 'bibtex' }] }))!;
    assert.match(a.note ?? '', /No PubMed index/);
    assert.deepEqual(
      a.items.map((c) => c.key),
      ['doe2020probiotic', 'jeong2015mesh'],
    );
    // a failure is not kept: the next request asks again (the index may have been built meanwhile)
    await completer.complete({ kind: 'latex', text, offset, bibs: [{ path: bibFile, format: 'bibtex' }] });
    assert.equal(asked, 2);
  } finally {
    await none.dispose();
  }
});
