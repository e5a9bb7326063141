// Identifiers, normalised and validated in one place for every reader (PubMed XML, MEDLINE text, CSL-JSON, BibTeX,
// PubMedQA). Each function returns the normal form or says, in words, why the input is not an identifier.
//
//   PMID   1–8 decimal digits once leading zeros are stripped ('00000000001' → '1'); '0', '000' and longer numbers
//          are not PMIDs (PubMed's are below 10⁸: ~40 million today). Surrounding space is ignored, nothing else is.
//   DOI    '10.<registrant>/<suffix>', lower-cased (DOIs are case-insensitive), with 'doi:', 'https://doi.org/',
//          'http://dx.doi.org/' (and percent-escapes in such a URL) and a trailing '[doi]' removed; registrant 4–9
//          digits (optionally '.n' subdivisions), suffix without spaces or control characters, ≤ 300 characters.
//   PMCID  'PMC' + 1–10 digits ('pmc123', 'PMC0123' and a bare '123' → 'PMC123').
//   key    a citation key (BibTeX key, CSL `citation-key`/`id`): 1–256 characters, no whitespace, control characters
//          or any of `{}(),"#%\`.
//
// The record id (`Citation.pmid`, the index's primary key) is the PMID for PubMed records (they need one). For items
// of a writer's own bibliography (CSL-JSON, BibTeX: `library: true`) it is, in this order:
//   '<pmid>'           when the item has a valid PMID (so it is the same row as the PubMed record of that paper)
//   'doi:<doi>'        else when it has a valid DOI, e.g. 'doi:10.1371/journal.pone.0173548'
//   'key:<key>'        else its citation key, e.g. 'key:garcia_metformin_2019'
// and an item with none of the three is rejected. `recordIdKind` tells the three apart.

export const MAX_PMID_DIGITS = 8;

export type Checked = { value: string } | { error: string };

const show = (s: string) => (s.length > 40 ? `'${s.slice(0, 40)}…' (${s.length} characters)` : `'${s}'`);

/** Normalise a PMID: digits only, leading zeros stripped, 1 ≤ PMID < 10^8. */
export function normalizePmid(raw: unknown): Checked {
  if (typeof raw === 'number') raw = String(raw);
  if (typeof raw !== 'string') return { error: `PMID is a ${raw === null ? 'null' : typeof raw}, not a number` };
  const s = raw.trim();
  if (!s) return { error: 'PMID is empty' };
  if (!/^\d+$/.test(s)) return { error: `PMID ${show(s)} is not a number` };
  const v = s.replace(/^0+/, '');
  if (!v) return { error: `PMID ${show(s)} is zero (PMIDs start at 1)` };
  if (v.length > MAX_PMID_DIGITS)
    return { error: `PMID ${show(s)} has ${v.length} digits (PMIDs have at most ${MAX_PMID_DIGITS})` };
  return { value: v };
}

export const isPmid = (s: string): boolean => /^[1-9]\d{0,7}$/.test(s);

const DOI = /^10\.\d{4,9}(?:\.\d+)*\/[^\s\u0000-\u001f\u007f]+$/;

/** Normalise a DOI to its lower-case '10.x/y' form. */
export function normalizeDoi(raw: unknown): Checked {
  if (typeof raw !== 'string') return { error: `DOI is a ${raw === null ? 'null' : typeof raw}, not a string` };
  let s = raw.trim().replace(/\s*\[doi\]$/i, '');
  const url = /^(?:https?:\/\/)?(?:dx\.)?doi\.org\//i.exec(s);
  if (url) {
    s = s.slice(url[0].length);
    try {
      s = decodeURIComponent(s);
    } catch {
      /* keep as is */
    }
  }
  s = s
    .replace(/^doi:\s*/i, '')
    .trim()
    .toLowerCase();
  if (!s) return { error: 'DOI is empty' };
  if (s.length > 300) return { error: `DOI ${show(s)} is longer than 300 characters` };
  if (!DOI.test(s)) return { error: `DOI ${show(s)} is not of the form 10.<digits>/<suffix>` };
  return { value: s };
}

/** Normalise a PMCID to 'PMC<digits>'. */
export function normalizePmcid(raw: unknown): Checked {
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) raw = String(raw);
  if (typeof raw !== 'string') return { error: `PMCID is a ${raw === null ? 'null' : typeof raw}, not a string` };
  const s = raw.trim();
  const m = /^(?:PMC)?0*(\d{1,10})$/i.exec(s);
  if (!m || m[1] === '0' || /^0+$/.test(m[1]!)) return { error: `PMCID ${show(s)} is not of the form PMC<digits>` };
  return { value: `PMC${m[1]}` };
}

const BAD_KEY = /[\s\u0000-\u001f\u007f{}(),"#%\\]/;

/** Check a citation key (kept as given: keys are case-sensitive in biber and Pandoc). */
export function normalizeCitationKey(raw: unknown): Checked {
  if (typeof raw === 'number' && Number.isFinite(raw)) raw = String(raw);
  if (typeof raw !== 'string')
    return { error: `citation key is a ${raw === null ? 'null' : typeof raw}, not a string` };
  const s = raw.trim();
  if (!s) return { error: 'citation key is empty' };
  if (s.length > 256) return { error: `citation key ${show(s)} is longer than 256 characters` };
  if (BAD_KEY.test(s))
    return { error: `citation key ${show(s)} contains whitespace, a control character or one of {}(),"#%\\` };
  return { value: s };
}

/** The record id of a bibliography item: PMID, else 'doi:<doi>', else 'key:<key>' (inputs already normalised). */
export function libraryRecordId(ids: { pmid?: string; doi?: string; key?: string }): string | undefined {
  if (ids.pmid) return ids.pmid;
  if (ids.doi) return `doi:${ids.doi}`;
  if (ids.key) return `key:${ids.key}`;
  return undefined;
}

/** What a record id is: a PMID, a DOI or a citation key (see libraryRecordId). */
export function recordIdKind(
  id: string,
): { kind: 'pmid'; pmid: string } | { kind: 'doi'; doi: string } | { kind: 'key'; key: string } | undefined {
  if (isPmid(id)) return { kind: 'pmid', pmid: id };
  if (id.startsWith('doi:')) return { kind: 'doi', doi: id.slice(4) };
  if (id.startsWith('key:')) return { kind: 'key', key: id.slice(4) };
  return undefined;
}

/** Normalise an ISSN ('1932-6203', '1932 6203', '19326203' → '1932-6203'); undefined when it is not one. */
export function normalizeIssn(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const m = /^\s*(\d{4})[-\s]?(\d{3}[\dXx])\s*$/.exec(raw);
  return m ? `${m[1]}-${m[2]!.toUpperCase()}` : undefined;
}
