// Retrieval metrics with the standard (trec_eval / BEIR pytrec_eval) definitions.
//   qrels: docId → graded relevance (> 0 relevant). run: ranked docIds (best first).
// nDCG@k: DCG = Σ_{i≤k} rel_i / log2(i+1) with linear gain (trec_eval's ndcg_cut), IDCG from the ideal ordering of
// the judged relevances; Recall@k: |relevant ∩ top k| / |relevant|; MRR@k: 1 / rank of the first relevant in top k.
// Queries without any relevant document are skipped by the mean (as BEIR does, since they are not in qrels).

export type Qrels = Map<string, number>;

export function ndcgAt(run: string[], qrels: Qrels, k: number): number {
  let dcg = 0;
  const seen = new Set<string>();
  let i = 0;
  for (const id of run) {
    if (i >= k) break;
    if (seen.has(id)) continue; // a document counts once
    seen.add(id);
    const rel = qrels.get(id) ?? 0;
    if (rel > 0) dcg += rel / Math.log2(i + 2);
    i++;
  }
  const ideal = [...qrels.values()]
    .filter((r) => r > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  let idcg = 0;
  ideal.forEach((rel, j) => {
    idcg += rel / Math.log2(j + 2);
  });
  return idcg > 0 ? dcg / idcg : 0;
}

export function recallAt(run: string[], qrels: Qrels, k: number): number {
  const relevant = [...qrels.entries()].filter(([, r]) => r > 0).map(([id]) => id);
  if (!relevant.length) return 0;
  const top = new Set(run.slice(0, k));
  return relevant.filter((id) => top.has(id)).length / relevant.length;
}

export function mrrAt(run: string[], qrels: Qrels, k: number): number {
  for (let i = 0; i < Math.min(k, run.length); i++) if ((qrels.get(run[i]) ?? 0) > 0) return 1 / (i + 1);
  return 0;
}

export interface MeanMetrics {
  ndcg10: number;
  recall100: number;
  mrr10: number;
  queries: number;
}

/** Mean over the queries that have at least one relevant judgement. */
export function evaluateRuns(runs: Map<string, string[]>, qrels: Map<string, Qrels>): MeanMetrics {
  let n = 0,
    nd = 0,
    rc = 0,
    mr = 0;
  for (const [qid, q] of qrels) {
    if (![...q.values()].some((r) => r > 0)) continue;
    const run = runs.get(qid) ?? [];
    nd += ndcgAt(run, q, 10);
    rc += recallAt(run, q, 100);
    mr += mrrAt(run, q, 10);
    n++;
  }
  return { ndcg10: n ? nd / n : 0, recall100: n ? rc / n : 0, mrr10: n ? mr / n : 0, queries: n };
}
