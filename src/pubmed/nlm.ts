// NLM's PubMed distribution (https://ftp.ncbi.nlm.nih.gov/pubmed/): file names, their order, the Apache index
// pages that list them, and the `.md5` siblings. No I/O here.
//
// Layout: baseline/ holds the yearly baseline pubmedYYn0001.xml.gz … pubmedYYnNNNN.xml.gz, updatefiles/ the daily
// update files, numbered on from the last baseline file (pubmedYYn1335.xml.gz …). Each .xml.gz has a sibling
// `<name>.md5` whose one line reads `MD5(pubmed26n0001.xml.gz)= <32 hex>`; update files also have
// `<base>_stats.html`. The index pages are Apache "fancy" listings:
//   <a href="pubmed26n0001.xml.gz">pubmed26n0001.xml.gz</a>     2025-12-14 18:08   19M
// parsed with htmlparser2 (the tolerant HTML tokenizer cheerio is built on) rather than by regular expressions.
import * as path from 'node:path';
import { Parser } from 'htmlparser2';

export type NlmKind = 'baseline' | 'update';

/** NLM's public HTTPS mirror of the PubMed distribution. */
export const NLM_MIRROR = 'https://ftp.ncbi.nlm.nih.gov/pubmed/';
/** The mirror's folder for each kind. */
export const NLM_DIRS: Record<NlmKind, 'baseline' | 'updatefiles'> = { baseline: 'baseline', update: 'updatefiles' };

/** pubmedYYnNNNN.xml.gz (also accepted by nlmFileOrder: the uncompressed .xml). */
export const NLM_FILE_RE = /^pubmed(\d{2})n(\d{4,})\.xml(\.gz)?$/;

export interface NlmFileName {
  /** The file name (no folder), e.g. pubmed26n0001.xml.gz. */
  name: string;
  /** Two-digit year of the release (26) and the full year (2026). */
  yy: number;
  year: number;
  /** The file number (1 for pubmed26n0001). */
  number: number;
  /** baseline/ or updatefiles/: from the listing, or from the parent folder of a path; undefined when unknown. */
  kind?: NlmKind;
}

/**
 * Parses an NLM file name or a path to one. The kind is the one given, else the parent folder's name
 * (baseline → baseline, updatefiles → update), else undefined: NLM names both kinds alike.
 */
export function parseNlmFileName(nameOrPath: string, kind?: NlmKind): NlmFileName | undefined {
  const name = path.basename(nameOrPath);
  const m = NLM_FILE_RE.exec(name);
  if (!m) return undefined;
  const parent = path.basename(path.dirname(nameOrPath));
  const k = kind ?? (parent === 'baseline' ? 'baseline' : parent === 'updatefiles' ? 'update' : undefined);
  const yy = Number(m[1]);
  return { name, yy, year: 2000 + yy, number: Number(m[2]), kind: k };
}

/**
 * Sort key of an NLM file (name or path): release year, then number. Within a release the update files are
 * numbered after the last baseline file, so this orders baseline before updates, each by number. Undefined for a
 * name that is not an NLM file.
 */
export function nlmFileOrder(name: string): { yy: number; n: number } | undefined {
  const p = parseNlmFileName(name);
  return p && { yy: p.yy, n: p.number };
}

/** Array.sort comparator over NLM names/paths (others last, by name). */
export function compareNlmFiles(a: string, b: string): number {
  const x = nlmFileOrder(a);
  const y = nlmFileOrder(b);
  if (x && y) return x.yy - y.yy || x.n - y.n;
  if (x) return -1;
  if (y) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface NlmListedFile extends NlmFileName {
  kind: NlmKind;
  /** Absolute URL of the .xml.gz and of its .md5 (undefined when the listing shows none). */
  url: string;
  md5Url?: string;
  /** "Last modified" and "Size" columns as shown (e.g. `2025-12-14 18:08`, `19M`). */
  modified?: string;
  size?: string;
  /** The size column in bytes (approximate: Apache rounds to K/M). */
  approxBytes?: number;
}

/** `19M` → 19·2^20, `4.5K` → 4608, `60` → 60; undefined for `-` or anything else. */
export function apacheSizeToBytes(s: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(s ?? '');
  if (!m) return undefined;
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(Number(m[1]) * mult);
}

export class ListingError extends Error {
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message);
    this.name = 'ListingError';
  }
}

const DATE_SIZE =
  /^\s*(\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?|\d{2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2}(?::\d{2})?)\s+(\S+)/;

/**
 * The NLM files an index page lists (its `.xml.gz` links that are direct children of the page's folder), in
 * nlmFileOrder, each with its .md5 URL when the page lists one, and the modified/size columns. Throws ListingError
 * when the page is not a directory listing (e.g. an error page).
 */
export function parseListing(html: string, pageUrl: string, kind: NlmKind): NlmListedFile[] {
  const base = new URL(pageUrl);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const anchors: { href: string; after: string }[] = [];
  let title = '';
  let inTitle = false;
  let current: { href: string; after: string } | undefined;
  let inAnchor = false;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name === 'title') inTitle = true;
        if (name === 'a') {
          inAnchor = true;
          current = attrs.href !== undefined ? { href: attrs.href, after: '' } : undefined;
          if (current) anchors.push(current);
        }
      },
      ontext(text) {
        if (inTitle) title += text;
        else if (!inAnchor && current) current.after += text;
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
        if (name === 'a') inAnchor = false;
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();

  const files = new Map<string, NlmListedFile>();
  const md5s = new Map<string, string>();
  let children = 0;
  for (const a of anchors) {
    let u: URL;
    try {
      u = new URL(a.href, base);
    } catch {
      continue;
    }
    if (u.origin !== base.origin || !u.pathname.startsWith(base.pathname)) continue;
    const rest = decodeURIComponent(u.pathname.slice(base.pathname.length));
    if (!rest || rest.includes('/')) continue;
    children++;
    if (rest.endsWith('.md5')) {
      md5s.set(rest.slice(0, -4), u.href);
      continue;
    }
    const parsed = parseNlmFileName(rest, kind);
    if (!parsed || !rest.endsWith('.gz')) continue;
    const meta = DATE_SIZE.exec(a.after);
    files.set(rest, {
      ...parsed,
      kind,
      url: u.href,
      modified: meta?.[1],
      size: meta?.[2],
      approxBytes: apacheSizeToBytes(meta?.[2]),
    });
  }
  if (!files.size && !/index of/i.test(title) && children === 0) {
    const t =
      title.trim() ||
      html
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 80);
    throw new ListingError(pageUrl, `${pageUrl} is not a directory listing (page: "${t}")`);
  }
  for (const [name, f] of files) f.md5Url = md5s.get(name);
  return [...files.values()].sort((a, b) => compareNlmFiles(a.name, b.name));
}

/**
 * The hex digest of an `.md5` file: NLM's `MD5(<name>)= <hex>`, or `md5sum`'s `<hex>  <name>`, or a bare digest.
 * Throws naming `expectName` when the text holds no digest or names another file.
 */
export function parseMd5(text: string, expectName: string): string {
  const t = text.trim();
  const nlm = /^MD5 ?\((.+?)\) ?= ?([0-9a-fA-F]{32})$/.exec(t);
  const sum = /^([0-9a-fA-F]{32}) [ *]?(.+)$/.exec(t);
  const bare = /^([0-9a-fA-F]{32})$/.exec(t);
  const named = nlm ? nlm[1] : sum ? sum[2] : undefined;
  const hex = nlm ? nlm[2] : sum ? sum[1] : bare?.[1];
  if (!hex)
    throw new Error(`${expectName}: its .md5 file holds no MD5 digest (it reads ${JSON.stringify(t.slice(0, 80))})`);
  if (named !== undefined && path.basename(named.trim()) !== expectName) {
    throw new Error(`${expectName}: its .md5 file is for another file (${named.trim()})`);
  }
  return hex.toLowerCase();
}
