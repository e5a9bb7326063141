// The real judges in the real editor: citations inserted from the sidebar (two papers, next to an existing citation)
// into a biblatex + biber document, a natbib + BibTeX + pdflatex document and a Pandoc Markdown document, then
// latexmk and pandoc --citeproc build them. Each build runs before and after the inserts: rc 0, no undefined
// citation, no warning that was not there before, every paper cited once in one group, the group's keys resolved.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const EXISTING = [
  '@article{existing2016,',
  '  author = {Smith, Jane and Okafor, Chidi},',
  '  title = {An Existing Paper on Drug Safety},',
  '  journal = {Journal of Examples},',
  '  year = {2016},',
  '  volume = {12},',
  '  pages = {1--9},',
  '}',
  '',
].join('\n');

// One sentence per document, each with its own last words: the sidebar's results are awaited by their query text,
// so a document's query must not match the previous document's results still on screen.
const SENTENCE = (tag) =>
  `Drug-drug interactions were characterised with MeSH terms and co-occurrence heatmaps of ${tag} cohorts`;

const DOCS = [
  {
    name: 'biblatex + biber',
    dir: 'judge/biber',
    file: 'judge-biber.tex',
    line: 6,
    text: [
      '\\documentclass{article}',
      '\\usepackage[T1]{fontenc}',
      '\\usepackage[backend=biber,style=numeric]{biblatex}',
      '\\addbibresource{refs.bib}',
      '\\begin{document}',
      `${SENTENCE('biber')} \\autocite{existing2016}.`,
      '\\printbibliography',
      '\\end{document}',
      '',
    ].join('\n'),
    build: ['latexmk', ['-pdf', '-interaction=nonstopmode', '-halt-on-error', 'judge-biber.tex']],
    group: /\\autocite\{([^}]*)\}/,
    split: (g) => g.split(',').map((k) => k.trim()),
  },
  {
    name: 'natbib + BibTeX + pdflatex',
    dir: 'judge/bibtex',
    file: 'judge-bibtex.tex',
    line: 5,
    text: [
      '\\documentclass{article}',
      '\\usepackage[T1]{fontenc}',
      '\\usepackage[numbers]{natbib}',
      '\\begin{document}',
      `${SENTENCE('bibtex')}~\\cite{existing2016}.`,
      '\\bibliographystyle{plainnat}',
      '\\bibliography{refs}',
      '\\end{document}',
      '',
    ].join('\n'),
    build: ['latexmk', ['-pdf', '-bibtex', '-interaction=nonstopmode', '-halt-on-error', 'judge-bibtex.tex']],
    group: /\\cite\{([^}]*)\}/,
    split: (g) => g.split(',').map((k) => k.trim()),
  },
  {
    name: 'Pandoc Markdown + citeproc',
    dir: 'judge/pandoc',
    file: 'judge-pandoc.md',
    line: 6,
    text: [
      '---',
      'title: Judge',
      'bibliography: refs.bib',
      '---',
      '',
      `${SENTENCE('pandoc')} [@existing2016].`,
      '',
    ].join('\n'),
    build: ['pandoc', ['--citeproc', '-t', 'plain', '-o', 'judge-pandoc.txt', 'judge-pandoc.md']],
    group: /\[(@[^\]]*)\]/,
    split: (g) => g.split(';').map((k) => k.trim().replace(/^@/, '')),
  },
];

/**
 * Warnings and errors of a build, without line numbers and page counts (so before/after compare): pandoc's stderr;
 * for LaTeX the final pass's log and biber's/BibTeX's log (latexmk's earlier passes warn of citations not yet
 * resolved by design).
 */
function warnings(dir, base, out, latex) {
  const logs = latex ? [] : [out];
  for (const f of [`${base}.log`, `${base}.blg`]) {
    const p = path.join(dir, f);
    if (fs.existsSync(p)) logs.push(fs.readFileSync(p, 'latin1'));
  }
  return [
    ...new Set(
      logs
        .join('\n')
        .split('\n')
        .filter((l) =>
          /^(?:LaTeX|Package \S+|Class \S+) Warning|^!|Warning--|\bWARN\b|\bERROR\b|\[WARNING\]|undefined/.test(l),
        )
        .map((l) => l.replace(/\d+/g, 'N').trim()),
    ),
  ].sort();
}

function build(doc, dir) {
  // latexmk starts from scratch each time, so "before" and "after" are builds of the same kind
  for (const f of fs.readdirSync(dir)) if (!/\.(tex|md|bib)$/.test(f)) fs.rmSync(path.join(dir, f), { force: true });
  const [cmd, args] = doc.build;
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', timeout: 180_000 });
  return {
    rc: r.status,
    out: `${r.stdout}\n${r.stderr}`,
    warnings: warnings(dir, `${r.stdout}\n${r.stderr}`, cmd === 'latexmk'),
  };
}

export default function ({
  scenario,
  assert,
  log,
  openFile,
  selectLine,
  saveActive,
  sidebar,
  waitForFile,
  findRelated,
}) {
  scenario(
    'real judges: citations inserted from the sidebar next to an existing one build with latexmk + biber, latexmk + bibtex and pandoc --citeproc, no new warning, each paper once',
    async ({ page, ctx }) => {
      const missing = ['latexmk', 'biber', 'bibtex', 'pdflatex', 'pandoc'].filter(
        (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
      );
      // The unit suite installs them (test/unit/cite-clients.test.ts); a run without them fails here, never passes.
      assert.deepEqual(missing, [], `the real clients are installed (apt: pandoc latexmk biber texlive-bibtex-extra)`);
      for (const doc of DOCS) {
        const dir = path.join(ctx.ws, doc.dir);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, doc.file), doc.text);
        fs.writeFileSync(path.join(dir, 'refs.bib'), EXISTING);
        const before = build(doc, dir);
        assert.equal(before.rc, 0, `${doc.name}: the fixture builds before any insert:\n${before.out.slice(-2000)}`);

        await openFile(page, `${doc.dir}/${doc.file}`);
        await selectLine(page, doc.line);
        const view = sidebar(page);
        await findRelated(page, view, `heatmaps of ${doc.dir.split('/')[1]} cohorts`);
        const pmids = (
          await view.locator('li.paper').evaluateAll((els) =>
            // complete records (an incomplete one is marked, and BibTeX would rightly warn of its empty fields)
            els.filter((e) => !e.querySelector('[data-testid="missing"]')).map((e) => e.getAttribute('data-pmid')),
          )
        ).filter((p) => /^\d+$/.test(p ?? ''));
        assert.ok(pmids.length >= 2, `two PubMed papers to cite (${pmids.join(', ')})`);
        const bibFile = path.join(dir, 'refs.bib');
        for (const pmid of pmids.slice(0, 2)) {
          await view.locator(`li.paper[data-pmid="${pmid}"] button[data-action="insert-citation"]`).click();
          await waitForFile(bibFile, (t) => t.includes(`pmid = {${pmid}}`), `the entry for PMID ${pmid}`);
        }
        // the same paper again: nothing added
        await view.locator(`li.paper[data-pmid="${pmids[0]}"] button[data-action="insert-citation"]`).click();
        await view.locator('#toast', { hasText: 'already' }).waitFor();
        await saveActive(page);
        const text = await waitForFile(
          path.join(dir, doc.file),
          (t) => (doc.group.exec(t)?.[1] ?? '').split(/[,;]/).length === 3,
          `${doc.name}: one group of three citations`,
        );
        assert.equal(text.match(new RegExp(doc.group.source, 'g')).length, 1, `${doc.name}: one citation group`);
        const keys = doc.split(doc.group.exec(text)[1]);
        assert.equal(keys[0], 'existing2016', `${doc.name}: the existing key stays first`);
        assert.equal(new Set(keys).size, 3, `${doc.name}: each paper once (${keys.join(', ')})`);
        const bib = fs.readFileSync(bibFile, 'utf8');
        for (const k of keys) assert.ok(bib.includes(`{${k},`), `${doc.name}: ${k} has an entry in refs.bib`);
        assert.equal((bib.match(/^@/gm) ?? []).length, 3, `${doc.name}: three entries, none twice`);

        const after = build(doc, dir);
        assert.equal(after.rc, 0, `${doc.name}: builds after the inserts:\n${after.out.slice(-3000)}`);
        const fresh = after.warnings.filter((w) => !before.warnings.includes(w));
        assert.deepEqual(fresh, [], `${doc.name}: no new warning\n${text}\n${bib}`);
        if (doc.file.endsWith('.md')) {
          const out = fs.readFileSync(path.join(dir, `${path.parse(doc.file).name}.txt`), 'utf8');
          for (const k of keys)
            assert.ok(!out.includes(`@${k}`) && !out.includes(`?${k}`), `${k} resolved by citeproc`);
        } else {
          assert.doesNotMatch(
            fs.readFileSync(path.join(dir, `${path.parse(doc.file).name}.log`), 'latin1'),
            /Citation `[^']+' .*undefined/,
          );
        }
        log(`  ${doc.name}: ${keys.join(', ')} → rc 0, no new warning`);
      }
    },
  );
}
