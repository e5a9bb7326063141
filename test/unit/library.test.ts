// The writer's own library as a source: a CSL-JSON bibliography indexed next to PubMed records. An item whose PMID
// or DOI is in the index is linked to that PubMed row (the abstract comes from PubMed; no poorer copy), items with
// neither are indexed as they are (doi:… / key:… ids), and search says "in your library" with the key.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureGeneratedModel } from '../../src/index/model';
import { IndexStore } from '../../src/index/store';
import { makeNlmFiles, type NlmFiles } from '../fixtures/nlm-mirror';
import { tmpDir } from './index-helpers';
import { cliRunner, ensureCliBuilt } from './cli-helpers';

let dir: string;
let model: string;
let nlm: NlmFiles;

const { runSync: run } = cliRunner(() => path.join(dir, 'home'));

before(async () => {
  ensureCliBuilt();
  dir = tmpDir('biohicl-lib-');
  model = path.join(dir, 'tiny');
  await ensureGeneratedModel(model, 'tiny');
  nlm = await makeNlmFiles(path.join(dir, 'nlm'));
});

test(
  'bibliography items: linked to their PubMed row by PMID or DOI, else indexed as they are; search says "in your library"',
  { timeout: 120_000 },
  async () => {
    const idx = path.join(dir, 'idx');
    assert.equal(run(['index', 'add', nlm.baseline[0]!, '--index', idx, '--model', model, '--quiet']).code, 0);
    const store = await IndexStore.open(idx, undefined, {});
    const rows = await store.articles
      .query()
      .where('doi IS NOT NULL AND has_abstract = true')
      .select(['pmid', 'doi', 'title'])
      .limit(2)
      .toArray();
    const before = await store.articles.countRows();
    store.close();
    assert.equal(rows.length, 2);
    const [a, b] = rows as { pmid: string; doi: string; title: string }[];
    const bib = path.join(dir, 'my-library.json');
    fs.writeFileSync(
      bib,
      JSON.stringify([
        { id: 'smith_first_2016', type: 'article-journal', PMID: a!.pmid, title: a!.title }, // PMID, no abstract (as Manubot's CSL)
        { id: 'jones2016', type: 'article-journal', DOI: b!.doi.toUpperCase(), title: b!.title }, // DOI only, other case
        {
          id: 'preprint2024',
          type: 'article',
          DOI: '10.1101/2024.01.01.123456',
          title: 'Zebrafish fin regeneration depends on osteoblast dedifferentiation',
          author: [{ family: 'Lee', given: 'K' }],
          issued: { 'date-parts': [[2024]] },
        },
        {
          id: 'book2019',
          type: 'book',
          title: 'Quorum sensing in bacterial biofilms: a handbook',
          author: [{ family: 'Ng', given: 'P' }],
        },
      ]),
    );
    const r = run(['index', 'add', bib, '--index', idx, '--model', model, '--json', '--quiet']);
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out);
    assert.equal(s.linked, 2, r.out);
    assert.equal(s.added, 2);
    assert.equal(s.articles, before + 2, 'no second row for the linked papers');
    // The linked paper keeps its PubMed abstract and is marked with the library key.
    const q = run(['search', a!.title, '--index', idx, '--model', model, '--mode', 'fts', '--json']);
    assert.equal(q.code, 0, q.err);
    const hit = JSON.parse(q.out).hits.find((h: { pmid: string }) => h.pmid === a!.pmid);
    assert.ok(hit, 'the PubMed row is found');
    assert.equal(hit.library?.key, 'smith_first_2016');
    assert.ok(hit.why.bestSentence, 'the abstract (from PubMed) is there');
    const q2 = run(['search', b!.title, '--index', idx, '--model', model, '--mode', 'fts']);
    assert.match(q2.out, /in your library as jones2016 \(my-library\.json\)/);
    // Items without PMID are searchable under their DOI or key.
    const q3 = JSON.parse(
      run([
        'search',
        'zebrafish fin regeneration osteoblast',
        '--index',
        idx,
        '--model',
        model,
        '--mode',
        'fts',
        '--json',
      ]).out,
    );
    assert.equal(q3.hits[0]?.pmid, 'doi:10.1101/2024.01.01.123456');
    assert.equal(q3.hits[0]?.library?.key, 'preprint2024');
    const q4 = JSON.parse(
      run(['search', 'quorum sensing biofilms handbook', '--index', idx, '--model', model, '--mode', 'fts', '--json'])
        .out,
    );
    assert.equal(q4.hits[0]?.pmid, 'key:book2019');
  },
);
