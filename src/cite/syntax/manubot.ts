// Manubot manuscripts: Markdown under `content/` citing persistent ids (`[@doi:…]`, `[@pubmed:…]`, `[@arxiv:…]`,
// `[@url:…]`, tags). Before a paper gets an id, what the manuscript already knows is read — the ids its content cites,
// tag aliases (`citekey-aliases` in metadata.yaml, `[@tag:x]: doi:…` link definitions, the old citation-tags.tsv),
// manual-references*.json, and the resolved output/references.json with output/citations.tsv when present — so a
// paper cited as `[@doi:10.1002/cam4.410]` is cited that way again, not as `[@pubmed:25627000]`. Citation groups
// are Pandoc's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PaperMeta } from '../paper';
import { normDoi, normTitle } from '../paper';
import { parseCslJson, cslPmid, cslYear, type CslItem } from '../csljson';
import { findRecords, type BibRecord, type Match } from '../match';
import { pandocGroups, pandocKeyRe, pandocCiteSlot } from './pandoc';
import { yamlBibliography, yamlValue } from './frontmatter';
import type { CiteSlot } from './common';

const PREFIXED = /\[@(?:doi|pubmed|pmid|pmc|pmcid|arxiv|url|isbn|wikidata|tag|raw|clinicaltrials|https?):/i;

/** Manubot: Markdown under a `content/` folder whose citations use `@doi:`/`@pubmed:` prefixes and no bibliography. */
export function looksManubot(fileName: string, text: string): boolean {
  if (yamlBibliography(text).length) return false;
  const inContent = /[\\/]content[\\/][^\\/]+\.md$/i.test(fileName);
  return inContent && (PREFIXED.test(text) || !/\[@[A-Za-z]/.test(text));
}

/** What an id names by itself: `doi:X`, `pubmed:N`/`pmid:N`, a doi.org or PubMed URL (with or without `url:`). */
export function idIdentity(id: string): { pmid?: string; doi?: string } {
  const m = /^([a-z]+):(.+)$/i.exec(id);
  const prefix = m?.[1]?.toLowerCase();
  const rest = m?.[2] ?? id;
  if (prefix === 'doi') return { doi: normDoi(rest) };
  if ((prefix === 'pubmed' || prefix === 'pmid') && /^\d+$/.test(rest)) return { pmid: rest };
  const url = prefix === 'url' ? rest : /^https?:/i.test(id) ? id : undefined;
  if (url) {
    const doi = /^https?:\/\/(?:dx\.)?doi\.org\/(10\..+)$/i.exec(url)?.[1];
    if (doi) return { doi: normDoi(decodeURIComponent(doi)) };
    const pm = /pubmed\.ncbi\.nlm\.nih\.gov\/(\d+)|ncbi\.nlm\.nih\.gov\/pubmed\/(\d+)/.exec(url);
    if (pm) return { pmid: pm[1] ?? pm[2] };
  }
  return {};
}

export interface ManubotSources {
  /** the manuscript's Markdown files (content/*.md), as texts */
  texts: string[];
  /** metadata.yaml text (for `citekey-aliases`) */
  metadata?: string;
  /** content/citation-tags.tsv (tag → citation) */
  citationTags?: string;
  /** items of content/manual-references*.json */
  manualReferences?: CslItem[];
  /** output/references.json (resolved, ids are short ids) */
  references?: CslItem[];
  /** output/citations.tsv (input_id, dealiased_id, standard_id, short_id) */
  citationsTsv?: string;
}

export interface ManubotCatalog {
  /** one record per id the manuscript can cite (key = the id as written), cited ones first, in order of first use */
  records: BibRecord[];
  /** how often each id is cited */
  uses: Map<string, number>;
  aliases: Map<string, string>;
}

/** `citekey-aliases:` of a metadata.yaml (a mapping `alias: target`), read by the YAML parser of ./frontmatter. */
export function citekeyAliases(yaml: string): Map<string, string> {
  const out = new Map<string, string>();
  const v = yamlValue(yaml, 'citekey-aliases');
  if (v && typeof v === 'object' && !Array.isArray(v))
    for (const [alias, target] of Object.entries(v as Record<string, unknown>))
      if (typeof target === 'string' && target.trim()) out.set(alias, target.trim());
  return out;
}

/** Build the catalogue from what was read (pure). */
export function manubotCatalog(src: ManubotSources): ManubotCatalog {
  const uses = new Map<string, number>();
  const aliases = new Map<string, string>(src.metadata ? citekeyAliases(src.metadata) : []);
  for (const line of (src.citationTags ?? '').split(/\r?\n/).slice(1)) {
    const [tag, citation] = line.split('\t');
    if (tag?.trim() && citation?.trim()) aliases.set(`tag:${tag.trim()}`, citation.trim());
  }
  for (const text of src.texts) {
    // link-reference definitions: `[@tag:x]: doi:…`
    for (const m of text.matchAll(/^\[@([^\]\s]+)\]:\s*(\S+)\s*$/gm)) if (m[1] && m[2]) aliases.set(m[1], m[2]);
    for (const g of pandocGroups(text)) for (const k of g.keys) uses.set(k, (uses.get(k) ?? 0) + 1);
    // narrative citations (`@doi:…` outside brackets) count too
    for (const m of text.replace(/\[[^[\]]*\]/g, '').matchAll(pandocKeyRe())) {
      const k = m[2] ?? '';
      if (/^[a-z]+:/i.test(k) && !/^(fig|tbl|sec|eq):/.test(k)) uses.set(k, (uses.get(k) ?? 0) + 1);
    }
  }
  // resolved references: short id → item; input id → short id
  const byShort = new Map((src.references ?? []).map((it) => [it.id, it]));
  const resolved = new Map<string, CslItem>();
  for (const line of (src.citationsTsv ?? '').split(/\r?\n/).slice(1)) {
    const cols = line.split('\t');
    const item = byShort.get(cols[3]?.trim() ?? '');
    if (!item) continue;
    for (const c of cols.slice(0, 3)) if (c?.trim()) resolved.set(c.trim(), item);
  }
  const manual = new Map((src.manualReferences ?? []).map((it) => [it.id, it]));
  const record = (id: string): BibRecord => {
    const target = aliases.get(id) ?? id;
    const ident = { ...idIdentity(target), ...stripUndefined(idIdentity(id)) };
    const item = resolved.get(id) ?? resolved.get(target) ?? manual.get(id) ?? manual.get(target);
    return {
      key: id,
      pmid: ident.pmid ?? (item ? cslPmid(item) : undefined),
      doi: ident.doi ?? normDoi(typeof item?.DOI === 'string' ? item.DOI : undefined),
      title: item && typeof item.title === 'string' ? normTitle(item.title) : undefined,
      year: item ? cslYear(item) : undefined,
      families: (item?.author ?? []).map((a) => a.family ?? a.literal ?? '').filter(Boolean),
      rawTitle: typeof item?.title === 'string' ? item.title : undefined,
    };
  };
  const ids = [...uses.keys(), ...[...manual.keys()].filter((k) => !uses.has(k))];
  return { records: ids.map(record), uses, aliases };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The manuscript folder of a Manubot content file: `…/content/x.md` → `…`. */
export function manubotRoot(contentFile: string): string {
  return path.dirname(path.dirname(contentFile));
}

function readIf(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Read a Manubot manuscript's sources from disk. `current` replaces the disk text of the file being edited (it may
 * hold unsaved changes).
 */
export function readManubotSources(contentFile: string, current?: string): ManubotSources {
  const root = manubotRoot(contentFile);
  const content = path.join(root, 'content');
  let names: string[] = [];
  try {
    names = fs.readdirSync(content);
  } catch {
    /* a lone file */
  }
  const texts = names
    .filter((n) => /\.md$/i.test(n))
    .map((n) =>
      path.join(content, n) === path.resolve(contentFile) && current !== undefined
        ? current
        : (readIf(path.join(content, n)) ?? ''),
    );
  if (current !== undefined && !names.includes(path.basename(contentFile))) texts.push(current);
  const manualReferences: CslItem[] = [];
  for (const n of names.filter((x) => /^manual-references.*\.json$/i.test(x))) {
    try {
      manualReferences.push(...parseCslJson(readIf(path.join(content, n)) ?? '', n));
    } catch {
      /* unreadable: ignored */
    }
  }
  let references: CslItem[] | undefined;
  try {
    references = parseCslJson(readIf(path.join(root, 'output', 'references.json')) ?? '');
  } catch {
    references = undefined;
  }
  return {
    texts,
    metadata: readIf(path.join(content, 'metadata.yaml')),
    citationTags: readIf(path.join(content, 'citation-tags.tsv')),
    manualReferences,
    references,
    citationsTsv: readIf(path.join(root, 'output', 'citations.tsv')),
  };
}

export interface ManubotId {
  id: string;
  /** how the manuscript already knows the paper, if it does */ match?: Match;
}

/** The id to cite `paper` with: the one the manuscript already uses for it, else `pubmed:PMID` (or `doi:` if asked). */
export function manubotIdFor(
  catalog: ManubotCatalog,
  paper: Pick<PaperMeta, 'pmid' | 'doi' | 'title' | 'year'>,
  citeAs: 'pubmed' | 'doi' = 'pubmed',
  prefer?: (id: string) => boolean,
): ManubotId {
  // several ids for the paper (`doi:…` and `pubmed:…` both cited): the one `prefer` picks, else the one cited first
  const all = findRecords(catalog.records, paper);
  const match = all.find((m) => prefer?.(m.record.key)) ?? all[0];
  if (match) return { id: match.record.key, match };
  return { id: citeAs === 'doi' && paper.doi ? `doi:${normDoi(paper.doi)}` : `pubmed:${paper.pmid}` };
}

/** The id being typed in a Manubot citation (`[@pubmed:2|]`, `[@doi:10.1|]`): Pandoc's slot plus the id's prefix. */
export function manubotCiteSlot(text: string, offset: number): CiteSlot | undefined {
  const slot = pandocCiteSlot(text, offset);
  if (!slot) return undefined;
  const prefix = /^([a-z]+):/i.exec(slot.typed)?.[1]?.toLowerCase();
  return prefix ? { ...slot, prefix } : slot;
}
