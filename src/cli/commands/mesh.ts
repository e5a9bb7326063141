// `biohicl mesh "<paragraph>"`: ranked MeSH descriptors with tree breadcrumbs and evidence;
// `biohicl mesh import <descYYYY.xml>`: use a newer MeSH year from NLM's descriptor XML.
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { defaultIndexDir } from '../../inference/paths';
import {
  DEFAULT_CUTOFF,
  DEFAULT_K,
  LEXICAL_ONLY_CUTOFF,
  formatSuggestions,
  importedVocabFile,
  loadDescriptorXml,
  loadVocab,
  meshForText,
  saveVocabCache,
} from '../../mesh/index';
import { EXIT } from '../exit';
import { errorText } from '../../util/errors';

function readText(parts: string[], file: string | undefined): string {
  if (file) {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw Object.assign(new Error(`cannot read ${file}: ${errorText(e)}`), { exitCode: EXIT.usage });
    }
  }
  if (parts.length === 1 && parts[0] === '-') return fs.readFileSync(0, 'utf8');
  return parts.join(' ');
}

export function registerMeshCommands(program: Command): void {
  const mesh = program
    .command('mesh')
    .description('suggest MeSH descriptors for a paragraph (lexical matches + votes of similar indexed citations)')
    .argument('[text...]', 'the paragraph ("-" reads standard input)')
    .option('--file <file>', 'read the paragraph from a file')
    .option('--index <dir>', 'index folder', defaultIndexDir())
    .option('--k <n>', 'neighbour citations that vote', (v) => parseInt(v, 10), DEFAULT_K)
    .option(
      '--cutoff <x>',
      `minimum score in [0,1] (default ${DEFAULT_CUTOFF}, ${LEXICAL_ONLY_CUTOFF} without an index)`,
      (v) => parseFloat(v),
    )
    .option('--max <n>', 'at most this many suggestions', (v) => parseInt(v, 10), 25)
    .option('--collapse', 'collapse three or more siblings into their parent')
    .option('--no-check-tags', 'leave out check tags (Humans, Female, age groups, …)')
    .option(
      '--vocab <file>',
      'MeSH vocabulary: NLM descriptor XML (descYYYY.xml[.gz]), an imported cache, or a TSV folder',
    )
    .option('--json', 'print JSON')
    .action(
      async (
        parts: string[],
        o: {
          file?: string;
          index: string;
          k: number;
          cutoff?: number;
          max: number;
          collapse?: boolean;
          checkTags: boolean;
          vocab?: string;
          json?: boolean;
        },
      ) => {
        const text = readText(parts, o.file).trim();
        if (!text)
          throw Object.assign(
            new Error('give a paragraph: biohicl mesh "<text>" (or --file FILE, or - for standard input)'),
            { exitCode: EXIT.usage },
          );
        if (!Number.isFinite(o.k) || o.k < 0)
          throw Object.assign(new Error(`--k must be a number ≥ 0, got ${o.k}`), { exitCode: EXIT.usage });
        if (o.cutoff !== undefined && !(o.cutoff >= 0 && o.cutoff <= 1))
          throw Object.assign(new Error(`--cutoff must be in [0,1], got ${o.cutoff}`), { exitCode: EXIT.usage });
        const r = await meshForText(text, {
          indexDir: o.index,
          k: o.k,
          cutoff: o.cutoff,
          max: o.max,
          collapseSiblings: !!o.collapse,
          checkTags: o.checkTags,
          vocab: o.vocab,
        });
        if (o.json) {
          process.stdout.write(
            JSON.stringify(
              {
                vocab: r.vocab.version,
                mode: r.mode,
                note: r.note,
                neighbours: r.neighbours.map((n) => n.pmid),
                suggestions: r.suggestions,
                ms: r.ms,
              },
              null,
              2,
            ) + '\n',
          );
          return;
        }
        const how =
          r.mode === 'none'
            ? 'from the text alone'
            : `from the text and ${r.neighbours.length} similar citations (${r.mode})`;
        process.stdout.write(`${r.vocab.version}; suggestions ${how}\n`);
        if (r.note) process.stdout.write(`note: ${r.note}\n`);
        process.stdout.write(formatSuggestions(r.suggestions) + '\n');
        process.stdout.write(
          'MeSH Browser: https://meshb.nlm.nih.gov/record/ui?ui=<UI>. MeSH courtesy of the U.S. National Library of Medicine.\n',
        );
      },
    );

  mesh
    .command('import')
    .description("read NLM's descriptor XML (descYYYY.xml[.gz]) and make it the vocabulary used by default")
    .argument('<file>', 'descYYYY.xml or descYYYY.xml.gz from https://www.nlm.nih.gov/databases/download/mesh.html')
    .option('--out <file>', 'where to write the compact cache', importedVocabFile())
    .action(async (file: string, o: { out: string }) => {
      const t0 = Date.now();
      const v = await loadDescriptorXml(file);
      if (!v.size) throw Object.assign(new Error(`${file}: no DescriptorRecord found`), { exitCode: EXIT.usage });
      saveVocabCache(v, o.out);
      const check = await loadVocab(o.out);
      process.stdout.write(
        `imported ${check.size} descriptors (${v.version}, ${v.descriptors.filter((d) => d.scopeNote).length} with scope notes) from ${file} in ${((Date.now() - t0) / 1000).toFixed(1)} s → ${o.out}\n`,
      );
    });
}
