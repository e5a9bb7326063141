// `biohicl index publish` and `biohicl index pull`, registered under the `index` group that index-cmds.ts creates.
// Exit codes as for the other index commands: 0 ok; 1 failure (a release that does not match its manifest, a
// connection that could not be resumed, a full disk: the working index is untouched in every case); 2 usage;
// 3 the release was built by another model than the local one; 4 no index, release or model there.
import * as path from 'node:path';
import { Command, Option } from 'commander';
import * as cliProgress from 'cli-progress';
import { defaultIndexDir } from '../../inference/paths';
import { describeIdentity } from '../../index/store';
import { publishRelease } from '../../release/publish';
import { layoutFor, pullRelease, rollback, type PullProgress } from '../../release/pull';
import { fmtBytes } from '../../release/manifest';
import { resolveModelDir } from './index-cmds';
import { EXIT, positiveInt as positive } from '../exit';

export function registerReleaseCommands(program: Command): void {
  const index = program.commands.find((c) => c.name() === 'index');
  if (!index)
    throw new Error('registerReleaseCommands: call it after registerIndexCommands (no `index` command group yet)');

  index
    .command('publish')
    .description(
      'make a release of the index: one tagged version of each table plus release.json (files with size and sha256, ' +
        'the model identity, the PubMed files in it with their md5) in a folder any static HTTP server or object store can serve',
    )
    .addOption(new Option('--index <dir>', 'index folder').default(defaultIndexDir()))
    .requiredOption('--out <folder>', 'the release folder to create (new or empty)')
    .option(
      '--tag <name>',
      'release tag; an existing tag of the index (from `index finalize --tag`) publishes that version (default: the finalize tag, else release-<date>-<last PubMed file> of the current version)',
    )
    .option('--force', 'replace a release already in --out')
    .option('--json', 'JSON output')
    .action(async (o: { index: string; out: string; tag?: string; force?: boolean; json?: boolean }) => {
      const r = await publishRelease({
        index: o.index,
        out: o.out,
        tag: o.tag,
        force: !!o.force,
        onStep: (s) => {
          if (!o.json) process.stderr.write(`  ${s}\n`);
        },
      });
      if (o.json) {
        process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      process.stdout.write(
        `published ${r.tag} to ${r.out} in ${r.seconds.toFixed(1)} s: ${r.counts.articles} citations, ${r.counts.sentences} sentences, ` +
          `${r.pubmedFiles} input files; ${r.files} files, ${fmtBytes(r.totalBytes)} (${Object.entries(r.tables)
            .map(([t, i]) => `${t} v${i.version}`)
            .join(', ')})\n` +
          `serve the folder with any static HTTP server that answers Range requests, or copy it to s3://…; then: biohicl index pull <url> --index <dir>\n`,
      );
    });

  index
    .command('pull')
    .description(
      'copy a release from an https:// URL, an s3://bucket/prefix or a folder: only the files the local index lacks, ' +
        'resumable, every file verified, switched atomically (the old index answers until the new one is complete). --rollback goes back to the previous release',
    )
    .argument('[source]', 'release URL, s3:// URI or folder (where release.json is)')
    .addOption(
      new Option('--index <dir>', 'index path (becomes a symlink to <dir>.releases/<release>)').default(
        defaultIndexDir(),
      ),
    )
    .option(
      '--model <dir>',
      'the local model folder (default: the one the index was built with, else <home>/models/generated-base); a release of another model is refused',
    )
    .option('--concurrency <n>', 'files downloaded at once', positive('--concurrency'), 4)
    .option('--rehash', 're-hash the local files instead of trusting the recorded hashes')
    .option('--rollback', 'point the index back at the release it used before the last pull')
    .option('--json', 'JSON output')
    .option('--quiet', 'no progress bar')
    .action(
      async (
        source: string | undefined,
        o: {
          index: string;
          model?: string;
          concurrency: number;
          rehash?: boolean;
          rollback?: boolean;
          json?: boolean;
          quiet?: boolean;
        },
      ) => {
        if (o.rollback) {
          if (source) throw Object.assign(new Error('--rollback takes no source'), { exitCode: EXIT.usage });
          const r = rollback(o.index);
          if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
          else process.stdout.write(`${r.index} → ${r.to} (was ${r.from ?? 'nothing'})\n`);
          return;
        }
        if (!source)
          throw Object.assign(new Error('index pull: give the release URL, s3:// URI or folder (or --rollback)'), {
            exitCode: EXIT.usage,
          });
        const indexPath = path.resolve(o.index);
        const modelDir = await resolveModelDir(o.model, indexPath);
        const tty = !o.quiet && !o.json && process.stderr.isTTY;
        const bar =
          o.quiet || o.json
            ? undefined
            : new cliProgress.SingleBar({
                format: ' {bar} {percentage}% | {got}/{need} | {rate}/s | ETA {eta_formatted} | {phase} {file}',
                barCompleteChar: '█',
                barIncompleteChar: '░',
                hideCursor: tty,
                fps: 4,
                noTTYOutput: !tty,
                notTTYSchedule: 10_000,
                stream: process.stderr,
              });
        const t0 = Date.now();
        let started = false;
        const onProgress = (p: PullProgress): void => {
          if (!bar) return;
          if (!started) {
            bar.start(Math.max(1, p.total), 0, {
              got: '0 B',
              need: fmtBytes(p.total),
              rate: '0 B',
              phase: p.phase,
              file: '',
            });
            started = true;
          }
          if (p.total && p.total !== bar.getTotal()) bar.setTotal(p.total);
          bar.update(Math.min(p.bytes, Math.max(1, p.total)), {
            got: fmtBytes(p.bytes),
            need: fmtBytes(p.total),
            rate: fmtBytes(Math.round(p.bytes / Math.max(0.001, (Date.now() - t0) / 1000))),
            phase: p.phase,
            file: p.file ? path.basename(p.file) : '',
          });
        };
        const ac = new AbortController();
        const onInt = (): void => {
          ac.abort();
        };
        process.once('SIGINT', onInt);
        try {
          const r = await pullRelease({
            source,
            index: indexPath,
            modelDir,
            concurrency: o.concurrency,
            rehash: !!o.rehash,
            signal: ac.signal,
            onProgress,
            onLog: (l) => {
              if (!o.json && !o.quiet) process.stderr.write(`${tty ? '\n' : ''}  ${l}\n`);
            },
          });
          bar?.stop();
          if (o.json) {
            process.stdout.write(JSON.stringify(r, null, 2) + '\n');
            return;
          }
          if (r.status === 'up-to-date') {
            process.stdout.write(`${r.index} already holds release ${r.tag} (${r.releaseDir})\n`);
            return;
          }
          process.stdout.write(
            `pulled ${r.tag} in ${r.seconds.toFixed(1)} s: ${r.files} files, ${fmtBytes(r.totalBytes)}; received ${fmtBytes(r.receivedBytes)} ` +
              `(${r.downloadedFiles} files), ${r.linkedFiles} files (${fmtBytes(r.linkedBytes)}) already here${r.stagedFiles ? `, ${r.stagedFiles} staged earlier` : ''}\n` +
              `${r.index} → ${r.releaseDir}: ${r.counts.articles} citations, ${r.counts.sentences} sentences, model ${describeIdentity(r.model)}\n` +
              (r.previous
                ? `previous ${/^local-/.test(r.previous) ? 'index (the folder that was at this path)' : 'release'} kept until the next pull: ` +
                  `${path.join(layoutFor(indexPath).root, r.previous)} (back to it: biohicl index pull --rollback --index ${r.index})\n`
                : ''),
          );
        } finally {
          process.off('SIGINT', onInt);
          bar?.stop();
        }
      },
    );
}
