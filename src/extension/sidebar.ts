// The sidebar: a webview view with a strict CSP (./sidebar-html: nonce from crypto), scripts and styles only from
// media/, and a typed message protocol (./protocol, checked by ./messages). All PubMed text is rendered by
// media/sidebar.js with textContent.
import * as vscode from 'vscode';
import { errorText } from '../util/errors';
import type { HostMessage, ViewState, WebviewRequests } from './protocol';
import { checkWebviewMessage } from './messages';
import { sidebarHtml } from './sidebar-html';

type Handlers = { [K in keyof WebviewRequests]: (data: WebviewRequests[K]) => Promise<string | void> };

export class SidebarProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewType = 'biohicl.sidebar';
  private view: vscode.WebviewView | undefined;
  private state: ViewState = { phase: 'idle' };
  private nextId = 1;
  private readonly disposables: vscode.Disposable[] = [];
  private readyWaiters: (() => void)[] = [];
  private ready = false;
  private resolvedAt = 0;
  private readonly stateChanged = new vscode.EventEmitter<ViewState>();
  /** Every state the view is given (the status bar item follows it). */
  readonly onDidSetState = this.stateChanged.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly handlers: Handlers,
    private readonly log: vscode.LogOutputChannel,
    /** Called when the view is created (the writer opened the sidebar), before its script has loaded. */
    private readonly onResolve?: () => void,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.resolvedAt = Date.now();
    this.ready = false;
    this.onResolve?.();
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [media] };
    view.webview.html = this.html(view.webview, media);
    view.webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m), undefined, this.disposables);
    view.onDidDispose(
      () => {
        this.view = undefined;
        this.ready = false;
      },
      undefined,
      this.disposables,
    );
    view.onDidChangeVisibility(
      () => {
        if (view.visible) this.post({ id: this.nextId++, type: 'state', state: this.state });
      },
      undefined,
      this.disposables,
    );
  }

  get visible(): boolean {
    return !!this.view?.visible;
  }

  /** Show the view (creating it) and wait until its script has said `ready`. */
  async reveal(): Promise<void> {
    if (!this.view) await vscode.commands.executeCommand(`${SidebarProvider.viewType}.focus`);
    else this.view.show(true);
    if (this.ready) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  setState(state: ViewState): void {
    this.state = state;
    this.post({ id: this.nextId++, type: 'state', state });
    this.stateChanged.fire(state);
  }
  getState(): ViewState {
    return this.state;
  }

  postAbstract(pmid: string, abstract: string): void {
    this.post({ id: this.nextId++, type: 'abstract', pmid, abstract });
  }

  private post(m: HostMessage): void {
    if (this.view && this.ready) void this.view.webview.postMessage(m);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const checked = checkWebviewMessage(raw);
    if (!checked.ok) {
      this.log.warn(`sidebar: refused ${checked.error}`);
      if (checked.id !== undefined) this.post({ id: checked.id, type: 'reply', ok: false, error: checked.error });
      return;
    }
    const m = checked.message;
    if (m.type === 'ready') {
      if (!this.ready) this.log.info(`sidebar: view ready ${Date.now() - this.resolvedAt} ms after it was created`);
      this.ready = true;
      this.post({ id: this.nextId++, type: 'state', state: this.state });
      for (const w of this.readyWaiters.splice(0)) w();
    }
    try {
      const handler = this.handlers[m.type] as (d: unknown) => Promise<string | void>;
      const message = await handler(m.data);
      if (m.type !== 'ready') this.post({ id: m.id, type: 'reply', ok: true, ...(message ? { message } : {}) });
    } catch (e) {
      const error = errorText(e);
      this.log.error(`sidebar: ${m.type} failed: ${error}`);
      this.post({ id: m.id, type: 'reply', ok: false, error });
    }
  }

  private html(webview: vscode.Webview, media: vscode.Uri): string {
    return sidebarHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'sidebar.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'sidebar.css')).toString(),
    });
  }

  dispose(): void {
    this.stateChanged.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
