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
