// Citation completion without an index: where a key is typed (per syntax), the sentence it cites, the prepared
// bibliography (filter, lexical score, entry lookup), the one order of the list, the bibliography cache (parsed once
// per version), and the insert path's "replace exactly the typed key" mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { latexCiteSlot } from '../../src/cite/syntax/latex';
import { pandocCiteSlot } from '../../src/cite/syntax/pandoc';
import { manubotCiteSlot, manubotCatalog } from '../../src/cite/syntax/manubot';
import {
  BibIndex,
  citationAhead,
  citeSlot,
  citedSentence,
  rankCandidates,
  paperMatches,
} from '../../src/cite/complete';
import { BibCache } from '../../src/cite/bibcache';
import { bibRecords, planCitation, planKeyCitation } from '../../src/cite/plan';
import { applyEdits } from '../../src/cite/syntax/common';
import type { PaperMeta } from '../../src/cite/paper';

const ROOT = path.resolve(__dirname, '..', '..');
const TEX_BIB = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'manuscripts', 'tex', 'references.bib'), 'utf8');

const BIB = `${TEX_BIB}
@article{smith2019statin,
  title = {Statin therapy and the risk of myopathy in older adults},
  author = {Smith, Anna and M{\\"u}ller, Karl},
  journal = {Journal of Lipid Research},
  year = {2019},
  pmid = {31000001}
}

@article{zhang2021zebrafish,
  title = {Hair cell regeneration in the zebrafish lateral line},
  author = {Zhang, Wei},
  journal = {Developmental Biology},
  year = {2021},
  doi = {10.1000/zf.2021}
}
`;

/** A text with `|` marking the cursor → [text, offset]. */
function at(s: string): [string, number] {
  const i = s.indexOf('|');
  return [s.slice(0, i) + s.slice(i + 1), i];
}

test('LaTeX: the key being typed inside any \\…cite…{…}, with the other keys of the group', () => {
  let [t, o] = at('We found it \\cite{|}.');
  assert.deepEqual(latexCiteSlot(t, o), { start: o, end: o, typed: '', keys: [], groupStart: 12 });
  [t, o] = at('Shown before \\citep[see][p.~3]{existing2016, sm|ith}.');
  let s = latexCiteSlot(t, o)!;
  assert.equal(s.typed, 'sm');
  assert.equal(t.slice(s.start, s.end), 'smith');
  assert.deepEqual(s.keys, ['existing2016']);
  [t, o] = at('\\autocite{a,|, b}');
  s = latexCiteSlot(t, o)!;
  assert.deepEqual([s.typed, s.keys], ['', ['a', 'b']]);
  for (const cmd of ['cite', 'citep', 'citet', 'autocite', 'parencite', 'textcite'])
    assert.equal(latexCiteSlot(...at(`x \\${cmd}{lu|`))?.typed, 'lu', cmd);
  // not a citation: after the group, in a comment, another command
  assert.equal(latexCiteSlot(...at('\\cite{a} and |')), undefined);
  assert.equal(latexCiteSlot(...at('% old: \\cite{|')), undefined);
  assert.equal(latexCiteSlot(...at('\\ref{fig|')), undefined);
  assert.ok(latexCiteSlot(...at('50\\% of \\cite{|')), 'an escaped \\% is not a comment');
});

test('Pandoc: [@…] and ; @… slots; cross-references, code, e-mail addresses are not', () => {
  let [t, o] = at('Statins help [@|].');
  let s = pandocCiteSlot(t, o)!;
  assert.deepEqual([s.typed, s.start, s.end, s.keys, s.groupStart], ['', o, o, [], 13]);
  [t, o] = at('Statins help [@smith2019statin; @zh|ang]. More.');
  s = pandocCiteSlot(t, o)!;
  assert.equal(s.typed, 'zh');
  assert.equal(t.slice(s.start, s.end), 'zhang');
  assert.deepEqual(s.keys, ['smith2019statin']);
  [t, o] = at('[see @sm|, p. 3; @b]');
  s = pandocCiteSlot(t, o)!;
  assert.deepEqual([s.typed, s.keys], ['sm', ['b']]);
  assert.equal(pandocCiteSlot(...at('See [@fig:|]')), undefined);
  assert.equal(pandocCiteSlot(...at('Write `[@|]` for a citation')), undefined);
  assert.equal(pandocCiteSlot(...at('mail me [at me@ex|')), undefined);
  assert.equal(pandocCiteSlot(...at('no bracket @sm|')), undefined);
  assert.equal(pandocCiteSlot(...at('[@a] then @|')), undefined);
  // Manubot: the id prefix
  s = manubotCiteSlot(...at('Imatinib works [@pubmed:256|].'))!;
  assert.deepEqual([s.typed, s.prefix], ['pubmed:256', 'pubmed']);
  assert.equal(manubotCiteSlot(...at('[@doi:10.1|'))?.prefix, 'doi');
  assert.equal(citeSlot('plain', ...at('[@|]')), undefined);
});

test('a citation about to be typed (\\cit…, [): where its group will start, so the sentence is the same', () => {
  const tex = 'Statins cause myopathy \\citep';
  assert.equal(citationAhead('latex', tex, tex.length), tex.indexOf('\\'));
  assert.equal(
    citedSentence(tex, citationAhead('latex', tex, tex.length)!, 'latex'),
    citedSentence(`${tex}{}`, latexCiteSlot(`${tex}{}`, tex.length + 1)!.groupStart, 'latex'),
  );
  assert.equal(citationAhead('latex', 'Statins \\emph', 14), undefined);
  assert.equal(citationAhead('pandoc', 'Statins [', 9), 8);
  assert.equal(citationAhead('pandoc', 'Statins [@', 10), 8);
  assert.equal(citationAhead('plain', 'Statins [', 9), undefined);
});

test('the cited sentence: the one ending at the citation, markup removed; the one before when the citation opens one', () => {
  const tex = 'Intro text here. Statin therapy (e.g. simvastatin) raises the risk of \\emph{myopathy} \\cite{';
  assert.equal(
    citedSentence(tex, tex.length - 6, 'latex'),
    'Statin therapy (e.g. simvastatin) raises the risk of myopathy',
  );
  const md = 'Hair cells regenerate in zebrafish after damage. [@';
  assert.equal(citedSentence(md, md.length - 2, 'pandoc'), 'Hair cells regenerate in zebrafish after damage.');
  const other = 'First paragraph about statins.\n\nZebrafish hair cells regrow. Cited by [@a] here [@';
  assert.equal(citedSentence(other, other.length - 2, 'pandoc'), 'Cited by here');
});

test('BibIndex: filter by key, author or title word prefix; lexical similarity; the entry of an index paper', () => {
  const b = new BibIndex(bibRecords([{ path: 'refs.bib', format: 'bibtex', text: BIB }]));
  assert.equal(b.size, 4);
  const keys = (ix: number[]): string[] => ix.map((i) => b.items[i]!.record.key);
  assert.deepEqual(keys(b.filter('')), [
    'existing2016',
    'luCharacterizationMechanismDrugdrug2017',
    'smith2019statin',
    'zhang2021zebrafish',
  ]);
  assert.deepEqual(keys(b.filter('smi')), ['smith2019statin'], 'key');
  assert.deepEqual(keys(b.filter('mull')), ['smith2019statin'], 'an author, LaTeX accents folded');
  assert.deepEqual(keys(b.filter('Zebra')), ['zhang2021zebrafish'], 'a title word, any case');
  assert.deepEqual(keys(b.filter('drug')), ['luCharacterizationMechanismDrugdrug2017']);
  assert.deepEqual(keys(b.filter('xyz')), []);
  const lex = b.lexical('Statin therapy may cause myopathy');
  const best = [...lex.entries()].sort((x, y) => y[1] - x[1])[0]!;
  assert.equal(b.items[best[0]]!.record.key, 'smith2019statin');
  assert.equal(lex.has(3), false, 'no shared word, no score');
  const paper = (p: Partial<PaperMeta>): PaperMeta => ({ pmid: '1', title: '', authors: [], journal: '', ...p });
  assert.equal(b.items[b.entryOf(paper({ pmid: '28422961' }))!]!.record.key, 'luCharacterizationMechanismDrugdrug2017');
  assert.equal(
    b.items[b.entryOf(paper({ doi: 'https://doi.org/10.1000/ZF.2021' }))!]!.record.key,
    'zhang2021zebrafish',
  );
  assert.equal(
    b.items[
      b.entryOf(
        paper({ title: 'Statin therapy and the risk of myopathy in older adults.', year: 2019, pmid: '31000001' }),
      )!
    ]!.record.key,
    'smith2019statin',
  );
  assert.equal(
    b.entryOf(paper({ pmid: '', title: 'Statin therapy and the risk of myopathy in older adults', year: 2019 })),
    2,
    'title + year',
  );
  assert.equal(
    b.entryOf(paper({ pmid: '', title: 'Statin therapy and the risk of myopathy in older adults', year: 2018 })),
    undefined,
  );
  assert.equal(
    b.entryOf(paper({ pmid: '5', title: 'Statin therapy and the risk of myopathy in older adults', year: 2019 })),
    undefined,
    'another PMID: another paper',
  );
});

test('rankCandidates: one fused order; an index paper in the bibliography shown once as its entry; typed text filters both', () => {
  const b = new BibIndex(bibRecords([{ path: 'refs.bib', format: 'bibtex', text: BIB }]));
  const hit = (pmid: string, title: string, rank: number, authors = ['Roe R']): PaperMeta & { rank: number } => ({
    pmid,
    title,
    authors,
    journal: 'J',
    year: 2020,
    rank,
  });
  const sentence = 'Statin therapy may cause myopathy';
  const hits = [
    hit('40000001', 'Myopathy under statin therapy: a cohort', 1),
    hit('31000001', 'Statin therapy and the risk of myopathy in older adults', 2),
    hit('40000002', 'Muscle pain in statin users', 3, ['Smithers J']),
  ];
  const dense = new Map([
    [3, 0.9],
    [2, 0.8],
  ]);
  const ranked = rankCandidates({
    bib: b,
    allowed: b.filter(''),
    typed: '',
    sentence,
    exclude: [],
    hits,
    dense,
    lexical: b.lexical(sentence),
  });
  const ids = ranked.map((c) => c.key ?? c.paper!.pmid);
  // smith2019statin: index #2 + semantic #2 + words #2; 40000001: index #1 + words #1; 40000002: index #3 + words #3;
  // zhang2021zebrafish: semantic #1 only; the two entries with no evidence follow, by key
  assert.deepEqual(ids, [
    'smith2019statin',
    '40000001',
    '40000002',
    'zhang2021zebrafish',
    'existing2016',
    'luCharacterizationMechanismDrugdrug2017',
  ]);
  assert.equal(
    ids.filter((x) => x === '31000001').length,
    0,
    'the index paper in the bibliography is shown as its entry',
  );
  assert.equal(ranked[0]!.source, 'bibliography');
  assert.deepEqual(ranked[0]!.why, ['index #2', 'semantic #2', 'words #2']);
  assert.equal(ranked[0]!.paper?.pmid, '31000001');
  assert.deepEqual(ranked[1]!.why, ['index #1', 'words #1']);
  assert.deepEqual(ranked[4]!.why, []);
  // typed "smi": the entry by key, and the index paper by its author's name; the group's own keys are left out
  const typed = rankCandidates({
    bib: b,
    allowed: b.filter('smi'),
    typed: 'smi',
    sentence,
    exclude: [],
    hits,
    lexical: b.lexical(sentence),
  });
  assert.deepEqual(
    typed.map((c) => c.key ?? c.paper!.pmid),
    ['smith2019statin', '40000002'],
  );
  const excl = rankCandidates({
    bib: b,
    allowed: b.filter(''),
    typed: '',
    sentence,
    exclude: ['smith2019statin'],
    hits,
    lexical: new Map(),
  });
  assert.ok(!excl.some((c) => c.key === 'smith2019statin'));
  assert.ok(paperMatches(hits[0]!, 'pubmed:4000'));
  assert.ok(!paperMatches(hits[0]!, 'zebra'));
});

test('BibCache: a file is parsed once per mtime (or editor version), however often it is asked for', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bibcache-'));
  try {
    const f = path.join(dir, 'refs.bib');
    fs.writeFileSync(f, BIB);
    const cache = new BibCache();
    const src = { path: f, format: 'bibtex' as const };
    const a = cache.get([src]);
    for (let i = 0; i < 50; i++) assert.equal(cache.get([src]), a, 'the same prepared bibliography');
    assert.equal(cache.parses, 1);
    assert.equal(a.index.size, 4);
    // the file changes on disk: parsed again, once
    fs.appendFileSync(f, '\n@article{new2024, title = {A new one}, author = {New, N}, year = {2024}}\n');
    const t = new Date(Date.now() + 5000);
    fs.utimesSync(f, t, t);
    const b = cache.get([src]);
    assert.equal(b.index.size, 5);
    cache.get([src]);
    assert.equal(cache.parses, 2);
    // open in the editor: keyed by its version, the text read only when the version changes
    let reads = 0;
    let text = BIB;
    const open = (version: number) => ({ ...src, version, text: () => (reads++, text) });
    assert.equal(cache.get([open(1)]).index.size, 4);
    cache.get([open(1)]);
    assert.equal(reads, 1);
    text = BIB.replace('smith2019statin', 'smith2019');
    const c = cache.get([open(2)]);
    assert.equal(reads, 2);
    assert.ok(c.index.records.some((r) => r.key === 'smith2019'));
    assert.notEqual(c.signature, b.signature);
    // only the edited entry is read again: the others keep their records (and their preparation for completion)
    text = BIB;
    const prev = new Set(cache.get([open(3)]).index.records);
    text = BIB.replace('Hair cell regeneration', 'Hair-cell regeneration');
    const v4 = cache.get([open(4)]).index.records;
    assert.equal(v4.filter((r) => prev.has(r)).length, 3, 'three entries unchanged, reused');
    assert.equal(v4.find((r) => !prev.has(r))?.key, 'zhang2021zebrafish');
    // a broken CSL-JSON file is reported, not thrown
    const j = path.join(dir, 'refs.json');
    fs.writeFileSync(j, '[{"id": "x"');
    const d = cache.get([src, { path: j, format: 'csl-json' }]);
    assert.equal(d.errors.length, 1);
    assert.match(d.errors[0]!, /refs\.json/);
    assert.equal(d.index.size, 5);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const PAPER: PaperMeta = {
  pmid: '31000002',
  title: 'Statin-associated muscle symptoms in primary care',
  authors: ['Garcia MJ', 'Lee K'],
  journal: 'BMJ',
  year: 2022,
  doi: '10.1136/bmj.x1',
};

test("the insert path, at the typed key: LaTeX key chosen by the file's rules replaces exactly the typed range, entry written once", async () => {
  const [text, o] = at('Muscle pain is common \\cite{existing2016, Gar|}.');
  const slot = latexCiteSlot(text, o)!;
  const plan = await planCitation(PAPER, {
    kind: 'latex',
    text,
    selStart: o,
    selEnd: o,
    at: { start: slot.start, end: slot.end },
    bibs: [{ path: '/m/references.bib', format: 'bibtex', text: BIB }],
  });
  assert.equal(plan.docEdits.length, 1);
  const out = applyEdits(text, plan.docEdits);
  assert.equal(out, `Muscle pain is common \\cite{existing2016, ${plan.key}}.`);
  assert.match(plan.key, /^garcia/i, 'a key in the file style');
  assert.equal(out.slice(plan.cursor, plan.cursor + 2), '}.', 'the cursor after the key');
  assert.ok(plan.bibEdit);
  assert.equal((plan.bibEdit.edit.text.match(/@article\{/g) ?? []).length, 1);
  assert.ok(
    plan.bibEdit.edit.text.startsWith(`\n@article{${plan.key},`) ||
      plan.bibEdit.edit.text.startsWith(`@article{${plan.key},`),
  );
  // a paper already in the bibliography: its key, no entry
  const again = await planCitation(
    { ...PAPER, pmid: '31000001', title: 'Statin therapy and the risk of myopathy in older adults', doi: undefined },
    {
      kind: 'latex',
      text,
      selStart: o,
      selEnd: o,
      at: { start: slot.start, end: slot.end },
      bibs: [{ path: '/m/references.bib', format: 'bibtex', text: BIB }],
    },
  );
  assert.equal(again.key, 'smith2019statin');
  assert.equal(again.bibEdit, undefined);
  assert.equal(applyEdits(text, again.docEdits), 'Muscle pain is common \\cite{existing2016, smith2019statin}.');
});

test('the insert path, at the typed key: Pandoc and Manubot (doi: typed → the doi id)', async () => {
  const [md, o] = at('Muscle pain is common [@smith2019statin; @|].');
  const s = pandocCiteSlot(md, o)!;
  const p = await planCitation(PAPER, {
    kind: 'pandoc',
    text: md,
    selStart: o,
    selEnd: o,
    at: { start: s.start, end: s.end },
    bibs: [{ path: '/m/refs.bib', format: 'bibtex', text: BIB }],
  });
  assert.equal(applyEdits(md, p.docEdits), `Muscle pain is common [@smith2019statin; @${p.key}].`);
  assert.ok(p.bibEdit?.edit.text.includes(`pmid = {${PAPER.pmid}}`));
  const [mb, o2] = at('Muscle pain [@doi:|].');
  const ms = manubotCiteSlot(mb, o2)!;
  const m = await planCitation(PAPER, {
    kind: 'manubot',
    text: mb,
    selStart: o2,
    selEnd: o2,
    at: { start: ms.start, end: ms.end },
    manubot: manubotCatalog({ texts: [mb] }),
    manubotCiteAs: 'doi',
  });
  assert.equal(applyEdits(mb, m.docEdits), 'Muscle pain [@doi:10.1136/bmj.x1].');
  // a key of the bibliography picked in "Cite…": joined to the group next to the cursor, or at the typed key
  const [t3, o3] = at('Muscle pain is common \\cite{existing2016}|.');
  const k = planKeyCitation('smith2019statin', { kind: 'latex', text: t3, selStart: o3, selEnd: o3 });
  assert.equal(applyEdits(t3, k.docEdits), 'Muscle pain is common \\cite{existing2016,smith2019statin}.');
  const [t4, o4] = at('Muscle pain is common \\cite{existing2016,sm|}.');
  const s4 = latexCiteSlot(t4, o4)!;
  const k2 = planKeyCitation('smith2019statin', { kind: 'latex', text: t4, selStart: o4, selEnd: o4, at: s4 });
  assert.equal(applyEdits(t4, k2.docEdits), 'Muscle pain is common \\cite{existing2016,smith2019statin}.');
  assert.equal(k2.cursor, t4.length + 'smith2019statin'.length - 2 - 2);
});
