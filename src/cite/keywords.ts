// Keywords for a manuscript: what it is about (title and abstract, or the writer's selection) as the text MeSH
// headings are suggested for, and the edit that puts chosen headings into the document's keyword field (YAML
// `keywords:` of the front matter or of Manubot's metadata.yaml, LaTeX `\keywords{}` or the journal's keyword
// environment). The syntax-specific parts are in ./syntax/{frontmatter,latex,pandoc}.ts. Pure.
import type { DocKind } from './detect';
import { queryText } from './detect';
import type { TextEdit } from './syntax/common';
import {
  frontMatterAddToList,
  frontMatterStrings,
  frontMatterValue,
  yamlAddToList,
  yamlStrings,
  yamlValue,
} from './syntax/frontmatter';
import { latexAbstract, latexKeywordEdit, latexKeywordField, latexTitle } from './syntax/latex';
import { markdownSection } from './syntax/pandoc';

export interface ManuscriptText {
  title?: string;
  abstract?: string;
  /** what the query is made of, for the writer: "the title and abstract", "the selection", … */
  from: string;
  /** the query text (markup removed) */
  text: string;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (Array.isArray(v))
    return (
      v
        .filter((x) => typeof x === 'string')
        .join(' ')
        .trim() || undefined
    );
  return undefined;
}

/**
 * The manuscript's title and abstract: YAML `title:`/`abstract:` (front matter, or Manubot's `metadata.yaml`), a
 * Markdown `Abstract` section, LaTeX `\title{}` and the `abstract` environment. A selection, when given, is used instead.
 */
export function manuscriptText(
  text: string,
  kind: DocKind,
  opts: { selection?: string; metadataYaml?: string } = {},
): ManuscriptText | undefined {
  const sel = opts.selection?.trim() ? queryText(opts.selection, kind) : '';
  if (sel) return { from: 'the selection', text: sel };
  let title: string | undefined;
  let abstract: string | undefined;
  if (kind === 'latex') {
    title = latexTitle(text);
    abstract = latexAbstract(text);
  } else if (kind === 'pandoc' || kind === 'manubot') {
    title =
      str(frontMatterValue(text, 'title')) ??
      (opts.metadataYaml ? str(yamlValue(opts.metadataYaml, 'title')) : undefined);
    abstract =
      str(frontMatterValue(text, 'abstract')) ??
      (opts.metadataYaml ? str(yamlValue(opts.metadataYaml, 'abstract')) : undefined) ??
      markdownSection(text, /^abstract$/i);
  }
  const parts = [title, abstract].filter((x): x is string => !!x).map((x) => queryText(x, kind));
  if (!parts.join('').trim()) return undefined;
  const from = title && abstract ? 'the title and abstract' : title ? 'the title' : 'the abstract';
  return { title, abstract, from, text: parts.join('. ').replace(/\.\s*\./g, '.') };
}

/** The keywords a manuscript has already. */
export function manuscriptKeywords(text: string, kind: DocKind, metadataYaml?: string): string[] {
  if (kind === 'latex') return latexKeywordField(text)?.items ?? [];
  if (kind === 'manubot' && metadataYaml !== undefined) return yamlStrings(metadataYaml, 'keywords');
  if (kind === 'pandoc') return frontMatterStrings(text, 'keywords');
  return [];
}

export interface KeywordEdits {
  /** edits to the document */
  edits: TextEdit[];
  /** edits to Manubot's metadata.yaml (when its keywords are there) */
  metadataEdits?: TextEdit[];
  added: string[];
  present: string[];
  /** where they went: "YAML keywords:", "\\keywords{}", "metadata.yaml keywords:", or "the cursor" */
  where: string;
}

/**
 * Add terms to the manuscript's keyword field. Manubot: `keywords:` of metadata.yaml when given; Pandoc: the front
 * matter's `keywords:` (made when absent); LaTeX: the keyword field when there is one. Without a field (LaTeX with
 * none, Manubot without metadata.yaml, plain text), the terms go at the cursor.
 */
export function keywordEdits(
  text: string,
  kind: DocKind,
  cursor: number,
  terms: string[],
  opts: { metadataYaml?: string } = {},
): KeywordEdits {
  if (kind === 'manubot' && opts.metadataYaml !== undefined) {
    const r = yamlAddToList(opts.metadataYaml, 'keywords', terms);
    return { edits: [], metadataEdits: r.edits, added: r.added, present: r.present, where: 'metadata.yaml keywords:' };
  }
  if (kind === 'pandoc') {
    const r = frontMatterAddToList(text, 'keywords', terms);
    return { edits: r.edits, added: r.added, present: r.present, where: 'the YAML keywords:' };
  }
  if (kind === 'latex') {
    const r = latexKeywordEdit(text, terms);
    if (r) return { edits: r.edit ? [r.edit] : [], added: r.added, present: r.present, where: r.where };
  }
  const list = [...new Set(terms.map((t) => t.trim()).filter(Boolean))];
  return {
    edits: list.length ? [{ start: cursor, end: cursor, text: list.join(kind === 'latex' ? ', ' : '; ') }] : [],
    added: list,
    present: [],
    where: 'the cursor',
  };
}
