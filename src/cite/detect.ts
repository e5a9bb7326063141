// What kind of manuscript a document is and where its bibliography lives. Pure: text in, paths (relative) out.

export type DocKind = 'latex' | 'pandoc' | 'manubot' | 'plain';

/** Front matter of a Markdown/Quarto/R Markdown document: the text between a leading `---` and the next `---`/`...`. */
export function frontMatter(text: string): { body: string; bodyStart: number; end: number } | undefined {
  const m = /^(\uFEFF?---[ \t]*\r?\n)([\s\S]*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/.exec(text);
  return m ? { body: m[2] ?? '', bodyStart: (m[1] ?? '').length, end: m[0].length } : undefined;
}

function unquote(s: string): string {
  const t = s.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  return t;
}

/** `bibliography:` from YAML front matter: a scalar, a flow list `[a.bib, b.json]` or a block list. */
export function yamlBibliography(text: string): string[] {
  const fm = frontMatter(text);
  if (!fm) return [];
  const lines = fm.body.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = /^bibliography:\s*(.*?)\s*(?:#.*)?$/.exec(lines[i] ?? '');
    if (!m) continue;
    const v = m[1] ?? '';
    if (v.startsWith('[')) return v.replace(/^\[|\]$/g, '').split(',').map(unquote).filter(Boolean);
    if (v) return [unquote(v)];
    const out: string[] = [];
    for (let j = i + 1; j < lines.length; j++) {
      const item = /^\s*-\s*(.+?)\s*$/.exec(lines[j] ?? ''); // `- refs.bib`, indented or not (both are valid YAML)
      if (!item) break;
      out.push(unquote(item[1] ?? ''));
    }
    return out;
  }
  return [];
}

/** Bibliography files of a LaTeX document: `\bibliography{a,b}` (`.bib` added) and `\addbibresource{x.bib}`. */
export function latexBibliography(text: string): string[] {
  const out: string[] = [];
  const noComments = text.replace(/(^|[^\\])%.*$/gm, '$1');
  for (const m of noComments.matchAll(/\\bibliography\s*\{([^}]*)\}/g)) {
    for (const f of (m[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) out.push(/\.bib$/i.test(f) ? f : `${f}.bib`);
  }
  for (const m of noComments.matchAll(/\\addbibresource\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}/g)) {
    const f = (m[1] ?? '').trim();
    if (f) out.push(f);
  }
  return [...new Set(out)];
}

/** Manubot: Markdown under a `content/` folder whose citations use `@doi:`/`@pubmed:` prefixes and no bibliography. */
export function looksManubot(fileName: string, text: string): boolean {
  if (yamlBibliography(text).length) return false;
  const inContent = /[\\/]content[\\/][^\\/]+\.md$/i.test(fileName);
  const prefixed = /\[@(?:doi|pubmed|pmid|pmc|arxiv|url|isbn|wikidata):/i.test(text);
  return inContent && (prefixed || !/\[@[A-Za-z]/.test(text));
}

export function docKind(languageId: string, fileName: string, text: string): DocKind {
  const ext = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? '';
  if (['latex', 'tex', 'context'].includes(languageId) || ['tex', 'ltx', 'latex'].includes(ext)) return 'latex';
  if (['markdown', 'quarto', 'rmd', 'pandoc', 'rmarkdown'].includes(languageId) || ['md', 'qmd', 'rmd', 'markdown', 'pandoc'].includes(ext)) {
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
  let t = text;
  if (kind === 'latex') {
    t = t
      .replace(/(^|[^\\])%.*$/gm, '$1')
      .replace(/\\[A-Za-z]*cite[A-Za-z]*\*?(?:\[[^\]]*\]){0,2}\{[^}]*\}/g, '')
      .replace(/\\(?:ref|eqref|label|autoref|cref|Cref|url|footnote)\{[^}]*\}/g, '')
      .replace(/\\[A-Za-z]+\*?(?:\[[^\]]*\])?/g, '')
      .replace(/[{}~]/g, ' ');
  } else if (kind === 'pandoc' || kind === 'manubot') {
    t = t.replace(/\[[^\[\]]*@[^\[\]]*\]/g, '').replace(/(^|\s)-?@[\w:.\-/]*\w/g, '$1').replace(/[*_`#>]/g, ' ').replace(/<!--[\s\S]*?-->/g, '');
  }
  return t.replace(/\s+/g, ' ').replace(/\s+([.,;:!?])/g, '$1').trim();
}
