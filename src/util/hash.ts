// The project's one streaming hasher: every file hash (model manifests, downloads, index releases) goes through it.
import * as fs from 'node:fs';
import { createHash, type Hash } from 'node:crypto';

export type HashAlgorithm = 'sha256' | 'sha512' | 'md5';

/** A fresh incremental hash (for bytes that are hashed while they are written, e.g. a download). */
export function newHash(algo: HashAlgorithm = 'sha256'): Hash {
  return createHash(algo);
}

/** Hex digest of a file, streamed in 4 MiB pieces (model weights are hundreds of MB). */
export async function hashFile(file: string, algo: HashAlgorithm = 'sha256'): Promise<string> {
  const h = createHash(algo);
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(file, { highWaterMark: 1 << 22 })
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve());
  });
  return h.digest('hex');
}

/** Synchronous variant, for the few callers that cannot await (same digest as hashFile). */
export function hashFileSync(file: string, algo: HashAlgorithm = 'sha256'): string {
  const h = createHash(algo);
  const buf = Buffer.alloc(4 << 20);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** Hex digest of bytes or a string. */
export function hashBytes(data: string | Uint8Array, algo: HashAlgorithm = 'sha256'): string {
  return createHash(algo).update(data).digest('hex');
}
