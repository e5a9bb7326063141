// The real clients judge the inserted citations: citations are inserted with the extension's own code (src/cite/plan)
// into copies of the fixtures, then Debian's pandoc --citeproc (Markdown, Quarto, the real R Markdown and Manubot
// manuscripts) and latexmk with biber (biblatex) and with bibtex + pdflatex (\bibliography{}) build them. Each build
// runs before and after the inserts: rc 0, no undefined citation, no warning that was not there before, no paper
// cited twice in a group, no paper under two keys. The tools are installed with apt when missing (root only; the
// install time is printed); without root or apt the tests are skipped with that reason, never passed silently.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { REAL_MANUSCRIPTS, ROOT } from '../fixtures/paths';
import { readCitations } from '../../src/index/readers';
import { paperMeta, normTitle, type PaperMeta } from '../../src/cite/paper';
import { planCitation, bibRecords, type BibSource, type CiteContext } from '../../src/cite/plan';
import { applyEdits } from '../../src/cite/syntax/common';
import { latexToolchain, latexCites } from '../../src/cite/syntax/latex';
import { pandocGroups } from '../../src/cite/syntax/pandoc';
import { manubotCatalog, readManubotSources } from '../../src/cite/syntax/manubot';
import { bibFormat, yamlBibliography, latexBibliography, type DocKind } from '../../src/cite/detect';

const TOOLS = ['pandoc', 'latexmk', 'biber', 'bibtex', 'pdflatex'];
const APT = ['pandoc', 'texlive-latex-base', 'texlive-latex-recommended', 'texlive-bibtex-extra', 'biber', 'latexmk'];
let skip: string | undefined;
let work = '';
const papers = new Map<string, PaperMeta>();
const P = (pmid: string): PaperMeta => papers.get(pmid)!;

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;

before(async () => {
  const missing = TOOLS.filter((t) => !has(t));
  if (missing.length) {
    if (process.platform !== 'linux' || !has('apt-get'))
      skip = `${missing.join(', ')} missing and no apt-get here to install ${APT.join(' ')}`;
    else if (process.getuid?.() !== 0)
      skip = `${missing.join(', ')} missing; installing them needs root (apt-get install ${APT.join(' ')})`;
    else {
      const t0 = Date.now();
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const lock = ['-o', 'DPkg::Lock::Timeout=600'];
      const up = spawnSync('apt-get', [...lock, 'update', '-qq'], { encoding: 'utf8', env });
      const t1 = Date.now();
      const inst = spawnSync('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...APT], {
        encoding: 'utf8',
        env,
      });
      console.log(
        `# apt-get update ${((t1 - t0) / 1000).toFixed(0)} s, install of ${APT.join(' ')} ${((Date.now() - t1) / 1000).toFixed(0)} s`,
      );
      if (up.status !== 0 || inst.status !== 0)
        skip = `apt-get failed (${up.status}/${inst.status}): ${(up.stderr + inst.stderr).slice(-400)}`;
      else if (TOOLS.some((t) => !has(t)))
        skip = `still missing after apt-get: ${TOOLS.filter((t) => !has(t)).join(', ')}`;
    }
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-clients-'));
  const want = new Set(['25359777', '24842892', '26209829', '25901762']);
  for await (const ev of readCitations(path.join(ROOT, 'data', 'demo', 'medline16n0902.xml.gz'))) {
    if (ev.type === 'citation' && want.has(ev.citation.pmid)) papers.set(ev.citation.pmid, paperMeta(ev.citation));
  }
  assert.equal(papers.size, want.size);
});

after(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

function copy(src: string, name: string): string {
  const dir = path.join(work, name);
  fs.cpSync(src, dir, { recursive: true });
  return dir;
}

function run(cmd: string, args: string[], cwd: string): { rc: number; out: string; err: string } {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, LC_ALL: 'C.UTF-8' },
  });
  return { rc: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/**
 * Insert a citation of `paper` with the extension's code: the selection runs from `from` to just before `upTo`
 * (the citation that ends the sentence), or to the end of the line, in `file`; the bibliography the document names gets the entry.
 */
async function insert(
  file: string,
  kind: DocKind,
  from: string,
  upTo: string,
  paper: PaperMeta,
  extra: Partial<CiteContext> = {},
): Promise<string> {
  const text = fs.readFileSync(file, 'utf8');
  const a = text.indexOf(from);
  assert.ok(a >= 0, `"${from}" in ${path.basename(file)}`);
  // up to the citation that ends the sentence, or (none) the whole line
  const b = upTo ? text.indexOf(upTo, a) : text.indexOf('\n', a) < 0 ? text.length : text.indexOf('\n', a);
  assert.ok(b >= a, `"${upTo}" after it`);
  const dir = path.dirname(file);
  const names = kind === 'latex' ? latexBibliography(text) : kind === 'pandoc' ? yamlBibliography(text) : [];
  const bibs: BibSource[] = names.map((n) => {
    const p = path.join(dir, n);
    const format = bibFormat(p);
    assert.notEqual(format, 'unsupported');
    return {
      path: p,
      format: format as 'bibtex' | 'csl-json',
      text: fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined,
    };
  });
  const ctx: CiteContext = { kind, text, selStart: a, selEnd: b, bibs, ...extra };
  if (kind === 'latex') ctx.latex = latexToolchain(text);
  if (kind === 'manubot') ctx.manubot = manubotCatalog(readManubotSources(file, text));
  const plan = await planCitation(paper, ctx);
  fs.writeFileSync(file, applyEdits(text, plan.docEdits));
  if (plan.bibEdit) {
    const old = bibs[plan.bibEdit.index]?.text ?? '';
    fs.writeFileSync(plan.bibEdit.path, applyEdits(old, [plan.bibEdit.edit]));
  }
  return plan.key;
}

/** Every citation group holds each key once, and no two of its keys name the same paper; no paper is in the bibliography twice. */
function assertNoDuplicates(doc: string, kind: DocKind, bibs: BibSource[], oldKeys: Set<string>): void {
  const groups = kind === 'latex' ? latexCites(doc) : pandocGroups(doc);
  const records = bibRecords(bibs);
  const ident = (key: string): string => {
    const r = records.find((x) => x.key === key);
    return r?.pmid
      ? `pmid:${r.pmid}`
      : r?.doi
        ? `doi:${r.doi}`
        : r?.title
          ? `title:${r.title}:${r.year}`
          : `key:${key}`;
  };
  for (const g of groups) {
    assert.equal(new Set(g.keys).size, g.keys.length, `a key twice in ${doc.slice(g.start, g.end)}`);
    assert.equal(
      new Set(g.keys.map(ident)).size,
      g.keys.length,
      `one paper under two keys in ${doc.slice(g.start, g.end)}`,
    );
  }
  const seen = new Map<string, string>();
  for (const r of records) {
    for (const id of [
      r.pmid && `pmid:${r.pmid}`,
      r.doi && `doi:${r.doi}`,
      r.title && r.year && r.title.length > 20 && `title:${r.title}:${r.year}`,
    ]) {
      if (!id) continue;
      const other = seen.get(id);
      // the real R Markdown .bib has the same paper under two keys already (Schloss2009, schloss_introducing_2009):
      // that is the writer's; a key of ours must never be a second key for a paper
      assert.ok(
        !other || other === r.key || (oldKeys.has(other) && oldKeys.has(r.key)),
        `${id} under two keys: ${other} and ${r.key}`,
      );
      seen.set(id, r.key);
    }
  }
}

function warnings(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => /^\[WARNING\]/.test(l))
    .sort();
}

function newOnes(before: string[], after: string[]): string[] {
  const left = [...before];
  return after.filter((w) => {
    const i = left.indexOf(w);
    if (i >= 0) {
      left.splice(i, 1);
      return false;
    }
    return true;
  });
}

function pandoc(dir: string, file: string, extra: string[] = []): { rc: number; out: string; warn: string[] } {
  const r = run('pandoc', ['-f', 'markdown', file, '--citeproc', '-t', 'plain', '--wrap=none', ...extra], dir);
  return { rc: r.rc, out: r.out, warn: warnings(r.err) };
}

function bibsOf(file: string, kind: DocKind): BibSource[] {
  const text = fs.readFileSync(file, 'utf8');
  const names = kind === 'latex' ? latexBibliography(text) : yamlBibliography(text);
  return names.map((n) => ({
    path: path.join(path.dirname(file), n),
    format: bibFormat(n) as 'bibtex' | 'csl-json',
    text: fs.readFileSync(path.join(path.dirname(file), n), 'utf8'),
  }));
}

async function pandocCase(
  src: string,
  name: string,
  docName: string,
  kind: DocKind,
  inserts: (file: string) => Promise<string[]>,
  expectTitles: RegExp[],
): Promise<void> {
  const dir = copy(src, name);
  const file = path.join(dir, docName);
  const before = pandoc(dir, docName);
  assert.equal(before.rc, 0, `pandoc before: ${before.warn.join('\n')}`);
  const oldKeys = new Set(bibRecords(bibsOf(file, kind)).map((r) => r.key));
  const keys = await inserts(file);
  const afterRun = pandoc(dir, docName);
  assert.equal(afterRun.rc, 0);
  assert.deepEqual(newOnes(before.warn, afterRun.warn), [], `${name}: new pandoc warnings`);
  for (const k of keys) assert.ok(!afterRun.warn.some((w) => w.includes(`citation ${k} not found`)), `${k} resolved`);
  for (const t of expectTitles)
    assert.match(afterRun.out, t, `${name}: the new reference is in the bibliography pandoc made`);
  assertNoDuplicates(fs.readFileSync(file, 'utf8'), kind, bibsOf(file, kind), oldKeys);
}

const GREEK = /De-N-acetylation of Poly-β-1,6-N-acetyl-D-glucosamine/i;

test('pandoc --citeproc: Markdown with a .bib — a citation next to [@existing2016] joins it; Greek title, accented authors', async (t) => {
  if (skip) return t.skip(skip);
  await pandocCase(
    path.join(ROOT, 'test', 'fixtures', 'manuscripts', 'markdown'),
    'markdown',
    'paper.md',
    'pandoc',
    async (f) => [
      await insert(f, 'pandoc', 'MeSH terms index PubMed citations', '[@existing2016', P('25359777')),
      await insert(f, 'pandoc', 'MeSH terms index PubMed citations', '[@existing2016', P('26209829')),
      await insert(f, 'pandoc', 'MeSH terms index PubMed citations', '[@existing2016', P('25359777')),
    ],
    [GREEK, /Núñez/],
  );
  const md = fs.readFileSync(path.join(work, 'markdown', 'paper.md'), 'utf8');
  assert.match(md, /discovery \[@existing2016; @little2014structural; @moreno2015follicular\]\./);
});

test('pandoc --citeproc: Quarto with CSL-JSON — two papers in one group', async (t) => {
  if (skip) return t.skip(skip);
  await pandocCase(
    path.join(ROOT, 'test', 'fixtures', 'manuscripts', 'csl'),
    'csl',
    'paper.qmd',
    'pandoc',
    async (f) => [
      await insert(f, 'pandoc', 'Co-occurrence networks of MeSH descriptors', '', P('25359777')),
      await insert(f, 'pandoc', 'Co-occurrence networks of MeSH descriptors', '', P('24842892')),
    ],
    [GREEK, /β-Amyloid Transporter/],
  );
  const qmd = fs.readFileSync(path.join(work, 'csl', 'paper.qmd'), 'utf8');
  assert.equal(pandocGroups(qmd).length, 1);
  assert.match(qmd, /link prediction \[@[^;\]]+; @[^;\]]+\]\.\n/);
});

test('pandoc --citeproc: the real R Markdown (Topçuoğlu) — joins [@segata_metagenomic_2011], Zotero-style keys, no new warning', async (t) => {
  if (skip) return t.skip(skip);
  const keys: string[] = [];
  await pandocCase(
    path.join(REAL_MANUSCRIPTS, 'rmd-topcuoglu-ml-crc'),
    'rmd',
    'manuscript.Rmd',
    'pandoc',
    async (f) => {
      keys.push(
        await insert(
          f,
          'pandoc',
          'Traditional statistical approaches do not adequately',
          '[@segata_metagenomic_2011',
          P('25359777'),
        ),
      );
      keys.push(
        await insert(
          f,
          'pandoc',
          'This dataset was selected because',
          '[@baxter_microbiota-based_2016;',
          P('24842892'),
        ),
      );
      keys.push(
        await insert(
          f,
          'pandoc',
          'Traditional statistical approaches do not adequately',
          '[@segata_metagenomic_2011',
          P('25359777'),
        ),
      );
      return keys;
    },
    [GREEK],
  );
  assert.deepEqual(keys, ['little_structural_2014', 'deo_activity_2014', 'little_structural_2014']);
  const rmd = fs.readFileSync(path.join(work, 'rmd', 'manuscript.Rmd'), 'utf8');
  assert.ok(rmd.includes('separately [@segata_metagenomic_2011; @little_structural_2014]. Recently'));
});

test('pandoc --citeproc: the real Manubot manuscript (OpenPBTA) with output/references.json — ids reused, so they resolve', async (t) => {
  if (skip) return t.skip(skip);
  const dir = copy(path.join(REAL_MANUSCRIPTS, 'manubot-openpbta'), 'manubot');
  const file = path.join(dir, 'content', '02.introduction.md');
  // what Manubot does before pandoc, offline: manuscript ids → the short ids of output/references.json
  const tsv = fs
    .readFileSync(path.join(dir, 'output', 'citations.tsv'), 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'))
    .filter((c) => c[3]);
  const shortIds = (text: string): string =>
    text.replace(/@([^\s;\],]+[^\s;\],.])/g, (m, id: string) => {
      const row = tsv.find((c) => c[0] === id);
      return row ? `@${row[3]}` : m;
    });
  const build = (): ReturnType<typeof pandoc> => {
    fs.writeFileSync(path.join(dir, 'build.md'), shortIds(fs.readFileSync(file, 'utf8')));
    return pandoc(dir, 'build.md', ['--bibliography', 'output/references.json']);
  };
  const before = build();
  assert.equal(before.rc, 0);
  const blank: PaperMeta = {
    pmid: '25627000',
    title:
      'Years of life lived with disease and years of potential life lost in children who die of cancer in the United States, 2009.',
    authors: ['Blank PM', 'Ostrom QT'],
    journal: 'Cancer medicine',
    year: 2015,
  };
  const k1 = await insert(
    file,
    'manubot',
    'Pediatric brain and spinal cord tumors are collectively',
    '[@doi:10.1093/neuonc/noz150]',
    blank,
  );
  const k2 = await insert(file, 'manubot', 'Recent estimates suggest that children', '[@doi:10.1002/cam4.410]', blank);
  assert.equal(k1, 'doi:10.1002/cam4.410', 'the id the manuscript uses, not pubmed:25627000');
  assert.equal(k2, k1);
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.includes('[@doi:10.1093/neuonc/noz150; @doi:10.1002/cam4.410]'));
  assert.equal(
    text.match(/cam4\.410/g)?.length,
    2,
    'cited once more, next to the other paper; not twice in its own group',
  );
  const afterRun = build();
  assert.equal(afterRun.rc, 0);
  assert.deepEqual(newOnes(before.warn, afterRun.warn), []);
  assert.ok(!/pubmed:25627000/.test(text));
});

function latexmk(dir: string): { rc: number; log: string; blg: string; warn: string[] } {
  const r = run('latexmk', ['-pdf', '-interaction=nonstopmode', '-halt-on-error', 'paper.tex'], dir);
  const log = fs.existsSync(path.join(dir, 'paper.log')) ? fs.readFileSync(path.join(dir, 'paper.log'), 'latin1') : '';
  const blg = fs.existsSync(path.join(dir, 'paper.blg')) ? fs.readFileSync(path.join(dir, 'paper.blg'), 'latin1') : '';
  const warn = [
    ...log
      .split('\n')
      .filter((l) => /Warning/.test(l))
      .map((l) => l.replace(/on input line \d+/, '').trim()),
    ...blg
      .split('\n')
      .filter((l) => /^Warning--|WARN -|^WARN/.test(l))
      .map((l) => l.replace(/^\[\d+\]\s*/, '').trim()),
  ].sort();
  if (r.rc !== 0) console.log(r.out.slice(-3000), log.slice(-3000));
  return { rc: r.rc, log, blg, warn };
}

async function latexCase(
  name: string,
  src: string,
  inserts: (file: string) => Promise<string[]>,
  backend: 'biber' | 'bibtex',
): Promise<{ dir: string; keys: string[] }> {
  const dir = copy(src, name);
  const file = path.join(dir, 'paper.tex');
  const before = latexmk(dir);
  assert.equal(before.rc, 0, `${name}: latexmk before`);
  const oldKeys = new Set(bibRecords(bibsOf(file, 'latex')).map((r) => r.key));
  assert.match(
    before.blg,
    backend === 'biber' ? /This is Biber/ : /This is BibTeX/,
    `${name} is built with ${backend}`,
  );
  const keys = await inserts(file);
  const afterRun = latexmk(dir);
  assert.equal(afterRun.rc, 0, `${name}: latexmk after the inserts`);
  assert.doesNotMatch(
    afterRun.log,
    /Citation [`'][^']*' (?:on page \d+ )?undefined|There were undefined references|Unicode character/,
  );
  assert.deepEqual(newOnes(before.warn, afterRun.warn), [], `${name}: new warnings`);
  const bbl = fs.readFileSync(path.join(dir, 'paper.bbl'), 'latin1');
  for (const k of keys) assert.ok(bbl.includes(k), `${k} in the .bbl`);
  assertNoDuplicates(fs.readFileSync(file, 'utf8'), 'latex', bibsOf(file, 'latex'), oldKeys);
  return { dir, keys };
}

test('latexmk + biber (biblatex, pdflatex): joins \\autocite{Rembold:1998qz}; a BibDesk entry found by title + year; β builds', async (t) => {
  if (skip) return t.skip(skip);
  const { dir, keys } = await latexCase(
    'biblatex',
    path.join(ROOT, 'test', 'fixtures', 'latex', 'biblatex'),
    async (f) => [
      await insert(f, 'latex', 'The number needed to screen expresses', '\\autocite{Rembold:1998qz', P('25359777')),
      await insert(f, 'latex', 'The number needed to screen expresses', '\\autocite{Rembold:1998qz', P('24842892')),
      await insert(f, 'latex', 'Bacterial polysaccharide de-N-acetylases', '', P('26209829')),
    ],
    'biber',
  );
  assert.deepEqual(
    keys,
    ['Little:2014aa', 'Deo:2014ab', 'Moreno:2015aa'],
    'BibDesk keys; Deo et al. (no identifiers in the file) keeps its key',
  );
  const tex = fs.readFileSync(path.join(dir, 'paper.tex'), 'utf8');
  assert.ok(tex.includes('\\autocite{Rembold:1998qz,Little:2014aa,Deo:2014ab}.'));
  assert.ok(
    tex.includes('Gram-positive bacteria~\\autocite{Moreno:2015aa}.'),
    "a new citation uses the document's own command",
  );
  const bib = fs.readFileSync(path.join(dir, 'references.bib'), 'utf8');
  assert.equal(bib.match(/^@article/gm)?.length, 4, 'Deo et al. not added a second time');
  assert.match(bib, /Poly-\{\$\\beta\$\}-1,6/, 'Greek as LaTeX: pdflatex has no glyph for β, even through biber');
  assert.match(bib, /Núñez/, 'Latin letters stay UTF-8 for biber');
});

test('latexmk + bibtex (natbib, plainnat, pdflatex): joins \\cite{Rembold1998, Deo2014}; LaTeX-encoded entries; AuthorYear keys', async (t) => {
  if (skip) return t.skip(skip);
  const { dir, keys } = await latexCase(
    'bibtex',
    path.join(ROOT, 'test', 'fixtures', 'latex', 'bibtex'),
    async (f) => [
      await insert(f, 'latex', 'The number needed to screen expresses', '\\cite{Rembold1998, Deo2014', P('25359777')),
      await insert(f, 'latex', 'The number needed to screen expresses', '\\cite{Rembold1998, Deo2014', P('24842892')),
      await insert(f, 'latex', 'Bacterial polysaccharide de-N-acetylases', '', P('26209829')),
      await insert(f, 'latex', 'Positive allosteric modulators of the', '', P('25901762')),
    ],
    'bibtex',
  );
  assert.deepEqual(keys, ['Little2014', 'Deo2014', 'Moreno2015', 'Burford2015']);
  const tex = fs.readFileSync(path.join(dir, 'paper.tex'), 'utf8');
  assert.ok(tex.includes('\\cite{Rembold1998, Deo2014, Little2014}.'));
  const bib = fs.readFileSync(path.join(dir, 'references.bib'), 'utf8');
  assert.ok(
    !/[^\x00-\x7f]/.test(bib.slice(bib.indexOf('@article{Little2014'))),
    'new entries are ASCII (LaTeX-encoded)',
  );
  assert.match(bib, /N\{\\'u\}\{\\~n\}ez/);
});

test('latexmk + bibtex: the Better BibTeX fixture (natbib) — key reused by PMID, new key in its style', async (t) => {
  if (skip) return t.skip(skip);
  const { keys } = await latexCase(
    'tex',
    path.join(ROOT, 'test', 'fixtures', 'manuscripts', 'tex'),
    async (f) => [
      await insert(f, 'latex', 'Automatic MeSH indexing of PubMed citations', '\\cite{existing2016', P('25359777')),
      await insert(f, 'latex', 'Automatic MeSH indexing of PubMed citations', '\\cite{existing2016', {
        pmid: '28422961',
        title: 'Characterization of the mechanism of drug-drug interactions from PubMed using MeSH terms.',
        authors: ['Lu Y'],
        journal: 'PloS one',
        year: 2017,
      }),
    ],
    'bibtex',
  );
  assert.deepEqual(keys, ['littleStructuralBasisDenacetylation2014', 'luCharacterizationMechanismDrugdrug2017']);
});

test('the tools the tests ran', { skip: false }, (t) => {
  if (skip) return t.skip(skip);
  for (const [cmd, arg] of [
    ['pandoc', '--version'],
    ['biber', '--version'],
    ['latexmk', '-v'],
    ['bibtex', '--version'],
  ] as const) {
    t.diagnostic(
      run(cmd, [arg], work)
        .out.split('\n')
        .find((l) => l.trim()) ?? cmd,
    );
  }
  assert.ok(normTitle('x') === 'x');
});
