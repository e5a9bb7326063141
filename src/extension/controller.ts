// Wires VS Code to the engine: commands, the sidebar, suggest-as-I-select, hovers, configuration changes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Config, SECTION } from './config';
import { Engine, EngineProblem, type EngineOptions } from '../app/engine';
import { SidebarProvider } from './sidebar';
import { CitationHover } from './hover';
import { CitationCheck } from './check';
import { registerCiteCompletion } from './completion';
import { registerKeywordCommand } from './keywords';
import { StatusBar } from './statusbar';
import { insertCitation, bibtexFor, insertKeywords, papersInBibliography } from './citations';
import { readIndexMeta, indexFiles, isModelMismatch, findModelDir, modelLabel, sameWeights } from '../app/index-model';
import { explainIndexError } from '../index/errors';
import { docKind, queryText } from '../cite/detect';
import { linkFor } from '../cite/locate';
import type { ErrorAction, PaperView, ResultsView, WebviewRequests } from './protocol';
import { paperMeta, missingFields, type PaperMeta } from '../cite/paper';
import { errorText } from '../util/errors';

const DOC_SELECTOR: vscode.DocumentSelector = [
  { language: 'latex' },
  { language: 'tex' },
  { language: 'markdown' },
  { language: 'quarto' },
  { language: 'rmd' },
  { language: 'plaintext' },
  { language: 'bibtex' },
];

interface Target {
  uri: vscode.Uri;
  selection: vscode.Selection;
}

export class Controller {
  private readonly config = new Config();
  private engine: Engine;
  private readonly sidebar: SidebarProvider;
  private queryId = 0;
  private lastQuery: { text: string; target: Target } | undefined;
  private results: ResultsView | undefined;
  private selectTimer: NodeJS.Timeout | undefined;
  /** When the sidebar first said it was ready, until the first answer is shown (logged: the e2e suite reads it). */
  private readySince: number | undefined;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.engine = new Engine(this.engineOptions(), log);
    if (process.platform === 'linux' && process.arch === 'x64') void this.reinstallCuda();
    this.logConfig('effective configuration');
    this.watchBibliographies();
    const handlers: { [K in keyof WebviewRequests]: (d: WebviewRequests[K]) => Promise<string | void> } = {
      ready: async () => {
        // the worker, the model, the index and the MeSH matcher load in the background (started when the view was created)
        this.readySince ??= Date.now();
        this.engine.warmUp();
        if (this.sidebar.getState().phase === 'idle')
          this.sidebar.setState({ phase: 'idle', status: await this.engine.status() });
      },
      insertCitation: (d) => this.onInsertCitation(d.pmid),
      copyBibtex: async (d) => {
        const p = await this.paperMeta(d.pmid);
        const doc = this.lastQuery
          ? vscode.workspace.textDocuments.find((x) => x.uri.toString() === this.lastQuery!.target.uri.toString())
          : undefined;
        await vscode.env.clipboard.writeText(await bibtexFor(p, this.config.snapshot(), doc));
        return vscode.l10n.t('BibTeX copied to the clipboard');
      },
      showAbstract: async (d) => {
        const p = this.results?.papers.find((x) => x.pmid === d.pmid);
        const abs = p?.abstract ?? (await this.engine.paper(d.pmid))?.abstract ?? '';
        this.sidebar.postAbstract(d.pmid, abs);
      },
      insertKeyword: async (d) => (await insertKeywords(await this.targetEditor(), [d.name])).message,
      insertSentence: async (d) => this.onInsertCitation(d.pmid, d.text),
      copyText: async (d) => {
        await vscode.env.clipboard.writeText(d.text);
        return vscode.l10n.t('Copied');
      },
      openLink: async (d) => {
        await vscode.env.openExternal(vscode.Uri.parse(linkFor(d.kind, d.value)));
      },
      rerun: async () => {
        if (this.lastQuery) await this.runQuery(this.lastQuery.text, this.lastQuery.target);
      },
      errorAction: async (d) => this.onErrorAction(d.command),
      runCommand: async (d) => {
        if (!['getPubmedIndex', 'updateIndex', 'buildIndex'].includes(d.command))
          throw new Error(`unknown command ${String(d.command)}`);
        void vscode.commands.executeCommand(`biohicl.${d.command}`);
      },
      showLogs: async () => {
        this.log.show();
      },
    };
    // the writer opened the sidebar: start loading while its webview loads (not at activation: VS Code's start is not slowed)
    this.sidebar = new SidebarProvider(ctx.extensionUri, handlers, log, () => this.engine.warmUp());
    const statusBar = new StatusBar(log);
    const sub = ctx.subscriptions;
    sub.push(
      statusBar,
      this.sidebar.onDidSetState((s) => statusBar.update(s)),
      this.sidebar,
      vscode.window.registerWebviewViewProvider(SidebarProvider.viewType, this.sidebar, {
        webviewOptions: { retainContextWhenHidden: true },
      }),
      vscode.commands.registerCommand('biohicl.findRelated', () => this.findRelated()),
      vscode.commands.registerCommand('biohicl.buildIndex', (uri?: vscode.Uri, uris?: vscode.Uri[]) =>
        this.buildIndex(uris?.length ? uris : uri instanceof vscode.Uri ? [uri] : undefined),
      ),
      vscode.commands.registerCommand('biohicl.getPubmedIndex', (source?: unknown) =>
        this.getPubmedIndex(typeof source === 'string' ? source : undefined),
      ),
      vscode.commands.registerCommand('biohicl.updateIndex', () => this.updateIndex()),
      vscode.commands.registerCommand('biohicl.indexBibliography', () => this.indexBibliography()),
      vscode.commands.registerCommand('biohicl.fetchModel', () => this.fetchModel()),
      vscode.commands.registerCommand('biohicl.useGeneratedWeights', () => this.useGeneratedWeights()),
      vscode.commands.registerCommand('biohicl.pickDevice', () => this.pickDevice()),
      vscode.commands.registerCommand('biohicl.enableCuda', () => this.enableCuda()),
      vscode.commands.registerCommand('biohicl.toggleSuggestOnSelect', async () => {
        await this.config.update('suggestOnSelect', !this.config.suggestOnSelect);
        void vscode.window.showInformationMessage(
          this.config.suggestOnSelect
            ? vscode.l10n.t('BioHiCL: suggest as I select is on')
            : vscode.l10n.t('BioHiCL: suggest as I select is off'),
        );
      }),
      vscode.commands.registerCommand('biohicl.showLogs', () => this.log.show()),
      registerKeywordCommand(() => this.engine, log),
      vscode.languages.registerHoverProvider(DOC_SELECTOR, new CitationHover(() => this.engine, this.config)),
      ...new CitationCheck(() => this.engine, this.config, log).register(
        (DOC_SELECTOR as vscode.DocumentFilter[]).filter((f) => f.language !== 'bibtex'),
      ),
      ...registerCiteCompletion(() => this.engine, this.config, log),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onSelection(e)),
      vscode.workspace.onDidChangeConfiguration((e) => void this.onConfig(e)),
    );
    // the status bar says what the model and the index are soon after activation (the index opened read-only)
    const initial = setTimeout(() => void this.showInitialStatus(), 1500);
    sub.push({ dispose: () => clearTimeout(initial) });
  }

  private async showInitialStatus(): Promise<void> {
    const status = await this.engine.statusWithIndex();
    if (this.sidebar.getState().phase === 'idle') this.sidebar.setState({ phase: 'idle', status });
  }

  /** CUDA libraries fetched earlier live in global storage; an updated extension gets them re-installed from there. */
  private async reinstallCuda(): Promise<void> {
    try {
      const gpu = await import('../inference/gpu');
      const storeDir = gpu.cudaStoreDir(this.ctx.globalStorageUri.fsPath);
      if (!fs.existsSync(storeDir)) return;
      const written = gpu.reinstallFromStoreIfNeeded(storeDir);
      if (written.length) this.log.info(`CUDA: re-installed ${written.length} provider libraries from ${storeDir}`);
    } catch (e) {
      this.log.warn(`CUDA: could not re-install the provider libraries: ${errorText(e)}`);
    }
  }

  private storage(...p: string[]): string {
    return path.join(this.ctx.globalStorageUri.fsPath, ...p);
  }

  /** Settings → engine options (an empty model/index folder means the extension's own storage). */
  private engineOptions(): EngineOptions {
    const c = this.config.snapshot();
    let modelDir = c.modelDir;
    if (!modelDir) {
      modelDir =
        ['biohicl-base', 'generated-base']
          .map((m) => this.storage('models', m))
          .find((d) => fs.existsSync(path.join(d, 'manifest.json'))) ?? '';
    }
    return {
      modelDir,
      indexDir: c.indexDir || this.storage('index'),
      device: c.device,
      threads: c.threads,
      queryPrefix: c.queryPrefix,
      workerPath: path.join(this.ctx.extensionPath, 'dist', 'worker.js'),
      pubmedDir: this.storage('pubmed'),
    };
  }

  private logConfig(what: string): void {
    const o = this.engineOptions();
    this.log.info(
      `${what}: ${JSON.stringify({ ...this.config.snapshot(), effectiveModelDir: o.modelDir || '(none)', effectiveIndexDir: o.indexDir })}`,
    );
  }

  private async onConfig(e: vscode.ConfigurationChangeEvent): Promise<void> {
    if (e.affectsConfiguration('biohicl.watchBibliographies')) this.watchBibliographies();
    const impact = Config.impact(e);
    if (!impact.any) return;
    this.logConfig('configuration changed');
    await this.engine.reconfigure(this.engineOptions());
    if (impact.restartWorker) this.log.info('worker restarts on the next query (model/device settings changed)');
    // another index folder: open it (read-only) so the sidebar says at once how current it is
    this.sidebar.setState({
      phase: 'idle',
      status: impact.reopenIndex ? await this.engine.statusWithIndex() : await this.engine.status(),
    });
  }

  private onSelection(e: vscode.TextEditorSelectionChangeEvent): void {
    if (!this.config.suggestOnSelect || e.textEditor.document.uri.scheme === 'output') return;
    if (this.selectTimer) clearTimeout(this.selectTimer);
    const sel = e.selections[0];
    if (!sel || sel.isEmpty) return;
    const editor = e.textEditor;
    this.selectTimer = setTimeout(() => {
      const text = editor.document.getText(editor.selection);
      if (text.trim().length < 20) return;
      // a newer selection supersedes: runQuery bumps the query id, older answers are dropped
      void this.runQuery(
        this.cleanText(editor.document, text),
        { uri: editor.document.uri, selection: editor.selection },
        false,
      );
    }, this.config.suggestDelayMs);
  }

  private cleanText(doc: vscode.TextDocument, text: string): string {
    return queryText(text, docKind(doc.languageId, doc.fileName, doc.getText()));
  }

  private async findRelated(): Promise<void> {
    const editor =
      vscode.window.activeTextEditor ??
      (this.lastQuery &&
        vscode.window.visibleTextEditors.find(
          (x) => x.document.uri.toString() === this.lastQuery!.target.uri.toString(),
        ));
    if (!editor) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('BioHiCL: open a manuscript and select a sentence or paragraph first.'),
      );
      return;
    }
    const doc = editor.document;
    let range: vscode.Range = editor.selection;
    if (editor.selection.isEmpty) {
      // no selection: the paragraph around the cursor
      let a = editor.selection.active.line;
      let b = a;
      while (a > 0 && !doc.lineAt(a - 1).isEmptyOrWhitespace) a--;
      while (b < doc.lineCount - 1 && !doc.lineAt(b + 1).isEmptyOrWhitespace) b++;
      range = new vscode.Range(a, 0, b, doc.lineAt(b).text.length);
    }
    const text = this.cleanText(doc, doc.getText(range));
    if (!text.trim()) {
      void vscode.window.showInformationMessage(vscode.l10n.t('BioHiCL: select some text to search for.'));
      return;
    }
    await this.runQuery(text, { uri: doc.uri, selection: editor.selection }, true);
  }

  /** Once: how long after the sidebar was ready the first answer was on screen. */
  private logFirstAnswer(id: number, what = 'papers, MeSH and sentences'): void {
    if (this.readySince === undefined || this.readySince < 0) return;
    this.log.info(`first answer ${Date.now() - this.readySince} ms after the sidebar was ready (query ${id}: ${what})`);
    this.readySince = -1;
  }

  private async runQuery(text: string, target: Target, reveal = true): Promise<void> {
    const id = ++this.queryId;
    this.lastQuery = { text, target };
    const c = this.config.snapshot();
    if (reveal) await this.sidebar.reveal();
    this.sidebar.setState({ phase: 'loading', queryId: id, query: text, status: await this.engine.status() });
    const t0 = Date.now();
    // Set once the query has failed: an early answer still being marked must not replace the error on screen.
    let failed = false;
    try {
      let early = Promise.resolve();
      const r = await this.engine.query(
        text,
        { papers: c.resultsPapers, mesh: c.resultsMesh, sentences: c.resultsSentences },
        () => id !== this.queryId,
        // the first query: papers (and sentences) on screen while the model or the MeSH vocabulary still loads
        (e) => {
          early = early.then(async () => {
            const papers = await this.markPapers(e.papers, target);
            if (id !== this.queryId || failed) return;
            const { pending, ...rest } = e;
            this.results = { ...rest, papers, queryId: id, query: text, pending };
            this.sidebar.setState({ phase: 'results', results: this.results });
            this.logFirstAnswer(id, `papers and sentences; ${pending?.join(' and ')} to follow`);
          });
        },
      );
      await early;
      if (!r || id !== this.queryId) return;
      const papers = await this.markPapers(r.papers, target);
      if (id !== this.queryId) return;
      this.results = {
        queryId: id,
        query: text,
        papers,
        mesh: r.mesh,
        sentences: r.sentences,
        sentenceScope: r.sentenceScope,
        ms: r.ms,
        status: r.status,
      };
      this.sidebar.setState({ phase: 'results', results: this.results });
      this.logFirstAnswer(id);
      this.log.info(
        `query ${id}: ${text.length} chars → ${r.papers.length} papers, ${r.mesh.length} MeSH, ${r.sentences.length} sentences in ${Date.now() - t0} ms (provider ${r.status.provider ?? '?'})`,
      );
    } catch (e) {
      failed = true;
      if (id !== this.queryId) return;
      const msg = errorText(e);
      this.log.error(`query ${id} failed: ${e instanceof Error ? (e.stack ?? msg) : msg}`);
      if (isModelMismatch(e)) {
        await this.onModelMismatch(id, msg);
        return;
      }
      const explained = explainIndexError(e, this.engine.options.indexDir);
      // A file of the index is gone: the open tables are stale, so Retry opens the index afresh.
      if (explained) this.engine.reopenIndex();
      const problem = e instanceof EngineProblem ? e : undefined;
      const actions = problem ? problemActions(problem) : [];
      if (problem?.action === 'remakeModel') this.damagedModelDir = problem.info.modelDir;
      this.sidebar.setState({
        phase: 'error',
        queryId: id,
        message: explained?.message ?? msg,
        detail: explained ? msg : problem?.info.raw,
        status: await this.engine.status(),
        ...(actions.length ? { actions } : {}),
      });
      if (problem?.action) {
        const generated = vscode.l10n.t('Use generated weights (demo)');
        const extra = problem.action === 'chooseModel' ? [generated] : [];
        const choice = await vscode.window.showWarningMessage(
          vscode.l10n.t('BioHiCL: {0}', msg),
          ...actions.map((a) => a.label),
          ...extra,
        );
        const act = actions.find((a) => a.label === choice);
        if (act) await this.onErrorAction(act.command);
        if (choice === generated) void vscode.commands.executeCommand('biohicl.useGeneratedWeights');
      }
    }
  }

  /** The editor to insert into: the one the query came from (its current selection), else the active one. */
  private async targetEditor(): Promise<vscode.TextEditor> {
    const t = this.lastQuery?.target;
    if (t) {
      const vis = vscode.window.visibleTextEditors.find((x) => x.document.uri.toString() === t.uri.toString());
      if (vis) return vis;
      const doc = await vscode.workspace.openTextDocument(t.uri);
      const ed = await vscode.window.showTextDocument(doc, { preserveFocus: true, preview: false });
      ed.selection = t.selection;
      return ed;
    }
    const a = vscode.window.activeTextEditor;
    if (!a) throw new Error(vscode.l10n.t('No editor to insert into: open the manuscript first'));
    return a;
  }

  private async paperMeta(pmid: string): Promise<PaperMeta> {
    const p: PaperView | undefined = this.results?.papers.find((x) => x.pmid === pmid);
    if (p) return paperMeta(p);
    const q = await this.engine.paper(pmid);
    if (!q) throw new Error(vscode.l10n.t('PMID {0} is not in the index', pmid));
    return q;
  }

  private async onInsertCitation(pmid: string, sentence?: string): Promise<string> {
    const editor = await this.targetEditor();
    const r = await insertCitation(editor, await this.paperMeta(pmid), this.config.snapshot(), sentence);
    this.log.info(`citation: PMID ${pmid} → ${r.message}`);
    void vscode.commands.executeCommand('setContext', 'biohicl.citationInserted', true); // the walkthrough's last step
    // the next insert goes where this one left the cursor (right after the citation), not over the old selection
    if (this.lastQuery && this.lastQuery.target.uri.toString() === editor.document.uri.toString())
      this.lastQuery.target.selection = editor.selection;
    // the sidebar marks the paper as in the bibliography now
    if (this.results && r.label) {
      const mark = { key: r.label, file: r.file };
      this.results = {
        ...this.results,
        papers: this.results.papers.map((p) => (p.pmid === pmid ? { ...p, inBibliography: mark } : p)),
      };
      if (this.sidebar.getState().phase === 'results')
        this.sidebar.setState({ phase: 'results', results: this.results });
    }
    return r.message;
  }

  /** Papers already in the target document's bibliography (with their key), and what each lacks for a reference. */
  private async markPapers(papers: PaperView[], target: Target): Promise<PaperView[]> {
    let inBib = new Map<string, { key: string; file?: string }>();
    try {
      const doc =
        vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.uri.toString()) ??
        (await vscode.workspace.openTextDocument(target.uri));
      inBib = await papersInBibliography(doc, this.config.snapshot(), papers);
    } catch (e) {
      this.log.warn(`could not read the bibliography to mark cited papers: ${errorText(e)}`);
    }
    return papers.map((p) => {
      const missing = missingFields(p);
      return { ...p, inBibliography: inBib.get(p.pmid), missing: missing.length ? missing : undefined };
    });
  }

  /** "Index this manuscript's bibliography": the .bib / CSL-JSON files the open document names, as a source. */
  private async indexBibliography(): Promise<void> {
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('BioHiCL: open the manuscript whose bibliography should be indexed.'),
      );
      return;
    }
    const { documentBibliographies } = await import('./citations');
    const uris = documentBibliographies(doc, this.config.snapshot()).filter((u) => fs.existsSync(u.fsPath));
    if (!uris.length) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t(
          'BioHiCL: {0} names no bibliography file that exists (\\bibliography{}, \\addbibresource{}, YAML bibliography:, or the biohicl.bibliographyFile setting).',
          path.basename(doc.fileName),
        ),
      );
      return;
    }
    await this.buildIndex(uris);
  }

  private watchers: vscode.Disposable[] = [];
  /** Re-index the watched bibliographies (biohicl.watchBibliographies, e.g. a Better BibTeX auto-export) when they change. */
  private watchBibliographies(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = [];
    let timer: NodeJS.Timeout | undefined;
    const pending = new Set<string>();
    const changed = (uri: vscode.Uri): void => {
      pending.add(uri.fsPath);
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        const files = [...pending].filter((f) => fs.existsSync(f));
        pending.clear();
        if (!files.length) return;
        this.log.info(`watched bibliography changed: re-indexing ${files.join(', ')}`);
        void this.buildIndex(
          files.map((f) => vscode.Uri.file(f)),
          false,
          { background: true },
        );
      }, 2000); // an auto-export writes in several steps
    };
    for (const f of this.config.watchBibliographies) {
      const abs = path.isAbsolute(f) ? f : path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', f);
      const w = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(path.dirname(abs)), path.basename(abs)),
      );
      w.onDidChange(changed);
      w.onDidCreate(changed);
      this.watchers.push(w);
    }
    if (this.watchers.length)
      this.log.info(`watching ${this.config.watchBibliographies.length} bibliography file(s) for changes`);
  }

  /** background: a watched file changed; results the writer has on screen stay (only the status line is refreshed). */
  private async buildIndex(uris?: vscode.Uri[], rebuild = false, how: { background?: boolean } = {}): Promise<void> {
    let files = (uris ?? []).filter((u) => u.scheme === 'file').map((u) => u.fsPath);
    if (!files.length) {
      const picked = await vscode.window.showOpenDialog({
        canSelectMany: true,
        openLabel: vscode.l10n.t('Add to the BioHiCL index'),
        filters: { [vscode.l10n.t('PubMed / citations')]: ['xml', 'gz', 'nbib', 'txt', 'medline', 'json', 'bib'] },
      });
      if (!picked?.length) return;
      files = picked.map((u) => u.fsPath);
    }
    const opts = this.engine.options;
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: rebuild
          ? vscode.l10n.t('BioHiCL: rebuilding the index with this model')
          : vscode.l10n.t('BioHiCL: indexing'),
        cancellable: true,
      },
      async (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        let last = 0;
        try {
          const msg = await this.engine.buildIndex(
            files,
            (m, f) => {
              const inc = f !== undefined ? Math.max(0, Math.round(f * 100) - last) : undefined;
              if (inc) last += inc;
              progress.report({ message: m, increment: inc });
            },
            ac.signal,
            { rebuild },
          );
          await this.engine.reconfigure({ ...opts });
          void vscode.window.showInformationMessage(vscode.l10n.t('BioHiCL: {0} ({1})', msg, opts.indexDir));
        } catch (e) {
          const msg = errorText(e);
          this.log.error(`index build failed: ${msg}`);
          if (ac.signal.aborted)
            void vscode.window.showWarningMessage(
              vscode.l10n.t(
                'BioHiCL: indexing cancelled; what was committed stays in the index and the next run resumes.',
              ),
            );
          else
            void vscode.window
              .showErrorMessage(vscode.l10n.t('BioHiCL: indexing failed: {0}', msg), vscode.l10n.t('Show Logs'))
              .then((c) => {
                if (c) this.log.show();
              });
        }
      },
    );
    const status = await this.engine.statusWithIndex();
    const shown = this.sidebar.getState();
    if (how.background && shown.phase === 'results')
      this.sidebar.setState({ ...shown, results: { ...shown.results, status } });
    else if (!how.background || shown.phase === 'idle') this.sidebar.setState({ phase: 'idle', status });
  }

  private async fetchModel(): Promise<void> {
    const outDir = this.storage('models', 'biohicl-base');
    if (fs.existsSync(path.join(outDir, 'manifest.json'))) {
      await this.switchModel(outDir, vscode.l10n.t('BioHiCL-Base is already converted in {0}; using it.', outDir));
      return;
    }
    const fetch = vscode.l10n.t('Fetch');
    const ok = await vscode.window.showInformationMessage(
      vscode.l10n.t(
        'Fetch BioHiCL-Base from Hugging Face (about 440 MB) and convert it on this computer? Only the model is downloaded; none of your text is sent.',
      ),
      { modal: true },
      fetch,
    );
    if (ok !== fetch) return;
    if (await this.fetchAndConvert('biohicl-base', outDir))
      void this.switchModel(outDir, vscode.l10n.t('BioHiCL-Base is ready ({0}).', outDir));
  }

  /** Fetch a registry model (resumable, sha256-checked) and convert it into `outDir`, with progress and cancel. */
  private async fetchAndConvert(id: string, outDir: string): Promise<boolean> {
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('BioHiCL: fetching {0}', id),
        cancellable: true,
      },
      async (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        try {
          const { fetchModel } = await import('../inference/hub');
          const { convertModel } = await import('../inference/convert');
          const res = await fetchModel({
            id,
            destDir: this.storage('downloads', id),
            signal: ac.signal,
            allowUnpinned: true,
            onProgress: (p) =>
              progress.report({
                message: vscode.l10n.t(
                  '{0}: {1} MB at {2} MB/s',
                  p.file,
                  `${(p.bytes / 1e6).toFixed(0)}${p.total ? ` / ${(p.total / 1e6).toFixed(0)}` : ''}`,
                  (p.rate / 1e6).toFixed(1),
                ),
              }),
            onLog: (l) => this.log.info(`fetch: ${l}`),
          });
          progress.report({ message: vscode.l10n.t('converting to ONNX…') });
          await convertModel({
            srcDir: res.dir,
            baseDir: res.base?.dir,
            outDir,
            source: { repo: res.repo, revision: res.commit ?? res.revision },
          });
          return true;
        } catch (e) {
          const msg = errorText(e);
          this.log.error(`fetch failed: ${msg}`);
          const showLogs = vscode.l10n.t('Show Logs');
          void vscode.window
            .showErrorMessage(
              vscode.l10n.t('BioHiCL: fetching the model failed: {0}. Re-running resumes the download.', msg),
              vscode.l10n.t('Use generated weights (demo)'),
              showLogs,
            )
            .then((c) => {
              if (c === showLogs) this.log.show();
              else if (c) void this.useGeneratedWeights();
            });
          return false;
        }
      },
    );
  }

  /**
   * "Make the model again" for a model folder whose files differ from their manifest: generated weights are generated
   * anew, a registry model is fetched (what was downloaded before is reused when it still verifies) and converted
   * again, anything else gets the command that makes it (copied on request).
   */
  private async remakeModel(dir = this.engineOptions().modelDir): Promise<void> {
    if (!dir) {
      void vscode.commands.executeCommand('biohicl.fetchModel');
      return;
    }
    const { readManifest, remakeHint } = await import('../inference/manifest');
    let repo = '';
    let m: Parameters<typeof remakeHint>[1] | undefined;
    try {
      m = readManifest(dir);
      repo = m.source?.repo ?? '';
    } catch {
      /* an unreadable manifest: the command below says how */
    }
    const shape = /^generated:(tiny|base|large)$/.exec(repo)?.[1] as 'tiny' | 'base' | 'large' | undefined;
    const { defaultRegistry } = await import('../inference/hub');
    const id =
      repo && !shape ? Object.entries(defaultRegistry().models).find(([, e]) => e.repo === repo)?.[0] : undefined;
    if (!shape && !id) {
      const hint = m ? remakeHint(dir, m) : `\`biohicl model fetch --variant base --dir ${dir} --force\``;
      const c = await vscode.window.showWarningMessage(
        vscode.l10n.t(
          'BioHiCL: the model in {0} came from {1}; make it again with {2}, then run the query again.',
          dir,
          repo || vscode.l10n.t('an unknown source'),
          hint,
        ),
        vscode.l10n.t('Copy command'),
      );
      if (c) await vscode.env.clipboard.writeText(hint.replace(/^`|`(?: .*)?$/g, ''));
      return;
    }
    const what = shape
      ? vscode.l10n.t(
          'It has generated (random) weights: new random {0}-shaped weights are made, so an index built with the old ones must be rebuilt afterwards (you will be offered that).',
          shape,
        )
      : vscode.l10n.t(
          '{0} is fetched again (files downloaded earlier are reused when they still verify) and converted on this computer.',
          repo,
        );
    const again = vscode.l10n.t('Make it again');
    const ok = await vscode.window.showWarningMessage(
      vscode.l10n.t('Make the model in {0} again? The damaged folder is replaced. {1}', dir, what),
      { modal: true },
      again,
    );
    if (ok !== again) return;
    this.log.info(`model: making ${dir} again (${repo})`);
    await this.engine.reconfigure({ ...this.engineOptions(), modelDir: '' });
    const aside = `${dir}.damaged-${process.pid}`;
    fs.rmSync(aside, { recursive: true, force: true });
    fs.renameSync(dir, aside);
    let done = false;
    try {
      if (shape) {
        await vscode.window.withProgress(
          {
            location: vscode.ProgressLocation.Notification,
            title: vscode.l10n.t('BioHiCL: generating the {0}-shaped model again', shape),
          },
          async () => {
            const { ensureGeneratedModel } = await import('../index/model');
            await ensureGeneratedModel(dir, shape, (l) => this.log.info(l));
          },
        );
        done = true;
      } else {
        done = await this.fetchAndConvert(id!, dir);
      }
    } finally {
      if (done) fs.rmSync(aside, { recursive: true, force: true });
      else {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(aside, dir);
      }
      await this.engine.reconfigure(this.engineOptions());
    }
    if (!done) return;
    void vscode.window.showInformationMessage(vscode.l10n.t('BioHiCL: the model in {0} was made again.', dir));
    this.sidebar.setState({ phase: 'idle', status: await this.engine.status() });
    if (this.lastQuery) void this.runQuery(this.lastQuery.text, this.lastQuery.target);
  }

  /** Model folders on this computer a release (or an index) might have been built with. */
  private modelCandidates(): string[] {
    const meta = readIndexMeta(this.engine.options.indexDir);
    return [
      meta?.modelDir,
      this.ctx.globalState.get<string>('biohicl.previousModelDir'),
      ...['biohicl-base', 'generated-base'].map((m) => this.storage('models', m)),
    ].filter((d): d is string => !!d);
  }

  /**
   * "Get the PubMed index": pull a published release into the index folder (only the files it lacks, verified,
   * atomic switch), with its size before and during the download and a cancel that leaves the old index answering.
   */
  private async getPubmedIndex(given?: string): Promise<void> {
    let source = given?.trim();
    if (!source) {
      const dflt = this.config.releaseUrl || this.ctx.globalState.get<string>('biohicl.lastReleaseUrl') || '';
      const v = await vscode.window.showInputBox({
        title: vscode.l10n.t('BioHiCL: Get the PubMed index'),
        prompt: vscode.l10n.t(
          'Where the index release is published: an https:// URL, an s3://bucket/prefix, or a folder holding release.json. It goes into {0}; only the files not already there are downloaded.',
          this.engine.options.indexDir,
        ),
        value: dflt,
        placeHolder: vscode.l10n.t('https://example.org/biohicl/release-2026-12-01/'),
        ignoreFocusOut: true,
        validateInput: (x) => (x.trim() ? undefined : vscode.l10n.t('the release URL or folder')),
      });
      source = v?.trim();
      if (!source) return;
    }
    await this.ctx.globalState.update('biohicl.lastReleaseUrl', source);
    const indexDir = this.engine.options.indexDir;
    const { fmtBytes } = await import('../release/manifest');
    let problem: EngineProblem | undefined;
    let cancelled = false;
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('BioHiCL: getting the PubMed index'),
        cancellable: true,
      },
      async (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        let done = 0;
        const to = (pct: number): void => {
          const inc = Math.max(0, Math.round(pct) - done);
          if (inc) {
            done += inc;
            progress.report({ increment: inc });
          }
        };
        try {
          progress.report({ message: vscode.l10n.t('reading {0}…', source!) });
          const rel = await this.engine.peekRelease(source!);
          const papers = rel.counts.articles.toLocaleString('en-US');
          const through = rel.pubmedLast?.replace(/\.xml(\.gz)?$/, '');
          const about = through
            ? vscode.l10n.t(
                'release {0}: {1}, {2} papers, PubMed through {3}',
                rel.tag,
                fmtBytes(rel.totalBytes),
                papers,
                through,
              )
            : vscode.l10n.t('release {0}: {1}, {2} papers', rel.tag, fmtBytes(rel.totalBytes), papers);
          this.log.info(`pull: ${source} → ${indexDir}: ${about}`);
          progress.report({ message: vscode.l10n.t('{0}; checking what is already here…', about) });
          const r = await this.engine.pullIndex(source!, {
            summary: rel,
            signal: ac.signal,
            modelCandidates: this.modelCandidates(),
            onProgress: (p) => {
              if (p.phase === 'download' || p.phase === 'link') {
                progress.report({
                  message: p.total
                    ? vscode.l10n.t(
                        '{0} — downloading {1} of {2} (the rest is already here)',
                        about,
                        fmtBytes(p.bytes),
                        fmtBytes(p.total),
                      )
                    : vscode.l10n.t('{0} — all files already here', about),
                });
                if (p.total) to((90 * p.bytes) / p.total);
              } else if (p.phase === 'verify') {
                to(90);
                progress.report({ message: vscode.l10n.t('{0} — verifying every file…', about) });
              } else if (p.phase === 'open') {
                to(95);
                progress.report({ message: vscode.l10n.t('{0} — opening the new index…', about) });
              } else if (p.phase === 'switch') {
                to(99);
                progress.report({ message: vscode.l10n.t('{0} — switching to it…', about) });
              }
            },
          });
          to(100);
          const msg =
            r.status === 'up-to-date'
              ? vscode.l10n.t('the index at {0} already is release {1}; nothing was downloaded.', indexDir, r.tag)
              : vscode.l10n.t(
                  'the index at {0} is now release {1} ({2} papers): {3} downloaded in {4} files, {5} files were already here.',
                  indexDir,
                  r.tag,
                  r.counts.articles.toLocaleString('en-US'),
                  fmtBytes(r.receivedBytes),
                  r.downloadedFiles,
                  r.linkedFiles,
                ) +
                (r.previous
                  ? vscode.l10n.t(
                      ' The previous index is kept (`biohicl index pull --rollback --index {0}` goes back to it).',
                      indexDir,
                    )
                  : '');
          void vscode.window.showInformationMessage(vscode.l10n.t('BioHiCL: {0}', msg));
        } catch (e) {
          const m = errorText(e);
          this.log.error(`pull failed: ${m}`);
          if (e instanceof EngineProblem) problem = e;
          else if (ac.signal.aborted) cancelled = true;
          else {
            const retry = vscode.l10n.t('Retry');
            const showLogs = vscode.l10n.t('Show Logs');
            void vscode.window
              .showErrorMessage(vscode.l10n.t('BioHiCL: getting the PubMed index failed: {0}', m), retry, showLogs)
              .then((c) => {
                if (c === showLogs) this.log.show();
                if (c === retry) void this.getPubmedIndex(source);
              });
          }
        }
      },
    );
    if (cancelled) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t(
          'BioHiCL: getting the PubMed index was cancelled; nothing was switched: the index at {0} is unchanged and keeps answering. Run “Get the PubMed index” again to resume (what was downloaded is kept).',
          indexDir,
        ),
      );
    }
    await this.afterIndexChange();
    if (problem?.action === 'releaseModel') await this.onReleaseModel(problem, source);
  }

  /** A release built with another model: say so, and offer the ways out (its model's folder here, fetch it, choose one). */
  private async onReleaseModel(p: EngineProblem, source: string): Promise<void> {
    const dir = p.info.matchingModelDir;
    const use = dir ? vscode.l10n.t('Use {0} and get the index', path.basename(dir)) : undefined;
    const fetch = !dir && p.info.fetchId ? vscode.l10n.t('Fetch {0} and get the index', p.info.fetchId) : undefined;
    const choose = vscode.l10n.t('Choose model folder…');
    const keep = vscode.l10n.t('Keep the current index');
    const c = await vscode.window.showWarningMessage(
      vscode.l10n.t('BioHiCL: {0}', p.message),
      ...[use, fetch, choose, keep].filter((x): x is string => !!x),
    );
    let modelDir: string | undefined;
    if (c && c === use) modelDir = dir;
    else if (c && c === fetch) {
      const out = this.storage('models', p.info.fetchId!);
      if (!fs.existsSync(path.join(out, 'manifest.json')) && !(await this.fetchAndConvert(p.info.fetchId!, out)))
        return;
      modelDir = out;
    } else if (c === choose) {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: vscode.l10n.t('Use this model folder'),
      });
      if (!picked?.[0]) return;
      modelDir = picked[0].fsPath;
      if (!fs.existsSync(path.join(modelDir, 'manifest.json'))) {
        void vscode.window.showErrorMessage(
          vscode.l10n.t('BioHiCL: {0} holds no converted model (no manifest.json).', modelDir),
        );
        return;
      }
    }
    if (!modelDir) return;
    const before = this.engineOptions().modelDir;
    await this.config.update('modelDir', modelDir);
    if (before && before !== modelDir) await this.ctx.globalState.update('biohicl.previousModelDir', before);
    await this.engine.reconfigure(this.engineOptions());
    this.log.info(
      `model: biohicl.modelDir changed from ${before || '(none)'} to ${modelDir} (the model of release ${p.info.release?.tag ?? '?'})`,
    );
    await this.getPubmedIndex(source);
  }

  /** "Update the index": NLM's update files after the index's last PubMed file, fetched and applied as a build. */
  private async updateIndex(): Promise<void> {
    const mirror = this.config.pubmedMirror;
    const indexDir = this.engine.options.indexDir;
    let problem: EngineProblem | undefined;
    let mismatch: string | undefined;
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('BioHiCL: updating the index from PubMed'),
        cancellable: true,
      },
      async (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        let done = 0;
        try {
          const r = await this.engine.updateIndex(
            mirror,
            (m, f) => {
              const inc = f !== undefined ? Math.max(0, Math.round(f * 100) - done) : 0;
              if (inc) done += inc;
              progress.report({ message: m, ...(inc ? { increment: inc } : {}) });
            },
            ac.signal,
          );
          if (r.failures.length)
            void vscode.window
              .showWarningMessage(vscode.l10n.t('BioHiCL: {0}', r.message), vscode.l10n.t('Show Logs'))
              .then((c) => {
                if (c) this.log.show();
              });
          else void vscode.window.showInformationMessage(vscode.l10n.t('BioHiCL: {0}', r.message));
        } catch (e) {
          const m = errorText(e);
          this.log.error(`update failed: ${m}`);
          if (e instanceof EngineProblem) problem = e;
          else if (isModelMismatch(e)) mismatch = m;
          else if (ac.signal.aborted)
            void vscode.window.showWarningMessage(
              vscode.l10n.t(
                'BioHiCL: the update was cancelled; what was applied stays in the index, and running “Update the index” again resumes (downloaded files are kept).',
              ),
            );
          else {
            const retry = vscode.l10n.t('Retry');
            const showLogs = vscode.l10n.t('Show Logs');
            void vscode.window
              .showErrorMessage(
                vscode.l10n.t('BioHiCL: updating the index failed: {0}. Running it again resumes.', m),
                retry,
                showLogs,
              )
              .then((c) => {
                if (c === showLogs) this.log.show();
                if (c === retry) void this.updateIndex();
              });
          }
        }
      },
    );
    await this.afterIndexChange();
    if (problem) {
      const actions = problemActions(problem);
      const c = await vscode.window.showWarningMessage(
        vscode.l10n.t('BioHiCL: {0}', problem.message),
        ...actions.map((a) => a.label),
      );
      const act = actions.find((a) => a.label === c);
      if (act) await this.onErrorAction(act.command);
    } else if (mismatch) {
      const c = await vscode.window.showWarningMessage(
        vscode.l10n.t(
          'BioHiCL: the index at {0} was built with another model than the one in use, so update files cannot be added to it with this model. Rebuild it with this model, or switch back to its model, then update.',
          indexDir,
        ),
        vscode.l10n.t('Rebuild index with this model'),
      );
      if (c) await this.rebuildIndex();
    }
  }

  /** The index changed under the engine (pull, update): the sidebar shows the new status, and answers again. */
  private async afterIndexChange(): Promise<void> {
    this.engine.reopenIndex();
    const status = await this.engine.statusWithIndex();
    if (this.sidebar.getState().phase === 'results' && this.lastQuery)
      void this.runQuery(this.lastQuery.text, this.lastQuery.target, false);
    else this.sidebar.setState({ phase: 'idle', status });
  }

  private async useGeneratedWeights(): Promise<void> {
    const dir = this.storage('models', 'generated-base');
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('BioHiCL: generating a model with RANDOM weights (offline demo)'),
      },
      async () => {
        const { ensureGeneratedModel } = await import('../index/model');
        await ensureGeneratedModel(dir, 'base', (m) => this.log.info(m));
      },
    );
    await this.switchModel(
      dir,
      vscode.l10n.t(
        'GENERATED weights (random): timings are real, rankings mean nothing. Fetch BioHiCL-Base for real results.',
      ),
    );
  }

  /**
   * Point biohicl.modelDir at `dir` and say so: which setting changed, from what to what (with Undo), and, when the
   * index was built by another model, the in-editor ways out (rebuild it with this model, or switch back).
   */
  private async switchModel(dir: string, what: string): Promise<void> {
    const before = this.engineOptions().modelDir;
    if (this.config.modelDir !== dir) await this.config.update('modelDir', dir);
    if (before && before !== dir) await this.ctx.globalState.update('biohicl.previousModelDir', before);
    this.log.info(
      `model: ${before === dir ? `biohicl.modelDir is ${dir}` : `biohicl.modelDir changed from ${before || '(none)'} to ${dir}`}`,
    );
    const changed =
      before === dir
        ? vscode.l10n.t('biohicl.modelDir is {0}', dir)
        : vscode.l10n.t('biohicl.modelDir changed from {0} to {1}', before || vscode.l10n.t('(none)'), dir);
    const meta = readIndexMeta(this.engine.options.indexDir);
    let mismatch = false;
    if (meta?.model) {
      try {
        const { modelIdentity } = await import('../inference/identity');
        mismatch = !sameWeights(modelIdentity(dir, meta.model.queryPrefix), meta.model);
      } catch {
        /* no manifest: the next query says so */
      }
    }
    const undo = vscode.l10n.t('Undo');
    const rebuild = vscode.l10n.t('Rebuild index with this model');
    const actions = [...(before && before !== dir ? [undo] : []), ...(mismatch ? [rebuild] : [])];
    const note = mismatch
      ? vscode.l10n.t(
          ' The index at {0} was built with {1}: rebuild it with this model, or Undo to switch back.',
          this.engine.options.indexDir,
          modelLabel(meta?.model),
        )
      : '';
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('BioHiCL: {0}. {1}{2}', changed, what, note),
      ...actions,
    );
    if (choice === undo && before) {
      await this.config.update('modelDir', before);
      void vscode.window.showInformationMessage(vscode.l10n.t('BioHiCL: biohicl.modelDir is {0} again.', before));
    } else if (choice === rebuild) {
      await this.rebuildIndex();
    }
  }

  /** A query found the index built by another model: say it in the editor's terms and offer the ways out. */
  private async onModelMismatch(id: number, raw: string): Promise<void> {
    const indexDir = this.engine.options.indexDir;
    const meta = readIndexMeta(indexDir);
    const current = this.engineOptions().modelDir;
    const back = meta?.model
      ? await findModelDir(
          meta.model,
          [
            meta.modelDir,
            this.ctx.globalState.get<string>('biohicl.previousModelDir'),
            ...['biohicl-base', 'generated-base'].map((m) => this.storage('models', m)),
          ].filter((d) => d !== current),
        )
      : undefined;
    const actions: ErrorAction[] = [
      { command: 'rebuildIndex', label: vscode.l10n.t('Rebuild the index with this model') },
    ];
    if (back)
      actions.push({ command: 'useIndexModel', label: vscode.l10n.t('Switch back to {0}', modelLabel(meta?.model)) });
    this.mismatchModelDir = back;
    const message =
      vscode.l10n.t(
        'The index at {0} was built with {1}, but the model in use (biohicl.modelDir: {2}) is another one; vectors of different models cannot be mixed. ',
        indexDir,
        modelLabel(meta?.model),
        current || vscode.l10n.t('(none)'),
      ) +
      (back
        ? vscode.l10n.t('Rebuild the index with this model, or switch back to the model that built it ({0}).', back)
        : vscode.l10n.t('Rebuild the index with this model.'));
    this.sidebar.setState({
      phase: 'error',
      queryId: id,
      message,
      detail: raw,
      status: await this.engine.status(),
      actions,
    });
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('BioHiCL: {0}', message),
      ...actions.map((a) => a.label),
    );
    const act = actions.find((a) => a.label === choice);
    if (act) await this.onErrorAction(act.command);
  }

  private mismatchModelDir: string | undefined;

  private damagedModelDir: string | undefined;

  private async onErrorAction(command: ErrorAction['command']): Promise<string | void> {
    if (command === 'buildIndex') return void vscode.commands.executeCommand('biohicl.buildIndex');
    if (command === 'fetchModel') return void vscode.commands.executeCommand('biohicl.fetchModel');
    if (command === 'getPubmedIndex') return void vscode.commands.executeCommand('biohicl.getPubmedIndex');
    if (command === 'updateIndex') return void vscode.commands.executeCommand('biohicl.updateIndex');
    if (command === 'remakeModel') return void this.remakeModel(this.damagedModelDir);
    if (command === 'rebuildIndex') return this.rebuildIndex();
    const dir = this.mismatchModelDir;
    if (!dir)
      throw new Error(
        vscode.l10n.t(
          'No model folder on this computer holds the model that built the index: rebuild the index instead',
        ),
      );
    await this.config.update('modelDir', dir);
    this.log.info(`model: switched back to ${dir} (the model that built the index)`);
    if (this.lastQuery) void this.runQuery(this.lastQuery.text, this.lastQuery.target);
    return vscode.l10n.t('biohicl.modelDir is {0} again (the model that built the index)', dir);
  }

  /** Build the index again from the files it was built from, with the model in use (asks for files when they are gone). */
  private async rebuildIndex(): Promise<string | void> {
    let files = (await indexFiles(this.engine.options.indexDir)).filter((f) => fs.existsSync(f));
    if (!files.length) {
      const picked = await vscode.window.showOpenDialog({
        canSelectMany: true,
        openLabel: vscode.l10n.t('Rebuild the BioHiCL index from'),
        filters: { [vscode.l10n.t('PubMed / citations')]: ['xml', 'gz', 'nbib', 'txt', 'medline', 'json', 'bib'] },
      });
      if (!picked?.length) return;
      files = picked.map((u) => u.fsPath);
    }
    await this.buildIndex(
      files.map((f) => vscode.Uri.file(f)),
      true,
    );
    if (this.lastQuery) void this.runQuery(this.lastQuery.text, this.lastQuery.target);
  }

  private async pickDevice(): Promise<void> {
    const items: (vscode.QuickPickItem & { value: string })[] = [
      {
        label: 'auto',
        value: 'auto',
        description: vscode.l10n.t('CUDA on Linux x64 or DirectML on Windows when available, else CPU'),
      },
      { label: 'cpu', value: 'cpu', description: vscode.l10n.t('always available') },
      { label: 'cuda', value: 'cuda', description: vscode.l10n.t('NVIDIA GPU, Linux x64 (CUDA 12 + cuDNN 9)') },
      { label: 'dml', value: 'dml', description: vscode.l10n.t('DirectML, Windows') },
    ];
    const cur = this.config.device;
    const p = await vscode.window.showQuickPick(
      items.map((i) => ({
        ...i,
        picked: i.value === cur,
        detail: i.value === cur ? vscode.l10n.t('current') : undefined,
      })),
      { title: vscode.l10n.t('BioHiCL: device for the encoder') },
    );
    if (p) await this.config.update('device', p.value as 'auto');
  }

  /** CUDA on linux-x64: explain, fetch onnxruntime's provider libraries (verified) into global storage, install. */
  private async enableCuda(): Promise<void> {
    const gpu = await import('../inference/gpu');
    const storeDir = gpu.cudaStoreDir(this.ctx.globalStorageUri.fsPath);
    let st = gpu.cudaProviderStatus({ storeDir });
    this.log.info(`CUDA: ${st.summary}`);
    if (!st.supported) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t(
          'BioHiCL: CUDA is offered on Linux x64 only (this is {0}). {1}',
          st.platform,
          process.platform === 'win32'
            ? vscode.l10n.t('On Windows the DirectML provider inside onnxruntime is used with device "auto" or "dml".')
            : vscode.l10n.t('The CPU provider is used here.'),
        ),
      );
      return;
    }
    if (!st.providersInstalled) {
      if (st.providersInStore) {
        gpu.installCudaProviders(storeDir);
      } else {
        const install = vscode.l10n.t('Fetch and install');
        const ok = await vscode.window.showInformationMessage(
          vscode.l10n.t(
            "Enable CUDA: onnxruntime's CUDA provider libraries (NuGet package {0} {1}, several hundred MB, checked against NuGet's SHA-512) are fetched into the extension's storage and installed next to onnxruntime. They need the NVIDIA driver, the CUDA 12 runtime and cuDNN 9 on this machine. Only the libraries are downloaded; none of your text is sent.",
            gpu.NUGET_PACKAGE,
            st.ortVersion,
          ),
          { modal: true },
          install,
        );
        if (ok !== install) return;
        const done = await vscode.window.withProgress(
          {
            location: vscode.ProgressLocation.Notification,
            title: vscode.l10n.t('BioHiCL: CUDA provider'),
            cancellable: true,
          },
          async (progress, token) => {
            const ac = new AbortController();
            token.onCancellationRequested(() => ac.abort());
            try {
              await gpu.fetchCudaProviders({
                storeDir,
                signal: ac.signal,
                onProgress: (p) =>
                  progress.report({
                    message: `${p.phase}${p.total ? ` ${(p.received / 1e6).toFixed(0)} / ${(p.total / 1e6).toFixed(0)} MB` : p.received ? ` ${(p.received / 1e6).toFixed(0)} MB` : ''}${p.bytesPerSecond ? ` at ${(p.bytesPerSecond / 1e6).toFixed(1)} MB/s` : ''}`,
                  }),
              });
              gpu.installCudaProviders(storeDir);
              return true;
            } catch (e) {
              const msg = errorText(e);
              this.log.error(`CUDA fetch failed: ${msg}`);
              void vscode.window.showErrorMessage(
                vscode.l10n.t(
                  'BioHiCL: the CUDA provider could not be fetched: {0}. The CPU is used meanwhile; re-running resumes the download.',
                  msg,
                ),
              );
              return false;
            }
          },
        );
        if (!done) return;
      }
      st = gpu.cudaProviderStatus({ storeDir });
      this.log.info(`CUDA: ${st.summary}`);
    }
    if (st.ready) {
      await this.config.update('device', 'cuda');
      void vscode.window.showInformationMessage(
        vscode.l10n.t(
          'BioHiCL: CUDA is set up; the encoder restarts on CUDA with the next query (the sidebar shows the provider that ran).',
        ),
      );
    } else {
      void vscode.window
        .showWarningMessage(
          vscode.l10n.t(
            'BioHiCL: the CUDA provider is installed but cannot run yet: {0} The CPU is used until then.',
            st.problems.join(' '),
          ),
          vscode.l10n.t('Show Logs'),
        )
        .then((c) => {
          if (c) this.log.show();
        });
    }
  }

  async dispose(): Promise<void> {
    if (this.selectTimer) clearTimeout(this.selectTimer);
    for (const w of this.watchers) w.dispose();
    await this.engine.dispose();
  }
}

/** The ways out of a problem, as sidebar buttons and notification actions. */
function problemActions(p: EngineProblem): ErrorAction[] {
  switch (p.action) {
    case 'buildIndex':
      return [
        { command: 'getPubmedIndex', label: vscode.l10n.t('Get the PubMed index') },
        { command: 'buildIndex', label: vscode.l10n.t('Build index from files') },
      ];
    case 'chooseModel':
      return [{ command: 'fetchModel', label: vscode.l10n.t('Fetch model') }];
    case 'remakeModel':
      return [{ command: 'remakeModel', label: vscode.l10n.t('Make the model again') }];
    case 'getPubmedIndex':
      return [{ command: 'getPubmedIndex', label: vscode.l10n.t('Get the PubMed index') }];
    default:
      return [];
  }
}

export { SECTION };
