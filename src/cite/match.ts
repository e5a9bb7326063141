// Is this paper already in the writer's bibliography, and under which key? One record shape for .bib entries,
// CSL-JSON items and Manubot references, matched by PMID, then DOI, then normalised title + year (a BibDesk or doi2bib
// file often has no identifier at all).
import type { PaperMeta } from './paper';
import { normDoi, normTitle } from './paper';
import { type BibEntry, entryPmid, entryDoi, entryYear, entryFamilies } from './bibtex';
import { type CslItem, cslPmid, cslYear } from './csljson';

export interface BibRecord {
  key: string;
  pmid?: string;
  doi?: string;
  /** normalised (normTitle) */
  title?: string;
  year?: number;
  /** family names, LaTeX removed */
  families: string[];
  /** the title as written (for key-style inference) */
  rawTitle?: string;
  /** where it is (a file name, for messages) */
  file?: string;
  /** a .bib entry's fields (lower-case names), to tell what a toolchain will find missing */
  fields?: Record<string, string>;
}

/** What identifies a paper: PMID and DOI, and title + year for files without identifiers. */
export type PaperId = Pick<PaperMeta, 'pmid' | 'doi'> & Partial<Pick<PaperMeta, 'title' | 'year'>>;

export type MatchedBy = 'pmid' | 'doi' | 'title';

export interface Match {
  record: BibRecord;
  by: MatchedBy;
}

export function recordsFromBibtex(entries: BibEntry[], file?: string): BibRecord[] {
  return entries.map((e) => ({
    key: e.key,
    pmid: entryPmid(e.fields),
    doi: entryDoi(e.fields),
    title: normTitle(e.fields['title']) || undefined,
    year: entryYear(e.fields),
    families: entryFamilies(e.fields),
    rawTitle: e.fields['title'],
    file,
    fields: e.fields,
  }));
}

export function recordsFromCsl(items: CslItem[], file?: string): BibRecord[] {
  return items.map((it) => ({
    key: it.id,
    pmid: cslPmid(it),
    doi: normDoi(typeof it.DOI === 'string' ? it.DOI : undefined),
    title: normTitle(typeof it.title === 'string' ? it.title : undefined) || undefined,
    year: cslYear(it),
    families: (it.author ?? []).map((a) => a.family ?? a.literal ?? '').filter(Boolean),
    rawTitle: typeof it.title === 'string' ? it.title : undefined,
    file,
  }));
}

/** Titles shorter than this (normalised) are not matched on title alone: "Editorial", "Erratum" are not one paper. */
const MIN_TITLE = 12;

/**
 * Every record that holds this paper, best evidence first: the same PMID, then the same DOI, then the same normalised
 * title and the same year (both must be known; a record with another PMID or DOI is another paper). More than one when
 * the writer's file has the paper twice (a doi2bib entry and a Zotero one, say).
 */
export function findRecords(records: BibRecord[], paper: PaperId): Match[] {
  const out: Match[] = [];
  const add = (r: BibRecord, by: MatchedBy): void => {
    if (!out.some((m) => m.record === r)) out.push({ record: r, by });
  };
  if (paper.pmid) for (const r of records) if (r.pmid === paper.pmid) add(r, 'pmid');
  const doi = normDoi(paper.doi);
  if (doi) for (const r of records) if (r.doi === doi) add(r, 'doi');
  const title = normTitle(paper.title);
  if (title.length >= MIN_TITLE && paper.year) {
    for (const r of records) {
      if ((r.pmid && paper.pmid && r.pmid !== paper.pmid) || (r.doi && doi && r.doi !== doi)) continue;
      if (r.title === title && r.year === paper.year) add(r, 'title');
    }
  }
  return out;
}

/** The first record that holds this paper (see findRecords). */
export function findRecord(records: BibRecord[], paper: PaperId): Match | undefined {
  return findRecords(records, paper)[0];
}

/** The key of the .bib entry holding this paper (PMID, DOI, title + year), if any. */
export function findExistingKey(entries: BibEntry[], paper: PaperId): string | undefined {
  return findRecord(recordsFromBibtex(entries), paper)?.record.key;
}

/** The id of the CSL-JSON item holding this paper (PMID, DOI, title + year), if any. */
export function findExistingCslKey(items: CslItem[], paper: PaperId): string | undefined {
  return findRecord(recordsFromCsl(items), paper)?.record.key;
}
