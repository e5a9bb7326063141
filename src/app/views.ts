// What the application shows for a query (papers, MeSH, sentences, status): plain data shared by the VS Code sidebar
// and anything else that renders results (the CLI). No Node or VS Code code here.

import type { PaperMeta } from '../cite/paper';

export interface HighlightedSentence {
  text: string;
  /** span of `text` to highlight */ start: number;
  end: number;
}

/** A paper as the sidebar shows it: the citation metadata (PaperMeta) plus why and how well it matched. */
export interface PaperView extends PaperMeta {
  score: number; // 0..1 relevance for the bar
  best?: HighlightedSentence; // the best-matching sentence of the abstract
  why?: string; // short explanation of the match (which legs)
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
  breadcrumbs: string[]; // one per tree number, e.g. 'Diseases › Neoplasms › Colorectal Neoplasms'
  entryTerms: string[];
  url: string; // MeSH Browser link
}

export interface SentenceView {
  text: string;
  pmid: string;
  title: string;
  authors: string[];
  year?: number;
  score: number;
  /** index: a row of the sentence index; abstract: split from the paper's abstract and embedded for this query */
  from?: 'index' | 'abstract';
}

export interface EngineStatusView {
  provider?: string; // onnxruntime execution provider that ran (cpu, cuda, dml)
  fallbackReason?: string;
  model?: string; // model label (repo or folder)
  generated: boolean; // random weights: results carry no ranking meaning
  indexSize?: number; // papers in the index
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
  /** Where the similar sentences came from, one line the panel shows ("From the sentence index", "From the 10
   * best-matching papers' abstracts (20 sentences embedded now)…") */
  sentenceScope?: string;
  ms: number;
  status: EngineStatusView;
  /** An early answer: the parts still to come ('mesh': the MeSH terms; 'ranking': papers in full-text order until the model is there). */
  pending?: ('mesh' | 'ranking')[];
}
