// CSL-JSON bibliographies (Pandoc/Quarto `bibliography: refs.json`, Manubot's manual-references.json and resolved
// output/references.json): reading, a new item for a PubMed paper, appending that keeps the file's indentation.
import type { PaperMeta } from './paper';
import { normDoi, splitAuthor } from './paper';
import * as v from 'valibot';
import { parseJson } from '../util/json';

export interface CslItem {
  id: string;
  type: string;
  title?: string;
  author?: { family?: string; given?: string; literal?: string }[];
  'container-title'?: string;
  issued?: { 'date-parts'?: (number | string)[][]; raw?: string; literal?: string };
  volume?: string;
  issue?: string;
  page?: string;
  ISSN?: string;
  DOI?: string;
  PMID?: string;
  URL?: string;
  note?: string;
  [k: string]: unknown;
}

/** A CSL-JSON item for a PubMed paper: the fields it has, nothing invented. */
export function toCslItem(paper: PaperMeta, key: string): CslItem {
  const item: CslItem = {
    id: key,
    type: 'article-journal',
    title: paper.title.replace(/\.$/, ''),
    author: paper.authors
      .filter((a) => a.trim())
      .map((a) => {
        const p = splitAuthor(a);
        return p.literal
          ? { literal: p.literal }
          : p.given
            ? { family: p.family, given: p.given }
            : { family: p.family };
      }),
    'container-title': paper.journal,
    PMID: paper.pmid,
  };
  if (!paper.journal?.trim()) delete item['container-title'];
  if (paper.year)
    item.issued = {
      'date-parts': [paper.month && paper.month >= 1 && paper.month <= 12 ? [paper.year, paper.month] : [paper.year]],
    };
  if (paper.volume?.trim()) item.volume = paper.volume.trim();
  if (paper.issue?.trim()) item.issue = paper.issue.trim();
  if (paper.pages?.trim()) item.page = paper.pages.trim();
  if (paper.issn?.trim()) item.ISSN = paper.issn.trim();
  if (paper.doi) item.DOI = normDoi(paper.doi);
  return item;
}

/** A CSL-JSON file: an array of items, or an object with `items` (Zotero's, Better BibTeX's exports). */
const CslFileSchema = v.union(
  [v.array(v.unknown()), v.looseObject({ items: v.array(v.unknown()) })],
  'expected a JSON array of CSL items (or an object with "items")',
);

/** Parse a CSL-JSON file (an array of items, or {items:[…]}). A clear error names the file and the problem. */
export function parseCslJson(text: string, file = 'CSL-JSON'): CslItem[] {
  if (!text.trim()) return [];
  const data = parseJson(text, CslFileSchema, file);
  const items = Array.isArray(data) ? data : data.items;
  return items.filter((x): x is CslItem => !!x && typeof x === 'object' && typeof (x as CslItem).id === 'string');
}

/** The PMID of a CSL item: `PMID`, `pmid`, or "PMID: n" in its note. */
export function cslPmid(it: CslItem): string | undefined {
  const v = it.PMID ?? it['pmid'] ?? (typeof it.note === 'string' ? /PMID:\s*(\d+)/i.exec(it.note)?.[1] : undefined);
  const s = v === undefined || v === null ? '' : String(v).trim();
  return /^\d+$/.test(s) ? s : undefined;
}

export function cslYear(it: CslItem): number | undefined {
  const y = it.issued?.['date-parts']?.[0]?.[0] ?? /\b(\d{4})\b/.exec(it.issued?.raw ?? it.issued?.literal ?? '')?.[1];
  const n = Number(y);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * The text that appends a CSL item to a CSL-JSON file, keeping its indentation style. Returns the full new text (the
 * caller turns it into one edit replacing the document).
 */
export function appendCslItem(text: string, item: CslItem): string {
  if (!text.trim()) return JSON.stringify([item], null, 2) + '\n';
  const data = parseJson(text, CslFileSchema, 'the CSL-JSON file');
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
  if (Array.isArray(data)) return JSON.stringify([...data, item], null, indent) + '\n';
  return JSON.stringify({ ...data, items: [...data.items, item] }, null, indent) + '\n';
}
