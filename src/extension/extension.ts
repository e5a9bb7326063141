// Entry point: kept tiny so activation is cheap. The controller (and through it the engine) loads on activation, the
// inference worker and the model only on the first query. A failed activation offers "Show Logs" / "Retry".
import * as vscode from 'vscode';
import { errorText } from '../util/errors';

let controller: { dispose(): Promise<void> } | undefined;

export async function activate(ctx: vscode.ExtensionContext): Promise<{ activationMs: number }> {
  const t0 = Date.now();
  const log = vscode.window.createOutputChannel('BioHiCL Writer', { log: true });
  ctx.subscriptions.push(log);
  try {
    const { Controller } = await import('./controller');
    controller = new Controller(ctx, log);
    const activationMs = Date.now() - t0;
    log.info(`activated in ${activationMs} ms`);
    return { activationMs };
  } catch (e) {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    log.error(`activation failed: ${msg}`);
    const showLogs = vscode.l10n.t('Show Logs');
    const retry = vscode.l10n.t('Retry');
    void vscode.window
      .showErrorMessage(vscode.l10n.t('BioHiCL Writer failed to start: {0}', errorText(e)), showLogs, retry)
      .then((c) => {
        if (c === showLogs) log.show();
        if (c === retry) void vscode.commands.executeCommand('workbench.action.restartExtensionHost');
      });
    throw e;
  }
}

export async function deactivate(): Promise<void> {
  await controller?.dispose();
  controller = undefined;
}
