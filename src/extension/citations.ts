// Citations into the writer's document and bibliography, all as WorkspaceEdits (undoable; the bibliography file is
// saved afterwards so LaTeX/Pandoc see it, unless it held unsaved edits of the writer's; the manuscript is left for
// the writer to save).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ConfigSnapshot } from './config';
import type { PaperMeta } from '../cite/paper';
import { normDoi } from '../cite/paper';
import { makeCiteKey } from '../cite/citekey';
import { parseBibtex, findExistingKey, toBibtex, parseCslJson, findExistingCslKey, toCslItem, appendCslItem } from '../cite/bibtex';
import { docKind, latexBibliography, yamlBibliography, bibFormat, frontMatter, type DocKind } from '../cite/detect';
import { latexCitationEdit, pandocCitationEdit, plainCitationEdits, keywordEdit, citationAnchor, type TextEdit } from '../cite/insert';
import { formatReference } from '../cite/csl';

export interface CiteResult { message: string; key?: string }

function range(doc: vscode.TextDocument, e: TextEdit): vscode.Range {
  return new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end));
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try { await vscode.workspace.fs.stat(uri); return true; } catch { return false; }
}

/** The bibliography files a document names (or the setting), resolved against the document's folder. */
export function bibliographyUris(doc: vscode.TextDocument, cfg: ConfigSnapshot, kind: DocKind): vscode.Uri[] {
  const dir = vscode.Uri.joinPath(doc.uri, '..');
  const rel = cfg.bibliographyFile ? [cfg.bibliographyFile] : kind === 'latex' ? latexBibliography(doc.getText()) : kind === 'pandoc' ? yamlBibliography(doc.getText()) : [];
  return rel.map((r) => (path.isAbsolute(r) ? vscode.Uri.file(r) : vscode.Uri.joinPath(dir, r)));
}

interface BibState { uri: vscode.Uri; doc?: vscode.TextDocument; keys: string[]; existing?: string; format: 'bibtex' | 'csl-json' }

async function readBibs(uris: vscode.Uri[], paper: PaperMeta): Promise<BibState[]> {
  const out: BibState[] = [];
  for (const uri of uris) {
    const format = bibFormat(uri.path);
    if (format === 'unsupported') throw new Error(`${uri.fsPath}: only BibTeX (.bib) and CSL-JSON (.json) bibliographies can be edited`);
    if (!(await exists(uri))) { out.push({ uri, keys: [], format }); continue; }
    const doc = await vscode.workspace.openTextDocument(uri);
    const text = doc.getText();
    if (format === 'bibtex') {
      const entries = parseBibtex(text);
      out.push({ uri, doc, format, keys: entries.map((e) => e.key), existing: findExistingKey(entries, paper) });
    } else {
      const items = parseCslJson(text, uri.fsPath);
      out.push({ uri, doc, format, keys: items.map((i) => i.id), existing: findExistingCslKey(items, paper) });
    }
  }
  return out;
}

/**
 * Insert a citation of `paper` into `editor` at its selection (merged into an open citation), adding the paper to the
 * bibliography unless it is there already (same PMID or DOI: its key, e.g. a Better BibTeX key, is reused).
 * `prefixText` is inserted before the citation (the "Insert with citation" of a similar sentence).
 */
export async function insertCitation(editor: vscode.TextEditor, paper: PaperMeta, cfg: ConfigSnapshot, prefixText?: string): Promise<CiteResult> {
  const doc = editor.document;
  const text = doc.getText();
  const kind = docKind(doc.languageId, doc.fileName, text);
  const sel = editor.selection;
  const start = doc.offsetAt(sel.start);
  const end = doc.offsetAt(sel.end);
  const edit = new vscode.WorkspaceEdit();
  // "Insert with citation": the sentence goes after the selection, cited at its own end (before its full stop).
  const sentence = prefixText?.replace(/\s+/g, ' ').trim();
  const lead = end === 0 || /\s$/.test(text.slice(0, end)) ? '' : ' ';
  const withCite = (cite: (t: string, a: number, b: number) => TextEdit | undefined): string => {
    const s0 = sentence ?? '';
    const e = cite(s0, 0, s0.length);
    return e ? s0.slice(0, e.start) + e.text + s0.slice(e.end) : s0;
  };
  const place = (cite: (t: string, a: number, b: number) => TextEdit | undefined): void => {
    if (sentence) { edit.insert(doc.uri, doc.positionAt(end), lead + withCite(cite)); return; }
    const e = cite(text, start, end);
    if (e) edit.replace(doc.uri, range(doc, e), e.text);
  };

  if (kind === 'manubot') {
    const key = cfg.manubotCiteAs === 'doi' && paper.doi ? `doi:${normDoi(paper.doi)}` : `pubmed:${paper.pmid}`;
    place((t, a, b) => pandocCitationEdit(t, a, b, key));
    await apply(edit);
    return { message: `Cited [@${key}]`, key };
  }
  if (kind === 'plain') {
    const ref = formatReference(paper, cfg.cslStyle, path.dirname(doc.fileName));
    const edits = plainCitationEdits(text, sentence ? end : start, end, ref);
    const marker = edits[0];
    if (sentence && marker) {
      place((t, a, b) => { const at = citationAnchor(t, a, b); return { start: at, end: at, text: ` ${marker.text.trim()}` }; });
      for (const e of edits.slice(1)) edit.insert(doc.uri, doc.positionAt(e.start), e.text);
    } else {
      for (const e of edits) edit.replace(doc.uri, range(doc, e), e.text);
    }
    await apply(edit);
    return { message: `Cited: ${ref}` };
  }

  let uris = bibliographyUris(doc, cfg, kind);
  let createHeader = false;
  if (!uris.length) {
    const target = vscode.Uri.joinPath(doc.uri, '..', 'references.bib');
    const where = kind === 'latex' ? 'no \\bibliography{} or \\addbibresource{}' : 'no bibliography: in the YAML front matter';
    const choice = await vscode.window.showWarningMessage(
      `This document names no bibliography (${where}). Create ${vscode.workspace.asRelativePath(target)} and add the reference there?`,
      { modal: true }, 'Create references.bib',
    );
    if (choice !== 'Create references.bib') throw new Error('Citation not inserted: no bibliography file');
    uris = [target];
    createHeader = true;
  }
  const bibs = await readBibs(uris, paper);
  const already = bibs.find((b) => b.existing);
  let key: string;
  let bibMsg: string;
  const toSave: vscode.Uri[] = [];
  let unsavedNote = '';
  if (already?.existing) {
    key = already.existing;
    bibMsg = `already in ${path.basename(already.uri.fsPath)}`;
  } else {
    const target = bibs[0];
    if (!target) throw new Error('no bibliography file');
    if (!target.doc && !createHeader) {
      const choice = await vscode.window.showWarningMessage(`The bibliography ${vscode.workspace.asRelativePath(target.uri)} does not exist. Create it?`, { modal: true }, 'Create');
      if (choice !== 'Create') throw new Error('Citation not inserted: bibliography file missing');
    }
    key = makeCiteKey(paper, bibs.flatMap((b) => b.keys), cfg.keyPattern);
    if (target.format === 'bibtex') {
      const entry = toBibtex(paper, key);
      if (target.doc) {
        const t = target.doc.getText();
        const sep = t.length === 0 ? '' : t.endsWith('\n\n') ? '' : t.endsWith('\n') ? '\n' : '\n\n';
        edit.insert(target.uri, target.doc.positionAt(t.length), sep + entry);
      } else {
        edit.createFile(target.uri, { ignoreIfExists: true, contents: Buffer.from(entry, 'utf8') });
      }
    } else {
      const item = toCslItem(paper, key);
      if (target.doc) {
        const t = target.doc.getText();
        edit.replace(target.uri, new vscode.Range(target.doc.positionAt(0), target.doc.positionAt(t.length)), appendCslItem(t, item));
      } else {
        edit.createFile(target.uri, { ignoreIfExists: true, contents: Buffer.from(appendCslItem('', item), 'utf8') });
      }
    }
    // The bibliography is saved so that LaTeX/Pandoc see the entry, unless the writer has unsaved edits in it: those
    // are theirs to save (or not), so the entry stays unsaved with them and the message says so.
    if (target.doc?.isDirty) unsavedNote = ' — not saved: the file had unsaved changes of yours';
    else toSave.push(target.uri);
    bibMsg = `added to ${path.basename(target.uri.fsPath)}${unsavedNote}`;
  }
  if (createHeader && kind === 'pandoc') {
    const fm = frontMatter(text);
    if (fm) edit.insert(doc.uri, doc.positionAt(fm.bodyStart + fm.body.length), '\nbibliography: references.bib');
    else edit.insert(doc.uri, new vscode.Position(0, 0), '---\nbibliography: references.bib\n---\n\n');
  }
  place((t, a, b) => (kind === 'latex' ? latexCitationEdit(t, a, b, key, cfg.citeCommand) : pandocCitationEdit(t, a, b, key)));
  await apply(edit);
  for (const uri of toSave) {
    const d = vscode.workspace.textDocuments.find((x) => x.uri.toString() === uri.toString());
    if (d?.isDirty) await d.save();
  }
  const shown = kind === 'latex' ? `${cfg.citeCommand}{${key}}` : `[@${key}]`;
  return { message: `Cited ${shown} (${bibMsg})`, key };
}

async function apply(edit: vscode.WorkspaceEdit): Promise<void> {
  if (!(await vscode.workspace.applyEdit(edit))) throw new Error('VS Code refused the edit (is the document read-only?)');
}

/** BibTeX for the clipboard: the key the document's bibliography already uses, or a new one from the pattern. */
export async function bibtexFor(paper: PaperMeta, cfg: ConfigSnapshot, doc: vscode.TextDocument | undefined): Promise<string> {
  let taken: string[] = [];
  let existing: string | undefined;
  if (doc) {
    const kind = docKind(doc.languageId, doc.fileName, doc.getText());
    const bibs = await readBibs(bibliographyUris(doc, cfg, kind).filter((u) => bibFormat(u.path) !== 'unsupported'), paper).catch(() => []);
    taken = bibs.flatMap((b) => b.keys);
    existing = bibs.find((b) => b.existing)?.existing;
  }
  return toBibtex(paper, existing ?? makeCiteKey(paper, taken, cfg.keyPattern));
}

export async function insertKeyword(editor: vscode.TextEditor, term: string): Promise<string> {
  const doc = editor.document;
  const text = doc.getText();
  const kind = docKind(doc.languageId, doc.fileName, text);
  const e = keywordEdit(text, kind, doc.offsetAt(editor.selection.active), term);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, range(doc, e), e.text);
  await apply(edit);
  return `Inserted keyword “${term}”`;
}
