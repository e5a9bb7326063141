// Public API of the MeSH engine (no `vscode` import): vocabulary, matcher, suggestions, and a one-call helper that
// asks an index for the neighbours and votes them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Embedder } from '../inference/types';
import { defaultIndexDir } from '../inference/paths';
import { BREADCRUMB_SEP, loadVocab, type MeshVocab } from './vocab';
import { DEFAULT_K, suggestMesh, type Neighbour, type SuggestOptions, type Suggestion } from './suggest';

export * from './vocab';
export * from './suggest';
export { LexicalMatcher, matcherFor, tokenize, normToken, type LexicalMatch } from './lexical';
export { CHECK_TAGS, checkTagCues, isCheckTag } from './checktags';
export { multiLabelScores, type MultiLabelScores } from './metrics';

export interface MeshForTextOptions extends SuggestOptions {
  indexDir?: string; // default: the per-user index; absent or empty → lexical + check-tag cues only
  vocab?: MeshVocab | string; // a loaded vocabulary or a source for loadVocab (XML, cache, TSV folder)
  embedder?: Embedder; // for hybrid/dense neighbours; without it the full-text leg is used
  mode?: 'dense' | 'fts' | 'hybrid';
  excludePmids?: string[];
  /** An already open index (the demo, the extension): used instead of opening `indexDir`. */
  store?: import('../index/store').IndexStore;
}

export interface MeshForTextResult {
  suggestions: Suggestion[];
  neighbours: Neighbour[];
  /** How neighbours were found ('fts', 'hybrid', 'dense'), or 'none' with the reason in `note`. */
  mode: string;
  note?: string;
  vocab: MeshVocab;
  ms: { vocab: number; neighbours: number; suggest: number };
}

/** Suggest MeSH for a paragraph: neighbours from the index at `indexDir` when there is one, else lexical only. */
export async function meshForText(text: string, opts: MeshForTextOptions = {}): Promise<MeshForTextResult> {
  const t0 = performance.now();
  const vocab = typeof opts.vocab === 'object' ? opts.vocab : await loadVocab(opts.vocab);
  const t1 = performance.now();
  const k = opts.k ?? DEFAULT_K;
  let neighbours: Neighbour[] = [];
  let mode = 'none';
  let note: string | undefined;
  const dir = path.resolve(opts.indexDir ?? defaultIndexDir());
  if (opts.store) {
    const { neighbours: findNeighbours } = await import('../index/search');
    const r = await findNeighbours(opts.store, opts.embedder, text, {
      k,
      excludePmids: opts.excludePmids,
      mode: opts.mode ?? (opts.embedder ? 'hybrid' : 'fts'),
    });
    neighbours = r.neighbours.map((n, i) => ({ pmid: n.pmid, rank: i, score: n.score, mesh: n.mesh }));
    mode = r.mode;
    note = r.note;
  } else if (!fs.existsSync(path.join(dir, 'meta.json'))) {
    note = `no index at ${dir}: suggestions come from the text alone (lexical matches and check-tag cues); build one with \`biohicl demo\` or \`biohicl index add\` to add the votes of similar citations`;
  } else {
    const { IndexStore } = await import('../index/store');
    const { neighbours: findNeighbours } = await import('../index/search');
    const store = await IndexStore.open(dir, undefined);
    try {
      const r = await findNeighbours(store, opts.embedder, text, {
        k,
        excludePmids: opts.excludePmids,
        mode: opts.mode ?? (opts.embedder ? 'hybrid' : 'fts'),
      });
      neighbours = r.neighbours.map((n, i) => ({ pmid: n.pmid, rank: i, score: n.score, mesh: n.mesh }));
      mode = r.mode;
      note = r.note;
    } finally {
      store.close();
    }
  }
  const t2 = performance.now();
  const suggestions = suggestMesh(text, neighbours, vocab, opts);
  const t3 = performance.now();
  return { suggestions, neighbours, mode, note, vocab, ms: { vocab: t1 - t0, neighbours: t2 - t1, suggest: t3 - t2 } };
}

/** Plain-text rendering (CLI, demo): topics then check tags, each with its best breadcrumb and evidence. */
export function formatSuggestions(list: Suggestion[], opts: { breadcrumbs?: number; width?: number } = {}): string {
  const lines: string[] = [];
  const nb = opts.breadcrumbs ?? 1;
  const groups: [string, Suggestion[]][] = [
    ['MeSH descriptors', list.filter((s) => s.group === 'topic')],
    ['Check tags', list.filter((s) => s.group === 'checktag')],
  ];
  for (const [title, l] of groups) {
    if (!l.length) continue;
    lines.push(`${title}:`);
    l.forEach((s, i) => {
      lines.push(
        `${String(i + 1).padStart(3)}. ${s.score.toFixed(2)}  ${s.name} [${s.ui}]${s.collapsed ? ` (for ${s.collapsed.join(', ')})` : ''}`,
      );
      for (const b of s.breadcrumbs.slice(0, nb)) lines.push(`         ${b}`);
      if (s.breadcrumbs.length > nb)
        lines.push(
          `         (+${s.breadcrumbs.length - nb} more tree position${s.breadcrumbs.length - nb > 1 ? 's' : ''})`,
        );
      const ev: string[] = [];
      if (s.evidence.spans.length)
        ev.push(`text: ${[...new Set(s.evidence.spans.map((x) => `"${x.text}"`))].slice(0, 3).join(', ')}`);
      if (s.evidence.pmids.length)
        ev.push(
          `${s.evidence.pmids.length} similar citation${s.evidence.pmids.length > 1 ? 's' : ''}: PMID ${s.evidence.pmids.slice(0, 4).join(', ')}${s.evidence.pmids.length > 4 ? ', …' : ''}`,
        );
      if (ev.length) lines.push(`         ${ev.join('; ')}`);
    });
  }
  if (!lines.length) lines.push('No MeSH suggestion above the cut-off.');
  return lines.join('\n');
}

export { BREADCRUMB_SEP };
