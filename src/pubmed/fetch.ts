// `biohicl pubmed fetch`: NLM's baseline and/or update files from the HTTPS mirror (or a lab's local mirror) into a
// folder, md5-verified, resumable, at most 3 connections (NLM asks for moderate use), with progress, skipping what
// an earlier run verified. The CLI (src/cli/commands/pubmed.ts) and `biohicl pubmed update` call fetchPubmed.
//
// Output folder (default $BIOHICL_HOME/pubmed), laid out like the mirror:
//   baseline/pubmed26n0001.xml.gz               the verified file (renamed into place only once it verified)
//   baseline/pubmed26n0001.xml.gz.md5           NLM's .md5 line, verbatim (openssl/`md5sum`-style tools can use it)
//   baseline/pubmed26n0001.xml.gz.verified.json what was verified: md5, size, mtime, the listing's date/size, source
//   baseline/pubmed26n0001.xml.gz.partial       an unfinished download, resumed with a Range request next time
//   updatefiles/…                               the same for update files
// A file counts as verified when its .verified.json names its current size and mtime. A rerun skips such a file
// without a request when the listing still shows the same date and size; otherwise it fetches the .md5 and compares
// (re-hashing the local file only when no valid record exists). A file whose download fails in any way is never
// renamed into place, so what was already downloaded and verified stays as it was.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConnectionPool, ContentError, download, DownloadError, fetchText, HashMismatchError } from '../net/download';
import * as v from 'valibot';
import { hashFile } from '../util/hash';
import { md5Hex, readJson } from '../util/json';
import { parseLockHolder, pidAlive, type LockHolder } from '../util/lock';
import { gzipPubmedCheck } from './gzip-check';
import {
  compareNlmFiles,
  NLM_DIRS,
  NLM_FILE_RE,
  NLM_MIRROR,
  nlmFileOrder,
  parseListing,
  parseMd5,
  type NlmKind,
  type NlmListedFile,
} from './nlm';
import { errorText } from '../util/errors';

export const MAX_CONNECTIONS = 3;
export const VERIFIED_SUFFIX = '.verified.json';

export interface FetchPubmedOptions {
  /** Output folder (baseline/ and updatefiles/ are made inside). */
  outDir: string;
  /** Mirror root, like https://ftp.ncbi.nlm.nih.gov/pubmed/ (default). Plain http only for loopback hosts. */
  mirror?: string;
  /** Which folders: default both. */
  kinds?: NlmKind[];
  /** File numbers, inclusive (pubmed26n0003 is number 3). */
  from?: number;
  to?: number;
  /** Only these files: names (pubmed26n0003.xml.gz or pubmed26n0003) or numbers. */
  files?: string[];
  /** Only files after this one in nlmFileOrder (e.g. the last update file already indexed). */
  after?: string;
  /** Parallel connections, 1..3 (default 3). */
  connections?: number;
  /** Re-hash local files even when their verification record is current. */
  recheck?: boolean;
  /**
   * Inflate each download to its end while it arrives (default true; see src/pubmed/gzip-check.ts). false checks
   * only the gzip magic and the XML root; the md5 still covers every byte.
   */
  inflateCheck?: boolean;
  retries?: number;
  retryDelayMs?: number;
  stallTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: FetchPubmedProgress) => void;
  onLog?: (line: string) => void;
}

export interface FetchPubmedProgress {
  phase: 'listing' | 'download' | 'recheck' | 'done';
  filesDone: number;
  filesTotal: number;
  /** Bytes of the files being fetched that are on disk (resumed partials included) and their expected total. */
  bytes: number;
  totalBytes: number;
  /** Bytes received over the network in this run, and the rate since the first download started. */
  received: number;
  rate: number;
  etaSeconds?: number;
  /** Files being downloaded now. */
  active: string[];
}

export type FileStatus = 'downloaded' | 'skipped' | 'failed' | 'cancelled';

export interface FetchedNlmFile {
  name: string;
  kind: NlmKind;
  path: string;
  status: FileStatus;
  md5?: string;
  bytes?: number;
  /** For skipped files: why (verified earlier / the copy here matched); for failed ones: the message. */
  message?: string;
}

export interface FetchSummary {
  mirror: string;
  outDir: string;
  /** Files the options selected, in nlmFileOrder. */
  selected: number;
  downloaded: string[];
  skipped: string[];
  failures: { file: string; message: string }[];
  /** Bytes received over the network; seconds of the whole run; their ratio (bytes/s). */
  bytes: number;
  seconds: number;
  rate: number;
  files: FetchedNlmFile[];
  /** Things to know that are not failures (a listing entry that changed but still matches, files that appeared). */
  notes: string[];
  listingChanged: boolean;
  cancelled: boolean;
}

/** A problem with the request as a whole: exitCode 2 (usage) or 4 (the mirror has no such listing or file). */
export class PubmedFetchError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 4,
  ) {
    super(message);
    this.name = 'PubmedFetchError';
  }
}

export const VerifiedRecordSchema = v.object({
  name: v.string(),
  kind: v.picklist(['baseline', 'update']),
  md5: md5Hex,
  size: v.number(),
  mtimeMs: v.number(),
  /** The URL it was fetched from (or verified against). */
  source: v.string(),
  /** The listing's date and size columns when it was verified. */
  listed: v.optional(v.object({ modified: v.optional(v.string()), size: v.optional(v.string()) })),
  verifiedAt: v.string(),
});
export type VerifiedRecord = v.InferOutput<typeof VerifiedRecordSchema>;

export function localPath(outDir: string, kind: NlmKind, name: string): string {
  return path.join(outDir, NLM_DIRS[kind], name);
}

/** The verification record of a local file when it still describes the file (same size and mtime), else undefined. */
export function readVerified(file: string): VerifiedRecord | undefined {
  try {
    const rec = readJson(file + VERIFIED_SUFFIX, VerifiedRecordSchema);
    const st = fs.statSync(file);
    if (rec.size === st.size && Math.abs(rec.mtimeMs - st.mtimeMs) < 1) return rec;
  } catch {
    /* no record, no file, or unreadable: not verified */
  }
  return undefined;
}

function writeVerified(
  file: string,
  rec: Omit<VerifiedRecord, 'size' | 'mtimeMs' | 'verifiedAt'>,
  md5Text: string | undefined,
): VerifiedRecord {
  const st = fs.statSync(file);
  const full: VerifiedRecord = { ...rec, size: st.size, mtimeMs: st.mtimeMs, verifiedAt: new Date().toISOString() };
  const write = (target: string, text: string): void => {
    const tmp = `${target}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, target);
  };
  if (md5Text !== undefined) write(file + '.md5', md5Text.endsWith('\n') ? md5Text : md5Text + '\n');
  write(file + VERIFIED_SUFFIX, JSON.stringify(full, null, 2) + '\n');
  return full;
}

function unverify(file: string): void {
  fs.rmSync(file + VERIFIED_SUFFIX, { force: true });
  fs.rmSync(file + '.md5', { force: true });
}

export interface LocalNlmFile {
  name: string;
  kind: NlmKind;
  path: string;
  md5: string;
  size: number;
}

/** The verified NLM files in an output folder, in nlmFileOrder (baseline before updates, by number). */
export function verifiedFiles(outDir: string, kinds: NlmKind[] = ['baseline', 'update']): LocalNlmFile[] {
  const out: LocalNlmFile[] = [];
  for (const kind of kinds) {
    const dir = path.join(outDir, NLM_DIRS[kind]);
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir)) {
      if (!NLM_FILE_RE.test(name) || !name.endsWith('.gz')) continue;
      const p = path.join(dir, name);
      const rec = readVerified(p);
      if (rec) out.push({ name, kind, path: p, md5: rec.md5, size: rec.size });
    }
  }
  return out.sort((a, b) => compareNlmFiles(a.name, b.name));
}

export const LOCK_FILE = '.fetch.lock';

/**
 * One fetch per output folder at a time (two would write the same .partial files). A lock left by a process that
 * is gone (same host, pid not running) is taken over; one from another host (a shared cluster folder) is refused
 * with what to do. Returns the release function.
 */
export function lockOutDir(outDir: string): () => void {
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, LOCK_FILE);
  const me = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  for (let tries = 0; ; tries++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me) + '\n', { flag: 'wx' });
      return () => {
        try {
          if (parseLockHolder(fs.readFileSync(file, 'utf8'), file)?.pid === process.pid)
            fs.rmSync(file, { force: true });
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 0) throw e;
    }
    let held: LockHolder = {};
    try {
      held = parseLockHolder(fs.readFileSync(file, 'utf8'), file) ?? {}; // not a lock record: treated as stale
    } catch {
      /* gone meanwhile */
    }
    if (held.pid && held.host && (held.host !== me.host || pidAlive(held.pid))) {
      throw new PubmedFetchError(
        `another fetch is writing to ${outDir} (pid ${held.pid} on ${held.host}, since ${held.startedAt}); ` +
          `wait for it, or delete ${file} if that run is gone`,
        1,
      );
    }
    fs.rmSync(file, { force: true }); // stale
  }
}

function normaliseMirror(m: string): string {
  let u: URL;
  try {
    u = new URL(m);
  } catch {
    throw new PubmedFetchError(`--mirror: not a URL: '${m}'`, 2);
  }
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u.href;
}

/** `pubmed26n0003`, `pubmed26n0003.xml.gz` → the .xml.gz name; `3` → a number. */
function parseWanted(w: string): { name?: string; number?: number } {
  const t = w.trim();
  if (/^\d+$/.test(t)) return { number: Number(t) };
  const name = /\.xml\.gz$/.test(t) ? path.basename(t) : `${path.basename(t).replace(/\.xml$/, '')}.xml.gz`;
  if (!NLM_FILE_RE.test(name))
    throw new PubmedFetchError(`--files: '${w}' is not an NLM file name (pubmedYYnNNNN.xml.gz) or number`, 2);
  return { name };
}

interface Selection {
  from?: number;
  to?: number;
  files?: string[];
  after?: string;
}

export function validateSelection(o: Selection & { connections?: number }): void {
  const pos = (v: number | undefined, what: string): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1))
      throw new PubmedFetchError(`${what} must be a positive integer, got '${v}'`, 2);
  };
  pos(o.from, '--from');
  pos(o.to, '--to');
  if (o.from !== undefined && o.to !== undefined && o.from > o.to)
    throw new PubmedFetchError(`--from ${o.from} is after --to ${o.to}`, 2);
  if (o.files && (o.from !== undefined || o.to !== undefined))
    throw new PubmedFetchError('--files cannot be combined with --from/--to', 2);
  if (o.files && o.after) throw new PubmedFetchError('--files cannot be combined with --after', 2);
  if (o.files) for (const f of o.files) parseWanted(f);
  if (o.after !== undefined && !nlmFileOrder(o.after.trim()) && !nlmFileOrder(`${o.after.trim()}.xml.gz`)) {
    throw new PubmedFetchError(`--after: '${o.after}' is not an NLM file name (pubmedYYnNNNN.xml.gz)`, 2);
  }
  if (
    o.connections !== undefined &&
    (!Number.isInteger(o.connections) || o.connections < 1 || o.connections > MAX_CONNECTIONS)
  ) {
    throw new PubmedFetchError(
      `--connections must be 1..${MAX_CONNECTIONS} (NLM asks for moderate use), got '${o.connections}'`,
      2,
    );
  }
}

/** The listed files the options select, in nlmFileOrder; `missing` names --files entries the listings lack. */
export function selectFiles(listed: NlmListedFile[], o: Selection): { files: NlmListedFile[]; missing: string[] } {
  let files = [...listed].sort((a, b) => compareNlmFiles(a.name, b.name));
  const missing: string[] = [];
  if (o.files) {
    const wanted = o.files.map(parseWanted);
    for (const w of wanted)
      if (!files.some((f) => f.name === w.name || f.number === w.number)) missing.push(w.name ?? `number ${w.number}`);
    files = files.filter((f) => wanted.some((w) => f.name === w.name || f.number === w.number));
  }
  if (o.from !== undefined) files = files.filter((f) => f.number >= o.from!);
  if (o.to !== undefined) files = files.filter((f) => f.number <= o.to!);
  if (o.after !== undefined) {
    const a = nlmFileOrder(o.after.trim()) ?? nlmFileOrder(`${o.after.trim()}.xml.gz`)!;
    files = files.filter((f) => f.yy > a.yy || (f.yy === a.yy && f.number > a.n));
  }
  return { files, missing };
}

async function readListings(
  mirror: string,
  kinds: NlmKind[],
  pool: ConnectionPool,
  o: FetchPubmedOptions,
): Promise<NlmListedFile[]> {
  const all: NlmListedFile[] = [];
  for (const kind of kinds) {
    const url = new URL(`${NLM_DIRS[kind]}/`, mirror).href;
    let text: string;
    let at: string;
    try {
      const r = await fetchText(url, {
        label: `listing ${url}`,
        pool,
        signal: o.signal,
        retries: o.retries,
        retryDelayMs: o.retryDelayMs,
        stallTimeoutMs: o.stallTimeoutMs,
        onLog: o.onLog,
      });
      text = r.text;
      at = r.url;
    } catch (e) {
      if (e instanceof DownloadError && e.kind === 'not-found')
        throw new PubmedFetchError(`no listing at ${url} (404): is --mirror right? (NLM's is ${NLM_MIRROR})`, 4);
      if (e instanceof DownloadError && e.kind === 'refused') throw new PubmedFetchError(e.message, 2);
      throw e;
    }
    all.push(...parseListing(text, at, kind));
  }
  return all;
}

const fmtEntry = (f: { modified?: string; size?: string } | undefined): string =>
  f ? `${f.modified ?? '?'}, ${f.size ?? '?'}` : 'absent';

/**
 * Fetch the selected NLM files into opts.outDir. Failures of single files are collected in the summary (the other
 * files go on); a bad request (options, no such listing, --files not on the mirror) throws PubmedFetchError before
 * anything is downloaded.
 */
export async function fetchPubmed(opts: FetchPubmedOptions): Promise<FetchSummary> {
  const t0 = Date.now();
  validateSelection(opts);
  const mirror = normaliseMirror(opts.mirror ?? NLM_MIRROR);
  const kinds = opts.kinds?.length ? [...new Set(opts.kinds)] : (['baseline', 'update'] as NlmKind[]);
  const connections = opts.connections ?? MAX_CONNECTIONS;
  const outDir = path.resolve(opts.outDir);
  const log = (l: string): void => opts.onLog?.(l);
  const release = lockOutDir(outDir);
  const pool = new ConnectionPool(connections);
  const common = {
    pool,
    signal: opts.signal,
    retries: opts.retries,
    retryDelayMs: opts.retryDelayMs,
    stallTimeoutMs: opts.stallTimeoutMs,
  };

  const progress: FetchPubmedProgress = {
    phase: 'listing',
    filesDone: 0,
    filesTotal: 0,
    bytes: 0,
    totalBytes: 0,
    received: 0,
    rate: 0,
    active: [],
  };
  const perFile = new Map<string, { bytes: number; total: number }>();
  let tDownload = 0;
  let lastEmit = 0;
  const emit = (force = false): void => {
    const now = Date.now();
    if (!force && now - lastEmit < 100) return;
    lastEmit = now;
    let bytes = 0;
    let total = 0;
    for (const v of perFile.values()) {
      bytes += v.bytes;
      total += Math.max(v.total, v.bytes);
    }
    progress.bytes = bytes;
    progress.totalBytes = total;
    const secs = tDownload ? (now - tDownload) / 1000 : 0;
    progress.rate = secs > 0 ? progress.received / secs : 0;
    progress.etaSeconds = progress.rate > 0 ? Math.max(0, total - bytes) / progress.rate : undefined;
    opts.onProgress?.({ ...progress, active: [...progress.active] });
  };

  try {
    emit(true);
    const listed = await readListings(mirror, kinds, pool, opts);
    const { files: selected, missing } = selectFiles(listed, opts);
    if (missing.length)
      throw new PubmedFetchError(
        `not on the mirror (${kinds.map((k) => new URL(`${NLM_DIRS[k]}/`, mirror).href).join(', ')}): ${missing.join(', ')}`,
        4,
      );
    progress.filesTotal = selected.length;
    // The bytes to expect: files not already verified (by record + unchanged listing entry) at their listed size.
    for (const f of selected) {
      const rec = readVerified(localPath(outDir, f.kind, f.name));
      const current = rec && f.modified && rec.listed?.modified === f.modified && rec.listed?.size === f.size;
      if (opts.recheck || !current) perFile.set(f.name, { bytes: 0, total: f.approxBytes ?? 0 });
    }
    for (const k of kinds) fs.mkdirSync(path.join(outDir, NLM_DIRS[k]), { recursive: true });
    progress.phase = 'download';
    emit(true);

    const results = new Map<string, FetchedNlmFile>();
    const md5Used = new Map<string, string>();
    const done = (r: FetchedNlmFile): FetchedNlmFile => {
      results.set(r.name, r);
      progress.filesDone++;
      const pf = perFile.get(r.name);
      if (pf && r.status !== 'downloaded')
        perFile.delete(r.name); // not fetched: out of the byte total
      else if (pf) {
        pf.bytes = r.bytes ?? pf.bytes;
        pf.total = pf.bytes;
      }
      emit(true);
      return r;
    };

    const one = async (f: NlmListedFile): Promise<FetchedNlmFile> => {
      const dest = localPath(outDir, f.kind, f.name);
      const base = { name: f.name, kind: f.kind, path: dest };
      const rec = readVerified(dest);
      if (rec && !opts.recheck && f.modified && rec.listed?.modified === f.modified && rec.listed?.size === f.size) {
        md5Used.set(f.name, rec.md5);
        return { ...base, status: 'skipped', md5: rec.md5, bytes: rec.size, message: 'verified earlier' };
      }
      const md5Url = f.md5Url ?? `${f.url}.md5`;
      let md5Text: string;
      try {
        md5Text = (await fetchText(md5Url, { ...common, label: `${f.name}.md5`, maxBytes: 4096 })).text;
      } catch (e) {
        if (e instanceof DownloadError && e.kind === 'not-found') {
          return {
            ...base,
            status: 'failed',
            message: `${f.name}: the mirror has no ${f.name}.md5 (${md5Url}); not downloaded: nothing to verify it against`,
          };
        }
        throw e;
      }
      const md5 = parseMd5(md5Text, f.name);
      md5Used.set(f.name, md5);
      const listedNow = { modified: f.modified, size: f.size };
      if (fs.existsSync(dest)) {
        if (rec && rec.md5 === md5 && !opts.recheck) {
          writeVerified(dest, { name: f.name, kind: f.kind, md5, source: f.url, listed: listedNow }, md5Text);
          return { ...base, status: 'skipped', md5, bytes: rec.size, message: 'verified earlier (md5 unchanged)' };
        }
        const local = await hashFile(dest, 'md5');
        if (local === md5) {
          const r = writeVerified(dest, { name: f.name, kind: f.kind, md5, source: f.url, listed: listedNow }, md5Text);
          return { ...base, status: 'skipped', md5, bytes: r.size, message: "the copy here matches the mirror's md5" };
        }
        log(
          `${f.name}: the copy here (md5 ${local}) is not the mirror's (${md5}); downloading it again (the copy here stays until the new one is verified)`,
        );
      }
      progress.active.push(f.name);
      if (!tDownload) tDownload = Date.now();
      let counted = 0;
      const pf = perFile.get(f.name) ?? { bytes: 0, total: f.approxBytes ?? 0 };
      perFile.set(f.name, pf);
      try {
        const r = await download(f.url, dest, {
          ...common,
          label: f.name,
          algo: 'md5',
          expected: md5,
          check: () => gzipPubmedCheck({ full: opts.inflateCheck ?? true }),
          onLog: log,
          onProgress: (p) => {
            if (p.total !== undefined) pf.total = p.total;
            pf.bytes = p.bytes;
            progress.received += p.received - counted;
            counted = p.received;
            emit();
          },
        });
        progress.received += r.received - counted;
        counted = r.received;
        writeVerified(dest, { name: f.name, kind: f.kind, md5, source: r.url, listed: listedNow }, md5Text);
        return {
          ...base,
          status: 'downloaded',
          md5,
          bytes: r.bytes,
          message: r.resumedFrom ? `resumed at ${r.resumedFrom} bytes` : undefined,
        };
      } finally {
        progress.active = progress.active.filter((n) => n !== f.name);
      }
    };

    // A fixed number of workers over the queue: never more than `connections` transfers, and the pool's sockets
    // cap it again at the connection level.
    const queue = [...selected];
    let cancelled = false;
    const worker = async (): Promise<void> => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        if (opts.signal?.aborted) {
          cancelled = true;
          done({ name: f.name, kind: f.kind, path: localPath(outDir, f.kind, f.name), status: 'cancelled' });
          continue;
        }
        try {
          done(await one(f));
        } catch (e) {
          const err = e as Error;
          const isCancel = (e instanceof DownloadError && e.kind === 'cancelled') || !!opts.signal?.aborted;
          if (isCancel) cancelled = true;
          const message =
            e instanceof DownloadError ||
            e instanceof HashMismatchError ||
            e instanceof ContentError ||
            err.message.startsWith(f.name)
              ? err.message
              : `${f.name}: ${err.message}`;
          done({
            name: f.name,
            kind: f.kind,
            path: localPath(outDir, f.kind, f.name),
            status: isCancel ? 'cancelled' : 'failed',
            message,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(connections, Math.max(1, selected.length)) }, worker));
    if (opts.signal?.aborted) cancelled = true;

    // Read the listing again: a file that changed on the mirror while we fetched it is reported, and a copy that
    // no longer matches the mirror's md5 is not left marked as verified.
    const notes: string[] = [];
    let listingChanged = false;
    if (!cancelled && selected.length) {
      progress.phase = 'recheck';
      emit(true);
      let end: NlmListedFile[] | undefined;
      try {
        end = await readListings(mirror, kinds, pool, opts);
      } catch (e) {
        notes.push(`could not read the listing again to check that it did not change during the run: ${errorText(e)}`);
      }
      if (end) {
        const now = new Map(end.map((f) => [f.name, f]));
        for (const f of selected) {
          const r = results.get(f.name)!;
          const e = now.get(f.name);
          if (e && e.modified === f.modified && e.size === f.size) continue;
          listingChanged = true;
          const what = `${f.name} changed on the mirror during the run (listed ${fmtEntry(f)}, now ${fmtEntry(e)})`;
          if (!e) {
            if (r.status === 'failed' || r.status === 'cancelled')
              r.message = `${r.message} — it was removed from the mirror's listing during the run`;
            else
              notes.push(`${f.name}: removed from the mirror's listing during the run; the verified copy here is kept`);
            continue;
          }
          let md5Now: string | undefined;
          try {
            md5Now = parseMd5(
              (await fetchText(e.md5Url ?? `${e.url}.md5`, { ...common, label: `${f.name}.md5`, maxBytes: 4096 })).text,
              f.name,
            );
          } catch (err) {
            notes.push(`${what}; its .md5 could not be read again (${errorText(err)})`);
          }
          if (r.status === 'failed' || r.status === 'cancelled') {
            r.message = `${r.message} — ${what}; run again`;
          } else if (md5Now && md5Now === md5Used.get(f.name)) {
            notes.push(`${what}; the copy here matches the mirror's current md5`);
            if (readVerified(r.path)) {
              const rec = readVerified(r.path)!;
              writeVerified(
                r.path,
                {
                  name: rec.name,
                  kind: rec.kind,
                  md5: rec.md5,
                  source: rec.source,
                  listed: { modified: e.modified, size: e.size },
                },
                undefined,
              );
            }
          } else if (md5Now) {
            if (r.status === 'downloaded') {
              unverify(r.path);
              r.status = 'failed';
              r.message = `${what}: its md5 is now ${md5Now}, the copy fetched has ${md5Used.get(f.name)}; the copy is not marked verified — run again to fetch the new version`;
            } else {
              notes.push(
                `${what}: its md5 is now ${md5Now}; the copy here (verified earlier) is the previous version — run again to fetch the new one`,
              );
            }
          }
        }
        const appeared = selectFiles(end, { ...opts, files: undefined }).files.filter((f) => !results.has(f.name));
        if (!opts.files && appeared.length) {
          listingChanged = true;
          notes.push(
            `appeared on the mirror during the run: ${appeared.map((f) => f.name).join(', ')}; run again to fetch ${appeared.length === 1 ? 'it' : 'them'}`,
          );
        }
      }
    }

    progress.phase = 'done';
    emit(true);
    const files = selected.map((f) => results.get(f.name)!);
    const seconds = (Date.now() - t0) / 1000;
    const bytes = progress.received;
    return {
      mirror,
      outDir,
      selected: selected.length,
      downloaded: files.filter((f) => f.status === 'downloaded').map((f) => f.name),
      skipped: files.filter((f) => f.status === 'skipped').map((f) => f.name),
      failures: files
        .filter((f) => f.status === 'failed' || f.status === 'cancelled')
        .map((f) => ({
          file: f.name,
          message:
            f.message ?? (f.status === 'cancelled' ? `${f.name}: cancelled; run again to resume` : `${f.name}: failed`),
        })),
      bytes,
      seconds,
      rate: seconds > 0 ? bytes / seconds : 0,
      files,
      notes,
      listingChanged,
      cancelled,
    };
  } finally {
    pool.destroy();
    release();
  }
}
