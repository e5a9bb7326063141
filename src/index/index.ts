// Public API of the PubMed index (no `vscode` import): readers, store, build, search, metrics, model helpers.
export * from './citation';
export { readCitations, expandInputs, countRecords, detectFormat } from './readers';
export {
  IndexStore,
  ModelMismatchError,
  describeIdentity,
  sameModel,
  annParamsFor,
  ANN_MIN_ROWS,
  ARTICLES,
  SENTENCES,
  META_FILE,
  type IndexMeta,
  type AnnParams,
  type ArticleRow,
  type SentenceRow,
  type ArticleInfo,
  type OpenOptions,
} from './store';
export {
  addFiles,
  abstractSentences,
  citationHash,
  type AddOptions,
  type BuildDeps,
  type BuildProgress,
  type BuildSummary,
  type Reject,
} from './build';
export {
  search,
  similarSentences,
  neighbours,
  rrf,
  GENERATED_NOTE,
  type SearchMode,
  type SearchFilters,
  type SearchOptions,
  type SearchHit,
  type SearchResult,
  type BestSentence,
  type SentenceHit,
  type SentencesResult,
  type Neighbour,
} from './search';
export { ndcgAt, recallAt, mrrAt, evaluateRuns, type Qrels, type MeanMetrics } from './metrics';
export { ensureGeneratedModel } from './model';
