// Pandoc Markdown (also Quarto and R Markdown): YAML front matter and its `bibliography:`, citation keys and
// `[@a; @b]` groups. The one front-matter pattern and the one Pandoc key pattern of the project live here. Pure.
import { type CiteGroup, type CiteSlot, type TextEdit, type JoinResult, joinOrInsert, masked } from './common';

/** Front matter of a Markdown/Quarto/R Markdown document: the text between a leading `---` and the next `---`/`...`. */
export function frontMatter(text: string): { body: string; bodyStart: number; end: number } | undefined {
  const m = /^(\uFEFF?---[ \t]*\r?\n)(?:([\s\S]*?)\r?\n)??(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/.exec(text);
  return m ? { body: m[2] ?? '', bodyStart: (m[1] ?? '').length, end: m[0].length } : undefined;
}

function unquote(s: string): string {
  const t = s.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  return t;
}

/** A top-level YAML list or scalar of the front matter: `key: x`, `key: [a, b]`, or a block list under `key:`. */
export function yamlList(text: string, key: string): string[] {
  const fm = frontMatter(text);
  if (!fm) return [];
  const lines = fm.body.split(/\r?\n/);
  const re = new RegExp(`^${key}:\\s*(.*?)\\s*(?:#.*)?$`);
  for (let i = 0; i < lines.length; i++) {
    const m = re.exec(lines[i] ?? '');
    if (!m) continue;
    const v = m[1] ?? '';
    if (v.startsWith('['))
      return v
        .replace(/^\[|\]$/g, '')
        .split(',')
        .map(unquote)
        .filter(Boolean);
    if (v) return [unquote(v)];
    const out: string[] = [];
    for (let j = i + 1; j < lines.length; j++) {
      const item = /^\s*-\s*(.+?)\s*$/.exec(lines[j] ?? ''); // `- refs.bib`, indented or not (both are valid YAML)
      if (!item) break;
      out.push(unquote(item[1] ?? ''));
    }
    return out;
  }
  return [];
}

/** `bibliography:` from YAML front matter: a scalar, a flow list `[a.bib, b.json]` or a block list. */
export function yamlBibliography(text: string): string[] {
  return yamlList(text, 'bibliography');
}

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
