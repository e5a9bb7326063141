// The index commands of the built CLI (dist/cli.js) on a generated tiny model and real PubMed files:
// exit codes, --json output, the generated-weights note, the model check and the reject report.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureGeneratedModel } from '../../src/index/model';
import { tmpDir } from './index-helpers';
import { BIOPYTHON } from '../fixtures/paths';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const bio = BIOPYTHON;
let dir: string;
let model: string;
let model2: string;

function run(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, BIOHICL_HOME: path.join(dir, 'home') },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(async () => {
  if (!fs.existsSync(cli))
    spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  dir = tmpDir('biohicl-cli-');
  model = path.join(dir, 'tiny');
  model2 = path.join(dir, 'tiny2');
  await ensureGeneratedModel(model, 'tiny');
  await ensureGeneratedModel(model2, 'tiny'); // same shape, another manifest: another model
});

test('index add, stats, search, sentences', { timeout: 120_000 }, () => {
  const idx = path.join(dir, 'idx');
  const add = run([
    'index',
    'add',
    path.join(bio, 'pubmed1.xml'),
    path.join(bio, 'pubmed_result1.txt'),
    '--index',
    idx,
    '--model',
    model,
    '--json',
  ]);
  assert.equal(add.code, 0, add.err);
  const s = JSON.parse(add.out);
  assert.ok(s.added > 0);
  assert.equal(s.articles, s.added);
  assert.equal(s.rejected, 0);

  const st = run(['index', 'stats', '--index', idx, '--json']);
  assert.equal(st.code, 0, st.err);
  const stats = JSON.parse(st.out);
  assert.equal(stats.articles, s.articles);
  assert.equal(stats.model.generated, true);
  assert.ok(stats.indexes.articles.some((x: string) => x.startsWith('FTS')));

  const h = run(['search', 'biopython PubMed pharmacology', '--index', idx, '--json']);
  assert.equal(h.code, 0, h.err);
  const hr = JSON.parse(h.out);
  assert.equal(hr.mode, 'hybrid');
  assert.equal(hr.denseWeight, 0);
  assert.match(hr.note, /GENERATED/);
  const f = JSON.parse(run(['search', 'biopython PubMed pharmacology', '--index', idx, '--mode', 'fts', '--json']).out);
  assert.deepEqual(
    hr.hits.map((x: { pmid: string }) => x.pmid),
    f.hits.map((x: { pmid: string }) => x.pmid),
  );

  const text = run(['search', 'cancer', '--index', idx, '--k', '2']);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /GENERATED/);

  const se = run(['sentences', 'cancer treatment', '--index', idx, '--json']);
  assert.equal(se.code, 0, se.err);
  assert.equal(JSON.parse(se.out).mode, 'fts');

  const opt = run(['index', 'optimize', '--index', idx, '--json']);
  assert.equal(opt.code, 0, opt.err);
  assert.equal(JSON.parse(run(['index', 'stats', '--index', idx, '--json']).out).articles, s.articles);
});

test(
  'exit codes: missing index 4, other model 3 (with how to rebuild), rejects 5, bad usage 2',
  { timeout: 120_000 },
  () => {
    const idx = path.join(dir, 'idx2');
    assert.equal(run(['search', 'x', '--index', path.join(dir, 'nothing'), '--mode', 'fts']).code, 4);
    assert.equal(
      run(['index', 'add', path.join(bio, 'pubmed2.xml'), '--index', idx, '--model', model, '--quiet']).code,
      0,
    );
    const other = run(['index', 'add', path.join(bio, 'pubmed4.xml'), '--index', idx, '--model', model2, '--quiet']);
    assert.equal(other.code, 3);
    assert.match(other.err, /--rebuild/);
    const bad = path.join(dir, 'bad.xml');
    fs.writeFileSync(
      bad,
      '<?xml version="1.0"?>\n<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>ok</ArticleTitle></Article></MedlineCitation></PubmedArticle><PubmedArticle><MedlineCitation><PMID>2</PMID><Article>',
    );
    const r = run(['index', 'add', bad, '--index', idx, '--model', model, '--json']);
    assert.equal(r.code, 5, r.err);
    const js = JSON.parse(r.out);
    assert.ok(js.rejected >= 1);
    assert.ok(fs.existsSync(js.rejectReport));
    // a file with rejects is not recorded as complete: the rerun reads it again and reports the rejects again
    const again = run(['index', 'add', bad, '--index', idx, '--model', model, '--json']);
    assert.equal(again.code, 5, again.err);
    assert.ok(JSON.parse(again.out).rejected >= 1);
    assert.equal(run(['search', 'x', '--index', idx, '--k', 'zero']).code, 2);
    assert.equal(run(['search', 'x', '--index', idx, '--mode', 'bm25']).code, 2, 'an invalid choice is a usage error');
    const reb = run([
      'index',
      'add',
      path.join(bio, 'pubmed4.xml'),
      '--index',
      idx,
      '--model',
      model2,
      '--rebuild',
      '--quiet',
    ]);
    assert.equal(reb.code, 0, reb.err);
  },
);
