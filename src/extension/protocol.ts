// Host ↔ webview protocol: types only (the webview bundle imports it with `import type`, so no Node code follows).
// Every message has an id; every request from the webview gets exactly one `reply` with the same id; errors are data.

export interface HighlightedSentence { text: string; /** span of `text` to highlight */ start: number; end: number }

import type { PaperMeta } from '../cite/paper';

/** A paper as the sidebar shows it: the citation metadata (PaperMeta) plus why and how well it matched. */
export interface PaperView extends PaperMeta {
  score: number;                 // 0..1 relevance for the bar
  best?: HighlightedSentence;    // the best-matching sentence of the abstract
  why?: string;                  // short explanation of the match (which legs)
  /** already in the document's bibliography: under this key (a Manubot id, a reference number) in this file */
  inBibliography?: { key: string; file?: string };
  /** indexed from the writer's own library (a bibliography file given to "Build index"): its key there and the file */
  inLibrary?: { key?: string; file: string };
  /** what a reference needs and this paper lacks (author, journal, year, title): shown before it is inserted */
  missing?: string[];
}

export interface MeshView {
  ui: string;
  name: string;
  score: number;
  breadcrumbs: string[];         // one per tree number, e.g. 'Diseases › Neoplasms › Colorectal Neoplasms'
  entryTerms: string[];
  url: string;                   // MeSH Browser link
}

export interface SentenceView {
  text: string;
  pmid: string;
  title: string;
  authors: string[];
  year?: number;
  score: number;
}

export interface EngineStatusView {
  provider?: string;             // onnxruntime execution provider that ran (cpu, cuda, dml)
  fallbackReason?: string;
  model?: string;                // model label (repo or folder)
  generated: boolean;            // random weights: results carry no ranking meaning
  indexSize?: number;            // papers in the index
  indexModel?: string;
  /** How current the index is (src/index/currency.ts), once it was opened. */
  currency?: CurrencyView;
  notes: string[];
}

export interface CurrencyView {
  kind: 'pubmed' | 'release' | 'own' | 'empty';
  /** "PubMed through pubmed26n0010 (applied 2026-12-01)", "Release r1 (2026-11-30)", "Your own files only" */
  label: string;
  details: string[];
  /** pubmed26n0010 */
  lastFile?: string;
  appliedAt?: string;
  release?: string;
}

export interface ResultsView {
  queryId: number;
  query: string;
  papers: PaperView[];
  mesh: MeshView[];
  sentences: SentenceView[];
  ms: number;
  status: EngineStatusView;
}

export type ViewState =
  | { phase: 'idle'; status?: EngineStatusView }
  | { phase: 'loading'; queryId: number; query: string; status?: EngineStatusView }
  | { phase: 'results'; results: ResultsView }
  | { phase: 'error'; queryId?: number; message: string; detail?: string; status?: EngineStatusView; actions?: ErrorAction[] };

/** A way out of an error, offered as a button in the sidebar (e.g. an index built by another model). */
export interface ErrorAction { command: 'rebuildIndex' | 'useIndexModel' | 'buildIndex' | 'fetchModel' | 'remakeModel' | 'getPubmedIndex' | 'updateIndex'; label: string }

/** Requests from the webview: type → payload. */
export interface WebviewRequests {
  ready: Record<string, never>;
  insertCitation: { pmid: string };
  copyBibtex: { pmid: string };
  showAbstract: { pmid: string };
  insertKeyword: { ui: string; name: string };
  insertSentence: { pmid: string; text: string };
  copyText: { text: string };
  openLink: { kind: 'pubmed' | 'doi' | 'mesh'; value: string };
  rerun: Record<string, never>;
  errorAction: { command: ErrorAction['command'] };
  /** One of the index commands (the currency line's buttons). */
  runCommand: { command: 'getPubmedIndex' | 'updateIndex' | 'buildIndex' };
  showLogs: Record<string, never>;
}

export type WebviewMessage = { [K in keyof WebviewRequests]: { id: number; type: K; data: WebviewRequests[K] } }[keyof WebviewRequests];

export type HostMessage =
  | { id: number; type: 'state'; state: ViewState }
  | { id: number; type: 'reply'; ok: true; message?: string }
  | { id: number; type: 'reply'; ok: false; error: string }
  | { id: number; type: 'abstract'; pmid: string; abstract: string };
