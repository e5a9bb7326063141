// A content check for downloads that must be gzip-compressed PubMed XML (a ContentCheck of src/net/download.ts):
// the first bytes must be the gzip magic (an HTML error page sent with status 200 is named as such at once, before
// the rest is downloaded), the stream must inflate to its end (zlib checks the trailer's CRC-32 and length, so a
// truncated or corrupted body is caught even without an md5), and the XML must be a PubMed/MEDLINE set.
// Inflating runs in zlib's thread pool while the bytes arrive, so it costs no second pass over the file.
import * as zlib from 'node:zlib';
import type { ContentCheck } from '../net/download';

const ROOT = /<(PubmedArticleSet|MedlineCitationSet|PubmedBookArticleSet)[\s>]/;
const SNIFF = 16 * 1024;

/** How the first bytes of something that is not gzip look, for the message. */
export function describeNotGzip(head: Buffer): string {
  const text = head.subarray(0, 512).toString('latin1');
  if (/^\s*(<!doctype html|<html)/i.test(text) || /<(head|body|title)[\s>]/i.test(text)) {
    const title = /<title[^>]*>([^<]*)/i.exec(text)?.[1]?.trim();
    return `not gzip: the server sent an HTML page${title ? ` ("${title}")` : ''} instead of the file`;
  }
  if (/^\s*<\?xml|^\s*</.test(text)) return 'not gzip: the server sent uncompressed XML/markup instead of the .gz file';
  if (head.length === 0) return 'not gzip: the body is empty';
  const hex = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `not gzip: it starts with bytes ${hex} (gzip starts with 1f 8b)`;
}

export interface GzipCheckOptions {
  /**
   * Inflate to the end (default): catches a truncated or corrupted gzip by itself. false: only the magic and the
   * first 16 KiB of XML (for when an md5 vouches for every byte and the CPU is the bottleneck, e.g. a LAN mirror).
   */
  full?: boolean;
}

export function gzipPubmedCheck(opts: GzipCheckOptions = {}): ContentCheck {
  const full = opts.full ?? true;
  let sniffed = false;
  let head = Buffer.alloc(0);
  let magicOk = false;
  let compressed = 0;
  let inflated = 0;
  let xmlHead = '';
  let failure: Error | undefined;
  // 256 KiB output pieces: inflating runs 2-3× faster than with the default 16 KiB (fewer round trips to the pool)
  const gunzip = zlib.createGunzip({ chunkSize: 256 * 1024 });
  const ended = new Promise<void>((resolve) => {
    gunzip.on('data', (c: Buffer) => {
      inflated += c.length;
      if (xmlHead.length < SNIFF) xmlHead += c.subarray(0, SNIFF - xmlHead.length).toString('latin1');
    });
    gunzip.on('error', (e: NodeJS.ErrnoException) => {
      failure ??= new Error(
        e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message)
          ? `truncated gzip: the compressed stream ends early (${compressed} bytes, inflated ${inflated})`
          : `corrupt gzip after ${compressed} bytes (${e.message})`,
      );
      resolve();
    });
    gunzip.on('end', () => resolve());
    gunzip.on('close', () => resolve());
  });
  const rootCheck = (): void => {
    if (!failure && xmlHead.length >= SNIFF && !ROOT.test(xmlHead)) {
      failure = new Error(
        `the gzip holds no PubMed XML (it starts with ${JSON.stringify(xmlHead.trimStart().slice(0, 60))})`,
      );
    }
  };
  return {
    async update(chunk) {
      if (failure) throw failure;
      compressed += chunk.length;
      if (sniffed) return;
      if (!magicOk) {
        head = Buffer.concat([head, chunk]);
        if (head.length < 2) return;
        if (head[0] !== 0x1f || head[1] !== 0x8b) throw (failure = new Error(describeNotGzip(head)));
        magicOk = true;
        chunk = head;
      }
      if (!gunzip.write(chunk)) {
        await new Promise<void>((r) => {
          const done = (): void => {
            gunzip.off('drain', done);
            gunzip.off('error', done);
            r();
          };
          gunzip.on('drain', done);
          gunzip.on('error', done);
        });
      }
      rootCheck();
      if (failure) throw failure;
      if (!full && xmlHead.length >= SNIFF) {
        sniffed = true;
        gunzip.destroy();
      }
    },
    async finish() {
      if (failure) throw failure;
      if (!magicOk) throw new Error(describeNotGzip(head));
      if (!sniffed) gunzip.end();
      await ended;
      if (failure) throw failure;
      if (inflated === 0) throw new Error('the gzip is empty');
      if (!ROOT.test(xmlHead))
        throw new Error(
          `the gzip holds no PubMed XML (it starts with ${JSON.stringify(xmlHead.trimStart().slice(0, 60))})`,
        );
    },
  };
}
