// LaTeX: `\cite`-family commands (natbib, biblatex), the bibliography files a document names, and the toolchain that
// will read a new .bib entry (engine and backend). The one `\cite` pattern of the project lives here. Pure.
import {
  type CiteGroup,
  type CiteSlot,
  type TextEdit,
  type JoinResult,
  type SkipReason,
  type SkipRegion,
  joinOrInsert,
  splitNewItems,
  masked,
  regionsOf,
} from './common';
import type { TexEncoding } from '../texencode';
import type { BibDialect } from '../bibtex';

/** `\cite`, `\citep`, `\citet`, `\autocite`, `\parencite`, `\textcite`, `\footcite`, `\Cite`, … with `*` and up to two [notes]. */
const LATEX_CITE_HEAD = String.raw`\\([A-Za-z]*[Cc]ite[A-Za-z]*)\*?((?:\s*\[[^\]]*\]){0,2})\s*`;
const LATEX_CITE_SRC = String.raw`${LATEX_CITE_HEAD}\{([^}]*)\}`;
/** A citation command whose braces are open at the end of the text (the key being typed). */
const LATEX_CITE_OPEN = new RegExp(String.raw`${LATEX_CITE_HEAD}\{([^{}]*)$`);
export function latexCiteRe(): RegExp {
  return new RegExp(LATEX_CITE_SRC, 'g');
}

/** Commands whose citation is part of the sentence ("Smith et al. showed"): a key inserted next to them stays apart. */
const NARRATIVE =
  /^(?:[Tt]extcite|citet|Citet|citealt|citeauthor|Citeauthor|citeyear|citeyearpar|citetitle|citeurl|nocite|fullcite|footfullcite|citename|citelist|citefield|citedate)$/;

/** Ranges of `%` comments (to the end of their line; `\%` is not a comment). */
export function latexComments(text: string): [number, number][] {
  const out: [number, number][] = [];
  for (const m of text.matchAll(/(?<!\\)(?:\\\\)*%.*$/gm)) {
    const i = (m.index ?? 0) + m[0].indexOf('%');
    out.push([i, (m.index ?? 0) + m[0].length]);
  }
  return out;
}

export interface LatexCite extends CiteGroup {
  command: string;
  /** offset of the first character inside the braces */ keysStart: number;
}

/** Every `\cite…{…}` outside comments. */
export function latexCites(text: string): LatexCite[] {
  const comments = latexComments(text);
  const out: LatexCite[] = [];
  for (const m of text.matchAll(latexCiteRe())) {
    const start = m.index ?? 0;
    if (masked(comments, start)) continue;
    const inner = m[3] ?? '';
    const end = start + m[0].length;
    const keys = inner
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    const command = m[1] ?? 'cite';
    out.push({
      start,
      end,
      keys,
      command,
      keysStart: end - 1 - inner.length,
      insertAt: end - 1 - (inner.length - inner.trimEnd().length),
      sep: /,\s+\S/.test(inner) ? ', ' : ',',
      joinable: !NARRATIVE.test(command),
    });
  }
  return out;
}

/** The `\cite{…}` whose command or braces contain `offset` (its end included): its keys and where the closing brace is. */
export function latexCiteAt(text: string, offset: number): { keys: string[]; closeBrace: number } | undefined {
  const c = latexCites(text).find((g) => offset >= g.start && offset <= g.end);
  return c ? { keys: c.keys, closeBrace: c.end - 1 } : undefined;
}

/**
 * The key being typed inside an unclosed or closed `\cite…{…}` at `offset` (completion): `\cite{a, sm|}` → typed
 * `sm`, other keys `[a]`. Undefined outside the braces of a citation command, or in a `%` comment.
 */
export function latexCiteSlot(text: string, offset: number): CiteSlot | undefined {
  const from = Math.max(0, offset - 600);
  const before = text.slice(from, offset);
  const m = LATEX_CITE_OPEN.exec(before);
  if (!m) return undefined;
  const groupStart = from + m.index;
  const lineStart = text.lastIndexOf('\n', groupStart - 1) + 1;
  if (masked(latexComments(text.slice(lineStart, offset)), groupStart - lineStart)) return undefined;
  const inner = m[3] ?? '';
  const comma = inner.lastIndexOf(',');
  const raw = inner.slice(comma + 1);
  const typed = raw.trimStart();
  const start = offset - typed.length;
  const rest = /^[^,}\s]*/.exec(text.slice(offset, offset + 400))?.[0] ?? '';
  const close = text.slice(offset, offset + 600).search(/[{}]/);
  const after = close >= 0 && text[offset + close] === '}' ? text.slice(offset + rest.length, offset + close) : '';
  const keys = [...inner.slice(0, Math.max(0, comma)).split(','), ...after.split(',')]
    .map((k) => k.trim())
    .filter(Boolean);
  return { start, end: offset + rest.length, typed, keys, groupStart };
}

/** The citation command the document uses most (parenthetical ones only), e.g. `\autocite`; undefined if none. */
export function documentCiteCommand(text: string): string | undefined {
  const n = new Map<string, number>();
  for (const c of latexCites(text))
    if (c.joinable && c.command !== 'nocite') n.set(c.command, (n.get(c.command) ?? 0) + 1);
  let best: string | undefined;
  for (const [k, v] of n) if (!best || v > (n.get(best) ?? 0)) best = k;
  return best ? `\\${best}` : undefined;
}

/** `\cmd{key}` for the selection, or `key` joined to the `\cite{a,b}` it is in or right next to. */
export function latexCitation(
  text: string,
  selStart: number,
  selEnd: number,
  key: string,
  command = '\\cite',
): JoinResult {
  const cmd = command.startsWith('\\') ? command : `\\${command}`;
  return joinOrInsert(
    text,
    selStart,
    selEnd,
    key,
    latexCites(text),
    (at) => {
      const before = text[at - 1] ?? '';
      const tie = before && !/\s/.test(before) && before !== '~' ? '~' : '';
      return { start: at, end: at, text: `${tie}${cmd}{${key}}` };
    },
    { ties: true, inside: (g, o) => o >= g.start && o <= g.end },
  );
}

/** The edit alone (undefined: already cited there). */
export function latexCitationEdit(
  text: string,
  selStart: number,
  selEnd: number,
  key: string,
  command = '\\cite',
): TextEdit | undefined {
  return latexCitation(text, selStart, selEnd, key, command).edit;
}

/** The citation key under the cursor inside `\cite{a,b}` of one line. */
export function latexKeyAt(line: string, ch: number): string | undefined {
  for (const c of latexCites(line)) {
    if (ch < c.keysStart || ch > c.end) continue;
    let off = c.keysStart;
    for (const k of line.slice(c.keysStart, c.end - 1).split(',')) {
      if (ch >= off && ch <= off + k.length) return k.trim() || undefined;
      off += k.length + 1;
    }
  }
  return undefined;
}

/** The writer's LaTeX as query text: comments, citations, references and commands removed. */
export function latexQueryText(text: string): string {
  let t = text.replace(/(^|[^\\])%.*$/gm, '$1').replace(latexCiteRe(), '');
  t = t
    .replace(/\\(?:ref|eqref|label|autoref|cref|Cref|url|footnote)\{[^}]*\}/g, '')
    .replace(/\\[A-Za-z]+\*?(?:\[[^\]]*\])?/g, '')
    .replace(/[{}~]/g, ' ');
  return t;
}

/** Bibliography files of a LaTeX document: `\bibliography{a,b}` (`.bib` added) and `\addbibresource{x.bib}`. */
export function latexBibliography(text: string): string[] {
  const out: string[] = [];
  const noComments = stripComments(text);
  for (const m of noComments.matchAll(/\\bibliography\s*\{([^}]*)\}/g)) {
    for (const f of (m[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean))
      out.push(/\.bib$/i.test(f) ? f : `${f}.bib`);
  }
  for (const m of noComments.matchAll(/\\addbibresource\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}/g)) {
    const f = (m[1] ?? '').trim();
    if (f) out.push(f);
  }
  return [...new Set(out)];
}

function stripComments(text: string): string {
  return text.replace(/(^|[^\\])%.*$/gm, '$1');
}

// ---- which toolchain reads the .bib ----

export type LatexEngine = 'pdflatex' | 'xelatex' | 'lualatex';
export type BibBackend = 'bibtex' | 'biber';

export interface LatexToolchain {
  engine: LatexEngine;
  backend: BibBackend;
  /** field names: biblatex (read by biber, or by BibTeX through biblatex's backend=bibtex) or classic BibTeX */
  dialect: BibDialect;
  /** how new entries are encoded */
  encoding: TexEncoding;
  /** what the decision rests on, for the log and messages */
  why: string[];
}

/**
 * The engine and backend of a LaTeX document, from the document itself and, when given, the text of the `latexmkrc`
 * next to it: a `% !TEX program = xelatex` (or `TS-program`) magic comment, `$pdf_mode = 4|5` or `$pdflatex = 'xelatex …'`
 * in latexmkrc, or packages only a UTF-8 engine loads (fontspec, unicode-math, polyglossia, xeCJK, luatexja) choose
 * the engine; biblatex (biber unless `backend=bibtex`) or `\bibliography{}` (classic BibTeX) the backend.
 */
export function latexToolchain(text: string, latexmkrc?: string): LatexToolchain {
  const why: string[] = [];
  const head = text.slice(0, 2000);
  let engine: LatexEngine | undefined;
  const magic = /^\s*%\s*!T[Ee]X\s+(?:TS-)?program\s*=\s*([A-Za-z]+)/m.exec(head)?.[1]?.toLowerCase();
  if (magic) {
    engine = /lua/.test(magic) ? 'lualatex' : /xe/.test(magic) ? 'xelatex' : 'pdflatex';
    why.push(`% !TEX program = ${magic}`);
  }
  const body = stripComments(text);
  if (!engine && latexmkrc) {
    const rc = latexmkrc.replace(/#.*$/gm, '');
    const mode = /\$pdf_mode\s*=\s*(\d)/.exec(rc)?.[1];
    const cmd = /\$pdflatex\s*=\s*['"]\s*(\w+)/.exec(rc)?.[1]?.toLowerCase();
    if (mode === '5' || /^xelatex/.test(cmd ?? '')) engine = 'xelatex';
    else if (mode === '4' || /^lualatex/.test(cmd ?? '')) engine = 'lualatex';
    if (engine) why.push(`latexmkrc: ${engine}`);
  }
  if (!engine) {
    const pkg =
      /\\(?:usepackage|RequirePackage)\s*(?:\[[^\]]*\])?\s*\{[^}]*\b(fontspec|unicode-math|polyglossia|xeCJK|luatexja|luacode)\b[^}]*\}/.exec(
        body,
      )?.[1];
    if (pkg) {
      engine = pkg === 'luatexja' || pkg === 'luacode' ? 'lualatex' : 'xelatex';
      why.push(`\\usepackage{${pkg}} needs a UTF-8 engine`);
    }
  }
  engine ??= 'pdflatex';
  const bl = /\\usepackage\s*(\[[^\]]*\])?\s*\{biblatex\}/.exec(body);
  let backend: BibBackend;
  let dialect: BibDialect;
  if (bl || /\\addbibresource\b/.test(body)) {
    dialect = 'biblatex';
    const opt = /backend\s*=\s*(\w+)/.exec(bl?.[1] ?? '')?.[1];
    backend = opt && /^bibtex(?:8)?$/.test(opt) ? 'bibtex' : 'biber';
    why.push(`biblatex${opt ? ` (backend=${opt})` : ''}: ${backend}`);
  } else {
    dialect = 'bibtex';
    backend = 'bibtex';
    why.push('\\bibliography{}: classic BibTeX');
  }
  const encoding: TexEncoding = engine !== 'pdflatex' ? 'utf8' : backend === 'biber' ? 'utf8-latin' : 'latex';
  why.push(
    `${engine} + ${backend}: ${encoding === 'utf8' ? 'UTF-8' : encoding === 'latex' ? 'LaTeX-encoded (pdflatex cannot read raw UTF-8 from BibTeX)' : 'UTF-8 Latin letters, LaTeX for the rest (pdflatex)'}`,
  );
  return { engine, backend, dialect, encoding, why };
}

// ---- title, abstract and the keyword field ----

/** The offset of the `}` closing the `{` at `open` (escaped braces skipped), or -1. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/** The braced argument of the first `\name[opt]{…}` outside comments: its content range. */
function commandArg(text: string, names: string): { start: number; end: number } | undefined {
  const comments = latexComments(text);
  for (const m of text.matchAll(new RegExp(String.raw`\\(?:${names})\*?\s*(?:\[[^\]]*\]\s*)?\{`, 'g'))) {
    const at = m.index ?? 0;
    if (masked(comments, at)) continue;
    const open = at + m[0].length - 1;
    const close = closingBrace(text, open);
    if (close > 0) return { start: open + 1, end: close };
  }
  return undefined;
}

/** The body of the first `\begin{name}…\end{name}` outside comments. */
function environmentBody(text: string, names: string): { start: number; end: number; name: string } | undefined {
  const comments = latexComments(text);
  for (const m of text.matchAll(new RegExp(String.raw`\\begin\s*\{(${names})\}`, 'g'))) {
    const at = m.index ?? 0;
    if (masked(comments, at)) continue;
    const name = m[1] ?? '';
    const endRe = new RegExp(String.raw`\\end\s*\{${name.replace(/[*]/g, '\\*')}\}`, 'g');
    endRe.lastIndex = at + m[0].length;
    const e = endRe.exec(text);
    if (e) return { start: at + m[0].length, end: e.index, name };
  }
  return undefined;
}

/** LaTeX as plain text for a query (comments and commands removed, whitespace collapsed). */
function plain(tex: string): string {
  return latexQueryText(tex.replace(/\\\\(?:\[[^\]]*\])?/g, ' '))
    .replace(/\s+/g, ' ')
    .replace(/\s+([.,;:!?])/g, '$1')
    .trim();
}

/** `\title[short]{…}` as text. */
export function latexTitle(text: string): string | undefined {
  const r = commandArg(text, 'title');
  const t = r && plain(text.slice(r.start, r.end));
  return t || undefined;
}

/** The `abstract` environment (or an `\abstract{…}` command) as text. */
export function latexAbstract(text: string): string | undefined {
  const r = environmentBody(text, 'abstract') ?? commandArg(text, 'abstract');
  const t = r && plain(text.slice(r.start, r.end));
  return t || undefined;
}

/**
 * The keyword field of a LaTeX manuscript: the `\keywords{…}`/`\keyword{…}` command (amsart, Springer, ACM, OUP,
 * MDPI), or the `keyword(s)` environment (elsarticle `\sep`, BMC/imsart `\kwd{}`, T&F) or `IEEEkeywords`.
 */
export interface LatexKeywordField {
  /** content range (inside the braces or the environment) */
  start: number;
  end: number;
  /** how items are written: `\kwd{x}` each, or separated by `\sep`, `\and`, `;` or `,` */
  style: 'kwd' | 'sep' | 'and' | 'semicolon' | 'comma';
  items: string[];
  where: string;
}

/** Split at top-level (brace depth 0) occurrences of a separator. */
function splitTop(s: string, sep: RegExp): string[] {
  const re = new RegExp(sep.source, 'y');
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    re.lastIndex = i;
    const m = depth === 0 ? re.exec(s) : null;
    if (m) {
      out.push(s.slice(from, i));
      i += m[0].length - 1;
      from = i + 1;
      continue;
    }
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
  }
  out.push(s.slice(from));
  return out;
}

function unbraceItem(s: string): string {
  const t = s.replace(/%.*$/gm, '').trim();
  return (t.startsWith('{') && t.endsWith('}') && closingBrace(t, 0) === t.length - 1 ? t.slice(1, -1) : t).trim();
}

export function latexKeywordField(text: string): LatexKeywordField | undefined {
  const cmd = commandArg(text, 'keywords|keyword');
  const env = environmentBody(text, 'keywords|keyword|IEEEkeywords');
  const f = cmd && (!env || cmd.start < env.start) ? { ...cmd, name: '\\keywords{}' } : env;
  if (!f) return undefined;
  const body = text.slice(f.start, f.end);
  const where = 'name' in f && f.name.startsWith('\\') ? f.name : `\\begin{${(f as { name: string }).name}}`;
  if (/\\kwd\b/.test(body)) {
    const items = [...body.matchAll(/\\kwd\s*(?:\[[^\]]*\])?\s*\{/g)].map((m) => {
      const open = (m.index ?? 0) + m[0].length - 1;
      return body.slice(open + 1, closingBrace(body, open)).trim();
    });
    return { start: f.start, end: f.end, style: 'kwd', items, where };
  }
  const style: LatexKeywordField['style'] = /\\sep\b/.test(body)
    ? 'sep'
    : /\\and\b/.test(body)
      ? 'and'
      : /;/.test(body)
        ? 'semicolon'
        : /,/.test(body) || !/^(?:keyword)$/.test((f as { name: string }).name)
          ? 'comma'
          : 'sep'; // an empty elsarticle keyword environment: `\sep`
  const sep = { sep: /\\sep\b/, and: /\\and\b/, semicolon: /;/, comma: /,/, kwd: /$^/ }[style];
  const items = splitTop(body, sep).map(unbraceItem).filter(Boolean);
  return { start: f.start, end: f.end, style, items, where };
}

/** A MeSH term as LaTeX text: its special characters escaped. */
function texEscape(s: string): string {
  return s.replace(/[\\{}]/g, (c) => (c === '\\' ? '\\textbackslash{}' : `\\${c}`)).replace(/[&%$#_]/g, '\\$&');
}

/**
 * Add terms to the keyword field, in its own style: `\kwd{…}` items on their own lines, `\sep`, `\and`, `;` or `,`
 * between items; a term holding a comma in a comma-separated list is braced (`{Carcinoma, Hepatocellular}`), so it
 * stays one keyword. Terms already there (compared without case) are not added. Undefined: no keyword field.
 */
export function latexKeywordEdit(
  text: string,
  terms: string[],
): { edit?: TextEdit; added: string[]; present: string[]; where: string } | undefined {
  const f = latexKeywordField(text);
  if (!f) return undefined;
  const { added, present } = splitNewItems(f.items, terms);
  if (!added.length) return { added, present, where: f.where };
  const body = text.slice(f.start, f.end);
  // after the last item: before the closing whitespace and any comment lines that end the field
  const comments = latexComments(body);
  let end = body.length;
  while (end > 0 && (/\s/.test(body[end - 1] ?? '') || masked(comments, end - 1))) end--;
  const at = f.start + end;
  let insert: string;
  if (f.style === 'kwd') {
    const gap = /\}(\s*)\\kwd/.exec(body)?.[1] ?? (/\n/.test(body) ? '\n' : ' ');
    insert = added.map((s) => `${gap}\\kwd{${texEscape(s)}}`).join('');
  } else {
    const sep = f.style === 'sep' ? ' \\sep ' : f.style === 'and' ? ' \\and ' : f.style === 'semicolon' ? '; ' : ', ';
    const item = (s: string): string => (f.style === 'comma' && s.includes(',') ? `{${texEscape(s)}}` : texEscape(s));
    insert = (f.items.length ? sep : '') + added.map(item).join(sep);
  }
  // an empty environment on its own lines: the first item goes on a line of its own
  if (!f.items.length && /\n/.test(body) && !/\S/.test(body)) {
    const indent = /\n([ \t]*)$/.exec(body)?.[1] ?? '';
    return {
      edit: { start: f.start, end: f.end, text: `\n${indent}${insert}\n${indent}` },
      added,
      present,
      where: f.where,
    };
  }
  return { edit: { start: at, end: at, text: insert }, added, present, where: f.where };
}

// ---- what is not prose (the uncited-claims check skips it) ----

/** The end (exclusive) of a balanced `{…}` group opening at `open`; text.length if unbalanced. */
function braceEnd(text: string, open: number): number {
  const close = closingBrace(text, open);
  return close < 0 ? text.length : close + 1;
}

const MATH_ENVS = 'equation|align|alignat|gather|multline|eqnarray|displaymath|math|flalign';
const CODE_ENVS = 'verbatim|Verbatim|lstlisting|minted|comment|filecontents';
const FLOAT_ENVS = 'figure|table|wrapfigure|sidewaysfigure|sidewaystable|tabular|tabularx|longtable';

/**
 * Parts of a LaTeX document that hold no citable prose: the preamble (before `\begin{document}`), comments,
 * sectioning commands, captions and floats, display math (`\[…\]`, `$$…$$`, equation-like environments), verbatim
 * and listings, the bibliography.
 */
export function latexSkipRegions(text: string): SkipRegion[] {
  const out: SkipRegion[] = [];
  const begin = /\\begin\s*\{document\}/.exec(text);
  if (begin) out.push({ start: 0, end: begin.index + begin[0].length, reason: 'front matter' });
  // nothing after \end{document} is typeset
  const end = /\\end\s*\{document\}/.exec(text);
  if (end) out.push({ start: end.index, end: text.length, reason: 'references' });
  for (const [a, b] of latexComments(text)) out.push({ start: a, end: b, reason: 'comment' });
  out.push(...regionsOf(text, /\\(?:begin|end)\s*\{[^}]*\}/g, 'code'));
  const env = (names: string, reason: SkipReason): void => {
    out.push(
      ...regionsOf(text, new RegExp(String.raw`\\begin\s*\{(${names})\*?\}[\s\S]*?\\end\s*\{\1\*?\}`, 'g'), reason),
    );
  };
  env(CODE_ENVS, 'code');
  env(MATH_ENVS, 'math');
  env(FLOAT_ENVS, 'caption');
  env('thebibliography', 'references');
  out.push(...regionsOf(text, /\\\[[\s\S]*?\\\]|\$\$[\s\S]*?\$\$/g, 'math'));
  out.push(...regionsOf(text, /\\verb\*?(.).*?\1/g, 'code'));
  // commands whose argument is a heading, a caption or front matter; the argument may hold braces
  for (const m of text.matchAll(
    /\\(part|chapter|(?:sub)*section|(?:sub)?paragraph|caption|captionof|title|author|date|maketitle|bibliography|bibliographystyle|printbibliography|addbibresource|keywords|label)\*?(?:\[[^\]]*\])?\s*(\{)?/g,
  )) {
    const start = m.index ?? 0;
    const end = m[2] ? braceEnd(text, start + m[0].length - 1) : start + m[0].length;
    const cmd = m[1] ?? '';
    const reason: SkipReason = /caption/.test(cmd)
      ? 'caption'
      : /bib/.test(cmd)
        ? 'references'
        : /title|author|date|keywords/.test(cmd)
          ? 'front matter'
          : cmd === 'label'
            ? 'comment'
            : 'heading';
    out.push({ start, end, reason });
  }
  return out;
}
