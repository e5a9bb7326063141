// `npm run bench -- readers [--scale F] [--runs N] [--only csl,bibtex,angle,xml,medline]`: is every reader linear in
// its input? Each case is read at N, 2N and 4N and the fitted exponent k of time ∝ size^k is printed (1 = linear,
// 2 = quadratic). The three cases of issue 15, built from the real MEDLINE records in data/demo:
//   csl     a CSL-JSON export of 10k / 20k / 40k items
//   bibtex  a BibTeX export of 5k / 10k / 20k entries
//   angle   one CSL-JSON item whose abstract is a run of '<' of 50k / 100k / 200k characters (+ 2 normal items;
//           --angle-base 1000000 for 1M / 2M / 4M, where a linear reader's time is large enough to fit)
// plus the streaming PubMed readers (xml, medline) for comparison. Baselines measured in the same run: JSON.parse of
// the same file (csl, angle) and citation-js parsing the whole .bib in one call (bibtex), each with its own exponent.
// --scale 0.25 runs a quick version (N/4). Every timing is the best of --runs (default 1) and of as many runs as fit
// in one second.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Citation } from '../../index/citation';
import { readCitations } from '../../index/readers';
import { projectRoot } from '../../inference/paths';

interface Args {
  scale: number;
  runs: number;
  only?: Set<string>;
  angleBase: number;
}

function parse(args: string[]): Args {
  const a: Args = { scale: 1, runs: 1, angleBase: 50_000 };
  for (let i = 0; i < args.length; i++) {
    const k = args[i];
    if (k === '--scale') a.scale = Number(args[++i]);
    else if (k === '--runs') a.runs = Number(args[++i]);
    else if (k === '--only') a.only = new Set(String(args[++i]).split(','));
    else if (k === '--angle-base') a.angleBase = Number(args[++i]);
    else throw new Error(`unknown option ${k}`);
  }
  if (!(a.scale > 0) || !(a.runs >= 1)) throw new Error('--scale and --runs need positive numbers');
  return a;
}

/** Real citations (title, abstract, authors, journal, year, DOI) from the demo MEDLINE text. */
async function templates(): Promise<Citation[]> {
  const out: Citation[] = [];
  const file = path.join(projectRoot(), 'data', 'demo', 'mesh-papers.medline.txt');
  for await (const ev of readCitations(file))
    if (ev.type === 'citation' && ev.citation.abstract.length) out.push(ev.citation);
  if (!out.length) throw new Error(`no citations with abstracts in ${file}`);
  return out;
}

const absText = (c: Citation) => c.abstract.map((s) => (s.label ? `${s.label}: ${s.text}` : s.text)).join(' ');

export function cslItem(c: Citation, i: number): Record<string, unknown> {
  return {
    id: `http://zotero.org/users/1/items/I${String(i).padStart(7, '0')}`,
    type: 'article-journal',
    title: c.title,
    'container-title': c.journal,
    abstract: absText(c),
    DOI: c.doi ? `${c.doi}.${i}` : `10.5555/bench.${i}`,
    PMID: String(10_000_000 + i),
    author: c.authors.map((a) => {
      const [family, ...g] = a.split(' ');
      return { family, given: g.join(' ') };
    }),
    issued: { 'date-parts': [[c.year ?? 2000, 1 + (i % 12)]] },
    volume: String(1 + (i % 80)),
    issue: String(1 + (i % 12)),
    page: `${100 + (i % 900)}-${110 + (i % 900)}`,
  };
}

const bibSafe = (s: string) => s.replace(/[{}\\@]/g, ' ');

export function bibEntry(c: Citation, i: number): string {
  const authors = c.authors
    .map((a) => {
      const [family, ...g] = a.split(' ');
      return g.length ? `${family}, ${g.join(' ')}` : family;
    })
    .join(' and ');
  return `@article{key${i},
  title = {${bibSafe(c.title)}},
  author = {${bibSafe(authors)}},
  journal = {${bibSafe(c.journal)}},
  year = {${c.year ?? 2000}},
  volume = {${1 + (i % 80)}},
  number = {${1 + (i % 12)}},
  pages = {${100 + (i % 900)}--${110 + (i % 900)}},
  doi = {${c.doi ? `${c.doi}.${i}` : `10.5555/bench.${i}`}},
  pmid = {${10_000_000 + i}},
  abstract = {${bibSafe(absText(c))}},
}
`;
}

function writeCsl(file: string, ts: Citation[], n: number): void {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, '[\n');
  for (let i = 0; i < n; i++)
    fs.writeSync(fd, (i ? ',\n' : '') + JSON.stringify(cslItem(ts[i % ts.length]!, i), null, 2));
  fs.writeSync(fd, '\n]\n');
  fs.closeSync(fd);
}

function writeBib(file: string, ts: Citation[], n: number): void {
  const fd = fs.openSync(file, 'w');
  let batch = '';
  for (let i = 0; i < n; i++) {
    batch += bibEntry(ts[i % ts.length]!, i) + '\n';
    if (batch.length > 1 << 20) {
      fs.writeSync(fd, batch);
      batch = '';
    }
  }
  fs.writeSync(fd, batch);
  fs.closeSync(fd);
}

function writeAngle(file: string, ts: Citation[], len: number): void {
  const items = Array.from({ length: 3 }, (_, i) => cslItem(ts[i % ts.length]!, i));
  items[1]!['abstract'] = '<'.repeat(len);
  fs.writeFileSync(file, JSON.stringify(items, null, 2));
}

function writeXml(file: string, ts: Citation[], n: number): void {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, '<?xml version="1.0"?>\n<PubmedArticleSet>\n');
  let batch = '';
  for (let i = 0; i < n; i++) {
    const c = ts[i % ts.length]!;
    batch += `<PubmedArticle><MedlineCitation Status="MEDLINE"><PMID Version="1">${10_000_000 + i}</PMID><Article><Journal><JournalIssue><Volume>${1 + (i % 80)}</Volume><PubDate><Year>${c.year ?? 2000}</Year></PubDate></JournalIssue><Title>${esc(c.journal)}</Title></Journal><ArticleTitle>${esc(c.title)}</ArticleTitle><Abstract><AbstractText>${esc(absText(c))}</AbstractText></Abstract><AuthorList>${c.authors.map((a) => `<Author><LastName>${esc(a.split(' ')[0]!)}</LastName><Initials>${esc(a.split(' ')[1] ?? '')}</Initials></Author>`).join('')}</AuthorList></Article></MedlineCitation></PubmedArticle>\n`;
    if (batch.length > 1 << 20) {
      fs.writeSync(fd, batch);
      batch = '';
    }
  }
  fs.writeSync(fd, batch + '</PubmedArticleSet>\n');
  fs.closeSync(fd);
}

function writeMedline(file: string, ts: Citation[], n: number): void {
  const fd = fs.openSync(file, 'w');
  let batch = '';
  for (let i = 0; i < n; i++) {
    const c = ts[i % ts.length]!;
    batch += `PMID- ${10_000_000 + i}\nTI  - ${c.title}\nAB  - ${absText(c)}\n${c.authors.map((a) => `AU  - ${a}\n`).join('')}JT  - ${c.journal}\nDP  - ${c.year ?? 2000} Jan\nVI  - ${1 + (i % 80)}\n\n`;
    if (batch.length > 1 << 20) {
      fs.writeSync(fd, batch);
      batch = '';
    }
  }
  fs.writeSync(fd, batch);
  fs.closeSync(fd);
}

async function readAll(file: string): Promise<{ cites: number; rejects: number }> {
  let cites = 0;
  let rejects = 0;
  for await (const ev of readCitations(file)) {
    if (ev.type === 'citation') cites++;
    else if (ev.type === 'reject') rejects++;
  }
  return { cites, rejects };
}

/** Best of `runs` runs, repeated (up to 20) until 1 s has been spent, so that short timings are stable. */
async function timeIt<T>(f: () => Promise<T> | T, runs: number): Promise<{ s: number; value: T }> {
  let best = Infinity;
  let value!: T;
  let spent = 0;
  for (let r = 0; r < 20 && (r < runs || spent < 1); r++) {
    const t = performance.now();
    value = await f();
    const s = (performance.now() - t) / 1000;
    spent += s;
    best = Math.min(best, s);
  }
  return { s: best, value };
}

/** Least-squares slope of log(t) against log(n). */
export function exponent(points: { n: number; s: number }[]): number {
  const xs = points.map((p) => Math.log(p.n));
  const ys = points.map((p) => Math.log(Math.max(p.s, 1e-6)));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return num / den;
}

interface Case {
  name: string;
  unit: string;
  base: number;
  ext: string;
  write: (file: string, ts: Citation[], n: number) => void;
  baseline?: { name: string; run: (file: string) => Promise<unknown> | unknown };
}

export async function run(argv: string[]): Promise<void> {
  const a = parse(argv);
  const ts = await templates();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-bench-readers-'));
  const jsonParse = { name: 'JSON.parse', run: (f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) };
  const { plugins } = await import('@citation-js/core');
  await import('@citation-js/plugin-bibtex');
  const citationJs = {
    name: 'citation-js whole file',
    run: (f: string) =>
      plugins.input.chain(fs.readFileSync(f, 'utf8'), { generateGraph: false, forceType: '@biblatex/text' }),
  };
  const cases: Case[] = [
    { name: 'csl', unit: 'items', base: 10_000, ext: 'json', write: writeCsl, baseline: jsonParse },
    { name: 'bibtex', unit: 'entries', base: 5_000, ext: 'bib', write: writeBib, baseline: citationJs },
    {
      name: 'angle',
      unit: "'<' in one abstract",
      base: a.angleBase,
      ext: 'json',
      write: writeAngle,
      baseline: jsonParse,
    },
    { name: 'xml', unit: 'records', base: 10_000, ext: 'xml', write: writeXml },
    { name: 'medline', unit: 'records', base: 10_000, ext: 'nbib', write: writeMedline },
  ];
  console.log(
    `readers bench: ${ts.length} real MEDLINE records as templates; scale ${a.scale}, best of ${a.runs}; temp ${tmp}`,
  );
  // warm-up: load citation-js and JIT the readers on small inputs
  for (const c of cases) {
    const f = path.join(tmp, `warm.${c.ext}`);
    c.write(f, ts, c.name === 'angle' ? 1000 : 50);
    await readAll(f);
  }
  const summary: string[] = [];
  try {
    for (const c of cases) {
      if (a.only && !a.only.has(c.name)) continue;
      const pts: { n: number; s: number }[] = [];
      const bpts: { n: number; s: number }[] = [];
      for (const mult of [1, 2, 4]) {
        const n = Math.max(1, Math.round(c.base * a.scale * mult));
        const f = path.join(tmp, `${c.name}-${n}.${c.ext}`);
        c.write(f, ts, n);
        const mb = fs.statSync(f).size / 2 ** 20;
        const r = await timeIt(() => readAll(f), a.runs);
        pts.push({ n, s: r.s });
        let line = `  ${c.name.padEnd(7)} ${n.toLocaleString('en').padStart(9)} ${c.unit}, ${mb.toFixed(1).padStart(6)} MB: ${r.s.toFixed(3).padStart(8)} s (${(mb / r.s).toFixed(1)} MB/s), ${r.value.cites} citations, ${r.value.rejects} rejects`;
        if (c.baseline) {
          const b = await timeIt(() => c.baseline!.run(f), a.runs);
          bpts.push({ n, s: b.s });
          line += `; ${c.baseline.name} ${b.s.toFixed(2)} s (reader ${(r.s / b.s).toFixed(1)}×)`;
        }
        console.log(line);
        fs.rmSync(f, { force: true });
      }
      if (c.name === 'angle' && pts[pts.length - 1]!.s < 5) {
        const f = path.join(tmp, 'angle-1mb.json');
        c.write(f, ts, 2 ** 20);
        const r = await timeIt(() => readAll(f), a.runs);
        console.log(`  angle   1 MiB of '<' in one abstract: ${r.s.toFixed(3)} s, ${r.value.cites} citations`);
        fs.rmSync(f, { force: true });
      }
      const k = exponent(pts);
      let s = `${c.name}: exponent ${k.toFixed(2)} (${pts.map((p) => `${p.s.toFixed(3)}`).join(' / ')} s)`;
      if (bpts.length) s += `; ${c.baseline!.name} exponent ${exponent(bpts).toFixed(2)}`;
      console.log(s);
      summary.push(s);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`\nsummary (1 = linear, 2 = quadratic):\n  ${summary.join('\n  ')}`);
}
