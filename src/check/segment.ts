// The manuscript as the citation check sees it: its sentences (src/inference/sentences.ts) outside what is not prose
// (front matter, headings, captions, math, code, comments, tables, the reference list: each syntax module says where
// those are), each with the citations it carries (the syntax modules find them). Pure.
import { splitSentences } from '../inference/sentences';
import { queryText, type DocKind } from '../cite/detect';
import type { SkipRegion, TextEdit } from '../cite/syntax/common';
import { latexCites, latexSkipRegions } from '../cite/syntax/latex';
import { markdownSkipRegions, pandocGroups, pandocNarrativeCites } from '../cite/syntax/pandoc';
import { plainGroups, plainSkipRegions } from '../cite/syntax/plain';

/** A citation in the text: `\cite{a,b}`, `[@a; @b]`, `@a`, `[1, 2]`. */
export interface CiteRef {
  start: number;
  end: number;
  keys: string[];
}

export interface CheckSentence {
  start: number;
  end: number;
  /** the sentence as written: text.slice(start, end) */
  text: string;
  /** the sentence as a search query: markup and citations removed */
  query: string;
  /** the citations the sentence carries */
  cites: CiteRef[];
}

export interface Segmentation {
  sentences: CheckSentence[];
  /** the parts that are not prose, and why */
  skipped: SkipRegion[];
  cites: CiteRef[];
}

/** Every citation of a document, in text order. */
export function documentCites(text: string, kind: DocKind): CiteRef[] {
  let out: CiteRef[];
  if (kind === 'latex')
    out = latexCites(text)
      .filter((c) => c.command !== 'nocite')
      .map((c) => ({ start: c.start, end: c.end, keys: c.keys }));
  else if (kind === 'plain') out = plainGroups(text).map((g) => ({ start: g.start, end: g.end, keys: g.keys }));
  else
    out = [
      ...pandocGroups(text)
        .filter((g) => g.joinable)
        .map((g) => ({ start: g.start, end: g.end, keys: g.keys })),
      ...pandocNarrativeCites(text).map((c) => ({ start: c.start, end: c.end, keys: [c.key] })),
    ];
  return out.sort((a, b) => a.start - b.start);
}

/** The parts of a document of this kind that are not prose. */
export function skipRegions(text: string, kind: DocKind): SkipRegion[] {
  const r =
    kind === 'latex' ? latexSkipRegions(text) : kind === 'plain' ? plainSkipRegions(text) : markdownSkipRegions(text);
  return r.filter((x) => x.end > x.start).sort((a, b) => a.start - b.start || b.end - a.end);
}

/** Split a document into its prose sentences, each with its citations. */
export function segment(text: string, kind: DocKind): Segmentation {
  const skipped = skipRegions(text, kind);
  // what is not prose becomes blanks of the same length (line breaks kept), so offsets stay those of the text and a
  // skipped line is a paragraph break; the sentence splitter sees them as spaces, with the text's offsets at every
  // point; citations too, so that `claim.\cite{x} Next` splits after the full stop as the reader sees it
  const cites = documentCites(text, kind).filter((c) => !skipped.some((r) => c.start >= r.start && c.start < r.end));
  const chars = text.split('');
  for (const r of [...skipped, ...cites]) for (let i = r.start; i < r.end; i++) if (chars[i] !== '\n') chars[i] = ' ';
  const prose = chars.join('');
  const sentences: CheckSentence[] = splitSentences(prose).map((s) => {
    const t = text.slice(s.start, s.end);
    return { start: s.start, end: s.end, text: t, query: queryText(t, kind), cites: [] };
  });
  for (const c of cites) {
    let i = sentences.findIndex((s) => c.start >= s.start && c.start < s.end);
    if (i < 0) {
      // between two sentences (`claim.\cite{x} Next`): the one before, unless a paragraph break lies between
      i = -1;
      for (let j = sentences.length - 1; j >= 0 && i < 0; j--) if (sentences[j]!.end <= c.start) i = j;
      if (i >= 0 && /\n[ \t]*\n/.test(text.slice(sentences[i]!.end, c.start))) i = -1;
    } else if (i > 0 && !/\S/.test(prose.slice(sentences[i]!.start, c.start))) {
      // a sentence that opens with the citation: it belongs to the sentence before (same paragraph)
      const prev = sentences[i - 1]!;
      if (!/\n[ \t]*\n/.test(text.slice(prev.end, c.start))) i--;
    }
    if (i >= 0) sentences[i]!.cites.push(c);
  }
  return { sentences, skipped, cites };
}

/**
 * The document with every citation removed (with the space or tie before it), as edits and the result: what the
 * eval checks, as if the writer had not cited yet.
 */
export function stripCitations(text: string, kind: DocKind): { text: string; edits: TextEdit[] } {
  const edits: TextEdit[] = [];
  for (const c of documentCites(text, kind)) {
    let a = c.start;
    while (a > 0 && /[ \t~]/.test(text[a - 1] ?? '')) a--;
    edits.push({ start: a, end: c.end, text: '' });
  }
  // overlapping ranges (a narrative key inside another's span cannot happen; groups never overlap): drop any overlap
  const kept: TextEdit[] = [];
  for (const e of edits) if (!kept.length || e.start >= kept[kept.length - 1]!.end) kept.push(e);
  let out = '';
  let p = 0;
  for (const e of kept) {
    out += text.slice(p, e.start);
    p = e.end;
  }
  return { text: out + text.slice(p), edits: kept };
}
