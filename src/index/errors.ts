// Index errors in words. No LanceDB import here (the extension host loads this before any index is opened).
import * as path from 'node:path';
import { errorText } from '../util/errors';

/** Lance's messages carry Rust source paths (`/rustc/…`, `/usr/local/cargo/…`) and a "Caused by" chain: the first
 * clause, in one line, is what a person can read. The one place that shortens them (verify, the CLI, the extension). */
export function lanceMessage(e: unknown): string {
  const m = errorText(e)
    .split(/,\s*\/(?:rustc|usr\/local\/cargo)\//)[0]!
    .split(/\s+Caused by:/)[0]!;
  return m
    .replace(/,?\s*bytes: b"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Raw Rust source paths in a message (never shown to a person). */
export const RUST_PATH = /\/rustc\/[0-9a-f]+\/|\/usr\/local\/cargo\//;

/** What a damaged file looks like to Lance's readers (a truncated, emptied or overwritten data or manifest file). */
const DAMAGED =
  /failed to fill whole buffer|file size is too small|does not have sufficient data|unexpected end of file|Invalid (?:file|manifest|protobuf|data)|not a (?:valid )?lance file|corrupt|failed to decode|DecodeError|buffer too small|out of range for slice/i;

/**
 * A LanceDB read that failed because a file of the index is gone (the folder was moved, deleted or only partly
 * copied) or damaged (truncated, emptied, overwritten), said in words that name the index, the table or file, and
 * the commands that find and repair the damage; undefined for any other error.
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
  const text = errorText(err);
  const repair =
    `\`biohicl index verify --index ${dir}\` names every damaged file; to repair, build the index again with ` +
    `\`biohicl index add --index ${dir} <files...>\` (unchanged citations are kept) or pull its release again ` +
    `(\`biohicl index pull …\`).`;
  const table = /Table '([^']+)' was not found|Dataset at path \S*?([A-Za-z_]+)\.lance was not found/.exec(text);
  if (table) {
    const name = table[1] ?? table[2]!;
    return Object.assign(
      new Error(
        `the index at ${dir} is damaged: its '${name}' table (${name}.lance) is missing or has lost its version ` +
          `folder (_versions). ${repair}`,
        { cause: err },
      ),
      { exitCode: 4, damagedTable: name },
    );
  }
  const m = /lance error: Not found: ([^,\s]+)/.exec(text);
  if (m) {
    const file = !path.isAbsolute(m[1]!) && path.isAbsolute(dir) ? `/${m[1]}` : m[1]!;
    return Object.assign(
      new Error(
        `the index at ${dir} could not be read: ${file} is missing (was the folder moved, deleted or ` +
          `only partly copied?). Put it back, or build the index again with \`biohicl index add --index ${dir} <files...>\`.`,
        { cause: err },
      ),
      { exitCode: 4, missingFile: file },
    );
  }
  if (DAMAGED.test(text)) {
    return Object.assign(
      new Error(
        `the index at ${dir} is damaged: a data or manifest file is truncated or corrupt (${lanceMessage(err)}). ${repair}`,
        { cause: err },
      ),
      { exitCode: 4, damaged: true },
    );
  }
  return undefined;
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
