// Reading and writing bibliography files (.bib and CSL-JSON) well enough to find a paper that is already there and to
// append a new entry. Pure module: no `vscode`, no file I/O.
import type { PaperMeta } from './paper';
import { normDoi, splitAuthor } from './paper';

export interface BibEntry {
  type: string;          // lower case: article, misc, …
  key: string;
  fields: Record<string, string>;   // lower-case field name → value without outer braces/quotes
  start: number;         // offset of '@'
  end: number;           // offset after the closing brace
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
    let i = re.lastIndex;
    // find the matching close, counting braces (values may contain {…})
    let depth = 1;
    let j = i;
    for (; j < text.length && depth > 0; j++) {
      const c = text[j];
      if (c === '\\') { j++; continue; }
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
          if (s[j] === '\\') { j++; continue; }
          if (s[j] === '{') depth++;
          else if (s[j] === '}') depth--;
        }
        value += s.slice(i + 1, j - 1);
        i = j;
      } else if (c === '"') {
        let j = i + 1;
        let depth = 0;
        for (; j < n; j++) {
          if (s[j] === '\\') { j++; continue; }
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
      if (hash.exec(s)) { i = hash.lastIndex; continue; }
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
  if (/pubmed|pmid/i.test(fields['eprinttype'] ?? fields['archiveprefix'] ?? '') && /^\d+$/.test(fields['eprint'] ?? '')) return fields['eprint'];
  for (const f of ['extra', 'note', 'annote', 'annotation']) {
    const m = fields[f]?.match(/PMID:\s*(\d+)/i);
    if (m) return m[1];
  }
  const url = fields['url']?.match(/(?:pubmed\.ncbi\.nlm\.nih\.gov\/|ncbi\.nlm\.nih\.gov\/pubmed\/)(\d+)/);
  return url?.[1];
}

/** Keys of entries already holding this paper (same PMID or same DOI), in file order. */
export function findExistingKey(entries: BibEntry[], paper: Pick<PaperMeta, 'pmid' | 'doi'>): string | undefined {
  const doi = normDoi(paper.doi);
  for (const e of entries) if (paper.pmid && entryPmid(e.fields) === paper.pmid) return e.key;
  if (doi) for (const e of entries) if (normDoi(e.fields['doi']) === doi) return e.key;
  return undefined;
}

const LATEX_SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}', '{': '\\{', '}': '\\}', '&': '\\&', '%': '\\%', '$': '\\$', '#': '\\#', '_': '\\_',
  '~': '\\textasciitilde{}', '^': '\\textasciicircum{}',
};

/** Escape text for a BibTeX field value (UTF-8 kept as is; biber and modern bibtex read it). */
export function bibEscape(s: string): string {
  return s.replace(/[\\{}&%$#_~^]/g, (c) => LATEX_SPECIAL[c] ?? c).replace(/\s+/g, ' ').trim();
}

/** A BibTeX @article entry for a PubMed paper (with pmid and doi fields so it is recognised again). */
export function toBibtex(paper: PaperMeta, key: string): string {
  const authors = paper.authors.map((a) => {
    const p = splitAuthor(a);
    return p.literal ? `{${bibEscape(p.literal)}}` : p.given ? `${bibEscape(p.family)}, ${p.given}` : bibEscape(p.family);
  });
  const f: [string, string | undefined][] = [
    ['author', authors.length ? authors.join(' and ') : undefined],
    ['title', paper.title ? `{${bibEscape(paper.title.replace(/\.$/, ''))}}` : undefined],
    ['journal', paper.journal ? bibEscape(paper.journal) : undefined],
    ['year', paper.year ? String(paper.year) : undefined],
    ['doi', paper.doi ? bibEscape(normDoi(paper.doi) ?? paper.doi) : undefined],
    ['pmid', paper.pmid],
  ];
  const body = f.filter((x): x is [string, string] => !!x[1]).map(([k, v]) => `  ${k} = {${v}}`).join(',\n');
  return `@article{${key},\n${body}\n}\n`;
}

// ---- CSL-JSON ----

export interface CslItem {
  id: string;
  type: string;
  title?: string;
  author?: { family?: string; given?: string; literal?: string }[];
  'container-title'?: string;
  issued?: { 'date-parts': number[][] };
  DOI?: string;
  PMID?: string;
  URL?: string;
  note?: string;
  [k: string]: unknown;
}

export function toCslItem(paper: PaperMeta, key: string): CslItem {
  const item: CslItem = {
    id: key,
    type: 'article-journal',
    title: paper.title.replace(/\.$/, ''),
    author: paper.authors.map((a) => {
      const p = splitAuthor(a);
      return p.literal ? { literal: p.literal } : p.given ? { family: p.family, given: p.given } : { family: p.family };
    }),
    'container-title': paper.journal,
    PMID: paper.pmid,
  };
  if (paper.year) item.issued = { 'date-parts': [[paper.year]] };
  if (paper.doi) item.DOI = normDoi(paper.doi);
  return item;
}

/** Parse a CSL-JSON file (an array of items, or {items:[…]}). A clear error names the problem. */
export function parseCslJson(text: string, file = 'CSL-JSON'): CslItem[] {
  if (!text.trim()) return [];
  let data: unknown;
  try { data = JSON.parse(text); } catch (e) { throw new Error(`${file}: not valid JSON (${(e as Error).message})`); }
  const items = Array.isArray(data) ? data : (data as { items?: unknown }).items;
  if (!Array.isArray(items)) throw new Error(`${file}: expected a JSON array of CSL items`);
  return items.filter((x): x is CslItem => !!x && typeof x === 'object' && typeof (x as CslItem).id === 'string');
}

export function findExistingCslKey(items: CslItem[], paper: Pick<PaperMeta, 'pmid' | 'doi'>): string | undefined {
  const doi = normDoi(paper.doi);
  for (const it of items) {
    const pmid = String(it.PMID ?? it['pmid'] ?? (typeof it.note === 'string' ? it.note.match(/PMID:\s*(\d+)/i)?.[1] ?? '' : ''));
    if (paper.pmid && pmid === paper.pmid) return it.id;
  }
  if (doi) for (const it of items) if (normDoi(typeof it.DOI === 'string' ? it.DOI : undefined) === doi) return it.id;
  return undefined;
}

/**
 * Text edit that appends a CSL item to a CSL-JSON file's text, keeping its indentation style.
 * Returns the full new text (the caller turns it into one WorkspaceEdit replacing the document).
 */
export function appendCslItem(text: string, item: CslItem): string {
  if (!text.trim()) return JSON.stringify([item], null, 2) + '\n';
  const data = JSON.parse(text) as unknown;
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
  if (Array.isArray(data)) return JSON.stringify([...data, item], null, indent) + '\n';
  const obj = data as { items: unknown[] };
  return JSON.stringify({ ...obj, items: [...obj.items, item] }, null, indent) + '\n';
}
