// `biohicl model …`: fetch (download + convert), convert, generate, info.
// Exit codes: 0 ok, 1 failure, 2 usage error, 4 a model folder whose files differ from its manifest (info --verify).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import * as cliProgress from 'cli-progress';
import { convertModel, generateModel, type ConvertPrecision, type ConvertProgress } from '../../inference/convert';
import { fetchModel, readPins, registryEntry, PINS_FILE, type FetchProgress } from '../../inference/hub';
import {
  readManifest,
  remakeHint,
  sha256File,
  verifyModelFiles,
  MANIFEST_FILE,
  type Manifest,
} from '../../inference/manifest';
import { defaultModelsDir } from '../../inference/paths';
import { EXIT } from '../exit';
import { errorText } from '../../util/errors';

export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}

const GENERATED_NOTICE =
  'These weights are GENERATED (random), not BioHiCL: timing measured on them is honest, ranking quality is not.';

const out = (s: string): void => {
  process.stdout.write(s + '\n');
};
const err = (s: string): void => {
  process.stderr.write(s + '\n');
};

function parsePrecisions(v: string | undefined): ConvertPrecision[] | undefined {
  if (v === undefined) return undefined;
  const ps = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of ps)
    if (!['fp32', 'int8', 'fp16'].includes(p))
      throw new UsageError(`--precisions: unknown precision '${p}' (fp32, int8, fp16)`);
  if (!ps.length) throw new UsageError('--precisions: empty list');
  return ps as ConvertPrecision[];
}

function mb(n: number): string {
  return (n / 1e6).toFixed(1);
}

/** One progress bar per file on a terminal; on a pipe, one line per finished file. */
function downloadReporter(): { onProgress: (p: FetchProgress) => void; stop: () => void } {
  const tty = !!process.stderr.isTTY;
  let bar: cliProgress.SingleBar | null = null;
  let current = '';
  let last: FetchProgress | null = null;
  const finishLine = (): void => {
    if (!tty && last) err(`  ${last.file}: ${mb(last.bytes)} MB at ${mb(last.rate)} MB/s`);
  };
  return {
    onProgress(p) {
      if (p.file !== current) {
        bar?.stop();
        finishLine();
        current = p.file;
        if (tty) {
          bar = new cliProgress.SingleBar(
            {
              format: '  {file} |{bar}| {percentage}% {done}/{size} MB {rate} MB/s eta {eta_formatted}',
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(p.total ?? p.bytes, p.bytes, {
            file: p.file,
            done: mb(p.bytes),
            size: p.total ? mb(p.total) : '?',
            rate: mb(p.rate),
          });
        }
      }
      last = p;
      if (bar) {
        if (p.total && bar.getTotal() !== p.total) bar.setTotal(p.total);
        bar.update(p.bytes, { done: mb(p.bytes), size: p.total ? mb(p.total) : '?', rate: mb(p.rate) });
      }
    },
    stop() {
      bar?.stop();
      finishLine();
      bar = null;
      last = null;
      current = '';
    },
  };
}

function convertReporter(): (p: ConvertProgress) => void {
  let lastStage = '';
  return (p) => {
    if (p.stage !== lastStage) {
      lastStage = p.stage;
      err(`  ${p.stage}${p.file ? ` → ${p.file}` : ''} (${p.done}/${p.total})`);
    }
  };
}

function printManifest(dir: string, m: Manifest): void {
  out(`model:      ${dir}`);
  out(`source:     ${m.source.repo} @ ${m.source.revision}${m.source.generated ? '  [GENERATED weights]' : ''}`);
  out(
    `shape:      ${m.config.layers} layers × ${m.config.hidden} hidden, ${m.config.heads} heads, FFN ${m.config.ffn}, vocab ${m.config.vocab}, ${m.config.maxPositions} positions`,
  );
  out(`embedding:  ${m.dim}-d, ${m.pooling.toUpperCase()} pooling, L2-normalised`);
  for (const [p, f] of Object.entries(m.files)) {
    const file = path.join(dir, f);
    const size = fs.existsSync(file) ? `${mb(fs.statSync(file).size)} MB` : 'MISSING';
    out(`  ${p.padEnd(5)} ${f} (${size})`);
  }
  const pins = path.join(dir, PINS_FILE);
  if (fs.existsSync(pins)) out(`pins:       ${pins}`);
  if (m.source.generated) out(GENERATED_NOTICE);
}

function registerFetch(model: Command): void {
  model
    .command('fetch')
    .description('download BioHiCL (or a bge backbone) from Hugging Face, verify it and convert it to ONNX')
    .addOption(new Option('--variant <variant>', 'BioHiCL variant').choices(['base', 'large']))
    .addOption(
      new Option('--model <id>', 'any registry id instead of --variant (bge-base, bge-large, …)').conflicts('variant'),
    )
    .option('--revision <rev>', 'a revision other than the pinned one (needs --allow-unpinned)')
    .option('--allow-unpinned', 'accept a revision without registry hashes; its hashes are recorded in pins.json')
    .option('--dir <dir>', 'converted model folder (default: <models>/<id>)')
    .option('--precisions <list>', 'comma-separated subset of fp32,int8,fp16 (default all)')
    .option('--force', 'fetch and convert even if the folder already holds this model')
    .action(
      async (o: {
        variant?: string;
        model?: string;
        revision?: string;
        allowUnpinned?: boolean;
        dir?: string;
        precisions?: string;
        force?: boolean;
      }) => {
        if (!o.variant && !o.model)
          throw new UsageError('model fetch: give --variant base|large (or --model <registry id>)');
        const id = o.model ?? `biohicl-${o.variant}`;
        let entry;
        try {
          entry = registryEntry(id);
        } catch (e) {
          throw new UsageError(errorText(e));
        }
        const precisions = parsePrecisions(o.precisions);
        const outDir = path.resolve(o.dir ?? path.join(defaultModelsDir(), id));
        const downloadDir = path.join(defaultModelsDir(), 'downloads', id);

        if (!o.force && fs.existsSync(path.join(outDir, MANIFEST_FILE))) {
          const m = readManifest(outDir);
          const wanted = o.revision ?? entry.revision;
          if (
            m.source.repo === entry.repo &&
            (!wanted || wanted === m.source.revision || wanted === readPinsRevision(outDir))
          ) {
            // Already there, unless a file was changed since: then it is fetched and converted again.
            const damaged = await verifyModelFiles(outDir, Object.keys(m.outputs), m).then(
              () => undefined,
              (e: Error) => e,
            );
            if (!damaged) {
              out(
                `${id} is already converted in ${outDir} (${m.source.repo} @ ${m.source.revision}); nothing fetched. Use --force to redo it.`,
              );
              return;
            }
            err(
              `${outDir} holds ${id} but a file differs from its manifest (${damaged.message.split('. ')[0]}); fetching and converting it again`,
            );
          }
        }
        const bars = downloadReporter();
        err(`fetching ${id} (${entry.repo}) into ${downloadDir}`);
        let res;
        try {
          res = await fetchModel({
            id,
            revision: o.revision,
            destDir: downloadDir,
            allowUnpinned: !!o.allowUnpinned,
            baseUrl: process.env.HF_ENDPOINT || undefined,
            onProgress: bars.onProgress,
            onLog: (l) => {
              bars.stop();
              err(`  ${l}`);
            },
          });
        } finally {
          bars.stop();
        }
        err(
          `converting ${res.kind === 'adapter' ? `the LoRA adapter merged into ${res.base?.repo}` : 'the weights'} → ${outDir}`,
        );
        const manifest = await convertModel({
          srcDir: res.dir,
          baseDir: res.base?.dir,
          outDir,
          precisions,
          source: { repo: res.repo, revision: res.commit ?? res.revision },
          onProgress: convertReporter(),
        });
        fs.copyFileSync(path.join(res.dir, PINS_FILE), path.join(outDir, PINS_FILE));
        printManifest(outDir, manifest);
        if (!res.pinned) {
          out(
            `UNPINNED: ${res.repo} @ ${res.revision} (commit ${res.commit ?? 'unknown'}) was not checked against registry hashes; ` +
              `the sha256 of every file is recorded in ${path.join(outDir, PINS_FILE)}.`,
          );
        }
      },
    );
}

function readPinsRevision(dir: string): string | undefined {
  try {
    return readPins(dir)?.revision;
  } catch {
    return undefined;
  }
}

function registerConvert(model: Command): void {
  model
    .command('convert')
    .description('convert a local Hugging Face BERT folder (or a PEFT LoRA adapter with --base) to ONNX')
    .argument(
      '<srcDir>',
      'folder with config.json + model.safetensors|pytorch_model.bin, or adapter_config.json + adapter weights',
    )
    .requiredOption('--out <dir>', 'output model folder')
    .option('--base <dir>', 'base model folder for a LoRA adapter')
    .option('--precisions <list>', 'comma-separated subset of fp32,int8,fp16 (default all)')
    .action(async (srcDir: string, o: { out: string; base?: string; precisions?: string }) => {
      const src = path.resolve(srcDir);
      if (!fs.existsSync(src) || !fs.statSync(src).isDirectory())
        throw new UsageError(`model convert: ${src} is not a folder`);
      if (o.base && !fs.existsSync(o.base)) throw new UsageError(`model convert: --base ${o.base} does not exist`);
      const precisions = parsePrecisions(o.precisions);
      let source = { repo: `local:${src}`, revision: 'local' };
      const p = readPins(src);
      if (p) source = { repo: p.repo, revision: p.commit ?? p.revision };
      const outDir = path.resolve(o.out);
      err(`converting ${src}${o.base ? ` (adapter over ${o.base})` : ''} → ${outDir}`);
      const m = await convertModel({
        srcDir: src,
        baseDir: o.base ? path.resolve(o.base) : undefined,
        outDir,
        precisions,
        source,
        onProgress: convertReporter(),
      });
      printManifest(outDir, m);
    });
}

function registerGenerate(model: Command): void {
  model
    .command('generate')
    .description(
      'write RANDOM weights with the exact shapes of the released models and convert them (offline demos, benchmarks)',
    )
    .addOption(new Option('--shape <shape>', 'model shape').choices(['tiny', 'base', 'large']).makeOptionMandatory())
    .option('--out <dir>', 'output model folder (default: <models>/generated-<shape>)')
    .option('--seed <n>', 'random seed', '42')
    .option('--precisions <list>', 'comma-separated subset of fp32,int8,fp16 (default all)')
    .action(async (o: { shape: 'tiny' | 'base' | 'large'; out?: string; seed: string; precisions?: string }) => {
      const seed = Number(o.seed);
      if (!Number.isInteger(seed) || seed < 0)
        throw new UsageError(`--seed: expected a non-negative integer, got '${o.seed}'`);
      const precisions = parsePrecisions(o.precisions);
      const outDir = path.resolve(o.out ?? path.join(defaultModelsDir(), `generated-${o.shape}`));
      out(GENERATED_NOTICE);
      err(`generating ${o.shape} (seed ${seed}) → ${outDir}`);
      const m = await generateModel({ shape: o.shape, outDir, seed, precisions, onProgress: convertReporter() });
      printManifest(outDir, m);
    });
}

function registerInfo(model: Command): void {
  model
    .command('info')
    .description('show a converted model (or list the models in the models folder)')
    .argument('[dir]', 'model folder')
    .option('--verify', 're-hash the ONNX and tokenizer files against the manifest')
    .action(async (dir: string | undefined, o: { verify?: boolean }) => {
      if (!dir) {
        const root = defaultModelsDir();
        const dirs = fs.existsSync(root)
          ? fs
              .readdirSync(root)
              .map((d) => path.join(root, d))
              .filter((d) => fs.existsSync(path.join(d, MANIFEST_FILE)))
          : [];
        if (!dirs.length) {
          out(
            `no converted models in ${root}. Try: biohicl model generate --shape base   or   biohicl model fetch --variant base`,
          );
          return;
        }
        for (const d of dirs) {
          const m = readManifest(d);
          out(
            `${path.basename(d).padEnd(20)} ${m.source.repo} @ ${m.source.revision}  ${m.dim}-d${m.source.generated ? '  [GENERATED weights]' : ''}`,
          );
        }
        return;
      }
      const d = path.resolve(dir);
      if (!fs.existsSync(path.join(d, MANIFEST_FILE)))
        throw new Error(`${d}: no ${MANIFEST_FILE} (not a converted model folder)`);
      const m = readManifest(d);
      printManifest(d, m);
      if (o.verify) {
        // A full re-hash of every output (the load-time check trusts its cache for files it has already hashed).
        const bad: string[] = [];
        for (const [f, want] of Object.entries(m.outputs)) {
          const p = path.join(d, f);
          const got = fs.existsSync(p) ? await sha256File(p) : undefined;
          if (got !== want) {
            bad.push(f);
            err(`  ${f}: ${got ? `sha256 ${got}` : 'MISSING'}, manifest records ${want}`);
          }
        }
        if (bad.length) {
          throw Object.assign(
            new Error(
              `${d}: files differ from the manifest: ${bad.join(', ')}; the model cannot be used. ` +
                `Make the folder again: ${remakeHint(d, m)}`,
            ),
            { exitCode: EXIT.missing },
          );
        }
        out('verify:     all files match the manifest');
      }
    });
}

export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('fetch, convert, generate and inspect models');
  // Usage errors exit with 2: inherited from the program's exitOverride (src/cli/main.ts).
  registerFetch(model);
  registerConvert(model);
  registerGenerate(model);
  registerInfo(model);
}
