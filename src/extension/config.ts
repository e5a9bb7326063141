// One typed view of the `biohicl.*` settings. Knows which keys need the inference worker restarted and which only
// need the index reopened or nothing at all.
import * as vscode from 'vscode';
import type { Device } from '../inference/types';

export const SECTION = 'biohicl';
export type CiteCommand = '\\cite' | '\\citep' | '\\citet' | '\\autocite' | '\\parencite';

export interface ConfigSnapshot {
  device: Device;
  modelDir: string; // '' → the model chosen by the commands (global storage)
  indexDir: string; // '' → <global storage>/index
  queryPrefix: boolean;
  threads: number; // 0 → onnxruntime default
  suggestOnSelect: boolean;
  suggestDelayMs: number;
  citeCommand: CiteCommand;
  /** the writer set citeCommand (else the command the document uses most is followed) */
  citeCommandSet: boolean;
  bibliographyFile: string; // overrides detection when set
  manubotCiteAs: 'pubmed' | 'doi';
  keyPattern: string;
  /** the writer set keyPattern (then it wins over the bibliography's own key style) */
  keyPatternSet: boolean;
  cslStyle: string;
  resultsPapers: number;
  resultsMesh: number;
  resultsSentences: number;
}

/** Keys whose change restarts the inference worker (new model session). */
export const RESTART_WORKER_KEYS = ['device', 'modelDir', 'queryPrefix', 'threads'] as const;
/** Keys whose change reopens the index. */
export const REOPEN_INDEX_KEYS = ['indexDir'] as const;

/** NLM's own server (src/pubmed/nlm.ts NLM_MIRROR; repeated here so this file loads nothing else). */
export const DEFAULT_PUBMED_MIRROR = 'https://ftp.ncbi.nlm.nih.gov/pubmed/';

const DEVICES: Device[] = ['auto', 'cuda', 'dml', 'cpu'];
const CITES: CiteCommand[] = ['\\cite', '\\citep', '\\citet', '\\autocite', '\\parencite'];

function clampInt(v: unknown, lo: number, hi: number, dflt: number): number {
  const n = typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : dflt;
  return Math.min(hi, Math.max(lo, n));
}

export class Config {
  constructor(private readonly scope?: vscode.ConfigurationScope) {}

  private get c(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION, this.scope);
  }

  get device(): Device {
    const d = this.c.get<string>('device', 'auto');
    return (DEVICES as string[]).includes(d) ? (d as Device) : 'auto';
  }
  get modelDir(): string {
    return this.c.get<string>('modelDir', '').trim();
  }
  get indexDir(): string {
    return this.c.get<string>('indexDir', '').trim();
  }
  /** Where "Get the PubMed index" pulls a release from by default (https://…, s3://…, or a folder); '' → asked. */
  get releaseUrl(): string {
    return this.c.get<string>('releaseUrl', '').trim();
  }
  /** The NLM mirror "Update the index" fetches update files from. */
  get pubmedMirror(): string {
    return this.c.get<string>('pubmedMirror', DEFAULT_PUBMED_MIRROR).trim() || DEFAULT_PUBMED_MIRROR;
  }
  get queryPrefix(): boolean {
    return this.c.get<boolean>('queryPrefix', true);
  }
  get threads(): number {
    return clampInt(this.c.get('threads'), 0, 256, 0);
  }
  get suggestOnSelect(): boolean {
    return this.c.get<boolean>('suggestOnSelect', false);
  }
  get suggestDelayMs(): number {
    return clampInt(this.c.get('suggestDelayMs'), 100, 10_000, 700);
  }
  get citeCommand(): CiteCommand {
    const c = this.c.get<string>('citeCommand', '\\cite');
    return (CITES as string[]).includes(c) ? (c as CiteCommand) : '\\cite';
  }
  get bibliographyFile(): string {
    return this.c.get<string>('bibliographyFile', '').trim();
  }
  /** Bibliography files (e.g. a Better BibTeX auto-export) re-indexed whenever they change. */
  get watchBibliographies(): string[] {
    return (this.c.get<string[]>('watchBibliographies', []) ?? []).map((s) => s.trim()).filter(Boolean);
  }
  get manubotCiteAs(): 'pubmed' | 'doi' {
    return this.c.get<string>('manubotCiteAs', 'pubmed') === 'doi' ? 'doi' : 'pubmed';
  }
  get keyPattern(): string {
    return (
      this.c.get<string>('keyPattern', '[auth:lower][year][title:lower]').trim() || '[auth:lower][year][title:lower]'
    );
  }
  get keyPatternSet(): boolean {
    return this.isSet('keyPattern');
  }
  get citeCommandSet(): boolean {
    return this.isSet('citeCommand');
  }
  /** Whether the writer set a key (user, workspace or folder), as opposed to its default. */
  private isSet(key: string): boolean {
    const i = this.c.inspect<unknown>(key);
    return [i?.globalValue, i?.workspaceValue, i?.workspaceFolderValue].some((v) => v !== undefined && v !== '');
  }
  get cslStyle(): string {
    return this.c.get<string>('cslStyle', 'vancouver').trim() || 'vancouver';
  }
  get resultsPapers(): number {
    return clampInt(this.c.get('results.papers'), 1, 100, 10);
  }
  get resultsMesh(): number {
    return clampInt(this.c.get('results.mesh'), 0, 50, 8);
  }
  get resultsSentences(): number {
    return clampInt(this.c.get('results.sentences'), 0, 50, 6);
  }
  /** "Check citations": on save too, the least match strength that flags a sentence, and the most flags per document. */
  get check(): { onSave: boolean; threshold: number; maxPerDocument: number } {
    const t = this.c.get<number>('check.threshold', 0.5);
    return {
      onSave: this.c.get<boolean>('check.onSave', false),
      threshold: typeof t === 'number' && Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0.5,
      maxPerDocument: clampInt(this.c.get('check.maxPerDocument'), 1, 200, 10),
    };
  }

  snapshot(): ConfigSnapshot {
    return {
      device: this.device,
      modelDir: this.modelDir,
      indexDir: this.indexDir,
      queryPrefix: this.queryPrefix,
      threads: this.threads,
      suggestOnSelect: this.suggestOnSelect,
      suggestDelayMs: this.suggestDelayMs,
      citeCommand: this.citeCommand,
      citeCommandSet: this.citeCommandSet,
      bibliographyFile: this.bibliographyFile,
      manubotCiteAs: this.manubotCiteAs,
      keyPattern: this.keyPattern,
      keyPatternSet: this.keyPatternSet,
      cslStyle: this.cslStyle,
      resultsPapers: this.resultsPapers,
      resultsMesh: this.resultsMesh,
      resultsSentences: this.resultsSentences,
    };
  }

  /** What a configuration change needs: restart the worker, reopen the index, or nothing beyond re-reading. */
  static impact(e: vscode.ConfigurationChangeEvent): { restartWorker: boolean; reopenIndex: boolean; any: boolean } {
    const hit = (k: string): boolean => e.affectsConfiguration(`${SECTION}.${k}`);
    return {
      restartWorker: RESTART_WORKER_KEYS.some(hit),
      reopenIndex: REOPEN_INDEX_KEYS.some(hit),
      any: e.affectsConfiguration(SECTION),
    };
  }

  /**
   * Change a setting where it is set (a workspace value would hide a user-level change: the change would silently
   * not apply), else in the user settings.
   */
  async update<K extends 'device' | 'modelDir' | 'indexDir' | 'suggestOnSelect'>(
    key: K,
    value: ConfigSnapshot[K],
    target?: vscode.ConfigurationTarget,
  ): Promise<void>;
  async update(key: 'releaseUrl' | 'pubmedMirror', value: string, target?: vscode.ConfigurationTarget): Promise<void>;
  async update(key: string, value: unknown, target?: vscode.ConfigurationTarget): Promise<void> {
    const i = this.c.inspect<unknown>(key);
    const where =
      target ??
      (i?.workspaceFolderValue !== undefined && this.scope
        ? vscode.ConfigurationTarget.WorkspaceFolder
        : i?.workspaceValue !== undefined || i?.workspaceFolderValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global);
    await this.c.update(key, value, where);
  }
}
