// Random BERT weights with the exact shapes of the released models (BERT init: N(0, 0.02), LayerNorm 1/0, biases 0),
// from a seeded PRNG so the same seed gives the same bytes. Written as model.safetensors + config.json + the bundled
// bge tokenizer, then sent through the same convertModel as downloaded weights. Timing on these is honest; ranking
// quality is meaningless, and the manifest says `generated: true`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StateDict } from './tensor';
import { writeSafetensors } from './safetensors';
import { convertModel, type ConvertOptions } from './convert';
import type { Manifest } from '../manifest';
import { projectRoot } from '../paths';

export type GeneratedShape = 'tiny' | 'base' | 'large';

export const SHAPES: Record<GeneratedShape, { hidden: number; layers: number; heads: number; ffn: number }> = {
  tiny: { hidden: 32, layers: 2, heads: 4, ffn: 64 },
  base: { hidden: 768, layers: 12, heads: 12, ffn: 3072 },
  large: { hidden: 1024, layers: 24, heads: 16, ffn: 4096 },
};

export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

/** The bundled bge-base-en-v1.5 tokenizer folder (models/tokenizer in the repo / extension). */
export function bundledTokenizerDir(): string {
  return path.join(projectRoot(), 'models', 'tokenizer');
}

/** mulberry32: small, fast, deterministic 32-bit PRNG. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(n: number, std: number, rnd: () => number): Float32Array {
  // Marsaglia's polar method: two N(0,1) values per accepted pair, no trigonometry.
  const out = new Float32Array(n);
  for (let i = 0; i < n;) {
    const u = 2 * rnd() - 1;
    const v = 2 * rnd() - 1;
    const s = u * u + v * v;
    if (s >= 1 || s === 0) continue;
    const m = Math.sqrt((-2 * Math.log(s)) / s) * std;
    out[i++] = u * m;
    if (i < n) out[i++] = v * m;
  }
  return out;
}

export function bertConfigJson(shape: GeneratedShape): Record<string, unknown> {
  const s = SHAPES[shape];
  return {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: s.hidden,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    intermediate_size: s.ffn,
    vocab_size: 30522,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    initializer_range: 0.02,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    generated_by: 'biohicl-writer generateModel (random weights, no ranking meaning)',
  };
}

/** A random BERT state dict (HF BertModel names) for `shape`, deterministic in `seed`. */
export function randomBertStateDict(shape: GeneratedShape, seed = 42): StateDict {
  const s = SHAPES[shape];
  const H = s.hidden;
  const rnd = mulberry32(seed);
  const sd: StateDict = new Map();
  const w = (name: string, dims: number[]) =>
    sd.set(name, {
      dtype: 'float32',
      shape: dims,
      data: normal(
        dims.reduce((a, b) => a * b, 1),
        0.02,
        rnd,
      ),
    });
  const c = (name: string, dims: number[], v: number) =>
    sd.set(name, { dtype: 'float32', shape: dims, data: new Float32Array(dims[0]!).fill(v) });
  w('embeddings.word_embeddings.weight', [30522, H]);
  w('embeddings.position_embeddings.weight', [512, H]);
  w('embeddings.token_type_embeddings.weight', [2, H]);
  c('embeddings.LayerNorm.weight', [H], 1);
  c('embeddings.LayerNorm.bias', [H], 0);
  for (let l = 0; l < s.layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const k of ['query', 'key', 'value']) {
      w(`${p}.attention.self.${k}.weight`, [H, H]);
      c(`${p}.attention.self.${k}.bias`, [H], 0);
    }
    w(`${p}.attention.output.dense.weight`, [H, H]);
    c(`${p}.attention.output.dense.bias`, [H], 0);
    c(`${p}.attention.output.LayerNorm.weight`, [H], 1);
    c(`${p}.attention.output.LayerNorm.bias`, [H], 0);
    w(`${p}.intermediate.dense.weight`, [s.ffn, H]);
    c(`${p}.intermediate.dense.bias`, [s.ffn], 0);
    w(`${p}.output.dense.weight`, [H, s.ffn]);
    c(`${p}.output.dense.bias`, [H], 0);
    c(`${p}.output.LayerNorm.weight`, [H], 1);
    c(`${p}.output.LayerNorm.bias`, [H], 0);
  }
  w('pooler.dense.weight', [H, H]);
  c('pooler.dense.bias', [H], 0);
  return sd;
}

export interface GenerateOptions {
  shape: GeneratedShape;
  /** Where the converted model goes (model.onnx, …, manifest.json). */
  outDir: string;
  seed?: number;
  /** Where the generated source (model.safetensors, config.json, tokenizer) goes; default `${outDir}/source`. */
  srcDir?: string;
  precisions?: ConvertOptions['precisions'];
  onProgress?: ConvertOptions['onProgress'];
}

/** Writes random weights of `shape` as a HF-style source folder and converts them. Returns the manifest. */
export async function generateModel(opts: GenerateOptions): Promise<Manifest> {
  const seed = opts.seed ?? 42;
  if (!SHAPES[opts.shape])
    throw new Error(`generateModel: unknown shape ${JSON.stringify(opts.shape)} (tiny|base|large)`);
  const srcDir = opts.srcDir ?? path.join(opts.outDir, 'source');
  fs.mkdirSync(srcDir, { recursive: true });
  opts.onProgress?.({ stage: 'generate', done: 0, total: 1 });
  const sd = randomBertStateDict(opts.shape, seed);
  await writeSafetensors(path.join(srcDir, 'model.safetensors'), sd, {
    format: 'pt',
    generated: 'true',
    seed: String(seed),
  });
  fs.writeFileSync(path.join(srcDir, 'config.json'), JSON.stringify(bertConfigJson(opts.shape), null, 2) + '\n');
  const tokDir = bundledTokenizerDir();
  for (const f of TOKENIZER_FILES) fs.writeFileSync(path.join(srcDir, f), fs.readFileSync(path.join(tokDir, f)));
  opts.onProgress?.({ stage: 'generate', done: 1, total: 1 });
  return convertModel({
    srcDir,
    outDir: opts.outDir,
    precisions: opts.precisions,
    onProgress: opts.onProgress,
    source: { repo: `generated:${opts.shape}`, revision: `seed-${seed}`, generated: true },
    preloaded: sd,
  });
}
