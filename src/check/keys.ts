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

/** The identity of `key` in bibliography files (path decides the format: `.json` is CSL-JSON, else BibTeX). */
export function keyInBibliographies(key: string, bibs: { path: string; text: string }[]): KeyIdentity | undefined {
  const own = idIdentity(key);
  if (own.pmid || own.doi) return own;
  for (const b of bibs) {
    if (/\.json$/i.test(b.path)) {
      const it = parseCslJson(b.text).find((i) => i.id === key);
      if (it)
        return {
          pmid: typeof it.PMID === 'string' ? it.PMID : undefined,
          doi: typeof it.DOI === 'string' ? it.DOI : undefined,
          key,
        };
    } else {
      const e = parseBibtex(b.text).find((x) => x.key === key);
      if (e) return { pmid: entryPmid(e.fields), doi: e.fields['doi'], key };
    }
  }
  return undefined;
}
