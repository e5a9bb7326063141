// Citations into the writer's document and bibliography. What to change is planned by src/cite/plan.ts (pure, also
// what the real-clients tests run); this file reads the documents, asks what must be asked, and applies the plan as
// one WorkspaceEdit (undoable). The bibliography file is saved afterwards so LaTeX/Pandoc see it, unless it held
// unsaved edits of the writer's; the manuscript is left for the writer to save. The cursor ends up right after the
// citation (the selection does not grow over it, so the next keystroke does not replace it).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ConfigSnapshot } from './config';
import type { PaperMeta } from '../cite/paper';
import { toBibtex } from '../cite/bibtex';
import { docKind, latexBibliography, yamlBibliography, bibFormat, type DocKind } from '../cite/detect';
import { type TextEdit } from '../cite/insert';
import { keywordEdits } from '../cite/keywords';
import { formatReference } from '../cite/csl';
import {
  planCitation,
  planKeyCitation,
  decideKey,
  bibRecords,
  type BibSource,
  type CitePlan,
  type CiteContext,
} from '../cite/plan';
import { findRecords } from '../cite/match';
import { latexToolchain, latexCites, type LatexToolchain } from '../cite/syntax/latex';
import { pandocGroups } from '../cite/syntax/pandoc';
import { manubotCatalog, readManubotSources, manubotIdFor, type ManubotCatalog } from '../cite/syntax/manubot';
import { plainReferences } from '../cite/syntax/plain';
import { loadTexEncoder } from '../cite/texencode';

export interface CiteResult {
  message: string;
  key?: string;
  /** how the sidebar shows where the paper is now: the key, `@doi:…` (Manubot), `[3]` (plain text) */
  label?: string;
  /** the bibliography file the paper is in now (after the insert) */
  file?: string;
  plan?: CitePlan;
}

function range(doc: vscode.TextDocument, e: TextEdit): vscode.Range {
  return new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end));
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

async function readText(uri: vscode.Uri): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  try {
    return Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
  } catch {
    return undefined;
  }
}

/** The bibliography files of a document, by its own kind (LaTeX, Pandoc, …). */
export function documentBibliographies(doc: vscode.TextDocument, cfg: ConfigSnapshot): vscode.Uri[] {
  return bibliographyUris(doc, cfg, docKind(doc.languageId, doc.fileName, doc.getText()));
}

/** The bibliography files a document names (or the setting), resolved against the document's folder. */
export function bibliographyUris(doc: vscode.TextDocument, cfg: ConfigSnapshot, kind: DocKind): vscode.Uri[] {
  const dir = vscode.Uri.joinPath(doc.uri, '..');
  const rel = cfg.bibliographyFile
    ? [cfg.bibliographyFile]
    : kind === 'latex'
      ? latexBibliography(doc.getText())
      : kind === 'pandoc'
        ? yamlBibliography(doc.getText())
        : [];
  return rel.map((r) => (path.isAbsolute(r) ? vscode.Uri.file(r) : vscode.Uri.joinPath(dir, r)));
}

/** The bibliography files as plan input: their current text (an open document's, unsaved edits included). */
async function readBibs(uris: vscode.Uri[]): Promise<BibSource[]> {
  const out: BibSource[] = [];
  for (const uri of uris) {
    const format = bibFormat(uri.path);
    if (format === 'unsupported')
      throw new Error(
        vscode.l10n.t('{0}: only BibTeX (.bib) and CSL-JSON (.json) bibliographies can be edited', uri.fsPath),
      );
    out.push({
      path: uri.fsPath,
      format,
      text:
        (await exists(uri)) || vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())
          ? await readText(uri)
          : undefined,
    });
  }
  return out;
}

/** Who reads a LaTeX document's .bib: the document and a latexmkrc beside it. */
async function toolchainOf(doc: vscode.TextDocument): Promise<LatexToolchain> {
  let rc: string | undefined;
  for (const name of ['latexmkrc', '.latexmkrc']) {
    rc = await readText(vscode.Uri.joinPath(doc.uri, '..', name));
    if (rc !== undefined) break;
  }
  return latexToolchain(doc.getText(), rc);
}

function manubotOf(doc: vscode.TextDocument): ManubotCatalog {
  return manubotCatalog(readManubotSources(doc.fileName, doc.getText()));
}

/**
 * Insert a citation of `paper` into `editor` at its selection (joined to a citation group it is in or next to),
 * adding the paper to the bibliography unless it is there already (same PMID, DOI, or title and year: its key is
 * reused). `sentence` is inserted with the citation at its end (the "Insert with citation" of a similar sentence).
 */
export async function insertCitation(
  editor: vscode.TextEditor,
  paper: PaperMeta,
  cfg: ConfigSnapshot,
  sentence?: string,
  opts: { at?: { start: number; end: number }; manubotCiteAs?: 'pubmed' | 'doi' } = {},
): Promise<CiteResult> {
  const doc = editor.document;
  const text = doc.getText();
  const kind = docKind(doc.languageId, doc.fileName, text);
  const ctx: CiteContext = {
    kind,
    text,
    selStart: doc.offsetAt(editor.selection.start),
    selEnd: doc.offsetAt(editor.selection.end),
    sentence,
    at: opts.at,
    citeCommand: cfg.citeCommandSet ? cfg.citeCommand : undefined,
    keyPattern: cfg.keyPatternSet ? cfg.keyPattern : undefined,
    manubotCiteAs: opts.manubotCiteAs ?? cfg.manubotCiteAs,
  };
  let uris: vscode.Uri[] = [];
  if (kind === 'manubot') ctx.manubot = manubotOf(doc);
  else if (kind === 'plain') ctx.reference = formatReference(paper, cfg.cslStyle, path.dirname(doc.fileName));
  else {
    if (kind === 'latex') ctx.latex = await toolchainOf(doc);
    uris = bibliographyUris(doc, cfg, kind);
    if (!uris.length) {
      const target = vscode.Uri.joinPath(doc.uri, '..', 'references.bib');
      const where =
        kind === 'latex'
          ? vscode.l10n.t('no \\bibliography{} or \\addbibresource{}')
          : vscode.l10n.t('no bibliography: in the YAML front matter');
      const create = vscode.l10n.t('Create references.bib');
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t(
          'This document names no bibliography ({0}). Create {1} and add the reference there?',
          where,
          vscode.workspace.asRelativePath(target),
        ),
        { modal: true },
        create,
      );
      if (choice !== create) throw new Error(vscode.l10n.t('Citation not inserted: no bibliography file'));
      uris = [target];
      ctx.createHeader = 'references.bib';
    }
    ctx.bibs = await readBibs(uris);
  }
  const plan = await planCitation(paper, ctx);
  const bibUri = plan.bibEdit ? uris[plan.bibEdit.index] : undefined;
  if (plan.bibEdit?.created && !ctx.createHeader && bibUri) {
    const create = vscode.l10n.t('Create');
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('The bibliography {0} does not exist. Create it?', vscode.workspace.asRelativePath(bibUri)),
      { modal: true },
      create,
    );
    if (choice !== create) throw new Error(vscode.l10n.t('Citation not inserted: bibliography file missing'));
  }
  const edit = new vscode.WorkspaceEdit();
  for (const e of plan.docEdits) edit.replace(doc.uri, range(doc, e), e.text);
  let unsavedNote = '';
  let save: vscode.Uri | undefined;
  if (plan.bibEdit && bibUri) {
    const bibDoc =
      vscode.workspace.textDocuments.find((d) => d.uri.toString() === bibUri.toString()) ??
      (plan.bibEdit.created ? undefined : await vscode.workspace.openTextDocument(bibUri));
    if (bibDoc) {
      edit.replace(bibUri, range(bibDoc, plan.bibEdit.edit), plan.bibEdit.edit.text);
      // The bibliography is saved so that LaTeX/Pandoc see the entry, unless the writer has unsaved edits in it:
      // those are theirs to save (or not), so the entry stays unsaved with them and the message says so.
      if (bibDoc.isDirty) unsavedNote = vscode.l10n.t(' — not saved: the file had unsaved changes of yours');
      else save = bibUri;
    } else {
      edit.createFile(bibUri, { ignoreIfExists: true, contents: Buffer.from(plan.bibEdit.edit.text, 'utf8') });
    }
  }
  if (edit.size && !(await vscode.workspace.applyEdit(edit)))
    throw new Error(vscode.l10n.t('VS Code refused the edit (is the document read-only?)'));
  // the writer's selection does not grow over the citation: the cursor goes right after it
  const at = doc.positionAt(plan.cursor);
  editor.selection = new vscode.Selection(at, at);
  if (save) {
    const d = vscode.workspace.textDocuments.find((x) => x.uri.toString() === save!.toString());
    if (d?.isDirty) await d.save();
  }
  const message = unsavedNote ? plan.message.replace(/\)([^)]*)$/, `${unsavedNote})$1`) : plan.message;
  const label = kind === 'manubot' ? `@${plan.key}` : kind === 'plain' ? `[${plan.key}]` : plan.key;
  const file =
    kind === 'plain' ? 'References' : (plan.existing?.file ?? (bibUri ? path.basename(bibUri.fsPath) : undefined));
  return { message, key: plan.key, label, file, plan };
}

/** Cite a key of the writer's own bibliography (picked from "Cite…"): at `at`, or joined at the selection. */
export async function insertKey(
  editor: vscode.TextEditor,
  key: string,
  cfg: ConfigSnapshot,
  at?: { start: number; end: number },
): Promise<string> {
  const doc = editor.document;
  const text = doc.getText();
  const kind = docKind(doc.languageId, doc.fileName, text);
  const p = planKeyCitation(key, {
    kind,
    text,
    selStart: doc.offsetAt(editor.selection.start),
    selEnd: doc.offsetAt(editor.selection.end),
    at,
    citeCommand: cfg.citeCommandSet ? cfg.citeCommand : undefined,
  });
  const edit = new vscode.WorkspaceEdit();
  for (const e of p.docEdits) edit.replace(doc.uri, range(doc, e), e.text);
  if (edit.size && !(await vscode.workspace.applyEdit(edit)))
    throw new Error(vscode.l10n.t('VS Code refused the edit (is the document read-only?)'));
  const pos = doc.positionAt(p.cursor);
  editor.selection = new vscode.Selection(pos, pos);
  return p.alreadyCited ? vscode.l10n.t('Already cited here: {0}', key) : vscode.l10n.t('Cited {0}', key);
}

/** BibTeX for the clipboard: the key the document's bibliography already uses, or a new one in its style. */
export async function bibtexFor(
  paper: PaperMeta,
  cfg: ConfigSnapshot,
  doc: vscode.TextDocument | undefined,
): Promise<string> {
  let bibs: BibSource[] = [];
  let toolchain: LatexToolchain | undefined;
  if (doc) {
    const kind = docKind(doc.languageId, doc.fileName, doc.getText());
    bibs = await readBibs(bibliographyUris(doc, cfg, kind).filter((u) => bibFormat(u.path) !== 'unsupported')).catch(
      () => [],
    );
    if (kind === 'latex') toolchain = await toolchainOf(doc);
  }
  const d = decideKey(paper, bibs, cfg.keyPatternSet ? cfg.keyPattern : undefined);
  return toBibtex(paper, d.key, {
    encoder: await loadTexEncoder(),
    encoding: toolchain?.encoding ?? 'utf8',
    dialect: toolchain?.dialect ?? 'biblatex',
  }).text;
}

/** Which of these papers the document's bibliography holds already, and under which key (for the sidebar). */
export async function papersInBibliography(
  doc: vscode.TextDocument,
  cfg: ConfigSnapshot,
  papers: PaperMeta[],
): Promise<Map<string, { key: string; file?: string }>> {
  const out = new Map<string, { key: string; file?: string }>();
  const kind = docKind(doc.languageId, doc.fileName, doc.getText());
  if (kind === 'manubot') {
    const cat = manubotOf(doc);
    for (const p of papers) {
      const m = manubotIdFor(cat, p).match;
      if (m) out.set(p.pmid, { key: `@${m.record.key}` });
    }
  } else if (kind === 'plain') {
    const refs = plainReferences(doc.getText());
    for (const p of papers) {
      const r = refs.find((x) => new RegExp(`PMID:?\\s*${p.pmid}\\b`).test(x.text));
      if (r) out.set(p.pmid, { key: `[${r.n}]`, file: 'References' });
    }
  } else {
    const bibs = await readBibs(
      bibliographyUris(doc, cfg, kind).filter((u) => bibFormat(u.path) !== 'unsupported'),
    ).catch(() => [] as BibSource[]);
    let records;
    try {
      records = bibRecords(bibs);
    } catch {
      return out;
    }
    // of two keys for one paper (the writer's own duplicates), the one the document cites
    const text = doc.getText();
    const cited = new Set((kind === 'latex' ? latexCites(text) : pandocGroups(text)).flatMap((g) => g.keys));
    for (const p of papers) {
      const all = findRecords(records, p);
      const m = all.find((x) => cited.has(x.record.key)) ?? all[0];
      if (m) out.set(p.pmid, { key: m.record.key, file: m.record.file });
    }
  }
  return out;
}

/** Manubot keeps title and keywords in content/metadata.yaml beside the document's content/ files. */
export async function manubotMetadata(
  doc: vscode.TextDocument,
): Promise<{ uri: vscode.Uri; text: string } | undefined> {
  if (docKind(doc.languageId, doc.fileName, doc.getText()) !== 'manubot') return undefined;
  for (const dir of [vscode.Uri.joinPath(doc.uri, '..'), vscode.Uri.joinPath(doc.uri, '..', '..', 'content')]) {
    for (const name of ['metadata.yaml', 'metadata.yml']) {
      const uri = vscode.Uri.joinPath(dir, name);
      const text = await readText(uri);
      if (text !== undefined) return { uri, text };
    }
  }
  return undefined;
}

/**
 * Put MeSH headings into the manuscript's keyword field (src/cite/keywords.ts decides where and how), as one
 * undoable edit; Manubot's metadata.yaml is saved like a bibliography (unless it held unsaved edits).
 */
export async function insertKeywords(
  editor: vscode.TextEditor,
  terms: string[],
): Promise<{ message: string; added: string[]; present: string[] }> {
  const doc = editor.document;
  const text = doc.getText();
  const kind = docKind(doc.languageId, doc.fileName, text);
  const meta = await manubotMetadata(doc);
  const r = keywordEdits(text, kind, doc.offsetAt(editor.selection.active), terms, { metadataYaml: meta?.text });
  const edit = new vscode.WorkspaceEdit();
  for (const e of r.edits) edit.replace(doc.uri, range(doc, e), e.text);
  let metaDoc: vscode.TextDocument | undefined;
  if (meta && r.metadataEdits?.length) {
    metaDoc = await vscode.workspace.openTextDocument(meta.uri);
    for (const e of r.metadataEdits) edit.replace(meta.uri, range(metaDoc, e), e.text);
  }
  const wasDirty = metaDoc?.isDirty;
  if (edit.size && !(await vscode.workspace.applyEdit(edit)))
    throw new Error(vscode.l10n.t('VS Code refused the edit (is the document read-only?)'));
  if (metaDoc && !wasDirty) await metaDoc.save();
  const list = (xs: string[]): string => xs.map((x) => `“${x}”`).join(', ');
  const where =
    r.where === 'the cursor'
      ? vscode.l10n.t('at the cursor (no keyword field found)')
      : vscode.l10n.t('into {0}', r.where);
  const inserted =
    r.added.length === 1
      ? vscode.l10n.t('Inserted keyword {0} {1}', list(r.added), where)
      : vscode.l10n.t('Inserted keywords {0} {1}', list(r.added), where);
  const message = r.added.length
    ? inserted + (r.present.length ? vscode.l10n.t('; already there: {0}', list(r.present)) : '')
    : vscode.l10n.t('Already a keyword: {0}', list(r.present));
  return { message, added: r.added, present: r.present };
}
