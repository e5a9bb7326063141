// Hover on a PMID ("PMID: 123", "pubmed:123", a PubMed URL) or a citation key whose bibliography entry the index
// knows: title, authors, year, abstract excerpt. All PubMed text goes through appendText (escaped Markdown).
import * as vscode from 'vscode';
import type { Engine } from '../app/engine';
import type { Config } from './config';
import { keyInBibliographies, type KeyIdentity } from '../check/keys';
import { docKind } from '../cite/detect';
import { bibliographyUris } from './citations';
import type { PaperMeta } from '../cite/paper';
import { pmidAt, citeKeyAt } from '../cite/locate';
import { idIdentity } from '../cite/syntax/manubot';

export class CitationHover implements vscode.HoverProvider {
  constructor(
    private readonly engine: () => Engine,
    private readonly config: Config,
  ) {}

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Hover | undefined> {
    const line = doc.lineAt(pos.line).text;
    let paper: (PaperMeta & { abstract: string }) | undefined;
    const pmid = pmidAt(line, pos.character);
    try {
      if (pmid) paper = await this.engine().paper(pmid);
      else {
        const key = citeKeyAt(line, pos.character);
        if (!key) return undefined;
        const found = await resolveCitationKey(doc, key, this.config);
        if (found?.pmid) paper = await this.engine().paper(found.pmid);
        else if (found?.doi) paper = await this.engine().paperByDoi(found.doi);
      }
    } catch {
      return undefined; // no index yet: no hover
    }
    if (!paper) return undefined;
    const md = new vscode.MarkdownString();
    md.appendMarkdown('**');
    md.appendText(paper.title);
    md.appendMarkdown('**\n\n');
    const authors =
      paper.authors.length > 4
        ? vscode.l10n.t('{0}, et al.', paper.authors.slice(0, 4).join(', '))
        : paper.authors.join(', ');
    md.appendText(
      `${authors}${authors ? '. ' : ''}${paper.journal}${paper.year ? ` ${paper.year}` : ''}. ${vscode.l10n.t('PMID {0}', paper.pmid)}${paper.doi ? ` · doi:${paper.doi}` : ''}`,
    );
    if (paper.abstract) {
      md.appendMarkdown('\n\n');
      md.appendText(paper.abstract.length > 400 ? `${paper.abstract.slice(0, 400)}…` : paper.abstract);
    }
    return new vscode.Hover(md);
  }
}

/** The text of the bibliography files a document names (missing ones left out). */
export async function readBibliographies(
  doc: vscode.TextDocument,
  config: Config,
): Promise<{ path: string; text: string }[]> {
  const kind = docKind(doc.languageId, doc.fileName, doc.getText());
  const bibs: { path: string; text: string }[] = [];
  for (const uri of bibliographyUris(doc, config.snapshot(), kind)) {
    try {
      bibs.push({ path: uri.path, text: Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8') });
    } catch {
      /* a missing file names nothing */
    }
  }
  return bibs;
}

/**
 * What a citation key names: a Manubot id names the paper itself (`doi:…`, a doi.org URL); a key is looked up in the
 * bibliography (`bibs`: already read, e.g. once for a whole check).
 */
export async function resolveCitationKey(
  doc: vscode.TextDocument,
  key: string,
  config: Config,
  bibs?: { path: string; text: string }[],
): Promise<KeyIdentity | undefined> {
  const own = idIdentity(key);
  if (own.pmid || own.doi) return own;
  return keyInBibliographies(key, bibs ?? (await readBibliographies(doc, config)));
}
