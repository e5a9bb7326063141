// Which paper a citation key names, from the manuscript's own bibliography files (BibTeX or CSL-JSON) or, for a
// Manubot id (`doi:…`, `pubmed:…`), from the id itself. Pure.
import { parseBibtex, entryPmid } from '../cite/bibtex';
import { parseCslJson } from '../cite/csljson';
import { idIdentity } from '../cite/syntax/manubot';

export interface KeyIdentity {
  pmid?: string;
  doi?: string;
  /** the key itself (a library item without PMID or DOI is indexed as `key:<key>`) */
  key?: string;
}

/** Parsed bibliographies by text (the last few): a document's check resolves every key against the same files. */
const parsed = new Map<string, Map<string, KeyIdentity>>();

function entries(b: { path: string; text: string }): Map<string, KeyIdentity> {
  const id = `${/\.json$/i.test(b.path) ? 'csl' : 'bib'}\0${b.text}`;
  let m = parsed.get(id);
  if (m) return m;
  m = new Map();
  if (/\.json$/i.test(b.path)) {
    for (const it of parseCslJson(b.text))
      m.set(String(it.id), {
        pmid: typeof it.PMID === 'string' ? it.PMID : undefined,
        doi: typeof it.DOI === 'string' ? it.DOI : undefined,
        key: String(it.id),
      });
  } else
    for (const e of parseBibtex(b.text)) m.set(e.key, { pmid: entryPmid(e.fields), doi: e.fields['doi'], key: e.key });
  parsed.set(id, m);
  while (parsed.size > 4) parsed.delete(parsed.keys().next().value!);
  return m;
}

/** The identity of `key` in bibliography files (path decides the format: `.json` is CSL-JSON, else BibTeX). */
export function keyInBibliographies(key: string, bibs: { path: string; text: string }[]): KeyIdentity | undefined {
  const own = idIdentity(key);
  if (own.pmid || own.doi) return own;
  for (const b of bibs) {
    const hit = entries(b).get(key);
    if (hit) return hit;
  }
  return undefined;
}
