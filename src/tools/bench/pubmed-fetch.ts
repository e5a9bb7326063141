// `npm run bench -- pubmed-fetch [--scale 60] [--throttle MB/s] [--runs 3] [--keep]`
// Throughput of `biohicl pubmed fetch` (src/pubmed/fetch.ts over src/net/download.ts) against a local NLM-shaped
// mirror (test/fixtures/nlm-mirror.ts, run in a child process so that serving does not share the event loop), and
// what verification costs. Baseline measured in the same run: a bare http.get → file copy with the same number of
// parallel connections and no checks. The files are the fixture's real MEDLINE records, each baseline/update file
// scaled up `--scale` times (repeated gzip members: valid multi-member gzip, inflated like NLM's single-member files).
// --throttle caps each response at that many MB/s (a slow mirror: shows what 1 vs 3 connections buys).
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { makeNlmFiles, serveNlmMirror } from '../../../test/fixtures/nlm-mirror';
import { fetchPubmed, verifiedFiles, VERIFIED_SUFFIX } from '../../pubmed/fetch';
import { gzipPubmedCheck } from '../../pubmed/gzip-check';
import { hashFile } from '../../util/hash';

interface Args {
  scale: number;
  throttle?: number;
  runs: number;
  keep: boolean;
  serve?: string;
}

function parse(args: string[]): Args {
  const a: Args = { scale: 60, runs: 3, keep: false };
  for (let i = 0; i < args.length; i++) {
    const k = args[i];
    const num = (): number => {
      const n = Number(args[++i]);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${k} needs a positive number`);
      return n;
    };
    if (k === '--scale') a.scale = Math.round(num());
    else if (k === '--throttle') a.throttle = num();
    else if (k === '--runs') a.runs = Math.round(num());
    else if (k === '--keep') a.keep = true;
    else if (k === '--serve') a.serve = args[++i];
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}

const MB = 1e6;
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** Each file's records repeated `scale` times as gzip members (header, body × scale, footer). */
function scaleFile(src: string, dest: string, scale: number): void {
  const xml = zlib.gunzipSync(fs.readFileSync(src)).toString('utf8');
  const start = xml.indexOf('<PubmedArticleSet>') + '<PubmedArticleSet>\n'.length;
  const end = xml.lastIndexOf('</PubmedArticleSet>');
  const body = zlib.gzipSync(xml.slice(start, end), { level: 6 });
  const fd = fs.openSync(dest, 'w');
  fs.writeSync(fd, zlib.gzipSync(xml.slice(0, start)));
  for (let i = 0; i < scale; i++) fs.writeSync(fd, body);
  fs.writeSync(fd, zlib.gzipSync(xml.slice(end)));
  fs.closeSync(fd);
}

/** The child: serve the folder's files as an NLM mirror and report the URL. */
async function serve(dir: string, throttle?: number): Promise<void> {
  const list = (d: string): string[] =>
    fs
      .readdirSync(path.join(dir, d))
      .filter((f) => f.endsWith('.xml.gz'))
      .sort()
      .map((f) => path.join(dir, d, f));
  const m = await serveNlmMirror(
    { baseline: list('baseline'), updates: list('updatefiles') },
    { bytesPerSecond: throttle ? throttle * MB : undefined },
  );
  process.send?.({ url: m.url });
  process.on('disconnect', () => {
    void m.close().then(() => process.exit(0));
  });
}

async function startMirror(dir: string, throttle?: number): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(
    process.argv[1]!,
    ['pubmed-fetch', '--serve', dir, ...(throttle ? ['--throttle', String(throttle)] : [])],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`mirror process exited with ${code}`)));
  });
  return { url, child };
}

/** Baseline: http.get → file, `conns` at a time, keep-alive, nothing checked. */
async function bareCopy(urls: string[], outDir: string, conns: number): Promise<number> {
  fs.mkdirSync(outDir, { recursive: true });
  const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
  const queue = [...urls];
  const t = performance.now();
  await Promise.all(
    Array.from({ length: conns }, async () => {
      for (let u = queue.shift(); u; u = queue.shift()) {
        const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
          http.get(u!, { agent }, resolve).on('error', reject),
        );
        await pipeline(res, fs.createWriteStream(path.join(outDir, path.basename(u))));
      }
    }),
  );
  agent.destroy();
  return (performance.now() - t) / 1000;
}

async function checkOnly(file: string): Promise<void> {
  const c = gzipPubmedCheck();
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) await c.update(chunk as Buffer);
  await c.finish();
}

export async function run(argv: string[]): Promise<void> {
  const a = parse(argv);
  if (a.serve) return serve(a.serve, a.throttle);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bench-fetch-'));
  try {
    const t0 = performance.now();
    const src = await makeNlmFiles(path.join(tmp, 'src'));
    const mirrorDir = path.join(tmp, 'mirror');
    for (const [d, files] of [
      ['baseline', src.baseline],
      ['updatefiles', src.updates],
    ] as const) {
      fs.mkdirSync(path.join(mirrorDir, d), { recursive: true });
      for (const f of files) scaleFile(f, path.join(mirrorDir, d, path.basename(f)), a.scale);
    }
    const all = ['baseline', 'updatefiles'].flatMap((d) =>
      fs.readdirSync(path.join(mirrorDir, d)).map((f) => path.join(mirrorDir, d, f)),
    );
    const total = all.reduce((s, f) => s + fs.statSync(f).size, 0);
    console.log(
      `## pubmed fetch: ${all.length} files, ${(total / MB).toFixed(1)} MB (real MEDLINE records × ${a.scale}), made in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}); mirror in a child process${a.throttle ? `, throttled to ${a.throttle} MB/s per response` : ''}`,
    );
    const { url, child } = await startMirror(mirrorDir, a.throttle);
    try {
      const urls = all.map((f) => `${url}${path.basename(path.dirname(f))}/${path.basename(f)}`);
      const rows: string[] = [];
      const rate = (s: number): string => `${(total / MB / s).toFixed(0)} MB/s`;
      for (const conns of [3, 1]) {
        const bare: number[] = [];
        const ours: number[] = [];
        const light: number[] = [];
        for (let r = 0; r < a.runs; r++) {
          const out = path.join(tmp, `bare-${conns}-${r}`);
          bare.push(await bareCopy(urls, out, conns));
          fs.rmSync(out, { recursive: true, force: true });
          const dest = path.join(tmp, `fetch-${conns}-${r}`);
          const t = performance.now();
          const s = await fetchPubmed({ outDir: dest, mirror: url, connections: conns });
          ours.push((performance.now() - t) / 1000);
          if (s.failures.length || s.downloaded.length !== all.length)
            throw new Error(`fetch failed: ${JSON.stringify(s.failures)}`);
          if (r < a.runs - 1 || conns !== 3) fs.rmSync(dest, { recursive: true, force: true });
          const dest2 = path.join(tmp, `light-${conns}-${r}`);
          const t2 = performance.now();
          await fetchPubmed({ outDir: dest2, mirror: url, connections: conns, inflateCheck: false });
          light.push((performance.now() - t2) / 1000);
          fs.rmSync(dest2, { recursive: true, force: true });
        }
        const b = median(bare);
        const o = median(ours);
        const l = median(light);
        rows.push(
          `${conns} connection${conns > 1 ? 's' : ' '} | bare http.get → file ${b.toFixed(2)} s (${rate(b)}) | fetchPubmed ${o.toFixed(2)} s (${rate(o)}, ${((b / o) * 100).toFixed(0)} % of bare) | with --no-inflate-check ${l.toFixed(2)} s (${rate(l)}, ${((b / l) * 100).toFixed(0)} % of bare)`,
        );
      }
      console.log(rows.join('\n'));

      // Verification on its own, over the files just fetched (page cache warm: CPU cost, not disk).
      const dest = path.join(tmp, `fetch-3-${a.runs - 1}`);
      const local = verifiedFiles(dest).map((f) => f.path);
      const time = async (f: (file: string) => Promise<unknown>): Promise<number> => {
        const ts: number[] = [];
        for (let r = 0; r < a.runs; r++) {
          const t = performance.now();
          for (const file of local) await f(file);
          ts.push((performance.now() - t) / 1000);
        }
        return median(ts);
      };
      const md5 = await time((f) => hashFile(f, 'md5'));
      const sha = await time((f) => hashFile(f, 'sha256'));
      const gz = await time(checkOnly);
      console.log(
        `verification alone (${(total / MB).toFixed(1)} MB, one file at a time): md5 ${rate(md5)}, sha256 ${rate(sha)} (for comparison), gzip inflate-to-end check ${rate(gz)} of compressed input`,
      );

      // Reruns.
      const skipT: number[] = [];
      for (let r = 0; r < a.runs; r++) {
        const t = performance.now();
        const s = await fetchPubmed({ outDir: dest, mirror: url });
        skipT.push((performance.now() - t) / 1000);
        if (s.skipped.length !== all.length) throw new Error('rerun did not skip everything');
      }
      for (const f of local) fs.rmSync(f + VERIFIED_SUFFIX);
      const t = performance.now();
      const re = await fetchPubmed({ outDir: dest, mirror: url });
      const rehash = (performance.now() - t) / 1000;
      if (re.downloaded.length) throw new Error('rehash run downloaded something');
      console.log(
        `rerun, everything verified: ${(median(skipT) * 1000).toFixed(0)} ms for ${all.length} files (the two listings only, no file request); ` +
          `rerun without verification records: ${rehash.toFixed(2)} s (${all.length} .md5 requests + md5 of ${(total / MB).toFixed(1)} MB, ${rate(rehash)})`,
      );
    } finally {
      child.disconnect();
    }
  } finally {
    if (a.keep) console.log(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
}
