// Citation readers on the real PubMed files in the repository and on small fixtures (incl. bad input).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCitations, detectFormat, expandInputs, countRecords } from '../../src/index/readers';
import type { Citation, ReaderEvent } from '../../src/index/citation';
import { abstractText } from '../../src/index/citation';
import { firstInvalidUtf8, firstMonth } from '../../src/index/readers/source';
import {
  normalizePmid,
  normalizeDoi,
  normalizePmcid,
  normalizeCitationKey,
  normalizeIssn,
  libraryRecordId,
  recordIdKind,
} from '../../src/index/ids';
import { DEMO_PUBMED, BIOPYTHON, MESH_SAMPLE } from '../fixtures/paths';

const SHARED = DEMO_PUBMED;
const FIX = join(__dirname, '../fixtures');

async function collect(
  file: string,
): Promise<{ cites: Citation[]; deletes: string[][]; rejects: Extract<ReaderEvent, { type: 'reject' }>[] }> {
  const cites: Citation[] = [];
  const deletes: string[][] = [];
  const rejects: Extract<ReaderEvent, { type: 'reject' }>[] = [];
  for await (const ev of readCitations(file)) {
    if (ev.type === 'citation') cites.push(ev.citation);
    else if (ev.type === 'delete') deletes.push(ev.pmids);
    else if (ev.type === 'reject') rejects.push(ev);
  }
  return { cites, deletes, rejects };
}
const byPmid = (cs: Citation[], pmid: string) => {
  const c = cs.find((x) => x.pmid === pmid);
  assert.ok(c, `PMID ${pmid} missing`);
  return c;
};

test('MedlineCitationSet .xml.gz: 604 citations, the DeleteCitation, fields of 17942999', async () => {
  const file = join(SHARED, 'medline16n0902.xml.gz');
  assert.equal(await detectFormat(file), 'pubmed-xml');
  const { cites, deletes, rejects } = await collect(file);
  assert.equal(cites.length, 604);
  assert.deepEqual(rejects, []);
  assert.deepEqual(deletes, [['26432306']]);
  assert.equal(new Set(cites.map((c) => c.pmid)).size, 604);
  const c = byPmid(cites, '17942999');
  assert.match(c.title, /^Neuroplasticity in the processing of pitch dimensions/);
  assert.deepEqual(
    c.abstract.map((s) => s.label),
    ['PURPOSE', 'METHODS', 'RESULTS', 'CONCLUSIONS'],
  );
  assert.equal(c.abstract[0]!.category, 'OBJECTIVE');
  assert.match(c.abstract[3]!.text, /^The MMN can serve as an index/);
  assert.match(abstractText(c), /^PURPOSE: An auditory/);
  assert.deepEqual(c.authors, ['Chandrasekaran B', 'Gandour JT', 'Krishnan A']);
  assert.equal(c.journal, 'Restorative neurology and neuroscience');
  assert.equal(c.year, 2007);
  assert.equal(c.language, 'eng');
  assert.equal(c.pmcid, 'PMC4380289'); // from <OtherID Source="NLM"> in the 2016 DTD
  const adult = c.mesh.find((m) => m.name === 'Adult')!;
  assert.deepEqual(adult, { ui: 'D000328', name: 'Adult', major: false, qualifiers: [] });
  const pitch = c.mesh.find((m) => m.name === 'Pitch Perception')!;
  assert.equal(pitch.ui, 'D010898');
  assert.equal(pitch.major, true, 'major through its qualifier');
  assert.deepEqual(pitch.qualifiers, [{ ui: 'Q000502', name: 'physiology', major: true }]);
  const evoked = c.mesh.find((m) => m.name === 'Evoked Potentials, Auditory')!;
  assert.equal(evoked.major, false);
  assert.equal(evoked.qualifiers[0]!.major, false);
  // every citation has a title and a year; DOIs come from ELocationID in this DTD
  assert.ok(cites.every((x) => x.title && x.year && x.year > 1900));
  assert.ok(cites.some((x) => x.doi === '10.1176/appi.psy.49.4.332'));
});

test('efetch PubmedArticleSet (biopython): no MeSH, structured abstracts, MathML, DOI from ArticleIdList', async () => {
  const all: Citation[] = [];
  for (const f of ['pubmed1.xml', 'pubmed2.xml', 'pubmed4.xml', 'pubmed5.xml', 'pubmed6.xml', 'pubmed7.xml']) {
    const { cites, rejects } = await collect(join(BIOPYTHON, f));
    assert.deepEqual(rejects, [], f);
    all.push(...cites);
  }
  assert.equal(all.length, 8);
  const c5 = byPmid(all, '28775130');
  assert.deepEqual(
    c5.abstract.map((s) => s.label),
    ['OBJECTIVES', 'METHODS', 'RESULTS', 'CONCLUSIONS'],
  );
  assert.deepEqual(c5.mesh, []);
  assert.equal(c5.doi, '10.1136/oemed-2017-104431');
  const c4 = byPmid(all, '27797938'); // reference-list PMIDs inside PubmedData must not become records
  assert.equal(c4.doi, '10.1136/gutjnl-2016-312510');
  assert.ok(c4.mesh.length > 0);
  const withMath = all.find((c) => abstractText(c).includes('±'))!;
  assert.ok(withMath, 'non-ASCII (±, ·) kept');
  assert.ok(!/<\/?(sup|sub|i|mml:)/.test(abstractText(withMath)), 'inline markup flattened');
  assert.match(abstractText(withMath), /km·h-1/);
});

test('PubmedArticleSet sample: inline markup, labels, non-ASCII authors, DOI precedence, DeleteCitation', async () => {
  const { cites, deletes, rejects } = await collect(join(FIX, 'readers/pubmed-sample.xml'));
  assert.deepEqual(rejects, []);
  assert.deepEqual(deletes, [['12345', '67890']]);
  assert.equal(cites.length, 2);
  const [a, b] = cites as [Citation, Citation];
  assert.equal(a.title, 'Effect of Escherichia coli on CD4+ T cells in Zürich patients.');
  assert.deepEqual(a.abstract, [
    { label: 'BACKGROUND', category: 'BACKGROUND', text: 'Background text with <5% & more.' },
    { label: 'PATIENTS AND METHODS', category: 'METHODS', text: 'We studied 103 cells.' },
    { label: 'RESULTS', category: 'RESULTS', text: 'It worked.' },
  ]);
  assert.deepEqual(a.authors, ['Müller JA', 'Ødegård Å', 'Synthetic Trial Group']);
  assert.equal(a.year, 2023, 'MedlineDate first year wins over ArticleDate');
  assert.equal(a.doi, '10.9999/synth.2023.001', 'ArticleIdList DOI before ELocationID');
  assert.equal(a.pmcid, 'PMC9999001');
  assert.deepEqual(a.publicationTypes, ['Journal Article', 'Randomized Controlled Trial']);
  assert.deepEqual(a.keywords, ['E. coli', 'T cells']);
  assert.deepEqual(
    a.mesh.map((m) => [m.ui, m.major]),
    [
      ['D004926', true],
      ['D006801', false],
      ['D015496', true],
    ],
  );
  assert.equal(b.journal, 'Synth Rep', 'ISOAbbreviation when no Title');
  assert.equal(b.year, 2021, 'ArticleDate when PubDate has no year');
  assert.equal(b.doi, '10.9999/eloc.002');
  assert.equal(b.language, 'fre');
  assert.deepEqual(b.abstract, []);
});

test('MEDLINE text: 284 citations, continuation lines, MH major flags and qualifiers, DOI, PMC', async () => {
  const file = join(SHARED, 'mesh-papers.medline.txt');
  assert.equal(await detectFormat(file), 'medline');
  const { cites, rejects } = await collect(file);
  assert.deepEqual(rejects, []);
  assert.equal(cites.length, 284);
  assert.equal(cites.filter((c) => c.abstract.length > 0).length, 198);
  const c = byPmid(cites, '28422961');
  assert.equal(c.title, 'Characterization of the mechanism of drug-drug interactions from PubMed using MeSH terms.');
  assert.match(abstractText(c), /multidrug regimens for complex diseases/, 'continuation lines joined with a space');
  assert.deepEqual(c.authors.slice(0, 2), ['Lu Y', 'Figler B']);
  assert.equal(c.journal, 'PloS one');
  assert.equal(c.year, 2017);
  assert.equal(c.doi, '10.1371/journal.pone.0173548');
  assert.equal(c.pmcid, 'PMC5396881');
  assert.equal(c.language, 'eng');
  assert.ok(c.publicationTypes.includes('Journal Article'));
  const find = (n: string) => c.mesh.find((m) => m.name === n)!;
  assert.deepEqual(find('Drug Interactions'), { name: 'Drug Interactions', major: true, qualifiers: [] });
  assert.deepEqual(find('Algorithms'), { name: 'Algorithms', major: false, qualifiers: [] });
  assert.deepEqual(find('Prescription Drugs'), {
    name: 'Prescription Drugs',
    major: true,
    qualifiers: [{ name: 'pharmacology', major: true }],
  });
  assert.deepEqual(find('Cytochrome P-450 Enzyme System'), {
    name: 'Cytochrome P-450 Enzyme System',
    major: false,
    qualifiers: [{ name: 'metabolism', major: false }],
  });
});

test('MEDLINE text (biopython): structured abstract split into labelled sections', async () => {
  const { cites } = await collect(join(BIOPYTHON, 'pubmed_result3.txt'));
  assert.equal(cites.length, 1);
  const c = cites[0]!;
  assert.equal(c.pmid, '23039619');
  assert.equal(c.abstract[0]!.label, 'PURPOSE');
  assert.ok(c.abstract.length >= 3, JSON.stringify(c.abstract.map((s) => s.label)));
  assert.equal(c.doi, '10.1118/1.4748329');
  let n = 0;
  for (const f of ['pubmed_result1.txt', 'pubmed_result2.txt']) n += (await collect(join(BIOPYTHON, f))).cites.length;
  assert.equal(n, 5);
});

test('PubMedQA JSON: 500 abstracts with labelled contexts, the long answer as CONCLUSIONS, MeSH names', async () => {
  const file = join(SHARED, 'pubmedqa-pqal-dev.json');
  assert.equal(await detectFormat(file), 'pubmedqa');
  const { cites, rejects } = await collect(file);
  assert.deepEqual(rejects, []);
  assert.equal(cites.length, 500);
  const c = byPmid(cites, '10808977');
  assert.equal(c.title, 'Can tailored interventions increase mammography use among HMO women?');
  assert.deepEqual(
    c.abstract.map((s) => s.label),
    ['BACKGROUND', 'DESIGN', 'PARTICIPANTS', 'INTERVENTION', 'MAIN OUTCOME', 'RESULTS', 'CONCLUSIONS'],
  );
  assert.match(c.abstract[6]!.text, /^The effects of the intervention were most pronounced/);
  assert.equal(c.year, 2000);
  assert.equal(c.mesh.length, 15);
  assert.deepEqual(c.mesh[0], { name: 'Cost-Benefit Analysis', major: false, qualifiers: [] });
  const mentions = cites.reduce((s, x) => s + x.mesh.length, 0);
  assert.ok(mentions > 6500 && mentions < 8000, String(mentions));
});

test('CSL-JSON (Zotero): library items by PMID (field or note), else citation key; no abstract needed', async () => {
  const file = join(FIX, 'readers/zotero.json');
  assert.equal(await detectFormat(file), 'csl-json');
  const { cites, rejects } = await collect(file);
  assert.deepEqual(rejects, []);
  assert.deepEqual(
    cites.map((c) => c.pmid),
    ['31000001', '31000002', 'key:http://zotero.org/users/1/items/CCCC3333', '31000004'],
  );
  assert.ok(cites.every((c) => c.library === true));
  const [a, b, book, noAbs] = cites as [Citation, Citation, Citation, Citation];
  assert.equal(a.citationKey, 'http://zotero.org/users/1/items/AAAA1111', 'the CSL id is the key Pandoc cites it by');
  assert.equal(a.title, 'Metformin and AMPK signalling');
  assert.deepEqual(a.authors, ['García MJ', 'The Metformin Consortium']);
  assert.deepEqual(
    a.abstract.map((s) => s.label),
    ['BACKGROUND', 'METHODS', 'CONCLUSIONS'],
  );
  assert.equal(a.year, 2019);
  assert.equal(a.month, 5);
  assert.equal(a.doi, '10.1007/test.1');
  assert.equal(a.pmcid, 'PMC7000001');
  assert.equal(b.pmcid, 'PMC7000002');
  assert.equal(b.year, 2020);
  assert.equal(book.title, 'A book without PMID');
  assert.deepEqual(noAbs.abstract, []);
  assert.equal(noAbs.title, 'PMID but no abstract');
});

test('BibTeX (Zotero): @string macros, pmid field or note, citation keys, a broken entry is rejected and the next one kept', async () => {
  const file = join(FIX, 'readers/zotero.bib');
  assert.equal(await detectFormat(file), 'bibtex');
  const { cites, rejects } = await collect(file);
  assert.deepEqual(
    cites.map((c) => c.pmid),
    ['31000001', '31000002', 'key:nopmid_book', '31000010'],
  );
  assert.deepEqual(
    cites.map((c) => c.citationKey),
    ['garcia_metformin_2019', 'lee_note_2020', 'nopmid_book', 'after_broken'],
  );
  assert.equal(cites[0]!.title, 'Metformin and AMPK signalling in Münster');
  assert.equal(cites[0]!.journal, 'Diabetologia');
  assert.deepEqual(cites[0]!.authors, ['García MJ', 'The Metformin Consortium']);
  assert.deepEqual(
    rejects.map((r) => [r.file, r.record, r.where]),
    [[file, '#4 (broken_entry)', 'line 26']],
  );
  assert.match(
    rejects[0]!.message,
    /broken_entry at line 26 does not parse: unbalanced braces .*before the next entry at line 32/,
  );
});

test('bad input: malformed XML records are rejected with PMID and line, good records kept', async () => {
  const file = join(FIX, 'bad-input/malformed-record.xml');
  const { cites, rejects } = await collect(file);
  assert.deepEqual(
    cites.map((c) => c.pmid),
    ['30000001', '30000004'],
  );
  assert.equal(rejects.length, 2);
  assert.deepEqual(
    rejects.map((r) => [r.file, r.record, r.where]),
    [
      [file, '30000002', 'line 20'],
      [file, '30000003', 'line 26'],
    ],
  );
  assert.match(rejects[0]!.message, /malformed XML at line 20, column \d+/);
  assert.match(rejects[1]!.message, /not closed before the next record at line 36/);
});

test('bad input: invalid UTF-8 in one XML record names the byte; the others are read', async () => {
  const file = join(FIX, 'bad-input/bad-utf8.xml');
  const { cites, rejects } = await collect(file);
  assert.deepEqual(
    cites.map((c) => c.pmid),
    ['30000011', '30000013'],
  );
  assert.equal(rejects.length, 1);
  const r = rejects[0]!;
  const raw = (await import('node:fs')).readFileSync(file);
  assert.equal(r.where, `byte ${raw.indexOf(0xff)}`);
  assert.equal(r.record, '30000012');
  assert.match(r.message, /invalid UTF-8 \(byte 0xff\).*line 20/);
});

test('bad input: truncated .xml.gz yields every record before the cut, then a reject with the byte', async () => {
  const file = join(FIX, 'bad-input/truncated.xml.gz');
  const { cites, rejects } = await collect(file);
  assert.ok(cites.length >= 5 && cites.length < 40, String(cites.length));
  assert.deepEqual(
    cites.map((c) => c.pmid),
    Array.from({ length: cites.length }, (_, i) => String(30000100 + i)),
  );
  assert.equal(rejects.length, 1);
  const size = (await import('node:fs')).statSync(file).size;
  assert.equal(rejects[0]!.where, `byte ${size}`);
  assert.equal(rejects[0]!.record, `#${cites.length + 1}`);
  assert.match(rejects[0]!.message, /gzip data truncated.*cut off/);
});

test('bad input: plain XML cut mid-record, an undefined entity, and a corrupt (not truncated) gzip', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'readers-'));
  try {
    const fs = await import('node:fs');
    const text = fs.readFileSync(join(FIX, 'bad-input/malformed-record.xml'), 'utf8');
    const good = text.replace('Broken <i>markup</b> here', 'Fine &nbsp; entity');
    const cut = join(dir, 'cut.xml');
    await writeFile(cut, good.slice(0, good.indexOf('Abstract of 30000004')));
    const a = await collect(cut);
    assert.deepEqual(
      a.cites.map((c) => c.pmid),
      ['30000001'],
    );
    assert.deepEqual(
      a.rejects.map((r) => [r.record, r.where]),
      [
        ['30000002', 'line 20'],
        ['30000003', 'line 26'],
        ['30000004', 'line 36'],
      ],
    );
    assert.match(a.rejects[0]!.message, /undefined entity/i);
    assert.match(a.rejects[2]!.message, /file ends inside <PubmedArticle> that starts at line 36/);

    const gz = gzipSync(fs.readFileSync(join(SHARED, 'mesh-papers.medline.txt')));
    for (let i = Math.floor(gz.length / 2); i < Math.floor(gz.length / 2) + 64; i++) gz[i] = gz[i]! ^ 0x5a;
    const bad = join(dir, 'corrupt.nbib.gz');
    await writeFile(bad, gz);
    const b = await collect(bad);
    assert.ok(b.cites.length > 50 && b.cites.length < 284, String(b.cites.length));
    const last = b.rejects[b.rejects.length - 1]!;
    assert.match(last.where, /^byte \d+$/);
    assert.match(last.message, /gzip data (corrupt|truncated)/);
    assert.ok(Number(last.where.slice(5)) >= gz.length / 2 && Number(last.where.slice(5)) <= gz.length, last.where);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad input: .nbib record without PMID and with bad UTF-8 are rejected, neighbours kept', async () => {
  const a = await collect(join(FIX, 'bad-input/missing-pmid.nbib'));
  assert.deepEqual(
    a.cites.map((c) => c.pmid),
    ['30000201', '30000203'],
  );
  assert.deepEqual(
    a.rejects.map((r) => [r.record, r.where]),
    [['#2', 'line 15']],
  );
  assert.match(a.rejects[0]!.message, /no PMID/);
  const first = a.cites[0]!;
  assert.equal(first.title, 'First good record with a title that goes on to a continuation line.');
  assert.deepEqual(
    first.abstract.map((s) => s.label),
    ['OBJECTIVE', 'METHODS', 'RESULTS', 'CONCLUSIONS'],
  );
  assert.deepEqual(first.mesh[1], {
    name: 'Diabetes Mellitus, Type 2',
    major: true,
    qualifiers: [
      { name: 'drug therapy', major: true },
      { name: 'metabolism', major: false },
    ],
  });
  assert.deepEqual(first.authors, ['Doe JA']);
  assert.equal(a.cites[1]!.doi, '10.1000/third');

  const file = join(FIX, 'bad-input/bad-utf8.nbib');
  const b = await collect(file);
  assert.deepEqual(
    b.cites.map((c) => c.pmid),
    ['30000301', '30000303'],
  );
  const raw = (await import('node:fs')).readFileSync(file);
  assert.deepEqual(
    b.rejects.map((r) => [r.record, r.where]),
    [['30000302', `byte ${raw.indexOf(0xc3)}`]],
  );
  assert.match(b.rejects[0]!.message, /line 6/);
});

test('PubmedBookArticle (GeneReviews chapter): chapter title, chapter authors, book year', async () => {
  const { cites, rejects } = await collect(join(FIX, 'readers/book.xml'));
  assert.deepEqual(rejects, []);
  assert.equal(cites.length, 1);
  const c = cites[0]!;
  assert.equal(c.pmid, '20301295');
  assert.equal(c.title, 'Alpha-Thalassemia');
  assert.deepEqual(c.authors, ['Tamary H']);
  assert.equal(c.journal, 'GeneReviews®');
  assert.equal(c.year, 1993);
  assert.deepEqual(c.publicationTypes, ['Review']);
  assert.deepEqual(
    c.abstract.map((s) => s.label),
    ['CLINICAL CHARACTERISTICS', 'DIAGNOSIS/TESTING'],
  );
});

test('edge shapes: empty PubmedArticleSet, a non-PubMed XML root, BOM + CRLF MEDLINE text, progress', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'readers-'));
  try {
    const empty = join(dir, 'empty.xml');
    await writeFile(empty, '<?xml version="1.0"?>\n<PubmedArticleSet>\n</PubmedArticleSet>\n');
    const e = await collect(empty);
    assert.deepEqual([e.cites.length, e.rejects.length], [0, 0]);
    const other = await collect(MESH_SAMPLE);
    assert.equal(other.cites.length, 0);
    assert.equal(other.rejects.length, 1);
    assert.match(other.rejects[0]!.message, /no PubMed records found \(root element <DescriptorRecordSet>\)/);

    const crlf = join(dir, 'win.nbib');
    await writeFile(
      crlf,
      '\uFEFFPMID- 111\r\nTI  - Windows line\r\n      ends.\r\nDP  - 2001\r\n\r\nPMID- 222\r\nTI  - Second.\r\n',
    );
    const w = await collect(crlf);
    assert.deepEqual(w.rejects, []);
    assert.deepEqual(
      w.cites.map((c) => [c.pmid, c.title]),
      [
        ['111', 'Windows line ends.'],
        ['222', 'Second.'],
      ],
    );

    const file = join(SHARED, 'medline16n0902.xml.gz');
    const seen: [number, number][] = [];
    for await (const _ of readCitations(file, { onProgress: (r, t) => seen.push([r, t]) })) void _;
    const size = (await import('node:fs')).statSync(file).size;
    assert.ok(seen.length > 1);
    assert.deepEqual(seen[seen.length - 1], [size, size]);
    assert.ok(
      seen.every(([r], i) => i === 0 || r >= seen[i - 1]![0]),
      'monotonic',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('unknown format and unreadable files give one reject naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'readers-'));
  try {
    const f = join(dir, 'notes.txt');
    await writeFile(f, 'just some words\nnothing citation-like\n');
    const { rejects, cites } = await collect(f);
    assert.equal(cites.length, 0);
    assert.equal(rejects.length, 1);
    assert.match(rejects[0]!.message, /unknown citation format/);
    const missing = await collect(join(dir, 'nope.xml'));
    assert.equal(missing.rejects.length, 1);
    assert.match(missing.rejects[0]!.message, /ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('gzip is detected from content; MEDLINE text in .gz works; abort stops reading', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'readers-'));
  try {
    const src = (await import('node:fs')).readFileSync(join(SHARED, 'mesh-papers.medline.txt'));
    const f = join(dir, 'export.dat');
    await writeFile(f, gzipSync(src));
    assert.equal(await detectFormat(f), 'medline');
    assert.equal((await collect(f)).cites.length, 284);
    const ac = new AbortController();
    let n = 0;
    await assert.rejects(async () => {
      for await (const ev of readCitations(join(SHARED, 'medline16n0902.xml.gz'), { signal: ac.signal })) {
        if (ev.type === 'citation' && ++n === 10) ac.abort();
      }
    }, /abort/i);
    assert.ok(n >= 10 && n < 604);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('expandInputs: files, directories and globs, deduplicated; no match is an error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'readers-'));
  try {
    await mkdir(join(dir, 'sub'));
    for (const f of ['a.xml', 'b.nbib', 'sub/c.xml.gz', 'sub/d.json', 'skip.pdf']) await writeFile(join(dir, f), 'x');
    const all = await expandInputs([dir]);
    assert.deepEqual(all.map((f) => f.slice(dir.length + 1)).sort(), ['a.xml', 'b.nbib', 'sub/c.xml.gz', 'sub/d.json']);
    const g = await expandInputs([`${dir}/**/*.xml*`, join(dir, 'a.xml')]);
    assert.deepEqual(
      g.map((f) => f.slice(dir.length + 1)),
      ['a.xml', 'sub/c.xml.gz'],
    );
    await assert.rejects(expandInputs([`${dir}/*.nothing`]), /no file matches/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('countRecords: fast scan agrees with the readers on every real file and fixture', async () => {
  const files = [
    join(SHARED, 'medline16n0902.xml.gz'),
    join(SHARED, 'mesh-papers.medline.txt'),
    join(SHARED, 'pubmedqa-pqal-dev.json'),
    ...['pubmed1.xml', 'pubmed4.xml', 'pubmed_result2.txt'].map((f) => join(BIOPYTHON, f)),
    ...['pubmed-sample.xml', 'book.xml', 'zotero.json', 'zotero.bib'].map((f) => join(FIX, 'readers', f)),
    ...['malformed-record.xml', 'bad-utf8.xml', 'missing-pmid.nbib', 'bad-utf8.nbib'].map((f) =>
      join(FIX, 'bad-input', f),
    ),
  ];
  for (const f of files) {
    const { cites, rejects } = await collect(f);
    const expected = f.endsWith('missing-pmid.nbib') ? cites.length : cites.length + rejects.length; // no PMID- line, not counted
    assert.equal(await countRecords(f), expected, f);
  }
  const t = join(FIX, 'bad-input/truncated.xml.gz');
  const n = await countRecords(t);
  assert.ok(n >= (await collect(t)).cites.length && n <= 40, String(n));
});

test('firstInvalidUtf8 finds overlong, surrogate and cut-off sequences', () => {
  assert.equal(firstInvalidUtf8(Buffer.from('héllo ✓ 𝄞', 'utf8')), -1);
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0x80])), 1); // overlong
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80])), 2); // surrogate
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xe2, 0x9c])), 1); // cut off
  assert.equal(firstInvalidUtf8(Buffer.from([0x80])), 0);
});

test('volume, issue, pages, month and ISSN from the real files (values checked by hand against the source text)', async () => {
  const xml = (await collect(join(SHARED, 'medline16n0902.xml.gz'))).cites;
  // <ISSN IssnType="Print">0922-6028</ISSN> <Volume>25</Volume> <Issue>3-4</Issue> <PubDate><Year>2007</Year> <MedlinePgn>195-210</MedlinePgn>
  const a = byPmid(xml, '17942999');
  assert.deepEqual([a.volume, a.issue, a.pages, a.issn, a.month], ['25', '3-4', '195-210', '0922-6028', undefined]);
  // <Volume>49</Volume> <Issue>4</Issue> <MedlineDate>2008 Jul-Aug</MedlineDate> <MedlinePgn>332-40</MedlinePgn>
  const b = byPmid(xml, '18621939');
  assert.deepEqual([b.volume, b.issue, b.pages, b.issn, b.year, b.month], ['49', '4', '332-40', '0033-3182', 2008, 7]);
  assert.ok(
    xml.filter((c) => c.volume).length > 590 && xml.every((c) => c.pages),
    'volume and pages on (nearly) every record',
  );

  const med = (await collect(join(SHARED, 'mesh-papers.medline.txt'))).cites;
  // IS - 1932-6203 (Electronic) / (Linking), VI - 12, IP - 4, DP - 2017, PG - e0173548
  const c = byPmid(med, '28422961');
  assert.deepEqual([c.volume, c.issue, c.pages, c.issn, c.month], ['12', '4', 'e0173548', '1932-6203', undefined]);
  // IS - 2041-1480 (Electronic), VI - 8, IP - 1, DP - 2017 Apr 17, PG - 15
  const d = byPmid(med, '28412964');
  assert.deepEqual([d.volume, d.issue, d.pages, d.issn, d.month], ['8', '1', '15', '2041-1480', 4]);
  assert.equal(med.filter((x) => x.pages).length, 284);

  // efetch (PubmedArticleSet): <ISSN IssnType="Electronic">1470-7926</ISSN> <Volume>75</Volume> <Issue>2</Issue> <Month>Feb</Month> <MedlinePgn>79-89</MedlinePgn>
  const e = (await collect(join(BIOPYTHON, 'pubmed5.xml'))).cites[0]!;
  assert.deepEqual([e.volume, e.issue, e.pages, e.issn, e.year, e.month], ['75', '2', '79-89', '1470-7926', 2018, 2]);
  const f = (await collect(join(BIOPYTHON, 'pubmed_result3.txt'))).cites[0]!;
  assert.deepEqual([f.volume, f.issue, f.pages, f.issn, f.month], ['39', '10', '5795-813', '0094-2405', 10]);
});

test("a writer's library (CSL-JSON, BibTeX): items by PMID, DOI or key, with volume/issue/pages/ISSN/month; unusable ids noted", async () => {
  const j = await collect(join(FIX, 'readers/library.json'));
  assert.deepEqual(
    j.cites.map((c) => [c.pmid, c.citationKey, c.library]),
    [
      ['doi:10.1371/journal.pone.0173548', 'lu2017', true],
      ['key:smith_handbook_2020', 'smith_handbook_2020', true],
    ],
  );
  const lu = j.cites[0]!;
  assert.deepEqual(
    [lu.volume, lu.issue, lu.pages, lu.issn, lu.year, lu.month, lu.doi],
    ['12', '4', 'e0173548', '1932-6203', 2017, 4, '10.1371/journal.pone.0173548'],
  );
  assert.deepEqual(lu.abstract, []);
  assert.deepEqual([j.cites[1]!.issn, j.cites[1]!.year, j.cites[1]!.month], ['0028-0836', 2020, 3]);
  assert.deepEqual(
    j.rejects.map((r) => [r.record, r.where]),
    [['#3 (broken ids)', 'line 24']],
  );
  assert.match(j.rejects[0]!.message, /has no PMID, DOI or citation key/);
  const notes: string[] = [];
  for await (const ev of readCitations(join(FIX, 'readers/library.json')))
    if (ev.type === 'note') notes.push(ev.message);
  assert.equal(notes.length, 4);
  assert.match(
    notes.join('\n'),
    /PMID '0' is zero[\s\S]*DOI 'not a doi'[\s\S]*PMCID 'PMCX'[\s\S]*citation key 'broken ids'/,
  );

  const b = await collect(join(FIX, 'readers/library.bib'));
  assert.deepEqual(b.rejects, []);
  assert.deepEqual(
    b.cites.map((c) => [c.pmid, c.citationKey]),
    [
      ['doi:10.1371/journal.pone.0173548', 'lu2017'],
      ['key:keyonly2019', 'keyonly2019'],
      ['28422961', 'pmid_padded'],
    ],
  );
  const blu = b.cites[0]!;
  assert.deepEqual(
    [blu.volume, blu.issue, blu.pages, blu.issn, blu.year, blu.month],
    ['12', '4', 'e0173548', '1932-6203', 2017, 4],
  );
  assert.equal(b.cites[1]!.journal, 'Proceedings of Something');
  assert.equal(b.cites[1]!.pages, '1-10');
});

test('identifier rules (src/index/ids.ts): PMID, DOI, PMCID, citation key, ISSN, record ids', () => {
  const v = (r: { value: string } | { error: string }) => ('value' in r ? r.value : `ERR ${r.error}`);
  assert.equal(v(normalizePmid('123')), '123');
  assert.equal(v(normalizePmid(' 00000000001 ')), '1');
  assert.equal(v(normalizePmid(28422961)), '28422961');
  assert.equal(v(normalizePmid('99999999')), '99999999');
  assert.match(v(normalizePmid('0')), /ERR PMID '0' is zero/);
  assert.match(v(normalizePmid('000')), /ERR .*zero/);
  assert.match(v(normalizePmid('100000000')), /ERR .*9 digits/);
  assert.match(v(normalizePmid('12345678901234567890')), /ERR .*20 digits/);
  assert.match(v(normalizePmid('12a')), /ERR .*not a number/);
  assert.match(v(normalizePmid('-5')), /ERR .*not a number/);
  assert.match(v(normalizePmid('1e5')), /ERR .*not a number/);
  assert.match(v(normalizePmid(null)), /ERR PMID is a null/);
  assert.match(v(normalizePmid('')), /ERR PMID is empty/);

  assert.equal(v(normalizeDoi('10.1371/JOURNAL.PONE.0173548')), '10.1371/journal.pone.0173548');
  assert.equal(v(normalizeDoi('https://doi.org/10.1000/ABC%2F1')), '10.1000/abc/1');
  assert.equal(v(normalizeDoi('http://dx.doi.org/10.1000/x')), '10.1000/x');
  assert.equal(v(normalizeDoi('doi:10.1000/x')), '10.1000/x');
  assert.equal(v(normalizeDoi('10.1000/x [doi]')), '10.1000/x');
  assert.equal(v(normalizeDoi('10.1000.10/x')), '10.1000.10/x');
  assert.equal(
    v(normalizeDoi('10.1002/(SICI)1097-4636(199903)44:3<266::AID-JBM5>3.0.CO;2-9')),
    '10.1002/(sici)1097-4636(199903)44:3<266::aid-jbm5>3.0.co;2-9',
  );
  for (const bad of ['not a doi', '10.12/x', '10.1000/', '10.1000/a b', '11.1000/x', '10.1000/x\u0000'])
    assert.match(v(normalizeDoi(bad)), /^ERR /, bad);

  assert.equal(v(normalizePmcid('PMC5396881')), 'PMC5396881');
  assert.equal(v(normalizePmcid('pmc0123')), 'PMC123');
  assert.equal(v(normalizePmcid('5396881')), 'PMC5396881');
  for (const bad of ['PMC', 'PMC0', 'PMCX', 'PMC12345678901']) assert.match(v(normalizePmcid(bad)), /^ERR /, bad);

  assert.equal(v(normalizeCitationKey(' garcia_metformin_2019 ')), 'garcia_metformin_2019');
  assert.equal(
    v(normalizeCitationKey('http://zotero.org/users/1/items/AAAA1111')),
    'http://zotero.org/users/1/items/AAAA1111',
  );
  for (const bad of ['two words', 'a{b', 'a,b', '', 'x'.repeat(257)])
    assert.match(v(normalizeCitationKey(bad)), /^ERR /, bad);

  assert.equal(normalizeIssn('1932-6203'), '1932-6203');
  assert.equal(normalizeIssn('1942597x'), '1942-597X');
  assert.equal(normalizeIssn('1932-62031'), undefined);

  assert.equal(libraryRecordId({ pmid: '1', doi: '10.1/x', key: 'k' }), '1');
  assert.equal(libraryRecordId({ doi: '10.1000/x', key: 'k' }), 'doi:10.1000/x');
  assert.equal(libraryRecordId({ key: 'k' }), 'key:k');
  assert.equal(libraryRecordId({}), undefined);
  assert.deepEqual(recordIdKind('28422961'), { kind: 'pmid', pmid: '28422961' });
  assert.deepEqual(recordIdKind('doi:10.1000/x'), { kind: 'doi', doi: '10.1000/x' });
  assert.deepEqual(recordIdKind('key:lu2017'), { kind: 'key', key: 'lu2017' });
  assert.equal(recordIdKind('0123'), undefined);

  assert.deepEqual(
    ['2017 Apr 19', '1998 Dec-1999 Jan', '2019-05', '2007 Spring', '2008 Jul-Aug', 'Sept 2001', '2017'].map(firstMonth),
    [4, 12, 5, undefined, 7, 9, undefined],
  );
});
