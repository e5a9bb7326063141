import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { meshForText, shippedVocabDir } from '../../src/mesh/index';
import { buildFtsIndex, citationText, readAll } from '../../src/tools/eval/mesh';
import { DEMO_PUBMED, MESH_SAMPLE } from '../fixtures/paths';

const ROOT = path.resolve(__dirname, '../..');
const QA = path.join(DEMO_PUBMED, 'pubmedqa-pqal-dev.json');

test('meshForText on a real LanceDB index (full-text neighbours), own PMID excluded', async () => {
  const all = await readAll(QA);
  const corpus = all.slice(0, 60);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-index-'));
  try {
    const store = await buildFtsIndex(corpus, dir);
    store.close();
    const q = corpus[0]!;
    const r = await meshForText(citationText(q), {
      indexDir: dir,
      k: 10,
      excludePmids: [q.pmid],
      vocab: shippedVocabDir(),
    });
    assert.equal(r.mode, 'fts');
    assert.equal(r.neighbours.length, 10);
    assert.ok(!r.neighbours.some((n) => n.pmid === q.pmid));
    assert.ok(r.suggestions.length > 0);
    const voted = r.suggestions.filter((s) => s.evidence.pmids.length > 0);
    assert.ok(voted.length > 0);
    for (const s of voted) for (const p of s.evidence.pmids) assert.ok(r.neighbours.some((n) => n.pmid === p));
    // without an index: lexical only, said so
    const none = await meshForText(citationText(q), { indexDir: path.join(dir, 'absent'), vocab: shippedVocabDir() });
    assert.equal(none.mode, 'none');
    assert.match(none.note ?? '', /no index at/);
    assert.ok(none.suggestions.every((s) => s.evidence.pmids.length === 0));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('biohicl mesh: text output, --json, usage error, import of a descriptor XML', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-home-'));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'mesh', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, BIOHICL_HOME: home },
    });
  const noIndex = path.join(os.tmpdir(), 'biohicl-no-index-here');
  const t = run(
    'Tumours of the oesophagus in 40 women with type 2 diabetes treated with metformin.',
    '--index',
    noIndex,
  );
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /from the text alone/);
  assert.match(t.stdout, /Diabetes Mellitus, Type 2 \[D003924\]/);
  assert.match(t.stdout, /Diseases › .* › Diabetes Mellitus, Type 2/);
  assert.match(t.stdout, /text: "type 2 diabetes"/);
  const j = run('Metformin in type 2 diabetes.', '--index', noIndex, '--json');
  assert.equal(j.status, 0, j.stderr);
  const out = JSON.parse(j.stdout);
  assert.equal(out.mode, 'none');
  const dm = out.suggestions.find((s: { ui: string }) => s.ui === 'D003924');
  assert.equal(dm.url, 'https://meshb.nlm.nih.gov/record/ui?ui=D003924');
  const bad = run('', '--index', noIndex);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /give a paragraph/);
  // `mesh import` makes the XML's vocabulary the default for later runs
  const imp = run('import', MESH_SAMPLE);
  assert.equal(imp.status, 0, imp.stderr);
  assert.match(imp.stdout, /imported 1 descriptors \(MeSH 2006, 1 with scope notes\)/);
  assert.ok(fs.existsSync(path.join(home, 'mesh', 'vocab.json.gz')));
  const after = run('Calcimycin (A23187) was added.', '--index', noIndex, '--json');
  assert.equal(after.status, 0, after.stderr);
  const a = JSON.parse(after.stdout);
  assert.equal(a.vocab, 'MeSH 2006');
  assert.deepEqual(
    a.suggestions.map((s: { ui: string }) => s.ui),
    ['D000001'],
  );
  fs.rmSync(home, { recursive: true, force: true });
});
