// Citation completion, the parts that need no index: where a key is being typed (by syntax: ./syntax/*), the sentence
// it cites, the bibliography prepared for filtering and lexical ranking (built once per version of the file: see
// bibcache.ts), and the one order of the list: reciprocal-rank fusion of the index's hybrid ranking of the sentence,
// the dense similarity of the bibliography's own entries (when the index holds their vectors and the weights are
// real) and their lexical similarity to the sentence. Pure.
import type { DocKind } from './detect';
import { queryText } from './detect';
import type { CiteSlot } from './syntax/common';
import { latexCiteSlot } from './syntax/latex';
import { pandocCiteSlot } from './syntax/pandoc';
import { manubotCiteSlot } from './syntax/manubot';
import { findRecords, type BibRecord } from './match';
import { deTex, normDoi, normTitle, type PaperMeta } from './paper';
import { terms } from '../index/terms';

export type { CiteSlot };

/** The citation key being typed at `offset`, by the document's syntax (plain text has none). */
export function citeSlot(kind: DocKind, text: string, offset: number): CiteSlot | undefined {
  if (kind === 'latex') return latexCiteSlot(text, offset);
  if (kind === 'pandoc') return pandocCiteSlot(text, offset);
  if (kind === 'manubot') return manubotCiteSlot(text, offset);
  return undefined;
}

/**
 * Where a citation is about to be typed (`\\cite`, `\\citep`… before its brace; `[` in Markdown): the offset the
 * citation group will start at, so that the sentence's relevance can be asked before the key is typed.
 */
export function citationAhead(kind: DocKind, text: string, offset: number): number | undefined {
  const before = text.slice(Math.max(0, offset - 40), offset);
  if (kind === 'latex') {
    const m = /\\[A-Za-z]*[Cc]it[A-Za-z]*\*?$/.exec(before);
    return m ? offset - m[0].length : undefined;
  }
  if (kind === 'pandoc' || kind === 'manubot') {
    const m = /\[@?$/.exec(before);
    return m ? offset - m[0].length : undefined;
  }
  return undefined;
}

/**
 * The sentence a citation at `at` cites, as query text: the one ending at the citation (`… heatmaps \cite{`), or, when
 * the citation opens a sentence or follows its full stop, the one before it. Markup and citations are removed.
 */
export function citedSentence(text: string, at: number, kind: DocKind): string {
  const para = Math.max(text.lastIndexOf('\n\n', at - 1), 0);
  const before = text.slice(para, at);
  const clean = (s: string): string => queryText(s, kind);
  // sentence ends: a full stop, question or exclamation mark followed by a space (not "e.g.", "Fig.", "et al.")
  const ends = [...before.matchAll(/[.!?](?=\s+\S)/g)]
    .map((m) => m.index ?? 0)
    .filter((i) => !/(?:\b(?:e\.g|i\.e|al|Fig|fig|Eq|eq|vs|cf|approx|resp|ca))$/.test(before.slice(0, i)));
  let from = 0;
  for (let i = ends.length - 1; i >= 0; i--) {
    const s = clean(before.slice(ends[i]! + 1));
    if (s.split(/\s+/).filter((w) => /\p{L}/u.test(w)).length >= 3) {
      from = ends[i]! + 1;
      break;
    }
  }
  return clean(before.slice(from)).slice(-600);
}

/** Lower case, diacritics folded (text already free of LaTeX). */
function foldPlain(s: string): string {
  const l = s.toLowerCase();
  return /[^\x00-\x7f]/.test(l) ? l.normalize('NFKD').replace(/[\u0300-\u036f]/g, '') : l;
}

/** Text of a BibTeX value without LaTeX (deTex only where there is markup: most titles have none). */
function plain(s: string): string {
  return /[\\{}$~]/.test(s) ? deTex(s) : s;
}

function fold(s: string): string {
  return foldPlain(plain(s));
}

/** A bibliography entry prepared for completion. */
export interface BibItem {
  record: BibRecord;
  /** "\n"-separated lower-cased key, author family names and title words (what typing filters on) */
  words: string;
  /** the distinct lexical terms of the title (and keywords) */
  terms: string[];
  firstAuthor?: string;
  title: string;
}

/** Prepared entries by record: an entry that did not change keeps its preparation (BibCache reuses its record). */
const PREPARED = new WeakMap<BibRecord, BibItem>();

function prepare(r: BibRecord): BibItem {
  const done = PREPARED.get(r);
  if (done) return done;
  const title = r.rawTitle ? plain(r.rawTitle) : '';
  const t = [...new Set(terms(r.fields?.['keywords'] ? `${title} ${plain(r.fields['keywords'])}` : title))];
  const words = `\n${r.key.toLowerCase()}\n${[...r.families, title]
    .map(foldPlain)
    .join('\n')
    .replace(/[^\p{L}\p{N}\n]+/gu, '\n')}`;
  const it: BibItem = { record: r, words, terms: t, firstAuthor: r.families[0], title };
  PREPARED.set(r, it);
  return it;
}

/**
 * A bibliography prepared once per version of its files: items for filtering, postings for the lexical score, and
 * PMID/DOI/title maps that find an index paper's entry without a scan.
 */
export class BibIndex {
  readonly items: BibItem[];
  private readonly postings = new Map<string, number[]>();
  private readonly byPmid = new Map<string, number[]>();
  private readonly byDoi = new Map<string, number[]>();
  private readonly byTitle = new Map<string, number[]>();
  /** entry positions in key order (the list's order where the sentence gives no evidence) */
  readonly byKey: Int32Array;

  constructor(readonly records: BibRecord[]) {
    const push = (m: Map<string, number[]>, k: string | undefined, i: number): void => {
      if (!k) return;
      const l = m.get(k);
      if (l) l.push(i);
      else m.set(k, [i]);
    };
    this.items = records.map((r, i) => {
      const it = prepare(r);
      for (const w of it.terms) push(this.postings, w, i);
      push(this.byPmid, r.pmid, i);
      push(this.byDoi, r.doi, i);
      push(this.byTitle, r.title, i);
      return it;
    });
    const lower = this.items.map((it) => it.record.key.toLowerCase());
    this.byKey = Int32Array.from(this.items.keys()).sort((a, b) =>
      lower[a]! < lower[b]! ? -1 : lower[a]! > lower[b]! ? 1 : a - b,
    );
  }

  get size(): number {
    return this.items.length;
  }

  /** Items whose key, an author's family name or a title word starts with `typed` (all when nothing is typed). */
  filter(typed: string): number[] {
    const q = fold(typed.trim());
    const out: number[] = [];
    for (let i = 0; i < this.items.length; i++) {
      if (!q) {
        out.push(i);
        continue;
      }
      if (this.items[i]!.words.includes(`\n${q}`)) out.push(i);
    }
    return out;
  }

  /** idf of a term over the bibliography (plus one document: a paper of the index scored alongside) */
  private idf(t: string): number {
    return Math.log(1 + (this.items.length + 1) / ((this.postings.get(t)?.length ?? 0) + 1));
  }

  /** Lexical similarity of every entry to a sentence: Σ idf of the shared terms, damped by the entry's length. */
  lexical(sentence: string): Map<number, number> {
    const out = new Map<number, number>();
    for (const t of new Set(terms(sentence))) {
      const post = this.postings.get(t);
      if (!post) continue;
      const idf = this.idf(t);
      for (const i of post) out.set(i, (out.get(i) ?? 0) + idf);
    }
    for (const [i, s] of out) out.set(i, s / Math.sqrt(1 + this.items[i]!.terms.length / 20));
    return out;
  }

  /** The same similarity for a text outside the bibliography (a paper of the index: its title). */
  lexicalOf(sentence: string, text: string): number {
    const own = new Set(terms(text));
    let s = 0;
    for (const t of new Set(terms(sentence))) if (own.has(t)) s += this.idf(t);
    return s / Math.sqrt(1 + own.size / 20);
  }

  /** The entry of the bibliography that holds this paper (the rules of match.ts: PMID, DOI, title + year). */
  entryOf(paper: Pick<PaperMeta, 'pmid' | 'doi' | 'title' | 'year'>): number | undefined {
    const cand = new Set<number>([
      ...(this.byPmid.get(paper.pmid) ?? []),
      ...(this.byDoi.get(normDoi(paper.doi) ?? '') ?? []),
      ...(this.byTitle.get(normTitle(paper.title)) ?? []),
    ]);
    if (!cand.size) return undefined;
    const list = [...cand].sort((a, b) => a - b);
    const recs = list.map((i) => this.records[i]!);
    const m = findRecords(recs, paper)[0];
    return m ? list[recs.indexOf(m.record)] : undefined;
  }
}

/** A paper of the index found for the sentence (hybrid search order). */
export interface IndexPaper extends PaperMeta {
  rank: number;
  /** cosine with the sentence (the dense leg's score), when meaningful */
  dense?: number;
}

export interface CiteCandidate {
  source: 'bibliography' | 'index';
  /** bibliography: the entry's key (Manubot: the id) */
  key?: string;
  /** the bibliography file (bibliography items) */
  file?: string;
  /** index papers (and bibliography entries the index also holds) */
  paper?: PaperMeta;
  title: string;
  firstAuthor?: string;
  year?: number;
  /** fused relevance to the sentence (0: none known) */
  score: number;
  /** what the rank rests on, for the list: "index #2", "semantic #1", "words #3" */
  why: string[];
}

export interface RankInput {
  bib: BibIndex;
  /** bibliography entries that pass the typed filter */
  allowed: number[];
  /** the typed text (filters index papers too) */
  typed: string;
  /** the sentence (index papers' titles are scored against it like the entries) */
  sentence: string;
  /** keys already in the group */
  exclude: string[];
  /** index papers for the sentence, best first */
  hits: IndexPaper[];
  /** dense similarity of bibliography entries to the sentence (entry → cosine), when known */
  dense?: Map<number, number>;
  /** lexical similarity of bibliography entries to the sentence (BibIndex.lexical) */
  lexical: Map<number, number>;
  limit?: number;
  /** RRF constant (the index's hybrid search uses 60 too) */
  k?: number;
}

/** Does an index paper match what is typed (an author's family name, a title word, `pubmed:`/PMID, `doi:`)? */
export function paperMatches(p: PaperMeta, typed: string): boolean {
  const q = fold(typed.trim());
  if (!q) return true;
  if (`pubmed:${p.pmid}`.startsWith(q) || p.pmid.startsWith(q)) return true;
  if (p.doi && `doi:${normDoi(p.doi)}`.startsWith(q)) return true;
  const words = [
    ...p.authors.flatMap((a) => fold(a).split(/\s+/).slice(0, 1)),
    ...fold(p.title).split(/[^\p{L}\p{N}]+/u),
  ];
  return words.some((w) => w && w.startsWith(q));
}

interface Scored {
  c: CiteCandidate;
  index?: number;
  dense?: number;
  lex?: number;
}

/** How deep each ranking is fused: an entry below this rank in every ranking counts as no evidence. */
export const LEG_DEPTH = 200;

/** The `n` best of `items` by `score` (descending; ties by position), without sorting them all. */
function best<T>(items: Iterable<T>, score: (t: T) => number | undefined, n: number): T[] {
  const top: { t: T; s: number; o: number }[] = [];
  let o = 0;
  for (const t of items) {
    const s = score(t);
    o++;
    if (s === undefined || (top.length >= n && s <= top[top.length - 1]!.s)) continue;
    let lo = 0;
    let hi = top.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (top[mid]!.s >= s) lo = mid + 1;
      else hi = mid;
    }
    top.splice(lo, 0, { t, s, o });
    if (top.length > n) top.pop();
  }
  return top.map((x) => x.t);
}

/**
 * The completion list in its one order. Candidates are the bibliography's entries (those passing the typed filter)
 * and the index's papers for the sentence (an index paper in the bibliography is one candidate: the entry). Three
 * rankings of the candidates are fused by reciprocal rank (Σ 1/(k + rank), each ranking's best LEG_DEPTH): the index's
 * hybrid search rank, the dense similarity to the sentence (entries the index holds, and the index's papers; only with
 * real weights), and the lexical similarity of titles to the sentence (idf over the bibliography). Candidates with no
 * evidence follow, by key. Ties: the bibliography's entry first, then the newer, then the key.
 */
export function rankCandidates(inp: RankInput): CiteCandidate[] {
  const k = inp.k ?? 60;
  const limit = inp.limit ?? 100;
  const bib = inp.bib;
  const excluded = new Set(inp.exclude.map((x) => x.toLowerCase()));
  const allowed = new Uint8Array(bib.size);
  for (const i of inp.allowed) if (!excluded.has(bib.items[i]!.record.key.toLowerCase())) allowed[i] = 1;
  const entries = new Map<number, Scored>();
  const entry = (i: number): Scored => {
    let s = entries.get(i);
    if (!s) {
      const it = bib.items[i]!;
      s = {
        c: {
          source: 'bibliography',
          key: it.record.key,
          file: it.record.file,
          title: it.title,
          firstAuthor: it.firstAuthor,
          year: it.record.year,
          score: 0,
          why: [],
        },
        dense: inp.dense?.get(i),
        lex: inp.lexical.get(i),
      };
      entries.set(i, s);
    }
    return s;
  };
  const papers: Scored[] = [];
  for (const h of inp.hits) {
    const { rank, dense, ...paper } = h;
    const e = bib.entryOf(paper);
    if (e !== undefined) {
      if (!allowed[e]) continue;
      const s = entry(e);
      s.index = rank;
      s.c.paper = paper;
      s.dense ??= dense;
      continue;
    }
    if (!paperMatches(paper, inp.typed)) continue;
    papers.push({
      c: {
        source: 'index',
        paper,
        title: paper.title,
        firstAuthor: paper.authors[0]?.replace(/\s+[A-Z]{1,4}$/, ''),
        year: paper.year,
        score: 0,
        why: [],
      },
      index: rank,
      dense,
      lex: bib.lexicalOf(inp.sentence, paper.title),
    });
  }
  // each ranking over the entries (allowed) and the index's papers, best LEG_DEPTH
  function* fromMap(m: Map<number, number> | undefined, positive = false): Iterable<[number, number]> {
    if (m) for (const e of m) if (allowed[e[0]] && (!positive || e[1] > 0)) yield e;
  }
  const legs: [string, Iterable<[number, number]>, (s: Scored) => number | undefined][] = [
    ['index', [], (s) => (s.index === undefined ? undefined : -s.index)],
    ['semantic', fromMap(inp.dense), (s) => s.dense],
    ['words', fromMap(inp.lexical, true), (s) => (s.lex && s.lex > 0 ? s.lex : undefined)],
  ];
  for (const [name, ofEntries, score] of legs) {
    const topEntries = best(ofEntries, ([, v]) => v, LEG_DEPTH).map(([i]) => entry(i));
    const pool = new Set<Scored>([...topEntries, ...entries.values(), ...papers]);
    best(pool, score, LEG_DEPTH).forEach((s, r) => {
      s.c.score += 1 / (k + r + 1);
      s.c.why.push(`${name} #${r + 1}`);
    });
  }
  const withEvidence = [...entries.values(), ...papers].map((s) => s.c).filter((c) => c.score > 0);
  withEvidence.sort(
    (a, b) =>
      b.score - a.score ||
      (a.source === b.source ? 0 : a.source === 'bibliography' ? -1 : 1) ||
      (b.year ?? 0) - (a.year ?? 0) ||
      (a.key ?? a.title).localeCompare(b.key ?? b.title),
  );
  const out = withEvidence.slice(0, limit);
  for (let j = 0; j < bib.byKey.length && out.length < limit; j++) {
    const i = bib.byKey[j]!;
    if (!allowed[i]) continue;
    const s = entry(i);
    if (s.c.score === 0) out.push(s.c);
  }
  return out;
}
