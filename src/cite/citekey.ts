// Citation keys: in the bibliography's own style (inferred from the keys already there: Zotero's author_title_year,
// Better BibTeX's authTitleWordsYear, BibDesk's Author:Year, AuthorYear, …), or from the `keyPattern` setting, which
// wins when set; never clashing with keys already in use (compared case-insensitively, as BibTeX does).
import type { PaperMeta } from './paper';
import { splitAuthor, deTex } from './paper';
import type { BibRecord } from './match';

/** Fallback pattern: first author's family name, year, first significant title word (e.g. `smith2020diabetes`). */
export const DEFAULT_KEY_PATTERN = '[auth:lower][year][title:lower]';

const STOP = new Set(
  (
    'a an the of and or in on at to for from with by via into onto over under between among as is are was were be ' +
    'its their this that these those do does not no vs versus using use based new study analysis role effect effects'
  ).split(' '),
);

/** ASCII fold and keep only letters and digits. */
export function asciiWord(s: string): string {
  return fold(s).replace(/[^A-Za-z0-9]/g, '');
}

/** Diacritics removed, a few letters spelled out (ß → ss, æ → ae, ø → o, ł → l). */
function fold(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/æ/g, 'ae')
    .replace(/Æ/g, 'AE')
    .replace(/[øØ]/g, (c) => (c === 'ø' ? 'o' : 'O'))
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L')
    .replace(/œ/g, 'oe')
    .replace(/Œ/g, 'OE');
}

function titleWords(title: string): string[] {
  return title
    .replace(/<[^>]*>/g, ' ')
    .split(/[^\p{L}\p{N}]+/u)
    .map(asciiWord)
    .filter(Boolean);
}

function firstTitleWord(title: string): string {
  const words = titleWords(title);
  return words.find((w) => !STOP.has(w.toLowerCase()) && !/^\d+$/.test(w)) ?? words[0] ?? 'untitled';
}

function applyCase(v: string, mod: string | undefined): string {
  if (mod === 'lower') return v.toLowerCase();
  if (mod === 'upper') return v.toUpperCase();
  if (mod === 'capitalize') return v.charAt(0).toUpperCase() + v.slice(1).toLowerCase();
  return v;
}

/** What a key is made of: the first author's family name (as written), the title, the year. */
export interface KeyFields {
  family?: string;
  title?: string;
  year?: number;
}

export function paperKeyFields(paper: Pick<PaperMeta, 'authors' | 'title' | 'year'>): KeyFields {
  const first = paper.authors.find((a) => a.trim());
  return { family: first ? splitAuthor(first).family : undefined, title: paper.title, year: paper.year };
}

/**
 * Expand a key pattern. Fields: `[auth]` first author family name, `[year]`, `[title]` first significant title
 * word, `[pmid]`, `[journal]` journal initials; modifiers `:lower`, `:upper`, `:capitalize`. Other text is kept
 * as written (only characters valid in BibTeX and Pandoc keys).
 */
export function expandKeyPattern(paper: PaperMeta, pattern = DEFAULT_KEY_PATTERN): string {
  const family = paperKeyFields(paper).family;
  const auth = asciiWord(family?.split(/\s+/).pop() ?? '') || 'anon';
  const fields: Record<string, string> = {
    auth,
    year: paper.year ? String(paper.year) : 'nd',
    title: firstTitleWord(paper.title),
    pmid: paper.pmid,
    journal: paper.journal
      .split(/\s+/)
      .map((w) => asciiWord(w).charAt(0))
      .join(''),
  };
  const out = pattern.replace(/\[(\w+)(?::(\w+))?\]/g, (whole, name: string, mod: string | undefined) => {
    const v = fields[name];
    if (v === undefined)
      throw new Error(
        `Unknown field [${name}] in citation key pattern "${pattern}" (known: ${Object.keys(fields).join(', ')})`,
      );
    return applyCase(v, mod);
  });
  const clean = out.replace(/[^A-Za-z0-9_:.-]/g, '');
  return /^[A-Za-z]/.test(clean) ? clean : `p${clean || paper.pmid}`;
}

// ---- key styles of the tools people make .bib files with ----

/** How a style makes a second key from the same base: a, b, …; -1, -2 (Zotero); always two letters (BibDesk). */
type Dup = 'letters' | 'dash-number' | 'two-letters';

export interface KeyStyle {
  name: string;
  /** shown to the writer, e.g. "Zotero (author_title_year)" */
  label: string;
  base(f: KeyFields): string | undefined;
  dup: Dup;
}

// Zotero's BibTeX export (translators/BibTeX.js buildCiteKey): "%a_%t_%y", the title's first word after dropping
// articles and a few prepositions, accents removed, only [a-z0-9!$&*+\-./:;<>?[\]^_`|] kept, "-1" for a duplicate.
const ZOTERO_BANNED =
  /\b(a|an|the|some|from|on|in|to|of|do|with|der|die|das|ein|eine|einer|eines|einem|einen|un|une|la|le|l'|el|las|los|al|uno|una|unos|unas|de|des|del|d')(\s+|\b)/g;
const ZOTERO_CLEAN = /[^a-z0-9!$&*+\-./:;<>?[\]^_`|]+/g;
function zoteroKey(f: KeyFields): string | undefined {
  if (!f.family && !f.title) return undefined;
  const a = (f.family ?? '').toLowerCase().replace(/ /g, '_').replace(/,/g, '') || 'noauthor';
  const t = f.title ? (f.title.toLowerCase().replace(ZOTERO_BANNED, '').split(/\s+/g)[0] ?? '') : 'notitle';
  const y = f.year ? String(f.year) : 'nodate';
  return fold(`${a}_${t}_${y}`).toLowerCase().replace(ZOTERO_CLEAN, '');
}

// Better BibTeX's default formula, auth.lower + shorttitle(3,3) + year: the first three title words that are not
// skip words, each capitalised; a, b, … for a duplicate.
const BBT_SKIP = new Set(
  (
    'a ab aboard about above across after against al along amid among an and anti around as at before behind below ' +
    'beneath beside besides between beyond but by d da das de del dell dello dei degli della delle dem den der des despite die do down du ' +
    'during ein eine einem einen einer eines el en et except for from gli i il in inside into is l la las le les like lo los near nor of ' +
    'off on onto or over past per plus round save since so some sur than the through to toward towards un una unas under underneath une ' +
    'unlike uno unos until up upon versus via von while with within without yet zu zum'
  ).split(' '),
);
function bbtKey(f: KeyFields): string | undefined {
  if (!f.family || !f.title) return undefined;
  const auth = asciiWord(
    f.family
      .split(/\s+/)
      .filter((w) => !/^[a-z]/.test(w))
      .join('') || f.family,
  ).toLowerCase();
  const words = f.title
    .replace(/<[^>]*>/g, ' ')
    .split(/\s+/)
    .map((w) => asciiWord(w).toLowerCase())
    .filter((w) => w && !BBT_SKIP.has(w));
  const short = words
    .slice(0, 3)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
  return `${auth}${short}${f.year ?? ''}`;
}

type Case = 'as-is' | 'lower' | 'upper';
function familyWord(f: KeyFields, c: Case, whole: boolean): string | undefined {
  if (!f.family) return undefined;
  // "van der Berg": the last word (JabRef's [auth]), or the whole name run together
  const w = asciiWord(whole ? f.family : (f.family.split(/\s+/).pop() ?? ''));
  if (!w) return undefined;
  return c === 'lower' ? w.toLowerCase() : c === 'upper' ? w.toUpperCase() : w.charAt(0).toUpperCase() + w.slice(1);
}

function authorYearStyles(): KeyStyle[] {
  const out: KeyStyle[] = [];
  for (const [sep, sepName] of [
    ['', ''],
    ['_', '_'],
    ['-', '-'],
    [':', ':'],
  ] as const) {
    for (const c of ['as-is', 'lower', 'upper'] as const) {
      const sample = `${applyCase('Author', c === 'as-is' ? undefined : c)}${sep}Year`;
      out.push({
        name: `author${sepName}year-${c}`,
        label: sep === ':' && c === 'as-is' ? 'BibDesk (Author:Year)' : sample,
        base: (f) => {
          const a = familyWord(f, c, true);
          return a && f.year ? `${a}${sep}${f.year}` : undefined;
        },
        dup: sep === ':' ? 'two-letters' : 'letters',
      });
    }
  }
  return out;
}

export const KEY_STYLES: KeyStyle[] = [
  { name: 'zotero', label: 'Zotero (author_title_year)', base: zoteroKey, dup: 'dash-number' },
  { name: 'betterbibtex', label: 'Better BibTeX (authorTitleWordsYear)', base: bbtKey, dup: 'letters' },
  {
    name: 'authoryearword',
    label: 'authoryearword (Google Scholar)',
    dup: 'letters',
    base: (f) =>
      f.family && f.title && f.year
        ? `${asciiWord(f.family.split(/\s+/).pop() ?? '').toLowerCase()}${f.year}${firstTitleWord(f.title).toLowerCase()}`
        : undefined,
  },
  ...authorYearStyles(),
];

function suffixRe(dup: Dup): string {
  return dup === 'dash-number' ? '(?:-\\d+)?' : dup === 'two-letters' ? '[a-z]{0,2}' : '[a-z]{0,2}';
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Does `key` follow `style` for the entry it names? */
export function keyFollows(style: KeyStyle, key: string, f: KeyFields): boolean {
  const base = style.base(f);
  if (!base) return false;
  return new RegExp(`^${escapeRe(base)}${suffixRe(style.dup)}$`).test(key);
}

export interface InferredStyle {
  style: KeyStyle;
  matched: number;
  of: number;
}

/**
 * The key style of a bibliography, from its own entries: for each entry with an author or title, which styles
 * reproduce its key from its fields. The style that reproduces most keys wins, if it reproduces at least two (one in
 * a file of up to three entries) and at least a quarter of the entries that could be judged; otherwise undefined
 * (the fallback pattern is used).
 */
export function inferKeyStyle(records: BibRecord[]): InferredStyle | undefined {
  const judged = records.filter((r) => r.families.length || r.rawTitle);
  if (!judged.length) return undefined;
  const counts = new Map<KeyStyle, number>();
  for (const r of judged) {
    const f: KeyFields = { family: r.families[0], title: r.rawTitle ? deTex(r.rawTitle) : undefined, year: r.year };
    for (const s of KEY_STYLES) if (keyFollows(s, r.key, f)) counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  let best: InferredStyle | undefined;
  for (const s of KEY_STYLES) {
    const n = counts.get(s) ?? 0;
    if (n > (best?.matched ?? 0)) best = { style: s, matched: n, of: judged.length };
  }
  // two keys in the style, or one in a file of at most three entries; and at least a quarter of them
  if (!best || best.matched < (judged.length <= 3 ? 1 : 2) || best.matched * 4 < judged.length) return undefined;
  return best;
}

function letters(i: number): string {
  let suffix = '';
  let n = i;
  do {
    suffix = String.fromCharCode(97 + (n % 26)) + suffix;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return suffix;
}

export interface KeyOptions {
  /** the `keyPattern` setting: wins when set */
  pattern?: string;
  /** the bibliography's inferred style (used when no pattern is set) */
  style?: KeyStyle;
}

/** A new key for `paper` that is not in `taken` (case-insensitively): the pattern, else the file's style, else the fallback. */
export function makeCiteKey(paper: PaperMeta, taken: Iterable<string>, opts: KeyOptions | string = {}): string {
  const o: KeyOptions = typeof opts === 'string' ? { pattern: opts } : opts;
  const used = new Set<string>();
  for (const k of taken) used.add(k.toLowerCase());
  const styled = !o.pattern && o.style ? o.style.base(paperKeyFields(paper)) : undefined;
  const dup: Dup = styled && o.style ? o.style.dup : 'letters';
  const base = styled ?? expandKeyPattern(paper, o.pattern || DEFAULT_KEY_PATTERN);
  if (dup !== 'two-letters' && !used.has(base.toLowerCase())) return base;
  for (let i = dup === 'two-letters' ? 26 : 0; ; i++) {
    const k = dup === 'dash-number' ? `${base}-${i + 1}` : base + letters(i);
    if (!used.has(k.toLowerCase())) return k;
  }
}
