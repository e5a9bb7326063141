// The CLI's exit codes, in one place (README "On the command line" lists them).
import { InvalidArgumentError } from 'commander';
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

/** A commander argument error that exits with EXIT.usage. */
export function usageError(message: string): InvalidArgumentError & { exitCode: number } {
  return Object.assign(new InvalidArgumentError(message), { exitCode: EXIT.usage });
}

/** commander parser for a positive integer option (`--batch 64`), naming the option when the value is not one. */
export const positiveInt =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw usageError(`${name} must be a positive integer, got '${v}'`);
    return n;
  };
