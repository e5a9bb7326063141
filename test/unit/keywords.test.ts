// Manuscript keywords: title/abstract extraction and keyword-field edits (YAML through the `yaml` Document API,
// LaTeX keyword commands and environments), on hand-written cases and the real manuscripts of test/fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { applyEdits } from '../../src/cite/syntax/common';
import {
  frontMatter,
  frontMatterAddToList,
  frontMatterSetIfAbsent,
  frontMatterStrings,
  yamlAddToList,
} from '../../src/cite/syntax/frontmatter';
import { latexKeywordEdit, latexKeywordField, latexTitle, latexAbstract } from '../../src/cite/syntax/latex';
import { keywordEdits, manuscriptKeywords, manuscriptText } from '../../src/cite/keywords';
import { REAL_MANUSCRIPTS } from '../fixtures/paths';

const HCC = 'Carcinoma, Hepatocellular';

function addYaml(text: string, terms: string[]): string {
  return applyEdits(text, frontMatterAddToList(text, 'keywords', terms).edits);
}

function fmData(text: string): Record<string, unknown> {
  return parseYaml(frontMatter(text)!.body) as Record<string, unknown>;
}

test('YAML flow list: `keywords: [statins]` + "Carcinoma, Hepatocellular" → two keywords, comment and layout kept', () => {
  const md = '---\ntitle: Statins and liver cancer # working title\nkeywords: [statins] # MeSH later\n---\nBody\n';
  const out = addYaml(md, [HCC]);
  assert.equal(
    out,
    '---\ntitle: Statins and liver cancer # working title\nkeywords: [statins, "Carcinoma, Hepatocellular"] # MeSH later\n---\nBody\n',
  );
  assert.deepEqual(fmData(out).keywords, ['statins', HCC]);
  // the old regex wrote the name plainly: YAML then reads three keywords
  const naive = md.replace('[statins]', `[statins, ${HCC}]`);
  assert.equal((fmData(naive).keywords as string[]).length, 3, 'the bug this replaces');
  // an empty flow list, single-quoted items (their quoting is followed), several at once
  assert.equal(
    addYaml('---\nkeywords: []\n---\n', [HCC, 'Liver']),
    '---\nkeywords: ["Carcinoma, Hepatocellular", Liver]\n---\n',
  );
  assert.equal(
    addYaml("---\nkeywords: ['a b', 'c']\n---\n", [HCC]),
    "---\nkeywords: ['a b', 'c', 'Carcinoma, Hepatocellular']\n---\n",
  );
  // a flow list over several lines: the new item goes before `]`
  const multi = '---\nkeywords: [\n  statins,\n  liver\n]\n---\n';
  assert.deepEqual(fmData(addYaml(multi, [HCC])).keywords, ['statins', 'liver', HCC]);
});

test('YAML block list: a new `- item` line in the list own indentation, comments between items kept', () => {
  const md = '---\ntitle: x\nkeywords:\n  - a # first\n  # a comment line\n  - b\nauthor: y\n---\nBody';
  const out = addYaml(md, [HCC, 'Feces']);
  assert.equal(
    out,
    '---\ntitle: x\nkeywords:\n  - a # first\n  # a comment line\n  - b\n  - Carcinoma, Hepatocellular\n  - Feces\nauthor: y\n---\nBody',
  );
  assert.deepEqual(fmData(out).keywords, ['a', 'b', HCC, 'Feces']);
  // unindented items (valid YAML, Manubot's style) and CRLF line ends
  const crlf = '---\r\nkeywords:\r\n- a\r\n- b\r\n---\r\n';
  assert.equal(addYaml(crlf, ['c']), '---\r\nkeywords:\r\n- a\r\n- b\r\n- c\r\n---\r\n');
  // a name YAML would misread plainly is quoted
  assert.deepEqual(fmData(addYaml(md, ['Risk: Assessment', '#hash'])).keywords, [
    'a',
    'b',
    'Risk: Assessment',
    '#hash',
  ]);
});

test('YAML: a single string becomes a list, an empty or absent key and a missing front matter are made', () => {
  assert.equal(
    addYaml('---\nkeywords: statins\n---\n', [HCC]),
    '---\nkeywords: [statins, "Carcinoma, Hepatocellular"]\n---\n',
  );
  assert.equal(
    addYaml('---\nkeywords:\ntitle: x\n---\n', [HCC]),
    '---\nkeywords: ["Carcinoma, Hepatocellular"]\ntitle: x\n---\n',
  );
  assert.equal(
    addYaml('---\ntitle: x\n---\nBody', [HCC]),
    '---\ntitle: x\nkeywords:\n  - Carcinoma, Hepatocellular\n---\nBody',
  );
  assert.equal(addYaml('Body\n', [HCC]), '---\nkeywords:\n  - Carcinoma, Hepatocellular\n---\n\nBody\n');
  // already there (any case): nothing to do, and it says so
  const r = frontMatterAddToList('---\nkeywords: [Statins]\n---\n', 'keywords', ['statins', 'Liver']);
  assert.deepEqual([r.added, r.present], [['Liver'], ['statins']]);
  assert.deepEqual(frontMatterAddToList('---\nkeywords: [Statins]\n---\n', 'keywords', ['STATINS']).edits, []);
  // YAML it cannot read is not edited
  assert.throws(
    () => frontMatterAddToList('---\nkeywords: [a\ntitle: "x\n---\n', 'keywords', ['b']),
    /YAML cannot be read/,
  );
  assert.throws(() => yamlAddToList('keywords: {a: 1}\n', 'keywords', ['b']), /other than a list/);
});

test('YAML: Manubot metadata.yaml of a real manuscript gets the keyword, every other byte unchanged', () => {
  const file = path.join(REAL_MANUSCRIPTS, 'manubot-openpbta', 'content', 'metadata.yaml');
  const yml = fs.readFileSync(file, 'utf8');
  const r = yamlAddToList(yml, 'keywords', ['Brain Neoplasms', 'pediatric cancer']);
  assert.deepEqual(r.present, ['pediatric cancer']);
  const out = applyEdits(yml, r.edits);
  assert.ok(out.includes('- somatic variation\n- Brain Neoplasms\n'), out.slice(0, 300));
  assert.equal(out.replace('- Brain Neoplasms\n', ''), yml, 'nothing else changed');
  const before = parseYaml(yml) as { keywords: string[] };
  assert.deepEqual((parseYaml(out) as { keywords: string[] }).keywords, [...before.keywords, 'Brain Neoplasms']);
});

test('front matter values through the YAML parser: block scalars, quotes, comments', () => {
  const md =
    "---\ntitle: 'It''s a title' # note\nabstract: |\n  Line one.\n  Line two.\nbibliography:\n- a.bib # mine\n- b.json\n---\n";
  assert.deepEqual(frontMatterStrings(md, 'bibliography'), ['a.bib', 'b.json']);
  const t = manuscriptText(md, 'pandoc')!;
  assert.equal(t.title, "It's a title");
  assert.equal(t.abstract, 'Line one.\nLine two.');
  assert.equal(t.text, "It's a title. Line one. Line two.");
  assert.equal(frontMatterSetIfAbsent(md, 'bibliography', 'references.bib'), undefined, 'present: no edit');
  const e = frontMatterSetIfAbsent('---\ntitle: x\n---\n', 'bibliography', 'references.bib')!;
  assert.equal(applyEdits('---\ntitle: x\n---\n', [e]), '---\ntitle: x\nbibliography: references.bib\n---\n');
});

test('title and abstract: real R Markdown (YAML title with emphasis, `## Abstract` section); the selection wins', () => {
  const rmd = fs.readFileSync(path.join(REAL_MANUSCRIPTS, 'rmd-topcuoglu-ml-crc', 'manuscript.Rmd'), 'utf8');
  const t = manuscriptText(rmd, 'pandoc')!;
  assert.equal(
    t.title,
    '**A framework for effective application of machine learning to microbiome-based classification problems**',
  );
  assert.equal(t.from, 'the title and abstract');
  assert.match(
    t.text,
    /^A framework for effective application of machine learning to microbiome-based classification problems\. /,
  );
  assert.match(t.abstract ?? '', /colorectal cancer/);
  assert.doesNotMatch(t.abstract ?? '', /## Importance/, 'the section ends at the next heading');
  assert.deepEqual(manuscriptText(rmd, 'pandoc', { selection: '  Screening for **colorectal** cancer ' }), {
    from: 'the selection',
    text: 'Screening for colorectal cancer',
  });
  assert.equal(manuscriptText('Just text.', 'plain'), undefined);
  // Manubot: the title from metadata.yaml
  const meta = fs.readFileSync(path.join(REAL_MANUSCRIPTS, 'manubot-openpbta', 'content', 'metadata.yaml'), 'utf8');
  assert.equal(
    manuscriptText('## Summary\n\nText.', 'manubot', { metadataYaml: meta })?.title,
    'OpenPBTA: An Open Pediatric Brain Tumor Atlas',
  );
  assert.ok(manuscriptKeywords('', 'manubot', meta).includes('tumor atlas'));
});

test('LaTeX title and abstract: \\title[short]{…} with nested braces, the abstract environment, comments ignored', () => {
  const tex = [
    '\\documentclass{article}',
    '% \\title{Not this one}',
    '\\title[Statins]{Statin use and {\\em hepatocellular} carcinoma\\\\ a cohort}',
    '\\begin{document}',
    '\\begin{abstract}',
    'Statins may lower the risk of hepatocellular carcinoma \\cite{x}. % a note',
    '\\end{abstract}',
  ].join('\n');
  assert.equal(latexTitle(tex), 'Statin use and hepatocellular carcinoma a cohort');
  assert.equal(latexAbstract(tex), 'Statins may lower the risk of hepatocellular carcinoma.');
  assert.equal(
    manuscriptText(tex, 'latex')?.text,
    'Statin use and hepatocellular carcinoma a cohort. Statins may lower the risk of hepatocellular carcinoma.',
  );
});

function addTex(tex: string, terms: string[]): string {
  const r = latexKeywordEdit(tex, terms);
  assert.ok(r, 'a keyword field');
  return applyEdits(tex, r.edit ? [r.edit] : []);
}

test('LaTeX keyword fields in the journal styles: \\keywords{} (comma, \\and, ;), elsarticle \\sep, \\kwd{}, IEEEkeywords', () => {
  // amsart/OUP: comma-separated; a name holding a comma is braced so it stays one keyword
  assert.equal(addTex('\\keywords{statins}\nText', [HCC]), '\\keywords{statins, {Carcinoma, Hepatocellular}}\nText');
  assert.deepEqual(latexKeywordField('\\keywords{statins, {Carcinoma, Hepatocellular}}')?.items, ['statins', HCC]);
  assert.equal(addTex('\\keywords{}', ['Liver', 'Statins']), '\\keywords{Liver, Statins}');
  // Springer (llncs, svjour): \and
  assert.equal(
    addTex('\\keywords{Statins \\and Liver}', [HCC]),
    '\\keywords{Statins \\and Liver \\and Carcinoma, Hepatocellular}',
  );
  // MDPI: \keyword{a; b}
  assert.equal(addTex('\\keyword{statins; liver}', [HCC]), '\\keyword{statins; liver; Carcinoma, Hepatocellular}');
  // elsarticle: \begin{keyword} a \sep b \end{keyword}, also when empty
  const els = '\\begin{keyword}\nstatins \\sep liver\n\\end{keyword}';
  assert.equal(
    addTex(els, [HCC]),
    '\\begin{keyword}\nstatins \\sep liver \\sep Carcinoma, Hepatocellular\n\\end{keyword}',
  );
  assert.equal(
    addTex('\\begin{keyword}\n\\end{keyword}', [HCC, 'Liver']),
    '\\begin{keyword}\nCarcinoma, Hepatocellular \\sep Liver\n\\end{keyword}',
  );
  // comment lines at the end of the field stay after the new item
  assert.equal(
    addTex('\\begin{keyword}\nstatins \\sep cohort\n% MeSH headings below\n\\end{keyword}', [HCC]),
    '\\begin{keyword}\nstatins \\sep cohort \\sep Carcinoma, Hepatocellular\n% MeSH headings below\n\\end{keyword}',
  );
  // BMC / imsart: \kwd{} items
  const bmc = '\\begin{keyword}\n\\kwd{statins}\n\\kwd{liver}\n\\end{keyword}';
  assert.equal(
    addTex(bmc, [HCC]),
    '\\begin{keyword}\n\\kwd{statins}\n\\kwd{liver}\n\\kwd{Carcinoma, Hepatocellular}\n\\end{keyword}',
  );
  // IEEE
  assert.equal(
    addTex('\\begin{IEEEkeywords}\nstatins, liver\n\\end{IEEEkeywords}', ['Liver', HCC]),
    '\\begin{IEEEkeywords}\nstatins, liver, {Carcinoma, Hepatocellular}\n\\end{IEEEkeywords}',
  );
  // a commented-out template line is not the field; special characters are escaped; present terms are skipped
  assert.equal(latexKeywordField('% \\keywords{one, two}\nText'), undefined);
  assert.equal(addTex('% \\keywords{x}\n\\keywords{a}', ['R&D 100%']), '% \\keywords{x}\n\\keywords{a, R\\&D 100\\%}');
  assert.deepEqual(latexKeywordEdit('\\keywords{Statins}', ['statins'])?.present, ['statins']);
});

test('keywordEdits: where each kind of document gets them', () => {
  const tex = '\\title{T}\n\\keywords{a}\n';
  assert.equal(keywordEdits(tex, 'latex', 0, ['b']).where, '\\keywords{}');
  assert.equal(keywordEdits('\\begin{keyword}a\\end{keyword}', 'latex', 0, ['b']).where, '\\begin{keyword}');
  // LaTeX without a field, plain text: at the cursor
  const none = keywordEdits('Text', 'latex', 2, ['a', 'b']);
  assert.deepEqual([none.where, applyEdits('Text', none.edits)], ['the cursor', 'Tea, bxt']);
  assert.equal(applyEdits('Notes', keywordEdits('Notes', 'plain', 5, [' a', 'b']).edits), 'Notesa; b');
  // Manubot: metadata.yaml, never a front matter made in content/*.md
  const m = keywordEdits('## Intro\n', 'manubot', 0, ['x'], { metadataYaml: 'title: T\nkeywords:\n- a\n' });
  assert.deepEqual([m.edits, m.where], [[], 'metadata.yaml keywords:']);
  assert.equal(applyEdits('title: T\nkeywords:\n- a\n', m.metadataEdits!), 'title: T\nkeywords:\n- a\n- x\n');
  assert.equal(keywordEdits('## Intro\n', 'manubot', 0, ['x']).where, 'the cursor');
  assert.equal(keywordEdits('---\nkeywords: [a]\n---\n', 'pandoc', 0, ['b']).where, 'the YAML keywords:');
});

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;

test('real clients read the inserted keywords: pandoc sees two YAML keywords, amsart typesets \\keywords{} as two', (t) => {
  if (!has('pandoc')) return t.skip('pandoc is not installed (apt-get install pandoc)');
  const md = '---\ntitle: Statins # working title\nkeywords: [statins] # MeSH\n---\n\nBody.\n';
  const out = addYaml(md, [HCC]);
  const ast = spawnSync('pandoc', ['-f', 'markdown', '-t', 'json'], { input: out, encoding: 'utf8' });
  assert.equal(ast.status, 0, ast.stderr);
  const kw = JSON.parse(ast.stdout).meta.keywords as { t: string; c: unknown[] };
  assert.equal(kw.t, 'MetaList');
  assert.equal(kw.c.length, 2, 'pandoc reads two keywords');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-kw-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'kw.template'), '$for(keywords)$[$keywords$]$endfor$\n');
  const listed = spawnSync('pandoc', ['-f', 'markdown', '-t', 'plain', '--template', path.join(dir, 'kw.template')], {
    input: out,
    encoding: 'utf8',
  });
  assert.equal(listed.stdout.trim(), '[statins][Carcinoma, Hepatocellular]');
});

test('real clients: pdflatex typesets the edited amsart \\keywords{} (text checked with pdftotext when present)', (t) => {
  if (!has('pdflatex') || spawnSync('kpsewhich', ['amsart.cls']).status !== 0)
    return t.skip('pdflatex with amsart.cls is not installed (apt-get install texlive-latex-base)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-kw-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tex =
    '\\documentclass{amsart}\n\\title{Statins}\n\\keywords{statins}\n\\begin{document}\n\\maketitle\nText.\n\\end{document}\n';
  fs.writeFileSync(path.join(dir, 'paper.tex'), addTex(tex, [HCC, 'R&D']));
  const r = spawnSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'paper.tex'], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stdout.slice(-2000));
  assert.ok(fs.statSync(path.join(dir, 'paper.pdf')).size > 1000);
  if (!has('pdftotext')) return t.diagnostic('pdftotext not installed: the PDF text was not read');
  const txt = spawnSync('pdftotext', ['paper.pdf', '-'], { cwd: dir, encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
  assert.match(txt, /Key words and phrases\. statins, Carcinoma, Hepatocellular, R&D\./);
});

test('the keyword picker MeSH for a title and abstract: ranked headings with breadcrumbs, from the text alone without an index', async () => {
  const { Engine } = await import('../../src/app/engine');
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const none = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-kw-engine-'));
  const engine = new Engine(
    { modelDir: '', indexDir: path.join(none, 'index'), device: 'cpu', threads: 1, queryPrefix: true },
    quiet,
  );
  try {
    const t = manuscriptText(
      '---\ntitle: Statin use and the risk of hepatocellular carcinoma\nabstract: |\n  Statins may lower the risk of hepatocellular carcinoma in adults with chronic liver disease.\n---\n',
      'pandoc',
    )!;
    const r = await engine.meshForText(t.text, { max: 25, cutoff: 0.12 });
    assert.match(r.note ?? '', /no index/);
    const hcc = r.mesh.find((m) => m.name === HCC);
    assert.ok(hcc, r.mesh.map((m) => m.name).join(', '));
    assert.match(hcc.breadcrumbs[0] ?? '', /^Diseases › Neoplasms › .* › Carcinoma, Hepatocellular$/);
    const scores = r.mesh.map((m) => m.score);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      'ranked',
    );
    assert.ok(scores.every((s) => s >= 0.12));
  } finally {
    await engine.dispose();
    fs.rmSync(none, { recursive: true, force: true });
  }
});
