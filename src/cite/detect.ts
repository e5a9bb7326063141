// What kind of manuscript a document is and where its bibliography lives. Pure: text in, paths (relative) out. The
// syntax-specific parts are in ./syntax/{latex,pandoc,manubot,plain}.ts.
import { latexBibliography, latexQueryText } from './syntax/latex';
import { pandocQueryText } from './syntax/pandoc';
import { frontMatter, yamlBibliography } from './syntax/frontmatter';
import { looksManubot } from './syntax/manubot';

export { latexBibliography, frontMatter, yamlBibliography, looksManubot };

export type DocKind = 'latex' | 'pandoc' | 'manubot' | 'plain';

export function docKind(languageId: string, fileName: string, text: string): DocKind {
  const ext = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? '';
  if (['latex', 'tex', 'context'].includes(languageId) || ['tex', 'ltx', 'latex'].includes(ext)) return 'latex';
  if (
    ['markdown', 'quarto', 'rmd', 'pandoc', 'rmarkdown'].includes(languageId) ||
    ['md', 'qmd', 'rmd', 'markdown', 'pandoc'].includes(ext)
  ) {
    return looksManubot(fileName, text) ? 'manubot' : 'pandoc';
  }
  return 'plain';
}

export type BibFormat = 'bibtex' | 'csl-json' | 'unsupported';
export function bibFormat(file: string): BibFormat {
  if (/\.(bib|bibtex)$/i.test(file)) return 'bibtex';
  if (/\.json$/i.test(file)) return 'csl-json';
  return 'unsupported';
}

/** The writer's text as a search query: markup, citations and comments removed, whitespace collapsed. */
export function queryText(text: string, kind: DocKind): string {
  const t =
    kind === 'latex' ? latexQueryText(text) : kind === 'pandoc' || kind === 'manubot' ? pandocQueryText(text) : text;
  return t
    .replace(/\s+/g, ' ')
    .replace(/\s+([.,;:!?])/g, '$1')
    .trim();
}
