// Citation readers: one entry point for every input format the index takes.
//
//   for await (const ev of readCitations(file)) { ev.type === 'citation' | 'delete' | 'reject' | 'note' }
//
// Formats are detected from the content (gzip is detected from its magic bytes), the extension only breaks ties.
// Every reader streams (one record in memory, at most MAX_RECORD_BYTES of it) in time linear in the input; a bad
// record is rejected by file, record and line/byte, and the good records around it are read. Identifiers (PMID, DOI,
// PMCID, citation keys) are normalised and checked in src/index/ids.ts.
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import fg from 'fast-glob';
import type { ReaderEvent } from '../citation';
import { headBytes } from './source';
import { readPubmedXml } from './xml';
import { readMedlineText } from './medline';
import { readPubmedQa } from './pubmedqa';
import { countRecordsFast } from './count';
import { errorText } from '../../util/errors';

export type InputFormat = 'pubmed-xml' | 'medline' | 'csl-json' | 'bibtex' | 'pubmedqa';

export const INPUT_EXTENSIONS = ['xml', 'xml.gz', 'nbib', 'txt', 'medline', 'txt.gz', 'nbib.gz', 'json', 'bib'];

export interface ReadOptions {
  signal?: AbortSignal;
  /** Force a format instead of detecting it. */
  format?: InputFormat;
  /**
   * Progress through the file: bytes of the file read so far (compressed bytes for .gz) and its size, called per
   * chunk (~256 KiB).
   */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/** Which reader a file needs; throws an Error naming the file when no format fits. */
export async function detectFormat(file: string): Promise<InputFormat> {
  const head = (await headBytes(file, 16 * 1024)).toString('utf8').replace(/^\uFEFF/, '');
  const t = head.trimStart();
  const ext = extname(file.replace(/\.gz$/i, '')).toLowerCase();
  if (t.startsWith('<')) return 'pubmed-xml';
  if (/^PMID- ?\d*/m.test(t.slice(0, 4096)) || /^[A-Z]{2,4} {0,2}- /.test(t)) return 'medline';
  if (t.startsWith('[') || t.startsWith('{')) {
    if (/"QUESTION"\s*:/.test(t) && /"CONTEXTS"\s*:/.test(t)) return 'pubmedqa';
    return 'csl-json';
  }
  if (t.startsWith('@') || /^\s*@\w+\s*[{(]/m.test(t) || ext === '.bib') return 'bibtex';
  if (ext === '.xml') return 'pubmed-xml';
  if (ext === '.nbib' || ext === '.medline') return 'medline';
  if (ext === '.json') return 'csl-json';
  throw new Error(
    `${file}: unknown citation format (expected PubMed XML, MEDLINE text/.nbib, CSL-JSON, BibTeX or PubMedQA JSON); starts with '${t.slice(0, 40).replace(/\s+/g, ' ')}'`,
  );
}

/**
 * Stream the events of one file: citations, deletions (`DeleteCitation`) and rejects (bad records, named by file,
 * record and line/byte). A file that cannot be opened or whose format is unknown gives a single reject with record '#0'.
 * Aborting the signal stops reading with an AbortError.
 */
export async function* readCitations(file: string, opts: ReadOptions = {}): AsyncGenerator<ReaderEvent> {
  let format: InputFormat;
  try {
    format = opts.format ?? (await detectFormat(file));
  } catch (e) {
    yield { type: 'reject', file, record: '#0', where: 'byte 0', message: errorText(e) };
    return;
  }
  const o = { signal: opts.signal, onProgress: opts.onProgress };
  switch (format) {
    case 'pubmed-xml':
      yield* readPubmedXml(file, o);
      break;
    case 'medline':
      yield* readMedlineText(file, o);
      break;
    // citation-js takes ~0.5 s to load: only when a CSL-JSON or BibTeX file is read
    case 'csl-json':
      yield* (await import('./csl')).readCslJson(file, o);
      break;
    case 'bibtex':
      yield* (await import('./csl')).readBibtex(file, o);
      break;
    case 'pubmedqa':
      yield* readPubmedQa(file, o);
      break;
  }
}

/**
 * Number of records in a file, for progress bars: a fast byte scan (no parsing) for PubMed XML and MEDLINE text,
 * a full read for the small JSON/BibTeX formats. An upper bound of the citations readCitations will yield
 * (it counts records that will be rejected; it does not count DeleteCitation). 0 when the format is unknown.
 */
export async function countRecords(file: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
  let format: InputFormat;
  try {
    format = await detectFormat(file);
  } catch {
    return 0;
  }
  if (format === 'pubmed-xml' || format === 'medline') return countRecordsFast(file, format, opts.signal);
  let n = 0;
  for await (const ev of readCitations(file, { format, signal: opts.signal }))
    if (ev.type === 'citation' || ev.type === 'reject') n++;
  return n;
}

/**
 * Files for a list of paths, directories and globs (fast-glob syntax), in the order given, each file once.
 * A directory means every file with a citation extension under it. A pattern that matches nothing throws an
 * Error naming it.
 */
export async function expandInputs(patterns: string[]): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (f: string) => {
    if (!seen.has(f)) {
      seen.add(f);
      out.push(f);
    }
  };
  for (const p of patterns) {
    const st = await stat(p).catch(() => undefined);
    if (st?.isFile()) {
      add(p);
      continue;
    }
    let found: string[];
    if (st?.isDirectory()) {
      found = await fg(`**/*.{${INPUT_EXTENSIONS.join(',')}}`, {
        cwd: p,
        absolute: false,
        onlyFiles: true,
        caseSensitiveMatch: false,
      });
      found = found.map((f) => `${p.replace(/\/+$/, '')}/${f}`);
    } else {
      found = await fg(fg.isDynamicPattern(p) ? p : fg.escapePath(p), { onlyFiles: true, dot: false });
    }
    if (!found.length)
      throw new Error(
        st?.isDirectory()
          ? `no citation files (${INPUT_EXTENSIONS.join(', ')}) under directory '${p}'`
          : `no file matches '${p}'`,
      );
    for (const f of found.sort()) add(f);
  }
  return out;
}

export { readPubmedXml } from './xml';
export { readMedlineText } from './medline';
export { readPubmedQa } from './pubmedqa';
