// The last step of a cluster build (after the array tasks of `index add --bulk`): one process applies versions and
// deletions across files, builds the scalar/full-text/vector indexes once, compacts, removes old versions and tags
// the release. Everything runs under the index's maintenance lock, so no two index builds or compactions overlap.
import type { IndexStore } from './store';

export interface FinalizeResult {
  articles: number;
  sentences: number;
  resolved: { articles: number; sentences: number; pmids: number };
  tag: string;
  version: number;
  seconds: number;
  steps: Record<string, number>;
}

export async function finalizeIndex(
  store: IndexStore,
  opts: { tag?: string; onStep?: (s: string) => void } = {},
): Promise<FinalizeResult> {
  const step = opts.onStep ?? (() => undefined);
  const t0 = Date.now();
  const steps: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    step(name);
    try {
      return await fn();
    } finally {
      steps[name] = (Date.now() - t) / 1000;
    }
  };
  const res = await store.withMaintenanceLock(
    async () => {
      await store.articles.checkoutLatest();
      await store.sentences.checkoutLatest();
      const pmids = await timed('find PMIDs with several versions or a DeleteCitation', () => store.pmidsToResolve());
      const resolved = await timed(`resolve ${pmids.length} PMIDs`, () => store.resolve(pmids));
      return { ...resolved, pmids: pmids.length };
    },
    { wait: true, onWait: () => step('waiting for the maintenance lock') },
  );
  await timed('indexes (scalar, full-text, vector)', () => store.ensureIndexes({ wait: true, onStep: step }));
  await timed('compact and drop old versions', () => store.optimize());
  const files = [...(await store.fileRecords()).values()]
    .filter((f) => f.status === 'complete' && f.file_seq > 0)
    .sort((a, b) => a.file_seq - b.file_seq);
  const last = files.at(-1)?.name.replace(/\.xml(\.gz)?$/, '');
  const tag = opts.tag ?? `release-${new Date().toISOString().slice(0, 10)}${last ? `-${last}` : ''}`;
  const version = await timed(`tag ${tag}`, async () => {
    const v = await store.articles.version();
    for (const t of [store.articles, store.sentences]) {
      const tags = await t.tags();
      const have = await tags.list();
      if (have[tag]) await tags.update(tag, await t.version());
      else await tags.create(tag, await t.version());
    }
    store.meta.release = { tag, version: v, at: new Date().toISOString() };
    await store.saveMeta();
    return v;
  });
  const counts = await store.counts();
  return { ...counts, resolved: res!, tag, version, seconds: (Date.now() - t0) / 1000, steps };
}
