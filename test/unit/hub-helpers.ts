// A real HTTP server on 127.0.0.1 that serves files the way Hugging Face does: /<repo>/resolve/<rev>/<file>,
// weights through a 302 redirect to a content-addressed URL (as LFS files are), Range requests (206 / 416),
// an x-repo-commit header, and 404 for files a repo does not have. It can drop the connection mid-body.
import * as http from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface ServedRepo {
  commit: string;
  revisions: string[];
  files: Record<string, Buffer>;
}
export interface RequestLog {
  url: string;
  range?: string;
  status: number;
}

export class HubServer {
  readonly log: RequestLog[] = [];
  /** file path suffix → number of bytes after which the next response for it is cut (consumed once). */
  readonly cutAfter = new Map<string, number>();
  private server: http.Server;
  url = '';
  constructor(readonly repos: Record<string, ServedRepo>) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }
  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
  requests(suffix: string): RequestLog[] {
    return this.log.filter((l) => l.url.endsWith(suffix));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = decodeURIComponent(req.url ?? '');
    const entry: RequestLog = { url, range: req.headers.range, status: 0 };
    this.log.push(entry);
    const send = (status: number, headers: Record<string, string> = {}, body?: Buffer): void => {
      entry.status = status;
      res.writeHead(status, headers);
      res.end(body);
    };
    const cdn = /^\/cdn\/([0-9a-f]{64})\/(.+)$/.exec(url);
    let body: Buffer | undefined;
    let label = url;
    const headers: Record<string, string> = {};
    if (cdn) {
      for (const r of Object.values(this.repos))
        for (const b of Object.values(r.files)) if (sha(b) === cdn[1]) body = b;
    } else {
      const m = /^\/(.+?\/.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url);
      const repo = m && this.repos[m[1]];
      if (!m || !repo || !repo.revisions.includes(m[2]) || !repo.files[m[3]])
        return send(404, {}, Buffer.from('Entry not found'));
      headers['x-repo-commit'] = repo.commit;
      if (/\.(safetensors|bin)$/.test(m[3])) {
        return send(302, { ...headers, location: `/cdn/${sha(repo.files[m[3]])}/${m[3]}` });
      }
      body = repo.files[m[3]];
      label = url;
    }
    if (!body) return send(404);
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= body.length) return send(416, { 'content-range': `bytes */${body.length}` });
      status = 206;
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    const part = body.subarray(start);
    headers['content-length'] = String(part.length);
    headers['accept-ranges'] = 'bytes';
    entry.status = status;
    res.writeHead(status, headers);
    const cutKey = [...this.cutAfter.keys()].find((k) => label.endsWith(k));
    if (cutKey !== undefined) {
      const n = this.cutAfter.get(cutKey)!;
      this.cutAfter.delete(cutKey);
      res.write(part.subarray(0, n), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(part);
  }
}

export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export function readDir(dir: string, names: string[]): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const n of names) out[n] = fs.readFileSync(path.join(dir, n));
  return out;
}
