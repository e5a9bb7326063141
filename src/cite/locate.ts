// What is under the cursor (hover) and where a link may go. Pure module.
import { latexKeyAt } from './syntax/latex';
import { pandocKeyAt } from './syntax/pandoc';

const PMID_RE = /(?:PMID:?\s*|pubmed:|pubmed\.ncbi\.nlm\.nih\.gov\/)(\d{1,9})/gi;

export function pmidAt(line: string, ch: number): string | undefined {
  for (const m of line.matchAll(PMID_RE)) {
    const s = m.index ?? 0;
    if (ch >= s && ch <= s + m[0].length) return m[1];
  }
  return undefined;
}

/** The citation key under the cursor: inside \cite{…} or a Pandoc @key (not a `pubmed:` id: that is a PMID). */
export function citeKeyAt(line: string, ch: number): string | undefined {
  const tex = latexKeyAt(line, ch);
  if (tex) return tex;
  const k = pandocKeyAt(line, ch);
  return k && !/^pubmed:/i.test(k) ? k : undefined;
}

/** The only URLs the sidebar opens: PubMed, doi.org and the MeSH Browser, built from validated identifiers. */
export function linkFor(kind: 'pubmed' | 'doi' | 'mesh', value: string): string {
  if (kind === 'pubmed' && /^\d{1,9}$/.test(value)) return `https://pubmed.ncbi.nlm.nih.gov/${value}/`;
  if (kind === 'doi' && /^10\.\S+$/.test(value))
    return `https://doi.org/${value.split('/').map(encodeURIComponent).join('/')}`;
  if (kind === 'mesh' && /^[DCQ]\d{6,9}$/.test(value)) return `https://meshb.nlm.nih.gov/record/ui?ui=${value}`;
  throw new Error(`Refusing to open a malformed ${kind} link: ${value.slice(0, 60)}`);
}
