// What a lock file records about its holder (the index's maintenance lock, `index pull`'s and `pubmed fetch`'s
// locks), and whether that holder still runs. Each lock decides itself what a stale holder means.
import * as v from 'valibot';
import { parseJson } from './json';

export const LockHolderSchema = v.object({
  pid: v.optional(v.number()),
  host: v.optional(v.string()),
  /** when the lock was taken (`at`; `startedAt` in `pubmed fetch`'s lock) */
  at: v.optional(v.string()),
  startedAt: v.optional(v.string()),
});
export type LockHolder = v.InferOutput<typeof LockHolderSchema>;

/** The holder recorded in a lock file's text; undefined when the text is not a lock record (treated as stale). */
export function parseLockHolder(text: string, where: string): LockHolder | undefined {
  try {
    return parseJson(text, LockHolderSchema, where);
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid runs on this host (EPERM: it runs, as another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
