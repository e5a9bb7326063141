// Pandoc Markdown (also Quarto and R Markdown): citation keys and `[@a; @b]` groups (the one Pandoc key pattern of
// the project lives here); the YAML front matter is read and edited by ./frontmatter. Pure.
import { type CiteGroup, type TextEdit, type JoinResult, joinOrInsert, masked } from './common';

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
