// `biohicl check FILE`: the citation check of the editor's "Check citations" on a manuscript file, printed: uncited
// claims (sentences that state a finding, cite nothing and strongly match papers in the index) with the papers that
// match, and weak citations (the cited paper matches its sentence weakly or ranks far below better matches).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { defaultIndexDir } from '../../inference/paths';
import { docKind, latexBibliography, yamlBibliography } from '../../cite/detect';
import { explainIndexError } from '../../index/errors';
import type { SearchMode } from '../../index/search';
import { checkDocument, shortRef, CHECK_DEFAULTS } from '../../check/check';
import { keyInBibliographies } from '../../check/keys';
import { storeSearcher, paperInIndex } from '../../check/searchers';
import { openForQuery } from './index-cmds';
import { positiveInt, usageError } from '../exit';

const share = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw usageError(`--threshold: a share between 0 and 1, not '${v}'`);
  return n;
};
const pct = (x: number): string => `${Math.round(x * 100)} %`;

/** Line:column (1-based) of an offset. */
function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `${line}:${offset - before.lastIndexOf('\n')}`;
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description(
      'flag uncited claims and weak citations in a manuscript (LaTeX, Markdown/Quarto/R Markdown, Manubot, text)',
    )
    .argument('<file>', 'the manuscript')
    .addOption(new Option('--index <dir|uri>', 'index folder or s3://bucket/prefix').default(defaultIndexDir()))
    .option('--model <dir>', 'model folder (default: the one that built the index)')
    .addOption(
      new Option('--mode <mode>', "search: hybrid (the editor's), fts or dense")
        .choices(['hybrid', 'fts', 'dense'])
        .default('hybrid'),
    )
    .option('--threshold <x>', 'least match strength that flags a sentence (0–1)', share, CHECK_DEFAULTS.threshold)
    .option('--max <n>', 'most flags per document', positiveInt('--max'), CHECK_DEFAULTS.maxFlags)
    .option('--no-citations', 'do not check the citations already in the text')
    .option('--json', 'JSON output')
    .action(async (file: string, o) => {
      const text = fs.readFileSync(file, 'utf8');
      const kind = docKind('', file, text);
      const mode = o.mode as SearchMode;
      const { store, embedder } = await openForQuery(o, mode !== 'fts');
      try {
        const dir = path.dirname(path.resolve(file));
        const names = kind === 'latex' ? latexBibliography(text) : kind === 'pandoc' ? yamlBibliography(text) : [];
        const bibs = names
          .map((n) => path.resolve(dir, n))
          .filter((p) => fs.existsSync(p))
          .map((p) => ({ path: p, text: fs.readFileSync(p, 'utf8') }));
        const r = await checkDocument(text, kind, storeSearcher(store, embedder, mode), {
          threshold: o.threshold,
          maxFlags: o.max,
          resolveKey: o.citations
            ? async (key) => {
                const id = keyInBibliographies(key, bibs);
                return id ? paperInIndex(store, id) : undefined;
              }
            : undefined,
        });
        if (o.json) {
          process.stdout.write(
            JSON.stringify(
              {
                file,
                kind,
                generated: store.identity.generated,
                counts: r.counts,
                flags: r.flags.map((f) => ({
                  at: lineCol(text, f.start),
                  text: f.text,
                  strength: f.strength,
                  cues: f.cues,
                  papers: f.papers.map((p) => ({
                    pmid: p.paper.pmid,
                    title: p.paper.title,
                    strength: p.match.strength,
                    rank: p.rank,
                  })),
                })),
                weak: r.weak.map((w) => ({
                  at: lineCol(text, w.cite.start),
                  ...w.support,
                  cited: w.support.cited.pmid,
                  better: w.support.better.map((b) => b.paper.pmid),
                })),
              },
              null,
              2,
            ) + '\n',
          );
          return;
        }
        const c = r.counts;
        const out: string[] = [
          `${file} (${kind}): ${c.sentences} sentences, ${c.citing} cite, ${c.claims} state a finding; ${c.searched} searched (${mode}${store.identity.generated ? ', generated weights: = full-text' : ''})`,
        ];
        for (const f of r.flags) {
          out.push(`\n${file}:${lineCol(text, f.start)}: uncited claim (${pct(f.strength)}): ${f.text}`);
          for (const p of f.papers)
            out.push(`    cite? PMID ${p.paper.pmid} ${shortRef(p.paper)} (${pct(p.match.strength)}, rank ${p.rank})`);
        }
        for (const w of r.weak)
          out.push(`\n${file}:${lineCol(text, w.cite.start)}: is this the right citation? ${w.support.summary}`);
        out.push(
          `\n${r.flags.length} uncited claim(s) at threshold ${o.threshold}${c.capped > 0 ? ` (${c.capped} more left out by --max ${o.max})` : ''}; ${r.weak.length} weak of ${c.citationsChecked} citation(s) checked`,
        );
        process.stdout.write(out.join('\n') + '\n');
      } catch (e) {
        throw explainIndexError(e, store.dir) ?? e;
      } finally {
        store.close();
        await embedder?.dispose();
      }
    });
}
