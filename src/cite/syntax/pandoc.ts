// Pandoc Markdown (also Quarto and R Markdown): citation keys and `[@a; @b]` groups (the one Pandoc key pattern of
// the project lives here); the YAML front matter is read and edited by ./frontmatter. Pure.
import {
  type CiteGroup,
  type CiteSlot,
  type TextEdit,
  type JoinResult,
  type SkipRegion,
  joinOrInsert,
  masked,
  regionsOf,
} from './common';
import { frontMatter } from './frontmatter';

/**
 * A Pandoc citation key after `@`: letters, digits or `_` first, then those and internal punctuation
 * (`:.#$%&-+?<>~/`, each followed by a letter, digit or `_`), or anything but braces and spaces inside `@{…}`.
 */
const KEY_SRC = String.raw`(?:\{[^{}\s]+\}|[\p{L}\p{N}_](?:[\p{L}\p{N}_]|[:.#$%&\-+?<>~/](?=[\p{L}\p{N}_]))*)`;
/** `@key` or `-@key`, not inside a word or an e-mail address. */
export function pandocKeyRe(): RegExp {
  return new RegExp(String.raw`(?<![\p{L}\p{N}_@.])(-?)@(${KEY_SRC})`, 'gu');
}
/** A bracketed group with at least one citation: `[see @a, p. 3; @b]`. */
function groupRe(): RegExp {
  return /\[([^[\]]*)\]/g;
}

function unbrace(k: string): string {
  return k.startsWith('{') ? k.slice(1, -1) : k;
}

/** Keys Pandoc-crossref/Quarto use for figures, tables, sections and equations: not citations. */
export function isCrossRef(key: string): boolean {
  return /^(?:fig|tbl|sec|eq|lst|thm|lem|def)[:-]/.test(key);
}

/** Fenced code blocks, inline code and HTML comments: no citation there is the writer's. */
export function markdownMasks(text: string): [number, number][] {
  const out: [number, number][] = [];
  for (const m of text.matchAll(/^(```+|~~~+)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm))
    out.push([m.index ?? 0, (m.index ?? 0) + m[0].length]);
  for (const m of text.matchAll(/<!--[\s\S]*?-->/g)) out.push([m.index ?? 0, (m.index ?? 0) + m[0].length]);
  for (const m of text.matchAll(/(?<!`)`[^`\n]+`(?!`)/g)) out.push([m.index ?? 0, (m.index ?? 0) + m[0].length]);
  return out;
}

/** The citation groups `[…@key…]` of a Markdown text, outside code and comments. */
export function pandocGroups(text: string): CiteGroup[] {
  const masks = markdownMasks(text);
  const out: CiteGroup[] = [];
  for (const m of text.matchAll(groupRe())) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    if (masked(masks, start)) continue;
    // a link or image text, or a span with attributes, is not a citation group
    if (/^[({]/.test(text[end] ?? '') || text[start - 1] === '!') continue;
    const inner = m[1] ?? '';
    const keys = [...inner.matchAll(pandocKeyRe())].map((k) => unbrace(k[2] ?? ''));
    if (!keys.length) continue;
    const trail = inner.length - inner.trimEnd().length;
    out.push({
      start,
      end,
      keys,
      insertAt: end - 1 - trail,
      sep: /;\S/.test(inner) && !/;\s/.test(inner) ? ';@' : '; @',
      joinable: !keys.every(isCrossRef),
    });
  }
  return out;
}

/** The Pandoc citation group `[…@…]` containing `offset`. */
export function pandocCiteAt(text: string, offset: number): { keys: string[]; close: number } | undefined {
  const g = pandocGroups(text).find((x) => offset > x.start && offset < x.end);
  return g ? { keys: g.keys, close: g.end - 1 } : undefined;
}

/**
 * The key being typed in a bracketed citation at `offset` (completion): `[@sm|]`, `[@a; @sm|]`, `[see @sm|, p. 3]`.
 * Undefined outside brackets, before any `@`, in code or comments, and for cross-references (`[@fig:…]`).
 */
export function pandocCiteSlot(text: string, offset: number): CiteSlot | undefined {
  const from = Math.max(0, offset - 400);
  const open = /\[([^[\]]*)$/.exec(text.slice(from, offset));
  if (!open) return undefined;
  const groupStart = from + open.index;
  if (text[groupStart - 1] === '!') return undefined;
  const m = /(?:^|[\s;])-?@(\{?[^\s;,[\]{}@]*)$/u.exec(open[1] ?? '');
  if (!m) return undefined;
  const typed = (m[1] ?? '').replace(/^\{/, '');
  if (isCrossRef(typed)) return undefined;
  if (masked(markdownMasks(text), groupStart)) return undefined;
  const rest = /^[^\s;,[\]{}@]*/u.exec(text.slice(offset, offset + 400))?.[0] ?? '';
  const closeAt = text.slice(offset, offset + 400).search(/[[\]]/);
  const inner =
    (open[1] ?? '').slice(0, (open[1] ?? '').length - m[0].length) +
    (closeAt >= 0 && text[offset + closeAt] === ']' ? ' ' + text.slice(offset + rest.length, offset + closeAt) : '');
  const keys = [...inner.matchAll(pandocKeyRe())].map((k) => unbrace(k[2] ?? ''));
  return { start: offset - typed.length, end: offset + rest.length, typed, keys, groupStart };
}

/** ` [@key]` for the selection, or `key` joined to the `[@a; @b]` it is in or right next to. */
export function pandocCitation(text: string, selStart: number, selEnd: number, key: string): JoinResult {
  const r = joinOrInsert(text, selStart, selEnd, key, pandocGroups(text), (at) => {
    const before = text[at - 1] ?? '';
    return { start: at, end: at, text: `${before && !/\s/.test(before) ? ' ' : ''}[@${key}]` };
  });
  // the group's own separator ("; @") holds the `@`: a key joined to a group is written with it
  if (r.edit && r.group) r.edit = { ...r.edit, text: r.group.keys.length ? `${r.group.sep}${key}` : `@${key}` };
  return r;
}

/** The edit alone (undefined: already cited there). */
export function pandocCitationEdit(text: string, selStart: number, selEnd: number, key: string): TextEdit | undefined {
  return pandocCitation(text, selStart, selEnd, key).edit;
}

/** The citation key under the cursor in one line (`@key`, `[@a; @b]`). */
export function pandocKeyAt(line: string, ch: number): string | undefined {
  for (const m of line.matchAll(pandocKeyRe())) {
    const s = m.index ?? 0;
    if (ch >= s && ch <= s + m[0].length) return unbrace(m[2] ?? '');
  }
  return undefined;
}

/** Markdown as query text: citation groups, bare `@keys`, emphasis marks and comments removed. */
export function pandocQueryText(text: string): string {
  let t = text.replace(/<!--[\s\S]*?-->/g, '');
  for (const g of [...pandocGroups(t)].reverse()) t = t.slice(0, g.start) + t.slice(g.end);
  return t
    .replace(pandocKeyRe(), '')
    .replace(/\{\s*\}/g, '')
    .replace(/[*_`#>]/g, ' ');
}

/**
 * Narrative citations outside brackets (`@smith2020 showed …`, `@doi:10.1/x`), outside code and comments, not
 * cross-references and not inside a bracketed group: [start, end) and the key.
 */
export function pandocNarrativeCites(text: string): { start: number; end: number; key: string }[] {
  const masks = markdownMasks(text);
  const groups = pandocGroups(text);
  const out: { start: number; end: number; key: string }[] = [];
  for (const m of text.matchAll(pandocKeyRe())) {
    const start = m.index ?? 0;
    const key = unbrace(m[2] ?? '');
    if (isCrossRef(key) || masked(masks, start) || groups.some((g) => start >= g.start && start < g.end)) continue;
    // `[@tag:x]: doi:…` link definitions (Manubot) are not citations in the text
    if (text[start - 1] === '[' && /^\]:/.test(text.slice(start + m[0].length, start + m[0].length + 2))) continue;
    out.push({ start, end: start + m[0].length, key });
  }
  return out;
}

/**
 * Parts of a Markdown/Quarto/R Markdown document that hold no citable prose: front matter, fenced code (R chunks
 * included) and HTML comments, headings (ATX and setext), figures and table captions, display math, pipe and grid
 * tables, link definitions, raw HTML blocks and template variables (Manubot's `{{…}}`).
 */
export function markdownSkipRegions(text: string): SkipRegion[] {
  const out: SkipRegion[] = [];
  const fm = frontMatter(text);
  if (fm) out.push({ start: 0, end: fm.end, reason: 'front matter' });
  out.push(...regionsOf(text, /^(```+|~~~+)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, 'code'));
  out.push(...regionsOf(text, /<!--[\s\S]*?-->/g, 'comment'));
  out.push(...regionsOf(text, /^ {0,3}#{1,6}(?:[ \t][^\n]*)?$/gm, 'heading'));
  out.push(...regionsOf(text, /^[^\n]+\n(?:=+|-+)[ \t]*$/gm, 'heading'));
  out.push(...regionsOf(text, /^[ \t]*!\[[\s\S]*?\]\([^)]*\)(?:\{[^}]*\})?[^\n]*$/gm, 'caption'));
  out.push(...regionsOf(text, /^(?:Table|Figure|Fig\.)?:[^\n]*(?:\n(?!\s*\n)[^\n]*)*/gm, 'caption'));
  out.push(...regionsOf(text, /^\*{0,2}(?:Table|Figure|Fig\.)\s+S?\d+[.:][^\n]*(?:\n(?!\s*\n)[^\n]*)*/gm, 'caption'));
  out.push(...regionsOf(text, /\$\$[\s\S]*?\$\$/g, 'math'));
  out.push(...regionsOf(text, /^[ \t]*[|+][^\n]*$/gm, 'table'));
  out.push(...regionsOf(text, /^\[[^\]\n]+\]:[^\n]*$/gm, 'references'));
  out.push(...regionsOf(text, /^[ \t]*<\/?[A-Za-z][^\n]*$/gm, 'code'));
  out.push(...regionsOf(text, /\{\{[\s\S]*?\}\}/g, 'code'));
  return out;
}

/** The text of a Markdown section by its heading (`## Abstract`, `# Abstract {.unnumbered}`), up to the next heading of its level or above. */
export function markdownSection(text: string, heading: RegExp): string | undefined {
  const masks = markdownMasks(text);
  const lines = [...text.matchAll(/^(#{1,6})[ \t]+(.+?)[ \t]*(?:\{[^}]*\})?[ \t]*#*[ \t]*$/gm)].filter(
    (m) => !masked(masks, m.index ?? 0),
  );
  const i = lines.findIndex((m) => heading.test(m[2] ?? ''));
  const h = lines[i];
  if (!h) return undefined;
  const level = (h[1] ?? '').length;
  const start = (h.index ?? 0) + h[0].length;
  const next = lines.slice(i + 1).find((m) => (m[1] ?? '').length <= level);
  const body = text.slice(start, next?.index ?? text.length).trim();
  return body || undefined;
}
