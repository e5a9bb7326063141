// The PubMedQA file (data/demo/pubmedqa-pqal-dev.json) read whole for the benchmarks: PMID → entry, checked (the
// index reads it with the streaming reader, src/index/readers/pubmedqa.ts).
import * as v from 'valibot';
import { readJson } from '../../util/json';

const PubmedQaFileSchema = v.record(
  v.string(),
  v.looseObject({ QUESTION: v.string(), CONTEXTS: v.array(v.string()), MESHES: v.optional(v.array(v.string())) }),
);
export type PubmedQaFile = v.InferOutput<typeof PubmedQaFileSchema>;

export function readPubmedQaFile(file: string): PubmedQaFile {
  return readJson(file, PubmedQaFileSchema);
}
