// Index errors in words. No LanceDB import here (the extension host loads this before any index is opened).
import * as path from 'node:path';
import { errorText } from '../util/errors';

/**
 * A LanceDB read that failed because a file of the index is gone (the folder was moved, deleted or only partly
 * copied), said in words that name the index and the file; undefined for any other error.
 */
export function explainIndexError(err: unknown, dir: string): Error | undefined {
  if (isNoSpace(err)) {
    return Object.assign(
      new Error(
        `the disk holding the index at ${dir} is full. What was committed before stays (nothing ` +
          `half-written is ever read); free some space and run the same command again to go on.`,
        { cause: err },
      ),
      { exitCode: 1, noSpace: true },
    );
  }
  const m = /lance error: Not found: ([^,\s]+)/.exec(errorText(err));
  if (!m) return undefined;
  const file = !path.isAbsolute(m[1]) && path.isAbsolute(dir) ? `/${m[1]}` : m[1];
  return Object.assign(
    new Error(
      `the index at ${dir} could not be read: ${file} is missing (was the folder moved, deleted or ` +
        `only partly copied?). Put it back, or build the index again with \`biohicl index add --index ${dir} <files...>\`.`,
      { cause: err },
    ),
    { exitCode: 4, missingFile: file },
  );
}

/** A write that failed because the disk (or quota) is full, whether Node's, Lance's or the AWS SDK's error. */
export function isNoSpace(e: unknown): boolean {
  const x = e as { code?: string; message?: string; reason?: string };
  return (
    x?.code === 'ENOSPC' ||
    x?.code === 'EDQUOT' ||
    /ENOSPC|EDQUOT|no space left on device|disk quota exceeded|os error 28\b/i.test(
      `${x?.message ?? ''} ${x?.reason ?? ''}`,
    )
  );
}
