// Merges a PEFT LoRA adapter into a base state dict: W' = W + s·B·A for every adapted module, where
// s = lora_alpha / r (or lora_alpha / sqrt(r) with use_rslora), honouring rank_pattern / alpha_pattern,
// fan_in_fan_out (weights stored [in, out]) and embedding adapters (lora_embedding_A/B).
// PEFT key forms accepted: `base_model.model.<module>.lora_A.weight`, `.lora_A.<adapter>.weight`, and the same for
// lora_B; other adapter tensors (modules_to_save, trained biases) replace the base tensor of the same name.
import * as v from 'valibot';
import type { StateDict, Tensor } from './tensor';
import { checkJson, positiveInt } from '../../util/json';

const numberMap = v.nullish(v.record(v.string(), v.number('expected a map of module names to numbers')));

/** adapter_config.json (PEFT), the fields the merge reads (other fields are kept as they are). */
export const LoraConfigSchema = v.looseObject({
  peft_type: v.optional(v.literal('LORA', 'expected "LORA" (only LoRA adapters can be merged)')),
  r: positiveInt,
  lora_alpha: v.pipe(v.number('expected a number'), v.finite('expected a number')),
  target_modules: v.nullish(
    v.union([v.array(v.string()), v.string()], 'expected a list of module names or a regular expression'),
  ),
  fan_in_fan_out: v.optional(v.boolean()),
  use_rslora: v.optional(v.boolean()),
  rank_pattern: numberMap,
  alpha_pattern: numberMap,
  base_model_name_or_path: v.nullish(v.string()),
  use_dora: v.nullish(v.literal(false, 'DoRA adapters are not supported (only plain LoRA): expected false')),
});
export type LoraConfig = v.InferOutput<typeof LoraConfigSchema>;

/** Validates an adapter_config.json object; errors name the file, the field and the value. */
export function parseLoraConfig(json: unknown, file = 'adapter_config.json'): LoraConfig {
  return checkJson(json, LoraConfigSchema, file);
}

/** PEFT's rule for whether module `name` is targeted: regex full-match, or exact / suffix `.target` match. */
function isTargeted(name: string, tm: LoraConfig['target_modules']): boolean {
  if (tm === undefined || tm === null) return true;
  if (typeof tm === 'string') return new RegExp(`^(?:${tm})$`).test(name);
  return tm.some((t) => name === t || name.endsWith(`.${t}`));
}

/** rank_pattern / alpha_pattern lookup as PEFT does it: the first key whose `.*\.key$` matches the module name. */
function patternValue(pattern: Record<string, number> | null | undefined, name: string): number | undefined {
  if (!pattern) return undefined;
  for (const [k, v] of Object.entries(pattern)) {
    if (name === k || new RegExp(`(^|\\.)${k}$`).test(name)) return v;
  }
  return undefined;
}

const LORA_KEY = /^(.*)\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B)(?:\.([^.]+))?(?:\.weight)?$/;

function stripPrefix(key: string): string {
  return key.startsWith('base_model.model.') ? key.slice('base_model.model.'.length) : key;
}

/** Finds the base key for a module parameter, allowing for a `bert.` prefix on either side. */
function findBaseKey(base: StateDict, param: string): string | undefined {
  if (base.has(param)) return param;
  if (base.has(`bert.${param}`)) return `bert.${param}`;
  if (param.startsWith('bert.') && base.has(param.slice(5))) return param.slice(5);
  return undefined;
}

function asF32(t: Tensor, what: string): Float32Array {
  if (!(t.data instanceof Float32Array))
    throw new Error(`LoRA merge: ${what} is ${t.dtype}, expected a floating tensor`);
  return t.data;
}

/**
 * Returns a new state dict: `base` with the adapter merged in (base tensors that are not changed are shared, the
 * merged ones are fresh arrays; `base` itself is not modified). Throws, naming the module, when an adapted or
 * targeted module is missing from the base, when lora_A/lora_B do not pair up, or when shapes disagree.
 */
export function mergeLora(
  base: StateDict,
  adapter: StateDict,
  adapterConfig: unknown,
  file = 'adapter_config.json',
): StateDict {
  const cfg = parseLoraConfig(adapterConfig, file);
  const pairs = new Map<string, { A?: Tensor; B?: Tensor; embedding: boolean }>();
  const replaced = new Map<string, Tensor>();
  for (const [key, t] of adapter) {
    const k = stripPrefix(key);
    if (/\.lora_[A-Za-z_]+(?:\.[^.]+)?\.bias$/.test(k)) {
      throw new Error(`${file}: adapter tensor '${key}' is a LoRA bias (lora_bias), which this merge does not support`);
    }
    const m = LORA_KEY.exec(k);
    if (m) {
      const [, module, kind] = m;
      const p = pairs.get(module) ?? { embedding: kind.startsWith('lora_embedding'), A: undefined, B: undefined };
      if (kind.endsWith('A')) p.A = t;
      else p.B = t;
      pairs.set(module, p);
    } else if (/\.lora_[A-Za-z_]+/.test(k) || k.includes('lora_magnitude')) {
      throw new Error(`${file}: adapter tensor '${key}' is not a LoRA A/B weight this merge understands`);
    } else {
      // modules_to_save (`x.modules_to_save.default.weight` or plain `x.weight`) and trained biases.
      replaced.set(k.replace(/\.modules_to_save(?:\.[^.]+)?\./, '.'), t);
    }
  }
  if (pairs.size === 0) throw new Error(`${file}: the adapter holds no lora_A/lora_B weights`);

  // Every target module named in the config must exist in the base.
  if (Array.isArray(cfg.target_modules)) {
    const moduleNames = [...base.keys()].filter((k) => k.endsWith('.weight')).map((k) => k.slice(0, -'.weight'.length));
    for (const t of cfg.target_modules) {
      if (!moduleNames.some((n) => n === t || n.endsWith(`.${t}`))) {
        throw new Error(`${file}: target module '${t}' is not present in the base model's weights`);
      }
    }
  }

  const out: StateDict = new Map(base);
  for (const [module, { A, B, embedding }] of pairs) {
    if (!A || !B)
      throw new Error(`${file}: module '${module}' has ${A ? 'lora_A' : 'lora_B'} but no ${A ? 'lora_B' : 'lora_A'}`);
    if (!isTargeted(module, cfg.target_modules)) {
      throw new Error(
        `${file}: the adapter has weights for '${module}', which target_modules ${JSON.stringify(cfg.target_modules)} does not name`,
      );
    }
    const baseKey = findBaseKey(base, `${module}.weight`);
    if (!baseKey)
      throw new Error(`${file}: adapted module '${module}' has no weight '${module}.weight' in the base model`);
    const W = base.get(baseKey)!;
    if (W.shape.length !== 2) throw new Error(`${file}: base weight '${baseKey}' has shape [${W.shape}], expected 2-D`);
    const r = A.shape[0];
    const r2 = B.shape[1];
    // Shapes: linear A [r, in], B [out, r]; embedding A [r, num], B [dim, r].
    if (embedding) {
      if (A.shape.length !== 2 || B.shape.length !== 2 || r !== r2)
        throw new Error(`${file}: '${module}' embedding LoRA shapes A [${A.shape}] B [${B.shape}] do not pair`);
    } else if (A.shape.length !== 2 || B.shape.length !== 2 || r !== r2) {
      throw new Error(`${file}: '${module}' LoRA shapes A [${A.shape}] B [${B.shape}] do not pair`);
    }
    const expectR = patternValue(cfg.rank_pattern, module) ?? cfg.r;
    if (r !== expectR)
      throw new Error(`${file}: '${module}' has rank ${r} in the weights but ${expectR} in the config`);
    const alpha = patternValue(cfg.alpha_pattern, module) ?? cfg.lora_alpha;
    const scale = cfg.use_rslora ? alpha / Math.sqrt(r) : alpha / r;

    // delta = B @ A has shape [B.rows, A.cols]. Linear: W [out, in] (or [in, out] with fan_in_fan_out → delta^T).
    // Embedding: W [num, dim] and delta is (B @ A)^T.
    const rows = B.shape[0];
    const cols = A.shape[1];
    const transpose = embedding || !!cfg.fan_in_fan_out;
    const [wr, wc] = transpose ? [cols, rows] : [rows, cols];
    if (W.shape[0] !== wr || W.shape[1] !== wc) {
      throw new Error(`${file}: '${module}' LoRA delta is [${wr}, ${wc}] but base weight '${baseKey}' is [${W.shape}]`);
    }
    const a = asF32(A, `${module} lora_A`);
    const b = asF32(B, `${module} lora_B`);
    const w = asF32(W, baseKey);
    const merged = new Float32Array(w.length);
    // Accumulate in float64 per element: out[i][j] = w + scale * sum_k B[i][k] A[k][j].
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += b[i * r + k] * a[k * cols + j];
        const idx = transpose ? j * rows + i : i * cols + j;
        merged[idx] = w[idx] + scale * s;
      }
    }
    out.set(baseKey, { dtype: 'float32', shape: [...W.shape], data: merged });
  }
  for (const [k, t] of replaced) {
    const baseKey = findBaseKey(base, k);
    if (!baseKey) throw new Error(`${file}: adapter tensor '${k}' has no counterpart in the base model`);
    const bt = base.get(baseKey)!;
    if (bt.shape.join(',') !== t.shape.join(',')) {
      throw new Error(`${file}: adapter tensor '${k}' is [${t.shape}] but the base has [${bt.shape}]`);
    }
    out.set(baseKey, t);
  }
  return out;
}
