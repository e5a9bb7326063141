// The CLI's exit codes, in one place (README "On the command line" lists them).
export const EXIT = {
  ok: 0,
  /** A failure (a download, a damaged release, a full disk, …): the message says what. */
  failure: 1,
  /** Bad usage: unknown command or option, an invalid value, unreadable input named on the command line. */
  usage: 2,
  /** The index (or a release) was built by another model: the message gives the way out. */
  modelMismatch: 3,
  /** No index, no usable model (missing, or a file that differs from its manifest), or a damaged index there. */
  missing: 4,
  /** Done, but some records were rejected (a reject report is written). */
  rejected: 5,
} as const;

/** An Error that carries the exit code the CLI ends with. */
export function exitError(message: string, exitCode: number): Error & { exitCode: number } {
  return Object.assign(new Error(message), { exitCode });
}
