// "BioHiCL: Suggest MeSH keywords for this manuscript": the manuscript's title and abstract (or the selection) →
// ranked MeSH headings with their tree breadcrumbs in a multi-select QuickPick → the chosen ones into the document's
// keyword field. What is read and where it goes is decided by src/cite/keywords.ts; MeSH comes from the engine.
import { errorText } from '../util/errors';
import * as vscode from 'vscode';
import type { Engine } from '../app/engine';
import type { MeshView } from '../app/views';
import { docKind } from '../cite/detect';
import { manuscriptKeywords, manuscriptText } from '../cite/keywords';
import { insertKeywords, manubotMetadata } from './citations';

/** How many headings the picker offers, and the lowest score shown (under the sidebar's cut-off: the writer picks). */
const MAX = 25;
const CUTOFF = 0.12;

interface Item extends vscode.QuickPickItem {
  mesh: MeshView;
}

function breadcrumbDetail(m: MeshView): string | undefined {
  const first = m.breadcrumbs[0];
  if (!first) return undefined;
  const more = m.breadcrumbs.length - 1;
  return more > 0 ? vscode.l10n.t('{0} (+{1} more)', first, more) : first;
}

/** The keyword command; `engine()` is the controller's current engine. */
export function registerKeywordCommand(engine: () => Engine, log: vscode.LogOutputChannel): vscode.Disposable {
  return vscode.commands.registerCommand('biohicl.suggestKeywords', async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('BioHiCL: open a manuscript (Markdown, Quarto, R Markdown, LaTeX) to suggest keywords for.'),
      );
      return;
    }
    const doc = editor.document;
    const kind = docKind(doc.languageId, doc.fileName, doc.getText());
    const meta = await manubotMetadata(doc);
    const source = manuscriptText(doc.getText(), kind, {
      selection: editor.selection.isEmpty ? undefined : doc.getText(editor.selection),
      metadataYaml: meta?.text,
    });
    if (!source) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t(
          'BioHiCL: no title or abstract found in {0} (YAML title/abstract, \\title{}, the abstract environment, an “Abstract” section): select the text to suggest keywords for.',
          vscode.workspace.asRelativePath(doc.uri),
        ),
      );
      return;
    }
    const t0 = Date.now();
    const r = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('BioHiCL: suggesting MeSH keywords…') },
      () => engine().meshForText(source.text, { max: MAX, cutoff: CUTOFF }),
    );
    log.info(
      `keywords: ${source.text.length} chars of ${source.from} → ${r.mesh.length} MeSH headings in ${Date.now() - t0} ms${r.note ? ` (${r.note})` : ''}`,
    );
    if (!r.mesh.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('BioHiCL: no MeSH heading found for {0}.', source.from));
      return;
    }
    const have = new Set(manuscriptKeywords(doc.getText(), kind, meta?.text).map((k) => k.toLowerCase()));
    const items: Item[] = r.mesh.map((m) => {
      const already = have.has(m.name.toLowerCase());
      return {
        mesh: m,
        label: m.name,
        description: [
          `${Math.round(m.score * 100)}%`,
          m.ui,
          ...(already ? [vscode.l10n.t('already a keyword')] : []),
        ].join(' · '),
        detail: breadcrumbDetail(m),
      };
    });
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = vscode.l10n.t('BioHiCL: MeSH keywords for {0}', source.from);
    qp.placeholder = vscode.l10n.t('Pick the headings to add to the keyword field (ranked; tree position below each)');
    qp.canSelectMany = true;
    qp.matchOnDetail = true;
    qp.items = items;
    if (r.note) qp.placeholder = vscode.l10n.t('{0} — {1}', qp.placeholder ?? '', r.note);
    const picked = await new Promise<readonly Item[] | undefined>((resolve) => {
      qp.onDidAccept(() => {
        resolve(qp.selectedItems);
        qp.hide();
      });
      qp.onDidHide(() => resolve(undefined));
      qp.show();
    });
    qp.dispose();
    if (!picked?.length) return;
    try {
      const done = await insertKeywords(
        editor,
        picked.map((i) => i.mesh.name),
      );
      log.info(`keywords: ${done.message}`);
      void vscode.window.showInformationMessage(vscode.l10n.t('BioHiCL: {0}', done.message));
    } catch (e) {
      const msg = errorText(e);
      log.error(`keywords: ${msg}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('BioHiCL: the keywords were not inserted: {0}', msg));
    }
  });
}
