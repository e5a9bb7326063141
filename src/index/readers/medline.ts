// MEDLINE text reader (PubMed "Save → PubMed format", `.nbib`, `.txt`, optionally gzip): `TAG - value` lines,
// 6-space continuation lines, records separated by blank lines. Streamed line by line from the raw bytes, so each
// line is checked as strict UTF-8 and every message can name its line and byte.
//
// Bounded memory and time: a line or record longer than MAX_RECORD_BYTES is rejected and skipped, not buffered.
// Raw control characters (NUL included) and invalid UTF-8 reject the record and name the byte; PMIDs, DOIs and
// PMCIDs go through src/index/ids.ts.
import type { Citation, MeshHeading, AbstractSection, ReaderEvent } from '../citation';
import {
  GzipError,
  firstYear,
  firstMonth,
  clean,
  initialsOf,
  textLines,
  MAX_RECORD_BYTES,
  type TextLine,
} from './source';
import { normalizeDoi, normalizePmcid, normalizePmid, normalizeIssn } from '../ids';
import { errorText } from '../../util/errors';

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
  return marks.map((m, k) => ({
    label: m.label,
    text: ab.slice(m.textStart, k + 1 < marks.length ? marks[k + 1]!.start : undefined).trim(),
  }));
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
  size: number; // characters kept so far
  bad?: { line: number; byte: number; message: string; byteWise: boolean };
}

function toCitation(r: Rec, source: string, pmid: string, notes: string[]): Citation {
  const all = (t: string) => r.tags.filter(([k]) => k === t).map(([, v]) => v);
  const one = (t: string) => all(t)[0] ?? '';
  const authors: string[] = [];
  for (const [k, v] of r.tags) {
    if (k === 'AU' || k === 'CN') authors.push(v);
  }
  if (!all('AU').length) {
    for (const fau of all('FAU')) {
      const [last = '', given = ''] = fau.split(',').map((x) => x.trim());
      authors.push([last, initialsOf(given)].filter(Boolean).join(' '));
    }
  }
  const tagged = (vals: string[], kind: string) =>
    vals.find((v) => new RegExp(`\\[${kind}\\]\\s*$`).test(v))?.replace(/\s*\[[a-z]+\]\s*$/, '');
  const c: Citation = {
    pmid,
    title: clean(one('TI') || one('BTI')),
    abstract: splitStructured(one('AB')),
    authors,
    journal: one('JT') || one('TA'),
    publicationTypes: all('PT'),
    mesh: all('MH').map(parseMh),
    source,
  };
  const year = firstYear(one('DP')) ?? firstYear(one('DEP')) ?? firstYear(one('EDAT'));
  if (year !== undefined) c.year = year;
  const month = firstMonth(one('DP'));
  if (month !== undefined) c.month = month;
  if (one('VI')) c.volume = one('VI');
  if (one('IP')) c.issue = one('IP');
  const pages = one('PG') || tagged(all('LID'), 'pii');
  if (pages) c.pages = pages;
  const issns = all('IS').map((v) => ({
    issn: normalizeIssn(v.replace(/\s*\([^)]*\)\s*$/, '')),
    linking: /\(Linking\)/i.test(v),
  }));
  const issn = (issns.find((x) => x.issn && !x.linking) ?? issns.find((x) => x.issn))?.issn;
  if (issn) c.issn = issn;
  const doiRaw = tagged(all('LID'), 'doi') ?? tagged(all('AID'), 'doi');
  if (doiRaw) {
    const d = normalizeDoi(doiRaw);
    if ('value' in d) c.doi = d.value;
    else notes.push(`${d.error}; left out`);
  }
  const pmcRaw =
    one('PMC') ||
    (all('AID')
      .find((v) => /^PMC\d+/.test(v))
      ?.match(/^PMC\d+/)?.[0] ??
      '');
  if (pmcRaw) {
    const p = normalizePmcid(pmcRaw);
    if ('value' in p) c.pmcid = p.value;
    else notes.push(`${p.error}; left out`);
  }
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
  let lastLine: TextLine | undefined;

  function* finish(): Generator<ReaderEvent> {
    const r = rec;
    rec = undefined;
    if (!r || (!r.tags.length && !r.bad)) return;
    ordinal++;
    const rawPmid = r.tags.find(([k]) => k === 'PMID')?.[1]?.trim();
    const checked = rawPmid !== undefined ? normalizePmid(rawPmid) : undefined;
    const id = checked && 'value' in checked ? checked.value : `#${ordinal}`;
    if (r.bad) {
      yield {
        type: 'reject',
        file,
        record: id,
        where: r.bad.byteWise ? `byte ${r.bad.byte}` : `line ${r.bad.line}`,
        message: r.bad.message,
      };
      return;
    }
    if (!checked) {
      const first = r.tags[0]!;
      yield {
        type: 'reject',
        file,
        record: id,
        where: `line ${r.line}`,
        message: `record at line ${r.line} has no PMID- line (first tag: '${first[0]} - ${first[1].slice(0, 40)}')`,
      };
      return;
    }
    if ('error' in checked) {
      yield {
        type: 'reject',
        file,
        record: id,
        where: `line ${r.line}`,
        message: `${checked.error} (record at line ${r.line})`,
      };
      return;
    }
    const notes: string[] = [];
    let c: Citation;
    try {
      c = toCitation(r, file, checked.value, notes);
    } catch (e) {
      yield {
        type: 'reject',
        file,
        record: id,
        where: `line ${r.line}`,
        message: `record at line ${r.line} could not be read: ${errorText(e)}`,
      };
      return;
    }
    for (const n of notes) yield { type: 'note', file, record: id, where: `line ${r.line}`, message: n };
    yield { type: 'citation', citation: c };
  }

  const bad = (l: { no: number; byte: number }, message: string, byte = l.byte, byteWise = false) => {
    rec ??= { tags: [], line: l.no, byte: l.byte, size: 0 };
    rec.bad ??= { line: l.no, byte, message, byteWise };
  };

  try {
    for await (const l of textLines(file, opts.signal, opts.onProgress)) {
      lastLine = l;
      if (l.tooLong !== undefined) {
        bad(
          l,
          `line ${l.no} is longer than ${MAX_RECORD_BYTES / 2 ** 20} MB (${l.tooLong} bytes); the record is skipped`,
        );
        continue;
      }
      if (l.text === undefined) {
        bad(l, `${l.what} at byte ${l.badByte}, line ${l.no}`, l.badByte!, true);
        continue;
      }
      const t = l.text;
      if (!t.trim()) {
        for (const ev of finish()) yield ev;
        continue;
      }
      if (rec && !rec.bad) {
        rec.size += t.length;
        if (rec.size > MAX_RECORD_BYTES) {
          bad(l, `record starting at line ${rec.line} is longer than ${MAX_RECORD_BYTES / 2 ** 20} MB; skipped`);
          rec.tags.length = 0;
        }
      }
      if (/^\s/.test(t)) {
        const last = rec?.tags[rec.tags.length - 1];
        if (!rec || !last) {
          bad(l, `continuation line ${l.no} has no tag line before it`);
          continue;
        }
        if (!rec.bad) last[1] = last[1] + ' ' + t.trim();
        continue;
      }
      let m = TAG.exec(t);
      if (!m) {
        // a damaged separator before a record ('nPMID- 123' where the blank line was): the record starts here
        const pm = /^.{1,3}?(PMID)( *- ?\d+\s*)$/.exec(t);
        if (pm && rec) {
          for (const ev of finish()) yield ev;
          m = TAG.exec(`PMID${pm[2]}`);
          yield {
            type: 'note',
            file,
            record: `#${ordinal + 1}`,
            where: `line ${l.no}`,
            message: `line ${l.no} '${t.slice(0, 30)}' read as the PMID line of a new record (a damaged blank line before it?)`,
          };
        } else {
          bad(l, `line ${l.no} is neither 'TAG - value' nor an indented continuation: '${t.slice(0, 60)}'`);
          continue;
        }
      }
      const tag = m![1]!;
      if (tag === 'PMID' && rec && (rec.tags.some(([k]) => k === 'PMID') || (rec.bad && rec.line !== l.no))) {
        for (const ev of finish()) yield ev; // records not separated by a blank line
      }
      rec ??= { tags: [], line: l.no, byte: l.byte, size: t.length };
      if (!rec.bad) rec.tags.push([tag, m![2]!.trim()]);
    }
  } catch (e) {
    if (!(e instanceof GzipError)) throw e;
    ordinal++;
    const raw = rec?.tags.find(([k]) => k === 'PMID')?.[1];
    const p = raw !== undefined ? normalizePmid(raw) : undefined;
    const cut = rec ? `; the record starting at line ${rec.line} is cut off` : '';
    rec = undefined;
    yield {
      type: 'reject',
      file,
      record: p && 'value' in p ? p.value : `#${ordinal}`,
      where: `byte ${e.compressedByte}`,
      message: `${e.message}, after ${e.decompressedBytes} decompressed bytes${cut}`,
    };
    return;
  }
  if (rec && lastLine && !lastLine.ended) {
    // the file stops in the middle of a line: the last record may be cut off
    const r = rec as Rec;
    const hasText = r.tags.some(([k]) => k === 'TI' || k === 'AB' || k === 'BTI' || k === 'VTI');
    if (!r.bad && !hasText)
      r.bad = {
        line: lastLine.no,
        byte: lastLine.byte,
        message: `the file ends in the middle of line ${lastLine.no}, in a record with no title or abstract yet (truncated file?)`,
        byteWise: false,
      };
    else if (!r.bad) {
      const pmid = r.tags.find(([k]) => k === 'PMID')?.[1] ?? `#${ordinal + 1}`;
      yield {
        type: 'note',
        file,
        record: pmid,
        where: `line ${lastLine.no}`,
        message: `the file ends in the middle of line ${lastLine.no} (no final line break): the record may be cut off`,
      };
    }
  }
  for (const ev of finish()) yield ev;
}
