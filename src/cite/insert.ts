// Where a citation goes and what is inserted, for every syntax (the logic is in ./syntax/*), and keyword insertion.
// Pure: offsets in, text edits out.
import { type TextEdit, citationAnchor, applyEdits } from './syntax/common';
import { latexCiteAt, latexCitationEdit } from './syntax/latex';
import { pandocCiteAt, pandocCitationEdit } from './syntax/pandoc';
import { keywordEdits } from './keywords';
import type { DocKind } from './detect';
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

/** Keyword insertion for one MeSH term (the sidebar's "Insert as keyword"): ../keywords does it for every syntax. */
export function keywordEdit(text: string, kind: DocKind, cursor: number, term: string): TextEdit {
  const r = keywordEdits(text, kind, cursor, [term]);
  return r.edits[0] ?? { start: cursor, end: cursor, text: '' };
}
