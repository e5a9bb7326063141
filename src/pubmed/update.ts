// Keeping an index current with NLM's daily update files: which update files the index has not seen, fetching them
// (src/pubmed/fetch.ts) and the list to apply, in NLM's order, stopping before the first that failed to download.
// The CLI (`biohicl pubmed update`) and the extension ("Update the index") both use it; applying is the index build.
import type { IndexStore } from '../index/store';
import { fileSeq } from '../index/store';
import { fetchPubmed, verifiedFiles, type FetchPubmedOptions, type FetchSummary } from './fetch';
import { compareNlmFiles } from './nlm';

/** The last NLM file an index holds (by NLM order), or undefined when it holds none. */
export async function lastPubmedFile(store: IndexStore): Promise<string | undefined> {
  const names = [...(await store.fileRecords()).values()]
    .filter((f) => f.status === 'complete' && fileSeq(f.name) > 0)
    .map((f) => f.name);
  return names.sort(compareNlmFiles).at(-1);
}

export class NoPubmedBaselineError extends Error {
  readonly exitCode = 2;
  constructor(where: string) {
    super(
      `the index at ${where} holds no PubMed baseline or update file, so there is nothing to bring up to date. ` +
        `Pull a PubMed release first (\`biohicl index pull <url> --index ${where}\`), or pass --after <file> to apply the update files after that one`,
    );
  }
}

export interface PlanUpdateOptions extends Omit<FetchPubmedOptions, 'kinds' | 'after'> {
  /** Apply the update files after this one (default: the index's last PubMed file). */
  after?: string;
}

export interface UpdatePlan {
  after: string;
  fetched: FetchSummary;
  /** Local paths of the update files to apply, in NLM order. */
  apply: string[];
}

/**
 * Fetch the update files after the index's last PubMed file and say which to apply: every verified update file after
 * it, in order, up to the first that failed to download (a gap would leave the index claiming to be current).
 */
export async function planUpdate(store: IndexStore, o: PlanUpdateOptions): Promise<UpdatePlan> {
  const after = o.after ?? (await lastPubmedFile(store));
  if (!after) throw new NoPubmedBaselineError(store.dir);
  const fetched = await fetchPubmed({ ...o, kinds: ['update'], after });
  if (fetched.cancelled) return { after, fetched, apply: [] };
  const firstFailed = fetched.failures.map((f) => f.file).sort(compareNlmFiles)[0];
  const apply = verifiedFiles(o.outDir, ['update'])
    .filter((f) => compareNlmFiles(f.name, after) > 0 && (!firstFailed || compareNlmFiles(f.name, firstFailed) < 0))
    .map((f) => f.path);
  return { after, fetched, apply };
}
