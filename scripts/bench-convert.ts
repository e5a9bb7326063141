// Developer benchmark of the converter's graph variants on a generated model (random weights, exact shapes):
// plain standard-op fp32 vs fused contrib-op fp32 vs int8 (and fp16 with --fp16), batch 1, interleaved rounds.
// Prints wall-clock and process CPU time per run (CPU time is robust when other jobs share the cores), ratios vs
// plain fp32, and the CLS cosine / max abs difference vs plain fp32.
//
//   node --import tsx scripts/bench-convert.ts [--shape base|large|tiny] [--lengths 32,256,512] [--threads 2]
//                                              [--rounds 10] [--fp16] [--skipln] [--seed 7]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  buildBertGraph,
  parseBertConfig,
  writeOnnxModel,
  randomBertStateDict,
  bertConfigJson,
  type GeneratedShape,
  type GraphOptions,
} from '../src/inference/convert';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

async function main(): Promise<void> {
  const shape = arg('shape', 'base') as GeneratedShape;
  const lengths = arg('lengths', '32,256,512').split(',').map(Number);
  const threads = Number(arg('threads', '2'));
  const rounds = Number(arg('rounds', '10'));
  const seed = Number(arg('seed', '7'));
  const variants: [string, GraphOptions][] = [
    ['fp32-plain', { fused: false }],
    ['fp32-fused', { fused: true }],
    ['int8', { precision: 'int8' }],
  ];
  if (process.argv.includes('--skipln')) variants.push(['fp32-skipln', { fused: true, skipLayerNorm: true }]);
  if (process.argv.includes('--fp16')) variants.push(['fp16', { precision: 'fp16' }]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bench-convert-'));
  const cfg = parseBertConfig(bertConfigJson(shape));
  let sd: ReturnType<typeof randomBertStateDict> | undefined = randomBertStateDict(shape, seed);
  const sessions: { name: string; s: ort.InferenceSession; createMs: number; bytes: number }[] = [];
  for (const [name, opts] of variants) {
    const f = path.join(dir, `${name}.onnx`);
    const w = writeOnnxModel(buildBertGraph(sd, cfg, opts), f);
    const t = performance.now();
    const s = await ort.InferenceSession.create(f, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' } } }, // so CPU time measures work, not spinning
    });
    sessions.push({ name, s, createMs: performance.now() - t, bytes: w.bytes });
  }
  sd = undefined;
  console.log(
    `shape ${shape} (${cfg.layers}×${cfg.hidden}, ${cfg.heads} heads, FFN ${cfg.ffn}), threads ${threads}, ${os.cpus()[0]?.model}, load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  for (const x of sessions)
    console.log(
      `  ${x.name.padEnd(11)} ${(x.bytes / 1e6).toFixed(0).padStart(5)} MB, session create ${x.createMs.toFixed(0)} ms`,
    );
  for (const S of lengths) {
    const ids = new BigInt64Array(S).map((_, i) => BigInt(1000 + ((i * 7919) % 28000)));
    ids[0] = 101n;
    ids[S - 1] = 102n;
    const feeds = {
      input_ids: new ort.Tensor('int64', ids, [1, S]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(S).fill(1n), [1, S]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(S), [1, S]),
    };
    const res = sessions.map(() => ({ wall: [] as number[], cpu: [] as number[], out: [] as ArrayLike<number> }));
    for (const [i, x] of sessions.entries())
      res[i]!.out = (await x.s.run(feeds)).last_hidden_state!.data as ArrayLike<number>; // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const [i, x] of sessions.entries()) {
        const c0 = process.cpuUsage();
        const t = performance.now();
        await x.s.run(feeds);
        res[i]!.wall.push(performance.now() - t);
        const c = process.cpuUsage(c0);
        res[i]!.cpu.push((c.user + c.system) / 1000);
      }
    }
    const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
    const min = (a: number[]) => Math.min(...a);
    const ref = res[0]!;
    console.log(`S=${S} batch 1 (${rounds} interleaved rounds; ratio = plain fp32 / variant)`);
    for (const [i, x] of sessions.entries()) {
      const r = res[i]!;
      let d = 0,
        na = 0,
        nb = 0,
        m = 0;
      for (let k = 0; k < cfg.hidden; k++) {
        d += r.out[k]! * ref.out[k]!;
        na += r.out[k]! ** 2;
        nb += ref.out[k]! ** 2;
      }
      for (let k = 0; k < r.out.length; k++) m = Math.max(m, Math.abs(r.out[k]! - ref.out[k]!));
      console.log(
        `  ${x.name.padEnd(11)} wall min ${min(r.wall).toFixed(1).padStart(7)} med ${med(r.wall).toFixed(1).padStart(7)} ms (×${(min(ref.wall) / min(r.wall)).toFixed(2)})` +
          ` | cpu min ${min(r.cpu).toFixed(0).padStart(5)} med ${med(r.cpu).toFixed(0).padStart(5)} ms (×${(min(ref.cpu) / min(r.cpu)).toFixed(2)})` +
          ` | CLS cos ${(d / Math.sqrt(na * nb)).toFixed(5)} max abs ${m.toExponential(1)}`,
      );
    }
  }
  for (const x of sessions) await x.s.release();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
