// Building the index: stream reader events, embed, upsert in committed batches. Resumable: a build killed at any
// moment (SIGKILL included) is run again and goes on with no duplicate and no lost committed row.
import { newHash } from '../util/hash';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Embedder, EmbedProgress } from '../inference/types';
import { abstractText, type Citation, type ReaderEvent } from './citation';
import { fileSeq, sentenceScopeOf, type ArticleRow, type FileRow, type IndexStore, type SentenceRow } from './store';

export interface SentenceSpan {
  text: string;
  start: number;
  end: number;
}

export interface BuildDeps {
  /** Streaming reader (C1's readCitations). */
  read: (file: string) => AsyncIterable<ReaderEvent>;
  /** Sentence splitter with character offsets (B's splitSentences). */
  split: (text: string) => SentenceSpan[];
}

export type SentenceMode = 'embed' | 'none';
/**
 * How the article vector is made: 'embed' = CLS of title + abstract (512-token window); 'mean' = the normalised mean
 * of the title's and the sentences' vectors (no second pass over the abstract: half the encoder time).
 */
export type ArticleVectorMode = 'embed' | 'mean';

export interface BuildProgress {
  file: string;
  fileIndex: number;
  files: number;
  bytesRead?: number;
  citations: number; // citations read so far (all files)
  embedded: number; // citations embedded and committed
  sentences: number; // sentences embedded and committed
  skipped: number; // unchanged citations (same content hash) not re-embedded
  tokens: number; // encoder tokens so far (when the embedder reports them)
  /** Citations of the batch being embedded, counted by the share of its texts already embedded (for smooth ETAs). */
  inBatch: number;
  phase: 'read' | 'embed' | 'commit' | 'index' | 'done';
}

export interface AddOptions {
  batchSize?: number; // citations per committed batch (default 32)
  /** 'none': no sentence rows in this run; default: the index's sentence scope (meta.json; all when unset). */
  sentences?: SentenceMode;
  articleVector?: ArticleVectorMode; // default 'embed'
  onProgress?: (p: BuildProgress) => void;
  signal?: AbortSignal;
  /** Where to write the reject report (JSON lines); default <index>/rejects-<time>.jsonl when there are rejects. */
  rejectReport?: string;
  /** Skip the index refresh at the end (tests, benches). */
  skipIndexes?: boolean;
  /** Re-read files already recorded as complete (default: skip them when size and mtime are unchanged). */
  force?: boolean;
  /**
   * Bulk mode for the array tasks of a cluster build: rows are appended in large commits with no per-batch
   * de-duplication and no index maintenance; `biohicl index finalize` resolves versions and builds the indexes.
   * A file whose earlier attempt died is resumed from the rows it had committed.
   */
  bulk?: boolean;
}

export interface Reject {
  file: string;
  record: string;
  where: string;
  message: string;
}

export interface BuildSummary {
  files: number;
  filesSkipped: number;
  added: number;
  updated: number;
  unchanged: number;
  deleted: number;
  rejected: number;
  /** Citations not applied because the index holds a version from a later file, or a later file deleted them. */
  superseded: number;
  /** Bibliography items found in the index's PubMed data (by PMID or DOI) and linked to that row. */
  linked: number;
  sentences: number;
  rejects: Reject[];
  /** Records kept with something left out or cleaned (a field of the wrong type, an invalid DOI, …), named. */
  notes: Reject[];
  rejectReport?: string;
  seconds: number;
  encoderSeconds: number;
  tokens: number;
}

/** Content hash of a citation: what is embedded plus the stored metadata. */
export function citationHash(c: Citation, modes: string): string {
  const h = newHash('sha256');
  h.update(modes);
  h.update('\0');
  const fields: unknown[] = [
    c.pmid,
    c.title,
    c.abstract,
    c.authors,
    c.journal,
    c.year ?? null,
    c.doi ?? null,
    c.pmcid ?? null,
    c.publicationTypes,
    c.language ?? null,
    c.mesh,
  ];
  // Bibliographic details (format 2) count only where a reader gives them, so older rows keep their hashes.
  const biblio = [c.month, c.volume, c.issue, c.pages, c.issn];
  if (biblio.some((x) => x !== undefined)) fields.push(biblio.map((x) => x ?? null));
  h.update(JSON.stringify(fields));
  return h.digest('hex').slice(0, 32);
}

/** Sentences of the abstract, split per section so that labels are not part of a sentence; offsets into abstractText(c). */
export function abstractSentences(c: Citation, split: BuildDeps['split']): SentenceSpan[] {
  const out: SentenceSpan[] = [];
  let offset = 0;
  c.abstract.forEach((s, i) => {
    if (i > 0) offset += 1; // '\n'
    const prefix = s.label ? `${s.label}: ` : '';
    const base = offset + prefix.length;
    for (const sp of split(s.text)) {
      const text = sp.text.trim();
      if (!text) continue;
      out.push({ text, start: base + sp.start, end: base + sp.end });
    }
    offset += prefix.length + s.text.length;
  });
  return out;
}

function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

class Aborted extends Error {
  constructor() {
    super('build aborted; what was committed stays, run the same command again to resume');
  }
}

/** Stream `files` into the index. Throws on abort (committed batches stay). */
export async function addFiles(
  store: IndexStore,
  embedder: Embedder,
  files: string[],
  deps: BuildDeps,
  opts: AddOptions = {},
): Promise<BuildSummary> {
  const t0 = Date.now();
  const batchSize = Math.max(1, opts.batchSize ?? (opts.bulk ? 1024 : 32));
  // Which citations get sentence rows: the index's recorded scope (all, the writer's bibliography items, none);
  // `sentences: 'none'` leaves them out for this run whatever the scope.
  const scope = sentenceScopeOf(store.meta);
  const withSentences = (c: Citation): boolean =>
    opts.sentences !== 'none' && (scope === 'all' || (scope === 'library' && !!c.library));
  const articleModeFor = (c: Citation): ArticleVectorMode =>
    withSentences(c) ? (opts.articleVector ?? 'embed') : 'embed';
  const modesFor = (c: Citation): string => `s=${withSentences(c) ? 'embed' : 'none'};a=${articleModeFor(c)}`;
  const dim = store.identity.dim;
  const summary: BuildSummary = {
    files: files.length,
    filesSkipped: 0,
    added: 0,
    updated: 0,
    unchanged: 0,
    deleted: 0,
    rejected: 0,
    superseded: 0,
    linked: 0,
    sentences: 0,
    rejects: [],
    notes: [],
    seconds: 0,
    encoderSeconds: 0,
    tokens: 0,
  };
  const prog: BuildProgress = {
    file: '',
    fileIndex: 0,
    files: files.length,
    citations: 0,
    embedded: 0,
    sentences: 0,
    skipped: 0,
    tokens: 0,
    inBatch: 0,
    phase: 'read',
  };
  const report = (phase: BuildProgress['phase']): void => {
    prog.phase = phase;
    opts.onProgress?.({ ...prog });
  };
  const check = (): void => {
    if (opts.signal?.aborted) throw new Aborted();
  };

  let pending: Citation[] = [];
  let seq = 0;
  let file = '';
  /** Bulk mode: what this file's earlier attempts committed (pmid → hash). */
  let committed = new Map<string, string>();
  /** Bulk mode: the commit still being written while the next batch is embedded. */
  let inflight: Promise<void> | undefined;
  const settle = async (): Promise<void> => {
    const p = inflight;
    inflight = undefined;
    await p;
  };

  const flush = async (): Promise<void> => {
    if (!pending.length) return;
    // Last record wins within a batch (merge-insert needs unique keys).
    const byPmid = new Map<string, Citation>();
    for (const c of pending) {
      byPmid.delete(c.pmid);
      byPmid.set(c.pmid, c);
    }
    pending = [];
    let cits = [...byPmid.values()];
    // A writer's bibliography items: recorded as "in your library"; an item found in the index's PubMed data (by
    // PMID or DOI, with an abstract) is linked to that row instead of replacing it with a poorer copy.
    const lib = cits.filter((c) => c.library);
    if (lib.length) {
      const ids = (c: Citation): { id: string; pmid?: string; doi?: string } => ({
        id: c.pmid,
        pmid: /^\d+$/.test(c.pmid) ? c.pmid : undefined,
        doi: c.doi,
      });
      const linked = await store.pubmedRowsFor(lib.map(ids), file);
      const now = new Date().toISOString();
      await store.recordLibrary(
        lib.map((c) => ({
          id: c.pmid,
          pmid: linked.get(c.pmid) ?? c.pmid,
          doi: c.doi ?? null,
          citation_key: c.citationKey ?? null,
          source: file,
          updated_at: now,
        })),
      );
      summary.linked += linked.size;
      cits = cits.filter((c) => !linked.has(c.pmid));
      if (!cits.length) {
        report('read');
        return;
      }
    }
    const hashes = new Map(cits.map((c) => [c.pmid, citationHash(c, modesFor(c))]));
    let existing: Map<string, { hash: string; seq: number; n: number }>;
    let tomb = new Map<string, number>();
    if (opts.bulk) existing = new Map([...committed].map(([k, h]) => [k, { hash: h, seq, n: 0 }]));
    else {
      existing = await store.existingRows(cits.map((c) => c.pmid));
      tomb = await store.tombstones(cits.map((c) => c.pmid));
    }
    // A version from a later file, or a later DeleteCitation, wins: an older file never brings an old version back.
    const current = cits.filter((c) => {
      const e = existing.get(c.pmid);
      const t = tomb.get(c.pmid);
      const stale = (e !== undefined && e.seq > seq) || (t !== undefined && t >= seq && seq > 0);
      if (stale) summary.superseded++;
      return !stale;
    });
    // Unchanged = same content hash and all of its sentences stored (a batch killed between its article rows and
    // its sentences is done again).
    const same = new Map(
      current
        .filter((c) => existing.get(c.pmid)?.hash === hashes.get(c.pmid) && existing.get(c.pmid)!.n > 0)
        .map((c) => [c.pmid, hashes.get(c.pmid)!]),
    );
    const { counts: stored, dirty } =
      opts.bulk || !same.size
        ? { counts: new Map<string, number>(), dirty: new Set<string>() }
        : await store.sentenceCounts(same);
    const todo = current.filter((c) => {
      const e = existing.get(c.pmid);
      if (e?.hash !== hashes.get(c.pmid)) return true;
      return !opts.bulk && !!e && e.n > 0 && (stored.get(c.pmid) ?? 0) < e.n;
    });
    // Unchanged citations with leftover rows of another version (a writer died before its resolve): clean up now.
    const leftovers = [...dirty].filter((p) => !todo.some((c) => c.pmid === p));
    if (leftovers.length) await store.resolve(leftovers);
    const unchanged = current.length - todo.length;
    summary.unchanged += unchanged;
    prog.skipped += unchanged;
    if (!todo.length) {
      report('read');
      return;
    }
    check();
    report('embed');

    // Texts to embed: per citation its sentences, and (mode 'embed') title + abstract; for 'mean' the title alone.
    const sents = todo.map((c) => (withSentences(c) ? abstractSentences(c, deps.split) : []));
    const texts: string[] = [];
    const articleIdx: number[] = [];
    todo.forEach((c, i) => {
      articleIdx.push(texts.length);
      texts.push(articleModeFor(c) === 'embed' ? `${c.title}\n${abstractText(c)}`.trim() : c.title || abstractText(c));
      for (const s of sents[i]) texts.push(s.text);
    });
    const te = Date.now();
    let lastTokens = 0;
    const vecs = await embedder.embed(texts, 'passage', (p: EmbedProgress) => {
      prog.tokens += p.tokens - lastTokens;
      summary.tokens += p.tokens - lastTokens;
      lastTokens = p.tokens;
      prog.inBatch = p.total ? (todo.length * p.done) / p.total : 0;
      opts.onProgress?.({ ...prog, phase: 'embed' });
    });
    summary.encoderSeconds += (Date.now() - te) / 1000;
    if (vecs.length !== texts.length)
      throw new Error(`embedder returned ${vecs.length} vectors for ${texts.length} texts`);
    check();

    const arts: ArticleRow[] = [];
    const srows: SentenceRow[] = [];
    todo.forEach((c, i) => {
      const base = articleIdx[i];
      let av = vecs[base];
      if (av.length !== dim) throw new Error(`embedder returned dim ${av.length}, index expects ${dim}`);
      if (articleModeFor(c) === 'mean' && sents[i].length) {
        const m = new Float32Array(dim);
        for (let j = 0; j <= sents[i].length; j++) {
          const v = vecs[base + j];
          for (let d = 0; d < dim; d++) m[d] += v[d];
        }
        av = normalise(m);
      }
      const hash = hashes.get(c.pmid)!;
      sents[i].forEach((s, j) =>
        srows.push({
          pmid: c.pmid,
          idx: j,
          start: s.start,
          end: s.end,
          text: s.text,
          hash,
          source: c.source,
          file_seq: seq,
          vector: vecs[base + 1 + j],
        }),
      );
      const abs = abstractText(c);
      arts.push({
        pmid: c.pmid,
        title: c.title,
        abstract: abs,
        text: `${c.title}\n${abs}`,
        sections: JSON.stringify(c.abstract),
        authors: c.authors,
        journal: c.journal,
        year: c.year ?? null,
        doi: c.doi ?? null,
        pmcid: c.pmcid ?? null,
        publication_types: c.publicationTypes,
        language: c.language ?? null,
        mesh: JSON.stringify(c.mesh),
        has_abstract: c.abstract.some((s) => s.text.trim().length > 0),
        source: c.source,
        hash,
        n_sentences: sents[i].length,
        month: c.month ?? null,
        volume: c.volume ?? null,
        issue: c.issue ?? null,
        pages: c.pages ?? null,
        issn: c.issn ?? null,
        file_seq: seq,
        vector: av,
      });
      if (existing.has(c.pmid)) summary.updated++;
      else summary.added++;
    });
    report('commit');
    const done = (): void => {
      for (const a of arts) committed.set(a.pmid, a.hash);
      prog.embedded += arts.length;
      prog.sentences += srows.length;
      summary.sentences += srows.length;
    };
    prog.inBatch = 0;
    if (opts.bulk) {
      // Bulk: the commit (tens of MB of vectors) overlaps the next batch's encoding; one commit in flight at most.
      await settle();
      inflight = store.upsert(arts, srows, { bulk: true }).then(done);
      inflight.catch(() => undefined); // a failure surfaces at the next settle(); never an unhandled rejection
    } else {
      await store.upsert(arts, srows, { bulk: false });
      done();
    }
    report('read');
  };

  // NLM's files in their numbering order (baseline, then updates); a writer's own files first, in the order given.
  const ordered = files
    .map((f) => path.resolve(f))
    .map((f, i) => ({ f, i, seq: fileSeq(f) }))
    .sort((x, y) => x.seq - y.seq || x.i - y.i)
    .map((x) => x.f);
  const records = await store.fileRecords();
  const fileRow = (f: string, st: fs.Stats, status: FileRow['status'], rejected: number): FileRow => ({
    path: f,
    name: path.basename(f),
    size: st.size,
    mtime_ms: st.mtimeMs,
    file_seq: fileSeq(f),
    status,
    rejected,
    updated_at: new Date().toISOString(),
  });

  for (let fi = 0; fi < ordered.length; fi++) {
    file = ordered[fi];
    seq = fileSeq(file);
    prog.file = file;
    prog.fileIndex = fi;
    const st = fs.statSync(file);
    const done = records.get(file);
    if (
      !opts.force &&
      done?.status === 'complete' &&
      done.size === st.size &&
      Math.abs(done.mtime_ms - st.mtimeMs) < 1
    ) {
      summary.filesSkipped++;
      report('read');
      continue;
    }
    committed = new Map();
    if (opts.bulk) {
      // Resume: rows this file committed before are kept (skipped by hash); sentences written for an article row
      // that never committed are removed.
      committed = await store.committedFromSource(file);
      if (done) await store.removeOrphanSentences(file, committed);
      await store.recordFiles([fileRow(file, st, 'started', 0)]);
    }
    report('read');
    const rejectsBefore = summary.rejected;
    for await (const ev of deps.read(file)) {
      check();
      if (ev.type === 'citation') {
        prog.citations++;
        pending.push(ev.citation);
        if (pending.length >= batchSize) await flush();
      } else if (ev.type === 'delete') {
        await flush(); // keep the file's order: a delete after an add of the same PMID wins
        await settle();
        summary.deleted += await store.deletePmids(ev.pmids, seq, file);
      } else if (ev.type === 'reject') {
        summary.rejected++;
        summary.rejects.push({ file: ev.file, record: ev.record, where: ev.where, message: ev.message });
      } else if (ev.type === 'note') {
        if (summary.notes.length < 10_000)
          summary.notes.push({ file: ev.file, record: ev.record, where: ev.where, message: ev.message });
      }
    }
    await flush();
    await settle();
    // The file is complete: record it so that a rerun skips it (a kill before this line replays the file, and the
    // content hashes make the replay cheap and idempotent). A file with rejected records is not recorded as
    // complete: a rerun reads it again (its good records are unchanged and skipped by hash) and reports the rejects.
    const rejected = summary.rejected - rejectsBefore;
    await store.recordFiles([fileRow(file, st, rejected ? 'rejects' : 'complete', rejected)]);
  }

  if (summary.rejects.length) {
    const out =
      opts.rejectReport ??
      path.join(
        store.isLocal ? store.dir : process.cwd(),
        `rejects-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`,
      );
    fs.writeFileSync(out, summary.rejects.map((r) => JSON.stringify(r)).join('\n') + '\n');
    summary.rejectReport = out;
  }
  if (!opts.skipIndexes && !opts.bulk) {
    report('index');
    await store.ensureIndexes();
  }
  summary.seconds = (Date.now() - t0) / 1000;
  report('done');
  return summary;
}
