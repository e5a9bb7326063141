// The paper metadata a citation needs. Pure module (no `vscode`): unit-tested in Node.

import type { ArticleInfo } from '../index/store';

/**
 * The paper metadata a citation needs: the stored article's own fields (one shape from reader to index to view;
 * 'Lastname Initials' authors, MedlinePgn-style pages, month 1–12), plus the abstract when it is shown.
 */
export type PaperMeta = Pick<
  ArticleInfo,
  'pmid' | 'title' | 'authors' | 'journal' | 'year' | 'month' | 'volume' | 'issue' | 'pages' | 'issn' | 'doi'
> & {
  abstract?: string;
};

/** The citation fields of anything shaped like a stored article (ArticleInfo, a search hit): nothing else is copied. */
export function paperMeta(a: Omit<PaperMeta, 'abstract'>): PaperMeta {
  const p: PaperMeta = { pmid: a.pmid, title: a.title, authors: a.authors, journal: a.journal };
  for (const k of ['year', 'month', 'volume', 'issue', 'pages', 'issn', 'doi'] as const) {
    const v = a[k];
    if (v !== undefined && v !== null && v !== '') (p as unknown as Record<string, unknown>)[k] = v;
  }
  return p;
}

/** What a reference needs and this paper lacks (shown before the writer inserts it, and in the message after). */
export function missingFields(p: Pick<PaperMeta, 'authors' | 'journal' | 'year' | 'title'>): string[] {
  const out: string[] = [];
  if (!p.title?.trim()) out.push('title');
  if (!p.authors?.some((a) => a.trim())) out.push('author');
  if (!p.journal?.trim()) out.push('journal');
  if (!p.year) out.push('year');
  return out;
}

export interface PersonName {
  family: string;
  given?: string;
  literal?: string;
}

/** 'Smith JA' → {family:'Smith', given:'J. A.'}; 'van der Berg AB' keeps the particle; a group name stays literal. */
export function splitAuthor(a: string): PersonName {
  const s = a.trim();
  const m = /^(.+?)\s+([A-Z\u00C0-\u024F]{1,4})$/u.exec(s);
  if (m && m[1] && m[2])
    return {
      family: m[1],
      given: m[2]
        .split('')
        .map((c) => `${c}.`)
        .join(' '),
    };
  if (/\s/.test(s)) return { family: s, literal: s }; // no initials: a collective name
  return { family: s };
}

/** Canonical DOI for comparisons: lower case, no resolver prefix. */
export function normDoi(doi: string | undefined): string | undefined {
  if (!doi) return undefined;
  const d = doi
    .trim()
    .replace(/^https?:\/\/(dx\.)?doi\.org\//i, '')
    .replace(/^doi:\s*/i, '')
    .toLowerCase();
  return d || undefined;
}

/**
 * A title for comparisons: LaTeX markup and HTML tags gone, diacritics folded, lower case, only letters and digits
 * separated by single spaces, no trailing full stop. "The {CRC} {\"u}ber-study." and "The CRC über study" compare equal.
 * Greek letters are left out on both sides ("a $\beta$-amyloid" typed in a .bib, "a β-Amyloid" from PubMed).
 */
export function normTitle(title: string | undefined): string {
  if (!title) return '';
  return deTex(title)
    .replace(/<[^>]*>/g, ' ')
    .replace(/\p{Script=Greek}/gu, ' ')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Text of a BibTeX value, well enough for comparing titles and names: braces and LaTeX commands removed. */
export function deTex(s: string): string {
  return s
    .replace(/\\([`'^"~=.])\s*\{?\s*([A-Za-z])\}?/g, '$2') // accents: \"{u}, {\"u} → the letter
    .replace(/\\([uvHckbdrt])(?![A-Za-z])\s*\{?\s*([A-Za-z])\}?/g, '$2') // \c c, \v{s}; not \beta
    .replace(
      /\\(?:ss|ae|AE|oe|OE|o|O|l|L|i|j)\b\s*/g,
      (m) =>
        (
          ({
            ss: 'ss',
            ae: 'ae',
            AE: 'AE',
            oe: 'oe',
            OE: 'OE',
            o: 'o',
            O: 'O',
            l: 'l',
            L: 'L',
            i: 'i',
            j: 'j',
          }) as Record<string, string>
        )[m.trim().slice(1)] ?? '',
    )
    .replace(/\\[&%$#_{}]/g, (m) => m.slice(1))
    .replace(/\\[A-Za-z]+\*?\s*/g, ' ')
    .replace(/[{}$]/g, '')
    .replace(/~/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
