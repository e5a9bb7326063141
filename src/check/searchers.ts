// The two searches the check runs on: the editor's Engine (its query: hybrid, the dense leg at weight 0 while the
// weights are generated) and an open index (CLI, eval: any mode of src/index/search.ts).
import type { Engine } from '../app/engine';
import type { Embedder } from '../inference/types';
import { paperMeta } from '../cite/paper';
import { search, type SearchMode } from '../index/search';
import { sqlString, toArticleInfo, type IndexStore } from '../index/store';
import type { KeyIdentity } from './keys';
import type { Candidate, Searcher } from './check';

/**
 * The Engine's search (the sidebar's: hybrid), papers with abstracts, on a worker channel of `channel`'s own. A query
 * a newer one on the same channel superseded is asked again.
 */
export function engineSearcher(engine: Engine, channel = 'check'): Searcher {
  return async (query, k) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const papers = await engine.searchPapers(query, k, channel);
        return papers.map((p) => ({ ...paperMeta(p), abstract: p.abstract ?? '' }));
      } catch (e) {
        if ((e as { code?: string }).code !== 'superseded' || attempt >= 2) throw e;
      }
    }
  };
}

/** The index's search in one mode, with the hits' abstracts. */
export function storeSearcher(store: IndexStore, embedder: Embedder | undefined, mode: SearchMode): Searcher {
  return async (query, k) => {
    const r = await search(store, embedder, query, { k, mode, noWhy: true });
    if (!r.hits.length) return [];
    const abs = await store.abstracts(r.hits.map((h) => h.pmid));
    return r.hits.map((h): Candidate => ({ ...paperMeta(h), abstract: abs.get(h.pmid) ?? '' }));
  };
}

/** The index row of a cited paper: by PMID, by DOI (the PubMed record or the library item `doi:…`), by key. */
export async function paperInIndex(store: IndexStore, id: KeyIdentity): Promise<Candidate | undefined> {
  const wheres: string[] = [];
  if (id.pmid) wheres.push(`pmid = ${sqlString(id.pmid)}`);
  if (id.doi) {
    const d = id.doi.toLowerCase();
    wheres.push(`pmid = ${sqlString(`doi:${d}`)}`, `lower(doi) = ${sqlString(d)}`);
  }
  if (id.key) wheres.push(`pmid = ${sqlString(`key:${id.key}`)}`);
  for (const w of wheres) {
    const rows = await store.articles.query().where(w).limit(1).toArray();
    if (rows[0]) {
      const a = toArticleInfo(rows[0] as Record<string, unknown>);
      return { ...paperMeta(a), abstract: a.abstract };
    }
  }
  return undefined;
}
