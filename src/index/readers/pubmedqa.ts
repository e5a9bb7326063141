// PubMedQA JSON ({ "<pmid>": { QUESTION, CONTEXTS, LABELS, LONG_ANSWER, MESHES, YEAR, … } }).
// PubMedQA keeps no title: the question (phrased from the title) stands in for it. The abstract is the CONTEXTS
// with their LABELS as sections, then LONG_ANSWER as a 'CONCLUSIONS' section; MeSH are descriptor names only.
import { readFile } from 'node:fs/promises';
import type { AbstractSection, Citation, ReaderEvent } from '../citation';
import { clean } from './source';

function lineOfKey(text: string, key: string, from: number): { line: number; at: number } | undefined {
  const at = text.indexOf(JSON.stringify(key) + ':', from);
  const at2 = at >= 0 ? at : text.indexOf(JSON.stringify(key), from);
  if (at2 < 0) return undefined;
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < at2; i = text.indexOf('\n', i + 1)) n++;
  return { line: n, at: at2 };
}

export async function* readPubmedQa(file: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<ReaderEvent> {
  const text = await readFile(file, 'utf8');
  let data: Record<string, Record<string, unknown>>;
  try {
    data = JSON.parse(text);
  } catch (e) {
    yield { type: 'reject', file, record: '#0', where: 'byte 0', message: `invalid JSON: ${(e as Error).message}` };
    return;
  }
  let from = 0;
  let ordinal = 0;
  for (const [pmid, v] of Object.entries(data)) {
    opts.signal?.throwIfAborted();
    ordinal++;
    const loc = lineOfKey(text, pmid, from);
    if (loc) from = loc.at;
    const where = loc ? `line ${loc.line}` : `item ${ordinal}`;
    const rej = (message: string): ReaderEvent => ({ type: 'reject', file, record: /^\d+$/.test(pmid) ? pmid : `#${ordinal}`, where, message });
    if (!/^\d+$/.test(pmid)) { yield rej(`key '${pmid}' is not a PMID`); continue; }
    if (!v || typeof v !== 'object') { yield rej('entry is not an object'); continue; }
    const contexts = v['CONTEXTS'];
    if (!Array.isArray(contexts) || !contexts.every((c) => typeof c === 'string')) { yield rej('CONTEXTS is not a list of strings'); continue; }
    const labels = Array.isArray(v['LABELS']) ? (v['LABELS'] as unknown[]) : [];
    const abstract: AbstractSection[] = [];
    contexts.forEach((t: string, i) => {
      const s: AbstractSection = { text: clean(t) };
      const l = labels[i];
      if (typeof l === 'string' && l.trim()) s.label = l.trim();
      if (s.text) abstract.push(s);
    });
    if (typeof v['LONG_ANSWER'] === 'string' && v['LONG_ANSWER'].trim()) abstract.push({ label: 'CONCLUSIONS', text: clean(v['LONG_ANSWER']) });
    const c: Citation = {
      pmid,
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
    if (Number.isInteger(y) && y > 1800) c.year = y;
    yield { type: 'citation', citation: c };
  }
}
