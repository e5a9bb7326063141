// How current an index is, in words for the sidebar and in fields for tests: the last NLM file it holds (baseline or
// update, by NLM order) and when it was applied, the release it was pulled as (meta.json's `release`, release.json's
// list of PubMed files), update files applied since, files of the writer's own, and files whose build was interrupted.
// Reads the files table (IndexStore.fileRecords) and meta.json only; no vscode, no model.
import * as path from 'node:path';
import type { FileRow, IndexMeta, IndexStore } from './store';
import { fileSeq } from './store';
import { compareNlmFiles, nlmFileOrder } from '../pubmed/nlm';
import * as v from 'valibot';
import { readJsonIfExists } from '../util/json';
import { RELEASE_FILE } from '../release/manifest';

export interface IndexCurrency {
  /** pubmed: holds NLM files; release: a pulled release with no file record; own: only the writer's files; empty: nothing. */
  kind: 'pubmed' | 'release' | 'own' | 'empty';
  /** The last NLM file applied, by NLM order (e.g. pubmed26n0010.xml.gz; with rejected records too). */
  lastFile?: string;
  /** Its name without .xml.gz (pubmed26n0010). */
  lastFileName?: string;
  /** When it was applied (its files-table row, ISO time). */
  appliedAt?: string;
  /** NLM files applied, and other input files. */
  pubmedFiles: number;
  ownFiles: number;
  /** The release the index was pulled as (or finalized as), if any. */
  release?: { tag: string; at?: string; last?: string };
  /** NLM files applied after the release (their names). */
  sinceRelease: string[];
  /** Files whose build started and did not finish (a later run resumes them). */
  interrupted: string[];
  /** NLM files applied with some records rejected (read again by the next update). */
  withRejects: string[];
  /** One line: "PubMed through pubmed26n0010 (applied 2026-12-01)", "release r1 (2026-11-30)", "your own files only". */
  label: string;
  /** More words: the release, files applied since, own files, interrupted files. */
  details: string[];
}

export interface CurrencyInput {
  files: Iterable<Pick<FileRow, 'name' | 'status' | 'updated_at'> & Partial<Pick<FileRow, 'path'>>>;
  release?: IndexMeta['release'];
  /** release.json of a pulled index (tag, created, pubmed.last), when the folder has one. */
  releaseFile?: { tag?: string; created?: string; pubmed?: { last?: string } };
}

/** "pubmed26n0010.xml.gz" → "pubmed26n0010". */
export const nlmStem = (name: string): string => name.replace(/\.xml(\.gz)?$/i, '');

/** An ISO time as its UTC date (2026-12-01); other text as it is. */
export function isoDate(t: string | undefined): string | undefined {
  if (!t) return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toISOString().slice(0, 10);
}

export function describeCurrency(input: CurrencyInput): IndexCurrency {
  const rows = [...input.files];
  const isNlm = (name: string): boolean => !!nlmFileOrder(name) && fileSeq(name) > 0;
  // One row per file name (the same NLM file at two paths counts once; the complete row wins).
  const byName = new Map<string, (typeof rows)[number]>();
  const own = new Set<string>();
  const interrupted = new Set<string>();
  for (const r of rows) {
    if (!isNlm(r.name)) {
      if (r.status !== 'started') own.add(r.path ?? r.name);
      else interrupted.add(r.name);
      continue;
    }
    const have = byName.get(r.name);
    const rank = (x: { status: string }): number => (x.status === 'complete' ? 2 : x.status === 'rejects' ? 1 : 0);
    if (!have || rank(r) > rank(have)) byName.set(r.name, r);
  }
  // A file with rejected records is applied (its other records are in the index) and read again by the next update.
  const applied = (r: { status: string }): boolean => r.status === 'complete' || r.status === 'rejects';
  const complete = [...byName.values()].filter(applied).sort((a, b) => compareNlmFiles(a.name, b.name));
  const withRejects = complete.filter((r) => r.status === 'rejects').map((r) => r.name);
  for (const r of byName.values()) if (!applied(r)) interrupted.add(r.name);
  for (const r of complete) interrupted.delete(r.name);
  const last = complete.at(-1);

  const relTag = input.release?.tag ?? input.releaseFile?.tag;
  const release = relTag
    ? { tag: relTag, at: input.release?.at ?? input.releaseFile?.created, last: input.releaseFile?.pubmed?.last }
    : undefined;
  // Files applied after the release: after its last PubMed file when release.json names it, else applied after its time.
  let sinceRelease: string[] = [];
  if (release) {
    if (release.last)
      sinceRelease = complete.filter((r) => compareNlmFiles(r.name, release.last!) > 0).map((r) => r.name);
    else if (release.at) sinceRelease = complete.filter((r) => r.updated_at > release.at!).map((r) => r.name);
  }

  const details: string[] = [];
  const relWords = release ? `release ${release.tag}${release.at ? ` (${isoDate(release.at)})` : ''}` : '';
  let kind: IndexCurrency['kind'];
  let label: string;
  if (last) {
    kind = 'pubmed';
    label = `PubMed through ${nlmStem(last.name)} (applied ${isoDate(last.updated_at)})`;
    if (release) {
      details.push(
        sinceRelease.length
          ? `from ${relWords}, then ${sinceRelease.length} update file${sinceRelease.length > 1 ? 's' : ''} applied here: ${sinceRelease.map(nlmStem).join(', ')}`
          : `from ${relWords}`,
      );
    }
  } else if (release) {
    kind = 'release';
    label = relWords[0]!.toUpperCase() + relWords.slice(1);
  } else if (own.size) {
    kind = 'own';
    label = 'Your own files only';
  } else {
    kind = 'empty';
    label = 'No files indexed yet';
  }
  if (own.size && kind !== 'own') details.push(`and ${own.size} file${own.size > 1 ? 's' : ''} of your own`);
  if (kind === 'own') details.push(`${own.size} file${own.size > 1 ? 's' : ''}, no PubMed baseline or update file`);
  if (withRejects.length) {
    const names = withRejects.map(nlmStem);
    details.push(
      `some records of ${names.join(', ')} were rejected (see the rejects report); the next update reads ${names.length > 1 ? 'them' : 'it'} again`,
    );
  }
  if (interrupted.size) {
    const names = [...interrupted].map(nlmStem);
    details.push(
      `interrupted: ${names.join(', ')} (running the same command again resumes ${names.length > 1 ? 'them' : 'it'})`,
    );
  }
  return {
    kind,
    lastFile: last?.name,
    lastFileName: last ? nlmStem(last.name) : undefined,
    appliedAt: last?.updated_at,
    pubmedFiles: complete.length,
    ownFiles: own.size,
    release,
    sinceRelease,
    interrupted: [...interrupted],
    withRejects,
    label,
    details,
  };
}

/** The part of a pulled release's release.json (see ../release/manifest) that says how current it is. */
const ReleaseStampSchema = v.object({
  tag: v.string(),
  created: v.optional(v.string()),
  pubmed: v.optional(v.object({ last: v.optional(v.string()) })),
});

/** How current the index `store` is (its files table, meta.json, and release.json beside them for a local index). */
export async function indexCurrency(store: IndexStore): Promise<IndexCurrency> {
  const files = [...(await store.fileRecords()).values()];
  let releaseFile: CurrencyInput['releaseFile'];
  if (store.isLocal) {
    try {
      const r = readJsonIfExists(path.join(store.dir, RELEASE_FILE), ReleaseStampSchema);
      if (r) releaseFile = { tag: r.tag, created: r.created, pubmed: { last: r.pubmed?.last } };
    } catch {
      /* damaged: not trusted; meta.json's release record is used */
    }
  }
  // release.json belongs to the release meta.json records; a different tag means it is left over: trust meta.json.
  if (releaseFile && store.meta.release && releaseFile.tag !== store.meta.release.tag) releaseFile = undefined;
  return describeCurrency({ files, release: store.meta.release, releaseFile });
}
