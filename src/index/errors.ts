// Index errors in words. No LanceDB import here (the extension host loads this before any index is opened).
import * as path from 'node:path';

/**
 * A LanceDB read that failed because a file of the index is gone (the folder was moved, deleted or only partly
 * copied), said in words that name the index and the file; undefined for any other error.
 */
export function explainIndexError(err: unknown, dir: string): Error | undefined {
  const m = /lance error: Not found: ([^,\s]+)/.exec(err instanceof Error ? err.message : String(err));
  if (!m) return undefined;
  const file = !path.isAbsolute(m[1]) && path.isAbsolute(dir) ? `/${m[1]}` : m[1];
  return Object.assign(new Error(`the index at ${dir} could not be read: ${file} is missing (was the folder moved, deleted or ` +
    `only partly copied?). Put it back, or build the index again with \`biohicl index add --index ${dir} <files...>\`.`, { cause: err }),
  { exitCode: 4, missingFile: file });
}
