// Fast record counting for progress bars: a byte scan for record start tags (XML) or `PMID-` lines (MEDLINE text),
// no parsing. The count includes records that the reader may later reject, so it is an upper bound of citations.
import { readBytes, GzipError, headBytes } from './source';

const NAME_END = new Set([0x3e, 0x2f, 0x20, 0x09, 0x0a, 0x0d]);

function countIn(buf: Buffer, pats: Buffer[], limit: number, needEnd: boolean): number {
  let n = 0;
  for (const p of pats) {
    for (let i = buf.indexOf(p); i >= 0 && i < limit; i = buf.indexOf(p, i + 1)) {
      if (!needEnd || NAME_END.has(buf[i + p.length]!)) n++;
    }
  }
  return n;
}

/** Count the records of a PubMed XML or MEDLINE text file (plain or gzip) without parsing them. */
export async function countRecordsFast(
  file: string,
  format: 'pubmed-xml' | 'medline',
  signal?: AbortSignal,
): Promise<number> {
  let pats: Buffer[];
  let needEnd = true;
  if (format === 'medline') {
    pats = [Buffer.from('\nPMID-')];
    needEnd = false;
  } else {
    const head = (await headBytes(file, 64 * 1024)).toString('latin1');
    const old = /<MedlineCitationSet[\s>]/.test(head) && !/<PubmedArticle[\s>]/.test(head);
    pats = (old ? ['<MedlineCitation'] : ['<PubmedArticle', '<PubmedBookArticle']).map((s) => Buffer.from(s));
  }
  const keep = 32;
  let carry: Buffer = format === 'medline' ? Buffer.from('\n') : Buffer.alloc(0); // so a first-line PMID- counts
  let n = 0;
  try {
    for await (const chunk of readBytes(file, signal)) {
      const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const limit = Math.max(0, buf.length - keep);
      n += countIn(buf, pats, limit, needEnd);
      carry = buf.subarray(limit);
    }
  } catch (e) {
    if (!(e instanceof GzipError)) throw e;
  }
  n += countIn(Buffer.concat([carry, Buffer.from('\n')]), pats, carry.length, needEnd);
  return n;
}
