// Reading and writing BibTeX/BibLaTeX files well enough to find a paper that is already there and to append a new
// entry in the encoding the document's toolchain reads. Pure module: no `vscode`, no file I/O.
import type { PaperMeta } from './paper';
import { normDoi, splitAuthor, deTex } from './paper';
import type { TexEncoder, TexEncoding } from './texencode';

export interface BibEntry {
  type: string; // lower case: article, misc, …
  key: string;
  fields: Record<string, string>; // lower-case field name → value without outer braces/quotes
  start: number; // offset of '@'
  end: number; // offset after the closing brace
}

/** Tolerant scanner for BibTeX/BibLaTeX files: skips comments, @string/@preamble/@comment, unbalanced junk. */
export function parseBibtex(text: string): BibEntry[] {
  const out: BibEntry[] = [];
  const re = /@([A-Za-z]+)\s*([{(])/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const type = (m[1] ?? '').toLowerCase();
    const open = m[2] === '{' ? '{' : '(';
    const close = open === '{' ? '}' : ')';
    const i = re.lastIndex;
    // find the matching close, counting braces (values may contain {…})
    let depth = 1;
    let j = i;
    for (; j < text.length && depth > 0; j++) {
      const c = text[j];
      if (c === '\\') {
        j++;
        continue;
      }
      if (c === '{' || (open === '(' && c === '(')) depth++;
      else if (c === '}' || (open === '(' && c === ')')) depth--;
    }
    if (depth !== 0) {
      // An unbalanced entry: skip it and resynchronise at the next line that starts an entry, so that one broken
      // entry does not hide the rest of the file (its keys must stay taken, its papers found).
      const next = text.slice(i).search(/\n[ \t]*@/);
      if (next < 0) break;
      re.lastIndex = i + next + 1;
      continue;
    }
    const body = text.slice(i, j - 1);
    re.lastIndex = j;
    if (type === 'comment' || type === 'string' || type === 'preamble') continue;
    const comma = body.indexOf(',');
    const key = (comma < 0 ? body : body.slice(0, comma)).trim();
    if (!key) continue;
    out.push({ type, key, fields: comma < 0 ? {} : parseFields(body.slice(comma + 1)), start: m.index, end: j });
    void close;
  }
  return out;
}

function parseFields(s: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let i = 0;
  const n = s.length;
  while (i < n) {
    const nm = /\s*,?\s*([A-Za-z][\w\-:.+]*)\s*=\s*/y;
    nm.lastIndex = i;
    const m = nm.exec(s);
    if (!m) break;
    i = nm.lastIndex;
    let value = '';
    // value: {…}, "…", a number or a macro, joined with #
    for (;;) {
      const c = s[i];
      if (c === '{') {
        let depth = 1;
        let j = i + 1;
        for (; j < n && depth > 0; j++) {
          if (s[j] === '\\') {
            j++;
            continue;
          }
          if (s[j] === '{') depth++;
          else if (s[j] === '}') depth--;
        }
        value += s.slice(i + 1, j - 1);
        i = j;
      } else if (c === '"') {
        let j = i + 1;
        let depth = 0;
        for (; j < n; j++) {
          if (s[j] === '\\') {
            j++;
            continue;
          }
          if (s[j] === '{') depth++;
          else if (s[j] === '}') depth--;
          else if (s[j] === '"' && depth === 0) break;
        }
        value += s.slice(i + 1, j);
        i = j + 1;
      } else {
        const w = /[^,#\s}]+/y;
        w.lastIndex = i;
        const wm = w.exec(s);
        if (!wm) break;
        value += wm[0];
        i = w.lastIndex;
      }
      const hash = /\s*#\s*/y;
      hash.lastIndex = i;
      if (hash.exec(s)) {
        i = hash.lastIndex;
        continue;
      }
      break;
    }
    fields[(m[1] ?? '').toLowerCase()] = value.trim();
  }
  return fields;
}

/** The PMID an entry records: `pmid`, `eprint` with eprinttype pubmed, "PMID: n" in extra/note/annote, a PubMed URL. */
export function entryPmid(fields: Record<string, string>): string | undefined {
  const direct = fields['pmid']?.match(/\d+/)?.[0];
  if (direct) return direct;
  if (
    /pubmed|pmid/i.test(fields['eprinttype'] ?? fields['archiveprefix'] ?? '') &&
    /^\d+$/.test(fields['eprint'] ?? '')
  )
    return fields['eprint'];
  for (const f of ['extra', 'note', 'annote', 'annotation']) {
    const m = fields[f]?.match(/PMID:\s*(\d+)/i);
    if (m) return m[1];
  }
  const url = fields['url']?.match(/(?:pubmed\.ncbi\.nlm\.nih\.gov\/|ncbi\.nlm\.nih\.gov\/pubmed\/)(\d+)/);
  return url?.[1];
}

/** The DOI an entry records: `doi`, or a doi.org URL. */
export function entryDoi(fields: Record<string, string>): string | undefined {
  const d = fields['doi'] ?? fields['url']?.match(/^https?:\/\/(?:dx\.)?doi\.org\/(10\.\S+)$/i)?.[1];
  return normDoi(d?.replace(/\\_/g, '_'));
}

/** The year of an entry: `year`, else the first four digits of biblatex's `date`. */
export function entryYear(fields: Record<string, string>): number | undefined {
  const m = /\b(\d{4})\b/.exec(fields['year'] ?? fields['date'] ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Family names of an entry's authors (or editors), LaTeX removed: "Wiens, Jenna and Wallace, Byron C." → Wiens, Wallace. */
export function entryFamilies(fields: Record<string, string>): string[] {
  const list = fields['author'] ?? fields['editor'] ?? '';
  if (!list.trim()) return [];
  return splitBibNames(list).map(familyOfBibName).filter(Boolean);
}

/** Split a BibTeX name list at top-level " and ". */
export function splitBibNames(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  const words = list.split(/(\s+and\s+|[{}])/i);
  for (const w of words) {
    if (w === '{') depth++;
    else if (w === '}') depth--;
    if (depth === 0 && /^\s+and\s+$/i.test(w)) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += w;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The family name of one BibTeX name: "Last, First", "First von Last", "{Group Name}". */
export function familyOfBibName(name: string): string {
  const n = name.trim();
  if (/^\{[^{}]*\}$/.test(n)) return deTex(n);
  const comma = topLevelIndex(n, ',');
  if (comma >= 0) return deTex(n.slice(0, comma));
  // "First von Last": the last word, with lower-case particles before it ("Ludwig van Beethoven" → van Beethoven)
  const words = topLevelWords(n);
  if (words.length <= 1) return deTex(n);
  let i = words.length - 1;
  while (i > 1 && /^[a-z]/.test(deTex(words[i - 1] ?? ''))) i--;
  return deTex(words.slice(i).join(' '));
}

function topLevelIndex(s: string, ch: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}') depth--;
    else if (depth === 0 && s[i] === ch) return i;
  }
  return -1;
}

function topLevelWords(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (depth === 0 && /\s/.test(c)) {
      if (cur) out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/** What reads the .bib: classic BibTeX (field names of the standard styles) or biber (biblatex). */
export type BibDialect = 'bibtex' | 'biblatex';

export interface BibtexOptions {
  encoder: TexEncoder;
  /** 'latex' for classic BibTeX with pdflatex, 'utf8' for UTF-8 engines and pandoc, 'utf8-latin' for biber + pdflatex */
  encoding: TexEncoding;
  dialect?: BibDialect;
}

export interface BibtexOut {
  text: string;
  /** characters no LaTeX form is known for (left as they were) */ unencodable: string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** MEDLINE page ranges abbreviate the last page ("1112-21"): BibTeX's are written out with an en dash ("1112--1121"). */
export function bibPages(pages: string): string {
  const m = /^\s*([A-Za-z]?)(\d+)\s*[-\u2013]\s*([A-Za-z]?)(\d+)\s*$/.exec(pages);
  if (!m) return pages.trim().replace(/\s*[-\u2013]+\s*/g, '--');
  const [, p1 = '', a = '', p2 = '', b = ''] = m;
  const last = b.length < a.length ? a.slice(0, a.length - b.length) + b : b;
  return `${p1}${a}--${p2 || p1}${last}`;
}

/**
 * A BibTeX @article entry for a PubMed paper (with pmid and doi fields so it is recognised again), its text in the
 * encoding the toolchain reads (see texencode.ts). Fields: author, title, journal, year, month, volume, number, pages,
 * issn, doi, pmid — those the paper has.
 */
export function toBibtex(paper: PaperMeta, key: string, o: BibtexOptions): BibtexOut {
  const unencodable = new Set<string>();
  const enc = (s: string, kind: 'text' | 'name' = 'text'): string => {
    const r = o.encoder.encode(s, o.encoding, kind);
    for (const c of r.unencodable) unencodable.add(c);
    return r.text;
  };
  const authors = paper.authors
    .filter((a) => a.trim())
    .map((a) => {
      const p = splitAuthor(a);
      return p.literal
        ? `{${enc(p.literal, 'name')}}`
        : p.given
          ? `${enc(p.family, 'name')}, ${p.given}`
          : enc(p.family, 'name');
    });
  const f: [string, string | undefined][] = [
    ['author', authors.length ? authors.join(' and ') : undefined],
    ['title', paper.title?.trim() ? `{${enc(paper.title.trim().replace(/\.$/, ''))}}` : undefined],
    ['journal', paper.journal?.trim() ? enc(paper.journal) : undefined],
    ['year', paper.year ? String(paper.year) : undefined],
    ['month', paper.month && paper.month >= 1 && paper.month <= 12 ? MONTHS[paper.month - 1] : undefined],
    ['volume', paper.volume?.trim() ? enc(paper.volume) : undefined],
    ['number', paper.issue?.trim() ? enc(paper.issue) : undefined],
    ['pages', paper.pages?.trim() ? enc(bibPages(paper.pages)) : undefined],
    ['issn', paper.issn?.trim() || undefined],
    // biblatex reads doi verbatim; the standard BibTeX styles typeset it, so LaTeX's specials are escaped there
    [
      'doi',
      paper.doi
        ? o.dialect === 'biblatex'
          ? normDoi(paper.doi)
          : o.encoder.encode(normDoi(paper.doi) ?? paper.doi, 'utf8').text
        : undefined,
    ],
    ['pmid', paper.pmid || undefined],
  ];
  // month is a macro (jan … dec), written without braces: BibTeX styles print the month's name, biber its number
  const body = f
    .filter((x): x is [string, string] => !!x[1])
    .map(([k, v]) => (k === 'month' ? `  ${k} = ${v}` : `  ${k} = {${v}}`))
    .join(',\n');
  return { text: `@article{${key},\n${body}\n}\n`, unencodable: [...unencodable] };
}
