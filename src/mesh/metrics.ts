// Multi-label metrics for MeSH indexing (as BioASQ Task A reports them): micro precision/recall/F1 over all
// (document, label) pairs, and example-based F1 (mean over documents of 2|P∩G| / (|P|+|G|)).

export interface MultiLabelScores {
  MiP: number;
  MiR: number;
  MiF: number;
  EBF: number; // example-based F1
  docs: number;
  tp: number;
  fp: number;
  fn: number;
}

/** `predicted[i]` and `gold[i]` are the label sets of document i. Empty sets: P = R = F = 0 where undefined;
 *  a document with no gold and no prediction counts F1 = 1 in EBF. */
export function multiLabelScores(predicted: Iterable<string>[], gold: Iterable<string>[]): MultiLabelScores {
  if (predicted.length !== gold.length)
    throw new Error(`multiLabelScores: ${predicted.length} predictions for ${gold.length} documents`);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let ebf = 0;
  for (let i = 0; i < gold.length; i++) {
    const p = new Set(predicted[i]);
    const g = new Set(gold[i]);
    let hit = 0;
    for (const x of p) if (g.has(x)) hit++;
    tp += hit;
    fp += p.size - hit;
    fn += g.size - hit;
    ebf += p.size + g.size === 0 ? 1 : (2 * hit) / (p.size + g.size);
  }
  const MiP = tp + fp ? tp / (tp + fp) : 0;
  const MiR = tp + fn ? tp / (tp + fn) : 0;
  const MiF = MiP + MiR ? (2 * MiP * MiR) / (MiP + MiR) : 0;
  return { MiP, MiR, MiF, EBF: gold.length ? ebf / gold.length : 0, docs: gold.length, tp, fp, fn };
}
