// CSL-JSON and BibTeX exports (Zotero, Better BibTeX, Mendeley, PubMed's "Cite"): small files, read whole and
// parsed with citation-js. Only items with a PMID and an abstract can be indexed; the others are rejected with
// the reason, named by their citation key / id and line.
import { readFile } from 'node:fs/promises';
import { plugins } from '@citation-js/core';
import '@citation-js/plugin-bibtex';
import '@citation-js/plugin-csl';
import type { Citation, ReaderEvent } from '../citation';
import { clean, firstYear, initialsOf } from './source';
import { splitStructured } from './medline';

type CslItem = Record<string, unknown>;
type CslName = { family?: string; given?: string; literal?: string };

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const stripTags = (s: string) => clean(s.replace(/<[^>]+>/g, ''));

/** 'PMID: 123' style lines in note/extra. */
function fromNote(item: CslItem, key: string): string | undefined {
  const note = `${str(item['note'])}\n${str(item['extra'])}`;
  const m = new RegExp(`(?:^|\\n)\\s*${key}\\s*:\\s*(\\S+)`, 'i').exec(note);
  return m?.[1];
}

export type CslResult = { citation: Citation } | { reason: string };

/** Map one CSL-JSON item to a Citation, or say why it cannot be indexed. */
export function citationFromCsl(item: CslItem, source: string): CslResult {
  const pmid = (str(item['PMID']) || str(item['pmid']) || fromNote(item, 'PMID') || '').trim();
  if (!pmid) return { reason: 'has no PMID (CSL field PMID, or "PMID: n" in note/extra)' };
  if (!/^\d+$/.test(pmid)) return { reason: `PMID '${pmid}' is not a number` };
  const abstract = stripTags(str(item['abstract']));
  if (!abstract) return { reason: `PMID ${pmid} has no abstract` };
  const authors = ((Array.isArray(item['author']) ? item['author'] : []) as CslName[])
    .map((a) => (a.literal ? a.literal : [a.family ?? '', initialsOf(a.given ?? '')].filter(Boolean).join(' ')))
    .filter(Boolean);
  const issued = item['issued'] as { 'date-parts'?: unknown[][]; raw?: string; literal?: string } | undefined;
  const dp = issued?.['date-parts']?.[0]?.[0];
  const year = typeof dp === 'number' ? dp : firstYear(str(dp) || issued?.raw || issued?.literal);
  const c: Citation = {
    pmid,
    title: stripTags(str(item['title'])),
    abstract: splitStructured(abstract),
    authors,
    journal: stripTags(str(item['container-title']) || str(item['container-title-short']) || str(item['journalAbbreviation'])),
    publicationTypes: [],
    mesh: [],
    source,
  };
  if (year !== undefined) c.year = year;
  const doi = (str(item['DOI']) || fromNote(item, 'DOI') || '').replace(/^https?:\/\/(dx\.)?doi\.org\//i, '');
  if (doi) c.doi = doi;
  const pmcid = str(item['PMCID']) || fromNote(item, 'PMCID') || '';
  if (pmcid) c.pmcid = pmcid.startsWith('PMC') ? pmcid : `PMC${pmcid}`;
  const lang = str(item['language']);
  if (lang) c.language = lang;
  const kw = str(item['keyword']).split(/[,;]\s*/).map((s) => s.trim()).filter(Boolean);
  if (kw.length) c.keywords = kw;
  return { citation: c };
}

function lineOfOffset(text: string, off: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < off; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

export async function* readCslJson(file: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<ReaderEvent> {
  const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const where = pos ? `line ${lineOfOffset(text, Number(pos[1]))}` : 'byte 0';
    yield { type: 'reject', file, record: '#0', where, message: `invalid JSON: ${msg}` };
    return;
  }
  const items: unknown[] = Array.isArray(data) ? data : Array.isArray((data as { items?: unknown[] })?.items) ? (data as { items: unknown[] }).items : [data];
  let searchFrom = 0;
  for (let k = 0; k < items.length; k++) {
    opts.signal?.throwIfAborted();
    const item = items[k] as CslItem;
    const id = str(item?.['id']) || str(item?.['citation-key']);
    let where = `item ${k + 1}`;
    if (id) {
      const at = text.indexOf(JSON.stringify(id), searchFrom);
      if (at >= 0) { where = `line ${lineOfOffset(text, at)}`; searchFrom = at; }
    }
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      yield { type: 'reject', file, record: `#${k + 1}`, where, message: 'item is not a JSON object' };
      continue;
    }
    const r = citationFromCsl(item, file);
    if ('citation' in r) yield { type: 'citation', citation: r.citation };
    else {
      const known = (str(item['PMID']) || fromNote(item, 'PMID') || '').trim();
      const record = /^\d+$/.test(known) ? known : id ? `#${k + 1} (${id})` : `#${k + 1}`;
      yield { type: 'reject', file, record, where, message: `item ${id ? `'${id}' ` : ''}${r.reason}` };
    }
  }
}

const ENTRY = /^[ \t]*@([A-Za-z]+)[ \t]*[{(]/gm;

export async function* readBibtex(file: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<ReaderEvent> {
  const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  const starts = [...text.matchAll(ENTRY)].map((m) => ({ pos: m.index!, type: m[1]!.toLowerCase() }));
  const chunks = starts.map((s, k) => ({ ...s, text: text.slice(s.pos, k + 1 < starts.length ? starts[k + 1]!.pos : undefined) }));
  const strings = chunks.filter((c) => c.type === 'string').map((c) => c.text).join('\n');
  let ordinal = 0;
  for (const ch of chunks) {
    if (ch.type === 'string' || ch.type === 'preamble' || ch.type === 'comment') continue;
    opts.signal?.throwIfAborted();
    ordinal++;
    const line = lineOfOffset(text, ch.pos);
    const key = /^[^{(]*[{(]\s*([^,\s]+)\s*,/.exec(ch.text)?.[1];
    const rec = key ? `#${ordinal} (${key})` : `#${ordinal}`;
    let items: CslItem[];
    try {
      items = plugins.input.chain(strings ? `${strings}\n${ch.text}` : ch.text, { generateGraph: false, forceType: '@biblatex/text' });
    } catch (e) {
      const msg = clean((e as Error).message.split('\n')[0] ?? '').replace(/\s*at line \d+ col \d+:?$/, '');
      yield { type: 'reject', file, record: rec, where: `line ${line}`, message: `BibTeX entry ${key ?? ''} at line ${line} does not parse: ${msg}` };
      continue;
    }
    for (const item of items) {
      const r = citationFromCsl(item, file);
      if ('citation' in r) yield { type: 'citation', citation: r.citation };
      else yield { type: 'reject', file, record: rec, where: `line ${line}`, message: `entry '${key ?? '?'}' ${r.reason}` };
    }
  }
}
