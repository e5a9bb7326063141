// `biohicl index publish`: make a release of an index — one version of each table, tagged, plus release.json
// (manifest.ts) — in a folder that any static HTTP server can serve or that can be copied to an object store as is.
//
// The working index is only read: publish creates no tag in it (a LanceDB tag on an old version makes every later
// `optimize({cleanupOlderThan})` fail: "tagged version(s) have been marked for cleanup"), and never compacts it. The
// version published is the one tagged `--tag` in the index when such a tag exists (`index finalize --tag` makes one),
// else the current one. The `files` and `deleted` tables, which finalize does not tag, are taken at their last version
// committed before the tag was made, so the release's list of PubMed files is the one its articles came from.
//
// How: the version's files (lance-files.ts reads its manifest) are hard-linked (else copied) into `<out>.partial-*`,
// the LanceDB tag is created there (listed in release.json under `tags`, which a pull does not copy: see manifest.ts), meta.json is written with the release recorded, the copy is opened with IndexStore
// and every row of every table is read (proof that no file is missing) and a full-text query answered, every file is
// hashed, release.json is written, and the folder is renamed into place.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import * as v from 'valibot';
import { IndexStore, INDEX_FORMAT, META_FILE, type FileRow, type IndexMeta } from '../index/store';
import { parseLocation } from '../index/location';
import { search } from '../index/search';
import { readVerified } from '../pubmed/fetch';
import { hashFile } from '../util/hash';
import { readJson } from '../util/json';
import { versionFiles } from '../index/lance-files';
import { fsyncDir, linkOrCopy, walkFiles } from './fsutil';
import {
  RELEASE_FILE,
  RELEASE_FORMAT,
  RELEASE_TABLES,
  ReleaseError,
  validTag,
  type ReleaseFile,
  type ReleaseManifest,
  type ReleasePubmedFile,
  type ReleaseTable,
  type ReleaseTableInfo,
} from './manifest';

export interface PublishOptions {
  /** The index folder (a pulled index's symlink is followed). */
  index: string;
  /** The release folder to create. */
  out: string;
  /** Release tag: an existing LanceDB tag of the index selects that version; else the current version gets this name. */
  tag?: string;
  /** Replace a release already in `out`. */
  force?: boolean;
  onStep?: (s: string) => void;
}

export interface PublishResult {
  out: string;
  tag: string;
  /** 'tag' when an existing tag of the index chose the versions, 'current' otherwise. */
  versionsFrom: 'tag' | 'current';
  tables: Record<string, ReleaseTableInfo>;
  counts: { articles: number; sentences: number };
  files: number;
  totalBytes: number;
  linkedBytes: number;
  copiedBytes: number;
  pubmedFiles: number;
  seconds: number;
}

const TABLE_SCAN_COLUMN: Record<ReleaseTable, string> = {
  articles: 'pmid',
  sentences: 'pmid',
  files: 'path',
  deleted: 'pmid',
};

/** The default tag: as finalize names releases (date and last PubMed file). */
function defaultTag(files: FileRow[]): string {
  const last = files
    .filter((f) => f.file_seq > 0)
    .sort((a, b) => a.file_seq - b.file_seq)
    .at(-1)
    ?.name.replace(/\.xml(\.gz)?$/, '');
  return `release-${new Date().toISOString().slice(0, 10)}${last ? `-${last}` : ''}`;
}

/** The part of a LanceDB tag file (`<table>.lance/_refs/tags/<tag>.json`) read here. */
const LanceTagFileSchema = v.object({ createdAt: v.optional(v.string()), updatedAt: v.optional(v.string()) });

async function tagTime(tableDir: string, table: lancedb.Table, tag: string, version: number): Promise<number> {
  try {
    const j = readJson(path.join(tableDir, '_refs', 'tags', `${tag}.json`), LanceTagFileSchema);
    const t = Date.parse(j.updatedAt ?? j.createdAt ?? '');
    if (Number.isFinite(t)) return t;
  } catch {
    /* fall back to the version's own time */
  }
  const v = (await table.listVersions()).find((x) => x.version === version);
  return v ? new Date(v.timestamp).getTime() : Date.now();
}

export async function publishRelease(o: PublishOptions): Promise<PublishResult> {
  const t0 = Date.now();
  const step = o.onStep ?? (() => undefined);
  const loc = parseLocation(o.index);
  if (!loc.dir)
    throw new ReleaseError(
      `index publish reads a local index folder, not ${loc.uri} (copy the index to a folder first)`,
      2,
    );
  if (!fs.existsSync(loc.dir)) throw new ReleaseError(`no index at ${loc.dir}`, 4);
  const src = fs.realpathSync(loc.dir);
  const out = path.resolve(o.out);
  if (out === src || out.startsWith(src + path.sep) || src.startsWith(out + path.sep))
    throw new ReleaseError(`--out ${out} must be outside the index folder ${src}`, 2);
  if (o.tag !== undefined && !validTag(o.tag))
    throw new ReleaseError(`--tag ${JSON.stringify(o.tag)}: letters, digits, '.', '_' and '-' only (≤ 100)`, 2);
  if (fs.existsSync(out)) {
    const entries = fs.readdirSync(out);
    if (entries.length && !(entries.includes(RELEASE_FILE) && o.force)) {
      throw new ReleaseError(
        entries.includes(RELEASE_FILE)
          ? `${out} already holds a release (${RELEASE_FILE}); pass --force to replace it, or publish into a new folder`
          : `${out} is not empty and holds no release; publish into a new or empty folder`,
        2,
      );
    }
  }

  const store = await IndexStore.open(src, undefined, {});
  const tmp = `${out}.partial-${process.pid}`;
  try {
    const meta = store.meta;
    const tables: [ReleaseTable, lancedb.Table][] = [];
    for (const name of RELEASE_TABLES) {
      const t =
        name === 'articles'
          ? store.articles
          : name === 'sentences'
            ? store.sentences
            : name === 'files'
              ? store.files
              : store.deleted;
      if (t) tables.push([name, t]);
    }
    // Which version of each table.
    const wanted = o.tag ?? meta.release?.tag;
    const versions = new Map<ReleaseTable, number>();
    let when = 0;
    if (wanted) {
      for (const [name, t] of tables) {
        const tags = await (await t.tags()).list();
        if (!tags[wanted]) continue;
        const v = await (await t.tags()).getVersion(wanted);
        versions.set(name, v);
        when = Math.max(when, await tagTime(path.join(src, `${name}.lance`), t, wanted, v));
      }
    }
    const versionsFrom = versions.has('articles') || versions.has('sentences') ? 'tag' : 'current';
    if (versionsFrom === 'tag') {
      if (!versions.has('articles') || !versions.has('sentences')) {
        throw new ReleaseError(
          `${src}: the tag ${wanted} is on only one of the articles and sentences tables; tag both (\`biohicl index finalize --tag ${wanted}\`) or publish with another --tag`,
          1,
        );
      }
      for (const [name, t] of tables) {
        if (versions.has(name)) continue;
        const before = (await t.listVersions())
          .filter((v) => new Date(v.timestamp).getTime() <= when)
          .map((v) => v.version);
        if (!before.length)
          throw new ReleaseError(
            `${src}: table ${name} has no version from before the tag ${wanted} (it was cleaned up); publish without --tag to release the current state`,
            1,
          );
        versions.set(name, Math.max(...before));
      }
    } else {
      for (const [name, t] of tables) {
        await t.checkoutLatest();
        versions.set(name, await t.version());
      }
    }
    for (const [name, t] of tables) await t.checkout(versions.get(name)!);
    const fileRows = [...(await store.fileRecords()).values()];
    const tag = versionsFrom === 'tag' ? wanted! : (o.tag ?? defaultTag(fileRows));
    step(
      `release ${tag}: ${tables.map(([n]) => `${n} v${versions.get(n)}`).join(', ')} (${versionsFrom === 'tag' ? `tagged ${tag} in the index` : 'current versions'})`,
    );

    // The version's files, linked into the staging folder.
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const info: Partial<Record<ReleaseTable, ReleaseTableInfo>> = {};
    let linkedBytes = 0;
    let copiedBytes = 0;
    for (const [name, t] of tables) {
      const tableDir = path.join(src, `${name}.lance`);
      const v = versionFiles(tableDir, versions.get(name)!);
      for (const f of v.files) {
        const from = path.join(tableDir, f);
        const size = fs.statSync(from).size;
        if (linkOrCopy(from, path.join(tmp, `${name}.lance`, f)) === 'linked') linkedBytes += size;
        else copiedBytes += size;
      }
      info[name] = {
        version: v.version,
        rows: await t.countRows(),
        fragments: v.fragments,
        indexes: v.indexes,
        indexDirs: Object.fromEntries(Object.entries(v.indexUuids).map(([u, n]) => [n, u])),
      };
    }
    step(
      `linked ${(linkedBytes / 1e6).toFixed(1)} MB${copiedBytes ? `, copied ${(copiedBytes / 1e6).toFixed(1)} MB` : ''}`,
    );

    // The LanceDB tag, in the release's own tables.
    const created = new Date().toISOString();
    {
      const db = await lancedb.connect(tmp);
      try {
        for (const [name] of tables) {
          const t = await db.openTable(name);
          const tags = await t.tags();
          if ((await tags.list())[tag]) await tags.update(tag, versions.get(name)!);
          else await tags.create(tag, versions.get(name)!);
        }
      } finally {
        /* no db.close(): LanceDB shares the native connection per folder, and closing it here would close the tables checkOpens opens next */
      }
    }
    const relMeta: IndexMeta = { ...meta, release: { tag, version: versions.get('articles')!, at: created } };
    delete relMeta.modelDir;
    delete relMeta.files;
    fs.writeFileSync(path.join(tmp, META_FILE), JSON.stringify(relMeta, null, 2));

    // Prove the copy complete: open it, read every row of every table, answer a full-text query.
    step('checking the release opens and every row reads');
    const counts = await checkOpens(tmp, relMeta, info as Record<ReleaseTable, ReleaseTableInfo>);
    fs.rmSync(path.join(tmp, '__manifest'), { recursive: true, force: true }); // LanceDB's namespace cache, made by connect

    // PubMed files with their md5.
    const pubmed: ReleasePubmedFile[] = [];
    for (const f of fileRows
      .filter((r) => r.status === 'complete' || r.status === 'rejects')
      .sort((a, b) => a.file_seq - b.file_seq || a.name.localeCompare(b.name))) {
      const e: ReleasePubmedFile = { name: f.name, file_seq: f.file_seq, size: f.size, status: f.status };
      const rec = readVerified(f.path);
      if (rec && rec.size === f.size) {
        e.md5 = rec.md5;
        e.md5Source = 'verified';
      } else {
        try {
          const st = fs.statSync(f.path);
          if (st.size === f.size && Math.abs(st.mtimeMs - f.mtime_ms) < 1) {
            e.md5 = await hashFile(f.path, 'md5');
            e.md5Source = 'computed';
          }
        } catch {
          /* the input file is not here any more: md5 unknown */
        }
      }
      pubmed.push(e);
    }

    step('hashing');
    const files: ReleaseFile[] = [];
    const tagFiles: ReleaseFile[] = [];
    for (const rel of walkFiles(tmp).sort()) {
      const abs = path.join(tmp, ...rel.split('/'));
      (rel.includes('/_refs/') ? tagFiles : files).push({
        path: rel,
        size: fs.statSync(abs).size,
        sha256: await hashFile(abs, 'sha256'),
      });
    }
    const totalBytes = files.reduce((s, f) => s + f.size, 0);
    const manifest: ReleaseManifest = {
      format: RELEASE_FORMAT,
      tag,
      created,
      indexFormat: meta.format ?? INDEX_FORMAT,
      model: meta.model,
      tables: info as ReleaseManifest['tables'],
      counts,
      pubmed: { count: pubmed.length, last: pubmed.filter((p) => p.file_seq > 0).at(-1)?.name, files: pubmed },
      files,
      totalBytes,
      tags: tagFiles,
    };
    fs.writeFileSync(path.join(tmp, RELEASE_FILE), JSON.stringify(manifest, null, 2) + '\n');
    fsyncDir(tmp);
    // Into place (replacing an earlier release there only with --force).
    if (fs.existsSync(out)) {
      const old = `${out}.old-${process.pid}`;
      fs.renameSync(out, old);
      fs.renameSync(tmp, out);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.renameSync(tmp, out);
    }
    fsyncDir(path.dirname(out));
    return {
      out,
      tag,
      versionsFrom,
      tables: info as Record<string, ReleaseTableInfo>,
      counts,
      files: files.length,
      totalBytes,
      linkedBytes,
      copiedBytes,
      pubmedFiles: pubmed.length,
      seconds: (Date.now() - t0) / 1000,
    };
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    store.close();
  }
}

/**
 * Open an index folder (a staged release) and prove it whole: the tables' row counts are the release's, every row of
 * every table reads (each data and deletion file is opened), and a full-text query answers when there is an index.
 */
export async function checkOpens(
  dir: string,
  meta: IndexMeta,
  tables: ReleaseManifest['tables'],
): Promise<{ articles: number; sentences: number }> {
  const store = await IndexStore.open(dir, meta.model, {});
  try {
    for (const name of RELEASE_TABLES) {
      const want = tables[name];
      const t =
        name === 'articles'
          ? store.articles
          : name === 'sentences'
            ? store.sentences
            : name === 'files'
              ? store.files
              : store.deleted;
      if (!want) continue;
      if (!t) throw new ReleaseError(`${dir}: table ${name} is missing`);
      const v = await t.version();
      if (v !== want.version)
        throw new ReleaseError(`${dir}: table ${name} opens at version ${v}, the release says ${want.version}`);
      let n = 0;
      for await (const b of t.query().select([TABLE_SCAN_COLUMN[name]])) n += b.numRows;
      if (n !== want.rows)
        throw new ReleaseError(`${dir}: table ${name} reads ${n} rows, the release says ${want.rows}`);
    }
    const first = await store.articles.query().select(['title']).limit(1).toArray();
    if (first.length && (await store.articles.listIndices()).some((i) => i.columns.includes('text'))) {
      const word =
        String(first[0].title)
          .split(/\W+/)
          .find((w) => w.length > 3) ?? 'the';
      await search(store, undefined, word, { mode: 'fts', k: 1 });
    }
    return await store.counts();
  } finally {
    store.close();
  }
}
