// Hostile variants of the real input files, and the check every variant must pass: no exception out of the reader,
// every record untouched by the damage kept (and equal to its clean self), every record that is missing named by a
// reject (file, record, 'line N' / 'byte N'), time and memory measured.
//
// Clean sources (all real): the MEDLINE XML (MedlineCitationSet, 604 records) and MEDLINE text (284) of data/demo,
// the PubMedQA dev set (500), biopython's efetch PubmedArticleSet records (8), and CSL-JSON and BibTeX exports made
// from the real MEDLINE-text records (pretty-printed the way Zotero and Better BibTeX write them).
// Variant classes: truncate, flip (1/4/16 random bytes), bad-byte (NUL, 0xFF, 0x01 in a record), bad-pmid
// ('0', '00000000001', a 20-digit number, 'abc'), deep-nesting (10⁴, 10⁵), null-fields and wrong types (CSL-JSON,
// PubMedQA), unbalanced/extra/deep braces (BibTeX), angle-run (200k '<' in an abstract), huge-field (a 40 MB field,
// over MAX_RECORD_BYTES), gzip-truncate and gzip-flip. Everything is drawn from a seeded PRNG: the same seed gives
// the same variants.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Citation, ReaderEvent } from '../../index/citation';
import { readCitations, type InputFormat } from '../../index/readers';
import { errorText } from '../../util/errors';
import { rng } from '../bench/synthetic';

export { rng };
const pick = (r: () => number, n: number) => Math.floor(r() * n);

export interface CleanSource {
  name: string;
  format: InputFormat;
  ext: string;
  bytes: Buffer;
  /** Byte offset where each record starts, in file order (= the reader's order). */
  starts: number[];
  /** The clean reading: record ids in order, and the citations by id. */
  ids: string[];
  cites: Map<string, Citation>;
  /** The real file is gzip: gzip variants apply. */
  gz?: Buffer;
}

export interface Variant {
  source: string;
  cls: string;
  name: string;
  format: InputFormat;
  ext: string;
  bytes: Buffer;
  /** Records (indexes into source.ids) the damage touches; 'header' when it hit bytes before the first record. */
  touched: Set<number>;
  header?: boolean;
  /** Records no longer in the file at all (after a truncation). */
  gone?: Set<number>;
  /** Expected id changes (e.g. '00000000001' read as '1'); undefined id = must be rejected. */
  renamed?: Map<number, string | undefined>;
  /** gzip damage: only a prefix of the records can come out. */
  prefixOnly?: boolean;
}

// ---------------------------------------------------------------- clean sources

const absText = (c: Citation) => c.abstract.map((s) => (s.label ? `${s.label}: ${s.text}` : s.text)).join(' ');

async function readAll(file: string, format?: InputFormat): Promise<{ cites: Citation[]; rejects: ReaderEvent[] }> {
  const cites: Citation[] = [];
  const rejects: ReaderEvent[] = [];
  for await (const ev of readCitations(file, format ? { format } : {})) {
    if (ev.type === 'citation') cites.push(ev.citation);
    else if (ev.type === 'reject') rejects.push(ev);
  }
  return { cites, rejects };
}

/** Byte offsets of the matches (computed on latin1 text, where characters are bytes). */
function byteStarts(b: Buffer, re: RegExp, shift = 0): number[] {
  const t = b.toString('latin1');
  return [...t.matchAll(re)].map((m) => m.index! + shift);
}

export function cslItemOf(c: Citation, i: number): Record<string, unknown> {
  return {
    id: `ref${i + 1}`,
    type: 'article-journal',
    title: c.title,
    'container-title': c.journal,
    abstract: absText(c) || undefined,
    DOI: c.doi,
    PMID: c.pmid,
    author: c.authors.map((a) => {
      const [family, ...g] = a.split(' ');
      return g.length ? { family, given: g.join(' ') } : { literal: a };
    }),
    issued: c.year ? { 'date-parts': [c.month ? [c.year, c.month] : [c.year]] } : undefined,
    volume: c.volume,
    issue: c.issue,
    page: c.pages,
    ISSN: c.issn,
  };
}

const bibSafe = (s: string) => s.replace(/[{}\\@%]/g, ' ');

export function bibEntryOf(c: Citation, i: number): string {
  const f: [string, string | undefined][] = [
    ['title', c.title],
    [
      'author',
      c.authors
        .map((a) => {
          const [family, ...g] = a.split(' ');
          return g.length ? `${family}, ${g.join(' ')}` : `{${a}}`;
        })
        .join(' and '),
    ],
    ['journal', c.journal],
    ['year', c.year ? String(c.year) : undefined],
    ['volume', c.volume],
    ['number', c.issue],
    ['pages', c.pages],
    ['doi', c.doi],
    ['pmid', c.pmid],
    ['abstract', absText(c) || undefined],
  ];
  const body = f
    .filter(([, v]) => v)
    .map(([k, v]) => `  ${k} = {${k === 'author' ? v!.replace(/[\\@%]/g, ' ') : bibSafe(v!)}},`)
    .join('\n');
  return `@article{ref${i + 1},\n${body}\n}\n`;
}

/** The clean sources, each read once to know its records. `root` is the repository root. */
export async function cleanSources(root: string, tmp: string): Promise<CleanSource[]> {
  const demo = path.join(root, 'data', 'demo');
  const out: CleanSource[] = [];
  const add = async (name: string, format: InputFormat, ext: string, bytes: Buffer, starts: number[], gz?: Buffer) => {
    const f = path.join(tmp, `clean-${name}.${ext}`);
    fs.writeFileSync(f, bytes);
    const { cites, rejects } = await readAll(f, format);
    if (rejects.length) throw new Error(`clean ${name} has rejects: ${JSON.stringify(rejects[0])}`);
    if (cites.length !== starts.length)
      throw new Error(`clean ${name}: ${cites.length} citations but ${starts.length} record starts`);
    out.push({
      name,
      format,
      ext,
      bytes,
      starts,
      ids: cites.map((c) => c.pmid),
      cites: new Map(cites.map((c) => [c.pmid, c])),
      ...(gz ? { gz } : {}),
    });
  };
  const gz = fs.readFileSync(path.join(demo, 'medline16n0902.xml.gz'));
  const xml = gunzipSync(gz);
  await add('medline-xml', 'pubmed-xml', 'xml', xml, byteStarts(xml, /<MedlineCitation[\s>]/g), gz);

  const bio = path.join(root, 'test', 'fixtures', 'pubmed', 'biopython');
  const blocks: string[] = [];
  for (const f of ['pubmed1.xml', 'pubmed2.xml', 'pubmed4.xml', 'pubmed5.xml', 'pubmed6.xml', 'pubmed7.xml']) {
    const t = fs.readFileSync(path.join(bio, f), 'utf8');
    for (const m of t.matchAll(/<(PubmedArticle|PubmedBookArticle)>[\s\S]*?<\/\1>/g)) blocks.push(m[0]);
  }
  const efetch = Buffer.from(
    `<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n${blocks.join('\n')}\n</PubmedArticleSet>\n`,
  );
  await add('efetch-xml', 'pubmed-xml', 'xml', efetch, byteStarts(efetch, /<Pubmed(?:Book)?Article>/g));

  const nbib = fs.readFileSync(path.join(demo, 'mesh-papers.medline.txt'));
  await add(
    'medline-text',
    'medline',
    'nbib',
    nbib,
    byteStarts(nbib, /(?:^|\n)PMID- /g, 0).map((p, k) => (k === 0 && nbib[0] === 0x50 ? 0 : p + 1)),
  );

  const qa = fs.readFileSync(path.join(demo, 'pubmedqa-pqal-dev.json'));
  await add('pubmedqa', 'pubmedqa', 'json', qa, byteStarts(qa, /\n "\d+": \{/g, 2));

  // CSL-JSON and BibTeX made from the real MEDLINE-text records
  const { cites: med } = await readAll(path.join(demo, 'mesh-papers.medline.txt'));
  const csl = Buffer.from(JSON.stringify(med.map(cslItemOf), null, 2) + '\n');
  await add('csl', 'csl-json', 'json', csl, byteStarts(csl, /\n {2}\{/g, 3));
  const bib = Buffer.from(`@string{plos = "PloS one"}\n\n${med.map(bibEntryOf).join('\n')}`);
  await add('bibtex', 'bibtex', 'bib', bib, byteStarts(bib, /\n@article\{/g, 1));
  return out;
}

// ---------------------------------------------------------------- variants

/** Index of the record whose span holds byte p (-1 = before the first record). */
export function recordAt(src: CleanSource, p: number): number {
  let lo = 0;
  let hi = src.starts.length - 1;
  if (p < src.starts[0]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (src.starts[mid]! <= p) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const spanEnd = (src: CleanSource, k: number) => (k + 1 < src.starts.length ? src.starts[k + 1]! : src.bytes.length);

function mk(
  src: CleanSource,
  cls: string,
  name: string,
  bytes: Buffer,
  touched: number[],
  extra: Partial<Variant> = {},
): Variant {
  return {
    source: src.name,
    cls,
    name: `${src.name}/${name}`,
    format: src.format,
    ext: src.ext,
    bytes,
    touched: new Set(touched.filter((k) => k >= 0)),
    ...(touched.includes(-1) ? { header: true } : {}),
    ...extra,
  };
}

/** Replace bytes [a, b) of the clean file with `ins`; the records those bytes belong to are touched. */
function splice(src: CleanSource, a: number, b: number, ins: Buffer | string): Buffer {
  return Buffer.concat([
    src.bytes.subarray(0, a),
    Buffer.isBuffer(ins) ? ins : Buffer.from(ins),
    src.bytes.subarray(b),
  ]);
}

/** A byte offset inside the text of record k: just after the first occurrence of `after` in its span. */
function inside(src: CleanSource, k: number, after: string): number {
  const a = src.starts[k]!;
  const i = src.bytes.indexOf(after, a);
  if (i < 0 || i >= spanEnd(src, k)) throw new Error(`${src.name}: '${after}' not in record ${k}`);
  return i + Buffer.byteLength(after);
}

const TEXT_AT: Record<string, string> = {
  'medline-xml': '<ArticleTitle>',
  'efetch-xml': '<ArticleTitle>',
  'medline-text': 'TI  - ',
  pubmedqa: '"QUESTION": "',
  csl: '"title": "',
  bibtex: 'title = {',
};

function pmidSpan(src: CleanSource, k: number): [number, number] {
  const pat: Record<string, [string, string]> = {
    'medline-xml': ['<PMID Version="1">', '<'],
    'efetch-xml': ['<PMID Version="1">', '<'],
    'medline-text': ['PMID- ', '\n'],
    pubmedqa: ['"', '"'],
    csl: ['"PMID": "', '"'],
    bibtex: ['pmid = {', '}'],
  };
  const [open, close] = pat[src.name]!;
  const a = inside(src, k, open);
  return [a, src.bytes.indexOf(close, a)];
}

export interface VariantOptions {
  seed: number;
  full: boolean;
}

/** Every variant of one source (the full set), or a sample (`full: false`) for `npm test`. */
export function variantsOf(src: CleanSource, o: VariantOptions): Variant[] {
  const r = rng(o.seed ^ [...src.name].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 16777619), 2166136261));
  const out: Variant[] = [];
  const n = src.starts.length;
  const some = (count: number) => Array.from({ length: count }, () => pick(r, n));
  const len = src.bytes.length;
  const xml = src.format === 'pubmed-xml';

  // truncations: at a random byte, and right inside a record start
  for (let t = 0; t < (o.full ? 12 : 2); t++) {
    const p = t === 1 ? src.starts[pick(r, n)]! + 3 : src.starts[0]! + pick(r, len - src.starts[0]!);
    const k = recordAt(src, p);
    const gone = new Set<number>();
    for (let j = k + 1; j < n; j++) gone.add(j);
    out.push(mk(src, 'truncate', `truncate@${p}`, src.bytes.subarray(0, p), [k], { gone }));
  }
  // byte flips: 1, 4, 16 random bytes replaced by random other bytes
  for (const flips of o.full ? [1, 1, 1, 1, 4, 4, 4, 16, 16, 16] : [1, 4]) {
    const b = Buffer.from(src.bytes);
    const touched: number[] = [];
    for (let f = 0; f < flips; f++) {
      const p = pick(r, len);
      let v = pick(r, 256);
      if (v === b[p]) v = (v + 1) & 0xff;
      b[p] = v;
      touched.push(recordAt(src, p));
    }
    out.push(mk(src, 'flip', `flip${flips}#${out.length}`, b, touched));
  }
  // bad bytes inside a record's text
  for (const [label, byte] of (o.full
    ? [
        ['nul', 0x00],
        ['ff', 0xff],
        ['soh', 0x01],
        ['esc', 0x1b],
      ]
    : [['nul', 0x00]]) as [string, number][]) {
    const k = pick(r, n);
    const p = inside(src, k, TEXT_AT[src.name]!) + 2;
    out.push(mk(src, 'bad-byte', `bad-byte-${label}@${k}`, splice(src, p, p, Buffer.from([byte])), [k]));
  }
  // bad PMIDs
  const pmids: [string, string | undefined][] = [
    ['0', undefined],
    ['00000000001', '1'],
    ['12345678901234567890', undefined],
    ['12a45', undefined],
  ];
  for (const [pm, becomes] of o.full ? pmids : pmids.slice(0, 2)) {
    const k = pick(r, n);
    const [a, b] = pmidSpan(src, k);
    const lib = src.format === 'csl-json' || src.format === 'bibtex';
    // a library item with an unusable PMID is kept under its DOI or key
    const alt = lib
      ? src.cites.get(src.ids[k]!)?.doi
        ? `doi:${src.cites.get(src.ids[k]!)!.doi}`
        : `key:ref${k + 1}`
      : undefined;
    out.push(
      mk(src, 'bad-pmid', `bad-pmid-${pm.length > 12 ? '20digits' : pm}@${k}`, splice(src, a, b, pm), [k], {
        renamed: new Map([[k, becomes ?? alt]]),
      }),
    );
  }
  // deep nesting
  for (const depth of o.full ? [10_000, 100_000] : [10_000]) {
    const k = pick(r, n);
    const p = inside(src, k, TEXT_AT[src.name]!);
    let ins: string;
    if (xml) ins = '<i>'.repeat(depth) + 'deep' + '</i>'.repeat(depth);
    else if (src.format === 'bibtex') ins = '{'.repeat(depth) + 'deep' + '}'.repeat(depth);
    else if (src.format === 'medline')
      ins = '('.repeat(depth) + ')'.repeat(depth); // no nesting in MEDLINE text: a long line
    else {
      // JSON: a nested array as an extra field before the title
      const q = src.bytes.lastIndexOf('"', p - 2);
      const key = src.bytes.lastIndexOf('"', q - 1);
      const at = key;
      const deep = `"deep": ${'['.repeat(depth)}${']'.repeat(depth)},\n    `;
      out.push(mk(src, 'deep-nesting', `deep${depth}@${k}`, splice(src, at, at, deep), [k]));
      continue;
    }
    out.push(mk(src, 'deep-nesting', `deep${depth}@${k}`, splice(src, p, p, ins), [k]));
  }
  // a run of '<' in one record's text (quadratic tag stripping)
  if (o.full || src.format === 'csl-json') {
    const k = pick(r, n);
    const p = inside(src, k, TEXT_AT[src.name]!);
    const run = src.format === 'pubmed-xml' ? '&lt;'.repeat(200_000) : '<'.repeat(200_000);
    out.push(mk(src, 'angle-run', `angle-run@${k}`, splice(src, p, p, run), [k]));
  }
  // format-specific damage
  if (src.format === 'csl-json' || src.format === 'pubmedqa') {
    const nulls: [string, string][] =
      src.format === 'csl-json'
        ? [
            ['author-null', '"author": [null],'],
            ['title-object', '"title": {"a": 1},'],
            ['abstract-number', '"abstract": 42,'],
            ['issued-string', '"issued": "2019",'],
            ['doi-null', '"DOI": null,'],
            ['author-string', '"author": "Smith J",'],
            ['pmid-object', '"PMID": {"x": 1},'],
            ['date-parts-junk', '"issued": {"date-parts": [null, "x"]},'],
          ]
        : [
            ['contexts-null', '"CONTEXTS": null,'],
            ['labels-object', '"LABELS": {"a": 1},'],
            ['meshes-numbers', '"MESHES": [1, 2, null],'],
            ['year-string', '"YEAR": "two thousand",'],
          ];
    for (const [label, field] of o.full ? nulls : nulls.slice(0, 3)) {
      const k = pick(r, n);
      // JSON keeps the last of duplicate keys: the hostile field goes last in the record
      const close = src.bytes.lastIndexOf(src.format === 'csl-json' ? '\n  }' : '\n }', spanEnd(src, k));
      const b = splice(src, close, close, `,\n    ${field.replace(/,$/, '')}`);
      out.push(mk(src, 'null-fields', `${label}@${k}`, b, [k]));
    }
    for (const v of o.full ? ['null', '42', '"text"', '[]'] : ['null']) {
      const k = pick(r, n);
      const a = src.format === 'csl-json' ? src.starts[k]! : src.bytes.indexOf('{', src.starts[k]!);
      const end =
        src.format === 'csl-json'
          ? src.bytes.lastIndexOf('}', spanEnd(src, k)) + 1
          : src.bytes.lastIndexOf('}', spanEnd(src, k) - 1) + 1;
      out.push(mk(src, 'not-object', `not-object-${v}@${k}`, splice(src, a, end, v), [k]));
    }
  }
  if (src.format === 'bibtex') {
    const ks = some(o.full ? 3 : 2);
    // a field's closing brace removed: the entry does not close before the next one
    {
      const k = ks[0]!;
      const p = src.bytes.indexOf('},', inside(src, k, 'title = {'));
      out.push(mk(src, 'unbalanced', `unbalanced-missing@${k}`, splice(src, p, p + 1, ''), [k]));
    }
    // an extra closing brace: the entry closes early (its later fields are lost, it is kept)
    {
      const k = ks[1]!;
      const p = inside(src, k, 'title = {') + 3;
      out.push(mk(src, 'unbalanced', `unbalanced-extra@${k}`, splice(src, p, p, '}'), [k]));
    }
    if (o.full) {
      const k = ks[2]!;
      const p = src.starts[k]!;
      out.push(mk(src, 'unbalanced', `no-key@${k}`, splice(src, p, inside(src, k, ',\n') - 2, '@article{'), [k]));
    }
  }
  // a 40 MB field: over the record limit, skipped in bounded memory
  if (o.full) {
    const k = pick(r, n);
    const p = inside(src, k, TEXT_AT[src.name]!);
    out.push(mk(src, 'huge-field', `huge-field@${k}`, splice(src, p, p, 'x'.repeat(40 * 2 ** 20)), [k]));
  }
  // gzip damage on the real .gz
  if (src.gz) {
    for (let t = 0; t < (o.full ? 4 : 1); t++) {
      const cut = 100 + pick(r, src.gz.length - 100);
      out.push({
        ...mk(src, 'gzip-truncate', `gzip-truncate@${cut}`, src.gz.subarray(0, cut), []),
        ext: 'xml.gz',
        prefixOnly: true,
      });
    }
    for (let t = 0; t < (o.full ? 4 : 1); t++) {
      const b: Buffer = Buffer.from(src.gz);
      const p = 100 + pick(r, b.length - 100);
      b[p] = b[p]! ^ (1 + pick(r, 255));
      out.push({ ...mk(src, 'gzip-flip', `gzip-flip@${p}`, b, []), ext: 'xml.gz', prefixOnly: true });
    }
  } else if (o.full && src.format !== 'csl-json') {
    // the same damage through gzip: a truncated .gz of the clean file
    const z = gzipSync(src.bytes);
    const cut = Math.floor(z.length * (0.3 + 0.4 * r()));
    out.push({
      ...mk(src, 'gzip-truncate', `gzip-truncate@${cut}`, z.subarray(0, cut), []),
      ext: `${src.ext}.gz`,
      prefixOnly: true,
    });
  }
  return out;
}

// ---------------------------------------------------------------- the check

export interface Outcome {
  variant: string;
  cls: string;
  ok: boolean;
  problems: string[];
  kept: number;
  rejects: number;
  notes: number;
  /** untouched records that did not come out, or came out different */
  lost: number;
  /** touched records that are missing */
  missingTouched: number;
  ms: number;
  mb: number;
  /** peak growth of heap + buffers while reading, MiB */
  peakMiB: number;
}

let gcFn: (() => void) | undefined;
function gc(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}
const live = () => {
  const u = process.memoryUsage();
  return u.heapUsed + u.arrayBuffers;
};

const same = (a: Citation, b: Citation) =>
  a.title === b.title &&
  JSON.stringify(a.abstract) === JSON.stringify(b.abstract) &&
  JSON.stringify(a.authors) === JSON.stringify(b.authors) &&
  a.journal === b.journal &&
  a.year === b.year;

/** Read one variant and check it. `tolerance`: untouched records allowed to be lost next to a touched one. */
export async function checkVariant(
  src: CleanSource,
  v: Variant,
  dir: string,
  opts: { measureMemory?: boolean } = {},
): Promise<Outcome> {
  const file = path.join(dir, `${v.name.replace(/[^\w.-]+/g, '_')}.${v.ext}`);
  fs.writeFileSync(file, v.bytes);
  const problems: string[] = [];
  const cites: Citation[] = [];
  const rejects: Extract<ReaderEvent, { type: 'reject' }>[] = [];
  let notes = 0;
  if (opts.measureMemory) gc();
  const base = opts.measureMemory ? live() : 0;
  let peak = 0;
  let n = 0;
  const t0 = performance.now();
  try {
    for await (const ev of readCitations(file, { format: v.format })) {
      if (ev.type === 'citation') cites.push(ev.citation);
      else if (ev.type === 'reject') rejects.push(ev);
      else if (ev.type === 'note') notes++;
      if (opts.measureMemory && ++n % 50 === 0) peak = Math.max(peak, live() - base - cites.length * 0);
    }
  } catch (e) {
    problems.push(`reader threw: ${errorText(e)}`);
  }
  const ms = performance.now() - t0;
  if (opts.measureMemory) peak = Math.max(peak, live() - base);
  fs.rmSync(file, { force: true });

  for (const r of rejects) {
    if (r.file !== file) problems.push(`reject names file '${r.file}'`);
    if (!r.record) problems.push('reject without a record');
    if (!/^(line|byte) \d+$/.test(r.where)) problems.push(`reject where '${r.where}' is not 'line N' / 'byte N'`);
    if (!r.message) problems.push('reject without a message');
  }
  const got = new Map<string, Citation>();
  for (const c of cites) got.set(c.pmid, c);
  const strayTitles = new Set(cites.filter((c) => !src.cites.has(c.pmid)).map((c) => c.title));
  let lost = 0;
  let missingTouched = 0;
  const lostNames: string[] = [];
  if (v.prefixOnly) {
    // gzip damage: what came out must be the clean records in order, from the first; a reject must say where it broke
    // (a flipped deflate byte can change the output before zlib notices, at the latest at the CRC check at the end:
    // records from the damage on may differ; a truncation must give exactly a clean prefix)
    const changed = cites.findIndex((c, i) => c.pmid !== src.ids[i] || !same(c, src.cites.get(c.pmid)!));
    if (v.cls === 'gzip-truncate' && changed >= 0) {
      lost = cites.length - changed;
      lostNames.push(cites[changed]!.pmid);
    }
    if ((cites.length < src.ids.length || changed >= 0) && !rejects.length)
      problems.push(`${src.ids.length - cites.length} records missing or changed and no reject`);
  } else {
    src.ids.forEach((id, k) => {
      if (v.gone?.has(k)) return;
      if (v.renamed?.has(k)) {
        const want = v.renamed.get(k);
        if (want === undefined) {
          if (got.has(id)) problems.push(`record ${k} (${id}) with a bad PMID was kept`);
          else missingTouched++;
        } else if (!got.has(want)) {
          missingTouched++;
          problems.push(`record ${k} should be read as '${want}'`);
        }
        return;
      }
      if (v.touched.has(k) || v.header) {
        // a damaged record may come out under another id (a library item whose PMID was hit: its DOI or key)
        if (!got.has(id) && !strayTitles.has(src.cites.get(id)!.title)) missingTouched++;
        return;
      }
      const c = got.get(id);
      if (!c || !same(c, src.cites.get(id)!)) {
        lost++;
        lostNames.push(`${k}:${id}${c ? ' (changed)' : ''}`);
      }
    });
    if (missingTouched > rejects.length)
      problems.push(`${missingTouched} damaged records missing but only ${rejects.length} rejects`);
  }
  if (lost) problems.push(`${lost} undamaged records lost or changed: ${lostNames.slice(0, 5).join(', ')}`);
  const mb = v.bytes.length / 2 ** 20;
  return {
    variant: v.name,
    cls: v.cls,
    ok: problems.length === 0,
    problems,
    kept: cites.length,
    rejects: rejects.length,
    notes,
    lost,
    missingTouched,
    ms,
    mb,
    peakMiB: peak / 2 ** 20,
  };
}
