// One citation, planned without touching anything: the edits to the manuscript and to its bibliography, the key, and
// what to tell the writer. The VS Code side (src/extension/citations.ts) reads the files, asks what must be asked and
// applies the plan as one undoable WorkspaceEdit; the tests apply the same plan to files and run pandoc, biber and
// bibtex on them. Pure apart from loading the TeX encoding tables.
import * as path from 'node:path';
import type { PaperMeta } from './paper';
import { missingFields } from './paper';
import { parseBibtex, toBibtex } from './bibtex';
import { parseCslJson, toCslItem, appendCslItem } from './csljson';
import { recordsFromBibtex, recordsFromCsl, findRecords, type BibRecord, type Match, type MatchedBy } from './match';
import { makeCiteKey, inferKeyStyle, type InferredStyle } from './citekey';
import { loadTexEncoder, type TexEncoding } from './texencode';
import type { DocKind } from './detect';
import { type TextEdit, mapOffset, applyEdits } from './syntax/common';
import { latexCitation, latexCites, documentCiteCommand, type LatexToolchain } from './syntax/latex';
import { pandocCitation, pandocGroups } from './syntax/pandoc';
import { frontMatterSetIfAbsent } from './syntax/frontmatter';
import { manubotIdFor, type ManubotCatalog } from './syntax/manubot';
import { plainCitation } from './syntax/plain';

export interface BibSource {
  path: string;
  format: 'bibtex' | 'csl-json';
  /** undefined: the file does not exist yet */
  text?: string;
}

export interface CiteContext {
  kind: DocKind;
  text: string;
  selStart: number;
  selEnd: number;
  /** "Insert with citation": this sentence goes after the selection, cited at its end */
  sentence?: string;
  /** completion inside a citation group: the key replaces exactly this range (the key being typed) */
  at?: { start: number; end: number };
  /** bibliography files, in the document's order; new entries go into the first */
  bibs?: BibSource[];
  /** a bibliography is being created for this document: add `bibliography:` to its front matter */
  createHeader?: string;
  /** the `citeCommand` setting when the writer set it; else the command the document uses most, else `\cite` */
  citeCommand?: string;
  /** the `keyPattern` setting, only when the writer set it (it wins over the file's own style) */
  keyPattern?: string;
  manubotCiteAs?: 'pubmed' | 'doi';
  manubot?: ManubotCatalog;
  /** LaTeX: who reads the .bib (latexToolchain()) */
  latex?: LatexToolchain;
  /** plain: the formatted reference (csl.ts) */
  reference?: string;
}

export interface BibEdit {
  index: number;
  path: string;
  created: boolean;
  edit: TextEdit;
}

export interface CitePlan {
  /** the key, Manubot id or reference number cited */
  key: string;
  docEdits: TextEdit[];
  bibEdit?: BibEdit;
  /** the paper was in the bibliography already */
  existing?: { key: string; file?: string; by: MatchedBy };
  /** the key was in the citation group already: nothing inserted in the text */
  alreadyCited: boolean;
  /** where the cursor goes in the edited document (right after the citation) */
  cursor: number;
  /** fields a reference needs that the paper lacks */
  missing: string[];
  /** characters no LaTeX form is known for */
  unencodable: string[];
  /** the key style followed (inferred from the file) */
  style?: InferredStyle;
  encoding?: TexEncoding;
  /** for the writer, e.g. "Cited \cite{smith2020} (added to refs.bib)" */
  message: string;
}

export interface KeyDecision {
  key: string;
  existing?: { key: string; file?: string; by: MatchedBy };
  style?: InferredStyle;
  records: BibRecord[];
}

/** The records of bibliography files (a CSL-JSON file that does not parse is an error naming it). */
export function bibRecords(bibs: BibSource[]): BibRecord[] {
  const out: BibRecord[] = [];
  for (const b of bibs) {
    if (b.text === undefined) continue;
    const name = path.basename(b.path);
    out.push(
      ...(b.format === 'bibtex'
        ? recordsFromBibtex(parseBibtex(b.text), name)
        : recordsFromCsl(parseCslJson(b.text, b.path), name)),
    );
  }
  return out;
}

/**
 * Of several keys for the same paper (the writer's file has it twice), the one to cite: the one `prefer` picks
 * (already in the group the citation joins), else one the document cites already, else the first in the file.
 */
function pickMatch(matches: Match[], cited: Set<string>, prefer?: (key: string) => boolean): Match | undefined {
  if (matches.length <= 1) return matches[0];
  return matches.find((m) => prefer?.(m.record.key)) ?? matches.find((m) => cited.has(m.record.key)) ?? matches[0];
}

/**
 * The key for `paper` in these bibliographies: the one it has there (PMID, DOI, title + year), else a new one in the
 * file's style. `cited` (the keys the document cites) and `prefer` choose among several keys the writer's file has
 * for the same paper.
 */
export function decideKey(
  paper: PaperMeta,
  bibs: BibSource[],
  keyPattern?: string,
  cited: Set<string> = new Set(),
  prefer?: (key: string) => boolean,
): KeyDecision {
  const records = bibRecords(bibs);
  const m = pickMatch(findRecords(records, paper), cited, prefer);
  if (m) return { key: m.record.key, existing: { key: m.record.key, file: m.record.file, by: m.by }, records };
  const style = keyPattern ? undefined : inferKeyStyle(records);
  return {
    key: makeCiteKey(
      paper,
      records.map((r) => r.key),
      { pattern: keyPattern, style: style?.style },
    ),
    style,
    records,
  };
}

/** Where a sentence of "Insert with citation" goes: after the selection, or after the end of the sentence at the cursor. */
function sentenceAt(text: string, selStart: number, selEnd: number): number {
  if (selStart !== selEnd) return selEnd;
  const m = /^[ \t]*[.;:!?]/.exec(text.slice(selEnd));
  return selEnd + (m ? m[0].length : 0);
}

function joinNote(missing: string[], unencodable: string[]): string {
  const parts: string[] = [];
  if (missing.length) parts.push(`missing: ${missing.join(', ')}`);
  if (unencodable.length) parts.push(`no LaTeX form for ${unencodable.join(' ')}`);
  return parts.length ? ` — ${parts.join('; ')}` : '';
}

/** Plan the citation of `paper` in the document of `ctx`. */
export async function planCitation(paper: PaperMeta, ctx: CiteContext): Promise<CitePlan> {
  const { text, selStart, selEnd } = ctx;
  const missing = missingFields(paper);
  const sentence = ctx.sentence?.replace(/\s+/g, ' ').trim();
  const docEdits: TextEdit[] = [];
  let cursorAt = selEnd;
  let alreadyCited = false;

  // the citation itself: in the text at the selection, or at the end of an inserted sentence
  const cite = (
    join: (t: string, a: number, b: number) => { edit?: TextEdit; cursorAfter: number },
    key: string,
  ): void => {
    if (ctx.at) {
      docEdits.push({ start: ctx.at.start, end: ctx.at.end, text: key });
      cursorAt = ctx.at.end;
      return;
    }
    if (sentence) {
      const at = sentenceAt(text, selStart, selEnd);
      const lead = at === 0 || /\s$/.test(text.slice(0, at)) ? '' : ' ';
      const j = join(sentence, 0, sentence.length);
      const s = j.edit ? applyEdits(sentence, [j.edit]) : sentence;
      docEdits.push({ start: at, end: at, text: lead + s });
      cursorAt = at;
      return;
    }
    const j = join(text, selStart, selEnd);
    if (j.edit) docEdits.push(j.edit);
    else alreadyCited = true;
    cursorAt = j.cursorAfter;
  };
  const finish = (p: Omit<CitePlan, 'docEdits' | 'cursor' | 'alreadyCited' | 'missing'>): CitePlan => {
    const cursor = mapOffset(cursorAt, docEdits);
    return { ...p, docEdits, cursor, alreadyCited, missing };
  };

  if (ctx.kind === 'manubot') {
    const catalog = ctx.manubot ?? { records: [], uses: new Map(), aliases: new Map() };
    const { id, match } = manubotIdFor(
      catalog,
      paper,
      ctx.manubotCiteAs,
      sentence ? undefined : (k) => !pandocCitation(text, selStart, selEnd, k).edit,
    );
    cite((t, a, b) => pandocCitation(t, a, b, id), id);
    const how = match
      ? ` (as the manuscript cites it${match.by === 'pmid' ? '' : `, matched by ${match.by === 'doi' ? 'DOI' : 'title and year'}`})`
      : '';
    return finish({
      key: id,
      existing: match ? { key: id, by: match.by } : undefined,
      unencodable: [],
      message: `${alreadyCited ? 'Already cited here' : 'Cited'} [@${id}]${how}${joinNote(missing, [])}`,
    });
  }

  if (ctx.kind === 'plain') {
    const reference = ctx.reference ?? paper.title;
    if (sentence) {
      const at = sentenceAt(text, selStart, selEnd);
      const p = plainCitation(text, at, at, reference, paper.pmid);
      const lead = at === 0 || /\s$/.test(text.slice(0, at)) ? '' : ' ';
      const s = sentence.replace(/([.;:!?])?$/, (m) => ` [${p.n}]${m}`);
      docEdits.push({ start: at, end: at, text: lead + s }, ...(p.list ? [p.list] : []));
      cursorAt = at;
      return finish({ key: String(p.n), unencodable: [], message: `Cited: ${reference}${joinNote(missing, [])}` });
    }
    const p = plainCitation(text, selStart, selEnd, reference, paper.pmid);
    docEdits.push(...[p.marker, p.list].filter((e): e is TextEdit => !!e));
    alreadyCited = !p.marker;
    cursorAt = p.cursorAfter;
    return finish({
      key: String(p.n),
      unencodable: [],
      message: `${alreadyCited ? 'Already cited here: ' : 'Cited: '}${reference}${joinNote(missing, [])}`,
    });
  }

  // LaTeX and Pandoc: a key in the bibliography
  const bibs = ctx.bibs ?? [];
  const target = bibs[0];
  if (!target) throw new Error('no bibliography file');
  const join = (t: string, a: number, b: number, k: string): { edit?: TextEdit; cursorAfter: number } =>
    ctx.kind === 'latex' ? latexCitation(t, a, b, k, command) : pandocCitation(t, a, b, k);
  const command = ctx.citeCommand ?? documentCiteCommand(text) ?? '\\cite';
  // among the writer's own duplicates, the key already in the group this citation joins
  const cited = new Set((ctx.kind === 'latex' ? latexCites(text) : pandocGroups(text)).flatMap((g) => g.keys));
  const d = decideKey(
    paper,
    bibs,
    ctx.keyPattern,
    cited,
    sentence ? undefined : (k) => !join(text, selStart, selEnd, k).edit,
  );
  let bibEdit: BibEdit | undefined;
  let unencodable: string[] = [];
  let encoding: TexEncoding | undefined;
  if (!d.existing) {
    const old = target.text ?? '';
    if (target.format === 'bibtex') {
      encoding = ctx.kind === 'latex' ? (ctx.latex?.encoding ?? 'latex') : 'utf8';
      const entry = toBibtex(paper, d.key, {
        encoder: await loadTexEncoder(),
        encoding,
        dialect: ctx.kind === 'latex' ? (ctx.latex?.dialect ?? 'bibtex') : 'biblatex',
      });
      unencodable = entry.unencodable;
      const sep = old.length === 0 ? '' : old.endsWith('\n\n') ? '' : old.endsWith('\n') ? '\n' : '\n\n';
      bibEdit = {
        index: 0,
        path: target.path,
        created: target.text === undefined,
        edit: { start: old.length, end: old.length, text: sep + entry.text },
      };
    } else {
      bibEdit = {
        index: 0,
        path: target.path,
        created: target.text === undefined,
        edit: { start: 0, end: old.length, text: appendCslItem(old, toCslItem(paper, d.key)) },
      };
    }
  }
  if (ctx.createHeader && ctx.kind === 'pandoc') {
    const header = frontMatterSetIfAbsent(text, 'bibliography', ctx.createHeader);
    if (header) docEdits.push(header);
  }
  const key = d.key;
  cite((t, a, b) => join(t, a, b, key), key);
  const shown = ctx.kind === 'latex' ? `${command}{${key}}` : `[@${key}]`;
  // an entry that is there already but lacks what this toolchain reads (a biblatex export used with BibTeX): said
  const lacks =
    d.existing && ctx.kind === 'latex' && ctx.latex
      ? entryLacks(
          d.records.find((r) => r.key === d.existing!.key)?.fields,
          ctx.latex.backend === 'bibtex' && ctx.latex.dialect === 'bibtex',
        )
      : [];
  const where = d.existing
    ? `already in ${d.existing.file ?? path.basename(target.path)}${d.existing.by === 'pmid' ? '' : `, found by ${d.existing.by === 'doi' ? 'DOI' : 'title and year'}`}`
    : `added to ${path.basename(target.path)}`;
  return finish({
    key,
    bibEdit,
    existing: d.existing,
    unencodable,
    style: d.style,
    encoding,
    message: `${alreadyCited ? 'Already cited here' : 'Cited'} ${shown} (${where})${joinNote(d.existing ? [] : missing, unencodable)}${lacks.length ? ` — the entry has no ${lacks.join(', ')} that ${ctx.latex?.backend === 'bibtex' ? 'BibTeX' : 'biber'} reads` : ''}`,
  });
}

/**
 * The citation of a key the writer picked from their own bibliography (or a Manubot id the manuscript uses): exactly at
 * `ctx.at`, else joined to the group at or next to the selection, else a new citation there — as planCitation cites.
 * Nothing is written to the bibliography.
 */
export function planKeyCitation(
  key: string,
  ctx: Pick<CiteContext, 'kind' | 'text' | 'selStart' | 'selEnd' | 'at' | 'citeCommand'>,
): { docEdits: TextEdit[]; cursor: number; alreadyCited: boolean } {
  if (ctx.at) {
    const e = { start: ctx.at.start, end: ctx.at.end, text: key };
    return { docEdits: [e], cursor: mapOffset(ctx.at.end, [e]), alreadyCited: false };
  }
  const command = ctx.citeCommand ?? documentCiteCommand(ctx.text) ?? '\\cite';
  const j =
    ctx.kind === 'latex'
      ? latexCitation(ctx.text, ctx.selStart, ctx.selEnd, key, command)
      : pandocCitation(ctx.text, ctx.selStart, ctx.selEnd, key);
  const docEdits = j.edit ? [j.edit] : [];
  return { docEdits, cursor: mapOffset(j.cursorAfter, docEdits), alreadyCited: !j.edit };
}

/** What a .bib entry lacks for its reader: classic BibTeX reads author/editor, title, journal, year; biber also journaltitle, date. */
export function entryLacks(fields: Record<string, string> | undefined, classic: boolean): string[] {
  if (!fields) return [];
  const has = (...names: string[]): boolean => names.some((n) => !!fields[n]?.trim());
  const out: string[] = [];
  if (!has('author', 'editor')) out.push('author');
  if (!has('title')) out.push('title');
  if (
    !(classic
      ? has('journal', 'booktitle', 'publisher', 'howpublished', 'school', 'institution')
      : has('journal', 'journaltitle', 'booktitle', 'publisher', 'howpublished', 'institution', 'url'))
  )
    out.push('journal');
  if (!(classic ? has('year') : has('year', 'date'))) out.push('year');
  return out;
}
