// Formatted references through a kept CSL processor (citation-js + citeproc), never hand-made formatting.
// Built-in styles: vancouver (default: ICMJE/NLM, as biomedical journals use), apa, harvard1; a path to a .csl file
// (e.g. AMA from the CSL styles repository) is registered on first use.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PaperMeta } from './paper';
import { toCslItem } from './csljson';
import { errorText } from '../util/errors';

type Any = any;
let core: Any;
function lib(): Any {
  if (!core) {
    // Loaded on first use: the CSL engine is only needed for plain-text references.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: the CSL engine is large
    core = require('@citation-js/core');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- registers the CSL plugin on core
    require('@citation-js/plugin-csl');
  }
  return core;
}

export const BUILTIN_STYLES = ['vancouver', 'apa', 'harvard1'] as const;

/** Resolve a style setting to a registered template name (registering a .csl file when given a path). */
export function resolveStyle(style: string, baseDir?: string): string {
  const s = style.trim() || 'vancouver';
  if ((BUILTIN_STYLES as readonly string[]).includes(s)) return s;
  if (/\.csl$/i.test(s)) {
    const file = path.isAbsolute(s) || !baseDir ? s : path.join(baseDir, s);
    let xml: string;
    try {
      xml = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`CSL style file ${file} cannot be read: ${errorText(e)}`);
    }
    if (!/<style[\s>]/.test(xml)) throw new Error(`CSL style file ${file} is not a CSL style (no <style> element)`);
    const name = `file:${file}`;
    const styles = lib().plugins.config.get('@csl').styles;
    if (!styles.has(name)) styles.add(name, xml);
    return name;
  }
  const styles = lib().plugins.config.get('@csl').styles;
  if (styles.has(s)) return s;
  throw new Error(`Unknown CSL style "${style}": use one of ${BUILTIN_STYLES.join(', ')} or a path to a .csl file`);
}

/** The full reference for a paper, as plain text, without a leading list number. */
export function formatReference(paper: PaperMeta, style = 'vancouver', baseDir?: string): string {
  const { Cite } = lib();
  const template = resolveStyle(style, baseDir);
  const out: string = new Cite([toCslItem(paper, `pmid${paper.pmid}`)]).format('bibliography', {
    format: 'text',
    template,
    lang: 'en-US',
  });
  return out
    .replace(/^\s*\[?\d+[.\]]\s*/, '')
    .replace(/\s+/g, ' ')
    .trim();
}
