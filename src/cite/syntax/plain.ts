// Plain text: numbered markers `[1]`, `[1, 2]` and a "References" list at the end, the reference formatted by the
// CSL processor (csl.ts). A paper already listed (same PMID, or the same text) keeps its number; a marker next to an
// existing one joins it (`[1, 2]`). Pure.
import { type CiteGroup, type TextEdit, type SkipRegion, joinOrInsert, regionsOf } from './common';

const HEADING = /^(References|Bibliography)\s*:?\s*$/im;

/** The numbered entries of the References list: number, text, line offsets. */
export function plainReferences(text: string): { n: number; text: string }[] {
  const hm = HEADING.exec(text);
  if (!hm) return [];
  return text
    .slice(hm.index + hm[0].length)
    .split(/\r?\n/)
    .map((l) => /^\s*(\d+)\.\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ n: Number(m[1]), text: m[2] ?? '' }));
}

/** Marker groups `[1]`, `[1, 3]`, `[2-4]` before the References heading. */
export function plainGroups(text: string): CiteGroup[] {
  const hm = HEADING.exec(text);
  const limit = hm ? hm.index : text.length;
  const out: CiteGroup[] = [];
  for (const m of text.slice(0, limit).matchAll(/\[(\d+(?:\s*[,\u2013-]\s*\d+)*)\]/g)) {
    const start = m.index ?? 0;
    const inner = m[1] ?? '';
    const keys: string[] = [];
    for (const part of inner.split(/\s*,\s*/)) {
      const r = /^(\d+)\s*[\u2013-]\s*(\d+)$/.exec(part);
      if (r) for (let i = Number(r[1]); i <= Number(r[2]) && i - Number(r[1]) < 500; i++) keys.push(String(i));
      else keys.push(part.trim());
    }
    out.push({
      start,
      end: start + m[0].length,
      keys,
      insertAt: start + m[0].length - 1,
      sep: /,\s/.test(inner) || !inner.includes(',') ? ', ' : ',',
      joinable: true,
    });
  }
  return out;
}

const norm = (s: string): string =>
  s
    .replace(/^\s*\d+\.\s*/, '')
    .replace(/\s+/g, ' ')
    .trim();

/**
 * A numbered marker `[n]` after the selection (or `n` joined to the marker group next to it) and the formatted
 * reference in a "References" list at the end (reused when the same paper is listed already). Edits in ascending order.
 */
export function plainCitationEdits(
  text: string,
  selStart: number,
  selEnd: number,
  reference: string,
  pmid?: string,
): TextEdit[] {
  const p = plainCitation(text, selStart, selEnd, reference, pmid);
  return [p.marker, p.list].filter((e): e is TextEdit => !!e);
}

export interface PlainCitation {
  /** the marker edit (undefined: this number is in the marker group already) */
  marker?: TextEdit;
  /** the new line of the References list (undefined: the paper is listed already) */
  list?: TextEdit;
  n: number;
  cursorAfter: number;
}

export function plainCitation(
  text: string,
  selStart: number,
  selEnd: number,
  reference: string,
  pmid?: string,
): PlainCitation {
  const refs = plainReferences(text);
  const samePaper = (r: { text: string }): boolean =>
    norm(r.text) === norm(reference) || (!!pmid && new RegExp(`PMID:?\\s*${pmid}\\b`).test(r.text));
  const found = refs.find(samePaper);
  const n = found ? found.n : refs.reduce((m, r) => Math.max(m, r.n), 0) + 1;
  const j = joinOrInsert(text, selStart, selEnd, String(n), plainGroups(text), (at) => {
    const before = text[at - 1] ?? '';
    return { start: at, end: at, text: `${before && !/\s/.test(before) ? ' ' : ''}[${n}]` };
  });
  let list: TextEdit | undefined;
  if (!found) {
    const hm = HEADING.exec(text);
    const nl = text.endsWith('\n') ? '' : '\n';
    list = {
      start: text.length,
      end: text.length,
      text: hm ? `${nl}${n}. ${norm(reference)}\n` : `${nl}\nReferences\n\n1. ${norm(reference)}\n`,
    };
  }
  return { marker: j.edit, list, n, cursorAfter: j.cursorAfter };
}

/**
 * Parts of a plain-text manuscript that hold no citable prose: the References list and heading-like lines (a short
 * line with no sentence-ending mark, standing alone between blank lines or at the start).
 */
export function plainSkipRegions(text: string): SkipRegion[] {
  const out: SkipRegion[] = [];
  const hm = HEADING.exec(text);
  if (hm) out.push({ start: hm.index, end: text.length, reason: 'references' });
  out.push(...regionsOf(text, /(?<=^|\n[ \t]*\n)[^\n]{1,80}(?<![.!?:;,])(?=\n[ \t]*\n|\n?$)/g, 'heading'));
  return out;
}
