// Host ↔ webview protocol: types only (the webview bundle imports it with `import type`, so no Node code follows).
// Every message has an id; every request from the webview gets exactly one `reply` with the same id; errors are data.

import type { EngineStatusView, ResultsView } from '../app/views';
export type {
  CurrencyView,
  EngineStatusView,
  HighlightedSentence,
  MeshView,
  PaperView,
  ResultsView,
  SentenceView,
} from '../app/views';

export type ViewState =
  | { phase: 'idle'; status?: EngineStatusView }
  | { phase: 'loading'; queryId: number; query: string; status?: EngineStatusView }
  | { phase: 'results'; results: ResultsView }
  | {
      phase: 'error';
      queryId?: number;
      message: string;
      detail?: string;
      status?: EngineStatusView;
      actions?: ErrorAction[];
    };

/** A way out of an error, offered as a button in the sidebar (e.g. an index built by another model). */
export interface ErrorAction {
  command:
    'rebuildIndex' | 'useIndexModel' | 'buildIndex' | 'fetchModel' | 'remakeModel' | 'getPubmedIndex' | 'updateIndex';
  label: string;
}

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

export type WebviewMessage = {
  [K in keyof WebviewRequests]: { id: number; type: K; data: WebviewRequests[K] };
}[keyof WebviewRequests];

export type HostMessage =
  | { id: number; type: 'state'; state: ViewState }
  | { id: number; type: 'reply'; ok: true; message?: string }
  | { id: number; type: 'reply'; ok: false; error: string }
  | { id: number; type: 'abstract'; pmid: string; abstract: string };
