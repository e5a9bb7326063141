// Child process of readers-hostile.test.ts: writes a file of FORMAT in which one record has a field of FIELD_MB
// megabytes (between two normal records), reads it with readCitations and prints, as one JSON line, what came out
// and how much the resident set grew while reading (peak RSS from getrusage minus the RSS before reading).
//   node --import tsx test/unit/readers-hostile-child.ts <xml|medline|csl|bibtex|pubmedqa> <FIELD_MB> <dir>
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCitations } from '../../src/index/readers';

const [format, mbArg, dir] = process.argv.slice(2) as [string, string, string];
const fieldBytes = Number(mbArg) * 2 ** 20;

function write(file: string, head: string, field: number, tail: string): void {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, head);
  const block = Buffer.alloc(1 << 20, 'abcdefgh ');
  for (let left = field; left > 0; left -= block.length)
    fs.writeSync(fd, left >= block.length ? block : block.subarray(0, left));
  fs.writeSync(fd, tail);
  fs.closeSync(fd);
}

function make(kind: string, field: number): string {
  const f = path.join(
    dir,
    `${kind}-${field}.${kind === 'xml' ? 'xml' : kind === 'medline' ? 'nbib' : kind === 'bibtex' ? 'bib' : 'json'}`,
  );
  const xmlRec = (pmid: number, t: string) =>
    `<PubmedArticle><MedlineCitation><PMID Version="1">${pmid}</PMID><Article><ArticleTitle>${t}</ArticleTitle></Article></MedlineCitation></PubmedArticle>\n`;
  const nb = (pmid: number, t: string) => `PMID- ${pmid}\nTI  - ${t}\n\n`;
  const csl = (pmid: number, t: string) =>
    `  {\n    "id": "k${pmid}",\n    "PMID": "${pmid}",\n    "title": "${t}"\n  }`;
  const bib = (pmid: number, t: string) => `@article{k${pmid},\n  pmid = {${pmid}},\n  title = {${t}},\n}\n`;
  const qa = (pmid: number, t: string) => ` "${pmid}": {\n  "QUESTION": "${t}",\n  "CONTEXTS": ["c"]\n }`;
  switch (kind) {
    case 'xml':
      write(
        f,
        `<?xml version="1.0"?>\n<PubmedArticleSet>\n${xmlRec(1001, 'first')}<PubmedArticle><MedlineCitation><PMID Version="1">1002</PMID><Article><ArticleTitle>`,
        field,
        `</ArticleTitle></Article></MedlineCitation></PubmedArticle>\n${xmlRec(1003, 'last')}</PubmedArticleSet>\n`,
      );
      break;
    case 'medline':
      write(f, `${nb(1001, 'first')}PMID- 1002\nTI  - `, field, `\n\n${nb(1003, 'last')}`);
      break;
    case 'csl':
      write(
        f,
        `[\n${csl(1001, 'first')},\n  {\n    "id": "k1002",\n    "PMID": "1002",\n    "title": "`,
        field,
        `"\n  },\n${csl(1003, 'last')}\n]\n`,
      );
      break;
    case 'bibtex':
      write(
        f,
        `${bib(1001, 'first')}\n@article{k1002,\n  pmid = {1002},\n  title = {`,
        field,
        `},\n}\n\n${bib(1003, 'last')}`,
      );
      break;
    case 'pubmedqa':
      write(
        f,
        `{\n${qa(1001, 'first')},\n "1002": {\n  "QUESTION": "`,
        field,
        `",\n  "CONTEXTS": ["c"]\n },\n${qa(1003, 'last')}\n}\n`,
      );
      break;
    default:
      throw new Error(`unknown format ${kind}`);
  }
  return f;
}

async function main(): Promise<void> {
  // warm up: load the reader (and citation-js) on a small file of the same kind
  const small = make(format, 16);
  for await (const _ of readCitations(small)) void _;
  const file = make(format, fieldBytes);
  const before = process.memoryUsage().rss;
  const kept: string[] = [];
  const rejects: { record: string; where: string; message: string }[] = [];
  const t0 = performance.now();
  for await (const ev of readCitations(file)) {
    if (ev.type === 'citation') kept.push(ev.citation.pmid);
    else if (ev.type === 'reject') rejects.push({ record: ev.record, where: ev.where, message: ev.message });
  }
  const ms = performance.now() - t0;
  const peak = process.resourceUsage().maxRSS * 1024;
  fs.rmSync(file, { force: true });
  process.stdout.write(
    JSON.stringify({ format, fileBytes: fieldBytes, kept, rejects, growthBytes: peak - before, ms }) + '\n',
  );
}
main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e));
  process.exit(1);
});
