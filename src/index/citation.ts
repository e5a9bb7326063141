// The normalised citation record every reader produces and the index stores.
import * as v from 'valibot';

export const MeshHeadingSchema = v.object({
  /** descriptor UI (e.g. 'D003920') where the source gives it */
  ui: v.optional(v.string()),
  /** descriptor name */
  name: v.string(),
  /** major-topic flag (descriptor or any of its qualifiers) */
  major: v.boolean(),
  qualifiers: v.array(v.object({ ui: v.optional(v.string()), name: v.string(), major: v.boolean() })),
});
export type MeshHeading = v.InferOutput<typeof MeshHeadingSchema>;

export interface AbstractSection {
  label?: string; // e.g. 'BACKGROUND', 'METHODS' (NlmCategory or Label)
  text: string;
  category?: string; // NlmCategory as given (BACKGROUND, OBJECTIVE, METHODS, RESULTS, CONCLUSIONS, UNASSIGNED)
}

export interface Citation {
  pmid: string;
  title: string;
  abstract: AbstractSection[]; // empty when the citation has no abstract
  authors: string[]; // 'Lastname Initials' (e.g. 'Smith JA'); collective names as given
  journal: string;
  year?: number;
  /** Publication month 1–12 where the source gives it (PubDate Month / MedlineDate / DP). */
  month?: number;
  volume?: string;
  issue?: string;
  /** Pages as given (MedlinePgn, `PG  -`, CSL `page`), e.g. '123-9' or 'e1002'; an ELocationID when no pages. */
  pages?: string;
  /** ISSN of the journal (print or electronic, as given). */
  issn?: string;
  doi?: string;
  pmcid?: string;
  publicationTypes: string[];
  language?: string;
  mesh: MeshHeading[];
  keywords?: string[]; // author keywords (KeywordList, OT/OT tags, CSL keyword) where given
  source: string; // file it came from
  /**
   * True for an item of the writer's own bibliography (CSL-JSON, BibTeX). Its `pmid` is then the record id of
   * src/index/ids.ts: the PMID when it has one, else 'doi:<doi>', else 'key:<citation key>'; it may have no
   * abstract (title, authors, venue only).
   */
  library?: true;
  /** The item's citation key in that bibliography (BibTeX key; CSL `citation-key`, else `id`). */
  citationKey?: string;
}

/** Abstract as one string, section labels kept as `LABEL: text` paragraphs. */
export function abstractText(c: Pick<Citation, 'abstract'>): string {
  return c.abstract.map((s) => (s.label ? `${s.label}: ${s.text}` : s.text)).join('\n');
}

/** One event from a streaming reader. */
export type ReaderEvent =
  | { type: 'citation'; citation: Citation }
  | { type: 'delete'; pmids: string[] }
  | { type: 'reject'; file: string; record: string; where: string; message: string }
  /** A record that was kept with something left out or cleaned (an invalid DOI dropped, a control character removed…). */
  | { type: 'note'; file: string; record: string; where: string; message: string };
// record: PMID or '#<ordinal>' (with the citation key in parentheses where there is one); where: 'line N' or 'byte N'
