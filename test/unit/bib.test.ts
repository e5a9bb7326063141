// Bibliography files: detection from LaTeX / YAML front matter, parsing real .bib files, finding a paper that is
// already there (PMID or DOI, Better BibTeX keys), BibTeX and CSL-JSON generation that reads back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseBibtex, entryPmid, toBibtex, bibPages } from '../../src/cite/bibtex';
import { toCslItem, parseCslJson, appendCslItem } from '../../src/cite/csljson';
import { findExistingKey, findExistingCslKey } from '../../src/cite/match';
import { loadTexEncoder } from '../../src/cite/texencode';
import {
  latexBibliography,
  yamlBibliography,
  docKind,
  looksManubot,
  frontMatter,
  bibFormat,
} from '../../src/cite/detect';
import type { PaperMeta } from '../../src/cite/paper';
import { REAL_MANUSCRIPTS } from '../fixtures/paths';

const MANUSCRIPTS = REAL_MANUSCRIPTS;
const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'manuscripts');

const hostile: PaperMeta = {
  pmid: '31000001',
  title: 'Gut <img src=x onerror=alert(1)> & {braces} 100% _under_ $x$ #1 ~ ^.',
  authors: ["O'Brien K", 'Ödegaard-Ñúñez MJ', 'CRC Study Group'],
  journal: 'J Clin Oncol',
  year: 2019,
  doi: '10.1200/JCO.2019.1',
};

test('LaTeX bibliography detection: \\bibliography (with .bib added, comma lists), \\addbibresource, comments ignored', () => {
  const tex =
    '% \\bibliography{commented}\n\\addbibresource[location=local]{refs/main.bib}\n\\bibliography{a, b.bib}\n';
  assert.deepEqual(latexBibliography(tex), ['a.bib', 'b.bib', 'refs/main.bib']);
  assert.deepEqual(latexBibliography('no bibliography here'), []);
});

test('YAML front matter bibliography: scalar, quoted, flow and block lists; only in front matter', () => {
  assert.deepEqual(yamlBibliography('---\ntitle: x\nbibliography: references.bib\n---\n'), ['references.bib']);
  assert.deepEqual(yamlBibliography('---\nbibliography: "my refs.json"\n---\n'), ['my refs.json']);
  assert.deepEqual(yamlBibliography("---\nbibliography: [a.bib, 'b.json']\n---\n"), ['a.bib', 'b.json']);
  assert.deepEqual(
    yamlBibliography('---\nbibliography:\n- refs.bib\n- more.json\ntitle: x\n---\n'),
    ['refs.bib', 'more.json'],
    'unindented list items',
  );
  assert.deepEqual(yamlBibliography('---\nbibliography:\n  - a.bib\n  - b.bib\nlink-citations: true\n---\n'), [
    'a.bib',
    'b.bib',
  ]);
  assert.deepEqual(yamlBibliography('# Title\n\nbibliography: nope.bib\n'), []);
  assert.equal(frontMatter('no front matter'), undefined);
  const rmd = fs.readFileSync(path.join(MANUSCRIPTS, 'rmd-topcuoglu-ml-crc', 'manuscript.Rmd'), 'utf8');
  assert.deepEqual(yamlBibliography(rmd), ['references.bib']);
  assert.equal(bibFormat('x.bib'), 'bibtex');
  assert.equal(bibFormat('x.json'), 'csl-json');
  assert.equal(bibFormat('x.yaml'), 'unsupported');
});

test('document kinds on real manuscripts: R Markdown → pandoc, Manubot content → manubot, .tex → latex', () => {
  const rmdFile = path.join(MANUSCRIPTS, 'rmd-topcuoglu-ml-crc', 'manuscript.Rmd');
  assert.equal(docKind('rmd', rmdFile, fs.readFileSync(rmdFile, 'utf8')), 'pandoc');
  const intro = path.join(MANUSCRIPTS, 'manubot-openpbta', 'content', '02.introduction.md');
  assert.equal(looksManubot(intro, fs.readFileSync(intro, 'utf8')), true);
  assert.equal(docKind('markdown', intro, fs.readFileSync(intro, 'utf8')), 'manubot');
  assert.equal(docKind('latex', '/x/paper.tex', ''), 'latex');
  assert.equal(docKind('plaintext', '/x/notes.txt', 'text'), 'plain');
  assert.equal(docKind('markdown', '/x/README.md', '---\nbibliography: r.bib\n---\n[@a]'), 'pandoc');
});

test('parses the real mixed .bib of the R Markdown paper (Zotero/Better BibTeX and doi2bib entries)', () => {
  const text = fs.readFileSync(path.join(MANUSCRIPTS, 'rmd-topcuoglu-ml-crc', 'references.bib'), 'utf8');
  const entries = parseBibtex(text);
  const atCount = (text.match(/^\s*@(?!comment|string|preamble)\w+\s*\{/gim) ?? []).length;
  assert.equal(entries.length, atCount);
  const schloss = entries.find((e) => e.key === 'Schloss2009');
  assert.ok(schloss);
  assert.equal(schloss.fields['doi'], '10.1128/aem.01541-09');
  assert.match(schloss.fields['title'] ?? '', /^Introducing mothur/);
  // every key the manuscript cites with [@key] is found in the file
  const rmd = fs.readFileSync(path.join(MANUSCRIPTS, 'rmd-topcuoglu-ml-crc', 'manuscript.Rmd'), 'utf8');
  const cited = new Set([...rmd.matchAll(/\[@([^\];\s]+)/g)].map((m) => m[1]));
  const keys = new Set(entries.map((e) => e.key));
  const missing = [...cited].filter((k) => k && !keys.has(k));
  assert.ok(missing.length <= 2, `keys cited but not parsed: ${missing.join(', ')}`);
  // same DOI (any case, resolver prefix) → the existing key
  assert.equal(findExistingKey(entries, { pmid: '', doi: 'https://doi.org/10.1128/AEM.01541-09' }), 'Schloss2009');
});

test('an existing Better BibTeX entry is found by PMID in pmid / extra / eprint / PubMed URL fields', () => {
  const bib = fs.readFileSync(path.join(FIXTURES, 'tex', 'references.bib'), 'utf8');
  const entries = parseBibtex(bib);
  const bbt = entries.find((e) => /^[a-z]+[A-Z]\w*\d{4}$/.test(e.key));
  assert.ok(bbt, 'fixture holds a Better BibTeX-style key');
  const pmid = entryPmid(bbt.fields);
  assert.ok(pmid);
  assert.equal(findExistingKey(entries, { pmid, doi: undefined }), bbt.key);
  assert.equal(entryPmid({ extra: 'Citation Key: x\nPMID: 123456' }), '123456');
  assert.equal(entryPmid({ eprint: '777', eprinttype: 'pubmed' }), '777');
  assert.equal(entryPmid({ url: 'https://pubmed.ncbi.nlm.nih.gov/888/' }), '888');
  assert.equal(entryPmid({ note: 'no id' }), undefined);
  assert.equal(findExistingKey(entries, { pmid: '1', doi: '10.9999/none' }), undefined);
});

test('BibTeX generation escapes LaTeX specials and reads back (hostile title); all ArticleInfo fields carried', async () => {
  const encoder = await loadTexEncoder();
  const full: PaperMeta = { ...hostile, month: 3, volume: '37', issue: '4', pages: '1112-21', issn: '0732-183X' };
  for (const encoding of ['latex', 'utf8'] as const) {
    const bib = toBibtex(full, 'obrien2019gut', { encoder, encoding }).text;
    assert.match(bib, /^@article\{obrien2019gut,\n/);
    assert.match(bib, /\\& \\?\{?(\\textbraceleft )?braces/);
    assert.match(bib, /100\\% \\_under\\_ \\\$x\\\$ \\#1/);
    assert.match(bib, /\{\$<\$\}img src=x onerror=alert\(1\)\{\$>\$\}/, 'angle brackets as math, never raw HTML');
    const [e] = parseBibtex(`% header\n${bib}\n@string{x = "y"}`);
    assert.ok(e);
    assert.equal(e.key, 'obrien2019gut');
    assert.equal(e.fields['pmid'], '31000001');
    assert.equal(e.fields['doi'], '10.1200/jco.2019.1');
    assert.equal(e.fields['volume'], '37');
    assert.equal(e.fields['number'], '4');
    assert.equal(e.fields['pages'], '1112--1121', 'MEDLINE page range written out');
    assert.equal(e.fields['month'], 'mar', 'month as the BibTeX macro');
    assert.equal(e.fields['issn'], '0732-183X');
    assert.equal(findExistingKey(parseBibtex(bib), hostile), 'obrien2019gut');
    if (encoding === 'utf8')
      assert.match(e.fields['author'] ?? '', /^O'Brien, K\. and Ödegaard-Ñúñez, M\. J\. and \{CRC Study Group\}$/);
    else
      assert.match(
        e.fields['author'] ?? '',
        /^O'Brien, K\. and \{\\"O\}degaard-\{\\~N\}\{\\'u\}\{\\~n\}ez, M\. J\. and \{CRC Study Group\}$/,
      );
  }
  // classic BibTeX typesets the DOI (plainnat): LaTeX's specials escaped there, verbatim for biblatex
  assert.match(
    toBibtex({ ...full, doi: '10.1000/a_b%c' }, 'k', { encoder, encoding: 'latex' }).text,
    /doi = \{10\.1000\/a\\_b\\%c\}/,
  );
  assert.match(
    toBibtex({ ...full, doi: '10.1000/a_b%c' }, 'k', { encoder, encoding: 'utf8', dialect: 'biblatex' }).text,
    /doi = \{10\.1000\/a_b%c\}/,
  );
  assert.equal(bibPages('e0173548'), 'e0173548');
  assert.equal(bibPages('S1-9'), 'S1--S9');
  assert.equal(bibPages('100-110'), '100--110');
  // a paper without the optional fields writes none of them
  const bare = toBibtex({ pmid: '1', title: 'T', authors: [], journal: '' }, 'k', { encoder, encoding: 'latex' }).text;
  assert.equal(bare, '@article{k,\n  title = {{T}},\n  pmid = {1}\n}\n');
});

test('CSL-JSON: item generation, parsing, existing paper by PMID/DOI, append keeps the rest', () => {
  const item = toCslItem(hostile, 'k1');
  assert.equal(item.PMID, '31000001');
  assert.deepEqual(item.author?.[0], { family: "O'Brien", given: 'K.' });
  assert.deepEqual(item.issued, { 'date-parts': [[2019]] });
  const full = toCslItem({ ...hostile, month: 3, volume: '37', issue: '4', pages: '1112-21', issn: '0732-183X' }, 'k2');
  assert.deepEqual(full.issued, { 'date-parts': [[2019, 3]] });
  assert.equal(full.volume, '37');
  assert.equal(full.issue, '4');
  assert.equal(full.page, '1112-21');
  assert.equal(full.ISSN, '0732-183X');
  const existing = JSON.stringify([{ id: 'old', type: 'article-journal', DOI: '10.1200/JCO.2019.1' }], null, 4);
  const items = parseCslJson(existing);
  assert.equal(findExistingCslKey(items, hostile), 'old');
  const appended = appendCslItem(existing, item);
  assert.equal(parseCslJson(appended).length, 2);
  assert.match(appended, /\n {4}\{/);
  assert.equal(parseCslJson(appendCslItem('', item)).length, 1);
  assert.throws(() => parseCslJson('{not json', 'refs.json'), /refs\.json: not valid JSON/);
  const manubot = fs.readFileSync(
    path.join(MANUSCRIPTS, 'manubot-openpbta', 'content', 'manual-references.json'),
    'utf8',
  );
  assert.ok(parseCslJson(manubot).length > 0);
});

test('one unbalanced BibTeX entry does not hide the entries after it', () => {
  const bib =
    '@article{broken, title={unbalanced}\n\n@article{smith2020diabetes,\n  title={Diabetes},\n  pmid={123}\n}\n';
  const entries = parseBibtex(bib);
  assert.deepEqual(
    entries.map((e) => e.key),
    ['smith2020diabetes'],
  );
  assert.equal(findExistingKey(entries, { pmid: '123', doi: undefined }), 'smith2020diabetes');
});

test('front matter: the body starts after the opening fence, also when it is empty', () => {
  const empty = '---\n\n---\ntext';
  const fm = frontMatter(empty)!;
  assert.equal(fm.body, '');
  assert.equal(fm.bodyStart, 4);
  const filled = '---\ntitle: x\n---\n';
  const f2 = frontMatter(filled)!;
  assert.equal(filled.slice(f2.bodyStart, f2.bodyStart + f2.body.length), 'title: x');
});
