// Hover on a PMID ("PMID: 123", "pubmed:123", a PubMed URL) or a citation key whose bibliography entry the index
// knows: title, authors, year, abstract excerpt. All PubMed text goes through appendText (escaped Markdown).
import * as vscode from 'vscode';
import type { Engine } from '../app/engine';
import type { Config } from './config';
import { parseBibtex, entryPmid } from '../cite/bibtex';
import { parseCslJson } from '../cite/csljson';
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
        // a Manubot id names the paper itself (`doi:…`, a doi.org URL); a key is looked up in the bibliography
        const own = idIdentity(key);
        const found = own.pmid || own.doi ? own : await this.lookupKey(doc, key);
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
      paper.authors.length > 4 ? `${paper.authors.slice(0, 4).join(', ')}, et al.` : paper.authors.join(', ');
    md.appendText(
      `${authors}${authors ? '. ' : ''}${paper.journal}${paper.year ? ` ${paper.year}` : ''}. PMID ${paper.pmid}${paper.doi ? ` · doi:${paper.doi}` : ''}`,
    );
    if (paper.abstract) {
      md.appendMarkdown('\n\n');
      md.appendText(paper.abstract.length > 400 ? `${paper.abstract.slice(0, 400)}…` : paper.abstract);
    }
    return new vscode.Hover(md);
  }

  private async lookupKey(doc: vscode.TextDocument, key: string): Promise<{ pmid?: string; doi?: string } | undefined> {
    const cfg = this.config.snapshot();
    const kind = docKind(doc.languageId, doc.fileName, doc.getText());
    for (const uri of bibliographyUris(doc, cfg, kind)) {
      let text: string;
      try {
        text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
      } catch {
        continue;
      }
      if (/\.json$/i.test(uri.path)) {
        const it = parseCslJson(text).find((i) => i.id === key);
        if (it)
          return {
            pmid: typeof it.PMID === 'string' ? it.PMID : undefined,
            doi: typeof it.DOI === 'string' ? it.DOI : undefined,
          };
      } else {
        const e = parseBibtex(text).find((x) => x.key === key);
        if (e) return { pmid: entryPmid(e.fields), doi: e.fields['doi'] };
      }
    }
    return undefined;
  }
}
