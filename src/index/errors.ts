// Index errors in words. No LanceDB import here (the extension host loads this before any index is opened).
import * as path from 'node:path';

/**
 * A LanceDB read that failed because a file of the index is gone (the folder was moved, deleted or only partly
 * copied), said in words that name the index and the file; any other error is passed through unchanged.
 */
export function explainIndexError(err: unknown, dir: string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const m = /lance error: Not found: ([^,\s]+)/.exec(e.message);
  if (!m) return e;
  const file = !path.isAbsolute(m[1]) && path.isAbsolute(dir) ? `/${m[1]}` : m[1];
  return Object.assign(new Error(`the index at ${dir} could not be read: ${file} is missing (was the folder moved, deleted or ` +
    `only partly copied?). Put it back, or build the index again with \`biohicl index add --index ${dir} <files...>\`.`, { cause: e }),
  { exitCode: 4, missingFile: file });
}
