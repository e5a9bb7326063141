// What the index says about the sentence a citation is being typed for: the papers of the index's hybrid search (the
// sidebar's search, without the best-sentence lookup), and the dense similarity of the writer's own bibliography
// entries that the index holds (PubMed rows found by PMID or DOI; bibliography items indexed with "Index this
// manuscript's bibliography" are rows too). Their vectors are read once per version of the bibliography and kept;
// each new sentence then costs one query embedding (shared with the search) and a pass of dot products. With
// generated weights the dense similarity means nothing and is left out, as in hybrid search. No vscode.
import type { Embedder } from '../inference/types';
import type { IndexStore } from '../index/store';
import type { IndexPaper } from '../cite/complete';
import { paperMeta } from '../cite/paper';

export interface BibIds {
  /** changes whenever the bibliography changed (BibCache's signature) */
  signature: string;
  /** the entries' identifiers, by entry position */
  ids: { pmid?: string; doi?: string }[];
}

export interface CiteRelevance {
  hits: IndexPaper[];
  /** cosine of the sentence with each bibliography entry the index holds (entry position → similarity) */
  dense?: Map<number, number>;
  generated: boolean;
  note?: string;
  /** search: the hybrid search in all (embed, its dense and full-text legs); vectors: reading the bibliography's; bibDense: their scores */
  ms: { search: number; embed: number; denseLeg: number; fts: number; vectors: number; bibDense: number };
}

interface BibVectors {
  signature: string;
  /** entry position of each vector */
  entries: Int32Array;
  /** unit vectors, one per row */
  vecs: Float32Array;
  dim: number;
}

const cache = new WeakMap<IndexStore, BibVectors>();

/** The bibliography entries' vectors in the index (read once per bibliography signature and store). */
async function bibVectors(store: IndexStore, bib: BibIds): Promise<BibVectors> {
  const cur = cache.get(store);
  if (cur && cur.signature === bib.signature) return cur;
  const { sqlIn, toFloat32 } = await import('../index/store');
  const byPmid = new Map<string, number[]>();
  const byDoi = new Map<string, number[]>();
  bib.ids.forEach((id, i) => {
    const put = (m: Map<string, number[]>, k: string): void => void (m.get(k) ?? m.set(k, []).get(k)!).push(i);
    if (id.pmid) put(byPmid, id.pmid);
    else if (id.doi) put(byDoi, id.doi.toLowerCase());
  });
  const entries: number[] = [];
  const vecs: Float32Array[] = [];
  const take = (list: number[] | undefined, v: unknown): void => {
    if (!list) return;
    const f = toFloat32(v);
    let n = 0;
    for (const x of f) n += x * x;
    n = Math.sqrt(n) || 1;
    const u = new Float32Array(f.length);
    for (let j = 0; j < f.length; j++) u[j] = f[j]! / n;
    for (const i of list) {
      entries.push(i);
      vecs.push(u);
    }
  };
  const pmids = [...byPmid.keys()];
  for (let i = 0; i < pmids.length; i += 1000)
    for (const r of await store.articles
      .query()
      .where(sqlIn('pmid', pmids.slice(i, i + 1000)))
      .select(['pmid', 'vector'])
      .toArray())
      take(byPmid.get(String(r.pmid)), r.vector);
  const dois = [...byDoi.keys()];
  for (let i = 0; i < dois.length; i += 1000)
    for (const r of await store.articles
      .query()
      .where(sqlIn('lower(doi)', dois.slice(i, i + 1000)))
      .select(['doi', 'vector'])
      .toArray())
      take(byDoi.get(String(r.doi).toLowerCase()), r.vector);
  const dim = vecs[0]?.length ?? 0;
  const flat = new Float32Array(vecs.length * dim);
  vecs.forEach((v, j) => flat.set(v, j * dim));
  const out: BibVectors = { signature: bib.signature, entries: Int32Array.from(entries), vecs: flat, dim };
  cache.set(store, out);
  return out;
}

/**
 * The index's papers for a sentence (hybrid search, best first) and, when `bib` is given, the dense similarity of the
 * bibliography's entries. `dense: 'always'` computes it with generated weights too (the benchmark times that path).
 */
export async function citeRelevance(
  store: IndexStore,
  embedder: Embedder,
  text: string,
  o: { k: number; bib?: BibIds; dense?: 'auto' | 'always' },
): Promise<CiteRelevance> {
  const { search } = await import('../index/search');
  const t0 = performance.now();
  const res = await search(store, embedder, text, { k: o.k, mode: 'hybrid', noWhy: true });
  const generated = store.identity.generated;
  const meaningful = !generated || o.dense === 'always';
  const hits: IndexPaper[] = res.hits.map((h) => ({
    ...paperMeta(h),
    rank: h.rank,
    ...(meaningful && h.why.denseScore !== undefined ? { dense: h.why.denseScore } : {}),
  }));
  const ms = {
    search: performance.now() - t0,
    embed: res.ms.embed,
    denseLeg: res.ms.dense,
    fts: res.ms.fts,
    vectors: 0,
    bibDense: 0,
  };
  if (!o.bib || !o.bib.ids.length || !meaningful) return { hits, generated, note: res.note, ms };
  const t1 = performance.now();
  const bv = await bibVectors(store, o.bib);
  ms.vectors = performance.now() - t1;
  const t2 = performance.now();
  const [q] = await embedder.embed([text], 'query'); // the search's own query vector (the engine's embedder keeps it)
  const dense = new Map<number, number>();
  if (q && bv.dim === q.length) {
    let n = 0;
    for (const x of q) n += x * x;
    n = Math.sqrt(n) || 1;
    const { vecs, dim, entries } = bv;
    for (let r = 0; r < entries.length; r++) {
      let d = 0;
      const off = r * dim;
      for (let j = 0; j < dim; j++) d += vecs[off + j]! * q[j]!;
      const e = entries[r]!;
      const s = d / n;
      if (!dense.has(e) || s > dense.get(e)!) dense.set(e, s);
    }
  }
  ms.bibDense = performance.now() - t2;
  return { hits, dense, generated, note: res.note, ms };
}
