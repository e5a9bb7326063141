// `biohicl index add|stats|optimize`, `biohicl search`, `biohicl sentences`.
// Exit codes: 0 ok; 1 failure; 2 bad usage; 3 the index was built by another model; 4 no index / no model there;
// 5 the build finished but some records were rejected (listed in the reject report).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import * as cliProgress from 'cli-progress';
import { defaultIndexDir, defaultModelsDir } from '../../inference/paths';
import type { Embedder } from '../../inference/types';
import { splitSentences } from '../../inference/sentences';
import { countRecords, expandInputs, readCitations } from '../../index/readers';
import { addFiles, type AddOptions, type BuildSummary } from '../../index/build';
import {
  IndexStore,
  describeIdentity,
  readMeta,
  sentenceScopeOf,
  vectorTypeOf,
  type SentenceScope,
} from '../../index/store';
import { checkConcurrentWrites, describeLocation, parseLocation } from '../../index/location';
import { finalizeIndex } from '../../index/finalize';
import { explainIndexError } from '../../index/errors';
import { search, type SearchMode, type SearchResult, type SentencesResult } from '../../index/search';
import { fillBestSentences, scopedSimilarSentences, type SentenceScopeView } from '../../index/on-demand';

import { EXIT, positiveInt as int, usageError as usage } from '../exit';
import { openEmbedder } from '../../inference/client';
export { EXIT };

const year = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1000 || n > 3000) throw usage(`not a year: '${v}'`);
  return n;
};
const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The model folder to use: --model, else the one the index was built with, else the generated default. */
export async function resolveModelDir(opt: string | undefined, index: string): Promise<string> {
  if (opt) return path.resolve(opt);
  try {
    const meta = await readMeta(parseLocation(index));
    if (meta?.modelDir && fs.existsSync(meta.modelDir)) return meta.modelDir;
  } catch {
    /* no index yet, or damaged: opening it says so */
  }
  return path.join(defaultModelsDir(), 'generated-base');
}

/** An index location from --index: a folder (resolved) or an object-store URI (kept). */
function indexLocation(index: string): string {
  return describeLocation(parseLocation(index));
}

/**
 * Before writing to an object store: it must honour conditional PUT, or concurrent writers lose rows silently.
 * `singleWriter` lets a lone writer go on anyway (said on stderr).
 */
async function checkWritable(index: string, singleWriter: boolean, quiet: boolean): Promise<void> {
  const loc = parseLocation(index);
  if (loc.kind === 'local') return;
  const c = await checkConcurrentWrites(loc);
  if (c.ok) {
    if (!quiet) process.stderr.write(`store ${loc.uri}: ${c.reason}\n`);
    return;
  }
  if (singleWriter) {
    process.stderr.write(
      `warning: ${loc.uri}: ${c.reason}; writing anyway (--single-writer: make sure no other process writes this index)\n`,
    );
    return;
  }
  fail(
    `${loc.uri} is not safe for concurrent writers: ${c.reason}. Use a store that honours If-None-Match (AWS S3, Ceph RGW, …), ` +
      `or pass --single-writer if this is the only process that writes the index`,
    EXIT.failure,
  );
}

/** Build with progress bars (rate and ETA). Counts the records first (a fast scan) so that the ETA is real. */
export async function buildWithProgress(
  store: IndexStore,
  embedder: Embedder,
  files: string[],
  opts: AddOptions & { quiet?: boolean; count?: boolean } = {},
): Promise<BuildSummary> {
  const deps = { read: (f: string) => readCitations(f), split: splitSentences };
  let total = 0;
  if (opts.count !== false) {
    const records = await store.fileRecords();
    for (const f of files) {
      const st = fs.statSync(f);
      const done = records.get(path.resolve(f));
      if (
        !opts.force &&
        done?.status === 'complete' &&
        done.size === st.size &&
        Math.abs(done.mtime_ms - st.mtimeMs) < 1
      )
        continue;
      total += await countRecords(f);
    }
  }
  const tty = !opts.quiet && process.stderr.isTTY;
  const bar = opts.quiet
    ? undefined
    : new cliProgress.SingleBar({
        format:
          ' {bar} {percentage}% | {value}/{total} citations | {rate} cit/s, {trate} tok/s | {sentences} sentences | ETA {eta_formatted} | {phase} {file}',
        barCompleteChar: '█',
        barIncompleteChar: '░',
        hideCursor: tty,
        etaBuffer: 200,
        fps: 4,
        noTTYOutput: !tty,
        notTTYSchedule: 10_000,
        stream: process.stderr,
      });
  const t0 = Date.now();
  bar?.start(Math.max(total, 1), 0, { rate: '0.0', trate: '0', sentences: 0, phase: 'read', file: '' });
  const summary = await addFiles(store, embedder, files, deps, {
    ...opts,
    onProgress: (p) => {
      const done = Math.floor(p.embedded + p.skipped + p.inBatch);
      const s = (Date.now() - t0) / 1000 || 1;
      if (done > (bar?.getTotal() ?? 0)) bar?.setTotal(done);
      bar?.update(done, {
        rate: ((p.embedded + p.inBatch) / s).toFixed(1),
        trate: Math.round(p.tokens / s),
        sentences: p.sentences,
        phase: p.phase,
        file: path.basename(p.file),
      });
      opts.onProgress?.(p);
    },
  });
  bar?.update(bar.getTotal(), { phase: 'done', file: '' });
  bar?.stop();
  return summary;
}

export function printSummary(
  s: BuildSummary,
  out: (line: string) => void = (l) => process.stdout.write(l + '\n'),
): void {
  out(
    `added ${s.added}, updated ${s.updated}, unchanged ${s.unchanged}, deleted ${s.deleted}, rejected ${s.rejected}` +
      (s.superseded ? `, ${s.superseded} superseded by a later file` : '') +
      (s.linked ? `, ${s.linked} bibliography items linked to their PubMed record` : '') +
      ` (${s.sentences} sentences embedded; ${s.files - s.filesSkipped}/${s.files} files read, ${s.filesSkipped} already complete)` +
      ` in ${s.seconds.toFixed(1)} s (encoder ${s.encoderSeconds.toFixed(1)} s, ${s.tokens} tokens)`,
  );
  if (s.notes.length) {
    for (const r of s.notes.slice(0, 3)) out(`  note: ${r.file} ${r.record} (${r.where}): ${r.message}`);
    if (s.notes.length > 3)
      out(`  … ${s.notes.length - 3} more notes (records kept with a field left out or cleaned; --json lists them)`);
  }
  if (s.rejects.length) {
    for (const r of s.rejects.slice(0, 5)) out(`  rejected: ${r.file} ${r.record} (${r.where}): ${r.message}`);
    if (s.rejects.length > 5) out(`  … ${s.rejects.length - 5} more`);
    out(`  reject report: ${s.rejectReport}`);
  }
}

function fail(message: string, exitCode: number): never {
  throw Object.assign(new Error(message), { exitCode });
}

/** Open an index that must exist (stats, optimize): any model, no vectors made. */
async function openExisting(index: string): Promise<{ indexDir: string; store: IndexStore }> {
  const indexDir = indexLocation(index);
  try {
    return { indexDir, store: await IndexStore.open(indexDir, undefined, {}) };
  } catch (e) {
    throw explainIndexError(e, indexDir) ?? e;
  }
}

/** A GPU provider that was asked for but could not be used is said, with the reason, on stderr. */
function warnFallback(embedder: Embedder): void {
  if (embedder.report.fallbackReason) process.stderr.write(`note: ${embedder.report.fallbackReason}\n`);
}

export async function openForQuery(
  opts: { index: string; model?: string; precision?: string; threads?: number; device?: string },
  needModel: boolean,
): Promise<{ store: IndexStore; embedder?: Embedder }> {
  const indexDir = indexLocation(opts.index);
  if (!(await readMeta(parseLocation(indexDir))))
    fail(
      `no index at ${indexDir}: build one with \`biohicl index add <files...>\` or run \`biohicl demo\``,
      EXIT.missing,
    );
  let embedder: Embedder | undefined;
  if (needModel) {
    embedder = await openEmbedder({
      inProcess: true,
      modelDir: await resolveModelDir(opts.model, indexDir),
      precision: (opts.precision ?? 'auto') as never,
      threads: opts.threads,
      device: (opts.device ?? 'auto') as never,
    });
    warnFallback(embedder);
  }
  let store: IndexStore;
  try {
    store = await IndexStore.open(indexDir, embedder?.identity, {});
  } catch (e) {
    await embedder?.dispose();
    throw explainIndexError(e, indexDir) ?? e;
  }
  return { store, embedder };
}

export function printSearch(
  r: SearchResult,
  query: string,
  out: (l: string) => void = (l) => process.stdout.write(l + '\n'),
): void {
  if (r.note) out(`note: ${r.note}`);
  out(
    `${r.hits.length} results (${r.mode}${r.mode === 'hybrid' ? `, dense weight ${r.denseWeight}` : ''}) for "${query.length > 80 ? query.slice(0, 77) + '…' : query}" in ${r.ms.total.toFixed(0)} ms`,
  );
  for (const h of r.hits) {
    const au = h.authors.length ? `${h.authors[0]}${h.authors.length > 1 ? ' et al.' : ''}` : '';
    out(`${String(h.rank).padStart(3)}. ${h.title}`);
    out(
      `     ${[au, h.journal, h.year].filter(Boolean).join(', ')}  ${/^\d+$/.test(h.pmid) ? `PMID ${h.pmid}` : h.pmid}${h.doi ? `  doi:${h.doi}` : ''}`,
    );
    if (h.library)
      out(`     in your library${h.library.key ? ` as ${h.library.key}` : ''} (${path.basename(h.library.source)})`);
    const legs = [
      h.why.ftsRank ? `full-text #${h.why.ftsRank} (${h.why.ftsScore!.toFixed(2)})` : '',
      h.why.denseRank ? `dense #${h.why.denseRank} (${h.why.denseScore!.toFixed(3)})` : '',
    ]
      .filter(Boolean)
      .join(', ');
    out(`     score ${h.score.toFixed(4)}${legs ? ` — ${legs}` : ''}`);
    if (h.why.bestSentence)
      out(
        `     “${h.why.bestSentence.text.length > 200 ? h.why.bestSentence.text.slice(0, 197) + '…' : h.why.bestSentence.text}”`,
      );
  }
}

export function printSentences(
  r: SentencesResult & { scope?: SentenceScopeView },
  out: (l: string) => void = (l) => process.stdout.write(l + '\n'),
): void {
  if (r.note) out(`note: ${r.note}`);
  if (r.scope && r.scope.kind !== 'index') out(`${r.scope.label}.`);
  for (const h of r.hits) {
    out(`${String(h.rank).padStart(3)}. “${h.text}”`);
    out(
      `     — ${h.title ?? ''} (${[h.journal, h.year].filter(Boolean).join(', ')}) PMID ${h.pmid}, sentence ${h.idx + 1}, score ${h.score.toFixed(3)}`,
    );
  }
}

const SCOPE_WORDS: Record<SentenceScope, string> = {
  all: 'every citation',
  library: 'your bibliography items only; the rest embedded at query time',
  none: 'none stored; embedded at query time from the best-matching papers',
};

export function registerIndexCommands(program: Command): void {
  const indexOpt = () =>
    new Option(
      '--index <dir|uri>',
      'index folder, or s3://bucket/prefix (endpoint and credentials from the AWS_* variables)',
    ).default(defaultIndexDir());
  const modelOpt = () =>
    new Option(
      '--model <dir>',
      'model folder (default: the one that built the index, else <home>/models/generated-base)',
    );
  const precisionOpt = () =>
    new Option('--precision <p>', 'encoder precision').choices(['auto', 'fp32', 'int8', 'fp16']).default('auto');
  const deviceOpt = () =>
    new Option(
      '--device <device>',
      'execution provider: auto | cuda (linux-x64) | dml (Windows) | cpu; falls back to CPU with the reason',
    )
      .choices(['auto', 'cuda', 'dml', 'cpu'])
      .default('auto');

  const vectorTypeOpt = () =>
    new Option(
      '--vector-type <type>',
      "how the index stores vectors: float32, or float16 (half the bytes, same top-k: see README 'What fits on a laptop'); recorded when the index is created, another type is refused later (default: the index's own, float32 for a new one)",
    ).choices(['float32', 'float16']);
  const scopeOpt = () =>
    new Option(
      '--sentence-scope <scope>',
      "which citations get sentence rows with vectors: all, library (the items of your own bibliography files) or none; outside the scope 'similar sentences' embeds the best-matching papers' sentences at query time. Recorded when the index is created (default: the index's own, all for a new one)",
    ).choices(['all', 'library', 'none']);
  const index = program.command('index').description('build and maintain the local PubMed index');

  index
    .command('add')
    .description(
      'add citations (PubMed XML[.gz], MEDLINE/.nbib, CSL-JSON, BibTeX, PubMedQA JSON; files, folders or globs). ' +
        'Resumable: run the same command again after an interruption. Exit 5 when some records were rejected.',
    )
    .argument('<inputs...>', 'files, folders or globs')
    .addOption(indexOpt())
    .addOption(modelOpt())
    .addOption(precisionOpt())
    .addOption(deviceOpt())
    .option('--threads <n>', 'encoder threads', int('--threads'))
    .option('--batch <n>', 'citations per committed batch (default 32; 1024 with --bulk)', int('--batch'))
    .option('--rebuild', 'drop the index and rebuild it with this model (when it was built by another one)')
    .option('--force', 're-read files already recorded as complete')
    .option(
      '--bulk',
      'array-task mode of a cluster build: large commits, no index maintenance (run `index setup` before and `index finalize` after)',
    )
    .option(
      '--single-writer',
      'write to an object store that failed the conditional-PUT check (only if no other process writes)',
    )
    .addOption(
      new Option('--sentences <how>', "sentence vectors in this run ('none': none, whatever the index's scope)")
        .choices(['embed', 'none'])
        .default('embed'),
    )
    .addOption(vectorTypeOpt())
    .addOption(scopeOpt())
    .addOption(
      new Option(
        '--article-vector <how>',
        "article vector: 'embed' title+abstract, or 'mean' of title and sentence vectors (half the encoder time)",
      )
        .choices(['embed', 'mean'])
        .default('embed'),
    )
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress bar')
    .action(async (inputs: string[], o) => {
      const files = await expandInputs(inputs).catch((e: Error) => fail(e.message, EXIT.usage));
      const indexDir = indexLocation(o.index);
      await checkWritable(indexDir, !!o.singleWriter, !!o.json || !!o.quiet);
      const modelDir = await resolveModelDir(o.model, indexDir);
      const embedder = await openEmbedder({
        inProcess: true,
        modelDir,
        precision: o.precision,
        threads: o.threads,
        device: o.device,
      });
      warnFallback(embedder);
      try {
        let store: IndexStore;
        try {
          store = await IndexStore.open(indexDir, embedder.identity, {
            create: true,
            rebuild: !!o.rebuild,
            vectorType: o.vectorType,
            sentenceScope: o.sentenceScope,
          });
        } catch (e) {
          throw explainIndexError(e, indexDir) ?? e;
        }
        if (store.meta.modelDir !== modelDir && !o.bulk) {
          store.meta.modelDir = modelDir;
          await store.saveMeta();
        }
        if (!o.json && !o.quiet)
          process.stderr.write(
            `index ${indexDir}\nmodel ${describeIdentity(embedder.identity)} on ${embedder.report.provider} (${embedder.report.precision})\n`,
          );
        const ac = new AbortController();
        const onInt = (): void => {
          ac.abort();
        };
        process.once('SIGINT', onInt);
        let s: BuildSummary;
        try {
          s = await buildWithProgress(store, embedder, files, {
            batchSize: o.batch,
            force: !!o.force,
            bulk: !!o.bulk,
            sentences: o.sentences,
            articleVector: o.articleVector,
            signal: ac.signal,
            quiet: !!o.quiet || !!o.json,
          });
        } catch (e) {
          throw explainIndexError(e, indexDir) ?? e;
        } finally {
          process.off('SIGINT', onInt);
        }
        const counts = await store.counts();
        store.close();
        if (o.json) process.stdout.write(JSON.stringify({ ...s, index: indexDir, ...counts }, null, 2) + '\n');
        else {
          printSummary(s);
          process.stdout.write(`index now holds ${counts.articles} citations and ${counts.sentences} sentences\n`);
        }
        if (s.rejected) process.exitCode = EXIT.rejected;
      } finally {
        await embedder.dispose();
      }
    });

  index
    .command('setup')
    .description(
      'create the tables and record the model, before the array tasks of a cluster build start (safe to run again)',
    )
    .addOption(indexOpt())
    .addOption(modelOpt())
    .addOption(vectorTypeOpt())
    .addOption(scopeOpt())
    .option('--single-writer', 'allow an object store that failed the conditional-PUT check')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const indexDir = indexLocation(o.index);
      await checkWritable(indexDir, !!o.singleWriter, !!o.json);
      const modelDir = await resolveModelDir(o.model, indexDir);
      const embedder = await openEmbedder({ inProcess: true, modelDir, precision: 'auto', device: 'cpu' });
      try {
        const store = await IndexStore.open(indexDir, embedder.identity, {
          create: true,
          vectorType: o.vectorType,
          sentenceScope: o.sentenceScope,
        }).catch((e) => {
          throw explainIndexError(e, indexDir) ?? e;
        });
        if (store.meta.modelDir !== modelDir) {
          store.meta.modelDir = modelDir;
          await store.saveMeta();
        }
        const counts = await store.counts();
        store.close();
        const r = {
          index: indexDir,
          model: embedder.identity,
          vectorType: vectorTypeOf(store.meta),
          sentenceScope: sentenceScopeOf(store.meta),
          ...counts,
        };
        if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        else
          process.stdout.write(
            `index ${indexDir} ready for model ${describeIdentity(embedder.identity)}, ${r.vectorType} vectors, sentences: ${SCOPE_WORDS[r.sentenceScope]} (${counts.articles} citations so far)\n`,
          );
      } finally {
        await embedder.dispose();
      }
    });

  index
    .command('finalize')
    .description(
      'after the array tasks: apply versions and deletions once, build the indexes, compact, drop old versions, tag the release',
    )
    .addOption(indexOpt())
    .option('--tag <name>', 'release tag (default: the date and the last PubMed file)')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const { indexDir, store } = await openExisting(o.index);
      try {
        const r = await finalizeIndex(store, {
          tag: o.tag,
          onStep: (s) => {
            if (!o.json) process.stderr.write(`  ${s}\n`);
          },
        });
        if (o.json) process.stdout.write(JSON.stringify({ index: indexDir, ...r }, null, 2) + '\n');
        else
          process.stdout.write(
            `finalized ${indexDir} in ${r.seconds.toFixed(1)} s: ${r.articles} citations, ${r.sentences} sentences; ` +
              `${r.resolved.articles} superseded or duplicate article rows and ${r.resolved.sentences} sentence rows removed; tag ${r.tag} (version ${r.version})\n`,
          );
      } finally {
        store.close();
      }
    });

  index
    .command('verify')
    .description(
      'check an index: meta.json, every file each table needs, every row, each index; names what is damaged and how to repair it (exit 4 when damaged)',
    )
    .addOption(indexOpt())
    .option('--json', 'JSON output')
    .action(async (o) => {
      const { verifyIndex } = await import('../../index/verify');
      const r = await verifyIndex(indexLocation(o.index), {
        onStep: (s) => {
          if (!o.json && process.stderr.isTTY) process.stderr.write(`  ${s}\n`);
        },
      });
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else {
        for (const [name, t] of Object.entries(r.tables))
          process.stdout.write(
            `${name.padEnd(10)} version ${t.version ?? '?'}, ${t.rows ?? '?'} rows${t.files !== undefined ? `, ${t.files} files` : ''}${t.indexes?.length ? `, ${t.indexes.join(' ')}` : ''}\n`,
          );
        if (r.ok) process.stdout.write(`${r.index}: ok (${r.seconds.toFixed(1)} s)\n`);
        else for (const p of r.problems) process.stdout.write(`damaged: ${p.message}\n  fix: ${p.fix}\n`);
      }
      if (!r.ok) process.exitCode = EXIT.missing;
    });

  index
    .command('stats')
    .description('what the index holds and which model made it')
    .addOption(indexOpt())
    .option('--json', 'JSON output')
    .action(async (o) => {
      const { indexDir, store } = await openExisting(o.index);
      // Reads that fail on a damaged table are explained as `search` explains them.
      const read = async () => {
        try {
          return {
            counts: await store.counts(),
            indices: { articles: await store.articles.listIndices(), sentences: await store.sentences.listIndices() },
            withAbstract: await store.countWithAbstract(),
            fileRows: [...(await store.fileRecords()).values()],
          };
        } catch (e) {
          store.close();
          throw explainIndexError(e, indexDir) ?? e;
        }
      };
      const { counts, indices, withAbstract, fileRows } = await read();
      const bytes = store.diskBytes();
      const complete = fileRows.filter((f) => f.status === 'complete');
      const nlm = complete.filter((f) => f.file_seq > 0).sort((a, b) => a.file_seq - b.file_seq);
      const stats = {
        index: indexDir,
        model: store.meta.model,
        modelDir: store.meta.modelDir,
        ...counts,
        withAbstract,
        diskBytes: bytes,
        bytesPerCitation: counts.articles ? Math.round(bytes / counts.articles) : 0,
        files: complete.length,
        filesIncomplete: fileRows.length - complete.length,
        lastPubmedFile: nlm.at(-1)?.name,
        release: store.meta.release,
        indexes: Object.fromEntries(
          Object.entries(indices).map(([k, v]) => [k, v.map((i) => `${i.indexType}(${i.columns.join(',')})`)]),
        ),
        ann: store.meta.ann ?? {},
        vectorType: vectorTypeOf(store.meta),
        sentenceScope: sentenceScopeOf(store.meta),
        updatedAt: store.meta.updatedAt,
      };
      store.close();
      if (o.json) {
        process.stdout.write(JSON.stringify(stats, null, 2) + '\n');
        return;
      }
      process.stdout.write(
        [
          `index      ${indexDir}`,
          `model      ${describeIdentity(stats.model)}`,
          `citations  ${counts.articles} (${withAbstract} with an abstract)`,
          `sentences  ${counts.sentences} (scope: ${SCOPE_WORDS[stats.sentenceScope]})`,
          `files      ${stats.files} completed${stats.filesIncomplete ? `, ${stats.filesIncomplete} started or with rejects` : ''}${stats.lastPubmedFile ? ` (last PubMed file ${stats.lastPubmedFile})` : ''}`,
          `on disk    ${(bytes / 1e6).toFixed(1)} MB (${stats.bytesPerCitation} bytes per citation)`,
          `indexes    articles: ${stats.indexes.articles.join(', ') || 'none'}; sentences: ${stats.indexes.sentences.join(', ') || 'none'}`,
          `vector     ${stats.vectorType}; ${
            Object.keys(stats.ann).length
              ? Object.entries(stats.ann)
                  .map(
                    ([t, p]) =>
                      `${t}: ${p.type} ${p.numPartitions} partitions${p.numBits ? ` (${p.numBits}-bit codes)` : ''}, nprobes ${p.nprobes}, refine ${p.refineFactor}`,
                  )
                  .join('; ')
              : 'flat (exact) search'
          }`,
        ].join('\n') + '\n',
      );
    });

  index
    .command('optimize')
    .description('compact the tables, fold new rows into the indexes, rebuild them, drop old versions')
    .addOption(indexOpt())
    .option('--json', 'JSON output')
    .action(async (o) => {
      const { indexDir, store } = await openExisting(o.index);
      const before = store.diskBytes();
      const t0 = Date.now();
      await store.optimize();
      await store.ensureIndexes({
        force: true,
        onStep: (s) => {
          if (!o.json) process.stderr.write(`  ${s}\n`);
        },
      });
      await store.optimize();
      const after = store.diskBytes();
      store.close();
      const r = { index: indexDir, bytesBefore: before, bytesAfter: after, seconds: (Date.now() - t0) / 1000 };
      if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
      else
        process.stdout.write(
          `optimized in ${r.seconds.toFixed(1)} s: ${(before / 1e6).toFixed(1)} MB → ${(after / 1e6).toFixed(1)} MB\n`,
        );
    });

  program
    .command('search')
    .description('related citations for a text (hybrid = reciprocal-rank fusion of dense and full-text)')
    .argument('<text>', 'the text (a sentence or a paragraph)')
    .addOption(indexOpt())
    .addOption(modelOpt())
    .addOption(precisionOpt())
    .addOption(deviceOpt())
    .option('--k <n>', 'number of results', int('--k'), 10)
    .addOption(
      new Option('--mode <mode>', 'dense | fts | hybrid').choices(['dense', 'fts', 'hybrid']).default('hybrid'),
    )
    .option('--year-from <year>', 'earliest publication year', year)
    .option('--year-to <year>', 'latest publication year', year)
    .option('--type <types>', 'publication types (any of, comma-separated)', list)
    .option('--has-abstract', 'only citations with an abstract')
    .option('--exclude <pmids>', 'PMIDs to leave out (comma-separated)', list)
    .option('--threads <n>', 'encoder threads', int('--threads'))
    .option('--json', 'JSON output')
    .action(async (text: string, o) => {
      const mode = o.mode as SearchMode;
      const { store, embedder } = await openForQuery(o, mode !== 'fts');
      try {
        const r = await search(store, embedder, text, {
          k: o.k,
          mode,
          excludePmids: o.exclude,
          filters: {
            yearFrom: o.yearFrom,
            yearTo: o.yearTo,
            publicationTypes: o.type,
            hasAbstract: o.hasAbstract ? true : undefined,
          },
        });
        // Citations outside the index's sentence scope: their best sentence from the abstract, split now.
        if (sentenceScopeOf(store.meta) !== 'all') await fillBestSentences(store, r.hits, text);
        if (o.json)
          process.stdout.write(
            JSON.stringify({ ...r, provider: embedder?.report.provider, model: store.identity }, null, 2) + '\n',
          );
        else {
          printSearch(r, text);
          if (embedder)
            process.stdout.write(
              `(encoder: ${embedder.report.provider}, ${embedder.report.precision}, ${r.ms.embed.toFixed(0)} ms)\n`,
            );
        }
      } catch (e) {
        throw explainIndexError(e, store.dir) ?? e;
      } finally {
        store.close();
        await embedder?.dispose();
      }
    });

  program
    .command('sentences')
    .description('sentences of the index most similar to a text')
    .argument('<text>', 'the text')
    .addOption(indexOpt())
    .addOption(modelOpt())
    .addOption(precisionOpt())
    .addOption(deviceOpt())
    .option('--k <n>', 'number of results', int('--k'), 10)
    .addOption(
      new Option('--mode <mode>', 'dense | fts (default: dense, or fts while the weights are generated)').choices([
        'dense',
        'fts',
      ]),
    )
    .option('--exclude <pmids>', 'PMIDs to leave out (comma-separated)', list)
    .option('--threads <n>', 'encoder threads', int('--threads'))
    .option('--json', 'JSON output')
    .action(async (text: string, o) => {
      const indexDir = indexLocation(o.index);
      let generated = false;
      try {
        generated = !!(await readMeta(parseLocation(indexDir)))?.model.generated;
      } catch {
        /* checked below */
      }
      const needModel = o.mode === 'dense' || (!o.mode && !generated);
      const { store, embedder } = await openForQuery(o, needModel);
      try {
        const r = await scopedSimilarSentences(store, embedder, text, {
          k: o.k,
          excludePmids: o.exclude,
          mode: o.mode,
        });
        if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        else printSentences(r);
      } catch (e) {
        throw explainIndexError(e, store.dir) ?? e;
      } finally {
        store.close();
        await embedder?.dispose();
      }
    });
}
