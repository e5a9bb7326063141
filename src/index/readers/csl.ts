// CSL-JSON and BibTeX: a writer's own bibliography (Zotero, Better BibTeX, Mendeley, JabRef, PubMed's "Cite").
//
// Every item is kept that can be identified, by PMID, DOI or citation key (src/index/ids.ts: its record id is the
// PMID, else 'doi:<doi>', else 'key:<key>'), with whatever text it has: title, abstract when present, authors,
// venue, volume/issue/pages, ISSN. Such citations carry `library: true` and `citationKey`. An item is rejected, named
// by file, ordinal (and key) and line/byte, when it cannot be read (damaged JSON, unbalanced BibTeX, bad bytes,
// longer than MAX_RECORD_BYTES), has no identifier, or has neither title nor abstract; a field of the wrong type is
// left out with a note, the item kept.
//
// Both readers stream: CSL-JSON through the JSON record splitter (json-stream.ts, one item at a time), BibTeX line
// by line, one entry at a time, each entry parsed by citation-js (@citation-js/plugin-bibtex). Time is linear in the
// input: no per-item search from the start of the file, and a tag stripper that cannot backtrack.
import { plugins } from '@citation-js/core';
import '@citation-js/plugin-bibtex';
import '@citation-js/plugin-csl';
import type { Citation, ReaderEvent } from '../citation';
import {
  clean,
  firstYear,
  firstMonth,
  monthNumber,
  initialsOf,
  stripTags,
  stripControlChars,
  textLines,
  GzipError,
} from './source';
import { splitStructured } from './medline';
import { jsonRecords } from './json-stream';
import {
  libraryRecordId,
  normalizeCitationKey,
  normalizeDoi,
  normalizeIssn,
  normalizePmcid,
  normalizePmid,
} from '../ids';
import { errorText } from '../../util/errors';

type CslItem = Record<string, unknown>;

interface ReadOpts {
  signal?: AbortSignal;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v);

/** 'PMID: 123' style lines in note/extra. */
function fromNote(item: CslItem, key: string): string | undefined {
  const note = `${typeof item['note'] === 'string' ? item['note'] : ''}\n${typeof item['extra'] === 'string' ? item['extra'] : ''}`;
  if (note.length < 2) return undefined;
  // [ \t]*, not \s*: a run of blank lines must not make the search quadratic
  const m = new RegExp(`(?:^|\\n)[ \\t]*${key}[ \\t]*:[ \\t]*(\\S+)`, 'i').exec(note);
  return m?.[1];
}

/** At most 10 notes per item (an item with a million bad author entries gives one summary, not a million lines). */
function capNotes(notes: string[]): string[] {
  return notes.length <= 10 ? notes : [...notes.slice(0, 10), `… and ${notes.length - 10} more notes like these`];
}

export type CslResult = { citation: Citation; notes: string[] } | { reason: string; notes: string[] };

/**
 * Map one CSL-JSON item (also what citation-js makes of a BibTeX entry) to a library Citation, or say why it cannot
 * be indexed. Never throws on any JSON value.
 */
export function citationFromCsl(item: unknown, source: string, fallbackKey?: string): CslResult {
  const notes: string[] = [];
  if (!item || typeof item !== 'object' || Array.isArray(item))
    return { reason: `item is a ${typeName(item)}, not a JSON object`, notes };
  const it = item as CslItem;
  /** A text field: strings and numbers as text; anything else left out with a note. */
  const txt = (field: string): string => {
    const v = it[field];
    if (v === undefined || v === null) return '';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    notes.push(`${field} is a ${typeName(v)}, not text; left out`);
    return '';
  };
  const idOf = <T extends { value: string } | { error: string }>(
    what: string,
    raw: string | undefined,
    norm: (s: string) => T,
  ): string | undefined => {
    if (raw === undefined || raw.trim() === '') return undefined;
    const r = norm(raw);
    if ('value' in r) return r.value;
    notes.push(`${(r as { error: string }).error}; left out`);
    return undefined;
  };
  const pmid = idOf('PMID', txt('PMID') || txt('pmid') || fromNote(it, 'PMID'), normalizePmid);
  const doi = idOf('DOI', txt('DOI') || txt('doi') || fromNote(it, 'DOI'), normalizeDoi);
  const pmcid = idOf('PMCID', txt('PMCID') || txt('pmcid') || fromNote(it, 'PMCID'), normalizePmcid);
  const key = idOf('citation key', txt('citation-key') || txt('id') || fallbackKey, normalizeCitationKey);
  const id = libraryRecordId({ pmid, doi, key });
  if (!id) return { reason: 'has no PMID, DOI or citation key', notes: capNotes(notes) };

  const title = stripTags(txt('title'));
  const abstract = stripTags(txt('abstract'));
  if (!title && !abstract) return { reason: `${id} has neither a title nor an abstract`, notes: capNotes(notes) };

  const authors: string[] = [];
  const names = it['author'];
  if (names !== undefined && names !== null) {
    if (!Array.isArray(names)) notes.push(`author is a ${typeName(names)}, not a list of names; left out`);
    else {
      names.forEach((a, k) => {
        if (!a || typeof a !== 'object' || Array.isArray(a)) {
          notes.push(`author ${k + 1} is a ${typeName(a)}, not a name; left out`);
          return;
        }
        const n = a as Record<string, unknown>;
        const s = (f: string) => (typeof n[f] === 'string' ? clean(n[f] as string) : '');
        const name =
          s('literal') || (s('family') ? [s('family'), initialsOf(s('given'))].filter(Boolean).join(' ') : s('given'));
        if (name) authors.push(name);
        else notes.push(`author ${k + 1} has no family, given or literal name; left out`);
      });
    }
  }
  const c: Citation = {
    pmid: id,
    title,
    abstract: splitStructured(abstract),
    authors,
    journal: stripTags(txt('container-title') || txt('container-title-short') || txt('journalAbbreviation')),
    publicationTypes: [],
    mesh: [],
    source,
    library: true,
  };
  if (key) c.citationKey = key;
  const issued = it['issued'];
  if (issued !== undefined && issued !== null) {
    if (typeof issued !== 'object' || Array.isArray(issued))
      notes.push(`issued is a ${typeName(issued)}, not a date; left out`);
    else {
      const d = issued as Record<string, unknown>;
      const parts =
        Array.isArray(d['date-parts']) && Array.isArray(d['date-parts'][0]) ? (d['date-parts'][0] as unknown[]) : [];
      const raw = [d['raw'], d['literal']].find((x): x is string => typeof x === 'string');
      const y =
        typeof parts[0] === 'number'
          ? Number.isInteger(parts[0]) && parts[0] > 0 && parts[0] < 3000
            ? parts[0]
            : undefined
          : firstYear(typeof parts[0] === 'string' ? parts[0] : raw);
      if (y !== undefined) c.year = y;
      const m = parts.length > 1 ? monthNumber(parts[1]) : firstMonth(raw);
      if (m !== undefined) c.month = m;
    }
  }
  const volume = clean(txt('volume'));
  if (volume) c.volume = volume;
  const issue = clean(txt('issue'));
  if (issue) c.issue = issue;
  const page = clean(txt('page'));
  if (page) c.pages = page;
  const issnRaw = it['ISSN'];
  const issns = Array.isArray(issnRaw) ? issnRaw : typeof issnRaw === 'string' ? issnRaw.split(/[,;]\s*|\s+/) : [];
  for (const x of issns) {
    const v = normalizeIssn(x);
    if (v) {
      c.issn = v;
      break;
    }
  }
  if (issnRaw !== undefined && !c.issn && issns.some((x) => typeof x === 'string' && x.trim()))
    notes.push(`ISSN '${String(issnRaw).slice(0, 40)}' is not an ISSN; left out`);
  if (doi) c.doi = doi;
  if (pmcid) c.pmcid = pmcid;
  const lang = clean(txt('language'));
  if (lang) c.language = lang;
  const kwRaw = it['keyword'];
  const kw = (
    Array.isArray(kwRaw) ? kwRaw.filter((x): x is string => typeof x === 'string') : txt('keyword').split(/[,;]\s*/)
  )
    .map((s) => clean(s))
    .filter(Boolean);
  if (kw.length) c.keywords = kw;
  const fields = stripControlChars(c as unknown as Record<string, unknown>);
  if (fields.length) notes.push(`control characters removed from ${fields.join(', ')}`);
  return { citation: c, notes: capNotes(notes) };
}

const name = (ordinal: number, key?: string) => (key ? `#${ordinal} (${key})` : `#${ordinal}`);

/** A short, safe rendering of an item's id for naming it before it is validated. */
function guessKey(v: unknown): string | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as CslItem;
  const k = [o['citation-key'], o['id']].find((x) => typeof x === 'string' || typeof x === 'number');
  return k === undefined ? undefined : String(k).replace(/\s+/g, ' ').slice(0, 80);
}

export async function* readCslJson(file: string, opts: ReadOpts = {}): AsyncGenerator<ReaderEvent> {
  const single: CslItem = Object.create(null) as CslItem; // member names are data ('__proto__' included)
  let singleFields = 0;
  let singleLine = 1;
  let sawItems = false;
  let singleBad: string | undefined;
  function* emit(item: unknown, ordinal: number, line: number): Generator<ReaderEvent> {
    const where = `line ${line}`;
    const r = citationFromCsl(item, file);
    const rec = 'citation' in r ? r.citation.pmid : name(ordinal, guessKey(item));
    for (const n of r.notes) yield { type: 'note', file, record: rec, where, message: n };
    if ('citation' in r) yield { type: 'citation', citation: r.citation };
    else yield { type: 'reject', file, record: rec, where, message: `item ${ordinal} at line ${line} ${r.reason}` };
  }
  for await (const ev of jsonRecords(file, {
    descendInto: 'items',
    signal: opts.signal,
    onProgress: opts.onProgress,
  })) {
    opts.signal?.throwIfAborted();
    if (ev.kind === 'fatal') {
      yield { type: 'reject', file, record: '#0', where: `line ${ev.atLine}`, message: `not CSL-JSON: ${ev.message}` };
    } else if (ev.kind === 'note') {
      yield { type: 'note', file, record: `#${ev.index}`, where: `line ${ev.atLine}`, message: ev.message };
    } else if (ev.key !== undefined) {
      // a member of a top-level object that is one item (not {"items": [...]})
      if (!singleFields) singleLine = ev.line;
      if (ev.kind === 'bad') singleBad ??= `field '${ev.key}': ${ev.message}`;
      else if (singleFields < 10_000) single[ev.key] = ev.value;
      else singleBad ??= 'more than 10000 fields';
      singleFields++;
    } else if (ev.kind === 'bad') {
      sawItems = true;
      const bytewise = /^(NUL byte|control character|invalid UTF-8)/.test(ev.message);
      yield {
        type: 'reject',
        file,
        record: name(ev.index),
        where: bytewise ? `byte ${ev.at}` : `line ${ev.line}`,
        message: `item ${ev.index} at line ${ev.line}: ${ev.message}`,
      };
    } else {
      sawItems = true;
      yield* emit(ev.value, ev.index, ev.line);
    }
  }
  if (!sawItems && singleFields) {
    if (singleBad)
      yield {
        type: 'reject',
        file,
        record: name(1, guessKey(single)),
        where: `line ${singleLine}`,
        message: `item 1 at line ${singleLine}: ${singleBad}`,
      };
    else yield* emit(single, 1, singleLine);
  }
}

// ---------------------------------------------------------------- BibTeX

const ENTRY = /^[ \t]*@[ \t]*([A-Za-z]+)[ \t]*([{(])/;
const MAX_BRACE_DEPTH = 64;
/**
 * citation-js's lexer (moo) matches a braced value with one regular expression, whose backtracking stack overflows
 * on values of ~8 MB and more: entries are limited to 4 MB (real ones are < 100 kB) and rejected with that reason.
 */
export const MAX_BIBTEX_ENTRY_BYTES = 4 * 2 ** 20;

interface Entry {
  type: string;
  open: string;
  /** brace depth at the end of the lines read so far, and whether the entry has closed */
  depth: number;
  closed: boolean;
  /** the first line after the entry's end that starts with '@' but is not an entry start */
  afterAt?: { line: number; text: string };
  key?: string;
  line: number;
  byte: number;
  lines: string[];
  size: number;
  bad?: { where: string; message: string };
}

/** Brace balance of an entry's text: where it closes (depth back to 0), how deep it goes. `\{` and `\}` are escapes. */
function braces(text: string, open: string): { closedAt: number; maxDepth: number; depth: number } {
  let depth = 0;
  let maxDepth = 0;
  const start = text.indexOf(open);
  for (let i = start; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x5c) {
      i++;
      continue;
    }
    if (ch === 0x7b || (open === '(' && i === start)) {
      depth++;
      if (depth > maxDepth) maxDepth = depth;
    } else if (ch === 0x7d || (open === '(' && ch === 0x29 && depth === 1)) {
      depth--;
      if (depth === 0) return { closedAt: i, maxDepth, depth };
    }
  }
  return { closedAt: -1, maxDepth, depth };
}

function countLines(text: string, upTo: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < upTo; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

const ENTRY_ANY = /@[ \t]*([A-Za-z]+)[ \t]*([{(])/;
/** An entry start on a line with bad bytes (U+FFFD where they were): the entry is then rejected for them. */
const ENTRY_LOSSY = /^[ \t]*@[ \t]*([A-Za-z\ufffd]+)[ \t]*([{(])/;

/** Follow the entry's brace depth through one more line (from `from`, the entry's opening delimiter on its first line). */
function track(e: Entry, line: string, from: number): void {
  for (let i = from; i < line.length && !e.closed; i++) {
    const ch = line.charCodeAt(i);
    if (ch === 0x5c) {
      i++;
      continue;
    }
    if (ch === 0x7b || (e.depth === 0 && ch === 0x28 && e.open === '(')) e.depth++;
    else if (ch === 0x7d || (e.open === '(' && ch === 0x29 && e.depth === 1)) {
      e.depth--;
      if (e.depth <= 0) e.closed = true;
    }
  }
}

const MACRO_USE = /(?:=|#)\s*([A-Za-z_][\w:+-]*)\s*(?=[,#})\s]|$)/g;

export async function* readBibtex(file: string, opts: ReadOpts = {}): AsyncGenerator<ReaderEvent> {
  const macros = new Map<string, string>(); // name → the @string entry's text
  let ordinal = 0;
  let cur: Entry | undefined;

  let trailing: ReaderEvent | undefined;
  function* finish(next?: { line: number }): Generator<ReaderEvent> {
    const e = cur;
    cur = undefined;
    if (!e) return;
    yield* finishEntry(e, next);
    if (trailing) {
      yield trailing;
      trailing = undefined;
    }
  }

  function* finishEntry(e: Entry, next?: { line: number }): Generator<ReaderEvent> {
    const isData = e.type !== 'string' && e.type !== 'preamble' && e.type !== 'comment';
    if (isData) ordinal++;
    const rec = name(ordinal, e.key);
    const where = `line ${e.line}`;
    const label = `entry ${e.key ?? '?'} at line ${e.line}`;
    if (e.type === 'comment' || e.type === 'preamble') return;
    if (e.bad) {
      if (isData)
        yield { type: 'reject', file, record: rec, where: e.bad.where, message: `${label}: ${e.bad.message}` };
      return;
    }
    const text = e.lines.join('\n');
    const b = braces(text, e.open);
    if (b.maxDepth > MAX_BRACE_DEPTH) {
      if (isData)
        yield {
          type: 'reject',
          file,
          record: rec,
          where,
          message: `${label} does not parse: braces nested deeper than ${MAX_BRACE_DEPTH} levels`,
        };
      return;
    }
    if (b.closedAt < 0) {
      const until = next ? `before the next entry at line ${next.line}` : 'by the end of the file';
      if (isData)
        yield {
          type: 'reject',
          file,
          record: rec,
          where,
          message: `${label} does not parse: unbalanced braces (${b.depth} '{' not closed ${until})`,
        };
      return;
    }
    const body = text.slice(0, b.closedAt + 1);
    // a line after the entry's end that starts with '@' but is no entry start is a damaged (or cut) entry
    const after = text.slice(b.closedAt + 1);
    const same = /(?:^|\n)[ \t]*(@[^\n]{0,40})/.exec(after);
    const broken = same
      ? {
          line: e.line + countLines(text, b.closedAt + 1 + same.index + (same[0].startsWith('\n') ? 1 : 0)),
          text: same[1]!.trim(),
        }
      : e.afterAt;
    if (broken && !/^@\s*comment/i.test(broken.text)) {
      ordinal++;
      trailing = {
        type: 'reject',
        file,
        record: name(ordinal),
        where: `line ${broken.line}`,
        message: `line ${broken.line} starts with '@' but is not an entry start: '${broken.text}' (a damaged or cut-off entry)`,
      };
    }
    if (e.type === 'string') {
      const m = /^[^{(]*[{(]\s*([A-Za-z_][\w:+-]*)\s*=/.exec(body);
      if (m) macros.set(m[1]!.toLowerCase(), body);
      return;
    }
    // only the @string macros this entry uses (and those they use) go with it to the parser
    const used: string[] = [];
    const seen = new Set<string>();
    const want = (t: string) => {
      for (const m of t.matchAll(MACRO_USE)) {
        const k = m[1]!.toLowerCase();
        if (seen.has(k) || !macros.has(k)) continue;
        seen.add(k);
        want(macros.get(k)!);
        used.push(macros.get(k)!);
      }
    };
    want(body);
    let items: unknown[];
    try {
      items = plugins.input.chain(used.length ? `${used.join('\n')}\n${body}` : body, {
        generateGraph: false,
        forceType: '@biblatex/text',
      });
    } catch (err) {
      const msg = clean(errorText(err).split('\n')[0] ?? '').replace(/\s*at line \d+ col \d+:?$/, '');
      yield { type: 'reject', file, record: rec, where, message: `${label} does not parse: ${msg}` };
      return;
    }
    if (!items.length) {
      yield { type: 'reject', file, record: rec, where, message: `${label} does not parse: no entry in it` };
      return;
    }
    for (const item of items) {
      const r = citationFromCsl(item, file, e.key);
      const id = 'citation' in r ? r.citation.pmid : rec;
      for (const n of r.notes) yield { type: 'note', file, record: id, where, message: n };
      if ('citation' in r) yield { type: 'citation', citation: r.citation };
      else yield { type: 'reject', file, record: rec, where, message: `${label} ${r.reason}` };
    }
  }

  try {
    for await (const l of textLines(file, opts.signal, opts.onProgress, MAX_BIBTEX_ENTRY_BYTES)) {
      opts.signal?.throwIfAborted();
      const probe = l.text ?? l.lossy;
      let t = l.text;
      const wasClosed = cur?.closed ?? false;
      let m = probe !== undefined ? (t !== undefined ? ENTRY : ENTRY_LOSSY).exec(probe) : null;
      let from = 0;
      if (!m && probe !== undefined && cur?.closed) {
        // after an entry has closed, '@type{' anywhere on a line starts the next one (as in BibTeX itself)
        const mm = ENTRY_ANY.exec(probe);
        if (mm) {
          m = mm;
          from = mm.index;
          if (t !== undefined) t = t.slice(from);
          else if (!/[\ufffd\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(probe.slice(from))) t = probe.slice(from); // the bad bytes were before the entry
        }
      }
      if (m) {
        for (const ev of finish({ line: l.no })) yield ev;
        const head = probe!.slice(from);
        const key = /^[^{(]*[{(]\s*([^,\s{}()"#%'=\\\ufffd]+)\s*,/.exec(head)?.[1];
        cur = {
          type: m[1]!.toLowerCase(),
          open: m[2]!,
          line: l.no,
          byte: l.byte,
          lines: [],
          size: 0,
          depth: 0,
          closed: false,
          ...(key ? { key } : {}),
        };
        track(cur, head, head.indexOf(m[2]!));
      } else if (cur && !cur.closed && probe !== undefined) track(cur, probe, 0);
      if (!cur) continue; // text between entries is a comment in BibTeX
      if (wasClosed && !m) {
        // after the entry: a comment, or an entry start too damaged to read
        if (probe !== undefined && /^[ \t]*@/.test(probe) && !cur.afterAt)
          cur.afterAt = { line: l.no, text: probe.trim().slice(0, 40) };
        continue;
      }
      if (cur.bad) continue;
      if (l.tooLong !== undefined) {
        cur.bad = {
          where: `line ${l.no}`,
          message: `line ${l.no} is longer than ${MAX_BIBTEX_ENTRY_BYTES / 2 ** 20} MB (the BibTeX parser's limit); skipped`,
        };
        cur.lines = [];
        continue;
      }
      if (t === undefined) {
        cur.bad = { where: `byte ${l.badByte}`, message: `${l.what} at byte ${l.badByte}, line ${l.no}` };
        cur.lines = [];
        continue;
      }
      cur.size += t.length + 1;
      if (cur.size > MAX_BIBTEX_ENTRY_BYTES) {
        cur.bad = {
          where: `line ${cur.line}`,
          message: `longer than ${MAX_BIBTEX_ENTRY_BYTES / 2 ** 20} MB (the BibTeX parser's limit); skipped`,
        };
        cur.lines = [];
        continue;
      }
      cur.lines.push(t);
    }
  } catch (e) {
    if (!(e instanceof GzipError)) throw e;
    if (cur) cur.bad ??= { where: `byte ${e.compressedByte}`, message: `${e.message}: the entry is cut off` };
    for (const ev of finish()) yield ev;
    return;
  }
  for (const ev of finish()) yield ev;
}
