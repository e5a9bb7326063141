// `biohicl pubmed …`: NLM's PubMed distribution. `fetch` downloads baseline/update files (src/pubmed/fetch.ts).
// Exit codes: 0 ok; 1 some file failed or the run was cancelled (the other files stay verified); 2 bad usage;
// 4 no such listing on the mirror, or --files names files the mirror does not list.
import * as path from 'node:path';
import { Command, Option } from 'commander';
import * as cliProgress from 'cli-progress';
import { biohiclHome } from '../../inference/paths';
import {
  fetchPubmed,
  MAX_CONNECTIONS,
  PubmedFetchError,
  type FetchPubmedProgress,
  type FetchSummary,
} from '../../pubmed/fetch';
import { NLM_MIRROR, type NlmKind } from '../../pubmed/nlm';
import { lastPubmedFile, planUpdate, type UpdatePlan } from '../../pubmed/update';
import { defaultIndexDir } from '../../inference/paths';
import { IndexStore } from '../../index/store';
import { explainIndexError } from '../../index/errors';
import { describeLocation, parseLocation } from '../../index/location';
import { buildWithProgress, printSummary, resolveModelDir } from './index-cmds';

import { EXIT as PUBMED_EXIT } from '../exit';

/** Default output folder: $BIOHICL_HOME/pubmed. */
export const defaultPubmedDir = (): string => path.join(biohiclHome(), 'pubmed');
/** Default mirror: $BIOHICL_PUBMED_MIRROR, else NLM's. */
export const defaultMirror = (): string => process.env.BIOHICL_PUBMED_MIRROR || NLM_MIRROR;

import { positiveInt as positive, usageError as usage } from '../exit';
import { openEmbedder } from '../../inference/client';
const connectionsArg = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONNECTIONS)
    throw usage(`--connections must be 1..${MAX_CONNECTIONS} (NLM asks for moderate use), got '${v}'`);
  return n;
};
const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const mb = (n: number): string => (n / 1e6).toFixed(1);

/** A byte bar with rate and ETA on stderr (a line every 10 s when stderr is not a terminal), and log lines above it. */
function progressReporter(quiet: boolean): {
  onProgress: (p: FetchPubmedProgress) => void;
  log: (l: string) => void;
  stop: () => void;
} {
  if (quiet) return { onProgress: () => {}, log: () => {}, stop: () => {} };
  const tty = !!process.stderr.isTTY;
  const make = (): cliProgress.MultiBar =>
    new cliProgress.MultiBar({
      format: ' {bar} {percentage}% | {done}/{size} MB | {rate} MB/s | ETA {eta_formatted} | {files} files | {active}',
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: tty,
      etaBuffer: 50,
      fps: 4,
      noTTYOutput: !tty,
      notTTYSchedule: 10_000,
      stream: process.stderr,
      clearOnComplete: false,
    });
  let multi: cliProgress.MultiBar | undefined;
  let bar: cliProgress.SingleBar | undefined;
  return {
    onProgress(p) {
      if (p.phase !== 'download' && !bar) return;
      const total = Math.max(1, p.totalBytes);
      const payload = {
        done: mb(p.bytes),
        size: mb(p.totalBytes),
        rate: mb(p.rate),
        files: `${p.filesDone}/${p.filesTotal}`,
        active: p.phase === 'recheck' ? 'checking the listing again' : p.active.join(' '),
      };
      if (!bar) bar = (multi ??= make()).create(total, Math.min(p.bytes, total), payload);
      if (bar.getTotal() !== total) bar.setTotal(total);
      bar.update(Math.min(p.bytes, total), payload);
    },
    log(l) {
      if (tty && multi) multi.log(l + '\n');
      else process.stderr.write(l + '\n');
    },
    stop() {
      multi?.stop();
    },
  };
}

export function printFetchSummary(
  s: FetchSummary,
  out: (l: string) => void = (l) => process.stdout.write(l + '\n'),
): void {
  const failed = s.failures.length;
  out(
    `${s.cancelled ? 'cancelled: ' : ''}downloaded ${s.downloaded.length}, skipped ${s.skipped.length} (already verified), failed ${failed}` +
      ` of ${s.selected} files: ${mb(s.bytes)} MB in ${s.seconds.toFixed(1)} s (${mb(s.rate)} MB/s) into ${s.outDir}`,
  );
  for (const f of s.failures) out(`  failed: ${f.message}`);
  for (const n of s.notes) out(`  note: ${n}`);
  if (s.cancelled) out('  run the same command again to resume (partial downloads are kept)');
  else if (failed) out('  the other files are verified; run the same command again to retry the failed ones');
}

function registerFetch(pubmed: Command): void {
  pubmed
    .command('fetch')
    .description(
      'download PubMed baseline and/or update files from NLM (or a mirror), md5-verified and resumable; ' +
        'a rerun skips files already verified. Exit 1 when a file failed (the others stay).',
    )
    .addOption(new Option('--baseline', 'baseline files only').conflicts('updates'))
    .addOption(new Option('--updates', 'update files only').conflicts('baseline'))
    .addOption(
      new Option('--from <n>', 'first file number (pubmed26n0003 is 3)')
        .argParser(positive('--from'))
        .conflicts('files'),
    )
    .addOption(new Option('--to <n>', 'last file number').argParser(positive('--to')).conflicts('files'))
    .addOption(
      new Option('--files <list>', 'only these files (names or numbers, comma-separated)')
        .argParser(list)
        .conflicts('after'),
    )
    .option('--after <file>', 'only files after this one (e.g. the last update file already indexed)')
    .option('--out <dir>', 'output folder (baseline/ and updatefiles/ inside)', defaultPubmedDir())
    .option(
      '--mirror <url>',
      "mirror root (a lab mirror laid out like NLM's; $BIOHICL_PUBMED_MIRROR sets the default)",
      defaultMirror(),
    )
    .option('--connections <n>', `parallel connections, 1..${MAX_CONNECTIONS}`, connectionsArg, MAX_CONNECTIONS)
    .option('--recheck', 're-hash local files even when their verification record is current')
    .option(
      '--no-inflate-check',
      'do not inflate each file to its end while it downloads (the md5 still verifies every byte; for fast LAN mirrors)',
    )
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress bar')
    .action(
      async (o: {
        baseline?: boolean;
        updates?: boolean;
        from?: number;
        to?: number;
        files?: string[];
        after?: string;
        out: string;
        mirror: string;
        connections: number;
        recheck?: boolean;
        inflateCheck: boolean;
        json?: boolean;
        quiet?: boolean;
      }) => {
        const kinds: NlmKind[] = o.baseline ? ['baseline'] : o.updates ? ['update'] : ['baseline', 'update'];
        const rep = progressReporter(!!o.quiet || !!o.json);
        const ac = new AbortController();
        const onInt = (): void => {
          ac.abort();
        };
        process.once('SIGINT', onInt);
        let s: FetchSummary;
        try {
          if (!o.quiet && !o.json)
            process.stderr.write(
              `fetching from ${o.mirror} into ${path.resolve(o.out)} (${o.connections} connection${o.connections > 1 ? 's' : ''})\n`,
            );
          s = await fetchPubmed({
            outDir: o.out,
            mirror: o.mirror,
            kinds,
            from: o.from,
            to: o.to,
            files: o.files,
            after: o.after,
            connections: o.connections,
            recheck: !!o.recheck,
            inflateCheck: o.inflateCheck,
            signal: ac.signal,
            onProgress: rep.onProgress,
            onLog: rep.log,
          });
        } catch (e) {
          if (e instanceof PubmedFetchError) throw Object.assign(new Error(e.message), { exitCode: e.exitCode });
          throw e;
        } finally {
          rep.stop();
          process.off('SIGINT', onInt);
        }
        if (o.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
        else printFetchSummary(s);
        if (s.failures.length || s.cancelled) process.exitCode = PUBMED_EXIT.failure;
      },
    );
}

function registerUpdate(pubmed: Command): void {
  pubmed
    .command('update')
    .description(
      'keep an index current: fetch the update files it has not seen yet and apply them in order ' +
        '(only new or changed citations are embedded). Interruptible: run it again to resume.',
    )
    .option('--index <dir|uri>', 'index folder or s3:// location', defaultIndexDir())
    .option('--model <dir>', 'model folder (default: the one that built the index)')
    .option('--out <dir>', 'where update files are kept (updatefiles/ inside)', defaultPubmedDir())
    .option('--mirror <url>', 'mirror root ($BIOHICL_PUBMED_MIRROR sets the default)', defaultMirror())
    .option('--connections <n>', `parallel connections, 1..${MAX_CONNECTIONS}`, connectionsArg, MAX_CONNECTIONS)
    .option('--after <file>', 'apply the update files after this one (default: the last PubMed file in the index)')
    .addOption(
      new Option('--device <device>', 'execution provider').choices(['auto', 'cuda', 'dml', 'cpu']).default('auto'),
    )
    .addOption(
      new Option('--precision <p>', 'encoder precision').choices(['auto', 'fp32', 'int8', 'fp16']).default('auto'),
    )
    .option('--threads <n>', 'encoder threads', positive('--threads'))
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress bars')
    .action(
      async (o: {
        index: string;
        model?: string;
        out: string;
        mirror: string;
        connections: number;
        after?: string;
        device: string;
        precision: string;
        threads?: number;
        json?: boolean;
        quiet?: boolean;
      }) => {
        const where = describeLocation(parseLocation(o.index));
        const quiet = !!o.quiet || !!o.json;
        const say = (l: string): void => {
          if (!quiet) process.stderr.write(l + '\n');
        };
        const rep = progressReporter(quiet);
        const ac = new AbortController();
        const onInt = (): void => {
          ac.abort();
        };
        process.once('SIGINT', onInt);
        try {
          let plan: UpdatePlan;
          const ro = await IndexStore.open(where, undefined, {}).catch((e) => {
            throw explainIndexError(e, where) ?? e;
          });
          try {
            say(
              `index ${where}: fetching the update files after ${o.after ?? (await lastPubmedFile(ro)) ?? '(none)'} from ${o.mirror}`,
            );
            plan = await planUpdate(ro, {
              outDir: o.out,
              mirror: o.mirror,
              after: o.after,
              connections: o.connections,
              signal: ac.signal,
              onProgress: rep.onProgress,
              onLog: rep.log,
            });
          } catch (e) {
            if (e instanceof PubmedFetchError) throw Object.assign(new Error(e.message), { exitCode: e.exitCode });
            throw e;
          } finally {
            rep.stop();
            ro.close();
          }
          const { after, fetched, apply } = plan;
          if (!quiet) printFetchSummary(fetched, (l) => process.stderr.write(l + '\n'));
          if (fetched.cancelled) {
            process.exitCode = PUBMED_EXIT.failure;
            return;
          }
          if (!apply.length) {
            const r = {
              index: where,
              after,
              fetched: fetched.downloaded.length,
              applied: [] as string[],
              failures: fetched.failures,
            };
            if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
            else
              process.stdout.write(
                fetched.failures.length
                  ? `no update file applied (${fetched.failures.length} failed to download)\n`
                  : `the index is current (last file ${after})\n`,
              );
            if (fetched.failures.length) process.exitCode = PUBMED_EXIT.failure;
            return;
          }
          const modelDir = await resolveModelDir(o.model, where);
          const embedder = await openEmbedder({
            inProcess: true,
            modelDir,
            precision: o.precision as never,
            threads: o.threads,
            device: o.device as never,
          });
          try {
            if (embedder.report.fallbackReason) process.stderr.write(`note: ${embedder.report.fallbackReason}\n`);
            const store = await IndexStore.open(where, embedder.identity, { create: true }).catch((e) => {
              throw explainIndexError(e, where) ?? e;
            });
            try {
              say(
                `applying ${apply.length} update file${apply.length > 1 ? 's' : ''}: ${apply.map((p) => path.basename(p)).join(', ')}`,
              );
              const s = await buildWithProgress(store, embedder, apply, { signal: ac.signal, quiet });
              const last = await lastPubmedFile(store);
              if (o.json)
                process.stdout.write(
                  JSON.stringify(
                    {
                      index: where,
                      after,
                      fetched: fetched.downloaded.length,
                      applied: apply.map((p) => path.basename(p)),
                      last,
                      ...s,
                      failures: fetched.failures,
                    },
                    null,
                    2,
                  ) + '\n',
                );
              else {
                printSummary(s);
                process.stdout.write(`index current to ${last}\n`);
              }
              if (fetched.failures.length) process.exitCode = PUBMED_EXIT.failure;
              else if (s.rejected) process.exitCode = PUBMED_EXIT.rejected;
            } finally {
              store.close();
            }
          } finally {
            await embedder.dispose();
          }
        } finally {
          process.off('SIGINT', onInt);
        }
      },
    );
}

/** The `pubmed` command group (returned so that further subcommands can be added to it). */
export function registerPubmedCommands(program: Command): Command {
  const pubmed = program
    .command('pubmed')
    .description("NLM's PubMed distribution: fetch baseline and update files, keep an index current");
  registerFetch(pubmed);
  registerUpdate(pubmed);
  return pubmed;
}
