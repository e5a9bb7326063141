// meta.json of an index: which model made the vectors, the format, the vector index parameters, the release.
// The schema is the type (IndexMeta is derived from it); no LanceDB here, so the extension reads it cheaply.
import * as path from 'node:path';
import * as v from 'valibot';
import { ModelIdentitySchema } from '../inference/types';
import { nonNegativeInt, parseJson, positiveInt, readJsonIfExists } from '../util/json';

export const META_FILE = 'meta.json';

export const AnnParamsSchema = v.object({
  type: v.picklist(['IVF_RQ', 'IVF_PQ', 'IVF_HNSW_SQ']),
  rows: nonNegativeInt,
  numPartitions: positiveInt,
  numSubVectors: v.optional(positiveInt),
  /** IVF_RQ code bits per dimension (absent: 1, the LanceDB default, as indexes built before 4-bit codes). */
  numBits: v.optional(positiveInt),
  nprobes: positiveInt,
  refineFactor: v.number(),
  builtAt: v.string(),
  buildSeconds: v.number(),
});
export type AnnParams = v.InferOutput<typeof AnnParamsSchema>;

/** Element type of the vector columns: float16 halves the vectors (measured: `npm run bench -- storage`). */
export const VECTOR_TYPES = ['float32', 'float16'] as const;
export type VectorType = (typeof VECTOR_TYPES)[number];
/** Which citations have sentence rows: every one, the writer's bibliography items, or none. */
export const SENTENCE_SCOPES = ['all', 'library', 'none'] as const;
export type SentenceScope = (typeof SENTENCE_SCOPES)[number];

export const IndexMetaSchema = v.object({
  format: positiveInt,
  model: ModelIdentitySchema,
  /** The model folder last used to build it (a hint for the CLI's default --model). */
  modelDir: v.optional(v.string()),
  createdAt: v.string(),
  updatedAt: v.string(),
  /** Format 1 only: per input file, the last completed build (now the `files` table; migrated on first write). */
  files: v.optional(
    v.record(v.string(), v.object({ size: nonNegativeInt, mtimeMs: v.number(), completedAt: v.string() })),
  ),
  /** Set by `biohicl index finalize`: the release tag and when. */
  release: v.optional(v.object({ tag: v.string(), version: nonNegativeInt, at: v.string() })),
  /** Vector index parameters in use (absent while tables are searched flat). */
  ann: v.optional(v.record(v.string(), AnnParamsSchema)),
  /** How the vectors of both tables are stored (absent: float32, every index made before the option). Chosen by
   * the writer that creates the index; every later writer uses it (asking for another is refused). */
  vectorType: v.optional(v.picklist(VECTOR_TYPES)),
  /** Which citations get sentence rows (text + vector): all (absent: every index made before the option), those
   * of the writer's own bibliography files only, or none. Outside the scope, "similar sentences" come from the
   * best-matching papers' abstracts, embedded at query time (on-demand.ts scopedSimilarSentences). */
  sentenceScope: v.optional(v.picklist(SENTENCE_SCOPES)),
});
export type IndexMeta = v.InferOutput<typeof IndexMetaSchema>;

/** meta.json's text, checked; `where` names it in the error (the index location + `/meta.json`). */
export function parseIndexMeta(text: string, where: string): IndexMeta {
  return parseJson(text, IndexMetaSchema, where);
}

/** `${indexDir}/meta.json` of a local index, or undefined when there is none; a damaged one throws (JsonError). */
export function readIndexMetaFile(indexDir: string): IndexMeta | undefined {
  return readJsonIfExists(path.join(indexDir, META_FILE), IndexMetaSchema);
}
