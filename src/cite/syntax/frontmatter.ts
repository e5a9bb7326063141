// YAML metadata: the front matter of Markdown/Quarto/R Markdown documents and whole YAML files (Manubot's
// content/metadata.yaml). The one place that reads and edits it, with the `yaml` library's Document API: values are
// read from the parsed document, and edits are minimal text edits at the node ranges the parser reports, so the
// writer's formatting, quoting and comments stay as they are (the edited text is parsed again and checked). Pure.
import { parseDocument, stringify, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import { splitNewItems, type TextEdit } from './common';

/** Where the YAML of a document is: the front matter's body (between a leading `---` and `---`/`...`). */
export interface FrontMatter {
  /** the YAML text */
  body: string;
  /** offset of the body in the document */
  bodyStart: number;
  /** offset just after the closing fence line */
  end: number;
}

/** The front matter of a Markdown/Quarto/R Markdown document (Pandoc's rule: it opens the document). */
export function frontMatter(text: string): FrontMatter | undefined {
  const m = /^(\uFEFF?---[ \t]*\r?\n)(?:([\s\S]*?)\r?\n)??(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/.exec(text);
  return m ? { body: m[2] ?? '', bodyStart: (m[1] ?? '').length, end: m[0].length } : undefined;
}

function parse(yamlText: string): Document.Parsed {
  return parseDocument(yamlText, { prettyErrors: false, uniqueKeys: false });
}

/** A top-level value of a YAML text, as plain data (undefined when absent or the YAML is not a mapping). */
export function yamlValue(yamlText: string, key: string): unknown {
  const doc = parse(yamlText);
  if (!isMap(doc.contents)) return undefined;
  const v = doc.get(key, true) as Node | undefined;
  return v === undefined ? undefined : (v.toJSON() as unknown);
}

/** A top-level value of a document's front matter (undefined when there is no front matter or no such key). */
export function frontMatterValue(text: string, key: string): unknown {
  const fm = frontMatter(text);
  return fm ? yamlValue(fm.body, key) : undefined;
}

/** A top-level list of strings (or one string) of a YAML text: `key: x`, `key: [a, b]`, a block list. */
export function yamlStrings(yamlText: string, key: string): string[] {
  const v = yamlValue(yamlText, key);
  const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return list
    .filter((x) => typeof x === 'string' || typeof x === 'number')
    .map((x) => String(x).trim())
    .filter(Boolean);
}

/** The same for a document's front matter. */
export function frontMatterStrings(text: string, key: string): string[] {
  const fm = frontMatter(text);
  return fm ? yamlStrings(fm.body, key) : [];
}

/** `bibliography:` from YAML front matter: a scalar, a flow list `[a.bib, b.json]` or a block list. */
export function yamlBibliography(text: string): string[] {
  return frontMatterStrings(text, 'bibliography');
}

/** A string as one item of a flow list (`[a, "b, c"]`): quoted whenever a plain scalar would be read otherwise. */
function flowItem(s: string, singleQuote: boolean): string {
  const out = stringify([s], { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0, singleQuote });
  return out.trim().slice(1, -1);
}

/** A string as a block-context scalar (`- Carcinoma, Hepatocellular`). */
function blockItem(s: string, singleQuote: boolean): string {
  return stringify(s, { lineWidth: 0, singleQuote }).replace(/\n$/, '');
}

function lineEnd(text: string, at: number): number {
  const i = text.indexOf('\n', at);
  return i < 0 ? text.length : i;
}

function lineStart(text: string, at: number): number {
  return text.lastIndexOf('\n', at - 1) + 1;
}

export interface ListAddition {
  /** edits to the YAML text (offsets into it) */
  edits: TextEdit[];
  /** the items added, in order */
  added: string[];
  /** the items asked for that the list had already (compared without case) */
  present: string[];
  /** the list before */
  before: string[];
}

/**
 * Add strings to the top-level list `key` of a YAML text, keeping everything else as written: a flow list
 * `[statins]` gets `, "Carcinoma, Hepatocellular"` (quoted as YAML needs), a block list a new `- …` line in its own
 * indentation, a single string becomes a flow list, and an absent key a block list at the end. Items already in the
 * list are not added again. Throws (naming the YAML problem) on YAML it cannot edit safely.
 */
export function yamlAddToList(yamlText: string, key: string, items: string[]): ListAddition {
  const doc = parse(yamlText);
  if (doc.errors.length) throw new Error(`the YAML cannot be read: ${doc.errors[0]!.message.split('\n')[0]}`);
  if (doc.contents !== null && !isMap(doc.contents)) throw new Error('the YAML is not a mapping of keys to values');
  const before = yamlStrings(yamlText, key);
  const { added, present } = splitNewItems(before, items);
  const result: ListAddition = { edits: [], added, present, before };
  if (!added.length) return result;
  const map = isMap(doc.contents) ? doc.contents : undefined;
  const pair = map?.items.find((p) => isScalar(p.key) && p.key.value === key);
  const value = pair?.value as Node | null | undefined;
  const quotedSingle = (n: Node | null | undefined): boolean => isScalar(n) && n.type === 'QUOTE_SINGLE';
  let edits: TextEdit[];
  const range = value?.range ?? [0, 0, 0];
  if (isSeq(value) && value.flow) {
    const single = value.items.some((i) => quotedSingle(i as Node));
    const close = range[1] - 1; // the `]`
    let p = close;
    while (p > range[0] && /\s/.test(yamlText[p - 1] ?? '')) p--;
    const lead = value.items.length ? ', ' : '';
    edits = [{ start: p, end: p, text: lead + added.map((s) => flowItem(s, single)).join(', ') }];
  } else if (isSeq(value)) {
    const single = value.items.some((i) => quotedSingle(i as Node));
    const last = value.items[value.items.length - 1] as Node | undefined;
    const first = value.items[0] as Node | undefined;
    const firstAt = first?.range?.[0] ?? range[0];
    // the column of the first item's `-`
    const ls = lineStart(yamlText, firstAt);
    const dash = yamlText.lastIndexOf('-', firstAt);
    const indent = yamlText.slice(ls, dash >= ls ? dash : ls).replace(/\S/g, ' ');
    const after = lineEnd(yamlText, last?.range?.[1] ?? range[0]);
    const nl = /\r\n/.test(yamlText) ? '\r\n' : '\n';
    edits = [
      {
        start: after,
        end: after,
        text: added.map((s) => `${nl}${indent}- ${blockItem(s, single)}`).join(''),
      },
    ];
  } else if (isScalar(value) && value.value !== null && value.value !== '') {
    // `keywords: statins` → `keywords: [statins, "Carcinoma, Hepatocellular"]`
    const single = quotedSingle(value);
    const list = [String(value.value), ...added].map((s) => flowItem(s, single)).join(', ');
    edits = [{ start: range[0], end: range[1], text: `[${list}]` }];
  } else if (pair && value && !isScalar(value)) {
    throw new Error(`${key}: holds something other than a list of strings`);
  } else if (pair && isScalar(pair.key)) {
    // `keywords:` with nothing (or an empty string) after it
    const colon = yamlText.indexOf(':', pair.key.range![1]);
    const end = isScalar(value) ? range[1] : colon + 1;
    const list = added.map((s) => flowItem(s, false)).join(', ');
    edits = [{ start: colon + 1, end: Math.max(colon + 1, end), text: ` [${list}]` }];
  } else if (pair) {
    throw new Error(`${key}: has a key YAML cannot be edited at`);
  } else {
    const nl = /\r\n/.test(yamlText) ? '\r\n' : '\n';
    const trimmed = yamlText.replace(/\s+$/, '');
    const at = trimmed.length;
    const block = `${key}:${added.map((s) => `${nl}  - ${blockItem(s, false)}`).join('')}`;
    edits = [{ start: at, end: at, text: `${at ? nl : ''}${block}` }];
  }
  // the edited YAML must read back as the old list plus the new items, and nothing else changed
  let next = yamlText;
  for (const e of [...edits].sort((a, b) => b.start - a.start))
    next = next.slice(0, e.start) + e.text + next.slice(e.end);
  const check = parse(next);
  const got = yamlStrings(next, key);
  const want = [...before, ...added];
  const othersBefore = JSON.stringify({ ...(doc.toJSON() as object), [key]: null });
  const othersAfter = JSON.stringify({ ...(check.toJSON() as object), [key]: null });
  if (check.errors.length || JSON.stringify(got) !== JSON.stringify(want) || othersBefore !== othersAfter)
    throw new Error(`could not add to ${key}: safely (the edited YAML would read ${JSON.stringify(got)})`);
  result.edits = edits;
  return result;
}

/**
 * Add strings to the list `key` of a document's front matter (offsets into the document); a document without front
 * matter gets one.
 */
export function frontMatterAddToList(text: string, key: string, items: string[]): ListAddition {
  const fm = frontMatter(text);
  if (!fm) {
    const r = yamlAddToList('', key, items);
    const body = r.edits.map((e) => e.text).join('');
    return { ...r, edits: r.added.length ? [{ start: 0, end: 0, text: `---\n${body}\n---\n\n` }] : [] };
  }
  const r = yamlAddToList(fm.body, key, items);
  return { ...r, edits: r.edits.map((e) => ({ ...e, start: e.start + fm.bodyStart, end: e.end + fm.bodyStart })) };
}

/**
 * Set a top-level string `key: value` in a document's front matter when the key is absent (a new line at its end);
 * a document without front matter gets one. Returns no edit when the key is there already.
 */
export function frontMatterSetIfAbsent(text: string, key: string, value: string): TextEdit | undefined {
  const fm = frontMatter(text);
  const line = `${key}: ${blockItem(value, false)}`;
  if (!fm) return { start: 0, end: 0, text: `---\n${line}\n---\n\n` };
  if (frontMatterValue(text, key) !== undefined) return undefined;
  const at = fm.bodyStart + fm.body.replace(/\s+$/, '').length;
  return { start: at, end: at, text: `${at > fm.bodyStart ? '\n' : ''}${line}` };
}
