// `biohicl index pull`: copy a release (publish.ts, manifest.ts) from an HTTP(S) URL, an s3:// URI or a folder into
// the local index, fetching only what the local copy lacks, verifying every file, and switching atomically.
//
// On disk, for `--index <dir>`:
//   <dir>                       a symlink → <dir>.releases/<id> (the index everyone opens; a plain folder the first
//                               time, moved to <dir>.releases/local-<time> at the first switch)
//   <dir>.releases/<id>/        one complete, verified release: its files, release.json, meta.json (id = tag-sha12)
//   <dir>.releases/.staging/    the pull in progress (resumable: finished files and `.partial` downloads are kept)
//   <dir>.releases/state.json   { current, previous }: the previous release is kept until the next pull (rollback)
//   <dir>.releases/hashes.json  sha256 of local files by device:inode, size and mtime (files are never rewritten)
//   <dir>.releases/pull.lock    one pull at a time
//
// Order of work, each step safe to interrupt (SIGKILL included): read release.json → refuse another model (before
// any byte is written) → plan (a file already staged, or present in the current or kept release at the same path
// with the same size and sha256, is hard-linked; anything else is downloaded) → check free space → link → download
// (resumable at any byte) → verify every file's size and sha256 → open the staged index with IndexStore and read
// every row → rename .staging to <id> → replace the <dir> symlink with rename(2). Until that last rename the old
// index is what <dir> opens, untouched; after it, the new one, complete. Processes that have the old index open
// follow the symlink on their next query (LanceDB re-resolves paths), so they answer from the new release.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v from 'valibot';
import { HashMismatchError, DownloadError } from '../net/download';
import { hashBytes, hashFile } from '../util/hash';
import { MANIFEST_FILE } from '../inference/manifest';
import { modelIdentity } from '../inference/identity';
import { defaultRegistry } from '../inference/hub';
import type { ModelIdentity } from '../inference/types';
import { INDEX_FORMAT, META_FILE, describeIdentity, sameModel, type IndexMeta } from '../index/store';
import { IndexMetaSchema } from '../index/meta';
import { errorText } from '../util/errors';
import { readJson, readJsonIfExists, sha256Hex } from '../util/json';
import { parseLockHolder, pidAlive, type LockHolder } from '../util/lock';
import { checkOpens } from './publish';
import { openSource, type ReleaseSource } from './sources';
import { freeBytes, fsyncDir, isNoSpace, linkOrCopy, under, walkFiles } from './fsutil';
import { RELEASE_FILE, ReleaseError, fmtBytes, parseRelease, type ReleaseFile, type ReleaseManifest } from './manifest';

export interface ReleaseLayout {
  /** The index path (a symlink once a release was pulled). */
  link: string;
  root: string;
  staging: string;
  state: string;
  hashes: string;
  lock: string;
}

export function layoutFor(index: string): ReleaseLayout {
  const link = path.resolve(index);
  const root = `${link}.releases`;
  return {
    link,
    root,
    staging: path.join(root, '.staging'),
    state: path.join(root, 'state.json'),
    hashes: path.join(root, 'hashes.json'),
    lock: path.join(root, 'pull.lock'),
  };
}

export const PullStateSchema = v.object({
  current: v.optional(v.string()),
  previous: v.optional(v.string()),
  /** Set while a plain index folder is being moved under releases/ (recovered at the next pull). */
  converting: v.optional(v.object({ to: v.string() })),
  pulledAt: v.optional(v.string()),
});
export type PullState = v.InferOutput<typeof PullStateSchema>;

export interface PullProgress {
  phase: 'plan' | 'link' | 'download' | 'verify' | 'open' | 'switch';
  /** Bytes received so far / expected to be received (download phase). */
  bytes: number;
  total: number;
  file?: string;
}

export interface PullOptions {
  /** https://…, s3://bucket/prefix or a folder (release.json at its root). */
  source: string;
  index: string;
  /** The local model folder the release's vectors must come from. */
  modelDir: string;
  /** Files downloaded at once (default 4). */
  concurrency?: number;
  /** Re-hash local files instead of trusting hashes.json. */
  rehash?: boolean;
  retryDelayMs?: number;
  stallTimeoutMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  onLog?: (line: string) => void;
  onProgress?: (p: PullProgress) => void;
}

export interface PullResult {
  status: 'switched' | 'up-to-date';
  tag: string;
  id: string;
  index: string;
  releaseDir: string;
  previous?: string;
  source: string;
  files: number;
  downloadedFiles: number;
  linkedFiles: number;
  /** Files found finished in the staging folder (an interrupted pull resumed). */
  stagedFiles: number;
  totalBytes: number;
  /** Bytes received from the source by this run. */
  receivedBytes: number;
  linkedBytes: number;
  counts: { articles: number; sentences: number };
  model: ModelIdentity;
  seconds: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Local state

/** The pull state (`{}` before the first pull); a damaged file is refused, naming the field. */
function readState(l: ReleaseLayout): PullState {
  try {
    return readJsonIfExists(l.state, PullStateSchema) ?? {};
  } catch (e) {
    throw new ReleaseError(
      `${errorText(e)}. It records which release is current; fix it or remove it (the next pull starts afresh)`,
      1,
    );
  }
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

const HashCacheSchema = v.object({
  entries: v.record(v.string(), v.object({ size: v.number(), mtimeMs: v.number(), sha256: sha256Hex })),
});
type HashEntry = v.InferOutput<typeof HashCacheSchema>['entries'][string];

/** sha256 of local files, keyed by device:inode (hard links share it; Lance never rewrites a file in place). */
class HashCache {
  private entries: Record<string, HashEntry> = {};
  private dirty = false;
  constructor(
    private readonly file: string,
    private readonly rehash: boolean,
  ) {
    try {
      this.entries = readJsonIfExists(file, HashCacheSchema)?.entries ?? {};
    } catch {
      /* damaged: a cache, so every file is hashed again */
    }
  }
  private key(st: fs.Stats): string {
    return `${st.dev}:${st.ino}`;
  }
  /** The file's sha256 (from the cache when size and mtime are unchanged, else hashed now). */
  async sha256(file: string, st = fs.statSync(file)): Promise<string> {
    const e = this.entries[this.key(st)];
    if (!this.rehash && e && e.size === st.size && e.mtimeMs === st.mtimeMs) return e.sha256;
    const sha = await hashFile(file, 'sha256');
    this.record(file, sha);
    return sha;
  }
  record(file: string, sha256: string): void {
    const st = fs.statSync(file);
    this.entries[this.key(st)] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
    this.dirty = true;
  }
  /** Keep only entries of files that still exist under `dirs`. */
  prune(dirs: string[]): void {
    const live = new Set<string>();
    for (const d of dirs)
      for (const rel of walkFiles(d)) {
        try {
          live.add(this.key(fs.statSync(path.join(d, rel))));
        } catch {
          /* gone */
        }
      }
    for (const k of Object.keys(this.entries))
      if (!live.has(k)) {
        delete this.entries[k];
        this.dirty = true;
      }
  }
  save(): void {
    if (!this.dirty) return;
    try {
      writeJsonAtomic(this.file, { entries: this.entries });
      this.dirty = false;
    } catch {
      /* a cache: losing it costs only re-hashing */
    }
  }
}

function takeLock(l: ReleaseLayout): () => void {
  fs.mkdirSync(l.root, { recursive: true });
  const me = JSON.stringify({ pid: process.pid, host: os.hostname(), at: new Date().toISOString() });
  for (let i = 0; i < 2; i++) {
    try {
      fs.writeFileSync(l.lock, me, { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(l.lock, 'utf8') === me) fs.rmSync(l.lock, { force: true });
        } catch {
          /* gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: LockHolder = {};
      try {
        holder = parseLockHolder(fs.readFileSync(l.lock, 'utf8'), l.lock) ?? {}; // not a lock record: stale
      } catch {
        /* gone meanwhile */
      }
      if (holder.pid && holder.host === os.hostname() && pidAlive(holder.pid)) {
        throw new ReleaseError(`another pull (pid ${holder.pid}) is working on ${l.link}; wait for it to finish`, 1);
      }
      if (holder.host && holder.host !== os.hostname())
        throw new ReleaseError(
          `${l.lock}: a pull on ${holder.host} holds the lock; remove the file if that pull is gone`,
          1,
        );
      fs.rmSync(l.lock, { force: true });
    }
  }
  throw new ReleaseError(`${l.lock}: could not take the pull lock`, 1);
}

/** What <dir> opens now: the release folder the symlink points to, the plain folder, or undefined. */
function currentDir(l: ReleaseLayout): { dir?: string; id?: string; plain: boolean } {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(l.link);
  } catch {
    return { plain: false };
  }
  if (st.isSymbolicLink()) {
    try {
      const dir = fs.realpathSync(l.link);
      return { dir, id: path.dirname(dir) === fs.realpathSync(l.root) ? path.basename(dir) : undefined, plain: false };
    } catch {
      return { plain: false };
    }
  }
  if (st.isDirectory()) return { dir: l.link, plain: true };
  throw new ReleaseError(`${l.link} is neither a folder nor a symlink to a release`, 2);
}

/** Point <dir> at releases/<id>: a new symlink renamed over the old one (atomic). A plain index folder is first moved
 * under releases/ (the one step with a moment where <dir> is absent; state.json lets the next pull finish it). */
function switchTo(l: ReleaseLayout, id: string, state: PullState): string | undefined {
  const cur = currentDir(l);
  let previous = cur.id;
  if (cur.plain) {
    previous = `local-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    writeJsonAtomic(l.state, { ...state, converting: { to: previous } });
    fs.renameSync(l.link, path.join(l.root, previous));
  }
  const tmp = `${l.link}.switch-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(path.relative(path.dirname(l.link), path.join(l.root, id)), tmp);
  fs.renameSync(tmp, l.link);
  fsyncDir(path.dirname(l.link));
  return previous;
}

/** Finish what an interrupted pull left: a plain folder moved away but no symlink yet → point back at it. */
function recover(l: ReleaseLayout, log: (s: string) => void): void {
  const st = readState(l);
  if (st.converting) {
    const dir = path.join(l.root, st.converting.to);
    let exists = true;
    try {
      fs.lstatSync(l.link);
    } catch {
      exists = false;
    }
    if (!exists && fs.existsSync(dir)) {
      const tmp = `${l.link}.switch-${process.pid}`;
      fs.rmSync(tmp, { force: true });
      fs.symlinkSync(path.relative(path.dirname(l.link), dir), tmp);
      fs.renameSync(tmp, l.link);
      log(`recovered an interrupted switch: ${l.link} → ${dir}`);
      writeJsonAtomic(l.state, { ...st, converting: undefined, current: st.converting.to });
    } else writeJsonAtomic(l.state, { ...st, converting: undefined });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

/** How to get the model a release was built with (an imperative clause for messages). */
export function modelWayOut(m: ModelIdentity): string {
  if (m.generated) {
    return (
      `it has generated (random) weights (${m.repo}), so only the publisher's very model folder matches (its manifest.json ` +
      `sha256 is ${m.manifestHash}): copy that folder here`
    );
  }
  const reg = defaultRegistry();
  const id = Object.entries(reg.models).find(([, e]) => e.repo === m.repo)?.[0];
  const how = id
    ? `\`biohicl model fetch ${/^biohicl-/.test(id) ? `--variant ${id.replace(/^biohicl-/, '')}` : `--model ${id}`} --revision ${m.revision}\`` +
      ` (add --allow-unpinned if that revision is not pinned)`
    : `convert ${m.repo}@${m.revision} with \`biohicl model convert <folder> --out <dir>\``;
  return `${how}; its manifest.json must hash to ${m.manifestHash.slice(0, 12)}…`;
}

function unchanged(l: ReleaseLayout, capital = true): string {
  const s = fs.existsSync(l.link)
    ? `nothing was switched: the index at ${l.link} is unchanged and keeps answering`
    : `nothing was switched (there is no index at ${l.link} yet)`;
  return capital ? s[0]!.toUpperCase() + s.slice(1) : s;
}

// ---------------------------------------------------------------------------------------------------------------

export async function pullRelease(o: PullOptions): Promise<PullResult> {
  const t0 = Date.now();
  const log = o.onLog ?? (() => undefined);
  const progress = o.onProgress ?? (() => undefined);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(o.index))
    throw new ReleaseError(`--index ${o.index}: a release is pulled into a local folder`, 2);
  const l = layoutFor(o.index);
  const src = openSource(o.source, { env: o.env, connections: o.concurrency ?? 4 });
  try {
    const text = await src.readRelease();
    const rel = parseRelease(text, src.where);
    const sha = hashBytes(text);
    const id = `${rel.tag}-${sha.slice(0, 12)}`;

    // An index format this version cannot read: refused before anything is downloaded.
    if (typeof rel.indexFormat === 'number' && rel.indexFormat > INDEX_FORMAT)
      throw new ReleaseError(
        `the release ${rel.tag} holds an index of format ${rel.indexFormat}, newer than this version of biohicl reads (up to ${INDEX_FORMAT}); nothing was downloaded. Update biohicl (or the extension) and pull again. ${unchanged(l)}.`,
        4,
      );
    // The model first: nothing is written for a release that could not be searched with the local model.
    if (!fs.existsSync(path.join(o.modelDir, MANIFEST_FILE))) {
      throw new ReleaseError(
        `no model at ${o.modelDir} (no ${MANIFEST_FILE}). The release ${rel.tag} needs ${describeIdentity(rel.model)}: get it — ` +
          `${modelWayOut(rel.model)} — then pull again with --model <that folder>. ${unchanged(l)}.`,
        4,
      );
    }
    const local = modelIdentity(o.modelDir, rel.model.queryPrefix);
    if (!sameModel(local, rel.model)) {
      throw new ReleaseError(
        `the release ${rel.tag} was built with model ${describeIdentity(rel.model)}, but the local model (${o.modelDir}) is ` +
          `${describeIdentity(local)}; vectors of different models cannot be searched together, so nothing was downloaded. Either get the release's model — ` +
          `${modelWayOut(rel.model)} — and pull again with \`biohicl index pull ${o.source} --index ${l.link} --model <that folder>\`; ` +
          `or keep the current index: ${unchanged(l, false)}.`,
        3,
      );
    }

    const unlock = takeLock(l);
    try {
      recover(l, log);
      const state = readState(l);
      const cur = currentDir(l);
      if (cur.dir && readIf(path.join(cur.dir, RELEASE_FILE)) === text) {
        return result('up-to-date', cur.dir, state.previous, {
          files: 0,
          downloaded: 0,
          linked: 0,
          staged: 0,
          received: 0,
          linkedBytes: 0,
        });
      }
      const target = path.join(l.root, id);
      const hashes = new HashCache(l.hashes, !!o.rehash);
      let stats = { files: rel.files.length, downloaded: 0, linked: 0, staged: 0, received: 0, linkedBytes: 0 };
      if (!(
        fs.existsSync(target) &&
        readIf(path.join(target, RELEASE_FILE)) === text &&
        (await complete(target, rel, hashes))
      )) {
        stats = await stage(o, l, src, rel, text, cur.dir, hashes, progress, log);
        fs.rmSync(target, { recursive: true, force: true });
        fs.renameSync(l.staging, target);
        fsyncDir(l.root);
      } else log(`${target} is already complete and verified (an earlier pull stopped before the switch)`);

      progress({ phase: 'switch', bytes: stats.received, total: stats.received });
      const previous = switchTo(l, id, state);
      const next: PullState = {
        current: id,
        previous: previous && previous !== id ? previous : state.previous,
        pulledAt: new Date().toISOString(),
      };
      writeJsonAtomic(l.state, next);
      // Keep the current and the previous release; anything older goes.
      for (const e of fs.readdirSync(l.root, { withFileTypes: true })) {
        if (!e.isDirectory() || e.name === '.staging' || e.name === next.current || e.name === next.previous) continue;
        fs.rmSync(path.join(l.root, e.name), { recursive: true, force: true });
      }
      hashes.prune([target, ...(next.previous ? [path.join(l.root, next.previous)] : [])]);
      hashes.save();
      return result('switched', target, next.previous, stats);
    } finally {
      unlock();
    }

    function result(
      status: PullResult['status'],
      dir: string,
      previous: string | undefined,
      s: { files: number; downloaded: number; linked: number; staged: number; received: number; linkedBytes: number },
    ): PullResult {
      return {
        status,
        tag: rel.tag,
        id,
        index: l.link,
        releaseDir: dir,
        previous,
        source: src.where,
        files: rel.files.length,
        downloadedFiles: s.downloaded,
        linkedFiles: s.linked,
        stagedFiles: s.staged,
        totalBytes: rel.totalBytes,
        receivedBytes: s.received,
        linkedBytes: s.linkedBytes,
        counts: rel.counts,
        model: rel.model,
        seconds: (Date.now() - t0) / 1000,
      };
    }
  } finally {
    src.close();
  }
}

function readIf(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether a release folder holds every file of `rel` with its size and sha256 (meta.json: present). */
async function complete(dir: string, rel: ReleaseManifest, hashes: HashCache): Promise<boolean> {
  for (const f of rel.files) {
    const p = under(dir, f.path);
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      return false;
    }
    if (f.path === META_FILE) continue; // rewritten locally with the model folder (see stage)
    if (st.size !== f.size || (await hashes.sha256(p, st)) !== f.sha256) return false;
  }
  return true;
}

/** Build the verified staging folder. Returns what it took. */
async function stage(
  o: PullOptions,
  l: ReleaseLayout,
  src: ReleaseSource,
  rel: ReleaseManifest,
  text: string,
  current: string | undefined,
  hashes: HashCache,
  progress: (p: PullProgress) => void,
  log: (s: string) => void,
) {
  const staging = l.staging;
  fs.mkdirSync(staging, { recursive: true });
  const wanted = new Map(rel.files.map((f) => [f.path, f]));
  // Whatever the staging folder holds that this release does not list goes (an earlier pull of another release).
  for (const rel0 of walkFiles(staging)) {
    const base = rel0.endsWith('.partial') ? rel0.slice(0, -'.partial'.length) : rel0;
    if (!wanted.has(base)) fs.rmSync(path.join(staging, ...rel0.split('/')), { force: true });
  }
  // Local copies to link from: the current index, then any other complete release kept here (a rollback's newer one).
  const sources = [
    current,
    ...(fs.existsSync(l.root)
      ? fs
          .readdirSync(l.root)
          .filter((n) => n !== '.staging' && fs.statSync(path.join(l.root, n)).isDirectory())
          .map((n) => path.join(l.root, n))
      : []),
  ].filter((d): d is string => !!d && fs.existsSync(d));
  const plan: { f: ReleaseFile; how: 'staged' | 'link' | 'download'; from?: string; have?: number }[] = [];
  progress({ phase: 'plan', bytes: 0, total: 0 });
  for (const f of rel.files) {
    const dest = under(staging, f.path);
    if (fs.existsSync(dest)) {
      const st = fs.statSync(dest);
      if (st.size === f.size && (await hashes.sha256(dest, st)) === f.sha256) {
        plan.push({ f, how: 'staged' });
        continue;
      }
      fs.rmSync(dest, { force: true });
    }
    let from: string | undefined;
    for (const d of sources) {
      const p = under(d, f.path);
      let st: fs.Stats;
      try {
        st = fs.statSync(p);
      } catch {
        continue;
      }
      if (st.isFile() && st.size === f.size && (await hashes.sha256(p, st)) === f.sha256) {
        from = p;
        break;
      }
    }
    if (from) plan.push({ f, how: 'link', from });
    else {
      const partial = `${dest}.partial`;
      plan.push({ f, how: 'download', have: fs.existsSync(partial) ? Math.min(fs.statSync(partial).size, f.size) : 0 });
    }
  }
  hashes.save();
  const downloads = plan.filter((p) => p.how === 'download');
  const need = downloads.reduce((s, p) => s + p.f.size - (p.have ?? 0), 0);
  const free = freeBytes(l.root);
  // Headroom for what is written besides the files (meta.json, LanceDB's namespace folder, the hash cache).
  const margin = (1 << 20) + Math.ceil(need / 100);
  const noSpace = (stillNeeded: number, what: string): ReleaseError =>
    new ReleaseError(
      `${what}: the pull needs ${fmtBytes(stillNeeded)} more on the disk holding ${l.root} (${fmtBytes(freeBytes(l.root) ?? 0)} free; ` +
        `${fmtBytes(need)} to download in all, of ${fmtBytes(rel.totalBytes)} in the release). Free some space and run the same command again: ` +
        `what is staged in ${staging} is kept and the pull resumes there (or delete that folder to give up). ${unchanged(l)}.`,
      1,
    );
  if (free !== undefined && free < need + margin) throw noSpace(need + margin - free, 'not enough disk space');
  log(
    `${rel.files.length} files (${fmtBytes(rel.totalBytes)}): ${plan.filter((p) => p.how === 'link').length} already here, ` +
      `${plan.filter((p) => p.how === 'staged').length} staged earlier, ${downloads.length} to download (${fmtBytes(need)})`,
  );

  let linkedBytes = 0;
  try {
    progress({ phase: 'link', bytes: 0, total: need });
    for (const p of plan.filter((x) => x.how === 'link')) {
      const dest = under(staging, p.f.path);
      if (linkOrCopy(p.from!, dest) === 'copied' && (await hashFile(dest, 'sha256')) !== p.f.sha256) {
        throw new ReleaseError(`${p.from}: changed while it was being copied; run the pull again`);
      }
      hashes.record(dest, p.f.sha256);
      linkedBytes += p.f.size;
    }

    // Downloads, a few at a time; the first failure stops the others (their partials are kept for the next run).
    let received = 0;
    const ac = new AbortController();
    const onAbort = (): void => ac.abort(o.signal?.reason);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const queue = [...downloads].sort((a, b) => b.f.size - a.f.size);
    let failure: unknown;
    const worker = async (): Promise<void> => {
      for (let p = queue.shift(); p && failure === undefined; p = queue.shift()) {
        const dest = under(staging, p.f.path);
        try {
          await src.fetch(p.f, dest, {
            signal: ac.signal,
            retryDelayMs: o.retryDelayMs,
            stallTimeoutMs: o.stallTimeoutMs,
            // The downloader reports a failed write like a dropped connection and retries it; a full disk is not
            // retried: the pull stops at once (the partial stays for the next run).
            onLog: (line) => {
              if (isNoSpace({ message: line }) && failure === undefined) {
                failure = Object.assign(new Error(line), { code: 'ENOSPC' });
                ac.abort();
              }
              log(line);
            },
            onBytes: (n) => {
              received += n;
              progress({ phase: 'download', bytes: received, total: need, file: p!.f.path });
            },
          });
          hashes.record(dest, p.f.sha256);
        } catch (e) {
          if (failure === undefined) {
            failure = e;
            ac.abort();
          }
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency ?? 4, downloads.length)) }, worker));
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      hashes.save();
    }
    if (failure !== undefined) {
      const e = failure;
      const staged = walkFiles(staging).reduce((s, r) => s + fs.statSync(path.join(staging, ...r.split('/'))).size, 0);
      if (e instanceof HashMismatchError) {
        throw new ReleaseError(
          `${e.file} does not match release.json: expected sha256 ${e.expected}, got ${e.actual}. The release at ${src.where} is ` +
            `damaged, or was changed after it was published; the bad file was deleted. ${unchanged(l)}.`,
          1,
        );
      }
      if (isNoSpace(e)) throw noSpace(Math.max(0, need - received) + margin, 'the disk filled during the pull');
      if (e instanceof ReleaseError) throw new ReleaseError(`${e.message}. ${unchanged(l)}.`, e.exitCode);
      if (e instanceof DownloadError) {
        throw new ReleaseError(
          `${e.message.replace(/; run again to resume$/, '')}. ${unchanged(l)}; run the same command again to resume ` +
            `(${fmtBytes(staged)} of ${fmtBytes(rel.totalBytes)} are staged in ${staging}).`,
          1,
        );
      }
      throw e;
    }

    // Every file, once more: present with its size and sha256 (hashes of files linked or downloaded just now were
    // computed on their bytes; --rehash reads everything again).
    progress({ phase: 'verify', bytes: received, total: need });
    for (const rf of walkFiles(staging))
      if (!wanted.has(rf)) fs.rmSync(path.join(staging, ...rf.split('/')), { force: true });
    for (const f of rel.files) {
      const p = under(staging, f.path);
      const st = fs.statSync(p);
      if (st.size !== f.size)
        throw new ReleaseError(`${f.path}: ${st.size} bytes staged, release.json says ${f.size}. ${unchanged(l)}.`);
      const got = await hashes.sha256(p, st);
      if (got !== f.sha256) {
        fs.rmSync(p, { force: true });
        throw new ReleaseError(
          `${f.path}: sha256 ${got}, release.json says ${f.sha256}; the file was removed from ${staging}. ${unchanged(l)}.`,
        );
      }
    }
    hashes.save();
    // meta.json must name the model release.json names, and the staged index must open and read whole.
    let meta: IndexMeta;
    try {
      meta = readJson(path.join(staging, META_FILE), IndexMetaSchema);
    } catch (e) {
      throw new ReleaseError(`the release's meta.json is not usable: ${errorText(e)}. ${unchanged(l)}.`);
    }
    if (!sameModel(meta.model, rel.model)) {
      throw new ReleaseError(
        `the release's meta.json names model ${describeIdentity(meta.model)}, release.json ${describeIdentity(rel.model)}: the release is inconsistent. ${unchanged(l)}.`,
      );
    }
    progress({ phase: 'open', bytes: received, total: need });
    try {
      await checkOpens(staging, meta, rel.tables);
    } catch (e) {
      throw new ReleaseError(`the staged release does not open as an index: ${errorText(e)}. ${unchanged(l)}.`);
    }
    fs.rmSync(path.join(staging, '__manifest'), { recursive: true, force: true });
    // Local annotations: the model folder that matches (so search finds it without --model), and release.json.
    meta.modelDir = path.resolve(o.modelDir);
    writeJsonAtomic(path.join(staging, META_FILE), meta);
    fs.writeFileSync(path.join(staging, RELEASE_FILE), text);
    fsyncDir(staging);
    return {
      files: rel.files.length,
      downloaded: downloads.length,
      linked: plan.filter((p) => p.how === 'link').length,
      staged: plan.filter((p) => p.how === 'staged').length,
      received,
      linkedBytes,
    };
  } catch (e) {
    if (!(e instanceof ReleaseError) && isNoSpace(e)) throw noSpace(need + margin, 'the disk filled during the pull');
    throw e;
  }
}

/** Point the index back at the release it used before the last pull (kept until the next one). */
export function rollback(index: string): { from?: string; to: string; index: string } {
  const l = layoutFor(index);
  if (!fs.existsSync(l.root)) throw new ReleaseError(`${l.link}: no release was ever pulled here (no ${l.root})`, 4);
  const unlock = takeLock(l);
  try {
    recover(l, () => undefined);
    const st = readState(l);
    const cur = currentDir(l);
    if (!st.previous || !fs.existsSync(path.join(l.root, st.previous)))
      throw new ReleaseError(`${l.link}: there is no previous release to go back to`, 4);
    const to = st.previous;
    const from = switchTo(l, to, st) ?? cur.id;
    writeJsonAtomic(l.state, { ...st, current: to, previous: from, converting: undefined });
    return { from, to, index: l.link };
  } finally {
    unlock();
  }
}
