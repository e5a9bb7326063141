// Where a citation goes and what is inserted, for every syntax (the logic is in ./syntax/*), and keyword insertion.
// Pure: offsets in, text edits out.
import { type TextEdit, citationAnchor, applyEdits } from './syntax/common';
import { latexCiteAt, latexCitationEdit } from './syntax/latex';
import { frontMatter, pandocCiteAt, pandocCitationEdit } from './syntax/pandoc';
import { plainCitationEdits } from './syntax/plain';

export {
  type TextEdit,
  citationAnchor,
  applyEdits,
  latexCiteAt,
  latexCitationEdit,
  pandocCiteAt,
  pandocCitationEdit,
  plainCitationEdits,
};

/** Keyword insertion for MeSH terms: LaTeX `\keywords{}`, YAML `keywords:`, else the plain term at the cursor. */
export function keywordEdit(
  text: string,
  kind: 'latex' | 'pandoc' | 'manubot' | 'plain',
  cursor: number,
  term: string,
): TextEdit {
  if (kind === 'latex') {
    const m = /\\(?:keywords|kwd)\s*\{([^}]*)\}/.exec(text);
    if (m) {
      const close = m.index + m[0].length - 1;
      const has = (m[1] ?? '').trim().length > 0;
      return { start: close, end: close, text: `${has ? ', ' : ''}${term}` };
    }
  }
  if (kind === 'pandoc' || kind === 'manubot') {
    const fm = frontMatter(text);
    if (fm) {
      const body = fm.body;
      const bodyStart = fm.bodyStart;
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
        return {
          start: endOfList,
          end: endOfList,
          text: `${needsNl ? '\n' : ''}${indent}- ${term}${needsNl ? '' : '\n'}`,
        };
      }
    }
  }
  return { start: cursor, end: cursor, text: term };
}
