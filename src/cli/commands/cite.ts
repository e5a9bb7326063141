// `biohicl cite PMID|DOI`: the BibTeX entry, CSL-JSON item or formatted reference of a paper in the index
// (src/cite; the paper found with the IndexStore's own lookups). Opens the index read-only, whatever model made it.
import { Option, type Command } from 'commander';
import { defaultIndexDir } from '../../inference/paths';
import { IndexStore, readMeta, type ArticleInfo } from '../../index/store';
import { describeLocation, parseLocation } from '../../index/location';
import { explainIndexError } from '../../index/errors';
import { paperMeta, normDoi, type PaperMeta } from '../../cite/paper';
import { makeCiteKey } from '../../cite/citekey';
import { EXIT, exitError, usageError } from '../exit';

export const CITE_FORMATS = ['bibtex', 'csl-json', 'text'] as const;
export type CiteFormat = (typeof CITE_FORMATS)[number];

/** What the writer typed: a PMID (`123`, `PMID:123`) or a DOI (`10.…`, `doi:10.…`, `https://doi.org/10.…`). */
export function parsePaperId(raw: string): { pmid: string } | { doi: string } {
  const s = raw.trim();
  const pmid = /^(?:pmid:?\s*)?(\d{1,9})$/i.exec(s);
  if (pmid) return { pmid: pmid[1]! };
  const doi = normDoi(s);
  if (doi && /^10\.\d{4,9}\/\S+$/.test(doi)) return { doi };
  throw usageError(`cite: ${JSON.stringify(raw)} is neither a PMID (digits) nor a DOI (10.NNNN/…)`);
}

/** The citation text of a paper in one of the formats. */
export async function citeText(
  paper: PaperMeta,
  format: CiteFormat,
  o: { style?: string; encoding?: 'latex' | 'utf8' | 'utf8-latin'; dialect?: 'bibtex' | 'biblatex' } = {},
): Promise<string> {
  const key = makeCiteKey(paper, []);
  if (format === 'bibtex') {
    const { toBibtex } = await import('../../cite/bibtex');
    const { loadTexEncoder } = await import('../../cite/texencode');
    return toBibtex(paper, key, {
      encoder: await loadTexEncoder(),
      encoding: o.encoding ?? 'utf8',
      dialect: o.dialect ?? 'biblatex',
    }).text.trimEnd();
  }
  if (format === 'csl-json') {
    const { toCslItem } = await import('../../cite/csljson');
    return JSON.stringify([toCslItem(paper, key)], null, 2);
  }
  const { formatReference } = await import('../../cite/csl');
  return formatReference(paper, o.style ?? 'vancouver', process.cwd());
}

export function registerCiteCommand(program: Command): void {
  program
    .command('cite')
    .description('print the BibTeX entry, CSL-JSON item or formatted reference of a paper in the index')
    .argument('<id>', 'PMID or DOI')
    .option(
      '--index <dir|uri>',
      'index folder, or s3://bucket/prefix (endpoint and credentials from the AWS_* variables)',
      defaultIndexDir(),
    )
    .addOption(new Option('--format <format>', 'output format').choices([...CITE_FORMATS]).default('bibtex'))
    .option('--style <style>', 'CSL style for --format text: vancouver, apa, harvard1 or a .csl file', 'vancouver')
    .addOption(
      new Option('--encoding <encoding>', 'BibTeX text encoding (latex: pdflatex-safe)')
        .choices(['latex', 'utf8', 'utf8-latin'])
        .default('utf8'),
    )
    .addOption(
      new Option('--dialect <dialect>', 'BibTeX field names: classic bibtex or biblatex')
        .choices(['bibtex', 'biblatex'])
        .default('biblatex'),
    )
    .action(
      async (
        raw: string,
        o: {
          index: string;
          format: CiteFormat;
          style: string;
          encoding: 'latex' | 'utf8' | 'utf8-latin';
          dialect: 'bibtex' | 'biblatex';
        },
      ) => {
        const id = parsePaperId(raw);
        const loc = parseLocation(o.index);
        const where = describeLocation(loc);
        if (!(await readMeta(loc)))
          throw exitError(
            `no index at ${where}: build one with \`biohicl index add <files...>\` or run \`biohicl demo\``,
            EXIT.missing,
          );
        let store: IndexStore;
        try {
          store = await IndexStore.open(where, undefined, {});
        } catch (e) {
          throw explainIndexError(e, where) ?? e;
        }
        let a: ArticleInfo | undefined;
        try {
          a = 'pmid' in id ? await store.article(id.pmid) : await store.articleByDoi(id.doi);
        } finally {
          store.close();
        }
        if (!a)
          throw exitError(
            `cite: ${'pmid' in id ? `PMID ${id.pmid}` : `DOI ${id.doi}`} is not in the index at ${where}; ` +
              `add the paper with \`biohicl index add <file>\` (a PubMed export, .nbib, .bib or CSL-JSON)`,
            EXIT.failure,
          );
        process.stdout.write(
          (await citeText(paperMeta(a), o.format, { style: o.style, encoding: o.encoding, dialect: o.dialect })) + '\n',
        );
      },
    );
}
