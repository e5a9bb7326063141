// Citation logic on real manuscripts (src/cite, no VS Code): a citation inserted next to an existing one joins its
// group in every syntax and never duplicates a key; Manubot ids are reused from what the OpenPBTA manuscript already
// knows; the key style of the Topçuoğlu .bib (Zotero) is inferred and followed; LaTeX encoding for classic BibTeX vs
// UTF-8 for biber/xelatex; papers matched by PMID, DOI, and title + year (a BibDesk file without identifiers). The
// papers are real PubMed records read from data/demo with the project's reader.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REAL_MANUSCRIPTS, ROOT } from '../fixtures/paths';
import { readCitations } from '../../src/index/readers';
import { paperMeta, type PaperMeta } from '../../src/cite/paper';
import { planCitation, decideKey, bibRecords, entryLacks, type BibSource, type CiteContext } from '../../src/cite/plan';
import { applyEdits } from '../../src/cite/syntax/common';
import { latexToolchain, latexCites, documentCiteCommand } from '../../src/cite/syntax/latex';
import { pandocGroups } from '../../src/cite/syntax/pandoc';
import {
  manubotCatalog,
  readManubotSources,
  manubotIdFor,
  idIdentity,
  citekeyAliases,
} from '../../src/cite/syntax/manubot';
import { plainCitation } from '../../src/cite/syntax/plain';
import { inferKeyStyle, makeCiteKey, KEY_STYLES } from '../../src/cite/citekey';
import { parseBibtex, toBibtex } from '../../src/cite/bibtex';
import { recordsFromBibtex, findRecord } from '../../src/cite/match';
import { loadTexEncoder } from '../../src/cite/texencode';

const RMD_DIR = path.join(REAL_MANUSCRIPTS, 'rmd-topcuoglu-ml-crc');
const MANUBOT = path.join(REAL_MANUSCRIPTS, 'manubot-openpbta');
const LATEX = path.join(ROOT, 'test', 'fixtures', 'latex');
const read = (p: string): string => fs.readFileSync(p, 'utf8');

/** Real PubMed records from the demo corpus, by PMID. */
const papers = new Map<string, PaperMeta>();
before(async () => {
  const want = new Set(['25359777', '24842892', '26209829', '25901762']);
  for await (const ev of readCitations(path.join(ROOT, 'data', 'demo', 'medline16n0902.xml.gz'))) {
    if (ev.type === 'citation' && want.has(ev.citation.pmid)) papers.set(ev.citation.pmid, paperMeta(ev.citation));
  }
  assert.equal(papers.size, want.size, 'the demo corpus holds the papers these tests cite');
});
const P = (pmid: string): PaperMeta => papers.get(pmid)!;

/** Offsets of `sentence` in `text` and of the citation that ends it (the selection stops before the citation). */
function sentenceBefore(text: string, startsWith: string, cite: string): [number, number] {
  const s = text.indexOf(startsWith);
  assert.ok(s >= 0, `sentence "${startsWith}" in the fixture`);
  const c = text.indexOf(cite, s);
  assert.ok(c > s, `citation ${cite} after it`);
  return [s, c];
}

function bib(file: string, format: 'bibtex' | 'csl-json' = 'bibtex'): BibSource {
  return { path: file, format, text: read(file) };
}

test('R Markdown (Topçuoğlu): a citation next to [@segata_metagenomic_2011]. joins it; the same paper again changes nothing', async () => {
  const text = read(path.join(RMD_DIR, 'manuscript.Rmd'));
  const bibs = [bib(path.join(RMD_DIR, 'references.bib'))];
  const [a, b] = sentenceBefore(
    text,
    'Traditional statistical approaches do not adequately',
    '[@segata_metagenomic_2011]',
  );
  const ctx: CiteContext = { kind: 'pandoc', text, selStart: a, selEnd: b, bibs };
  const plan = await planCitation(P('25359777'), ctx);
  const out = applyEdits(text, plan.docEdits);
  assert.equal(plan.key, 'little_structural_2014', "a Zotero-style key like the file's own");
  assert.ok(
    out.includes('separately [@segata_metagenomic_2011; @little_structural_2014]. Recently'),
    'joined the group, before the full stop',
  );
  assert.equal(plan.docEdits.length, 1);
  // the cursor is right after the citation group, not a selection over it
  assert.equal(out.slice(plan.cursor - 1, plan.cursor + 2), ']. ');
  // the whole sentence selected, group and full stop included: the same group
  const whole = await planCitation(P('25359777'), { ...ctx, selEnd: b + '[@segata_metagenomic_2011].'.length });
  assert.deepEqual(whole.docEdits, plan.docEdits);
  // Segata's paper itself (in the .bib by DOI): its key, already in the group → nothing inserted, no new entry
  const segata: PaperMeta = {
    pmid: '21702898',
    title: 'Metagenomic biomarker discovery and explanation.',
    authors: ['Segata N', 'Izard J'],
    journal: 'Genome biology',
    year: 2011,
    doi: '10.1186/gb-2011-12-6-r60',
  };
  const again = await planCitation(segata, ctx);
  assert.equal(again.key, 'segata_metagenomic_2011');
  assert.equal(again.alreadyCited, true);
  assert.deepEqual(again.docEdits, []);
  assert.equal(again.bibEdit, undefined);
  assert.match(again.message, /Already cited here \[@segata_metagenomic_2011\] \(already in references\.bib\)/);
  // the writer's file has mothur twice (Schloss2009 from doi2bib, schloss_introducing_2009 from Zotero): the key the
  // text cites is used, so the paper is not cited under a second key; next to its own group nothing is added
  const mothur: PaperMeta = {
    pmid: '19801464',
    title:
      'Introducing mothur: open-source, platform-independent, community-supported software for describing and comparing microbial communities.',
    authors: ['Schloss PD'],
    journal: 'Applied and environmental microbiology',
    year: 2009,
    doi: '10.1128/AEM.01541-09',
  };
  const [m1, m2] = sentenceBefore(
    text,
    'who processed the 16S rRNA sequences in mothur',
    '[@schloss_introducing_2009;',
  );
  const m = await planCitation(mothur, { ...ctx, selStart: m1, selEnd: m2 });
  assert.equal(m.key, 'schloss_introducing_2009');
  assert.equal(m.alreadyCited, true);
  const elsewhere = await planCitation(mothur, ctx);
  assert.equal(
    elsewhere.key,
    'schloss_introducing_2009',
    'the key the manuscript cites, not the first of the two entries',
  );
  // inserting next to the long multi-key group: appended once, the group's separator style kept
  const [c, d] = sentenceBefore(text, 'This dataset was selected because', '[@baxter_microbiota-based_2016;');
  const joined = applyEdits(text, (await planCitation(P('25359777'), { ...ctx, selStart: c, selEnd: d })).docEdits);
  const group = pandocGroups(joined).find((g) => g.keys.includes('little_structural_2014'));
  assert.deepEqual(group?.keys, [
    'baxter_microbiota-based_2016',
    'baxter_dna_2016',
    'zeller_potential_2014',
    'knights_human-associated_2011',
    'little_structural_2014',
  ]);
});

test("key style: the Topçuoğlu .bib is Zotero's author_title_year; keyPattern wins; keys stay unique", async () => {
  const records = bibRecords([bib(path.join(RMD_DIR, 'references.bib'))]);
  const style = inferKeyStyle(records);
  assert.equal(style?.style.name, 'zotero');
  assert.ok(style && style.matched >= 35 && style.matched <= style.of, `${style?.matched} of ${style?.of}`);
  const rembold: PaperMeta = {
    pmid: '9685274',
    title: 'Number needed to screen: development of a statistic for disease screening.',
    authors: ['Rembold CM'],
    journal: 'BMJ',
    year: 1998,
  };
  assert.equal(
    makeCiteKey(
      rembold,
      records.map((r) => r.key),
      { style: style?.style },
    ),
    'rembold_number_1998',
  );
  assert.equal(
    makeCiteKey(rembold, ['rembold_number_1998'], { style: style?.style }),
    'rembold_number_1998-1',
    "Zotero's own duplicate suffix",
  );
  assert.equal(
    makeCiteKey(rembold, [], { pattern: '[auth:lower][year][title:lower]', style: style?.style }),
    'rembold1998number',
    'the setting wins',
  );
  // Better BibTeX (the tex fixture), BibDesk and AuthorYear files
  const bbt = inferKeyStyle(
    bibRecords([bib(path.join(ROOT, 'test', 'fixtures', 'manuscripts', 'tex', 'references.bib'))]),
  );
  assert.equal(bbt?.style.name, 'betterbibtex');
  assert.equal(makeCiteKey(P('25359777'), [], { style: bbt?.style }), 'littleStructuralBasisDenacetylation2014');
  const bibdesk = inferKeyStyle(bibRecords([bib(path.join(LATEX, 'biblatex', 'references.bib'))]));
  assert.equal(bibdesk?.style.label, 'BibDesk (Author:Year)');
  assert.equal(makeCiteKey(P('25359777'), ['Little:2014aa'], { style: bibdesk?.style }), 'Little:2014ab');
  const jabref = inferKeyStyle(bibRecords([bib(path.join(LATEX, 'bibtex', 'references.bib'))]));
  assert.equal(jabref?.style.name, 'authoryear-as-is');
  assert.equal(makeCiteKey(P('25359777'), ['Little2014'], { style: jabref?.style }), 'Little2014a');
  // no recognisable style: the fallback pattern
  assert.equal(
    inferKeyStyle(
      recordsFromBibtex(
        parseBibtex(
          '@article{existing2016, author={Doe, Jane}, title={An older paper}, year={2016}}\n@article{x1, author={Roe, R.}, title={Another}, year={2001}}',
        ),
      ),
    ),
    undefined,
  );
  assert.ok(KEY_STYLES.length > 5);
});

test('Manubot (OpenPBTA): PMID 25627000 is cited as [@doi:10.1002/cam4.410], as the manuscript does, and joins that group', async () => {
  const file = path.join(MANUBOT, 'content', '02.introduction.md');
  const text = read(file);
  const catalog = manubotCatalog(readManubotSources(file));
  // the paper by PMID only (as PubMed gives it, no DOI): found through output/references.json + citations.tsv
  const blank: PaperMeta = {
    pmid: '25627000',
    title:
      'Years of life lived with disease and years of potential life lost in children who die of cancer in the United States, 2009.',
    authors: ['Blank PM'],
    journal: 'Cancer medicine',
    year: 2015,
  };
  const id = manubotIdFor(catalog, blank);
  assert.equal(id.id, 'doi:10.1002/cam4.410');
  assert.equal(id.match?.by, 'pmid');
  const [a, b] = sentenceBefore(text, 'Recent estimates suggest that children', '[@doi:10.1002/cam4.410]');
  const ctx: CiteContext = { kind: 'manubot', text, selStart: a, selEnd: b, manubot: catalog };
  const same = await planCitation(blank, ctx);
  assert.equal(same.alreadyCited, true, 'the same paper next to its own citation: nothing added');
  assert.deepEqual(same.docEdits, []);
  const fresh = await planCitation(P('25359777'), ctx);
  assert.equal(
    applyEdits(text, fresh.docEdits).includes('47,631 years of life [@doi:10.1002/cam4.410; @pubmed:25359777].'),
    true,
  );
  // ids from manual-references.json (pubmed:26389418), DOI-only matches, and title + year
  assert.equal(manubotIdFor(catalog, { pmid: '26389418', title: '', doi: undefined }).id, 'pubmed:26389418');
  assert.equal(
    manubotIdFor(catalog, { pmid: '', title: '', doi: '10.1093/NEUONC/NOZ150' }).id,
    'doi:10.1093/neuonc/noz150',
  );
  assert.equal(
    manubotIdFor(catalog, {
      pmid: '',
      title:
        'Years of life lived with disease and years of potential life lost in children who die of cancer in the United States, 2009',
      year: 2015,
    }).match?.by,
    'title',
  );
  // a paper the manuscript does not know: pubmed:PMID (or doi: when asked)
  assert.equal(manubotIdFor(catalog, P('25359777')).id, 'pubmed:25359777');
  assert.equal(manubotIdFor(catalog, P('25359777'), 'doi').id, 'doi:10.1074/jbc.m114.611400');
  // tags and aliases
  assert.deepEqual(idIdentity('url:https://doi.org/10.1098/rsif.2017.0387'), { doi: '10.1098/rsif.2017.0387' });
  assert.deepEqual(idIdentity('https://pubmed.ncbi.nlm.nih.gov/123/'), { pmid: '123' });
  assert.deepEqual(
    [
      ...citekeyAliases(
        'title: x\ncitekey-aliases:\n  tag:deep-review: doi:10.1098/rsif.2017.0387\n  meta: pubmed:5\nlang: en\n',
      ),
    ],
    [
      ['tag:deep-review', 'doi:10.1098/rsif.2017.0387'],
      ['meta', 'pubmed:5'],
    ],
  );
  const tagged = manubotCatalog({
    texts: ['Deep learning [@tag:deep-review].\n\n[@tag:other]: pubmed:25359777\n'],
    metadata: 'citekey-aliases:\n  tag:deep-review: doi:10.1098/rsif.2017.0387\n',
  });
  assert.equal(manubotIdFor(tagged, { pmid: '', doi: '10.1098/RSIF.2017.0387', title: '' }).id, 'tag:deep-review');
  assert.equal(manubotIdFor(tagged, P('25359777')).id, 'tag:other', 'a link-reference tag definition');
  // cross-references are not citation groups
  assert.equal(pandocGroups('See {@fig:x} and [@fig:y] and [@doi:10.1/x].').length, 2);
  assert.equal(pandocGroups('See [@fig:y] here').find((g) => g.keys[0] === 'fig:y')?.joinable, false);
});

test('LaTeX: \\cite{Rembold1998, Deo2014}. joins; biblatex + BibDesk (no identifiers): Deo et al. found by title and year', async () => {
  for (const [dir, cite] of [
    ['bibtex', '\\cite{Rembold1998, Deo2014}'],
    ['biblatex', '\\autocite{Rembold:1998qz}'],
  ] as const) {
    const tex = read(path.join(LATEX, dir, 'paper.tex'));
    const bibs = [bib(path.join(LATEX, dir, 'references.bib'))];
    const [a, b] = sentenceBefore(tex, 'The number needed to screen', cite);
    const ctx: CiteContext = {
      kind: 'latex',
      text: tex,
      selStart: a,
      selEnd: b,
      bibs,
      latex: latexToolchain(tex),
      citeCommand: '\\cite',
    };
    const plan = await planCitation(P('25359777'), ctx);
    const out = applyEdits(tex, plan.docEdits);
    const group = latexCites(out).find((g) => g.keys.includes(plan.key));
    assert.ok(group, `${dir}: the new key is in a \\cite group`);
    assert.equal(group.start, tex.indexOf(cite), `${dir}: joined the existing group`);
    assert.equal(new Set(group.keys).size, group.keys.length, 'no key twice');
    assert.match(out.slice(group.end, group.end + 1), /\./);
    if (dir === 'bibtex')
      assert.ok(out.includes(`\\cite{Rembold1998, Deo2014, ${plan.key}}.`), 'the group\'s ", " separator kept');
    // Deo et al. (in both .bib files; the BibDesk one has no DOI or PMID) → its key, already in the sentence's group
    if (dir === 'biblatex') {
      const [c, d] = sentenceBefore(tex, 'P-glycoprotein at the blood-brain barrier', '\\autocite{Deo:2014ab}');
      const deo = await planCitation(P('24842892'), { ...ctx, selStart: c, selEnd: d });
      assert.equal(deo.key, 'Deo:2014ab');
      assert.equal(deo.existing?.by, 'title');
      assert.equal(deo.alreadyCited, true);
      assert.equal(deo.bibEdit, undefined, 'no second entry for the same paper');
    } else {
      const deo = await planCitation(P('24842892'), ctx);
      assert.equal(deo.key, 'Deo2014');
      assert.equal(deo.alreadyCited, true);
    }
  }
});

test('LaTeX: a new citation uses the command the document uses; an entry a toolchain cannot read is said', async () => {
  const tex = read(path.join(LATEX, 'biblatex', 'paper.tex'));
  assert.equal(documentCiteCommand(tex), '\\autocite');
  assert.equal(documentCiteCommand('\\textcite{a} and \\citep{b}'), '\\citep', 'narrative commands do not count');
  assert.equal(documentCiteCommand('no citations'), undefined);
  const a = tex.indexOf('Bacterial');
  const plan = await planCitation(P('26209829'), {
    kind: 'latex',
    text: tex,
    selStart: a,
    selEnd: tex.indexOf('\n', a),
    bibs: [bib(path.join(LATEX, 'biblatex', 'references.bib'))],
    latex: latexToolchain(tex),
  });
  assert.ok(applyEdits(tex, plan.docEdits).includes('Gram-positive bacteria~\\autocite{Moreno:2015aa}.'));
  assert.equal(
    await planCitation(P('26209829'), {
      kind: 'latex',
      text: tex,
      selStart: a,
      selEnd: a + 9,
      bibs: [],
      latex: latexToolchain(tex),
      citeCommand: '\\parencite',
    }).catch((e: Error) => e.message),
    'no bibliography file',
  );
  // a Better BibTeX *biblatex* export (journaltitle, date) cited through classic BibTeX: its key is reused, and the message says what BibTeX will miss
  assert.deepEqual(entryLacks({ author: 'Lu, Yin', title: 'T', journaltitle: 'PLOS ONE', date: '2017' }, true), [
    'journal',
    'year',
  ]);
  assert.deepEqual(entryLacks({ author: 'Lu, Yin', title: 'T', journaltitle: 'PLOS ONE', date: '2017' }, false), []);
  const plain = read(path.join(LATEX, 'bibtex', 'paper.tex'));
  const bbl = {
    path: 'refs.bib',
    format: 'bibtex' as const,
    text: '@article{lu2017, author={Lu, Yin}, title={Characterization of the mechanism of drug-drug interactions from PubMed using MeSH terms}, journaltitle={PLOS ONE}, date={2017}, pmid={28422961}}',
  };
  const lu = await planCitation(
    { pmid: '28422961', title: 'x', authors: ['Lu Y'], journal: 'PLoS One', year: 2017 },
    { kind: 'latex', text: plain, selStart: 0, selEnd: 10, bibs: [bbl], latex: latexToolchain(plain) },
  );
  assert.match(lu.message, /the entry has no journal, year that BibTeX reads/);
});

test('plain text: a marker next to [1] joins it ([1, 2]); the same paper keeps its number', () => {
  const text =
    'Screening has a number needed to screen [1].\n\nReferences\n\n1. Rembold CM. Number needed to screen. BMJ. 1998. PMID: 9685274.\n';
  const sel = [0, text.indexOf(' [1]')] as const;
  const p = plainCitation(
    text,
    sel[0],
    sel[1],
    'Little DJ, et al. Structural basis. J Biol Chem. 2014. PMID: 25359777.',
    '25359777',
  );
  const out = applyEdits(text, [p.marker!, p.list!]);
  assert.match(out, /screen \[1, 2\]\.\n/);
  assert.match(out, /\n2\. Little DJ/);
  const same = plainCitation(
    text,
    sel[0],
    sel[1],
    'Rembold CM. Number needed to screen: development of a statistic. BMJ. 1998;317:307-12. PMID: 9685274.',
    '9685274',
  );
  assert.equal(same.marker, undefined, 'already in the group');
  assert.equal(same.list, undefined, 'already listed (same PMID)');
});

test('toolchain: bibtex + pdflatex → LaTeX-encoded; biber → UTF-8 Latin kept; xelatex/lualatex → UTF-8', async () => {
  const bibtexDoc = read(path.join(LATEX, 'bibtex', 'paper.tex'));
  const biblatexDoc = read(path.join(LATEX, 'biblatex', 'paper.tex'));
  assert.deepEqual(
    [latexToolchain(bibtexDoc).engine, latexToolchain(bibtexDoc).backend, latexToolchain(bibtexDoc).encoding],
    ['pdflatex', 'bibtex', 'latex'],
  );
  assert.deepEqual(
    [latexToolchain(biblatexDoc).backend, latexToolchain(biblatexDoc).dialect, latexToolchain(biblatexDoc).encoding],
    ['biber', 'biblatex', 'utf8-latin'],
  );
  assert.equal(latexToolchain(`% !TEX program = xelatex\n${bibtexDoc}`).encoding, 'utf8');
  assert.equal(latexToolchain(`% !TEX TS-program = lualatex\n${bibtexDoc}`).engine, 'lualatex');
  assert.equal(latexToolchain(bibtexDoc, '$pdf_mode = 5;\n').engine, 'xelatex');
  assert.equal(latexToolchain(bibtexDoc, "$pdflatex = 'lualatex %O %S';").engine, 'lualatex');
  assert.equal(
    latexToolchain(bibtexDoc.replace('\\begin{document}', '\\usepackage{fontspec}\n\\begin{document}')).encoding,
    'utf8',
  );
  assert.equal(latexToolchain(biblatexDoc.replace('backend=biber', 'backend=bibtex')).backend, 'bibtex');
  assert.equal(
    latexToolchain('% \\usepackage{fontspec}\n\\bibliography{x}').engine,
    'pdflatex',
    'a commented-out package does not count',
  );

  const encoder = await loadTexEncoder();
  const paper: PaperMeta = {
    ...P('26209829'),
    title: 'TNF-α & IL-1β: 100% of x_y < 5 in Müller glia (Topçuoğlu et al.)',
    authors: ['Núñez MJ', 'Topçuoğlu B', 'Díaz-García C'],
  };
  const latex = toBibtex(paper, 'k', { encoder, encoding: 'latex' }).text;
  assert.match(
    latex,
    /title = \{\{TNF-\{\$\\alpha\$\} \\& IL-1\{\$\\beta\$\}: 100\\% of x\\_y \{\$<\$\} 5 in M\\"uller glia \(Top\\c cuo\\u glu et al\.\)\}\}/,
  );
  assert.match(
    latex,
    /author = \{N\{\\'u\}\{\\~n\}ez, M\. J\. and Top\{\\c c\}uo\{\\u g\}lu, B\. and D\{\\'i\}az-Garc\{\\'i\}a, C\.\}/,
  );
  assert.ok(!/[^\x00-\x7f]/.test(latex), 'classic BibTeX + pdflatex: nothing but ASCII');
  const biber = toBibtex(paper, 'k', { encoder, encoding: 'utf8-latin', dialect: 'biblatex' }).text;
  assert.match(
    biber,
    /title = \{\{TNF-\{\$\\alpha\$\} \\& IL-1\{\$\\beta\$\}: 100\\% of x\\_y \{\$<\$\} 5 in Müller glia \(Topçuoğlu et al\.\)\}\}/,
    'Latin letters stay UTF-8, Greek does not (pdflatex has no glyph for it)',
  );
  assert.match(biber, /author = \{Núñez, M\. J\. and Topçuoğlu, B\. and Díaz-García, C\.\}/);
  const xe = toBibtex(paper, 'k', { encoder, encoding: 'utf8', dialect: 'biblatex' }).text;
  assert.match(
    xe,
    /title = \{\{TNF-α \\& IL-1β: 100\\% of x\\_y \{\$<\$\} 5 in Müller glia/,
    'xelatex/lualatex: UTF-8 kept, only specials escaped',
  );
  const cjk = toBibtex({ ...paper, title: '中文 β' }, 'k', { encoder, encoding: 'latex' });
  assert.deepEqual(cjk.unencodable, ['中', '文'], 'what cannot be encoded is reported, not dropped');
});

test('matching: PMID, then DOI, then normalised title + year; a same-titled paper with another PMID is another paper', () => {
  const records = recordsFromBibtex(parseBibtex(read(path.join(LATEX, 'biblatex', 'references.bib'))));
  const deo = P('24842892');
  assert.equal(findRecord(records, deo)?.record.key, 'Deo:2014ab');
  assert.equal(findRecord(records, deo)?.by, 'title');
  assert.equal(findRecord(records, { ...deo, year: 2013 }), undefined, 'the year must agree');
  const withIds = recordsFromBibtex(
    parseBibtex(
      '@article{a, title={Activity of P-glycoprotein, a beta-amyloid transporter}, year={2014}, pmid={1}}\n@article{b, doi={10.2967/JNUMED.113.130161}}',
    ),
  );
  assert.equal(findRecord(withIds, deo)?.record.key, 'b', 'DOI before title');
  assert.equal(
    findRecord(
      recordsFromBibtex(
        parseBibtex(
          '@article{c, title={Activity of {P}-glycoprotein, a $\\beta$-amyloid transporter at the blood-brain barrier, is compromised in patients with mild {A}lzheimer disease}, year={2014}, pmid={999}}',
        ),
      ),
      deo,
    ),
    undefined,
  );
  // the key decision: an existing entry keeps its key, a new one follows the file's style
  assert.equal(decideKey(deo, [bib(path.join(LATEX, 'biblatex', 'references.bib'))]).key, 'Deo:2014ab');
  assert.equal(decideKey(P('25359777'), [bib(path.join(LATEX, 'biblatex', 'references.bib'))]).key, 'Little:2014aa');
});
