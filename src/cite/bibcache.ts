// The writer's bibliography files, parsed once per version and kept for completion: a file open in the editor is
// keyed by its document version (its text is read only when that changed), a file on disk by mtime and size. The
// combined BibIndex of a document's files is rebuilt only when one of them changed. No vscode: the extension passes
// versions and text getters, the CLI and the benchmark paths.
import { errorText } from '../util/errors';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bibRecords } from './plan';
import { parseBibtex } from './bibtex';
import { recordsFromBibtex } from './match';
import { BibIndex } from './complete';
import type { BibRecord } from './match';

export interface BibFileSource {
  path: string;
  format: 'bibtex' | 'csl-json';
  /** the editor's document version, when the file is open (then `text` gives its current text) */
  version?: number;
  text?: () => string;
}

interface Parsed {
  stamp: string;
  records: BibRecord[];
  error?: string;
  /** BibTeX: each entry's text → its record (an edit re-reads only the entries it changed) */
  byText?: Map<string, BibRecord>;
}

export interface CachedBibliography {
  index: BibIndex;
  /** changes whenever an entry may have changed (version/mtime of every file) */
  signature: string;
  /** files that could not be read or parsed (their entries are missing) */
  errors: string[];
}

export class BibCache {
  private readonly files = new Map<string, Parsed>();
  private readonly combined = new Map<string, { signature: string; value: CachedBibliography }>();
  /** how many times a file was parsed (tests and the benchmark check that typing parses nothing) */
  parses = 0;

  private stamp(s: BibFileSource): string {
    if (s.version !== undefined && s.text) return `v${s.version}`;
    try {
      const st = fs.statSync(s.path);
      return `m${st.mtimeMs}:${st.size}`;
    } catch {
      return 'none';
    }
  }

  /** The file's records, parsed again only when its version or mtime changed. */
  file(s: BibFileSource): Parsed {
    const stamp = this.stamp(s);
    const cur = this.files.get(s.path);
    if (cur && cur.stamp === stamp) return cur;
    let text: string | undefined;
    let p: Parsed;
    try {
      text =
        s.version !== undefined && s.text ? s.text() : stamp === 'none' ? undefined : fs.readFileSync(s.path, 'utf8');
      this.parses++;
      if (s.format === 'bibtex' && text !== undefined) {
        // the scanner runs over the whole file; entries whose text is unchanged keep their record (and preparation)
        const byText = new Map<string, BibRecord>();
        const name = path.basename(s.path);
        const records = parseBibtex(text).map((e) => {
          const raw = text!.slice(e.start, e.end);
          const r = cur?.byText?.get(raw) ?? byText.get(raw) ?? recordsFromBibtex([e], name)[0]!;
          byText.set(raw, r);
          return r;
        });
        p = { stamp, records, byText };
      } else p = { stamp, records: bibRecords([{ path: s.path, format: s.format, text }]) };
    } catch (e) {
      p = { stamp, records: cur?.records ?? [], error: `${s.path}: ${errorText(e)}` };
    }
    this.files.set(s.path, p);
    return p;
  }

  /** The combined, prepared bibliography of a document's files (in the document's order). */
  get(sources: BibFileSource[]): CachedBibliography {
    const parsed = sources.map((s) => this.file(s));
    const id = sources.map((s) => s.path).join('\n');
    const signature = sources.map((s, i) => `${s.path}@${parsed[i]!.stamp}`).join('\n');
    const cur = this.combined.get(id);
    if (cur && cur.signature === signature) return cur.value;
    const value: CachedBibliography = {
      index: new BibIndex(parsed.flatMap((p) => p.records)),
      signature,
      errors: parsed.map((p) => p.error).filter((e): e is string => !!e),
    };
    this.combined.set(id, { signature, value });
    return value;
  }

  /** Forget a file (closed, deleted): the next request reads it from disk. */
  forget(path: string): void {
    this.files.delete(path);
  }
}
