// Weights → ONNX converter: proven against the independent torch reference (test/fixtures/tiny-bert, written by
// scripts/make-tiny-bert.py) for both file formats, run in real onnxruntime sessions.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import {
  convertModel,
  generateModel,
  readSafetensors,
  writeSafetensors,
  readManifest,
  manifestHash,
  verifyManifestOutputs,
  buildBertGraph,
  parseBertConfig,
  writeOnnxModel,
  readOnnxModel,
  randomBertStateDict,
  bertConfigJson,
} from '../../src/inference/convert';
import type { StateDict } from '../../src/inference/convert';

const FIX = path.join(__dirname, '..', 'fixtures');
const TINY = path.join(FIX, 'tiny-bert');
const LORA = path.join(FIX, 'tiny-lora');

interface Ref {
  input_ids: number[][];
  attention_mask: number[][];
  last_hidden_state: { shape: number[]; data: number[] };
}
const ref = JSON.parse(fs.readFileSync(path.join(TINY, 'reference.json'), 'utf8')) as Ref;

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-convert-'));
}
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

/** A copy of the fixture folder holding only the given weights file (so the converter must read that one). */
function fixtureWith(weights: 'model.safetensors' | 'pytorch_model.bin'): string {
  const d = tmpDir();
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', weights]) {
    fs.copyFileSync(path.join(TINY, f), path.join(d, f));
  }
  return d;
}

async function run(
  file: string,
  ids: number[][],
  mask: number[][],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const s = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  try {
    const B = ids.length,
      S = ids[0]!.length;
    const t = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [B, S]);
    const zeros = new ort.Tensor('int64', new BigInt64Array(B * S), [B, S]);
    const out = await s.run({ input_ids: t(ids), attention_mask: t(mask), token_type_ids: zeros });
    const y = out.last_hidden_state!;
    assert.equal(y.type, 'float32');
    return { data: y.data as Float32Array, dims: y.dims };
  } finally {
    await s.release();
  }
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Cosine of the CLS rows (token 0 of each sequence) of two [B, S, H] outputs; returns the minimum over the batch. */
function minClsCosine(a: Float32Array, b: Float32Array, B: number, S: number, H: number): number {
  let min = 1;
  for (let i = 0; i < B; i++) {
    let d = 0,
      na = 0,
      nb = 0;
    for (let k = 0; k < H; k++) {
      const x = a[i * S * H + k]!,
        y = b[i * S * H + k]!;
      d += x * y;
      na += x * x;
      nb += y * y;
    }
    min = Math.min(min, d / Math.sqrt(na * nb));
  }
  return min;
}

for (const weights of ['model.safetensors', 'pytorch_model.bin'] as const) {
  test(`tiny-bert from ${weights}: fp32 (fused and plain) reproduces the torch reference; int8/fp16 CLS cosine ≥ 0.999`, async () => {
    const src = fixtureWith(weights);
    const out = tmpDir();
    const m = await convertModel({ srcDir: src, outDir: out, source: { repo: 'test/tiny-bert', revision: 'fixture' } });
    assert.deepEqual(
      Object.keys(m.inputs).filter((k) => k.endsWith('.bin') || k.endsWith('.safetensors')),
      [weights],
    );
    assert.equal(m.inputs[weights], sha(path.join(src, weights)));
    const [B, S, H] = ref.last_hidden_state.shape as [number, number, number];
    assert.equal(m.dim, H);

    const fp32 = await run(path.join(out, 'model.onnx'), ref.input_ids, ref.attention_mask);
    assert.deepEqual([...fp32.dims], [B, S, H]);
    const errFused = maxAbs(fp32.data, ref.last_hidden_state.data);
    assert.ok(errFused <= 1e-4, `fused fp32 max abs error ${errFused}`);

    const plainFile = path.join(out, 'plain.onnx');
    writeOnnxModel(
      buildBertGraph(
        await readSafetensors(path.join(TINY, 'model.safetensors')),
        parseBertConfig(JSON.parse(fs.readFileSync(path.join(src, 'config.json'), 'utf8'))),
        { fused: false },
      ),
      plainFile,
    );
    const plain = await run(plainFile, ref.input_ids, ref.attention_mask);
    const errPlain = maxAbs(plain.data, ref.last_hidden_state.data);
    assert.ok(errPlain <= 1e-4, `plain fp32 max abs error ${errPlain}`);

    for (const f of ['model.int8.onnx', 'model.fp16.onnx']) {
      const y = await run(path.join(out, f), ref.input_ids, ref.attention_mask);
      const cos = minClsCosine(y.data, fp32.data, B, S, H);
      assert.ok(cos >= 0.999, `${f}: CLS cosine vs fp32 ${cos}`);
      assert.ok(maxAbs(y.data, fp32.data) > 0, `${f} should differ from fp32 (it is quantised)`);
    }
  });
}

test('LoRA adapter folder is merged into the base and converted (torch reference of the merged model)', async () => {
  const lref = JSON.parse(fs.readFileSync(path.join(LORA, 'reference.json'), 'utf8')) as Ref;
  const out = tmpDir();
  const m = await convertModel({
    srcDir: LORA,
    baseDir: TINY,
    outDir: out,
    precisions: ['fp32'],
    source: { repo: 'test/tiny-lora', revision: 'fixture' },
  });
  assert.ok(m.inputs['adapter_model.safetensors'] && m.inputs['base/model.safetensors']);
  assert.deepEqual(m.files, { fp32: 'model.onnx' });
  const y = await run(path.join(out, 'model.onnx'), lref.input_ids, lref.attention_mask);
  const err = maxAbs(y.data, lref.last_hidden_state.data);
  assert.ok(err <= 1e-4, `merged LoRA max abs error ${err}`);
  // and the merge mattered: the base model's reference differs
  assert.ok(maxAbs(lref.last_hidden_state.data, ref.last_hidden_state.data) > 1e-3);
  await assert.rejects(
    convertModel({ srcDir: LORA, outDir: tmpDir(), source: { repo: 'x', revision: 'y' } }),
    /baseDir/,
  );
});

test('fused (contrib ops) and plain (standard ops) graphs agree on a generated model, incl. padding', async () => {
  const cfgJson = bertConfigJson('tiny');
  const cfg = parseBertConfig(cfgJson);
  const sd = randomBertStateDict('tiny', 3);
  // non-trivial LayerNorm and biases so every parameter matters
  for (const [k, t] of sd)
    if (k.endsWith('bias') || k.includes('LayerNorm'))
      (t.data as Float32Array).forEach((_, i, a) => {
        a[i] = (a[i] as number) + Math.sin(i + k.length) * 0.1;
      });
  const d = tmpDir();
  const ids = [
    [101, 2023, 2003, 1037, 3231, 102, 0, 0],
    [101, 7592, 2088, 999, 2005, 1996, 3721, 102],
  ];
  const mask = ids.map((r) => r.map((v) => (v === 0 ? 0 : 1)));
  const outs: Float32Array[] = [];
  for (const fused of [true, false]) {
    const f = path.join(d, `${fused}.onnx`);
    writeOnnxModel(buildBertGraph(sd, cfg, { fused }), f);
    outs.push((await run(f, ids, mask)).data);
  }
  const err = maxAbs(outs[0]!, outs[1]!);
  assert.ok(err <= 1e-4, `fused vs plain max abs ${err}`);
  // the GPU-oriented SkipLayerNormalization form agrees too
  writeOnnxModel(buildBertGraph(sd, cfg, { fused: true, skipLayerNorm: true }), path.join(d, 'skip.onnx'));
  const errSkip = maxAbs((await run(path.join(d, 'skip.onnx'), ids, mask)).data, outs[1]!);
  assert.ok(errSkip <= 1e-4, `fused+SkipLayerNormalization vs plain max abs ${errSkip}`);
  assert.ok(readOnnxModel(path.join(d, 'skip.onnx')).graph.node.some((n) => n.opType === 'SkipLayerNormalization'));
  const ops = (f: string) =>
    new Set(readOnnxModel(path.join(d, f)).graph.node.map((n) => `${n.domain || ''}:${n.opType}`));
  const fusedOps = ops('true.onnx');
  for (const op of ['com.microsoft:Attention', 'com.microsoft:BiasGelu']) assert.ok(fusedOps.has(op), op);
  assert.ok(
    [...ops('false.onnx')].every((o) => o.startsWith(':')),
    'plain graph uses only standard ops',
  );
});

test('generateModel(tiny): deterministic weights, runnable model, manifest hashes match the files', async () => {
  const a = tmpDir(),
    b = tmpDir(),
    c = tmpDir();
  const ma = await generateModel({ shape: 'tiny', outDir: a, seed: 5, precisions: ['fp32', 'int8'] });
  const mb = await generateModel({ shape: 'tiny', outDir: b, seed: 5, precisions: ['fp32'] });
  const mc = await generateModel({ shape: 'tiny', outDir: c, seed: 6, precisions: ['fp32'] });
  assert.equal(ma.source.generated, true);
  assert.equal(ma.inputs['model.safetensors'], mb.inputs['model.safetensors']);
  assert.notEqual(ma.inputs['model.safetensors'], mc.inputs['model.safetensors']);
  assert.equal(ma.outputs['model.onnx'], mb.outputs['model.onnx']);
  assert.deepEqual(ma.config, { hidden: 32, layers: 2, heads: 4, ffn: 64, vocab: 30522, maxPositions: 512 });
  assert.equal(ma.dim, 32);
  assert.equal(ma.pooling, 'cls');
  assert.deepEqual(ma.files, { fp32: 'model.onnx', int8: 'model.int8.onnx' });

  const onDisk = readManifest(a);
  assert.deepEqual(onDisk, ma);
  assert.equal(manifestHash(a), sha(path.join(a, 'manifest.json')));
  for (const [f, h] of Object.entries(ma.outputs)) assert.equal(h, sha(path.join(a, f)), f);
  for (const f of ['tokenizer.json', 'vocab.txt', 'config.json']) assert.ok(f in ma.outputs, f);
  assert.deepEqual(await verifyManifestOutputs(a), []);
  fs.appendFileSync(path.join(a, 'config.json'), ' ');
  assert.deepEqual(await verifyManifestOutputs(a), ['config.json']);

  const y = await run(path.join(a, 'model.onnx'), [[101, 7592, 102]], [[1, 1, 1]]);
  assert.deepEqual([...y.dims], [1, 3, 32]);
  assert.ok(y.data.every(Number.isFinite));
});

test('int8 and fp16 variants: structure (quantised ops and weights, float16 weights, float32 output)', async () => {
  const d = tmpDir();
  await generateModel({ shape: 'tiny', outDir: d, seed: 1 });
  const q = readOnnxModel(path.join(d, 'model.int8.onnx'));
  const qOps = q.graph.node.map((n) => n.opType);
  assert.equal(qOps.filter((o) => o === 'QAttention').length, 2);
  assert.equal(qOps.filter((o) => o === 'DynamicQuantizeMatMul').length, 6);
  assert.ok(!qOps.includes('MatMul'));
  assert.ok(q.graph.initializer.filter((t) => t.dataType === 3).length >= 8, 'int8 weights');
  const h = readOnnxModel(path.join(d, 'model.fp16.onnx'));
  const floatInits = h.graph.initializer.filter((t) => t.dataType === 1 || t.dataType === 10);
  assert.ok(floatInits.length > 0 && floatInits.every((t) => t.dataType === 10), 'all float weights are float16');
  assert.equal(h.graph.output[0]!.type?.tensorType?.elemType, 1);
  assert.equal(h.graph.node.at(-1)!.opType, 'Cast');
  assert.ok(
    h.graph.node.some((n) => n.opType === 'SkipLayerNormalization'),
    'fp16 (GPU) file uses SkipLayerNormalization',
  );
  // onnxruntime accepts both and gives float32 output
  for (const f of ['model.int8.onnx', 'model.fp16.onnx']) {
    const y = await run(path.join(d, f), [[101, 2000, 102]], [[1, 1, 1]]);
    assert.ok(y.data instanceof Float32Array && y.data.every(Number.isFinite));
  }
});

test('safetensors: write/read round trip of every dtype written, and clear errors on bad files', async () => {
  const d = tmpDir();
  const sd: StateDict = new Map([
    ['a.weight', { dtype: 'float32', shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 0, 1e-8, -1e8) }],
    ['ids', { dtype: 'int64', shape: [3], data: BigInt64Array.of(0n, -5n, 1n << 40n) }],
    ['i32', { dtype: 'int32', shape: [2], data: Int32Array.of(7, -7) }],
    ['flag', { dtype: 'bool', shape: [2], data: Uint8Array.of(1, 0) }],
  ]);
  const f = path.join(d, 'x.safetensors');
  await writeSafetensors(f, sd, { format: 'pt' });
  const back = await readSafetensors(f);
  assert.deepEqual([...back.keys()], [...sd.keys()]);
  for (const [k, t] of sd) {
    assert.deepEqual(back.get(k)!.shape, t.shape, k);
    assert.deepEqual(
      Array.from(back.get(k)!.data as ArrayLike<number | bigint>),
      Array.from(t.data as ArrayLike<number | bigint>),
      k,
    );
  }
  assert.equal((8 + Number(fs.readFileSync(f).readBigUInt64LE(0))) % 8, 0, 'data section aligned to 8');
  // The fixture written by an independent Python writer reads back with the expected names and shapes.
  const tiny = await readSafetensors(path.join(TINY, 'model.safetensors'));
  assert.deepEqual(tiny.get('embeddings.word_embeddings.weight')!.shape, [30522, 16]);

  const bad = path.join(d, 'bad.safetensors');
  const buf = fs.readFileSync(f);
  fs.writeFileSync(bad, buf.subarray(0, buf.length - 4)); // truncated data
  await assert.rejects(readSafetensors(bad), /bad\.safetensors: tensor .* data_offsets/);
  fs.writeFileSync(bad, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 2]));
  await assert.rejects(readSafetensors(bad), /bad\.safetensors: bad safetensors header length/);
});

test('config.json and weight shapes are checked with clear errors', async () => {
  const src = fixtureWith('model.safetensors');
  const cfg = JSON.parse(fs.readFileSync(path.join(src, 'config.json'), 'utf8'));
  fs.writeFileSync(path.join(src, 'config.json'), JSON.stringify({ ...cfg, hidden_size: 24, num_attention_heads: 4 }));
  await assert.rejects(
    convertModel({ srcDir: src, outDir: tmpDir(), source: { repo: 'x', revision: 'y' } }),
    /embeddings\.word_embeddings\.weight has shape \[30522,16\], config\.json implies \[30522,24\]/,
  );
  fs.writeFileSync(path.join(src, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 'two' }));
  await assert.rejects(
    convertModel({ srcDir: src, outDir: tmpDir(), source: { repo: 'x', revision: 'y' } }),
    /config\.json: num_hidden_layers: expected a positive integer, got "two"/,
  );
  fs.writeFileSync(path.join(src, 'config.json'), JSON.stringify({ ...cfg, hidden_act: 'relu' }));
  await assert.rejects(
    convertModel({ srcDir: src, outDir: tmpDir(), source: { repo: 'x', revision: 'y' } }),
    /config\.json: hidden_act: expected "gelu" \(the only activation supported: exact gelu\), got "relu"/,
  );
  fs.rmSync(path.join(src, 'model.safetensors'));
  fs.writeFileSync(path.join(src, 'config.json'), JSON.stringify(cfg));
  await assert.rejects(
    convertModel({ srcDir: src, outDir: tmpDir(), source: { repo: 'x', revision: 'y' } }),
    /no model\.safetensors or pytorch_model\.bin/,
  );
  fs.writeFileSync(path.join(src, 'model.safetensors'), fs.readFileSync(path.join(TINY, 'model.safetensors')));
  const sd = await readSafetensors(path.join(src, 'model.safetensors'));
  sd.delete('encoder.layer.1.output.dense.weight');
  await writeSafetensors(path.join(src, 'model.safetensors'), sd);
  await assert.rejects(
    convertModel({ srcDir: src, outDir: tmpDir(), source: { repo: 'x', revision: 'y' } }),
    /\(model\.safetensors, config .*config\.json\): weights: missing parameter encoder\.layer\.1\.output\.dense\.weight/,
  );
});

test('sharded model.safetensors (index.json + two shards) converts like the single file', async () => {
  const src = fixtureWith('model.safetensors');
  const all = await readSafetensors(path.join(src, 'model.safetensors'));
  fs.rmSync(path.join(src, 'model.safetensors'));
  const names = [...all.keys()];
  const shards = [names.slice(0, 10), names.slice(10)];
  const weightMap: Record<string, string> = {};
  for (const [i, part] of shards.entries()) {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    await writeSafetensors(path.join(src, file), new Map(part.map((k) => [k, all.get(k)!])));
    for (const k of part) weightMap[k] = file;
  }
  fs.writeFileSync(
    path.join(src, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: {}, weight_map: weightMap }),
  );
  const out = tmpDir();
  const m = await convertModel({
    srcDir: src,
    outDir: out,
    precisions: ['fp32'],
    source: { repo: 'x', revision: 'y' },
  });
  assert.ok(
    m.inputs['model-00001-of-00002.safetensors'] &&
      m.inputs['model-00002-of-00002.safetensors'] &&
      m.inputs['model.safetensors.index.json'],
  );
  const y = await run(path.join(out, 'model.onnx'), ref.input_ids, ref.attention_mask);
  assert.ok(maxAbs(y.data, ref.last_hidden_state.data) <= 1e-4);
  // a shard named in the index but absent is reported by name
  fs.rmSync(path.join(src, 'model-00002-of-00002.safetensors'));
  await assert.rejects(
    convertModel({ srcDir: src, outDir: tmpDir(), source: { repo: 'x', revision: 'y' } }),
    /index\.json: shard model-00002-of-00002\.safetensors is missing/,
  );
});

test('BertFor* checkpoints: `bert.` prefix, legacy LayerNorm gamma/beta and extra heads give the same graph output', async () => {
  const cfg = parseBertConfig(bertConfigJson('tiny'));
  const sd = randomBertStateDict('tiny', 11);
  for (const [k, t] of sd)
    if (k.includes('LayerNorm'))
      (t.data as Float32Array).forEach((_, i, a) => {
        a[i] = (a[i] as number) + Math.cos(i + k.length) * 0.1;
      });
  const renamed: StateDict = new Map();
  for (const [k, t] of sd)
    renamed.set(
      `bert.${k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta')}`,
      t,
    );
  renamed.set('cls.predictions.bias', { dtype: 'float32', shape: [30522], data: new Float32Array(30522) });
  const d = tmpDir();
  writeOnnxModel(buildBertGraph(sd, cfg), path.join(d, 'a.onnx'));
  writeOnnxModel(buildBertGraph(renamed, cfg), path.join(d, 'b.onnx'));
  const ids = [[101, 2054, 2003, 102]],
    mask = [[1, 1, 1, 1]];
  assert.equal(
    maxAbs((await run(path.join(d, 'a.onnx'), ids, mask)).data, (await run(path.join(d, 'b.onnx'), ids, mask)).data),
    0,
  );
  renamed.delete('bert.encoder.layer.0.attention.self.key.bias');
  assert.throws(() => buildBertGraph(renamed, cfg), /missing parameter encoder\.layer\.0\.attention\.self\.key\.bias/);
});
