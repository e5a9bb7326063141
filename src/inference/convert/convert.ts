// convertModel: a Hugging Face BERT folder (config.json + model.safetensors | pytorch_model.bin, or a PEFT LoRA
// adapter over a base folder) → a model folder with model.onnx (fp32, fused contrib ops), model.int8.onnx,
// model.fp16.onnx, the tokenizer, config.json and manifest.json (written last).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v from 'valibot';
import { errorText } from '../../util/errors';
import { JsonError, readJson } from '../../util/json';
import type { StateDict } from './tensor';
import { readSafetensors } from './safetensors';
import { readTorchBin } from './pickle';
import { mergeLora } from './lora';
import { buildBertGraph, parseBertConfig, type BertConfig, type GraphPrecision } from './graph';
import { writeOnnxModel } from './onnx-proto';
import { MANIFEST_FILE, VERIFY_CACHE_FILE, sha256File, type Manifest } from '../manifest';

export type ConvertPrecision = GraphPrecision;
export const MODEL_FILES: Record<ConvertPrecision, string> = {
  fp32: 'model.onnx',
  int8: 'model.int8.onnx',
  fp16: 'model.fp16.onnx',
};
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

export interface ConvertProgress {
  stage: string;
  file?: string;
  done: number;
  total: number;
}

export interface ConvertOptions {
  srcDir: string;
  outDir: string;
  /** For a LoRA adapter folder: the base model folder (config.json + weights). */
  baseDir?: string;
  /** Default: all of fp32, int8, fp16. */
  precisions?: ConvertPrecision[];
  source: { repo: string; revision: string; generated?: boolean };
  onProgress?: (p: ConvertProgress) => void;
  /** fp32/fp16 graph with onnxruntime contrib ops (default true); false = standard ops only. */
  fused?: boolean;
  /** int8: 7-bit weights (default false; see GraphOptions.reduceRange). */
  reduceRange?: boolean;
  /** Already-loaded weights for srcDir (generateModel passes them to skip re-reading). */
  preloaded?: StateDict;
}

interface LoadedWeights {
  sd: StateDict;
  cfg: BertConfig;
  configFile: string;
  inputs: Record<string, string>;
  tokenizerDir: string;
}

/** `<weights>.index.json` of a sharded checkpoint: parameter → shard file (in the same folder). */
const ShardIndexSchema = v.object({
  weight_map: v.record(
    v.string(),
    v.pipe(
      v.string(),
      v.check((f) => !/[/\\]/.test(f) && !f.startsWith('.'), 'expected a shard file name in the same folder'),
    ),
  ),
});

/** A JSON file the converter reads, unchecked here (its parser names what is wrong); a missing one named. */
function readAny(file: string): unknown {
  try {
    return readJson(file, v.unknown());
  } catch (e) {
    if (e instanceof JsonError) throw e;
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? errorText(e)})`);
  }
}

/** Reads model.safetensors, else pytorch_model.bin (each possibly sharded with an `.index.json`), from `dir`;
 *  records the hash of every file read. */
async function loadFull(dir: string, inputs: Record<string, string>, prefix: string): Promise<StateDict> {
  for (const [single, reader] of [
    ['model.safetensors', readSafetensors],
    ['pytorch_model.bin', (f: string) => Promise.resolve(readTorchBin(f))],
  ] as const) {
    const file = path.join(dir, single);
    if (fs.existsSync(file)) {
      inputs[prefix + single] = await sha256File(file);
      return reader(file);
    }
    const indexFile = `${file}.index.json`;
    if (!fs.existsSync(indexFile)) continue;
    const map = readJson(indexFile, ShardIndexSchema).weight_map;
    inputs[prefix + path.basename(indexFile)] = await sha256File(indexFile);
    const sd: StateDict = new Map();
    for (const shard of [...new Set(Object.values(map))].sort()) {
      const shardFile = path.join(dir, shard);
      if (!fs.existsSync(shardFile)) throw new Error(`${indexFile}: shard ${shard} is missing`);
      inputs[prefix + shard] = await sha256File(shardFile);
      for (const [k, t] of await reader(shardFile)) sd.set(k, t);
    }
    return sd;
  }
  throw new Error(`${dir}: no model.safetensors or pytorch_model.bin (nor a sharded .index.json)`);
}

async function loadWeights(opts: ConvertOptions): Promise<LoadedWeights> {
  const { srcDir } = opts;
  const inputs: Record<string, string> = {};
  const adapterCfgFile = path.join(srcDir, 'adapter_config.json');
  if (fs.existsSync(adapterCfgFile)) {
    if (!opts.baseDir)
      throw new Error(
        `${adapterCfgFile}: this is a LoRA adapter; the base model folder (baseDir) is needed to merge it`,
      );
    const adapterConfig = readAny(adapterCfgFile);
    inputs['adapter_config.json'] = await sha256File(adapterCfgFile);
    const ast = path.join(srcDir, 'adapter_model.safetensors');
    const abin = path.join(srcDir, 'adapter_model.bin');
    let adapter: StateDict;
    if (fs.existsSync(ast)) {
      inputs['adapter_model.safetensors'] = await sha256File(ast);
      adapter = await readSafetensors(ast);
    } else if (fs.existsSync(abin)) {
      inputs['adapter_model.bin'] = await sha256File(abin);
      adapter = await Promise.resolve(readTorchBin(abin));
    } else {
      throw new Error(`${srcDir}: adapter_config.json without adapter_model.safetensors or adapter_model.bin`);
    }
    const configFile = path.join(opts.baseDir, 'config.json');
    const cfg = parseBertConfig(readAny(configFile), configFile);
    inputs['base/config.json'] = await sha256File(configFile);
    const base = await loadFull(opts.baseDir, inputs, 'base/');
    const sd = mergeLora(base, adapter, adapterConfig, adapterCfgFile);
    const tokenizerDir = fs.existsSync(path.join(srcDir, 'tokenizer.json')) ? srcDir : opts.baseDir;
    return { sd, cfg, configFile, inputs, tokenizerDir };
  }
  const configFile = path.join(srcDir, 'config.json');
  const cfg = parseBertConfig(readAny(configFile), configFile);
  inputs['config.json'] = await sha256File(configFile);
  let sd: StateDict;
  if (opts.preloaded) {
    sd = opts.preloaded;
    const st = path.join(srcDir, 'model.safetensors');
    if (fs.existsSync(st)) inputs['model.safetensors'] = await sha256File(st);
  } else {
    sd = await loadFull(srcDir, inputs, '');
  }
  const tokenizerDir = !fs.existsSync(path.join(srcDir, 'tokenizer.json')) && opts.baseDir ? opts.baseDir : srcDir;
  return { sd, cfg, configFile, inputs, tokenizerDir };
}

/** Converts a BERT folder into an ONNX model folder. Returns the manifest it wrote. */
export async function convertModel(opts: ConvertOptions): Promise<Manifest> {
  const precisions = opts.precisions ?? ['fp32', 'int8', 'fp16'];
  if (!precisions.length) throw new Error('convertModel: no precision requested');
  for (const p of precisions)
    if (!(p in MODEL_FILES)) throw new Error(`convertModel: unknown precision ${JSON.stringify(p)} (fp32|int8|fp16)`);
  const progress = opts.onProgress ?? (() => {});
  const total = precisions.length + 2;
  progress({ stage: 'read', done: 0, total });
  const w = await loadWeights(opts);
  if (!fs.existsSync(path.join(w.tokenizerDir, 'tokenizer.json'))) {
    throw new Error(`${w.tokenizerDir}: no tokenizer.json (the model's own tokenizer is needed)`);
  }
  fs.mkdirSync(opts.outDir, { recursive: true });
  const outputs: Record<string, string> = {};
  const files: Manifest['files'] = {};
  // The manifest is rewritten last; remove a stale one first so a half-written folder never looks complete.
  fs.rmSync(path.join(opts.outDir, MANIFEST_FILE), { force: true });
  fs.rmSync(path.join(opts.outDir, VERIFY_CACHE_FILE), { force: true });
  let done = 1;
  progress({ stage: 'read', done, total });
  for (const p of precisions) {
    const file = MODEL_FILES[p];
    progress({ stage: `write ${p}`, file, done, total });
    let graph: ReturnType<typeof buildBertGraph>;
    try {
      graph = buildBertGraph(w.sd, w.cfg, { precision: p, fused: opts.fused, reduceRange: opts.reduceRange });
    } catch (e) {
      const weights =
        Object.keys(w.inputs)
          .filter((k) => /\.(safetensors|bin)$/.test(k))
          .join(', ') || 'weights';
      throw new Error(`${opts.srcDir} (${weights}, config ${w.configFile}): ${errorText(e)}`);
    }
    graph.metadata = {
      source_repo: opts.source.repo,
      source_revision: opts.source.revision,
      generated: String(!!opts.source.generated),
      precision: p,
    };
    const r = writeOnnxModel(graph, path.join(opts.outDir, file));
    outputs[file] = r.sha256;
    files[p] = file;
    progress({ stage: `write ${p}`, file, done: ++done, total });
  }
  for (const f of TOKENIZER_FILES) {
    const src = path.join(w.tokenizerDir, f);
    if (!fs.existsSync(src)) continue;
    const dst = path.join(opts.outDir, f);
    if (path.resolve(src) !== path.resolve(dst)) fs.writeFileSync(dst, fs.readFileSync(src));
    outputs[f] = await sha256File(dst);
    if (!(f in w.inputs) && !(`base/${f}` in w.inputs))
      w.inputs[(w.tokenizerDir === opts.srcDir ? '' : 'base/') + f] = outputs[f]!;
  }
  const cfgDst = path.join(opts.outDir, 'config.json');
  if (path.resolve(w.configFile) !== path.resolve(cfgDst)) fs.writeFileSync(cfgDst, fs.readFileSync(w.configFile));
  outputs['config.json'] = await sha256File(cfgDst);

  const c = w.cfg;
  const sizes: Record<string, number> = {};
  for (const f of Object.keys(outputs)) sizes[f] = fs.statSync(path.join(opts.outDir, f)).size;
  const manifest: Manifest = {
    format: 1,
    source: { repo: opts.source.repo, revision: opts.source.revision, generated: !!opts.source.generated },
    inputs: w.inputs,
    outputs,
    sizes,
    config: {
      hidden: c.hidden,
      layers: c.layers,
      heads: c.heads,
      ffn: c.ffn,
      vocab: c.vocab,
      maxPositions: c.maxPositions,
    },
    pooling: 'cls',
    dim: c.hidden,
    normalize: true,
    files,
    tokenizer: 'tokenizer.json',
    createdAt: new Date().toISOString(),
  };
  const tmp = path.join(opts.outDir, `${MANIFEST_FILE}.partial`);
  fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n');
  fs.renameSync(tmp, path.join(opts.outDir, MANIFEST_FILE));
  progress({ stage: 'done', done: total, total });
  return manifest;
}
