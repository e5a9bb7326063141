// Developer tool: verifies the GPU path on a lent GPU machine and prints timings for the exact BioHiCL-Base shapes.
// Bundled by scripts/gpu-check.sh into a small self-contained folder (node + onnxruntime-node) that travels to the
// device machine. Generated weights: timing is honest, ranking quality is not.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateModel } from '../src/inference/convert';
import { createSession, runBatch } from '../src/inference/backend';
import type { Device, Precision } from '../src/inference/types';

function batch(b: number, t: number) {
  const n = b * t;
  const ids = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(1000 + ((i * 7919) % 28000));
  for (let r = 0; r < b; r++) {
    ids[r * t] = 101n;
    ids[r * t + t - 1] = 102n;
  }
  return {
    inputIds: ids,
    attentionMask: new BigInt64Array(n).fill(1n),
    tokenTypeIds: new BigInt64Array(n),
    batch: b,
    seqLen: t,
  };
}

function cos(a: Float32Array, b: Float32Array): number {
  let d = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return d / Math.sqrt(na * nb);
}

async function main(): Promise<void> {
  const shape = (process.argv[2] ?? 'base') as 'base' | 'large' | 'tiny';
  const out = path.join(os.tmpdir(), `biohicl-gpu-${shape}`);
  const t0 = Date.now();
  if (!fs.existsSync(path.join(out, 'manifest.json'))) await generateModel({ shape, outDir: out });
  console.log(`generated ${shape} in ${((Date.now() - t0) / 1000).toFixed(1)} s (GENERATED weights: timing only)`);
  const cls: Record<string, Float32Array> = {};
  const rows: string[] = [];
  const combos: [Device, Precision][] = [
    ['cuda', 'fp16'],
    ['cuda', 'fp32'],
    ['cpu', 'fp32'],
    ['cpu', 'int8'],
    ['auto', 'auto'],
  ];
  for (const [device, precision] of combos) {
    let be;
    try {
      be = await createSession(out, { device, precision });
    } catch (e) {
      console.log(`${device}/${precision}: cannot open: ${(e as Error).message}`);
      continue;
    }
    console.log(`${device}/${precision}: ${JSON.stringify(be.report)}`);
    const key = `${be.report.provider}/${be.report.precision}`;
    for (const [b, t] of [
      [1, 32],
      [1, 256],
      [8, 256],
      [1, 512],
      [8, 512],
      [32, 256],
    ] as [number, number][]) {
      const inp = batch(b, t);
      const first = await runBatch(be.session, inp); // warm-up
      if (b === 1 && t === 256) cls[key] = first.data.slice(0, first.dims[2]);
      const reps = be.report.provider === 'cpu' ? (t * b > 2048 ? 2 : 5) : 30;
      const times: number[] = [];
      for (let i = 0; i < reps; i++) {
        const s = process.hrtime.bigint();
        await runBatch(be.session, inp);
        times.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      times.sort((x, y) => x - y);
      const med = times[Math.floor(times.length / 2)]!;
      rows.push(
        `${key.padEnd(10)} requested ${`${device}/${precision}`.padEnd(10)} batch ${String(b).padStart(2)} × ${String(t).padStart(3)} tok: median ${med.toFixed(2).padStart(8)} ms  ${((b * t) / (med / 1000)).toFixed(0).padStart(8)} tok/s`,
      );
    }
    await be.session.release();
  }
  console.log('\n' + rows.join('\n'));
  const ref = cls['cpu/fp32'];
  if (ref)
    for (const [k, v] of Object.entries(cls))
      console.log(`CLS cosine ${k} vs cpu/fp32 (256 tokens): ${cos(ref, v).toFixed(6)}`);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
