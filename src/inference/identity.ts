// Model identity from a model folder's manifest. No onnxruntime here: the client (main thread, extension host)
// reads it without loading the native runtime.
import type { ModelIdentity } from './types';
import { manifestHash, readManifest } from './manifest';

/** The bge query instruction, prepended to queries (kind 'query') when the queryPrefix setting is on. */
export const BGE_QUERY_PREFIX = 'Represent this sentence for searching relevant passages: ';

export function modelIdentity(modelDir: string, queryPrefix: boolean): ModelIdentity {
  const m = readManifest(modelDir);
  return {
    repo: m.source.repo,
    revision: m.source.revision,
    manifestHash: manifestHash(modelDir),
    dim: m.dim,
    pooling: m.pooling ?? 'cls',
    queryPrefix,
    generated: !!m.source.generated,
  };
}
