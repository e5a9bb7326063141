// The one way the project reads JSON: read, parse and check against a valibot schema, in one call. A file that is
// not JSON, or that does not have the shape its schema describes, is refused with a message naming the file, the
// field path and the value found, e.g. `…/meta.json: model.dim: expected a positive integer, got "768"`.
//
// Schemas live next to the type they describe, and that type is derived from the schema (`v.InferOutput`), so a
// shape is written once.
import * as fs from 'node:fs';
import * as v from 'valibot';
import { errorText } from './errors';

export type AnySchema = v.GenericSchema<any, any>;

/** A JSON file (or message) that is not JSON or does not have the expected shape. */
export class JsonError extends Error {
  constructor(
    message: string,
    /** the file (or other source) that was read */
    readonly where: string,
    /** the field path of the first problem (`model.dim`, `files[2].path`); absent for syntax errors */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'JsonError';
  }
}

/** Parses `text` (JSON) and checks it against `schema`; `where` names the source in the error (usually the file). */
export function parseJson<S extends AnySchema>(text: string, schema: S, where: string): v.InferOutput<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new JsonError(`${where}: not valid JSON (${errorText(e)})`, where);
  }
  return checkJson(value, schema, where);
}

/** Reads, parses and checks a JSON file. A file that cannot be read throws Node's error, with its `code` (ENOENT…). */
export function readJson<S extends AnySchema>(file: string, schema: S, where: string = file): v.InferOutput<S> {
  return parseJson(fs.readFileSync(file, 'utf8'), schema, where);
}

/** readJson, or undefined when the file does not exist. */
export function readJsonIfExists<S extends AnySchema>(
  file: string,
  schema: S,
  where: string = file,
): v.InferOutput<S> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseJson(text, schema, where);
}

/** Checks an already parsed value (a message, a column decoded elsewhere) against `schema`. */
export function checkJson<S extends AnySchema>(value: unknown, schema: S, where: string): v.InferOutput<S> {
  const r = v.safeParse(schema, value, { abortPipeEarly: true });
  if (r.success) return r.output;
  const issue = r.issues[0];
  const field = fieldPath(issue);
  throw new JsonError(`${where}: ${field || '(top level)'}: ${describeIssue(issue)}`, where, field || undefined);
}

/** `model.dim`, `files[2].path`, `outputs["a b"]`: the path of an issue as one would write it in JavaScript. */
function fieldPath(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const k = item.key;
    if (typeof k === 'number') out += `[${k}]`;
    else if (typeof k === 'string' && /^[A-Za-z_$][\w$]*$/.test(k)) out += out ? `.${k}` : k;
    else out += `[${JSON.stringify(String(k))}]`;
  }
  return out;
}

/** A value as it appears in a message: JSON, cut to a readable length. */
export function shownValue(x: unknown): string {
  let s: string;
  try {
    s = x === undefined ? 'undefined' : (JSON.stringify(x) ?? String(x));
  } catch {
    s = String(x);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Messages written in a schema (`v.number('expected a positive integer')`) are used as they are; valibot's own
 * defaults ("Invalid type: …") are replaced by "expected X, got Y". */
function describeIssue(issue: v.BaseIssue<unknown>): string {
  const got = shownValue(issue.input);
  if (issue.kind === 'schema' && /object$/.test(issue.type) && issue.input === undefined && issue.path?.length)
    return 'missing';
  if (!/^Invalid \w+:/.test(issue.message)) return `${issue.message}, got ${got}`;
  if (issue.type === 'integer') return `expected an integer, got ${got}`;
  if (issue.expected) return `expected ${issue.expected}, got ${got}`;
  return `${issue.message.replace(/^Invalid \w+: /, '')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Schemas several files use.

/** An integer ≥ 1. */
export const positiveInt = v.pipe(
  v.number('expected a positive integer'),
  v.integer('expected a positive integer'),
  v.minValue(1, 'expected a positive integer'),
);

/** An integer ≥ 0. */
export const nonNegativeInt = v.pipe(
  v.number('expected an integer ≥ 0'),
  v.integer('expected an integer ≥ 0'),
  v.minValue(0, 'expected an integer ≥ 0'),
);

/** A lower-case hex sha256. */
export const sha256Hex = v.pipe(
  v.string('expected a sha256 (64 hex digits)'),
  v.regex(/^[0-9a-f]{64}$/, 'expected a sha256 (64 hex digits)'),
);

/** A lower-case hex md5. */
export const md5Hex = v.pipe(
  v.string('expected an md5 (32 hex digits)'),
  v.regex(/^[0-9a-f]{32}$/, 'expected an md5 (32 hex digits)'),
);

/** Any JSON object (its fields are read by a library or checked field by field where they are used). */
export const jsonObject = v.custom<Record<string, unknown>>(
  (x) => !!x && typeof x === 'object' && !Array.isArray(x),
  'expected a JSON object',
);
