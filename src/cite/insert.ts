// Where a citation goes in the text and what is inserted: merge into an open citation, else after the selection
// (before the sentence's closing punctuation). Pure: offsets in, one text edit out.

export interface TextEdit { start: number; end: number; text: string }

/** LaTeX citation commands: \cite, \citep, \citet, \autocite, \parencite, \textcite, \footcite, … (with * and [opt]). */
const LATEX_CITE = /\\([A-Za-z]*cite[A-Za-z]*)\*?(?:\s*\[[^\]]*\]){0,2}\s*\{([^}]*)\}/g;

/** Where to put a new citation: after the selection, moved back over trailing spaces and one sentence-ending mark. */
export function citationAnchor(text: string, selStart: number, selEnd: number): number {
  let p = selEnd;
  while (p > selStart && /\s/.test(text[p - 1] ?? '')) p--;
  if (p > selStart && /[.;:!?,]/.test(text[p - 1] ?? '')) p--;
  while (p > selStart && /[ \t]/.test(text[p - 1] ?? '')) p--;
  return p;
}

/** The `\cite{…}` whose command or braces contain `offset`: its keys and where the closing brace is. */
export function latexCiteAt(text: string, offset: number): { keys: string[]; closeBrace: number } | undefined {
  for (const m of text.matchAll(LATEX_CITE)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    if (offset >= start && offset <= end) {
      return { keys: (m[2] ?? '').split(',').map((k) => k.trim()).filter(Boolean), closeBrace: end - 1 };
    }
  }
  return undefined;
}

/** Insert `\cmd{key}` or merge the key into the \cite the cursor is in. Returns undefined when already cited there. */
export function latexCitationEdit(text: string, selStart: number, selEnd: number, key: string, command = '\\cite'): TextEdit | undefined {
  const open = latexCiteAt(text, selEnd) ?? (selStart !== selEnd ? undefined : latexCiteAt(text, selStart));
  if (open) {
    if (open.keys.includes(key)) return undefined;
    const sep = open.keys.length ? ',' : '';
    return { start: open.closeBrace, end: open.closeBrace, text: `${sep}${key}` };
  }
  const at = citationAnchor(text, selStart, selEnd);
  // a citation right before the insertion point (e.g. inserted a moment ago): merge into it
  const adjacent = /(\\[A-Za-z]*cite[A-Za-z]*\*?(?:\s*\[[^\]]*\]){0,2}\s*\{[^}]*\})\s*$/.exec(text.slice(Math.max(selStart, at - 400), at));
  if (adjacent) {
    const near = latexCiteAt(text, at - 1 - (adjacent[0].length - (adjacent[1] ?? '').length));
    if (near) {
      if (near.keys.includes(key)) return undefined;
      return { start: near.closeBrace, end: near.closeBrace, text: `${near.keys.length ? ',' : ''}${key}` };
    }
  }
  const before = text[at - 1] ?? '';
  const tie = before && !/\s/.test(before) && before !== '~' ? '~' : '';
  const cmd = command.startsWith('\\') ? command : `\\${command}`;
  return { start: at, end: at, text: `${tie}${cmd}{${key}}` };
}

/** The Pandoc citation group `[…@…]` containing `offset`. */
export function pandocCiteAt(text: string, offset: number): { keys: string[]; close: number } | undefined {
  const re = /\[([^\[\]]*?-?@[^\[\]]*)\]/g;
  for (const m of text.matchAll(re)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    if (offset > start && offset < end) {
      const keys = [...(m[1] ?? '').matchAll(/-?@([\w:.#$%&\-+?<>~/]*[\w])/g)].map((k) => k[1] ?? '');
      return { keys, close: end - 1 };
    }
  }
  return undefined;
}

/** Insert ` [@key]` or merge `; @key` into the `[@a; @b]` the cursor is in. Undefined when already cited there. */
export function pandocCitationEdit(text: string, selStart: number, selEnd: number, key: string): TextEdit | undefined {
  const open = pandocCiteAt(text, selEnd) ?? (selStart !== selEnd ? undefined : pandocCiteAt(text, selStart));
  if (open) {
    if (open.keys.includes(key)) return undefined;
    return { start: open.close, end: open.close, text: `; @${key}` };
  }
  const at = citationAnchor(text, selStart, selEnd);
  const adjacent = /\[[^\[\]]*@[^\[\]]*\]\s*$/.exec(text.slice(Math.max(selStart, at - 400), at));
  if (adjacent) {
    const near = pandocCiteAt(text, at - 1 - (adjacent[0].length - adjacent[0].trimEnd().length));
    if (near) return near.keys.includes(key) ? undefined : { start: near.close, end: near.close, text: `; @${key}` };
  }
  const before = text[at - 1] ?? '';
  return { start: at, end: at, text: `${before && !/\s/.test(before) ? ' ' : ''}[@${key}]` };
}

/**
 * Plain text: a numbered marker `[n]` after the selection and the formatted reference in a "References" list at the
 * end (reused when the same reference is already listed). Returns the edits in ascending order.
 */
export function plainCitationEdits(text: string, selStart: number, selEnd: number, reference: string): TextEdit[] {
  const heading = /^(References|Bibliography)\s*:?\s*$/im;
  const hm = heading.exec(text);
  const listStart = hm ? hm.index + hm[0].length : -1;
  const existing = listStart >= 0 ? text.slice(listStart).split(/\r?\n/).filter((l) => /^\s*\d+\.\s/.test(l)) : [];
  const norm = (s: string): string => s.replace(/^\s*\d+\.\s*/, '').replace(/\s+/g, ' ').trim();
  const idx = existing.findIndex((l) => norm(l) === norm(reference));
  const n = idx >= 0 ? idx + 1 : existing.length + 1;
  const at = citationAnchor(text, selStart, selEnd);
  const before = text[at - 1] ?? '';
  const marker: TextEdit = { start: at, end: at, text: `${before && !/\s/.test(before) ? ' ' : ''}[${n}]` };
  if (idx >= 0) return [marker];
  const nl = text.endsWith('\n') ? '' : '\n';
  const add = hm ? `${nl}${n}. ${norm(reference)}\n` : `${nl}\nReferences\n\n1. ${norm(reference)}\n`;
  return [marker, { start: text.length, end: text.length, text: add }];
}

/** Keyword insertion for MeSH terms: LaTeX `\keywords{}`, YAML `keywords:`, else the plain term at the cursor. */
export function keywordEdit(text: string, kind: 'latex' | 'pandoc' | 'manubot' | 'plain', cursor: number, term: string): TextEdit {
  if (kind === 'latex') {
    const m = /\\(?:keywords|kwd)\s*\{([^}]*)\}/.exec(text);
    if (m) {
      const close = m.index + m[0].length - 1;
      const has = (m[1] ?? '').trim().length > 0;
      return { start: close, end: close, text: `${has ? ', ' : ''}${term}` };
    }
  }
  if (kind === 'pandoc' || kind === 'manubot') {
    const fm = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)/.exec(text);
    const body = fm?.[1];
    if (fm && body !== undefined) {
      const bodyStart = fm[0].indexOf(body);
      const flow = /^keywords:[ \t]*\[([^\]\n]*)\]/m.exec(body);
      if (flow) {
        const close = bodyStart + flow.index + flow[0].length - 1;
        return { start: close, end: close, text: `${(flow[1] ?? '').trim() ? ', ' : ''}${term}` };
      }
      const block = /^keywords:[ \t]*\r?\n((?:[ \t]*-[^\n]*(?:\r?\n|$))+)/m.exec(body);
      if (block) {
        const items = block[1] ?? '';
        const indent = /^([ \t]*)-/.exec(items)?.[1] ?? '';
        const endOfList = bodyStart + block.index + block[0].length;
        const needsNl = !/\n$/.test(items);
        return { start: endOfList, end: endOfList, text: `${needsNl ? '\n' : ''}${indent}- ${term}${needsNl ? '' : '\n'}` };
      }
    }
  }
  return { start: cursor, end: cursor, text: term };
}
