// Citation completion as a service both clients can use (the editor's completion list and "Cite…" picker, the
// benchmark): where the key is typed, the sentence it cites, the bibliography from the cache (parsed once per
// version), the index's relevance for the sentence (asked once per sentence and bibliography: typing more of a key
// only filters again), and the ranked list (src/cite/complete.ts). Without an index or a model the bibliography is
// still offered, ranked by its words alone, and the note says why. No vscode.
import { errorText } from '../util/errors';
import type { DocKind } from '../cite/detect';
import { BibCache, type BibFileSource } from '../cite/bibcache';
import {
  BibIndex,
  citationAhead,
  citeSlot,
  citedSentence,
  rankCandidates,
  type CiteCandidate,
  type CiteSlot,
} from '../cite/complete';
import type { BibRecord } from '../cite/match';
import type { BibIds, CiteRelevance } from './cite-relevance';

export type RelevanceFn = (text: string, o: { k: number; bib?: BibIds }) => Promise<CiteRelevance>;

export interface CompleteRequest {
  kind: DocKind;
  text: string;
  /** the cursor */
  offset: number;
  /** LaTeX and Pandoc: the bibliography files the document names */
  bibs?: BibFileSource[];
  /** Manubot: the ids the manuscript knows (its catalog's records) */
  manubot?: BibRecord[];
  /** "Cite…" outside a citation group: rank for the sentence at the cursor with nothing typed */
  anywhere?: boolean;
}

export interface CompleteAnswer {
  /** the key being typed (undefined: "Cite…" outside a citation) */
  slot?: CiteSlot;
  sentence: string;
  items: CiteCandidate[];
  bibSize: number;
  /** why the index's ranking is missing or limited (no index yet, generated weights) */
  note?: string;
  errors: string[];
  ms: { bib: number; relevance: number; rank: number; total: number };
  /** the relevance query's own parts (absent when it was kept from an earlier request) */
  relevanceMs?: CiteRelevance['ms'];
}

export class CiteCompleter {
  private ids: { signature: string; ids: BibIds['ids'] } | undefined;
  private lex: { key: string; value: Map<number, number> } | undefined;
  private memo: { key: string; at: number; value: Promise<{ r?: CiteRelevance; note?: string }> }[] = [];

  constructor(
    private readonly relevance: RelevanceFn | undefined,
    readonly cache = new BibCache(),
    private readonly o: { k?: number; limit?: number } = {},
  ) {}

  /** Forget the relevance answers (the index or the model changed). */
  reset(): void {
    this.memo = [];
  }

  /** Was the relevance of this sentence asked already (and still kept)? */
  private asked(sentence: string, signature: string): boolean {
    const now = Date.now();
    return this.memo.some((m) => m.key === `${signature}\n${sentence}` && now - m.at < 60_000);
  }

  private ask(sentence: string, bib: BibIds): Promise<{ r?: CiteRelevance; note?: string }> {
    const key = `${bib.signature}\n${sentence}`;
    // kept a minute: an index built or pulled meanwhile is seen on the next sentence or soon after
    const now = Date.now();
    const hit = this.memo.find((m) => m.key === key && now - m.at < 60_000);
    if (hit) return hit.value;
    const value = this.relevance
      ? this.relevance(sentence, { k: this.o.k ?? 10, bib }).then(
          (r) => ({ r, note: r.note }),
          (e: unknown) => {
            // not kept: the next request asks again (an index built meanwhile, a query superseded by the sidebar's)
            this.memo = this.memo.filter((m) => m.value !== value);
            return { note: `Papers from the index unavailable: ${errorText(e)}` };
          },
        )
      : Promise.resolve({});
    this.memo = [{ key, at: now, value }, ...this.memo.filter((m) => m.key !== key)].slice(0, 8);
    return value;
  }

  private idsOf(signature: string, index: BibIndex): BibIds['ids'] {
    if (this.ids?.signature !== signature)
      this.ids = { signature, ids: index.records.map((x) => ({ pmid: x.pmid, doi: x.doi })) };
    return this.ids.ids;
  }

  /** The entries' lexical similarity to the sentence (kept while the writer types the key). */
  private lexical(sentence: string, signature: string, index: BibIndex): Map<number, number> {
    const key = `${signature}\n${sentence}`;
    if (this.lex?.key !== key) this.lex = { key, value: sentence.trim() ? index.lexical(sentence) : new Map() };
    return this.lex.value;
  }

  /**
   * The writer is typing a citation command (`\\cite` before its brace, `[` in Markdown): ask the index about the
   * sentence now, so that the list is ready when the key is typed. Nothing happens elsewhere.
   */
  prefetch(req: Omit<CompleteRequest, 'anywhere'>): boolean {
    const at = citationAhead(req.kind, req.text, req.offset);
    if (at === undefined) return false;
    const sentence = citedSentence(req.text, at, req.kind);
    if (!sentence.trim()) return false;
    let index: BibIndex;
    let signature: string;
    if (req.kind === 'manubot') {
      index = new BibIndex(req.manubot ?? []);
      signature = `manubot:${index.records.map((r) => r.key).join(' ')}`;
    } else {
      const c = this.cache.get(req.bibs ?? []);
      index = c.index;
      signature = c.signature;
    }
    void this.ask(sentence, { signature, ids: this.idsOf(signature, index) });
    return true;
  }

  async complete(req: CompleteRequest): Promise<CompleteAnswer | undefined> {
    const t0 = performance.now();
    const slot = citeSlot(req.kind, req.text, req.offset);
    if (!slot && !req.anywhere) return undefined;
    const at = slot ? slot.groupStart : req.offset;
    const sentence = citedSentence(req.text, at, req.kind);
    let index: BibIndex;
    let signature: string;
    let errors: string[] = [];
    if (req.kind === 'manubot') {
      index = new BibIndex(req.manubot ?? []);
      signature = `manubot:${index.records.map((r) => r.key).join(' ')}`;
    } else {
      const c = this.cache.get(req.bibs ?? []);
      index = c.index;
      signature = c.signature;
      errors = c.errors;
    }
    const t1 = performance.now();
    const typed = slot?.typed ?? '';
    const allowed = index.filter(typed);
    const asked = sentence.trim() ? this.asked(sentence, signature) : true;
    const { r, note } = sentence.trim()
      ? await this.ask(sentence, { signature, ids: this.idsOf(signature, index) })
      : { r: undefined, note: undefined };
    const t2 = performance.now();
    const items = rankCandidates({
      bib: index,
      allowed,
      typed,
      sentence,
      exclude: slot?.keys ?? [],
      hits: r?.hits ?? [],
      dense: r?.dense,
      lexical: this.lexical(sentence, signature, index),
      limit: this.o.limit,
    });
    const t3 = performance.now();
    return {
      slot,
      sentence,
      items,
      bibSize: index.size,
      note,
      errors,
      ms: { bib: t1 - t0, relevance: t2 - t1, rank: t3 - t2, total: t3 - t0 },
      relevanceMs: asked ? undefined : r?.ms,
    };
  }
}
