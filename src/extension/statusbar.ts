// The status bar item: model, execution provider, index size and what the extension is doing (ready, searching,
// a problem). It follows the sidebar's state; a click opens the sidebar, or the logs when something went wrong.
import * as vscode from 'vscode';
import type { EngineStatusView } from '../app/views';
import type { ViewState } from './protocol';

export const STATUS_CLICK_COMMAND = 'biohicl.statusBarClick';
const SIDEBAR_FOCUS = 'biohicl.sidebar.focus';

/** What the item shows for a state: its text, tooltip lines and whether a click should open the logs. */
export function statusBarView(state: ViewState): {
  text: string;
  tooltip: string[];
  error: boolean;
  generated: boolean;
} {
  const status: EngineStatusView | undefined = state.phase === 'results' ? state.results.status : state.status;
  const parts: string[] = [];
  if (status?.provider) parts.push(status.provider);
  if (status?.indexSize !== undefined)
    parts.push(vscode.l10n.t('{0} papers', status.indexSize.toLocaleString('en-US')));
  const icon = state.phase === 'loading' ? '$(loading~spin)' : state.phase === 'error' ? '$(warning)' : '$(library)';
  const text = `${icon} BioHiCL${parts.length ? ` · ${parts.join(' · ')}` : ''}`;
  const lines: string[] = [];
  const what =
    state.phase === 'loading'
      ? vscode.l10n.t('Searching the local index…')
      : state.phase === 'error'
        ? vscode.l10n.t('Problem: {0}', state.message)
        : state.phase === 'results'
          ? vscode.l10n.t(
              'Ready: {0} papers, {1} MeSH terms, {2} sentences in {3} ms',
              state.results.papers.length,
              state.results.mesh.length,
              state.results.sentences.length,
              state.results.ms,
            )
          : vscode.l10n.t('Ready');
  lines.push(what);
  lines.push(
    vscode.l10n.t(
      'Model: {0}{1}',
      status?.model ?? vscode.l10n.t('none chosen yet'),
      status?.generated ? vscode.l10n.t(' (generated weights: rankings carry no meaning)') : '',
    ),
  );
  lines.push(
    vscode.l10n.t('Provider: {0}', status?.provider ?? vscode.l10n.t('not started yet (starts with the first query)')) +
      (status?.fallbackReason ? ` — ${status.fallbackReason}` : ''),
  );
  lines.push(
    vscode.l10n.t(
      'Index: {0}',
      status?.indexSize !== undefined
        ? vscode.l10n.t('{0} papers', status.indexSize.toLocaleString('en-US')) +
            (status.currency ? ` — ${status.currency.label}` : '')
        : vscode.l10n.t('not opened yet'),
    ),
  );
  return { text, tooltip: lines, error: state.phase === 'error', generated: !!status?.generated };
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('biohicl.status', vscode.StatusBarAlignment.Right, 100);
  private error = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.item.name = vscode.l10n.t('BioHiCL Writer');
    this.item.command = STATUS_CLICK_COMMAND;
    this.disposables.push(
      this.item,
      vscode.commands.registerCommand('biohicl.statusBarClick', () => this.click()),
    );
    this.update({ phase: 'idle' });
    this.item.show();
  }

  update(state: ViewState): void {
    const v = statusBarView(state);
    this.error = v.error;
    this.item.text = v.text;
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: [SIDEBAR_FOCUS, 'biohicl.showLogs'] };
    md.supportThemeIcons = true;
    md.appendMarkdown('**BioHiCL Writer**\n\n');
    for (const l of v.tooltip) md.appendText(l).appendMarkdown('\n\n');
    md.appendMarkdown(
      `[${vscode.l10n.t('Open the sidebar')}](command:${SIDEBAR_FOCUS}) · [${vscode.l10n.t('Show logs')}](command:biohicl.showLogs)`,
    );
    this.item.tooltip = md;
    this.item.accessibilityInformation = { label: [v.text.replace(/\$\([^)]*\)\s*/g, ''), ...v.tooltip].join('. ') };
    this.item.backgroundColor = v.error ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  private async click(): Promise<void> {
    if (this.error) {
      this.log.show();
      return;
    }
    await vscode.commands.executeCommand(SIDEBAR_FOCUS);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
