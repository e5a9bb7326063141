// Host ↔ webview protocol. The webview script imports it with `import type` (types only); the host also uses the
// schema of the webview's messages, from which their types are derived, to check each message before it is handled
// (./messages). No Node code here. Every message has an id; every request from the webview gets exactly one `reply`
// with the same id; errors are data.

import * as v from 'valibot';
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

export const ERROR_ACTIONS = [
  'rebuildIndex',
  'useIndexModel',
  'buildIndex',
  'fetchModel',
  'remakeModel',
  'getPubmedIndex',
  'updateIndex',
] as const;

/** A way out of an error, offered as a button in the sidebar (e.g. an index built by another model). */
export interface ErrorAction {
  command: (typeof ERROR_ACTIONS)[number];
  label: string;
}

const text = v.string();
const id = v.pipe(v.string(), v.minLength(1, 'expected a non-empty string'));
const none = v.object({});
const request = <K extends string, D extends v.ObjectSchema<v.ObjectEntries, undefined>>(type: K, data: D) =>
  v.object({ id: v.pipe(v.number(), v.safeInteger('expected an integer id')), type: v.literal(type), data });

/** Requests from the webview (checked by the host before they are handled). */
export const WebviewMessageSchema = v.variant('type', [
  request('ready', none),
  request('insertCitation', v.object({ pmid: id })),
  request('copyBibtex', v.object({ pmid: id })),
  request('showAbstract', v.object({ pmid: id })),
  request('insertKeyword', v.object({ ui: id, name: text })),
  request('insertSentence', v.object({ pmid: id, text })),
  request('copyText', v.object({ text })),
  request('openLink', v.object({ kind: v.picklist(['pubmed', 'doi', 'mesh']), value: id })),
  request('rerun', none),
  request('errorAction', v.object({ command: v.picklist(ERROR_ACTIONS) })),
  /** One of the index commands (the currency line's buttons). */
  request('runCommand', v.object({ command: v.picklist(['getPubmedIndex', 'updateIndex', 'buildIndex']) })),
  request('showLogs', none),
]);

export type WebviewMessage = v.InferOutput<typeof WebviewMessageSchema>;

/** Requests from the webview: type → payload. */
export type WebviewRequests = { [M in WebviewMessage as M['type']]: M['data'] };

export type HostMessage =
  | { id: number; type: 'state'; state: ViewState }
  | { id: number; type: 'reply'; ok: true; message?: string }
  | { id: number; type: 'reply'; ok: false; error: string }
  | { id: number; type: 'abstract'; pmid: string; abstract: string };
