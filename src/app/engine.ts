// The ONE place where the extension meets the engine: inference worker (src/inference), PubMed index (src/index) and
// MeSH engine (src/mesh). No `vscode` import here: the extension passes plain options and a logger, so this module
// can be exercised from Node as well. Everything loads lazily: the worker and model on the first query, the MeSH
// vocabulary on the first MeSH request, the index when first searched.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Device, Embedder, EmbedProgress, TextKind } from '../inference/types';
import type { IndexStore, ArticleInfo } from '../index/store';
import type { SearchHit, SentenceHit } from '../index/search';
import type { MeshVocab } from '../mesh/vocab';
import type { EngineStatusView, MeshView, PaperView, SentenceView } from './views';
import type { ModelIdentity } from '../inference/types';
import type { PullProgress, PullResult } from '../release/pull';
import type { FetchPubmedProgress, FetchSummary } from '../pubmed/fetch';
import type { IndexCurrency } from '../index/currency';
import { paperMeta, type PaperMeta } from '../cite/paper';
import { isModelDamaged, readIndexMeta } from './index-model';
import { errorText } from '../util/errors';

export interface EngineOptions {
  modelDir: string;
  indexDir: string;
  device: Device;
  threads: number;
  queryPrefix: boolean;
  /** The bundled worker (dist/worker.js beside dist/extension.js). */
  workerPath?: string;
  /** MeSH vocabulary source; default: the imported cache or the shipped MeSH files. */
  meshVocab?: string;
  /** Where NLM update files are kept for "Update the index" (default $BIOHICL_HOME/pubmed). */
  pubmedDir?: string;
}

/** What a release is, read from its release.json before anything is downloaded. */
export interface ReleaseSummary {
  where: string;
  tag: string;
  created: string;
  files: number;
  totalBytes: number;
  counts: { articles: number; sentences: number };
  pubmedCount: number;
  pubmedLast?: string;
  model: ModelIdentity;
}

export interface UpdateOutcome {
  /** What happened, in one sentence. */
  message: string;
  /** The index's last PubMed file before, and the update files applied (names). */
  after: string;
  applied: string[];
  fetched: FetchSummary;
  /** The update files that failed to download (their messages). */
  failures: { file: string; message: string }[];
}

export interface QueryCounts {
  papers: number;
  mesh: number;
  sentences: number;
}

export interface QueryOutcome {
  papers: PaperView[];
  mesh: MeshView[];
  sentences: SentenceView[];
  /** Where the sentences came from (the sentence index, or the best papers' abstracts embedded now). */
  sentenceScope?: string;
  status: EngineStatusView;
  ms: number;
  /** An early answer (given to `onPartial`): what is still to come. */
  pending?: PendingPart[];
}

/** Parts of an answer that may follow an early one: the MeSH terms; the ranking with the model (papers in full-text order until then). */
export type PendingPart = 'mesh' | 'ranking';

/** What a promise resolved to, once it has (status() reports what is loaded without waiting for what is loading). */
const settled = new WeakMap<Promise<unknown>, unknown>();
const failed = new WeakSet<Promise<unknown>>();
function track<T>(p: Promise<T>): Promise<T> {
  p.then(
    (v) => settled.set(p, v),
    () => failed.add(p),
  );
  return p;
}
function ifSettled<T>(p: Promise<T> | undefined): T | undefined {
  return p ? (settled.get(p) as T | undefined) : undefined;
}

export interface Logger {
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
}

export type ProblemAction = 'buildIndex' | 'chooseModel' | 'remakeModel' | 'releaseModel' | 'getPubmedIndex';

/** What a problem knows beyond its message (for the ways out the editor offers). */
export interface ProblemInfo {
  /** the underlying error message */
  raw?: string;
  /** remakeModel: the damaged model folder */
  modelDir?: string;
  /** releaseModel: the release refused, the model it needs, a folder on this computer that holds that model */
  release?: ReleaseSummary;
  matchingModelDir?: string;
  /** releaseModel: the registry id of the release's model when it can be fetched (biohicl-base, …) */
  fetchId?: string;
}

/** A problem the user can act on: the message says what to do; `action` names the command that fixes it. */
export class EngineProblem extends Error {
  constructor(
    message: string,
    readonly action?: ProblemAction,
    readonly info: ProblemInfo = {},
  ) {
    super(message);
  }
}

/** Wraps the worker embedder: remembers the last query vector, so papers, sentences and MeSH embed the text once. */
class MemoEmbedder implements Embedder {
  private last: { key: string; vecs: Promise<Float32Array[]> } | undefined;
  constructor(readonly inner: Embedder) {}
  get identity() {
    return this.inner.identity;
  }
  get report() {
    return this.inner.report;
  }
  embed(texts: string[], kind: TextKind, onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
    if (kind !== 'query' || texts.length !== 1) return this.inner.embed(texts, kind, onProgress);
    const key = texts[0] ?? '';
    if (this.last?.key === key) return this.last.vecs;
    // One channel for the sidebar's queries: a newer selection supersedes a query the worker has not started yet.
    const inner = this.inner as Embedder & {
      embed(
        t: string[],
        k: TextKind,
        p?: (p: EmbedProgress) => void,
        o?: { channel?: string },
      ): Promise<Float32Array[]>;
    };
    const vecs = inner.embed(texts, kind, onProgress, { channel: 'sidebar' });
    this.last = { key, vecs };
    vecs.catch(() => {
      if (this.last?.key === key) this.last = undefined;
    });
    return vecs;
  }
  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

export class Engine {
  private embedder: Promise<MemoEmbedder> | undefined;
  private store: Promise<IndexStore> | undefined;
  private vocab: Promise<MeshVocab> | undefined;
  private indexSize: number | undefined;
  private currency: IndexCurrency | undefined;
  private readonly warmed = new WeakSet<IndexStore>();

  constructor(
    private opts: EngineOptions,
    private readonly log: Logger,
  ) {}

  get options(): Readonly<EngineOptions> {
    return this.opts;
  }

  /** Apply new options: restart the worker and/or reopen the index only when their inputs changed. */
  async reconfigure(next: EngineOptions): Promise<void> {
    const prev = this.opts;
    this.opts = next;
    if (
      prev.modelDir !== next.modelDir ||
      prev.device !== next.device ||
      prev.threads !== next.threads ||
      prev.queryPrefix !== next.queryPrefix
    ) {
      await this.disposeEmbedder();
      this.log.info(`engine: worker will restart (model ${next.modelDir}, device ${next.device})`);
    }
    if (prev.indexDir !== next.indexDir) this.closeStore();
    if (prev.meshVocab !== next.meshVocab) this.vocab = undefined;
  }

  private getEmbedder(): Promise<MemoEmbedder> {
    if (!this.embedder) {
      const o = this.opts;
      this.embedder = (async () => {
        if (!o.modelDir || !fs.existsSync(path.join(o.modelDir, 'manifest.json'))) {
          throw new EngineProblem(
            o.modelDir ? `No converted model in ${o.modelDir} (no manifest.json).` : 'No model chosen yet.',
            'chooseModel',
          );
        }
        const { openEmbedder } = await import('../inference/client');
        const t0 = Date.now();
        const e = await openEmbedder({
          modelDir: o.modelDir,
          device: o.device,
          threads: o.threads || undefined,
          queryPrefix: o.queryPrefix,
          workerPath: o.workerPath && fs.existsSync(o.workerPath) ? o.workerPath : undefined,
        }).catch((err: unknown) => {
          // A model file that differs from its manifest (exit code 4 in the CLI): say it in the editor's terms.
          if (!isModelDamaged(err)) throw err;
          const raw = errorText(err);
          throw new EngineProblem(
            `The model in ${o.modelDir} is damaged: a file differs from its manifest (${damageIn(raw)}). ` +
              'Nothing was loaded from it. Make the model again (it is rebuilt from where it came from), or choose another model.',
            'remakeModel',
            { raw, modelDir: o.modelDir },
          );
        });
        const r = e.report;
        this.log.info(
          `engine: model ${e.identity.repo}@${e.identity.revision}${e.identity.generated ? ' (GENERATED weights)' : ''} loaded in ${Date.now() - t0} ms; provider ${r.provider} (requested ${r.requested})${r.fallbackReason ? `, fallback: ${r.fallbackReason}` : ''}; ${r.precision}, ${r.threads} threads, onnxruntime ${r.ortVersion}, ${path.basename(r.modelFile)}`,
        );
        return new MemoEmbedder(e);
      })();
      track(this.embedder);
      this.embedder.catch(() => {
        this.embedder = undefined;
      });
    }
    return this.embedder;
  }

  private getStore(): Promise<IndexStore> {
    if (!this.store) {
      const dir = this.opts.indexDir;
      this.store = (async () => {
        if (!fs.existsSync(path.join(dir, 'meta.json'))) {
          throw new EngineProblem(
            `No PubMed index at ${dir}. Get a published one with “BioHiCL: Get the PubMed index”, or build one from PubMed files (XML, MEDLINE .nbib/.txt, CSL-JSON, BibTeX) with “BioHiCL: Build index from files”.`,
            'buildIndex',
          );
        }
        const { IndexStore } = await import('../index/store');
        const s = await IndexStore.open(dir, undefined);
        this.indexSize = (await s.counts()).articles;
        try {
          const { indexCurrency } = await import('../index/currency');
          this.currency = await indexCurrency(s);
        } catch (e) {
          this.currency = undefined;
          this.log.warn(`engine: could not tell how current the index is: ${errorText(e)}`);
        }
        this.log.info(
          `engine: index ${dir}: ${this.indexSize} papers, model ${s.identity.repo}${s.identity.generated ? ' (generated)' : ''}${this.currency ? `; ${this.currency.label}` : ''}`,
        );
        return s;
      })();
      track(this.store);
      this.store.catch(() => {
        this.store = undefined;
      });
    }
    return this.store;
  }

  /** The MeSH vocabulary and its matcher, loaded in slices that leave the event loop free (answers keep flowing). */
  private getVocab(): Promise<MeshVocab> {
    if (!this.vocab) {
      this.vocab = (async () => {
        const { loadVocab } = await import('../mesh/vocab');
        const { matcherForAsync } = await import('../mesh/lexical');
        const t0 = Date.now();
        const v = await loadVocab(this.opts.meshVocab);
        const t1 = Date.now();
        await matcherForAsync(v);
        this.log.info(`engine: MeSH vocabulary loaded in ${t1 - t0} ms, its matcher built in ${Date.now() - t1} ms`);
        return v;
      })();
      track(this.vocab);
      this.vocab.catch(() => {
        this.vocab = undefined;
      });
    }
    return this.vocab;
  }

  /**
   * Start the worker and open the index ahead of the first query (no error surfaces here); the MeSH vocabulary
   * follows once both are there, so that it never delays the first papers.
   */
  warmUp(): void {
    const e = this.getEmbedder();
    const s = this.getStore();
    const warm = s.then(
      async (st) => {
        if (this.warmed.has(st)) return;
        this.warmed.add(st);
        const t0 = Date.now();
        await (await import('../index/search')).warmSearch(st);
        this.log.info(`engine: index search warmed up in ${Date.now() - t0} ms`);
      },
      () => undefined,
    );
    void Promise.allSettled([e, warm]).then(() => this.getVocab().catch(() => undefined));
  }

  /** What the sidebar shows about the engine, without starting anything that is not started. */
  async status(): Promise<EngineStatusView> {
    const notes: string[] = [];
    const s: EngineStatusView = { generated: false, notes };
    const e = ifSettled(this.embedder);
    if (e) {
      s.provider = e.report.provider;
      s.fallbackReason = e.report.fallbackReason;
      s.model = `${e.identity.repo}${e.identity.revision && e.identity.revision !== 'main' ? `@${e.identity.revision.slice(0, 10)}` : ''}`;
      s.generated = e.identity.generated;
    } else if (this.opts.modelDir && fs.existsSync(path.join(this.opts.modelDir, 'manifest.json'))) {
      try {
        const { readManifest } = await import('../inference/manifest');
        const m = readManifest(this.opts.modelDir);
        s.model = m.source.repo || path.basename(this.opts.modelDir);
        s.generated = m.source.generated;
      } catch {
        /* shown once loaded */
      }
    }
    const st = ifSettled(this.store);
    if (st) {
      s.indexSize = this.indexSize;
      s.indexModel = st.identity.repo;
      if (st.identity.generated) s.generated = true;
      const c = this.currency;
      if (c)
        s.currency = {
          kind: c.kind,
          label: c.label,
          details: c.details,
          lastFile: c.lastFileName,
          appliedAt: c.appliedAt,
          release: c.release?.tag,
        };
    }
    return s;
  }

  /** The status with the index opened (read-only) if it can be: after a build, a pull or an update. */
  async statusWithIndex(): Promise<EngineStatusView> {
    await this.getStore().catch(() => undefined);
    await this.embedder?.catch(() => undefined);
    return this.status();
  }

  /** How current the index is (opens it read-only). */
  async indexCurrency(): Promise<IndexCurrency> {
    await this.getStore();
    return this.currency!;
  }

  /**
   * Papers, MeSH terms and similar sentences for a passage of the writer's text. Nothing leaves the machine.
   * `onPartial` gets an early answer when a part is still loading: the papers and sentences while the MeSH vocabulary
   * loads (`pending: ['mesh']`), and, while the model loads on the first query, the full-text papers and sentences
   * (`pending: ['ranking', 'mesh']`; with generated weights that already is the final ranking).
   */
  async query(
    text: string,
    counts: QueryCounts,
    isStale: () => boolean = () => false,
    onPartial?: (early: QueryOutcome) => void,
  ): Promise<QueryOutcome | undefined> {
    try {
      return await this.runQuery(text, counts, isStale, onPartial);
    } catch (e) {
      // A newer selection superseded this query in the worker: not an error, the newer query answers.
      if ((e as { code?: string }).code === 'superseded') return undefined;
      throw e;
    }
  }

  private async runQuery(
    text: string,
    counts: QueryCounts,
    isStale: () => boolean,
    onPartial?: (early: QueryOutcome) => void,
  ): Promise<QueryOutcome | undefined> {
    const t0 = Date.now();
    const embedderP = this.getEmbedder();
    const storeP = this.getStore();
    embedderP.catch(() => undefined); // told below, after the store
    const { search, similarSentences, GENERATED_NOTE } = await import('../index/search');
    // (not when the model has already failed: its problem is the answer)
    if (onPartial && !ifSettled(embedderP) && !failed.has(embedderP)) {
      // The model is still loading (first query): the index answers alone first, in full-text order.
      const store = await storeP.catch(() => undefined);
      if (store && !ifSettled(embedderP) && !failed.has(embedderP) && !isStale()) {
        const [papers, sentences] = await Promise.all([
          search(store, undefined, text, { k: counts.papers, mode: 'fts' }),
          counts.sentences > 0 ? similarSentences(store, undefined, text, { k: counts.sentences }) : undefined,
        ]);
        if (isStale()) return undefined;
        // (the sidebar says that the ranking with the model follows: `pending`)
        const notes = [
          ...(store.identity.generated ? [GENERATED_NOTE] : []),
          ...(sentences?.note ? [sentences.note] : []),
        ];
        const early = await this.outcome(store, papers.hits, sentences, [], notes, t0);
        if (isStale()) return undefined;
        onPartial({ ...early, pending: counts.mesh > 0 ? ['ranking', 'mesh'] : ['ranking'] });
      }
    }
    // Both load at once; a model problem is told first (a new index needs a usable model anyway).
    const [er, sr] = await Promise.allSettled([embedderP, storeP]);
    if (er.status === 'rejected') throw er.reason;
    if (sr.status === 'rejected') throw sr.reason;
    const embedder = er.value;
    const store = sr.value;
    if (isStale()) return undefined;
    const { scopedSimilarSentences, fillBestSentences, ON_DEMAND_PAPERS } = await import('../index/on-demand');
    const { sentenceScopeOf } = await import('../index/store');
    const notes = new Set<string>();
    const scoped = sentenceScopeOf(store.meta) !== 'all';
    const papersP = search(store, embedder, text, { k: counts.papers, mode: 'hybrid' }).then(async (r) => {
      // Papers outside the sentence scope have no sentence rows: their best sentence comes from the abstract.
      if (scoped) await fillBestSentences(store, r.hits, text);
      return r;
    });
    // Outside the sentence scope the sentences come from the best-matching papers: the papers panel's own when it
    // shows enough of them, else a search of their own.
    const sentencesP =
      counts.sentences > 0
        ? scoped && counts.papers >= ON_DEMAND_PAPERS
          ? papersP.then((p) =>
              scopedSimilarSentences(store, embedder, text, {
                k: counts.sentences,
                papers: p.hits.map((h) => h.pmid),
              }),
            )
          : scopedSimilarSentences(store, embedder, text, { k: counts.sentences })
        : undefined;
    let meshDone = counts.mesh <= 0;
    const meshP =
      counts.mesh > 0
        ? this.meshViews(store, embedder, text, { max: counts.mesh })
            .catch((e: Error) => {
              notes.add(`MeSH suggestions unavailable: ${e.message}`);
              return [] as MeshView[];
            })
            .finally(() => {
              meshDone = true;
            })
        : Promise.resolve([] as MeshView[]);
    const [papers, sentences] = await Promise.all([papersP, sentencesP]);
    if (isStale()) return undefined;
    if (papers.note) notes.add(papers.note);
    if (sentences?.note) notes.add(sentences.note);
    if (onPartial && !meshDone) {
      // The MeSH vocabulary is still loading (first query): the papers and sentences go first.
      const early = await this.outcome(store, papers.hits, sentences, [], [...notes], t0);
      if (isStale()) return undefined;
      if (!meshDone) onPartial({ ...early, pending: ['mesh'] });
    }
    const mesh = await meshP;
    if (isStale()) return undefined;
    return this.outcome(store, papers.hits, sentences, mesh, [...notes], t0);
  }

  /** The views of an answer (papers with their abstracts, sentences, MeSH) and the status with its notes. */
  private async outcome(
    store: IndexStore,
    hits: SearchHit[],
    sentences: { hits: (SentenceHit & { from?: 'index' | 'abstract' })[]; scope?: { label: string } } | undefined,
    mesh: MeshView[],
    notes: string[],
    t0: number,
  ): Promise<QueryOutcome> {
    const sentenceHits = sentences?.hits;
    const abstracts = await store.abstracts(hits.map((h) => h.pmid));
    const top = hits[0]?.score || 1;
    const status = await this.status();
    status.notes.push(...new Set(notes));
    const sTop = sentenceHits?.[0]?.score || 1;
    return {
      papers: hits.map((h) => toPaperView(h, abstracts.get(h.pmid), top)),
      sentences: (sentenceHits ?? []).map((s): SentenceView => ({
        text: s.text,
        pmid: s.pmid,
        title: s.title ?? '',
        authors: [],
        year: s.year,
        score: sTop > 0 ? Math.max(0, s.score) / sTop : 0,
        from: s.from,
      })),
      sentenceScope: sentences?.scope?.label,
      mesh,
      status,
      ms: Date.now() - t0,
    };
  }

  /**
   * Papers for a passage, for a client other than the sidebar (the citation check, its hover): the sidebar's search
   * (hybrid; full-text while the weights are generated), with abstracts, on a worker channel of its own so that the
   * sidebar's queries and these never supersede each other. A request superseded on its own channel rejects with
   * code 'superseded'.
   */
  async searchPapers(text: string, k: number, channel: string): Promise<PaperView[]> {
    const [embedder, store] = await Promise.all([this.getEmbedder(), this.getStore()]);
    const inner = embedder.inner as Embedder & {
      embed(
        t: string[],
        kd: TextKind,
        p?: (p: EmbedProgress) => void,
        o?: { channel?: string },
      ): Promise<Float32Array[]>;
    };
    const onChannel: Embedder = {
      identity: inner.identity,
      report: inner.report,
      embed: (t, kd, p) => inner.embed(t, kd, p, { channel }),
      dispose: async () => undefined,
    };
    const { search } = await import('../index/search');
    const r = await search(store, onChannel, text, { k, mode: 'hybrid' });
    const abstracts = await store.abstracts(r.hits.map((h) => h.pmid));
    const top = r.hits[0]?.score || 1;
    return r.hits.map((h) => toPaperView(h, abstracts.get(h.pmid), top));
  }

  /**
   * MeSH headings for a text: the MeSH engine's one call (lexical matches and check-tag cues, voted by the text's
   * nearest indexed citations); from the text alone when there is no index.
   */
  private async meshViews(
    store: IndexStore | undefined,
    embedder: Embedder | undefined,
    text: string,
    opts: { max: number; cutoff?: number },
  ): Promise<MeshView[]> {
    const vocab = await this.getVocab();
    const cut = opts.cutoff !== undefined ? { cutoff: opts.cutoff } : {};
    const { meshForText, suggestMesh } = await import('../mesh');
    const list = store
      ? (await meshForText(text, { store, embedder, vocab, k: MESH_NEIGHBOURS, max: opts.max, ...cut })).suggestions
      : suggestMesh(text, [], vocab, { max: opts.max, ...cut });
    return list.map((m): MeshView => ({
      ui: m.ui,
      name: m.name,
      score: m.score,
      breadcrumbs: m.breadcrumbs,
      entryTerms: m.entryTerms.filter((t) => t !== m.name).slice(0, 12),
      url: m.url,
    }));
  }

  /**
   * MeSH headings for a whole manuscript's title and abstract (the keyword picker): as for a query, with the index's
   * neighbours when there is an index (and the model when it loads), else from the text alone; `note` says which.
   */
  async meshForText(
    text: string,
    opts: { max: number; cutoff?: number },
  ): Promise<{ mesh: MeshView[]; note?: string }> {
    const [er, sr] = await Promise.allSettled([this.getEmbedder(), this.getStore()]);
    const store = sr.status === 'fulfilled' ? sr.value : undefined;
    const embedder = er.status === 'fulfilled' ? er.value : undefined;
    if (sr.status === 'rejected') this.log.info(`engine: MeSH for a text without the index: ${String(sr.reason)}`);
    const note = !store
      ? `no index at ${this.opts.indexDir}: headings from the text alone`
      : !embedder
        ? 'no model loaded: neighbours found by full text only'
        : undefined;
    try {
      return { mesh: await this.meshViews(store, embedder, text, opts), note };
    } catch (e) {
      if (!embedder || !store) throw e;
      // e.g. an index built by another model: its full-text leg still finds neighbours
      const why = errorText(e);
      return {
        mesh: await this.meshViews(store, undefined, text, opts),
        note: `neighbours by full text only (${why})`,
      };
    }
  }

  /** For citation completion: the index's papers for a sentence and the dense similarity of the bibliography's entries. */
  async citeRelevance(
    text: string,
    o: { k: number; bib?: import('./cite-relevance').BibIds; dense?: 'auto' | 'always' },
  ): Promise<import('./cite-relevance').CiteRelevance> {
    const [embedder, store] = await Promise.all([this.getEmbedder(), this.getStore()]);
    const { citeRelevance } = await import('./cite-relevance');
    return citeRelevance(store, embedder, text, o);
  }
  /** One paper by PMID from the index (hover, citations); undefined when the index does not hold it. */
  async paper(pmid: string): Promise<(PaperMeta & { abstract: string }) | undefined> {
    if (!/^\d+$/.test(pmid)) return undefined;
    return withAbstract(await (await this.getStore()).article(pmid));
  }

  /** A paper by DOI (hover on a key whose entry has only a DOI). */
  async paperByDoi(doi: string): Promise<(PaperMeta & { abstract: string }) | undefined> {
    return withAbstract(await (await this.getStore()).articleByDoi(doi));
  }

  /** Add citation files to the index (created with the current model when absent; `rebuild`: made again with it when another model built it). */
  async buildIndex(
    files: string[],
    onProgress: (msg: string, fraction?: number) => void,
    signal: AbortSignal,
    opts: { rebuild?: boolean } = {},
  ): Promise<string> {
    const embedder = await this.getEmbedder();
    const { IndexStore } = await import('../index/store');
    const { addFiles } = await import('../index/build');
    const { readCitations, countRecords } = await import('../index/readers');
    const { splitSentences } = await import('../inference/sentences');
    this.closeStore();
    let total = 0;
    for (const f of files) total += await countRecords(f, { signal }).catch(() => 0);
    // the query prefix only changes query vectors, never passages: an index made with the other setting is the same
    let identity = embedder.identity;
    const built = readIndexMeta(this.opts.indexDir)?.model;
    if (built) identity = { ...identity, queryPrefix: built.queryPrefix };
    const store = await IndexStore.open(this.opts.indexDir, identity, { create: true, rebuild: opts.rebuild });
    try {
      const s = await addFiles(
        store,
        embedder,
        files,
        { read: (f) => readCitations(f), split: splitSentences },
        {
          signal,
          onProgress: (p) =>
            onProgress(
              `${p.phase}: ${p.embedded + p.skipped}${total ? `/${total}` : ''} citations, ${p.sentences} sentences (${path.basename(p.file)})`,
              total ? (p.embedded + p.skipped + p.inBatch) / total : undefined,
            ),
        },
      );
      const msg = `Index updated: ${s.added} added, ${s.updated} updated, ${s.unchanged} unchanged, ${s.rejected} rejected${s.linked ? `, ${s.linked} from your library linked to their PubMed record` : ''}${s.rejectReport ? ` (see ${s.rejectReport})` : ''} in ${s.seconds.toFixed(1)} s.`;
      this.log.info(`engine: ${msg}`);
      return msg;
    } finally {
      store.close();
    }
  }

  /** Read a release's release.json (size, papers, PubMed files, model) without downloading anything else. */
  async peekRelease(source: string): Promise<ReleaseSummary> {
    const { openSource } = await import('../release/sources');
    const { parseRelease } = await import('../release/manifest');
    const src = openSource(source, { connections: 1 });
    try {
      const rel = parseRelease(await src.readRelease(), src.where);
      return {
        where: src.where,
        tag: rel.tag,
        created: rel.created,
        files: rel.files.length,
        totalBytes: rel.totalBytes,
        counts: rel.counts,
        pubmedCount: rel.pubmed?.count ?? 0,
        pubmedLast: rel.pubmed?.last,
        model: rel.model,
      };
    } finally {
      src.close();
    }
  }

  /**
   * Pull a published index release into the index folder (src/release/pull.ts: only the files it lacks, verified,
   * atomic switch; interrupted, the old index keeps answering). A release built with another model is refused before
   * any byte is written: EngineProblem 'releaseModel', with the folder on this computer that holds its model when
   * one of `modelCandidates` does. After the switch the index is opened afresh.
   */
  async pullIndex(
    source: string,
    o: {
      onProgress?: (p: PullProgress) => void;
      onLog?: (l: string) => void;
      signal?: AbortSignal;
      modelCandidates?: (string | undefined)[];
      summary?: ReleaseSummary;
    } = {},
  ): Promise<PullResult> {
    const rel = o.summary ?? (await this.peekRelease(source));
    await this.checkReleaseModel(rel, o.modelCandidates ?? []);
    const { pullRelease } = await import('../release/pull');
    try {
      const r = await pullRelease({
        source,
        index: this.opts.indexDir,
        modelDir: this.opts.modelDir,
        signal: o.signal,
        onProgress: o.onProgress,
        onLog: (l) => {
          this.log.info(`pull: ${l}`);
          o.onLog?.(l);
        },
      });
      this.log.info(
        `engine: pull ${r.status}: ${r.tag} (${r.id}) → ${r.index}; ${r.downloadedFiles} downloaded, ${r.linkedFiles} linked, ${r.receivedBytes} bytes received in ${r.seconds.toFixed(1)} s`,
      );
      return r;
    } catch (e) {
      // the model changed between the check and the pull: the same way out
      if ((e as { exitCode?: number }).exitCode === 3 || (e as { exitCode?: number }).exitCode === 4)
        await this.checkReleaseModel(rel, o.modelCandidates ?? []);
      throw e;
    } finally {
      this.closeStore();
    }
  }

  private async checkReleaseModel(rel: ReleaseSummary, candidates: (string | undefined)[]): Promise<void> {
    const { modelIdentity } = await import('../inference/identity');
    const { sameModel, describeIdentity } = await import('../index/store');
    const dir = this.opts.modelDir;
    let local: ModelIdentity | undefined;
    try {
      local = dir ? modelIdentity(dir, rel.model.queryPrefix) : undefined;
    } catch {
      local = undefined;
    }
    if (local && sameModel(local, rel.model)) return;
    const { findModelDir, modelLabel } = await import('./index-model');
    const matchingModelDir = await findModelDir(
      rel.model,
      candidates.filter((c) => c !== dir),
    );
    let fetchId: string | undefined;
    if (!rel.model.generated) {
      const { defaultRegistry } = await import('../inference/hub');
      fetchId = Object.entries(defaultRegistry().models).find(([, e]) => e.repo === rel.model.repo)?.[0];
    }
    const { modelWayOut } = await import('../release/pull');
    const have = fs.existsSync(this.opts.indexDir)
      ? `the index at ${this.opts.indexDir} is unchanged and keeps answering`
      : `there is no index at ${this.opts.indexDir} yet`;
    const how = matchingModelDir
      ? `use the model folder ${matchingModelDir}, which holds it, and pull again`
      : fetchId
        ? `fetch ${modelLabel(rel.model)} and pull again`
        : rel.model.generated
          ? `copy the publisher's model folder here (generated weights: only that very folder matches) and choose it`
          : `get it (${modelWayOut(rel.model)}) and choose its folder`;
    throw new EngineProblem(
      `The release ${rel.tag} was built with ${modelLabel(rel.model)} (${describeIdentity(rel.model)}), but the model in use ` +
        `(biohicl.modelDir: ${dir || '(none)'}) is ${local ? describeIdentity(local) : 'missing'}; vectors of different models cannot be searched together. ` +
        `Nothing was downloaded: ${have}. To get this release, ${how}.`,
      'releaseModel',
      { release: rel, matchingModelDir, fetchId },
    );
  }

  /**
   * "Update the index": fetch the NLM update files after the index's last PubMed file from `mirror` (md5-verified,
   * resumable) and apply them in order through buildIndex, so they are embedded as any other file. Progress: the
   * download is the first 30 %, the build the rest.
   */
  async updateIndex(
    mirror: string,
    onProgress: (msg: string, fraction?: number) => void,
    signal: AbortSignal,
    onFetch?: (p: FetchPubmedProgress) => void,
  ): Promise<UpdateOutcome> {
    const store = await this.getStore();
    const { planUpdate, lastPubmedFile, NoPubmedBaselineError } = await import('../pubmed/update');
    const { biohiclHome } = await import('../inference/paths');
    const outDir = this.opts.pubmedDir ?? path.join(biohiclHome(), 'pubmed');
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    const after = await lastPubmedFile(store);
    onProgress(`looking for update files after ${after ?? '(none)'} at ${mirror}`);
    let plan;
    try {
      plan = await planUpdate(store, {
        outDir,
        mirror,
        signal,
        onLog: (l) => this.log.info(`update: ${l}`),
        onProgress: (p) => {
          onFetch?.(p);
          if (p.phase === 'listing') onProgress(`reading the mirror's listing (${mirror})`);
          else if (p.phase === 'download')
            onProgress(
              `downloading update files: ${p.filesDone}/${p.filesTotal}, ${mb(p.bytes)} / ${mb(p.totalBytes)} MB${p.rate ? ` at ${mb(p.rate)} MB/s` : ''}`,
              p.totalBytes ? 0.3 * (p.bytes / p.totalBytes) : undefined,
            );
        },
      });
    } catch (e) {
      if (e instanceof NoPubmedBaselineError) {
        throw new EngineProblem(
          `The index at ${this.opts.indexDir} holds no PubMed baseline or update file, so there is nothing to bring up to date. ` +
            'Get the PubMed index first (“BioHiCL: Get the PubMed index”); “Update the index” then applies the update files published after it.',
          'getPubmedIndex',
          { raw: e.message },
        );
      }
      throw e;
    }
    const failures = plan.fetched.failures;
    if (plan.fetched.cancelled || signal.aborted)
      throw Object.assign(
        new Error(
          'cancelled while downloading the update files; running it again resumes (verified files and partial downloads are kept)',
        ),
        { name: 'AbortError' },
      );
    const stem = (n: string): string => n.replace(/\.xml(\.gz)?$/, '');
    const failed = failures.length
      ? ` ${failures.length} update file${failures.length > 1 ? 's' : ''} could not be downloaded (${failures.map((f) => f.message).join('; ')}); running it again retries ${failures.length > 1 ? 'them' : 'it'}.`
      : '';
    if (!plan.apply.length) {
      const message = failures.length
        ? `No update file applied.${failed}`
        : `The index is current: PubMed through ${stem(plan.after)}; ${mirror} has no newer update file.`;
      this.log.info(`engine: update: ${message}`);
      return { message, after: plan.after, applied: [], fetched: plan.fetched, failures };
    }
    const names = plan.apply.map((p) => path.basename(p));
    this.log.info(`engine: update: applying ${names.join(', ')} (after ${plan.after})`);
    const built = await this.buildIndex(
      plan.apply,
      (m, f) =>
        onProgress(
          `applying ${names.length > 1 ? `${names.length} update files` : stem(names[0]!)}: ${m}`,
          f === undefined ? undefined : 0.3 + 0.7 * f,
        ),
      signal,
    );
    const message = `Applied ${names.map(stem).join(', ')}. ${built}${failed}`;
    return { message, after: plan.after, applied: names, fetched: plan.fetched, failures };
  }

  /** Forget the open index (its files changed under it): the next query opens it afresh. */
  reopenIndex(): void {
    this.closeStore();
  }

  private closeStore(): void {
    const s = this.store;
    this.store = undefined;
    this.indexSize = undefined;
    this.currency = undefined;
    s?.then(
      (x) => x.close(),
      () => undefined,
    );
  }

  private async disposeEmbedder(): Promise<void> {
    const e = this.embedder;
    this.embedder = undefined;
    if (e)
      await e.then(
        (x) => x.dispose(),
        () => undefined,
      );
  }

  async dispose(): Promise<void> {
    this.closeStore();
    await this.disposeEmbedder();
  }
}

/** Neighbours whose MeSH headings vote for the suggestions of a query. */
const MESH_NEIGHBOURS = 20;

function withAbstract(a: ArticleInfo | undefined): (PaperMeta & { abstract: string }) | undefined {
  return a && { ...paperMeta(a), abstract: a.abstract };
}

/** What the integrity check found, in a few words: "model.onnx does not match it", "vocab.txt is missing". */
function damageIn(raw: string): string {
  const base = (f: string): string => path.basename(f.trim());
  let m = /^(.+?) does not match the model manifest/.exec(raw);
  if (m) return `${base(m[1]!)} does not match it`;
  m = /^(.+?): missing, but /.exec(raw);
  if (m) return `${base(m[1]!)} is missing`;
  m = /^(.+?): not listed with a sha256/.exec(raw);
  if (m) return `${base(m[1]!)} is not listed in it`;
  return (raw.split(/(?<=\.) (?=[A-Z`])/)[0] ?? raw).replace(/\.$/, '');
}

function excerpt(
  abstract: string | undefined,
  best: { text: string; start: number; end: number },
): { text: string; start: number; end: number } {
  if (!abstract || abstract.slice(best.start, best.end) !== best.text)
    return { text: best.text, start: 0, end: best.text.length };
  // the best sentence with a little context on either side, cut at word boundaries
  const ctx = 90;
  let a = Math.max(0, best.start - ctx);
  let b = Math.min(abstract.length, best.end + ctx);
  if (a > 0) a = abstract.indexOf(' ', a) + 1 || a;
  if (b < abstract.length) b = abstract.lastIndexOf(' ', b) > best.end ? abstract.lastIndexOf(' ', b) : b;
  const pre = a > 0 ? '…' : '';
  const post = b < abstract.length ? '…' : '';
  const text = pre + abstract.slice(a, b) + post;
  return { text, start: pre.length + best.start - a, end: pre.length + best.end - a };
}

export function toPaperView(h: SearchHit, abstract: string | undefined, top: number): PaperView {
  const why: string[] = [];
  if (h.why.ftsRank) why.push(`full-text #${h.why.ftsRank}`);
  if (h.why.denseRank) why.push(`semantic #${h.why.denseRank}`);
  const v: PaperView = {
    ...paperMeta(h),
    score: top > 0 ? Math.max(0, h.score) / top : 0,
    why: why.join(' · ') || undefined,
    abstract,
  };
  if (h.why.bestSentence) v.best = excerpt(abstract, h.why.bestSentence);
  if (h.library) v.inLibrary = { key: h.library.key, file: h.library.source.split(/[\\/]/).pop() ?? h.library.source };
  return v;
}
