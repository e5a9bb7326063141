// Citation completion in the editor: a CompletionItemProvider inside `\cite{…}` (any `\…cite…` command), `[@…]` /
// `; @…` and Manubot's `[@pubmed:`/`[@doi:`, and "BioHiCL: Cite…", a QuickPick of the same ranked list for the
// sentence at the cursor. The list comes from src/app/complete.ts (the bibliography is parsed once per version and
// kept in step with edits of the .bib; the index's relevance is asked once per sentence). An entry of the
// bibliography inserts its key; a paper of the index goes through the sidebar's insert path (insertCitation), which
// chooses the key by the file's rules and writes the entry once.
import { errorText } from '../util/errors';
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Engine } from '../app/engine';
import type { Config } from './config';
import { CiteCompleter, type CompleteAnswer } from '../app/complete';
import type { BibFileSource } from '../cite/bibcache';
import type { CiteCandidate } from '../cite/complete';
import type { PaperMeta } from '../cite/paper';
import { docKind, bibFormat, type DocKind } from '../cite/detect';
import { manubotCatalog, readManubotSources } from '../cite/syntax/manubot';
import type { BibRecord } from '../cite/match';
import { bibliographyUris, insertCitation, insertKey } from './citations';

const SELECTOR: vscode.DocumentSelector = [
  { language: 'latex' },
  { language: 'tex' },
  { language: 'markdown' },
  { language: 'quarto' },
  { language: 'rmd' },
];
const ACCEPT = 'biohicl.citeCompletion';

interface AcceptArgs {
  uri: string;
  paper: PaperMeta;
  prefix?: string;
}

function who(c: CiteCandidate): string {
  return [c.firstAuthor, c.year].filter(Boolean).join(' ');
}

function short(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export class CiteCompletion implements vscode.CompletionItemProvider {
  readonly completer: CiteCompleter;
  private manubot = new Map<string, { version: number; records: BibRecord[] }>();

  constructor(
    engine: () => Engine,
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.completer = new CiteCompleter((text, o) => engine().citeRelevance(text, o));
  }

  /** The bibliography files of a document as cache sources (an open file by its version, else by mtime). */
  sources(doc: vscode.TextDocument, kind: DocKind): BibFileSource[] {
    const out: BibFileSource[] = [];
    for (const u of bibliographyUris(doc, this.config.snapshot(), kind)) {
      const format = bibFormat(u.path);
      if (format === 'unsupported') continue;
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === u.toString());
      out.push({ path: u.fsPath, format, version: open?.version, text: open ? () => open.getText() : undefined });
    }
    return out;
  }

  private manubotRecords(doc: vscode.TextDocument): BibRecord[] {
    const k = doc.uri.toString();
    const cur = this.manubot.get(k);
    if (cur && cur.version === doc.version) return cur.records;
    const records = manubotCatalog(readManubotSources(doc.fileName, doc.getText())).records;
    this.manubot.set(k, { version: doc.version, records });
    return records;
  }

  async answer(doc: vscode.TextDocument, offset: number, anywhere = false): Promise<CompleteAnswer | undefined> {
    const text = doc.getText();
    const kind = docKind(doc.languageId, doc.fileName, text);
    if (kind === 'plain') return undefined;
    return this.completer.complete({
      kind,
      text,
      offset,
      anywhere,
      bibs: kind === 'manubot' ? undefined : this.sources(doc, kind),
      manubot: kind === 'manubot' ? this.manubotRecords(doc) : undefined,
    });
  }

  /** The writer is typing `\\cite` (or `[` in Markdown): ask about the sentence now, so the list is ready at the key. */
  prefetch(doc: vscode.TextDocument, offset: number): void {
    const text = doc.getText();
    const kind = docKind(doc.languageId, doc.fileName, text);
    if (kind === 'plain') return;
    try {
      this.completer.prefetch({
        kind,
        text,
        offset,
        bibs: kind === 'manubot' ? undefined : this.sources(doc, kind),
        manubot: kind === 'manubot' ? this.manubotRecords(doc) : undefined,
      });
    } catch (e) {
      this.log.warn(`completion prefetch: ${errorText(e)}`);
    }
  }

  async provideCompletionItems(
    doc: vscode.TextDocument,
    pos: vscode.Position,
  ): Promise<vscode.CompletionList | undefined> {
    let a: CompleteAnswer | undefined;
    try {
      a = await this.answer(doc, doc.offsetAt(pos));
    } catch (e) {
      this.log.error(`completion failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      throw e;
    }
    if (!a?.slot) return undefined;
    const slot = a.slot;
    const range = new vscode.Range(doc.positionAt(slot.start), doc.positionAt(slot.end));
    const bibName = this.sources(doc, docKind(doc.languageId, doc.fileName, doc.getText()))[0]?.path;
    const items = a.items.map((c, i) => {
      const w = who(c);
      const item =
        c.source === 'bibliography'
          ? new vscode.CompletionItem(
              { label: c.key!, detail: w ? `  ${w}` : undefined, description: vscode.l10n.t('in your bibliography') },
              vscode.CompletionItemKind.Reference,
            )
          : new vscode.CompletionItem(
              {
                label: short(c.title, 70),
                detail: w ? `  ${w}` : undefined,
                description: vscode.l10n.t(
                  'PMID {0} · cite and add to {1}',
                  c.paper!.pmid,
                  bibName ? path.basename(bibName) : vscode.l10n.t('the bibliography'),
                ),
              },
              vscode.CompletionItemKind.Reference,
            );
      item.range = range;
      item.sortText = String(i).padStart(4, '0');
      item.detail = c.title;
      item.filterText = [c.key, c.firstAuthor, c.title, c.paper ? `pubmed:${c.paper.pmid}` : ''].join(' ');
      const md = new vscode.MarkdownString();
      md.appendText(
        `${c.title}${w ? ` — ${w}` : ''}\n\n` +
          (c.source === 'bibliography'
            ? c.file
              ? vscode.l10n.t('In your bibliography ({0}).', c.file)
              : vscode.l10n.t('In your bibliography.')
            : vscode.l10n.t(
                'From the index (PMID {0}): accepting it also writes its entry into the bibliography.',
                c.paper!.pmid,
              )) +
          (c.why.length ? vscode.l10n.t(' Ranked by {0}.', c.why.join(', ')) : ''),
      );
      item.documentation = md;
      if (c.source === 'bibliography') item.insertText = c.key!;
      else {
        item.insertText = '';
        const args: AcceptArgs = { uri: doc.uri.toString(), paper: c.paper!, prefix: slot.prefix };
        item.command = { command: ACCEPT, title: vscode.l10n.t('Cite and add the entry'), arguments: [args] };
      }
      if (i === 0) item.preselect = true;
      return item;
    });
    this.log.debug(
      `completion: ${a.items.length} of ${a.bibSize} entries + index for “${short(a.sentence, 60)}” in ${a.ms.total.toFixed(0)} ms (relevance ${a.ms.relevance.toFixed(0)} ms)${a.note ? `; ${a.note}` : ''}`,
    );
    // typing more of the key asks again: the bibliography is filtered anew, the sentence's relevance is kept
    return new vscode.CompletionList(items, true);
  }

  /** Accepting a paper of the index: the insert path cites it where the typed key was and writes the entry. */
  async accept(a: AcceptArgs): Promise<void> {
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === a.uri);
    if (!editor) return;
    const off = editor.document.offsetAt(editor.selection.active);
    try {
      const r = await insertCitation(editor, a.paper, this.config.snapshot(), undefined, {
        at: { start: off, end: off },
        manubotCiteAs: a.prefix === 'doi' ? 'doi' : a.prefix === 'pubmed' ? 'pubmed' : undefined,
      });
      this.log.info(`completion: PMID ${a.paper.pmid} → ${r.message}`);
      vscode.window.setStatusBarMessage(vscode.l10n.t('BioHiCL: {0}', r.message), 8000);
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('BioHiCL: {0}', errorText(e)));
    }
  }

  /** "BioHiCL: Cite…": the same ranked list for the sentence at the cursor, in a QuickPick (keyboard-first). */
  async pick(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('BioHiCL: open a manuscript and put the cursor after a sentence.'),
      );
      return;
    }
    const doc = editor.document;
    if (docKind(doc.languageId, doc.fileName, doc.getText()) === 'plain') {
      void vscode.window.showInformationMessage(
        vscode.l10n.t(
          'BioHiCL: Cite… works in LaTeX, Markdown, Quarto and R Markdown (use “Find related literature” in plain text).',
        ),
      );
      return;
    }
    type Item = vscode.QuickPickItem & { c: CiteCandidate };
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = vscode.l10n.t('BioHiCL: Cite');
    qp.placeholder = vscode.l10n.t('Type a key, an author or words of the title; Enter cites');
    qp.matchOnDescription = true;
    qp.matchOnDetail = true;
    qp.busy = true;
    qp.show();
    const a = await this.answer(doc, doc.offsetAt(editor.selection.active), true);
    if (!a) {
      qp.dispose();
      return;
    }
    qp.title = a.note
      ? vscode.l10n.t('BioHiCL: Cite — for “{0}” ({1})', short(a.sentence, 80), short(a.note, 80))
      : vscode.l10n.t('BioHiCL: Cite — for “{0}”', short(a.sentence, 80));
    qp.items = a.items.map((c) => {
      const w = who(c);
      return c.source === 'bibliography'
        ? {
            label: c.key!,
            description: `${w}${w ? ' · ' : ''}${vscode.l10n.t('in your bibliography')}`,
            detail: c.title,
            c,
          }
        : {
            label: short(c.title, 90),
            description: `${w}${w ? ' · ' : ''}${vscode.l10n.t('PMID {0} · from the index: cites it and adds the entry', c.paper!.pmid)}`,
            detail: c.paper!.journal || undefined,
            c,
          };
    });
    qp.busy = false;
    const chosen = await new Promise<Item | undefined>((resolve) => {
      qp.onDidAccept(() => resolve(qp.selectedItems[0]));
      qp.onDidHide(() => resolve(undefined));
    });
    qp.dispose();
    if (!chosen) return;
    const at = a.slot ? { start: a.slot.start, end: a.slot.end } : undefined;
    try {
      const msg =
        chosen.c.source === 'bibliography'
          ? await insertKey(editor, chosen.c.key!, this.config.snapshot(), at)
          : (
              await insertCitation(editor, chosen.c.paper!, this.config.snapshot(), undefined, {
                at,
                manubotCiteAs: a.slot?.prefix === 'doi' ? 'doi' : undefined,
              })
            ).message;
      this.log.info(`cite: ${msg}`);
      vscode.window.setStatusBarMessage(vscode.l10n.t('BioHiCL: {0}', msg), 8000);
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('BioHiCL: {0}', errorText(e)));
    }
  }
}

/** The provider, its commands, and the listeners that keep the parsed bibliographies in step with edits. */
export function registerCiteCompletion(
  engine: () => Engine,
  config: Config,
  log: vscode.LogOutputChannel,
): vscode.Disposable[] {
  const p = new CiteCompletion(engine, config, log);
  const timers = new Map<string, NodeJS.Timeout>();
  return [
    vscode.languages.registerCompletionItemProvider(SELECTOR, p, '{', ',', '@', ':'),
    vscode.commands.registerCommand(ACCEPT, (a: AcceptArgs) => p.accept(a)),
    vscode.commands.registerCommand('biohicl.cite', () => p.pick()),
    // an edited .bib is parsed again once the writer pauses (never per keystroke in the manuscript)
    vscode.workspace.onDidChangeTextDocument((e) => {
      const d = e.document;
      // typing a citation command in a manuscript: the sentence's relevance is asked before the key is typed
      const one = e.contentChanges.length === 1 ? e.contentChanges[0]! : undefined;
      if (one && one.text.length === 1 && vscode.languages.match(SELECTOR, d)) {
        const pos = one.range.start.translate(0, 1);
        const line = d.lineAt(pos.line).text.slice(0, pos.character);
        if (/\\[A-Za-z]*[Cc]it[A-Za-z]*\*?$|\[@?$/.test(line)) p.prefetch(d, d.offsetAt(pos));
        return;
      }
      const format = bibFormat(d.uri.path);
      if (format === 'unsupported' || d.uri.scheme !== 'file' || !e.contentChanges.length) return;
      clearTimeout(timers.get(d.uri.fsPath));
      timers.set(
        d.uri.fsPath,
        setTimeout(() => {
          timers.delete(d.uri.fsPath);
          p.completer.cache.file({ path: d.uri.fsPath, format, version: d.version, text: () => d.getText() });
        }, 300),
      );
    }),
    vscode.workspace.onDidCloseTextDocument((d) => p.completer.cache.forget(d.uri.fsPath)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('biohicl')) p.completer.reset();
    }),
    { dispose: () => timers.forEach((t) => clearTimeout(t)) },
  ];
}
