// "BioHiCL: Check citations" in the editor: the check itself is src/check (no vscode); this file turns its report
// into Information diagnostics (uncited claims, capped per document; weak citations), offers "Cite <paper>" quick
// fixes that go through the one citation insert path (citations.ts insertCitation: key + bibliography entry), runs
// on save when `biohicl.check.onSave` is on, and adds "is this the right citation?" to the hover of a citation key.
import { errorText } from '../util/errors';
import * as vscode from 'vscode';
import type { Engine } from '../app/engine';
import type { Config } from './config';
import { docKind } from '../cite/detect';
import { citeKeyAt } from '../cite/locate';
import { paperMeta } from '../cite/paper';
import type { Candidate, CheckReport } from '../check/check';
import { insertCitation } from './citations';
import { readBibliographies, resolveCitationKey } from './hover';

export const CHECK_SOURCE = 'BioHiCL';
const UNCITED = 'uncited-claim';
const WEAK = 'weak-citation';

const pct = (x: number): string => `${Math.round(x * 100)} %`;

// The check (and through its search the index, LanceDB included) loads on first use, not when the extension activates.
type CheckLib = typeof import('../check/check') &
  typeof import('../check/segment') &
  typeof import('../check/searchers');
let libP: Promise<CheckLib> | undefined;
function lib(): Promise<CheckLib> {
  libP ??= Promise.all([import('../check/check'), import('../check/segment'), import('../check/searchers')]).then(
    ([a, b, c]) => ({ ...a, ...b, ...c }),
  );
  return libP;
}

/** A diagnostic with quick fixes: the text a citation goes after (a claim, or a citation group it joins) and the papers. */
interface Flagged {
  start: number;
  text: string;
  papers: Candidate[];
  diagnostic: vscode.Diagnostic;
  /** the quick fixes' titles, by PMID */
  titles: Map<string, string>;
}

export class CitationCheck implements vscode.CodeActionProvider, vscode.HoverProvider {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('biohicl-check');
  /** per document: the flagged claims behind its diagnostics (what the quick fixes cite) */
  private readonly flagged = new Map<string, Flagged[]>();
  private running = new Map<string, Promise<CheckReport | undefined>>();

  constructor(
    private readonly engine: () => Engine,
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  register(selector: vscode.DocumentSelector): vscode.Disposable[] {
    return [
      this.diagnostics,
      vscode.commands.registerCommand('biohicl.checkCitations', () => this.checkActive()),
      vscode.commands.registerCommand('biohicl.citeClaim', (uri: string, start: number, text: string, pmid: string) =>
        this.citeClaim(uri, start, text, pmid),
      ),
      vscode.languages.registerCodeActionsProvider(selector, this, {
        providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
      }),
      vscode.languages.registerHoverProvider(selector, this),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (this.config.check.onSave && vscode.languages.match(selector, d))
          void this.check(d, false).catch((e: Error) => this.log.warn(`check on save: ${e.message}`));
      }),
      vscode.workspace.onDidChangeTextDocument((e) => this.onChange(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri)),
    ];
  }

  private async checkActive(): Promise<void> {
    const ed = vscode.window.activeTextEditor;
    if (!ed) {
      void vscode.window.showWarningMessage(vscode.l10n.t('BioHiCL: open a manuscript to check its citations'));
      return;
    }
    try {
      const r = await this.check(ed.document, true);
      if (!r) return;
      const c = r.counts;
      const capped =
        c.capped > 0
          ? vscode.l10n.t(' ({0} more above the threshold left out: biohicl.check.maxPerDocument)', c.capped)
          : '';
      const claims =
        r.flags.length === 1
          ? vscode.l10n.t('{0} uncited claim', r.flags.length)
          : vscode.l10n.t('{0} uncited claims', r.flags.length);
      const weak =
        r.weak.length === 1
          ? vscode.l10n.t('{0} weak citation', r.weak.length)
          : vscode.l10n.t('{0} weak citations', r.weak.length);
      void vscode.window.showInformationMessage(
        vscode.l10n.t(
          'BioHiCL: {0}{1}, {2} of {3} checked; {4} sentences, {5} already cite.',
          claims,
          capped,
          weak,
          c.citationsChecked,
          c.sentences,
          c.citing,
        ),
      );
    } catch (e) {
      const m = errorText(e);
      this.log.error(`check citations: ${m}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('BioHiCL: Check citations failed: {0}', m));
    }
  }

  /** Check a document and show the result as diagnostics (a check already running for it is reused). */
  check(doc: vscode.TextDocument, interactive: boolean): Promise<CheckReport | undefined> {
    const id = doc.uri.toString();
    const cur = this.running.get(id);
    if (cur) return cur;
    const p = this.runCheck(doc, interactive).finally(() => this.running.delete(id));
    this.running.set(id, p);
    return p;
  }

  private async runCheck(doc: vscode.TextDocument, interactive: boolean): Promise<CheckReport | undefined> {
    const text = doc.getText();
    const version = doc.version;
    const kind = docKind(doc.languageId, doc.fileName, text);
    const cfg = this.config.check;
    const engine = this.engine();
    const t0 = Date.now();
    const L = await lib();
    const { checkDocument, engineSearcher } = L;
    const bibs = await readBibliographies(doc, this.config); // read once for every key of the document
    const run = (signal?: AbortSignal, report?: (done: number, total: number) => void): Promise<CheckReport> =>
      checkDocument(text, kind, engineSearcher(engine), {
        threshold: cfg.threshold,
        maxFlags: cfg.maxPerDocument,
        resolveKey: (key) => this.paperForKey(doc, key, bibs),
        signal,
        onProgress: report,
      });
    let r: CheckReport;
    if (interactive) {
      const out = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: vscode.l10n.t('BioHiCL: checking citations'),
          cancellable: true,
        },
        async (progress, token) => {
          const ac = new AbortController();
          token.onCancellationRequested(() => ac.abort());
          let last = 0;
          try {
            return await run(ac.signal, (done, total) => {
              const f = (100 * done) / Math.max(1, total);
              progress.report({ message: vscode.l10n.t('{0}/{1} sentences', done, total), increment: f - last });
              last = f;
            });
          } catch (e) {
            if ((e as Error).name === 'AbortError') return undefined;
            throw e;
          }
        },
      );
      if (!out) return undefined;
      r = out;
    } else r = await run();
    if (doc.version !== version) {
      this.log.info('check citations: the document changed during the check; its result is not shown');
      return r;
    }
    this.show(doc, r, L);
    const c = r.counts;
    this.log.info(
      `check citations ${vscode.workspace.asRelativePath(doc.uri)}: ${c.sentences} sentences (${c.citing} cite, ${c.claims} state a finding), ${c.searched} searched, ${c.aboveThreshold} at or above ${cfg.threshold}, ${r.flags.length} flagged (cap ${cfg.maxPerDocument}); ${c.citationsChecked} citations checked, ${r.weak.length} weak; skipped regions ${JSON.stringify(c.skippedRegions)}; ${Date.now() - t0} ms`,
    );
    return r;
  }

  private show(doc: vscode.TextDocument, r: CheckReport, { shortRef }: CheckLib): void {
    const range = (a: number, b: number): vscode.Range => new vscode.Range(doc.positionAt(a), doc.positionAt(b));
    const flagged: Flagged[] = [];
    const list: vscode.Diagnostic[] = [];
    for (const f of r.flags) {
      const best = f.papers[0];
      const d = new vscode.Diagnostic(
        range(f.start, f.end),
        best
          ? vscode.l10n.t(
              'Uncited claim? It matches papers in your index (best: {0}, {1} of its terms).',
              shortRef(best.paper),
              pct(best.match.strength),
            )
          : vscode.l10n.t('Uncited claim? It matches papers in your index.'),
        vscode.DiagnosticSeverity.Information,
      );
      d.source = CHECK_SOURCE;
      d.code = UNCITED;
      flagged.push({
        start: f.start,
        text: f.text,
        papers: f.papers.map((p) => p.paper),
        diagnostic: d,
        titles: new Map(f.papers.map((p) => [p.paper.pmid, vscode.l10n.t('Cite {0}', shortRef(p.paper))])),
      });
      list.push(d);
    }
    for (const w of r.weak) {
      const d = new vscode.Diagnostic(
        range(w.cite.start, w.cite.end),
        vscode.l10n.t('Is this the right citation? {0}', w.support.summary),
        vscode.DiagnosticSeverity.Information,
      );
      d.source = CHECK_SOURCE;
      d.code = WEAK;
      // "Also cite <better match>": joins the citation group, through the same insert path
      flagged.push({
        start: w.cite.start,
        text: doc.getText().slice(w.cite.start, w.cite.end),
        papers: w.support.better.map((b) => b.paper),
        diagnostic: d,
        titles: new Map(
          w.support.better.map((b) => [
            b.paper.pmid,
            vscode.l10n.t('Also cite {0} (matches better)', shortRef(b.paper)),
          ]),
        ),
      });
      list.push(d);
    }
    this.flagged.set(doc.uri.toString(), flagged);
    this.diagnostics.set(doc.uri, list);
  }

  /** An edit drops the diagnostics it touches (a cited or rewritten sentence is no longer what was checked). */
  private onChange(e: vscode.TextDocumentChangeEvent): void {
    const cur = this.diagnostics.get(e.document.uri);
    if (!cur?.length || !e.contentChanges.length) return;
    const touched = (d: vscode.Diagnostic): boolean =>
      e.contentChanges.some((c) => c.range.intersection(d.range) !== undefined);
    const keep = cur.filter((d) => !touched(d));
    if (keep.length === cur.length) return;
    this.diagnostics.set(e.document.uri, keep);
    const id = e.document.uri.toString();
    this.flagged.set(
      id,
      (this.flagged.get(id) ?? []).filter((f) => keep.includes(f.diagnostic)),
    );
  }

  private forget(uri: vscode.Uri): void {
    this.diagnostics.delete(uri);
    this.flagged.delete(uri.toString());
  }

  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const f of this.flagged.get(doc.uri.toString()) ?? []) {
      if (!f.diagnostic.range.intersection(range)) continue;
      f.papers.forEach((p, i) => {
        const a = new vscode.CodeAction(
          f.titles.get(p.pmid) ?? vscode.l10n.t('Cite PMID {0}', p.pmid),
          vscode.CodeActionKind.QuickFix,
        );
        a.diagnostics = [f.diagnostic];
        a.isPreferred = i === 0;
        a.command = {
          command: 'biohicl.citeClaim',
          title: a.title,
          arguments: [doc.uri.toString(), f.start, f.text, p.pmid],
        };
        out.push(a);
      });
    }
    return out;
  }

  /**
   * The quick fix: select the sentence (or the citation group) and cite the paper through the one insert path (key
   * + bibliography entry; a group next to the selection is joined).
   */
  private async citeClaim(uri: string, start: number, text: string, pmid: string): Promise<void> {
    try {
      const flagged = this.flagged.get(uri) ?? [];
      const f = flagged.find((x) => x.start === start && x.text === text);
      const paper = f?.papers.find((p) => p.pmid === pmid) ?? (await this.engine().paper(pmid));
      if (!paper) throw new Error(vscode.l10n.t('PMID {0} is not in the index', pmid));
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
      const editor = await vscode.window.showTextDocument(doc, { preview: false });
      // the sentence where it is now (edits elsewhere may have moved it)
      const all = doc.getText();
      let at = all.slice(start, start + text.length) === text ? start : -1;
      if (at < 0) {
        let best = -1;
        for (let i = all.indexOf(text); i >= 0; i = all.indexOf(text, i + 1))
          if (best < 0 || Math.abs(i - start) < Math.abs(best - start)) best = i;
        at = best;
      }
      if (at < 0)
        throw new Error(vscode.l10n.t('the sentence changed since the check: run “BioHiCL: Check citations” again'));
      editor.selection = new vscode.Selection(doc.positionAt(at), doc.positionAt(at + text.length));
      const r = await insertCitation(editor, paperMeta(paper), this.config.snapshot());
      this.log.info(`check citations: cited PMID ${pmid} (quick fix) → ${r.message}`);
      if (f) {
        this.flagged.set(
          uri,
          flagged.filter((x) => x !== f),
        );
        this.diagnostics.set(
          doc.uri,
          (this.diagnostics.get(doc.uri) ?? []).filter((d) => d !== f.diagnostic),
        );
      }
      void vscode.window.showInformationMessage(vscode.l10n.t('BioHiCL: {0}', r.message));
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('BioHiCL: {0}', errorText(e)));
    }
  }

  private async paperForKey(
    doc: vscode.TextDocument,
    key: string,
    bibs?: { path: string; text: string }[],
  ): Promise<Candidate | undefined> {
    const id = await resolveCitationKey(doc, key, this.config, bibs);
    const p = id?.pmid
      ? await this.engine().paper(id.pmid)
      : id?.doi
        ? await this.engine().paperByDoi(id.doi)
        : undefined;
    return p ? { ...paperMeta(p), abstract: p.abstract } : undefined;
  }

  /** Hover on a citation key whose paper is in the index: how well it supports its sentence, and better matches. */
  async provideHover(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Hover | undefined> {
    const key = citeKeyAt(doc.lineAt(pos.line).text, pos.character);
    if (!key) return undefined;
    const text = doc.getText();
    const offset = doc.offsetAt(pos);
    const { segment, engineSearcher, citationSupport, shortRef } = await lib();
    const s = segment(text, docKind(doc.languageId, doc.fileName, text)).sentences.find((x) =>
      x.cites.some((c) => offset >= c.start && offset <= c.end),
    );
    if (!s?.query) return undefined;
    let md: vscode.MarkdownString;
    try {
      const cited = await this.paperForKey(doc, key);
      if (!cited) return undefined;
      const hits = await engineSearcher(this.engine(), 'check-hover')(s.query, 10);
      const sup = citationSupport(key, s.query, cited, hits);
      md = new vscode.MarkdownString();
      md.appendMarkdown(
        sup.weak ? vscode.l10n.t('**Is this the right citation?** ') : vscode.l10n.t('**Support for this sentence:** '),
      );
      md.appendText(
        vscode.l10n.t(
          "the abstract has {0} of the sentence's terms; {1} in your index for this sentence.",
          pct(sup.match.strength),
          sup.rank
            ? vscode.l10n.t('rank {0} of {1}', sup.rank, hits.length)
            : vscode.l10n.t('not among the {0} best papers', hits.length),
        ),
      );
      if (sup.match.best) {
        md.appendMarkdown(vscode.l10n.t('\n\nBest-matching sentence of its abstract: *'));
        md.appendText(sup.match.best.text);
        md.appendMarkdown('*');
      }
      if (sup.better.length) {
        md.appendMarkdown(vscode.l10n.t('\n\n**Better-matching papers:**'));
        for (const b of sup.better) {
          md.appendMarkdown('\n- ');
          md.appendText(
            vscode.l10n.t(
              '{0} (PMID {1}): {2} of the terms, rank {3}',
              shortRef(b.paper, Infinity),
              b.paper.pmid,
              pct(b.match.strength),
              b.rank,
            ),
          );
        }
      }
      md.appendMarkdown('\n\n');
      md.appendText(vscode.l10n.t('Matched on this computer: no text left it.'));
    } catch {
      return undefined; // no index or model yet: the citation hover says what it can
    }
    return new vscode.Hover(md);
  }
}
