// Which of a query's terms the full-text leg asks for. A selected paragraph has a hundred distinct terms, and
// LanceDB's BM25 cost grows with every posting list it walks (most of all the long ones of common words), while the
// common words add almost nothing to the ranking (their IDF is near 0). So a query with more than `maxTerms`
// distinct terms keeps its `maxTerms` rarest ones in the index, by document frequencies estimated from an evenly
// spread sample of the articles' texts (read once per open table: `termSample`). Shorter queries go unchanged.
// No `vscode` import here.
import type * as lancedb from '@lancedb/lancedb';

/**
 * The default number of distinct terms a full-text query keeps (chosen with `npm run eval -- scifact --fts-terms …`
 * and `npm run bench -- index`: see the README's Index and Quality sections).
 */
export const FTS_MAX_TERMS = 40;

/** Rows read for the document-frequency estimate (all of them in a smaller table). */
export const TERM_SAMPLE_ROWS = 2000;

// LanceDB's English stop words (with `removeStopWords`) are dropped by the index itself; these are not worth a slot.
const STOP = new Set(
  (
    'a an and are as at be but by for if in into is it no not of on or such that the their then there these they this ' +
    'to was will with we our us i you he she its has have had were been being from than which who whom what when where ' +
    'while also can may might both each more most other some only over under after before during about between'
  ).split(' '),
);

/**
 * A word's key for counting: lower case, accents folded, a light English suffix strip, so that the forms LanceDB's
 * stemmer joins ("studies", "study"; "treated", "treating") mostly share one estimate. Undefined for stop words.
 */
export function termKey(word: string): string | undefined {
  let w = word.toLowerCase();
  if (/[^\x00-\x7f]/.test(w)) w = w.normalize('NFKD').replace(/\p{M}+/gu, '');
  if (!w || STOP.has(w)) return undefined;
  if (w.length > 4) {
    if (w.endsWith('ies')) w = w.slice(0, -3) + 'y';
    else if (w.endsWith('sses')) w = w.slice(0, -2);
    else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  }
  if (w.length > 5) {
    if (w.endsWith('ing')) w = w.slice(0, -3);
    else if (w.endsWith('ed')) w = w.slice(0, -2);
  }
  return w;
}

const WORD = /[\p{L}\p{N}]+/gu;

/** Document frequencies of term keys in a sample of the table's `text` column. */
export interface TermSample {
  /** rows the estimate was made from */
  docs: number;
  /** rows of the table when it was read */
  rows: number;
  df: Map<string, number>;
  /** how long reading and counting took */
  ms: number;
}

/** Count term keys over the given texts (each text counted once per key). */
export function countTerms(texts: Iterable<string>): { docs: number; df: Map<string, number> } {
  const df = new Map<string, number>();
  let docs = 0;
  for (const text of texts) {
    docs++;
    const seen = new Set<string>();
    for (const m of text.matchAll(WORD)) {
      const k = termKey(m[0]);
      if (k && !seen.has(k)) {
        seen.add(k);
        df.set(k, (df.get(k) ?? 0) + 1);
      }
    }
  }
  return { docs, df };
}

const samples = new WeakMap<lancedb.Table, Promise<TermSample>>();

/**
 * The document-frequency sample of a table (read once per open table object; `n` rows at evenly spaced offsets, all
 * rows when it has fewer). A table that changes later keeps its sample until it is opened again: an estimate of which
 * words are common does not move with one update file.
 */
export function termSample(table: lancedb.Table, n = TERM_SAMPLE_ROWS): Promise<TermSample> {
  let p = samples.get(table);
  if (!p) {
    p = readSample(table, n);
    samples.set(table, p);
    p.catch(() => samples.delete(table));
  }
  return p;
}

async function readSample(table: lancedb.Table, n: number): Promise<TermSample> {
  const t0 = performance.now();
  const rows = await table.countRows();
  let texts: string[] = [];
  if (rows > 0) {
    const take = Math.min(n, rows);
    const step = rows / take;
    const offsets = Array.from({ length: take }, (_, i) => Math.floor(i * step));
    const got =
      take === rows
        ? await table.query().select(['text']).toArray()
        : await table.takeOffsets(offsets).select(['text']).toArray();
    texts = got.map((r: Record<string, unknown>) => String(r.text ?? ''));
  }
  const { docs, df } = countTerms(texts);
  return { docs, rows, df, ms: performance.now() - t0 };
}

/** A query's distinct term keys with the first word written for each and how often it occurs. */
export function queryTerms(text: string): { key: string; word: string; tf: number; pos: number }[] {
  const by = new Map<string, { key: string; word: string; tf: number; pos: number }>();
  let pos = 0;
  for (const m of text.matchAll(WORD)) {
    const k = termKey(m[0]);
    if (!k) continue;
    const e = by.get(k);
    if (e) e.tf++;
    else by.set(k, { key: k, word: m[0], tf: 1, pos: pos++ });
  }
  return [...by.values()];
}

/**
 * The words of `text` a full-text query asks for: unchanged (`undefined`) when it has at most `max` distinct terms,
 * else one word for each of its `max` rarest terms by `df` (ties: more frequent in the query, then earlier), in the
 * order the query has them.
 */
export function pickTerms(text: string, max: number, df: (key: string) => number): string[] | undefined {
  const terms = queryTerms(text);
  if (!(max > 0) || terms.length <= max) return undefined;
  const kept = [...terms]
    .sort((a, b) => df(a.key) - df(b.key) || b.tf - a.tf || a.pos - b.pos)
    .slice(0, max)
    .sort((a, b) => a.pos - b.pos);
  return kept.map((t) => t.word);
}

/** How many distinct (non-stop-word) terms a query has: the number `pickTerms` compares with its maximum. */
export function distinctTerms(text: string): number {
  return queryTerms(text).length;
}
