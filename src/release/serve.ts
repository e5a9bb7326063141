// A static file server on 127.0.0.1 for a release folder, as any static HTTP server (nginx, S3 website) serves one:
// GET/HEAD, single Range requests (206, 416), 404. It logs every request with the body bytes actually sent, and has
// fault knobs for the tests and the benchmark: drop the connection after N body bytes of a file, throttle, stop
// answering. Used by test/unit/release.test.ts and `npm run bench -- release`; not a production server.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';

export interface ServedRequest {
  path: string;
  range?: string;
  status: number;
  bytes: number;
}

export interface ServeFaults {
  /** Destroy the socket after this many body bytes of a file whose path matches, `times` times (default once). */
  drop?: { match: RegExp; afterBytes: number; times?: number };
  /** Body bytes per second per response (default unlimited). */
  bytesPerSecond?: number;
  /** Called before the body of a file is sent (e.g. a test filling the disk the client writes to). */
  beforeBody?: (path: string) => void | Promise<void>;
}

export interface StaticServer {
  url: string;
  log: ServedRequest[];
  faults: ServeFaults;
  /** Body bytes sent for paths matching `match` (all when omitted). */
  bytesSent(match?: RegExp): number;
  close(): Promise<void>;
}

export async function serveFolder(folder: string, faults: ServeFaults = {}): Promise<StaticServer> {
  const root = path.resolve(folder);
  const log: ServedRequest[] = [];
  const sockets = new Set<Socket>();
  let drops = 0;
  const state = { faults };
  const server = http.createServer((req, res) => {
    const rec: ServedRequest = {
      path: decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname),
      range: req.headers.range,
      status: 0,
      bytes: 0,
    };
    log.push(rec);
    const file = path.join(root, ...rec.path.split('/').filter(Boolean));
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      rec.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    const size = fs.statSync(file).size;
    let start = 0;
    let end = size - 1;
    if (req.headers.range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range);
      if (!m || (m[1] === '' && m[2] === '')) {
        rec.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      if (m[1] === '') {
        start = Math.max(0, size - Number(m[2]));
      } else {
        start = Number(m[1]);
        if (m[2] !== '') end = Math.min(end, Number(m[2]));
      }
      if (start >= size || start > end) {
        rec.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      rec.status = 206;
      res.writeHead(206, {
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${size}`,
        'accept-ranges': 'bytes',
        'content-type': 'application/octet-stream',
      });
    } else {
      rec.status = 200;
      res.writeHead(200, {
        'content-length': size,
        'accept-ranges': 'bytes',
        'content-type': rec.path.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      });
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    void Promise.resolve(state.faults.beforeBody?.(rec.path)).then(
      () => send(),
      () => res.destroy(),
    );
    function send(): void {
      const drop =
        state.faults.drop && state.faults.drop.match.test(rec.path) && drops < (state.faults.drop.times ?? 1)
          ? state.faults.drop
          : undefined;
      const stream = fs.createReadStream(file, { start, end, highWaterMark: 64 << 10 });
      const bps = state.faults.bytesPerSecond;
      const t0 = Date.now();
      stream.on('data', (c) => {
        let chunk = c as Buffer;
        if (drop && rec.bytes + chunk.length >= drop.afterBytes) {
          chunk = chunk.subarray(0, Math.max(0, drop.afterBytes - rec.bytes));
          rec.bytes += chunk.length;
          drops++;
          stream.destroy();
          res.write(chunk, () => res.socket?.destroy());
          return;
        }
        rec.bytes += chunk.length;
        const ok = res.write(chunk);
        if (bps) {
          const due = (rec.bytes / bps) * 1000 - (Date.now() - t0);
          if (due > 0) {
            stream.pause();
            setTimeout(() => stream.resume(), due);
            return;
          }
        }
        if (!ok) {
          stream.pause();
          res.once('drain', () => stream.resume());
        }
      });
      stream.on('end', () => res.end());
      stream.on('error', () => res.destroy());
      res.on('close', () => stream.destroy());
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    log,
    get faults() {
      return state.faults;
    },
    set faults(f: ServeFaults) {
      state.faults = f;
      drops = 0;
    },
    bytesSent: (match?: RegExp) => log.filter((r) => !match || match.test(r.path)).reduce((s, r) => s + r.bytes, 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
