// Which model built an index, and which model folder on this machine is that model: for the in-editor ways out of a
// model mismatch ("rebuild the index with this model" or "switch back to the model that built it"). Reads meta.json
// and manifests only (no LanceDB, no onnxruntime).
import type { ModelIdentity } from '../inference/types';
import { readIndexMetaFile } from '../index/meta';

export interface IndexModelInfo {
  model?: ModelIdentity;
  /** the model folder last used to build the index (recorded by the builder) */
  modelDir?: string;
  /** the files the index was built from, as meta.json lists them (format 1; see indexFiles) */
  files: string[];
}

/**
 * Which model built the index at `indexDir` (its meta.json), or undefined when there is none or it cannot be used
 * (opening the index names a damaged meta.json and how to recover).
 */
export function readIndexMeta(indexDir: string): IndexModelInfo | undefined {
  try {
    const meta = readIndexMetaFile(indexDir);
    return meta && { model: meta.model, modelDir: meta.modelDir, files: Object.keys(meta.files ?? {}) };
  } catch {
    return undefined;
  }
}

/**
 * The files an index was built from: its files table (index format 2), else meta.json's list (format 1). Opens the
 * index read-only, whatever model built it.
 */
export async function indexFiles(indexDir: string): Promise<string[]> {
  const listed = readIndexMeta(indexDir)?.files ?? [];
  if (listed.length) return listed;
  try {
    const { IndexStore } = await import('../index/store');
    const store = await IndexStore.open(indexDir, undefined);
    try {
      return [...(await store.fileRecords()).values()]
        .filter((f) => f.status === 'complete' || f.status === undefined)
        .map((f) => f.path);
    } finally {
      store.close();
    }
  } catch {
    return [];
  }
}

/** A model mismatch from the index (ModelMismatchError, exit code 3), told apart without loading LanceDB. */
export function isModelMismatch(e: unknown): boolean {
  const err = e as { exitCode?: number; message?: string; name?: string } | undefined;
  return (
    !!err && (err.exitCode === 3 || err.name === 'ModelMismatchError') && /was built with model/.test(err.message ?? '')
  );
}

/** Same model, whatever the query-prefix setting (it changes query vectors only). */
export function sameWeights(a: ModelIdentity, b: ModelIdentity): boolean {
  return (
    a.repo === b.repo &&
    a.revision === b.revision &&
    a.manifestHash === b.manifestHash &&
    a.dim === b.dim &&
    a.generated === b.generated
  );
}

/** The first candidate folder that holds the model `want` (its manifest gives the same identity). */
export async function findModelDir(
  want: ModelIdentity,
  candidates: (string | undefined)[],
): Promise<string | undefined> {
  const { modelIdentity } = await import('../inference/identity');
  for (const dir of [...new Set(candidates.filter((c): c is string => !!c))]) {
    try {
      if (sameWeights(modelIdentity(dir, want.queryPrefix), want)) return dir;
    } catch {
      /* no manifest there */
    }
  }
  return undefined;
}

/** "generated:base@… (GENERATED)" → words for a button or message. */
export function modelLabel(m: ModelIdentity | undefined, dir?: string): string {
  if (!m) return dir ?? 'the model that built it';
  return `${m.repo}${m.generated ? ' (generated weights)' : ''}`;
}

/**
 * A model file that differs from its manifest (ModelIntegrityError, exit code 4 "no usable model there"), told apart
 * from other load failures; through the inference worker it arrives as an EmbedderError with code 'load' and the
 * integrity check's message.
 */
export function isModelDamaged(e: unknown): boolean {
  const err = e as { exitCode?: number; message?: string; name?: string; code?: string } | undefined;
  if (!err || typeof err.message !== 'string') return false;
  if (err.name === 'ModelIntegrityError') return true;
  return (
    (err.code === 'load' || err.exitCode === 4) &&
    /does not match the model manifest|missing, but .*manifest\.json lists it|not listed with a sha256 in .*so it cannot be checked|is outside the model folder; refusing to load/.test(
      err.message,
    )
  );
}
