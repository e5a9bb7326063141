// `biohicl index verify`: a checksum-style check of an index. It reads meta.json, every file the latest version of
// each table needs (from the version's manifest), every row of every table, and queries each index once; each
// problem names the index, the table and file, and the command that repairs or rebuilds it. Read-only.
import './lance-env'; // must come before @lancedb/lancedb
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { ARTICLES, DELETED, FILES, LIBRARY, META_FILE, SENTENCES, IndexStore, readMeta, toFloat32 } from './store';
import { describeLocation, parseLocation } from './location';
import { versionFiles } from './lance-files';
import { lanceMessage } from './errors';
import * as v from 'valibot';
import { positiveInt, readJsonIfExists } from '../util/json';

export interface VerifyProblem {
  table?: string;
  file?: string;
  message: string;
  fix: string;
}
export interface VerifyReport {
  index: string;
  ok: boolean;
  problems: VerifyProblem[];
  tables: Record<string, { version?: number; rows?: number; files?: number; bytes?: number; indexes?: string[] }>;
  seconds: number;
}

const PAGE = 20_000;

const short = lanceMessage;

/** The version Lance's `_versions/latest_version_hint.json` names, if the file is there and readable. */
function lanceVersionHint(tableDir: string): number | undefined {
  try {
    return readJsonIfExists(path.join(tableDir, '_versions', 'latest_version_hint.json'), VersionHintSchema)?.version;
  } catch {
    return undefined; // a damaged hint is Lance's business; the manifests are checked below
  }
}
const VersionHintSchema = v.object({ version: positiveInt });

export async function verifyIndex(
  where: string,
  opts: { storageOptions?: Record<string, string>; onStep?: (s: string) => void } = {},
): Promise<VerifyReport> {
  const t0 = Date.now();
  const loc = parseLocation(where, opts.storageOptions);
  const index = describeLocation(loc);
  const step = opts.onStep ?? (() => undefined);
  const problems: VerifyProblem[] = [];
  const tables: VerifyReport['tables'] = {};
  const rebuild = `rebuild it: \`biohicl index add --index ${index} <files...>\` (unchanged citations are kept), or pull the release again (\`biohicl index pull …\`)`;
  try {
    const meta = await readMeta(loc);
    if (!meta) {
      problems.push({
        file: META_FILE,
        message: `${index}/${META_FILE} is missing: it records which model made the vectors`,
        fix: `restore it from a backup or a release (\`biohicl index pull\`), or rebuild with \`biohicl index add --rebuild --index ${index} <files...>\``,
      });
    }
  } catch (e) {
    problems.push({
      file: META_FILE,
      message: short(e),
      fix: `restore ${META_FILE} from a backup or a release, or rebuild with \`biohicl index add --rebuild --index ${index} <files...>\``,
    });
  }
  const db = await lancedb.connect(loc.uri, { storageOptions: loc.storageOptions });
  const names = new Set(await db.tableNames());
  for (const name of [ARTICLES, SENTENCES, FILES, DELETED, LIBRARY]) {
    const required = name === ARTICLES || name === SENTENCES;
    if (!names.has(name)) {
      if (required)
        problems.push({ table: name, message: `the '${name}' table is missing from ${index}`, fix: rebuild });
      continue;
    }
    step(`${name}: files`);
    const info: VerifyReport['tables'][string] = {};
    tables[name] = info;
    let table: lancedb.Table;
    try {
      table = await db.openTable(name);
      info.version = await table.version();
    } catch (e) {
      problems.push({ table: name, message: `the '${name}' table cannot be opened: ${short(e)}`, fix: rebuild });
      continue;
    }
    // Every file the latest version needs (local folders; an object store is checked by reading below).
    if (loc.dir) {
      const dir = path.join(loc.dir, `${name}.lance`);
      // Lance falls back to the newest manifest it can find: a deleted newest manifest is read as an older version
      // without a word. Its hint file (written after each commit) still names the newest version.
      const hint = lanceVersionHint(dir);
      if (hint !== undefined && hint > info.version)
        problems.push({
          table: name,
          file: path.join(`${name}.lance`, '_versions'),
          message:
            `the manifest of the '${name}' table's newest version (${hint}) is missing: the table reads as ` +
            `version ${info.version}, without what was committed after it`,
          fix: rebuild,
        });
      try {
        const v = versionFiles(dir, info.version);
        info.files = v.files.length;
        info.bytes = 0;
        for (const rel of v.files) {
          const p = path.join(dir, rel);
          let size = -1;
          try {
            size = fs.statSync(p).size;
          } catch {
            /* missing */
          }
          if (size < 0)
            problems.push({
              table: name,
              file: path.join(`${name}.lance`, rel),
              message: `${p} is missing (the index was moved, deleted or only partly copied)`,
              fix: rebuild,
            });
          else if (size === 0)
            problems.push({
              table: name,
              file: path.join(`${name}.lance`, rel),
              message: `${p} is empty (a disk that filled, or a copy that was cut short)`,
              fix: rebuild,
            });
          else info.bytes += size;
        }
      } catch (e) {
        const missing = /needs (\S+), which is missing/.exec(short(e));
        if (missing)
          problems.push({
            table: name,
            file: path.join(`${name}.lance`, missing[1]!),
            message: `${path.join(dir, missing[1]!)} is missing (the index was moved, deleted or only partly copied)`,
            fix: rebuild,
          });
        else
          problems.push({
            table: name,
            message: `the manifest of '${name}' version ${info.version} cannot be read: ${short(e)}`,
            fix: rebuild,
          });
      }
      if (problems.some((p) => p.table === name)) {
        table.close();
        continue;
      }
    }
    // Every row, every column, page by page.
    step(`${name}: rows`);
    try {
      info.rows = await table.countRows();
      for (let off = 0; off < info.rows; off += PAGE) await table.query().offset(off).limit(PAGE).toArrow();
    } catch (e) {
      problems.push({ table: name, message: `reading the rows of '${name}' failed: ${short(e)}`, fix: rebuild });
      continue;
    }
    // Each index answers one query.
    step(`${name}: indexes`);
    try {
      const idx = await table.listIndices();
      info.indexes = idx.map((i) => `${i.indexType}(${i.columns.join(',')})`);
      for (const i of idx) {
        const col = i.columns[0]!;
        if (col === 'text')
          await table
            .query()
            .fullTextSearch('cancer therapy', { columns: ['text'] })
            .limit(3)
            .toArray();
        else if (col === 'vector' && info.rows) {
          const first = (await table.query().select(['vector']).limit(1).toArray())[0];
          if (first) await table.query().nearestTo(toFloat32(first.vector)).distanceType('cosine').limit(3).toArray();
        } else if (col === 'pmid') await table.query().where(`pmid = '1'`).limit(1).toArray();
      }
    } catch (e) {
      problems.push({
        table: name,
        message: `an index of '${name}' cannot be searched: ${short(e)}`,
        fix: `rebuild the indexes: \`biohicl index optimize --index ${index}\``,
      });
    }
    table.close();
  }
  // Rows: one per PMID (several only between a cluster build's array tasks and its finalize).
  if (!problems.length) {
    step('articles: one row per PMID');
    const store = await IndexStore.open(loc, undefined, {});
    try {
      const pmids = await store.pmidsToResolve();
      const extra = pmids.length ? await store.resolve(pmids, { dryRun: true }) : { articles: 0, sentences: 0 };
      if (extra.articles || extra.sentences) {
        problems.push({
          table: ARTICLES,
          message:
            `${extra.articles} article rows and ${extra.sentences} sentence rows are older versions, duplicates or deleted citations ` +
            `(of ${pmids.length} PMIDs): a cluster build that was not finalized, or writers that died before they resolved`,
          fix: `\`biohicl index finalize --index ${index}\``,
        });
      }
    } finally {
      store.close();
    }
  }
  return { index, ok: problems.length === 0, problems, tables, seconds: (Date.now() - t0) / 1000 };
}
