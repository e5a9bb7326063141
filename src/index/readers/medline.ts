// MEDLINE text reader (PubMed "Save → PubMed format", `.nbib`, `.txt`, optionally gzip): `TAG - value` lines,
// 6-space continuation lines, records separated by blank lines. Streamed line by line from the raw bytes, so each
// line is checked as strict UTF-8 and every message can name its line and byte.
import type { Citation, MeshHeading, AbstractSection, ReaderEvent } from '../citation';
import { readBytes, GzipError, decodeUtf8, firstYear, clean, initialsOf } from './source';

interface Line {
  text: string | undefined; // undefined: invalid UTF-8
  badByte?: number; // absolute offset of the bad byte
  no: number; // 1-based line number
  byte: number; // absolute offset of the line start
}

/** Lines of a file as raw bytes, decoded strictly one by one. A GzipError is rethrown after the last good line. */
async function* linesOf(file: string, signal?: AbortSignal, onProgress?: (read: number, total: number) => void): AsyncGenerator<Line> {
  let rest: Buffer = Buffer.alloc(0);
  let restStart = 0;
  let no = 0;
  const mk = (b: Buffer, start: number): Line => {
    no++;
    let end = b.length;
    if (end > 0 && b[end - 1] === 0x0d) end--;
    const start0 = no === 1 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0; // UTF-8 BOM
    const d = decodeUtf8(b.subarray(start0, end));
    return 'text' in d ? { text: d.text, no, byte: start } : { text: undefined, badByte: start + d.badByte, no, byte: start };
  };
  for await (const chunk of readBytes(file, signal, onProgress)) {
    const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let i = 0;
    for (;;) {
      const j = buf.indexOf(0x0a, i);
      if (j < 0) break;
      yield mk(buf.subarray(i, j), restStart + i);
      i = j + 1;
    }
    rest = buf.subarray(i);
    restStart += i;
  }
  if (rest.length) yield mk(rest, restStart);
}

const TAG = /^([A-Z][A-Z0-9]{0,3}) *- ?(.*)$/;
const LABEL = /(?:^|(?<=[.?!]) )([A-Z][A-Z0-9 ,&/()'-]{2,60}): /g;

/** Split a MEDLINE-text abstract into sections when it starts with an upper-case label ('BACKGROUND: …'). */
export function splitStructured(ab: string): AbstractSection[] {
  if (!ab) return [];
  const marks: { label: string; start: number; textStart: number }[] = [];
  for (const m of ab.matchAll(LABEL)) {
    const label = m[1]!.trim();
    if ((label.match(/[A-Z]/g) ?? []).length < 4) continue;
    const start = m.index! + (m[0].startsWith(' ') ? 1 : 0);
    marks.push({ label, start, textStart: m.index! + m[0].length });
  }
  if (!marks.length || marks[0]!.start !== 0) return [{ text: ab }];
  return marks.map((m, k) => ({ label: m.label, text: ab.slice(m.textStart, k + 1 < marks.length ? marks[k + 1]!.start : undefined).trim() }));
}

/** 'Diabetes Mellitus, Type 2/*drug therapy/metabolism' → heading with major flags. */
export function parseMh(v: string): MeshHeading {
  const [d = '', ...qs] = v.split('/');
  const star = (s: string) => s.trim().startsWith('*');
  const name = (s: string) => s.trim().replace(/^\*/, '').trim();
  const qualifiers = qs.map((q) => ({ name: name(q), major: star(q) })).filter((q) => q.name);
  return { name: name(d), major: star(d) || qualifiers.some((q) => q.major), qualifiers };
}

interface Rec {
  tags: [string, string][]; // tag, value (continuations joined)
  line: number;
  byte: number;
  bad?: { line: number; byte: number; message: string };
}

function toCitation(r: Rec, source: string): Citation {
  const all = (t: string) => r.tags.filter(([k]) => k === t).map(([, v]) => v);
  const one = (t: string) => all(t)[0] ?? '';
  const authors: string[] = [];
  for (const [k, v] of r.tags) {
    if (k === 'AU' || k === 'CN') authors.push(v);
  }
  if (!all('AU').length) {
    for (const fau of all('FAU')) {
      const [last = '', given = ''] = fau.split(',').map((s) => s.trim());
      authors.splice(authors.length, 0, [last, initialsOf(given)].filter(Boolean).join(' '));
    }
  }
  const doiOf = (vals: string[]) => vals.find((v) => /\[doi\]\s*$/.test(v))?.replace(/\s*\[doi\]\s*$/, '');
  const c: Citation = {
    pmid: one('PMID'),
    title: one('TI') || one('BTI'),
    abstract: splitStructured(one('AB')),
    authors,
    journal: one('JT') || one('TA'),
    publicationTypes: all('PT'),
    mesh: all('MH').map(parseMh),
    source,
  };
  const year = firstYear(one('DP')) ?? firstYear(one('DEP')) ?? firstYear(one('EDAT'));
  if (year !== undefined) c.year = year;
  const doi = doiOf(all('LID')) ?? doiOf(all('AID'));
  if (doi) c.doi = doi;
  const pmc = one('PMC') || (all('AID').find((v) => /^PMC\d+/.test(v))?.match(/^PMC\d+/)?.[0] ?? '');
  if (pmc) c.pmcid = pmc;
  if (one('LA')) c.language = one('LA');
  const kw = all('OT');
  if (kw.length) c.keywords = kw;
  return c;
}

export async function* readMedlineText(
  file: string,
  opts: { signal?: AbortSignal; onProgress?: (bytesRead: number, totalBytes: number) => void } = {},
): AsyncGenerator<ReaderEvent> {
  let rec: Rec | undefined;
  let ordinal = 0;

  function* finish(): Generator<ReaderEvent> {
    const r = rec;
    rec = undefined;
    if (!r || !r.tags.length && !r.bad) return;
    ordinal++;
    const pmid = r.tags.find(([k]) => k === 'PMID')?.[1]?.trim();
    const id = pmid && /^\d+$/.test(pmid) ? pmid : `#${ordinal}`;
    if (r.bad) {
      yield { type: 'reject', file, record: id, where: r.bad.message.startsWith('invalid UTF-8') ? `byte ${r.bad.byte}` : `line ${r.bad.line}`, message: r.bad.message };
      return;
    }
    if (!pmid) {
      const first = r.tags[0]!;
      yield { type: 'reject', file, record: id, where: `line ${r.line}`, message: `record at line ${r.line} has no PMID- line (first tag: '${first[0]} - ${first[1].slice(0, 40)}')` };
      return;
    }
    if (!/^\d+$/.test(pmid)) {
      yield { type: 'reject', file, record: id, where: `line ${r.line}`, message: `PMID '${pmid}' at line ${r.line} is not a number` };
      return;
    }
    const c = toCitation(r, file);
    c.title = clean(c.title);
    yield { type: 'citation', citation: c };
  }

  try {
    for await (const l of linesOf(file, opts.signal, opts.onProgress)) {
      if (l.text === undefined) {
        rec ??= { tags: [], line: l.no, byte: l.byte };
        rec.bad ??= { line: l.no, byte: l.badByte!, message: `invalid UTF-8 at byte ${l.badByte}, line ${l.no}` };
        continue;
      }
      const t = l.text;
      if (!t.trim()) {
        for (const ev of finish()) yield ev;
        continue;
      }
      if (/^\s/.test(t)) {
        const last = rec?.tags[rec.tags.length - 1];
        if (!rec || !last) {
          rec ??= { tags: [], line: l.no, byte: l.byte };
          rec.bad ??= { line: l.no, byte: l.byte, message: `continuation line ${l.no} has no tag line before it` };
          continue;
        }
        last[1] = last[1] + ' ' + t.trim();
        continue;
      }
      const m = TAG.exec(t);
      if (!m) {
        rec ??= { tags: [], line: l.no, byte: l.byte };
        rec.bad ??= { line: l.no, byte: l.byte, message: `line ${l.no} is neither 'TAG - value' nor an indented continuation: '${t.slice(0, 60)}'` };
        continue;
      }
      const tag = m[1]!;
      if (tag === 'PMID' && rec && rec.tags.some(([k]) => k === 'PMID')) {
        for (const ev of finish()) yield ev; // records not separated by a blank line
      }
      rec ??= { tags: [], line: l.no, byte: l.byte };
      rec.tags.push([tag, m[2]!.trim()]);
    }
  } catch (e) {
    if (!(e instanceof GzipError)) throw e;
    ordinal++;
    const pmid = rec?.tags.find(([k]) => k === 'PMID')?.[1];
    const cut = rec ? `; the record starting at line ${rec.line} is cut off` : '';
    rec = undefined;
    yield { type: 'reject', file, record: pmid ?? `#${ordinal}`, where: `byte ${e.compressedByte}`, message: `${e.message}, after ${e.decompressedBytes} decompressed bytes${cut}` };
    return;
  }
  for (const ev of finish()) yield ev;
}
