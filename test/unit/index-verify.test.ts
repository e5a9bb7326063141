// Damaged indexes, said exactly: `biohicl index verify` and the read commands on real LanceDB folders that lost a
// data file, had one truncated or emptied, lost meta.json, lost the sentences table, or hold rows a finalize would
// resolve. Read commands never create or change anything.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIOPYTHON } from '../fixtures/paths';
import { tmpDir } from './index-helpers';
import { cliRunner, smallRealIndex } from './cli-helpers';

let dir: string;
let model: string;
const { runSync: run } = cliRunner(() => path.join(dir, 'home'));

/** A fresh copy of a small real index. */
let pristine: string;
function copyIndex(name: string): string {
  const to = path.join(dir, name);
  fs.cpSync(pristine, to, { recursive: true });
  return to;
}
function dataFiles(idx: string, table: string): string[] {
  const d = path.join(idx, `${table}.lance`, 'data');
  return fs
    .readdirSync(d)
    .map((f) => path.join(d, f))
    .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
}
function tree(p: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const q = path.join(d, e.name);
      if (e.isDirectory()) walk(q);
      else out.push(`${q}:${fs.statSync(q).size}`);
    }
  };
  walk(p);
  return out.sort();
}

before(async () => {
  dir = tmpDir('biohicl-verify-');
  ({ model, index: pristine } = await smallRealIndex(dir));
});

test('a sound index verifies ok', () => {
  const r = run(['index', 'verify', '--index', pristine, '--json']);
  assert.equal(r.code, 0, r.out + r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.ok, true);
  assert.ok(j.tables.articles.rows > 0 && j.tables.articles.files > 0);
});

test('a deleted data file is named, with the rebuild command (a query may not touch it; verify reads every file)', () => {
  const idx = copyIndex('deleted-file');
  const victim = dataFiles(idx, 'sentences')[0]!;
  fs.rmSync(victim);
  const r = run(['index', 'verify', '--index', idx]);
  assert.equal(r.code, 4, r.out);
  assert.match(r.out, new RegExp(`damaged: ${victim.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is missing`));
  assert.match(r.out, /fix: rebuild it: `biohicl index add --index/);
  assert.doesNotMatch(r.out + r.err, /\/rustc\/|\/usr\/local\/cargo\//);
});

test('a truncated and an emptied data file are reported by table and file, without Rust paths', () => {
  const idx = copyIndex('truncated');
  const [big, second] = dataFiles(idx, 'articles');
  fs.truncateSync(big!, Math.floor(fs.statSync(big!).size / 2));
  const r = run(['index', 'verify', '--index', idx, '--json']);
  assert.equal(r.code, 4, r.out);
  const j = JSON.parse(r.out);
  assert.ok(
    j.problems.some(
      (p: { table: string; message: string }) =>
        p.table === 'articles' && /rows of 'articles' failed|cannot be/.test(p.message),
    ),
    r.out,
  );
  assert.doesNotMatch(r.out, /\/rustc\/|\/usr\/local\/cargo\//);
  if (second) {
    const idx2 = copyIndex('emptied');
    fs.truncateSync(dataFiles(idx2, 'articles')[0]!, 0);
    const r2 = run(['index', 'verify', '--index', idx2]);
    assert.equal(r2.code, 4);
    assert.match(r2.out, /is empty \(a disk that filled/);
  }
});

test('meta.json deleted: verify and search say what is missing and how to recover', () => {
  const idx = copyIndex('no-meta');
  fs.rmSync(path.join(idx, 'meta.json'));
  const v = run(['index', 'verify', '--index', idx]);
  assert.equal(v.code, 4);
  assert.match(v.out, /meta\.json is missing: it records which model made the vectors/);
  const s = run(['index', 'stats', '--index', idx]);
  assert.notEqual(s.code, 0);
  assert.match(s.err, /holds index tables but no meta\.json/);
});

test('a deleted sentences table: read commands fail with the way out and create nothing', () => {
  const idx = copyIndex('no-sentences');
  fs.rmSync(path.join(idx, 'sentences.lance'), { recursive: true });
  const before = tree(idx);
  const st = run(['index', 'stats', '--index', idx]);
  assert.equal(st.code, 4, st.out);
  assert.match(st.err, /has no 'sentences' table .*Rebuild it with `biohicl index add --index/s);
  const se = run(['sentences', 'tumour growth', '--index', idx, '--model', model, '--mode', 'fts']);
  assert.equal(se.code, 4);
  assert.deepEqual(tree(idx), before, 'read commands changed nothing');
  const v = run(['index', 'verify', '--index', idx]);
  assert.match(v.out, /the 'sentences' table is missing/);
});

/** The articles table's manifests, newest first (Lance's V2 names count down from u64::MAX). */
function manifests(idx: string): string[] {
  const d = path.join(idx, 'articles.lance', '_versions');
  return fs
    .readdirSync(d)
    .filter((f) => f.endsWith('.manifest'))
    .sort((a, b) => (BigInt(a.split('.')[0]!) < BigInt(b.split('.')[0]!) ? -1 : 1))
    .map((f) => path.join(d, f));
}

test('search and stats on a truncated data file, a truncated manifest or a lost _versions folder: exit 4, the index named, the repair commands, no Rust paths', () => {
  const cases: [string, (idx: string) => void, RegExp][] = [
    [
      'trunc-data',
      (idx) => fs.truncateSync(dataFiles(idx, 'articles')[0]!, 100),
      /is damaged: a data or manifest file is truncated or corrupt/,
    ],
    [
      'trunc-manifest',
      (idx) => fs.truncateSync(manifests(idx)[0]!, 10),
      /is damaged: a data or manifest file is truncated or corrupt/,
    ],
    [
      'no-versions',
      (idx) => fs.rmSync(path.join(idx, 'articles.lance', '_versions'), { recursive: true }),
      /is damaged: its 'articles' table \(articles\.lance\) is missing or has lost its version folder/,
    ],
  ];
  for (const [name, damage, said] of cases) {
    const idx = copyIndex(`read-${name}`);
    damage(idx);
    const before = tree(idx);
    for (const args of [
      ['search', 'tumour growth', '--index', idx, '--model', model],
      ['index', 'stats', '--index', idx],
    ]) {
      const r = run(args);
      assert.equal(r.code, 4, `${name} ${args[0]}: ${r.out}${r.err}`);
      assert.match(r.err, said, `${name} ${args[0]}`);
      assert.ok(r.err.includes(`the index at ${idx}`), r.err);
      assert.match(r.err, /`biohicl index verify --index .*`biohicl index add --index /);
      assert.doesNotMatch(r.out + r.err, /\/rustc\/|\/usr\/local\/cargo\//, `${name} ${args[0]}`);
    }
    assert.deepEqual(tree(idx), before, `${name}: read commands changed nothing`);
  }
});

test('a deleted newest manifest (Lance would silently read the version before): verify names it', () => {
  const idx = copyIndex('lost-newest-manifest');
  const ok = run(['index', 'verify', '--index', idx, '--json']);
  const version = JSON.parse(ok.out).tables.articles.version as number;
  fs.rmSync(manifests(idx)[0]!);
  const r = run(['index', 'verify', '--index', idx]);
  assert.equal(r.code, 4, r.out);
  assert.match(
    r.out,
    new RegExp(
      `the manifest of the 'articles' table's newest version \\(${version}\\) is missing: the table reads as version ${version - 1}`,
    ),
  );
});

test('rows a finalize would resolve (bulk writes of the same file twice) are reported with the command', () => {
  const idx = path.join(dir, 'unfinalized');
  const f = path.join(BIOPYTHON, 'pubmed_result1.txt');
  assert.equal(run(['index', 'setup', '--index', idx, '--model', model]).code, 0);
  assert.equal(run(['index', 'add', '--bulk', f, '--index', idx, '--model', model, '--quiet']).code, 0);
  assert.equal(run(['index', 'add', '--bulk', '--force', f, '--index', idx, '--model', model, '--quiet']).code, 0);
  // --force with bulk re-reads the file: its rows are already committed, so none are written twice
  let v = run(['index', 'verify', '--index', idx]);
  assert.equal(v.code, 0, v.out);
  // A second bulk writer of the same file under another path (a copy) appends a second version of each PMID.
  const copy = path.join(dir, 'copy-of-result1.txt');
  fs.copyFileSync(f, copy);
  assert.equal(run(['index', 'add', '--bulk', copy, '--index', idx, '--model', model, '--quiet']).code, 0);
  v = run(['index', 'verify', '--index', idx]);
  assert.equal(v.code, 4, v.out);
  assert.match(v.out, /older versions, duplicates or deleted citations.*\n\s+fix: `biohicl index finalize --index/);
  assert.equal(run(['index', 'finalize', '--index', idx]).code, 0);
  assert.equal(run(['index', 'verify', '--index', idx]).code, 0);
});
