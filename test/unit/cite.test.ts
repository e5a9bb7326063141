// Citation keys, insert positions and merging into open citations (pure parts of the extension).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeCiteKey, expandKeyPattern, asciiWord } from '../../src/cite/citekey';
import {
  latexCitationEdit,
  pandocCitationEdit,
  plainCitationEdits,
  citationAnchor,
  keywordEdit,
  type TextEdit,
} from '../../src/cite/insert';
import { formatReference } from '../../src/cite/csl';
import type { PaperMeta } from '../../src/cite/paper';

const paper: PaperMeta = {
  pmid: '25432002',
  title: 'The gut microbiome and colorectal cancer: a review.',
  authors: ['Müller-Lüdenscheid JA', 'Smith B'],
  journal: 'Nature Reviews Gastroenterology',
  year: 2015,
  doi: 'https://doi.org/10.1038/NRGASTRO.2015.1',
};

function apply(text: string, e: TextEdit | TextEdit[] | undefined): string {
  const edits = (Array.isArray(e) ? e : e ? [e] : []).slice().sort((a, b) => b.start - a.start);
  for (const x of edits) text = text.slice(0, x.start) + x.text + text.slice(x.end);
  return text;
}

test('default key: ASCII-folded first author, year, first significant title word', () => {
  assert.equal(asciiWord('Müller-Lüdenscheid'), 'MullerLudenscheid');
  assert.equal(expandKeyPattern(paper), 'mullerludenscheid2015gut');
  assert.equal(expandKeyPattern(paper, '[auth:capitalize]_[year]_[pmid]'), 'Mullerludenscheid_2015_25432002');
  assert.equal(
    expandKeyPattern(
      { ...paper, authors: [], year: undefined, title: 'A study of the 16S effects' },
      '[auth][year][title]',
    ),
    'anonnd16S',
  );
  assert.throws(() => expandKeyPattern(paper, '[nope]'), /Unknown field \[nope\]/);
});

test('keys never clash (case-insensitively, as BibTeX compares) and suffix a, b, …', () => {
  assert.equal(makeCiteKey(paper, []), 'mullerludenscheid2015gut');
  assert.equal(makeCiteKey(paper, ['MullerLudenscheid2015Gut']), 'mullerludenscheid2015guta');
  const taken = [
    'mullerludenscheid2015gut',
    ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => `mullerludenscheid2015gut${c}`),
  ];
  assert.equal(makeCiteKey(paper, taken), 'mullerludenscheid2015gutaa');
});

test('LaTeX: \\cite after the selection, before the full stop, with a tie', () => {
  const text = 'Dysbiosis precedes tumours.\nNext line.';
  const sel = [0, 27] as const;
  assert.equal(citationAnchor(text, sel[0], sel[1]), 26);
  assert.equal(
    apply(text, latexCitationEdit(text, sel[0], sel[1], 'smith2015gut')),
    'Dysbiosis precedes tumours~\\cite{smith2015gut}.\nNext line.',
  );
  assert.equal(
    apply(text, latexCitationEdit(text, 0, 9, 'k', '\\citep')),
    'Dysbiosis~\\citep{k} precedes tumours.\nNext line.',
  );
  // a selection ending in a space keeps the space and needs no tie
  assert.equal(apply('Foo bar ', latexCitationEdit('Foo bar ', 0, 8, 'k')), 'Foo bar~\\cite{k} ');
});

test('LaTeX: merges into the \\cite{a,b} the cursor is in, never duplicates', () => {
  const text = 'Known \\citep[see][p.~3]{a,b} result.';
  const inside = text.indexOf('a,b') + 1;
  assert.equal(apply(text, latexCitationEdit(text, inside, inside, 'c')), 'Known \\citep[see][p.~3]{a,b,c} result.');
  assert.equal(latexCitationEdit(text, inside, inside, 'b'), undefined);
  const empty = 'X \\autocite{} y';
  const at = empty.indexOf('{') + 1;
  assert.equal(apply(empty, latexCitationEdit(empty, at, at, 'k')), 'X \\autocite{k} y');
});

test('a second citation for the same selection merges into the one just inserted', () => {
  let tex = 'Dysbiosis precedes tumours.';
  tex = apply(tex, latexCitationEdit(tex, 0, tex.length, 'a'));
  assert.equal(tex, 'Dysbiosis precedes tumours~\\cite{a}.');
  tex = apply(tex, latexCitationEdit(tex, 0, tex.length, 'b'));
  assert.equal(tex, 'Dysbiosis precedes tumours~\\cite{a,b}.');
  assert.equal(latexCitationEdit(tex, 0, tex.length, 'a'), undefined);
  let md = 'Gut bacteria matter.';
  md = apply(md, pandocCitationEdit(md, 0, md.length, 'a'));
  md = apply(md, pandocCitationEdit(md, 0, md.length, 'b'));
  assert.equal(md, 'Gut bacteria matter [@a; @b].');
  // a citation before the selection is not touched
  const other = 'See \\cite{x}. New claim.';
  assert.equal(apply(other, latexCitationEdit(other, 15, other.length, 'y')), 'See \\cite{x}. New claim~\\cite{y}.');
});

test('Pandoc: [@key] after the selection; merges into [@a; @b]', () => {
  const text = 'Gut bacteria matter.';
  assert.equal(apply(text, pandocCitationEdit(text, 0, text.length, 'k1')), 'Gut bacteria matter [@k1].');
  const open = 'As shown [@a;@b] here.';
  const at = open.indexOf('@b');
  assert.equal(apply(open, pandocCitationEdit(open, at, at, 'c')), 'As shown [@a;@b;@c] here.');
  assert.equal(pandocCitationEdit(open, at, at, 'a'), undefined);
  // Manubot keys with prefixes
  const mb = 'Known [@doi:10.1/x] fact.';
  const m = mb.indexOf('doi');
  assert.equal(apply(mb, pandocCitationEdit(mb, m, m, 'pubmed:123')), 'Known [@doi:10.1/x; @pubmed:123] fact.');
});

test('plain text: numbered marker and a References list, reused for the same reference', () => {
  const text = 'Bacteria cause disease.';
  const once = apply(text, plainCitationEdits(text, 0, text.length, 'Smith B. A paper. J. 2015.'));
  assert.equal(once, 'Bacteria cause disease [1].\n\nReferences\n\n1. Smith B. A paper. J. 2015.\n');
  const again = apply(once, plainCitationEdits(once, 0, 8, 'Smith B. A paper. J. 2015.'));
  assert.match(again, /^Bacteria \[1\] cause/);
  assert.equal(again.match(/Smith B\./g)?.length, 1);
  const third = apply(again, plainCitationEdits(again, 0, 8, 'Other C. Another. K. 2016.'));
  assert.match(third, /\n2\. Other C\. Another\. K\. 2016\.\n$/);
});

test('keywords: LaTeX \\keywords{}, YAML block and flow lists', () => {
  const tex = '\\keywords{microbiome}\nText';
  assert.equal(
    apply(tex, keywordEdit(tex, 'latex', 0, 'Colorectal Neoplasms')),
    '\\keywords{microbiome, Colorectal Neoplasms}\nText',
  );
  const md = '---\ntitle: x\nkeywords:\n  - a\n  - b\n---\nBody';
  assert.equal(
    apply(md, keywordEdit(md, 'pandoc', 30, 'Feces')),
    '---\ntitle: x\nkeywords:\n  - a\n  - b\n  - Feces\n---\nBody',
  );
  const flow = '---\nkeywords: [a, b]\n---\n';
  assert.equal(apply(flow, keywordEdit(flow, 'pandoc', 0, 'C')), '---\nkeywords: [a, b, C]\n---\n');
});

test('CSL formatting through citation-js: Vancouver by default, APA on request, unknown styles rejected', () => {
  const v = formatReference(paper);
  assert.match(
    v,
    /^Müller-Lüdenscheid JA, Smith B\. The gut microbiome and colorectal cancer: a review\. Nature Reviews Gastroenterology\. 2015/,
  );
  assert.match(v, /10\.1038\/nrgastro\.2015\.1/);
  const apa = formatReference(paper, 'apa');
  assert.match(apa, /\(2015\)/);
  assert.throws(() => formatReference(paper, 'nonexistent-style'), /Unknown CSL style/);
  assert.throws(() => formatReference(paper, '/nonexistent/ama.csl'), /cannot be read/);
});

test('src/cite is plain Node: no module there imports vscode (only src/extension may)', () => {
  const dir = path.resolve(__dirname, '..', '..', 'src', 'cite');
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 10);
  for (const f of files)
    assert.doesNotMatch(fs.readFileSync(path.join(dir, f), 'utf8'), /from ['"]vscode['"]|require\(['"]vscode['"]\)/, f);
  // one \cite pattern, one front-matter pattern, one YAML reader/editor and one LaTeX keyword-field reader
  const all = files.map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')] as const);
  const grep = (needle: string): string[] => all.filter(([, t]) => t.includes(needle)).map(([f]) => f);
  assert.deepEqual(grep('ite[A-Za-z]*'), [path.join('syntax', 'latex.ts')]);
  assert.deepEqual(grep('?---'), [path.join('syntax', 'frontmatter.ts')]);
  assert.deepEqual(grep("from 'yaml'"), [path.join('syntax', 'frontmatter.ts')]);
  assert.deepEqual(grep('kwd'), [path.join('syntax', 'latex.ts')]);
});

test('plan: "Insert with citation" after the sentence at the cursor; the cursor ends right after the citation', async () => {
  const { planCitation } = await import('../../src/cite/plan');
  const { applyEdits } = await import('../../src/cite/syntax/common');
  const bibs = [
    { path: 'refs.bib', format: 'bibtex' as const, text: '@article{a, author={Doe, J.}, title={Gut}, year={2010}}\n' },
  ];
  const md = 'Gut bacteria matter [@a].\nNext.';
  const at = md.indexOf('].') + 1;
  const s = await planCitation(paper, {
    kind: 'pandoc',
    text: md,
    selStart: at,
    selEnd: at,
    bibs,
    sentence: 'Dysbiosis precedes tumours.',
  });
  const out = applyEdits(md, s.docEdits);
  assert.equal(out, `Gut bacteria matter [@a]. Dysbiosis precedes tumours [@${s.key}].\nNext.`);
  // a plain insert: the cursor lands after the group it joined, never over it
  const j = await planCitation(paper, { kind: 'pandoc', text: md, selStart: 0, selEnd: md.indexOf(' [@a]'), bibs });
  const joined = applyEdits(md, j.docEdits);
  assert.equal(joined.slice(0, j.cursor), `Gut bacteria matter [@a; @${j.key}]`);
  // plain text, with a sentence: the marker before its full stop, the reference listed
  const txt = 'Bacteria cause disease.\n';
  const p = await planCitation(paper, {
    kind: 'plain',
    text: txt,
    selStart: 0,
    selEnd: txt.length - 1,
    reference: 'Müller-Lüdenscheid JA. The gut. 2015.',
    sentence: 'Dysbiosis precedes tumours.',
  });
  assert.equal(
    applyEdits(txt, p.docEdits),
    'Bacteria cause disease. Dysbiosis precedes tumours [1].\n\nReferences\n\n1. Müller-Lüdenscheid JA. The gut. 2015.\n',
  );
  assert.equal(p.missing.length, 0);
});
