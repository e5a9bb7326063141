// PubMed XML reader: `PubmedArticleSet` (today's baseline/update files and efetch output, with `PubmedArticle`,
// `PubmedBookArticle` and `DeleteCitation`) and the older `MedlineCitationSet` (`MedlineCitation`), plain or gzip.
//
// Constant memory: the decompressed byte stream is cut at top-level record boundaries (only the record being read
// is buffered), each record is checked as strict UTF-8 and parsed with saxes into a small element tree, and mapped
// to a Citation. A malformed record, bad UTF-8 or a record cut off by the end of the file (or of a truncated gzip)
// becomes a `reject` event naming the file, record (PMID or #ordinal) and line/byte; reading resumes at the next
// record start, so the good records of the file all come out. Elements nested deeper than MAX_XML_DEPTH reject their
// record (PubMed's own are < 20 deep); every walk over the element tree is iterative. PMIDs, DOIs and PMCIDs go
// through src/index/ids.ts.
import { SaxesParser } from 'saxes';
import type { Citation, MeshHeading, AbstractSection, ReaderEvent } from '../citation';
import {
  readBytes,
  GzipError,
  decodeUtf8,
  countNewlines,
  firstYear,
  firstMonth,
  monthNumber,
  clean,
  initialsOf,
  ByteQueue,
  MAX_RECORD_BYTES,
  stripControlChars,
} from './source';
import { normalizeDoi, normalizeIssn, normalizePmcid, normalizePmid } from '../ids';
import { errorText } from '../../util/errors';

export { MAX_RECORD_BYTES } from './source';

/** A record whose elements nest deeper than this is rejected (PubMed records, MathML included, stay far below). */
export const MAX_XML_DEPTH = 256;

// ---------------------------------------------------------------- a tiny element tree for one record

export interface El {
  name: string;
  attrs: Record<string, string>;
  kids: (El | string)[];
}

function parseRecord(xml: string): El {
  const parser = new SaxesParser({ position: true });
  const stack: El[] = [];
  let root: El | undefined;
  parser.on('opentag', (t) => {
    if (stack.length >= MAX_XML_DEPTH) {
      throw Object.assign(new Error(`elements nested deeper than ${MAX_XML_DEPTH} levels (<${t.name}>)`), {
        line: parser.line,
        column: parser.column,
        own: true,
      });
    }
    const el: El = { name: t.name, attrs: t.attributes as Record<string, string>, kids: [] };
    if (stack.length) stack[stack.length - 1]!.kids.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const onText = (t: string) => {
    if (stack.length) stack[stack.length - 1]!.kids.push(t);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  let err: Error | undefined;
  parser.on('error', (e) => {
    if (!err) err = Object.assign(e, { line: parser.line, column: parser.column });
    throw e;
  });
  try {
    parser.write(xml).close();
  } catch (e) {
    if ((e as { own?: boolean }).own) throw e;
    throw err ?? e;
  }
  if (!root) throw Object.assign(new Error('no element in record'), { line: 1, column: 0 });
  return root;
}

export function child(el: El | undefined, name: string): El | undefined {
  if (!el) return undefined;
  for (const k of el.kids) if (typeof k !== 'string' && k.name === name) return k;
  return undefined;
}

export function children(el: El | undefined, name: string): El[] {
  if (!el) return [];
  const out: El[] = [];
  for (const k of el.kids) if (typeof k !== 'string' && k.name === name) out.push(k);
  return out;
}

export function path(el: El | undefined, p: string): El | undefined {
  let cur = el;
  for (const part of p.split('/')) cur = child(cur, part);
  return cur;
}

/** All descendant text, inline markup (<i>, <sup>, MathML …) flattened, whitespace collapsed. */
export function text(el: El | undefined): string {
  if (!el) return '';
  const parts: string[] = [];
  // iterative depth-first walk (a recursive one overflows the stack on deeply nested input)
  const todo: (El | string)[] = [el];
  while (todo.length) {
    const k = todo.pop()!;
    if (typeof k === 'string') parts.push(k);
    else for (let i = k.kids.length - 1; i >= 0; i--) todo.push(k.kids[i]!);
  }
  return clean(parts.join(''));
}

// ---------------------------------------------------------------- element tree → Citation

function authorsOf(list: El | undefined): string[] {
  const out: string[] = [];
  for (const a of children(list, 'Author')) {
    if (a.attrs['ValidYN'] === 'N') continue;
    const collective = text(child(a, 'CollectiveName'));
    if (collective) {
      out.push(collective);
      continue;
    }
    const last = text(child(a, 'LastName'));
    if (!last) continue;
    const ini = text(child(a, 'Initials')) || initialsOf(text(child(a, 'ForeName')));
    const suffix = text(child(a, 'Suffix'));
    out.push([last, ini, suffix].filter(Boolean).join(' '));
  }
  return out;
}

function abstractOf(abs: El | undefined): AbstractSection[] {
  const out: AbstractSection[] = [];
  for (const t of children(abs, 'AbstractText')) {
    const s = text(t);
    if (!s) continue;
    const label = t.attrs['Label']?.trim();
    const cat = t.attrs['NlmCategory']?.trim();
    const sec: AbstractSection = { text: s };
    if (label || (cat && cat !== 'UNASSIGNED')) sec.label = label || cat;
    if (cat) sec.category = cat;
    out.push(sec);
  }
  return out;
}

function meshOf(list: El | undefined): MeshHeading[] {
  const out: MeshHeading[] = [];
  for (const h of children(list, 'MeshHeading')) {
    const d = child(h, 'DescriptorName');
    if (!d) continue;
    const qualifiers = children(h, 'QualifierName').map((q) => {
      const r: { ui?: string; name: string; major: boolean } = {
        name: text(q),
        major: q.attrs['MajorTopicYN'] === 'Y',
      };
      if (q.attrs['UI']) r.ui = q.attrs['UI'];
      return r;
    });
    const m: MeshHeading = {
      name: text(d),
      major: d.attrs['MajorTopicYN'] === 'Y' || qualifiers.some((q) => q.major),
      qualifiers,
    };
    if (d.attrs['UI']) m.ui = d.attrs['UI'];
    out.push(m);
  }
  return out;
}

function yearOf(pubDate: El | undefined, ...fallbacks: (El | undefined)[]): number | undefined {
  const y = firstYear(text(child(pubDate, 'Year'))) ?? firstYear(text(child(pubDate, 'MedlineDate')));
  if (y !== undefined) return y;
  for (const f of fallbacks) {
    const fy = firstYear(text(child(f, 'Year')));
    if (fy !== undefined) return fy;
  }
  return undefined;
}

function idsOf(articleIds: El | undefined, type: string): string | undefined {
  for (const id of children(articleIds, 'ArticleId')) if (id.attrs['IdType'] === type && text(id)) return text(id);
  return undefined;
}

/** Map one top-level record element to a Citation ('' pmid means the record has none). */
export function citationFromElement(rec: El, source: string): Citation {
  if (rec.name === 'PubmedBookArticle') return bookCitation(rec, source);
  const mc = rec.name === 'MedlineCitation' ? rec : child(rec, 'MedlineCitation');
  const pubmedData = child(rec, 'PubmedData');
  const art = child(mc, 'Article');
  const journal = child(art, 'Journal');
  const eloc = children(art, 'ELocationID').find((e) => e.attrs['EIdType'] === 'doi');
  const articleIds = child(pubmedData, 'ArticleIdList');
  let pmcid = idsOf(articleIds, 'pmc');
  if (!pmcid) {
    for (const o of children(mc, 'OtherID')) {
      const m = /PMC\d+/.exec(text(o));
      if (m) {
        pmcid = m[0];
        break;
      }
    }
  }
  const c: Citation = {
    pmid: text(child(mc, 'PMID')),
    title: text(child(art, 'ArticleTitle')) || text(child(art, 'VernacularTitle')),
    abstract: abstractOf(child(art, 'Abstract')),
    authors: authorsOf(child(art, 'AuthorList')),
    journal:
      text(child(journal, 'Title')) ||
      text(child(journal, 'ISOAbbreviation')) ||
      text(path(mc, 'MedlineJournalInfo/MedlineTA')),
    publicationTypes: children(child(art, 'PublicationTypeList'), 'PublicationType').map(text).filter(Boolean),
    mesh: meshOf(child(mc, 'MeshHeadingList')),
    source,
  };
  const pubDate = path(journal, 'JournalIssue/PubDate');
  const year = yearOf(pubDate, child(art, 'ArticleDate'));
  if (year !== undefined) c.year = year;
  const month = monthNumber(text(child(pubDate, 'Month'))) ?? firstMonth(text(child(pubDate, 'MedlineDate')));
  if (month !== undefined) c.month = month;
  const volume = text(path(journal, 'JournalIssue/Volume'));
  if (volume) c.volume = volume;
  const issue = text(path(journal, 'JournalIssue/Issue'));
  if (issue) c.issue = issue;
  const pg = child(art, 'Pagination');
  const start = text(child(pg, 'StartPage'));
  const end = text(child(pg, 'EndPage'));
  const pages =
    text(child(pg, 'MedlinePgn')) ||
    (start ? (end && end !== start ? `${start}-${end}` : start) : '') ||
    text(children(art, 'ELocationID').find((e) => e.attrs['EIdType'] !== 'doi' && e.attrs['ValidYN'] !== 'N'));
  if (pages) c.pages = pages;
  const issn =
    normalizeIssn(text(child(journal, 'ISSN'))) ?? normalizeIssn(text(path(mc, 'MedlineJournalInfo/ISSNLinking')));
  if (issn) c.issn = issn;
  const doi = idsOf(articleIds, 'doi') || (eloc ? text(eloc) : '');
  if (doi) c.doi = doi;
  if (pmcid) c.pmcid = pmcid;
  const lang = text(child(art, 'Language'));
  if (lang) c.language = lang;
  const kw = children(child(mc, 'KeywordList'), 'Keyword').map(text).filter(Boolean);
  if (kw.length) c.keywords = kw;
  return c;
}

function bookCitation(rec: El, source: string): Citation {
  const doc = child(rec, 'BookDocument');
  const book = child(doc, 'Book');
  const c: Citation = {
    pmid: text(child(doc, 'PMID')),
    title: text(child(doc, 'ArticleTitle')) || text(child(book, 'BookTitle')),
    abstract: abstractOf(child(doc, 'Abstract')),
    authors: authorsOf(child(doc, 'AuthorList') ?? child(book, 'AuthorList')),
    journal: text(child(book, 'BookTitle')) || text(path(book, 'Publisher/PublisherName')),
    publicationTypes: [
      ...children(doc, 'PublicationType'),
      ...children(child(doc, 'PublicationTypeList'), 'PublicationType'),
    ]
      .map(text)
      .filter(Boolean),
    mesh: [],
    source,
  };
  const year = yearOf(child(book, 'PubDate'));
  if (year !== undefined) c.year = year;
  const doi = idsOf(path(rec, 'PubmedBookData/ArticleIdList'), 'doi');
  if (doi) c.doi = doi;
  const lang = text(child(doc, 'Language'));
  if (lang) c.language = lang;
  return c;
}

// ---------------------------------------------------------------- record boundaries in the byte stream

const ALL = ['PubmedArticle', 'PubmedBookArticle', 'MedlineCitation', 'DeleteCitation'] as const;
type RecName = (typeof ALL)[number];
/** Record starts that end a record of the given kind early (nested MedlineCitation is not one for PubmedArticle). */
const RESYNC: Record<RecName, readonly RecName[]> = {
  PubmedArticle: ['PubmedArticle', 'PubmedBookArticle', 'DeleteCitation'],
  PubmedBookArticle: ['PubmedArticle', 'PubmedBookArticle', 'DeleteCitation'],
  MedlineCitation: ['MedlineCitation', 'PubmedArticle', 'DeleteCitation'],
  DeleteCitation: ALL,
};
const OPEN = Object.fromEntries(ALL.map((n) => [n, Buffer.from('<' + n)])) as Record<RecName, Buffer>;
const CLOSE = Object.fromEntries(ALL.map((n) => [n, Buffer.from('</' + n)])) as Record<RecName, Buffer>;
const KEEP_TAIL = 64;
/** What may stand between records: the XML declaration, processing instructions, DOCTYPE, comments, root tags, space. */
const GAP_OK =
  /<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>[]*(?:\[[\s\S]*?\])?\s*>|<\/?(?:PubmedArticleSet|MedlineCitationSet|PubmedBookArticleSet)\b[^>]*>/g;

function isNameEnd(c: number | undefined): boolean {
  return c === 0x3e /* > */ || c === 0x2f /* / */ || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Earliest start tag of one of `names` in buf[from..limit); only complete tag names count. Searches growing
 * windows so that names absent from the file do not cost a scan of the whole buffer per record.
 */
function findStart(
  buf: Buffer,
  from: number,
  names: readonly RecName[],
  limit = buf.length,
): { pos: number; name: RecName } | undefined {
  for (let w = 8192; ; w *= 8) {
    const end = Math.min(limit, from + w);
    const r = findStartIn(buf, from, names, end);
    if (r || end >= limit) return r;
  }
}

function findStartIn(
  buf: Buffer,
  from: number,
  names: readonly RecName[],
  end: number,
): { pos: number; name: RecName } | undefined {
  let best: { pos: number; name: RecName } | undefined;
  const win = end < buf.length ? buf.subarray(0, end) : buf;
  for (const name of names) {
    const pat = OPEN[name];
    let i = from;
    for (;;) {
      const j = win.indexOf(pat, i);
      if (j < 0 || (best && j >= best.pos)) break;
      const next = buf[j + pat.length];
      if (next !== undefined && isNameEnd(next)) {
        best = { pos: j, name };
        break;
      }
      if (next === undefined) break; // undecidable until more data arrives
      i = j + 1;
    }
  }
  return best;
}

/** End (exclusive) of the closing tag of `name` in buf[from..], or -1. */
function findEnd(buf: Buffer, from: number, name: RecName): number {
  const pat = CLOSE[name];
  let i = from;
  for (;;) {
    const j = buf.indexOf(pat, i);
    if (j < 0) return -1;
    let k = j + pat.length;
    while (k < buf.length && (buf[k] === 0x20 || buf[k] === 0x09 || buf[k] === 0x0a || buf[k] === 0x0d)) k++;
    if (k >= buf.length) return -1;
    if (buf[k] === 0x3e) return k + 1;
    i = j + 1;
  }
}

function guessPmid(b: Buffer): string | undefined {
  const m = /<PMID[^>]*>\s*(\d+)\s*<\/PMID>/.exec(b.subarray(0, Math.min(b.length, 4096)).toString('latin1'));
  const p = m ? normalizePmid(m[1]) : undefined;
  return p && 'value' in p ? p.value : undefined;
}

/** Normalise DOI and PMCID in place (src/index/ids.ts); an invalid one is left out. Returns notes. */
export function checkIds(c: Citation): string[] {
  const notes: string[] = [];
  if (c.doi !== undefined) {
    const d = normalizeDoi(c.doi);
    if ('value' in d) c.doi = d.value;
    else {
      delete c.doi;
      notes.push(`${d.error}; left out`);
    }
  }
  if (c.pmcid !== undefined) {
    const p = normalizePmcid(c.pmcid);
    if ('value' in p) c.pmcid = p.value;
    else {
      delete c.pmcid;
      notes.push(`${p.error}; left out`);
    }
  }
  const fields = stripControlChars(c as unknown as Record<string, unknown>);
  if (fields.length) notes.push(`control characters removed from ${fields.join(', ')}`);
  return notes;
}

export interface XmlReadOptions {
  signal?: AbortSignal;
  /** Called as the file is read: bytes of the file (compressed, for .gz) read so far, and the file size. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/** Stream the citations (and deletions, and rejects) of a PubMed XML file. */
export async function* readPubmedXml(file: string, opts: XmlReadOptions = {}): AsyncGenerator<ReaderEvent> {
  const queue = new ByteQueue();
  let pending: Buffer = queue.view();
  let pendingStart = 0; // absolute byte offset of pending[0]
  let pendingLine = 1; // line number at pending[0]
  let inside: { name: RecName } | undefined; // the record being read starts at pending[0]
  let scanFrom = 0;
  let ordinal = 0;
  let records = 0;

  const lineAt = (rel: number) => pendingLine + countNewlines(pending, 0, rel);
  const consume = (rel: number) => {
    pendingLine += countNewlines(pending, 0, rel);
    pendingStart += rel;
    queue.consume(rel);
    pending = queue.view();
  };

  function* handleRecord(rec: Buffer, absStart: number, line: number): Generator<ReaderEvent> {
    ordinal++;
    records++;
    const id = () => guessPmid(rec) ?? `#${ordinal}`;
    const dec = decodeUtf8(rec);
    if ('badByte' in dec) {
      const abs = absStart + dec.badByte;
      const l = line + countNewlines(rec, 0, dec.badByte);
      yield {
        type: 'reject',
        file,
        record: id(),
        where: `byte ${abs}`,
        message: `invalid UTF-8 (byte 0x${rec[dec.badByte]!.toString(16).padStart(2, '0')}) at byte ${abs}, line ${l}`,
      };
      return;
    }
    let el: El;
    try {
      el = parseRecord(dec.text);
    } catch (e) {
      const err = e as Error & { line?: number; column?: number };
      const l = line + (err.line ?? 1) - 1;
      const msg = err.message.replace(/^(?:[^:\n]*:)?\d+:\d+: /, '');
      const col = err.column !== undefined ? `, column ${err.column}` : '';
      yield {
        type: 'reject',
        file,
        record: id(),
        where: `line ${l}`,
        message: `malformed XML at line ${l}${col}: ${msg}`,
      };
      return;
    }
    if (el.name === 'DeleteCitation') {
      const pmids: string[] = [];
      for (const raw of children(el, 'PMID').map(text).filter(Boolean)) {
        const p = normalizePmid(raw);
        if ('value' in p) pmids.push(p.value);
        else
          yield {
            type: 'note',
            file,
            record: `#${ordinal}`,
            where: `line ${line}`,
            message: `<DeleteCitation> at line ${line}: ${p.error}; not deleted`,
          };
      }
      if (pmids.length) yield { type: 'delete', pmids };
      return;
    }
    let c: Citation;
    try {
      c = citationFromElement(el, file);
    } catch (e) {
      yield {
        type: 'reject',
        file,
        record: id(),
        where: `line ${line}`,
        message: `<${el.name}> at line ${line} could not be read: ${errorText(e)}`,
      };
      return;
    }
    if (!c.pmid) {
      yield { type: 'reject', file, record: `#${ordinal}`, where: `line ${line}`, message: `<${el.name}> has no PMID` };
      return;
    }
    const p = normalizePmid(c.pmid);
    if ('error' in p) {
      yield {
        type: 'reject',
        file,
        record: `#${ordinal}`,
        where: `line ${line}`,
        message: `${p.error} (<${el.name}> at line ${line})`,
      };
      return;
    }
    c.pmid = p.value;
    for (const message of checkIds(c)) yield { type: 'note', file, record: c.pmid, where: `line ${line}`, message };
    yield { type: 'citation', citation: c };
  }

  // Text between records other than the XML declaration, DOCTYPE, comments and the root tags is a damaged record
  // (e.g. a start tag whose name was hit): it is rejected once, named by the PMID in it where there is one.
  let gap: { at: number; line: number; text: string; pmid?: string } | undefined;
  let skippingTail = false; // the rest of a record too long to keep: not 'text between records'
  const noteGap = (end: number) => {
    if (
      gap ||
      end <= 0 ||
      skippingTail ||
      (root !== 'PubmedArticleSet' && root !== 'MedlineCitationSet' && root !== 'PubmedBookArticleSet')
    )
      return;
    const t = pending.subarray(0, Math.min(end, 8 * 1024)).toString('latin1'); // bounded: GAP_OK is lazy
    const rest = t.replace(GAP_OK, (m) => ' '.repeat(m.length));
    const off = rest.search(/\S/);
    if (off < 0) return;
    gap = {
      at: pendingStart + off,
      line: lineAt(off),
      text: t.slice(off, off + 60).replace(/\s+/g, ' '),
      pmid: guessPmid(pending.subarray(off, end)),
    };
  };
  function* gapReject(): Generator<ReaderEvent> {
    if (!gap) return;
    ordinal++;
    records++;
    yield {
      type: 'reject',
      file,
      record: gap.pmid ?? `#${ordinal}`,
      where: `line ${gap.line}`,
      message: `unreadable text between records at line ${gap.line} (byte ${gap.at}), no record start tag: '${gap.text}'`,
    };
    gap = undefined;
  }

  /** Emit every complete record in `pending`; keep only the unfinished one (or a short tail). */
  function* drain(): Generator<ReaderEvent> {
    for (;;) {
      if (!inside) {
        const s = findStart(pending, scanFrom, ALL);
        if (!s) {
          const cut = Math.max(0, pending.length - KEEP_TAIL);
          noteGap(cut);
          consume(cut);
          scanFrom = 0;
          return;
        }
        noteGap(s.pos);
        yield* gapReject();
        skippingTail = false;
        consume(s.pos);
        inside = { name: s.name };
        scanFrom = 1;
      }
      const end = findEnd(pending, scanFrom, inside.name);
      const next = findStart(pending, scanFrom, RESYNC[inside.name], end >= 0 ? end : pending.length);
      if (end >= 0 && (!next || end <= next.pos)) {
        const rec = pending.subarray(0, end);
        yield* handleRecord(rec, pendingStart, pendingLine);
        consume(end);
        inside = undefined;
        scanFrom = 0;
        continue;
      }
      if (next) {
        // The record never closed before the next one starts: reject it and resync there.
        ordinal++;
        records++;
        const rec = pending.subarray(0, next.pos);
        yield {
          type: 'reject',
          file,
          record: guessPmid(rec) ?? `#${ordinal}`,
          where: `line ${pendingLine}`,
          message: `<${inside.name}> starting at line ${pendingLine} is not closed before the next record at line ${lineAt(next.pos)}`,
        };
        consume(next.pos);
        inside = { name: next.name };
        scanFrom = 1;
        continue;
      }
      if (pending.length > MAX_RECORD_BYTES) {
        ordinal++;
        records++;
        yield {
          type: 'reject',
          file,
          record: guessPmid(pending) ?? `#${ordinal}`,
          where: `line ${pendingLine}`,
          message: `<${inside.name}> starting at line ${pendingLine} is longer than ${MAX_RECORD_BYTES / 2 ** 20} MB without closing; skipped to the next record`,
        };
        consume(pending.length - KEEP_TAIL);
        inside = undefined;
        scanFrom = 0;
        skippingTail = true;
        return;
      }
      scanFrom = Math.max(1, pending.length - KEEP_TAIL);
      return;
    }
  }

  let root: string | undefined;
  try {
    for await (const chunk of readBytes(file, opts.signal, opts.onProgress)) {
      if (inside && pending.length + chunk.length > MAX_RECORD_BYTES && findEnd(pending, scanFrom, inside.name) < 0) {
        // the record would grow past the limit: reject it now, before buffering more of it
        ordinal++;
        records++;
        yield {
          type: 'reject',
          file,
          record: guessPmid(pending) ?? `#${ordinal}`,
          where: `line ${pendingLine}`,
          message: `<${inside.name}> starting at line ${pendingLine} is longer than ${MAX_RECORD_BYTES / 2 ** 20} MB without closing; skipped to the next record`,
        };
        consume(Math.max(0, pending.length - KEEP_TAIL));
        inside = undefined;
        scanFrom = 0;
        skippingTail = true;
      }
      queue.append(chunk);
      pending = queue.view();
      if (root === undefined) {
        const m = /<([A-Za-z_][\w.-]*)/.exec(
          pending
            .subarray(0, 64 * 1024)
            .toString('latin1')
            .replace(/<[?!][\s\S]*?>/g, ''),
        );
        if (m) root = m[1];
      }
      for (const ev of drain()) {
        opts.signal?.throwIfAborted();
        yield ev;
      }
    }
  } catch (e) {
    if (!(e instanceof GzipError)) throw e;
    for (const ev of drain()) yield ev;
    const rec = inside ? pending : undefined;
    const which = rec ? (guessPmid(rec) ?? `#${ordinal + 1}`) : `#${ordinal + 1}`;
    const cut = rec
      ? `; the record starting at line ${pendingLine} (decompressed byte ${pendingStart}) is cut off`
      : '';
    yield {
      type: 'reject',
      file,
      record: which,
      where: `byte ${e.compressedByte}`,
      message: `${e.message}, after ${e.decompressedBytes} decompressed bytes${cut}; ${records} records before it were read`,
    };
    return;
  }
  if (!inside) {
    noteGap(pending.length);
    yield* gapReject();
  }
  if (inside) {
    ordinal++;
    yield {
      type: 'reject',
      file,
      record: guessPmid(pending) ?? `#${ordinal}`,
      where: `line ${pendingLine}`,
      message: `file ends inside <${inside.name}> that starts at line ${pendingLine} (truncated file?)`,
    };
    return;
  }
  if (records === 0 && root !== 'PubmedArticleSet' && root !== 'MedlineCitationSet') {
    yield {
      type: 'reject',
      file,
      record: '#0',
      where: 'line 1',
      message: root ? `no PubMed records found (root element <${root}>)` : 'no XML element found',
    };
  }
}
