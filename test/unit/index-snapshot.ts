// What an index holds, in a form two indexes can be compared by: per PMID the content hash, file order and
// sentence count, and per (PMID, sentence) the text; plus every duplicate found. Reads real LanceDB tables.
import { IndexStore } from '../../src/index/store';

export interface IndexSnapshot {
  articles: Map<string, { hash: string; seq: number; n: number; title: string }>;
  sentences: Map<string, string>;
  duplicatePmids: string[];
  duplicateSentences: string[];
  /** Articles whose stored sentences are not exactly 0..n_sentences-1 of their own version. */
  incomplete: string[];
  /** Sentence rows whose hash is not their article's. */
  stale: number;
}

export async function snapshot(where: string, storageOptions?: Record<string, string>): Promise<IndexSnapshot> {
  const store = await IndexStore.open(where, undefined, { storageOptions });
  try {
    const arts = await store.articles.query().select(['pmid', 'hash', 'file_seq', 'n_sentences', 'title']).toArray();
    const sents = await store.sentences.query().select(['pmid', 'idx', 'hash', 'text']).toArray();
    const articles = new Map<string, { hash: string; seq: number; n: number; title: string }>();
    const duplicatePmids: string[] = [];
    for (const r of arts) {
      const p = String(r.pmid);
      if (articles.has(p)) duplicatePmids.push(p);
      articles.set(p, {
        hash: String(r.hash),
        seq: Number(r.file_seq),
        n: Number(r.n_sentences),
        title: String(r.title),
      });
    }
    const sentences = new Map<string, string>();
    const duplicateSentences: string[] = [];
    const perPmid = new Map<string, number>();
    let stale = 0;
    for (const r of sents) {
      const key = `${r.pmid}#${r.idx}`;
      if (sentences.has(key)) duplicateSentences.push(key);
      sentences.set(key, String(r.text));
      if (articles.get(String(r.pmid))?.hash !== String(r.hash)) stale++;
      else perPmid.set(String(r.pmid), (perPmid.get(String(r.pmid)) ?? 0) + 1);
    }
    const incomplete = [...articles].filter(([p, a]) => (perPmid.get(p) ?? 0) !== a.n).map(([p]) => p);
    return { articles, sentences, duplicatePmids, duplicateSentences, incomplete, stale };
  } finally {
    store.close();
  }
}

/** Differences between two snapshots, as readable lines (empty: the same). */
export function diffSnapshots(a: IndexSnapshot, b: IndexSnapshot, limit = 10): string[] {
  const out: string[] = [];
  for (const [p, x] of a.articles) {
    const y = b.articles.get(p);
    if (!y) out.push(`PMID ${p} only in the first`);
    else if (x.hash !== y.hash)
      out.push(`PMID ${p}: hash ${x.hash.slice(0, 8)} (file ${x.seq}) vs ${y.hash.slice(0, 8)} (file ${y.seq})`);
  }
  for (const p of b.articles.keys()) if (!a.articles.has(p)) out.push(`PMID ${p} only in the second`);
  if (a.sentences.size !== b.sentences.size) out.push(`sentences: ${a.sentences.size} vs ${b.sentences.size}`);
  for (const [k, t] of a.sentences)
    if (b.sentences.get(k) !== t) {
      out.push(`sentence ${k} differs`);
      break;
    }
  return out.slice(0, limit);
}

export function problems(s: IndexSnapshot): string[] {
  const out: string[] = [];
  if (s.duplicatePmids.length)
    out.push(`${s.duplicatePmids.length} duplicate PMIDs (${s.duplicatePmids.slice(0, 5).join(', ')})`);
  if (s.duplicateSentences.length)
    out.push(`${s.duplicateSentences.length} duplicate sentence rows (${s.duplicateSentences.slice(0, 5).join(', ')})`);
  if (s.incomplete.length)
    out.push(
      `${s.incomplete.length} articles without exactly their sentences (${s.incomplete.slice(0, 5).join(', ')})`,
    );
  if (s.stale) out.push(`${s.stale} stale sentence rows`);
  return out;
}
