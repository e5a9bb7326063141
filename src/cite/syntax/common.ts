// What every citation syntax shares: text edits, where a new citation goes, and the rule that a citation inserted in
// or right next to a citation group joins that group (a key already in it is not added again). Pure.

export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/** A citation group in the text: `\cite{a,b}`, `[@a; @b]`, `[1, 2]`. */
export interface CiteGroup {
  start: number;
  end: number;
  keys: string[];
  /** where a new key is inserted (before the closing brace or bracket) */
  insertAt: number;
  /** what goes between the last key and a new one (the group's own separator style) */
  sep: string;
  /** may an insertion right next to it join it (not for narrative `\textcite`, cross-references, …) */
  joinable: boolean;
}

/** Apply edits (any order; non-overlapping) to a text. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start || b.end - a.end))
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** Where an offset of the original text is after the edits (insertions at the offset itself count as before it). */
export function mapOffset(offset: number, edits: TextEdit[], after = true): number {
  let d = 0;
  for (const e of edits) {
    if (e.end < offset || (e.end === offset && (after || e.start < offset))) d += e.text.length - (e.end - e.start);
  }
  return offset + d;
}

/** Where to put a new citation: after the selection, moved back over trailing spaces and one sentence-ending mark. */
export function citationAnchor(text: string, selStart: number, selEnd: number): number {
  let p = selEnd;
  while (p > selStart && /\s/.test(text[p - 1] ?? '')) p--;
  if (p > selStart && /[.;:!?,]/.test(text[p - 1] ?? '')) p--;
  while (p > selStart && /[ \t]/.test(text[p - 1] ?? '')) p--;
  return p;
}

/** Only spaces (one line break at most) and, for LaTeX, ties between two offsets: "right next to". */
function adjacent(text: string, a: number, b: number, ties: boolean): boolean {
  if (a > b) return false;
  const gap = text.slice(a, b);
  return (ties ? /^[ \t~]*\n?[ \t~]*$/ : /^[ \t]*\n?[ \t]*$/).test(gap);
}

export interface JoinResult {
  /** the edit (undefined: the key is in the group already, nothing to do) */
  edit?: TextEdit;
  /** the group joined, if any */
  group?: CiteGroup;
  /** offset in the original text after which the cursor goes (after the citation) */
  cursorAfter: number;
}

/**
 * The citation of `key` for a selection: into the group the selection ends in (or the cursor is in), else into a
 * group right next to where the citation goes (before or after it), else `fresh(anchor)` at the anchor.
 */
export function joinOrInsert(
  text: string,
  selStart: number,
  selEnd: number,
  key: string,
  groups: CiteGroup[],
  fresh: (at: number) => TextEdit,
  opts: { ties?: boolean; inside?: (g: CiteGroup, offset: number) => boolean } = {},
): JoinResult {
  const inside = opts.inside ?? ((g, o) => o > g.start && o < g.end);
  const into = (g: CiteGroup): JoinResult =>
    g.keys.includes(key)
      ? { group: g, cursorAfter: g.end }
      : {
          group: g,
          edit: { start: g.insertAt, end: g.insertAt, text: `${g.keys.length ? g.sep : ''}${key}` },
          cursorAfter: g.end,
        };
  const open =
    groups.find((g) => inside(g, selEnd)) ??
    (selStart === selEnd ? undefined : groups.find((g) => inside(g, selStart) && g.end >= selEnd));
  if (open) return into(open);
  const at = citationAnchor(text, selStart, selEnd);
  const before = groups.filter((g) => g.joinable && g.end <= at && adjacent(text, g.end, at, !!opts.ties)).pop();
  const after = groups.find((g) => g.joinable && g.start >= at && adjacent(text, at, g.start, !!opts.ties));
  const near = before && after ? (at - before.end <= after.start - at ? before : after) : (before ?? after);
  if (near) return into(near);
  const e = fresh(at);
  return { edit: e, cursorAfter: e.end };
}

/** Offsets that are inside any of the ranges (comments, code): citations there are not the writer's. */
export function masked(ranges: [number, number][], offset: number): boolean {
  return ranges.some(([a, b]) => offset >= a && offset < b);
}

/** Why a part of a manuscript holds no sentence a writer would cite (the uncited-claims check skips it). */
export type SkipReason = 'front matter' | 'heading' | 'caption' | 'math' | 'code' | 'comment' | 'table' | 'references';

/** A part of the text that is not prose: [start, end) and why. */
export interface SkipRegion {
  start: number;
  end: number;
  reason: SkipReason;
}

/** Regions of `re`'s matches (whole match), all with one reason. */
export function regionsOf(text: string, re: RegExp, reason: SkipReason): SkipRegion[] {
  return [...text.matchAll(re)].map((m) => ({ start: m.index ?? 0, end: (m.index ?? 0) + m[0].length, reason }));
}

/**
 * A citation key being typed (completion): `\cite{a,sm|}`, `[@a; @sm|]`, `[@pubmed:2|]`. `start`..`end` is the key
 * under the cursor (what a chosen key replaces), `typed` the part of it before the cursor.
 */
export interface CiteSlot {
  start: number;
  end: number;
  typed: string;
  /** the other keys of the group (not offered again) */
  keys: string[];
  /** where the citation group starts: the sentence it cites ends before it */
  groupStart: number;
  /** Manubot: the id prefix typed (`pubmed`, `doi`, …), lower case */
  prefix?: string;
}

/**
 * Keyword-field items to add: those of `items` (trimmed, empty ones dropped) that are not already in `existing`
 * or earlier in `items`, compared case-insensitively; the rest are `present`. One rule for YAML and LaTeX fields.
 */
export function splitNewItems(existing: string[], items: string[]): { added: string[]; present: string[] } {
  const seen = new Set(existing.map((s) => s.toLowerCase()));
  const added: string[] = [];
  const present: string[] = [];
  for (const raw of items) {
    const s = raw.trim();
    if (!s) continue;
    if (seen.has(s.toLowerCase())) present.push(s);
    else {
      seen.add(s.toLowerCase());
      added.push(s);
    }
  }
  return { added, present };
}
