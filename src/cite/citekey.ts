// Citation keys: a configurable pattern, ASCII-folded, never clashing with keys already in use.
import type { PaperMeta } from './paper';
import { splitAuthor } from './paper';

/** Default pattern: first author's family name, year, first significant title word (e.g. `smith2020diabetes`). */
export const DEFAULT_KEY_PATTERN = '[auth:lower][year][title:lower]';

const STOP = new Set(
  ('a an the of and or in on at to for from with by via into onto over under between among as is are was were be ' +
    'its their this that these those do does not no vs versus using use based new study analysis role effect effects')
    .split(' '),
);

/** ASCII fold and keep only letters and digits. */
export function asciiWord(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss').replace(/æ/gi, 'ae').replace(/ø/gi, 'o').replace(/ł/gi, 'l')
    .replace(/[^A-Za-z0-9]/g, '');
}

function firstTitleWord(title: string): string {
  const words = title.replace(/<[^>]*>/g, ' ').split(/[^\p{L}\p{N}]+/u).map(asciiWord).filter(Boolean);
  return words.find((w) => !STOP.has(w.toLowerCase()) && !/^\d+$/.test(w)) ?? words[0] ?? 'untitled';
}

function applyCase(v: string, mod: string | undefined): string {
  if (mod === 'lower') return v.toLowerCase();
  if (mod === 'upper') return v.toUpperCase();
  if (mod === 'capitalize') return v.charAt(0).toUpperCase() + v.slice(1).toLowerCase();
  return v;
}

/**
 * Expand a key pattern. Fields: `[auth]` first author family name, `[year]`, `[title]` first significant title
 * word, `[pmid]`, `[journal]` journal initials; modifiers `:lower`, `:upper`, `:capitalize`. Other text is kept
 * as written (only characters valid in BibTeX and Pandoc keys).
 */
export function expandKeyPattern(paper: PaperMeta, pattern = DEFAULT_KEY_PATTERN): string {
  const first = paper.authors[0] ? splitAuthor(paper.authors[0]) : undefined;
  const auth = asciiWord(first?.family.split(/\s+/).pop() ?? '') || 'anon';
  const fields: Record<string, string> = {
    auth,
    year: paper.year ? String(paper.year) : 'nd',
    title: firstTitleWord(paper.title),
    pmid: paper.pmid,
    journal: paper.journal.split(/\s+/).map((w) => asciiWord(w).charAt(0)).join(''),
  };
  const out = pattern.replace(/\[(\w+)(?::(\w+))?\]/g, (whole, name: string, mod: string | undefined) => {
    const v = fields[name];
    if (v === undefined) throw new Error(`Unknown field [${name}] in citation key pattern "${pattern}" (known: ${Object.keys(fields).join(', ')})`);
    return applyCase(v, mod);
  });
  const clean = out.replace(/[^A-Za-z0-9_:.\-]/g, '');
  return /^[A-Za-z]/.test(clean) ? clean : `p${clean || paper.pmid}`;
}

/** A key from the pattern that is not in `taken` (case-insensitively, as BibTeX compares): suffix a, b, …, z, aa, … */
export function makeCiteKey(paper: PaperMeta, taken: Iterable<string>, pattern = DEFAULT_KEY_PATTERN): string {
  const used = new Set<string>();
  for (const k of taken) used.add(k.toLowerCase());
  const base = expandKeyPattern(paper, pattern);
  if (!used.has(base.toLowerCase())) return base;
  for (let i = 0; ; i++) {
    let suffix = '';
    let n = i;
    do { suffix = String.fromCharCode(97 + (n % 26)) + suffix; n = Math.floor(n / 26) - 1; } while (n >= 0);
    const k = base + suffix;
    if (!used.has(k.toLowerCase())) return k;
  }
}
