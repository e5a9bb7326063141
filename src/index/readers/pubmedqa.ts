// PubMedQA JSON ({ "<pmid>": { QUESTION, CONTEXTS, LABELS, LONG_ANSWER, MESHES, YEAR, … } }).
// PubMedQA keeps no title: the question (phrased from the title) stands in for it. The abstract is the CONTEXTS
// with their LABELS as sections, then LONG_ANSWER as a 'CONCLUSIONS' section; MeSH are descriptor names only.
// PubMedQA has no authors, journal, volume, issue or pages: those come from a PubMed record of the same PMID.
//
// Streamed member by member (json-stream.ts): linear time, one entry in memory; a damaged entry is rejected by its
// PMID (or ordinal) and line, and the entries after it are read.
import type { AbstractSection, Citation, ReaderEvent } from '../citation';
import { clean, stripControlChars } from './source';
import { jsonRecords } from './json-stream';
import { normalizePmid } from '../ids';

export async function* readPubmedQa(
  file: string,
  opts: { signal?: AbortSignal; onProgress?: (bytesRead: number, totalBytes: number) => void } = {},
): AsyncGenerator<ReaderEvent> {
  for await (const ev of jsonRecords(file, { signal: opts.signal, onProgress: opts.onProgress })) {
    opts.signal?.throwIfAborted();
    if (ev.kind === 'fatal') {
      yield {
        type: 'reject',
        file,
        record: '#0',
        where: `line ${ev.atLine}`,
        message: `not PubMedQA JSON: ${ev.message}`,
      };
      continue;
    }
    if (ev.kind === 'note') {
      yield { type: 'note', file, record: `#${ev.index}`, where: `line ${ev.atLine}`, message: ev.message };
      continue;
    }
    const key = ev.key;
    const p = key !== undefined ? normalizePmid(key) : undefined;
    const record = p && 'value' in p ? p.value : `#${ev.index}`;
    const where = `line ${ev.line}`;
    const rej = (message: string): Extract<ReaderEvent, { type: 'reject' }> => ({
      type: 'reject',
      file,
      record,
      where,
      message: `entry ${ev.index} at line ${ev.line}: ${message}`,
    });
    if (ev.kind === 'bad') {
      const bytewise = /^(NUL byte|control character|invalid UTF-8)/.test(ev.message);
      yield { ...rej(ev.message), where: bytewise ? `byte ${ev.at}` : where };
      continue;
    }
    if (key === undefined) {
      yield rej('not an object member (PubMedQA is an object keyed by PMID)');
      continue;
    }
    if (!p || 'error' in p) {
      yield rej(`key '${key.slice(0, 40)}' is not a PMID: ${p && 'error' in p ? p.error : ''}`);
      continue;
    }
    const v = ev.value as Record<string, unknown>;
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      yield rej('entry is not an object');
      continue;
    }
    const contexts = v['CONTEXTS'];
    if (!Array.isArray(contexts) || !contexts.every((c) => typeof c === 'string')) {
      yield rej('CONTEXTS is not a list of strings');
      continue;
    }
    const labels = Array.isArray(v['LABELS']) ? (v['LABELS'] as unknown[]) : [];
    const abstract: AbstractSection[] = [];
    contexts.forEach((t: string, i) => {
      const s: AbstractSection = { text: clean(t) };
      const l = labels[i];
      if (typeof l === 'string' && l.trim()) s.label = l.trim();
      if (s.text) abstract.push(s);
    });
    if (typeof v['LONG_ANSWER'] === 'string' && v['LONG_ANSWER'].trim())
      abstract.push({ label: 'CONCLUSIONS', text: clean(v['LONG_ANSWER']) });
    const c: Citation = {
      pmid: p.value,
      title: clean(typeof v['QUESTION'] === 'string' ? v['QUESTION'] : ''),
      abstract,
      authors: [],
      journal: '',
      publicationTypes: [],
      mesh: (Array.isArray(v['MESHES']) ? (v['MESHES'] as unknown[]) : [])
        .filter((m): m is string => typeof m === 'string' && !!m.trim())
        .map((name) => ({ name: name.trim(), major: false, qualifiers: [] })),
      source: file,
    };
    const y = Number(v['YEAR']);
    if (Number.isInteger(y) && y > 1800 && y < 3000) c.year = y;
    const fields = stripControlChars(c as unknown as Record<string, unknown>);
    if (fields.length)
      yield { type: 'note', file, record, where, message: `control characters removed from ${fields.join(', ')}` };
    yield { type: 'citation', citation: c };
  }
}
