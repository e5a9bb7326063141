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
    void vscode.window
      .showErrorMessage(`BioHiCL Writer failed to start: ${errorText(e)}`, 'Show Logs', 'Retry')
      .then((c) => {
        if (c === 'Show Logs') log.show();
        if (c === 'Retry') void vscode.commands.executeCommand('workbench.action.restartExtensionHost');
      });
    throw e;
  }
}

export async function deactivate(): Promise<void> {
  await controller?.dispose();
  controller = undefined;
}
