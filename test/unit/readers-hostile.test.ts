// Hostile input for every reader (issue 15): one bad record costs only itself. Built from the real files of
// data/demo and test/fixtures/pubmed (src/tools/fuzz/hostile.ts makes the variants): deep nesting, null and
// wrong-type fields, unbalanced BibTeX, bad bytes, bad identifiers, and a seeded sample of truncations and byte
// flips, each checked for 'undamaged records kept and unchanged, damaged ones named (file, record, line/byte)'.
// The full set is `node --import tsx src/tools/fuzz.ts`. No timing assertions here (shared CI cores); memory is
// checked in a child process for a field four times the record limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm, readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readCitations } from '../../src/index/readers';
import type { Citation, ReaderEvent } from '../../src/index/citation';
import {
  cleanSources,
  variantsOf,
  checkVariant,
  cslItemOf,
  bibEntryOf,
  type CleanSource,
} from '../../src/tools/fuzz/hostile';
import { ROOT, DEMO_PUBMED } from '../fixtures/paths';

type Reject = Extract<ReaderEvent, { type: 'reject' }>;
type Note = Extract<ReaderEvent, { type: 'note' }>;

async function collect(file: string) {
  const cites: Citation[] = [];
  const rejects: Reject[] = [];
  const notes: Note[] = [];
  for await (const ev of readCitations(file)) {
    if (ev.type === 'citation') cites.push(ev.citation);
    else if (ev.type === 'reject') rejects.push(ev);
    else if (ev.type === 'note') notes.push(ev);
  }
  return { cites, rejects, notes };
}

let dir: string;
let sources: CleanSource[];
const src = (name: string) => sources.find((s) => s.name === name)!;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'readers-hostile-'));
  sources = await cleanSources(ROOT, dir);
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The first `n` records of the real MEDLINE XML as a file, with `edit` applied to the text of record `k`. */
async function xmlWith(
  n: number,
  k: number,
  edit: (rec: string) => string,
): Promise<{ file: string; pmids: string[] }> {
  const xml = gunzipSync(await readFile(join(DEMO_PUBMED, 'medline16n0902.xml.gz'))).toString('utf8');
  const recs = [...xml.matchAll(/<MedlineCitation [\s\S]*?<\/MedlineCitation>/g)].slice(0, n).map((m) => m[0]);
  const pmids = recs.map((r) => /<PMID Version="1">(\d+)</.exec(r)![1]!);
  recs[k] = edit(recs[k]!);
  const file = join(dir, `xml-${n}-${k}-${Math.random().toString(36).slice(2)}.xml`);
  await writeFile(
    file,
    `<?xml version="1.0" encoding="UTF-8"?>\n<MedlineCitationSet>\n${recs.join('\n')}\n</MedlineCitationSet>\n`,
  );
  return { file, pmids };
}

for (const depth of [10_000, 100_000]) {
  test(`PubMed XML: a record nested ${depth.toLocaleString('en')} deep is rejected by PMID and line; the other 79 are read`, async () => {
    const { file, pmids } = await xmlWith(80, 32, (r) =>
      r.replace('<ArticleTitle>', '<ArticleTitle>' + '<i>'.repeat(depth) + 'x' + '</i>'.repeat(depth)),
    );
    const { cites, rejects } = await collect(file);
    assert.equal(cites.length, 79);
    assert.deepEqual(
      cites.map((c) => c.pmid),
      pmids.filter((_, i) => i !== 32),
    );
    assert.equal(rejects.length, 1);
    assert.equal(rejects[0]!.file, file);
    assert.equal(rejects[0]!.record, pmids[32]);
    assert.match(rejects[0]!.where, /^line \d+$/);
    assert.match(rejects[0]!.message, /nested deeper than 256 levels/);
  });
}

test('PubMed XML: PMIDs 0 and a 20-digit number are rejected by name; 00000000001 is read as 1 (the same row as 1)', async () => {
  const { file, pmids } = await xmlWith(6, 1, (r) => r.replace(/<PMID Version="1">\d+</, '<PMID Version="1">0<'));
  let text = await readFile(file, 'utf8');
  text = text
    .replace(`<PMID Version="1">${pmids[2]}<`, '<PMID Version="1">12345678901234567890<')
    .replace(`<PMID Version="1">${pmids[3]}<`, '<PMID Version="1">00000000001<')
    .replace(`<PMID Version="1">${pmids[4]}<`, '<PMID Version="1">1<');
  await writeFile(file, text);
  const { cites, rejects } = await collect(file);
  assert.deepEqual(
    cites.map((c) => c.pmid),
    [pmids[0], '1', '1', pmids[5]],
  );
  assert.deepEqual(
    rejects.map((r) => [r.record, r.where.split(' ')[0]]),
    [
      ['#2', 'line'],
      ['#3', 'line'],
    ],
  );
  assert.match(rejects[0]!.message, /PMID '0' is zero/);
  assert.match(rejects[1]!.message, /PMID '12345678901234567890' has 20 digits \(PMIDs have at most 8\)/);
});

test('MEDLINE text: NUL bytes reject the record naming the byte; bad PMIDs are rejected, 00000000001 is 1', async () => {
  const text = await readFile(join(DEMO_PUBMED, 'mesh-papers.medline.txt'), 'utf8');
  const recs = text
    .replace(/^\n+/, '')
    .split(/\n\n(?=PMID- )/)
    .slice(0, 6);
  const pmids = recs.map((r) => /^PMID- (\d+)/.exec(r)![1]!);
  recs[1] = recs[1]!.replace(/^(TI {2}- .{10})/m, '$1\u0000');
  recs[2] = recs[2]!.replace(/^PMID- \d+/, 'PMID- 0');
  recs[3] = recs[3]!.replace(/^PMID- \d+/, 'PMID- 00000000001');
  recs[4] = recs[4]!.replace(/^PMID- \d+/, 'PMID- 123456789012345678901');
  const file = join(dir, 'hostile.nbib');
  const body = recs.join('\n\n') + '\n';
  await writeFile(file, body);
  const { cites, rejects } = await collect(file);
  assert.deepEqual(
    cites.map((c) => c.pmid),
    [pmids[0], '1', pmids[5]],
  );
  const nul = Buffer.from(body).indexOf(0);
  assert.deepEqual(
    rejects.map((r) => [r.record, r.where]),
    [
      [pmids[1], `byte ${nul}`],
      ['#3', rejects[1]!.where],
      ['#5', rejects[2]!.where],
    ],
  );
  assert.match(rejects[0]!.message, /NUL byte \(0x00\) at byte \d+, line \d+/);
  assert.match(rejects[1]!.message, /PMID '0' is zero/);
  assert.match(rejects[2]!.message, /21 digits/);
  assert.ok(
    cites.every((c) => !/\u0000/.test(JSON.stringify(c))),
    'no NUL stored',
  );
});

test('CSL-JSON: "author": [null] and other null or wrong-type fields cost only the field (a note); all 61 items are read', async () => {
  const med = [...src('medline-text').cites.values()].slice(0, 61);
  const items = med.map(cslItemOf);
  items[5]!['author'] = [null];
  items[9]!['title'] = { a: 1 };
  items[12]!['issued'] = '2019';
  items[14]!['DOI'] = null;
  items[20]!['author'] = 'Smith J';
  items[22]!['issued'] = { 'date-parts': [null, 'x'] };
  items[30]!['abstract'] = ['not', 'text'];
  items[33]!['PMID'] = { x: 1 };
  items[40]!['author'] = [{ family: 'Ok', given: 'A' }, 7, { given: 'Only' }];
  const file = join(dir, 'nulls.json');
  await writeFile(file, JSON.stringify(items, null, 2));
  const { cites, rejects, notes } = await collect(file);
  assert.deepEqual(rejects, []);
  assert.equal(cites.length, 61);
  assert.deepEqual(cites[5]!.authors, []);
  assert.equal(cites[9]!.title, '', 'the title is left out; the abstract remains');
  assert.equal(cites[33]!.pmid, `doi:${med[33]!.doi}`, 'an unusable PMID: the item is kept under its DOI');
  assert.deepEqual(cites[40]!.authors, ['Ok A', 'Only'], 'a given name alone is kept as it is');
  const by = (i: number) =>
    notes
      .filter((n) => n.record === cites[i]!.pmid)
      .map((n) => n.message)
      .join(' | ');
  assert.match(by(5), /author 1 is a null, not a name/);
  assert.match(by(9), /title is a object, not text/);
  assert.match(by(12), /issued is a string, not a date/);
  assert.match(by(20), /author is a string, not a list of names/);
  assert.match(by(30), /abstract is a list, not text/);
  assert.match(by(33), /PMID is a object/);
  assert.match(by(40), /author 2 is a number, not a name/);
  assert.ok(notes.every((n) => n.file === file && /^line \d+$/.test(n.where)));
});

test('CSL-JSON: items that are not objects, have no identifier or no text are rejected by ordinal and line; damaged JSON costs one item', async () => {
  const med = [...src('medline-text').cites.values()].slice(0, 12);
  const items: unknown[] = med.map(cslItemOf);
  items[2] = null;
  items[4] = 42;
  items[6] = { title: 'No identifier at all' };
  items[8] = { id: 'key8', type: 'book' };
  const text = JSON.stringify(items, null, 2).replace(
    '"title": "' + med[10]!.title.slice(0, 5),
    '"title": tru' + med[10]!.title.slice(0, 5),
  );
  const file = join(dir, 'rejects.json');
  await writeFile(file, text);
  const { cites, rejects } = await collect(file);
  assert.deepEqual(
    cites.map((c) => c.pmid),
    [0, 1, 3, 5, 7, 9, 11].map((i) => med[i]!.pmid),
  );
  assert.deepEqual(
    rejects.map((r) => r.record),
    ['#3', '#5', '#7', '#9 (key8)', '#11'],
  );
  const lines = text.split('\n');
  for (const r of rejects) {
    const n = Number(/^line (\d+)$/.exec(r.where)![1]);
    assert.ok(n >= 1 && n <= lines.length, r.where);
  }
  assert.match(rejects[0]!.message, /item 3 at line \d+ item is a null, not a JSON object/);
  assert.match(rejects[2]!.message, /has no PMID, DOI or citation key/);
  assert.match(rejects[3]!.message, /key:key8 has neither a title nor an abstract/);
  assert.match(rejects[4]!.message, /item 11 at line \d+: (unexpected|invalid JSON)/);
});

test('CSL-JSON: a run of 200,000 "<" in an abstract is kept as text (linear tag stripping); tags are removed, "p < 0.05" stays', async () => {
  const items = [...src('medline-text').cites.values()].slice(0, 3).map(cslItemOf);
  items[1]!['abstract'] = '<'.repeat(200_000) + ' end';
  items[2]!['abstract'] = 'Risk fell <i>sharply</i> (p < 0.05) in <jats:sc>all</jats:sc> arms.';
  const file = join(dir, 'angles.json');
  await writeFile(file, JSON.stringify(items));
  const { cites, rejects } = await collect(file);
  assert.deepEqual(rejects, []);
  assert.equal(cites[1]!.abstract[0]!.text.length, 200_004);
  assert.equal(cites[2]!.abstract[0]!.text, 'Risk fell sharply (p < 0.05) in all arms.');
});

test('JSON: a damaged closing bracket costs one entry (PubMedQA, real file); valid JSON nested at item indentation is read whole', async () => {
  const qa = await readFile(join(DEMO_PUBMED, 'pubmedqa-pqal-dev.json'), 'utf8');
  const s = src('pubmedqa');
  const k = 278;
  const endOfK = Buffer.from(qa)
    .subarray(0, s.starts[k + 1])
    .toString()
    .lastIndexOf('\n },');
  const file = join(dir, 'qa-bracket.json');
  await writeFile(file, qa.slice(0, endOfK) + '\n 5,' + qa.slice(endOfK + 4));
  const { cites, rejects } = await collect(file);
  assert.equal(cites.length, 499);
  assert.deepEqual(
    rejects.map((r) => r.record),
    [s.ids[k]],
  );
  assert.match(rejects[0]!.message, /not closed before the next item at line \d+/);

  const weird = join(dir, 'weird.json');
  await writeFile(
    weird,
    '[\n  {"id": "a", "title": "A", "author": [\n  {"family": "X"},\n  {"family": "Y"}]},\n  {"id": "b", "title": "B", "author": [\n  {"family": "Z"},\n  {"family": "W"}]}\n]\n',
  );
  const w = await collect(weird);
  assert.deepEqual(w.rejects, []);
  assert.deepEqual(
    w.cites.map((c) => [c.pmid, c.authors]),
    [
      ['key:a', ['X', 'Y']],
      ['key:b', ['Z', 'W']],
    ],
  );
});

test('BibTeX: an unbalanced entry, an extra brace, braces 10⁴ deep and a cut entry start are named; the neighbours are read', async () => {
  const med = [...src('medline-text').cites.values()].slice(0, 8);
  const entries = med.map(bibEntryOf);
  entries[1] = entries[1]!.replace(/title = \{([^}]*)\},/, 'title = {$1,'); // a '{' never closed
  entries[3] = entries[3]!.replace('title = {', 'title = {' + '{'.repeat(10_000) + 'x' + '}'.repeat(10_000));
  entries[5] = entries[5]!.replace(/(title = \{[^}]*\})/, '$1}'); // closes the entry early: later fields lost, entry kept
  entries[7] = '@arti';
  const file = join(dir, 'broken.bib');
  const text = entries.join('\n');
  await writeFile(file, text);
  const { cites, rejects } = await collect(file);
  assert.deepEqual(
    cites.map((c) => c.citationKey),
    ['ref1', 'ref3', 'ref5', 'ref6', 'ref7'],
  );
  assert.equal(cites[3]!.pmid, 'key:ref6', 'fields after the early close (pmid, doi) are gone: the key identifies it');
  const lineOf = (k: number) => text.slice(0, text.indexOf(`@article{ref${k + 1},`)).split('\n').length;
  assert.deepEqual(
    rejects.map((r) => [r.record, r.where]),
    [
      ['#2 (ref2)', `line ${lineOf(1)}`],
      ['#4 (ref4)', `line ${lineOf(3)}`],
      ['#8', `line ${text.split('\n').length}`],
    ],
  );
  assert.match(rejects[0]!.message, /unbalanced braces \(1 '\{' not closed before the next entry at line \d+\)/);
  assert.match(rejects[1]!.message, /braces nested deeper than 64 levels/);
  assert.match(rejects[2]!.message, /starts with '@' but is not an entry start: '@arti'/);
});

test('fault suite sample (seeded): truncations, byte flips, bad bytes, bad PMIDs, deep nesting, null fields on every real source', async () => {
  let n = 0;
  const failed: string[] = [];
  for (const s of sources) {
    for (const v of variantsOf(s, { seed: 15, full: false })) {
      const r = await checkVariant(s, v, dir);
      n++;
      if (!r.ok) failed.push(`${r.variant}: ${r.problems.join('; ')}`);
    }
  }
  assert.ok(n >= 50, `${n} variants`);
  assert.deepEqual(failed, []);
});

test(
  'a field four times the record limit is skipped in bounded memory, named, and its neighbours read (child process)',
  { timeout: 120_000 },
  () => {
    const child = join(__dirname, 'readers-hostile-child.ts');
    for (const format of ['xml', 'medline', 'csl', 'bibtex', 'pubmedqa']) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', child, format, '128', dir], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      const r = JSON.parse(out.trim().split('\n').pop()!) as {
        kept: string[];
        rejects: { record: string; where: string; message: string }[];
        growthBytes: number;
      };
      assert.deepEqual(r.kept, ['1001', '1003'], format);
      assert.equal(r.rejects.length, 1, format);
      assert.match(r.rejects[0]!.record, /1002|#2/, format);
      assert.match(r.rejects[0]!.where, /^line \d+$/, format);
      assert.match(
        r.rejects[0]!.message,
        format === 'bibtex' ? /longer than 4 MB \(the BibTeX parser's limit\)/ : /longer than 32 MB/,
        format,
      );
      const mib = r.growthBytes / 2 ** 20;
      assert.ok(mib < 100, `${format}: resident memory grew by ${mib.toFixed(0)} MiB reading a 128 MiB field`);
    }
  },
);
