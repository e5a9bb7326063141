// `biohicl cite PMID|DOI`: a real index (the shipped MEDLINE demo file, indexed with the test's bag-of-words
// vectors: the command reads no vectors) asked through the built CLI for BibTeX, CSL-JSON and a formatted reference;
// an unknown id, a malformed id and a missing index are refused with their messages and exit codes.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IndexStore } from '../../src/index/store';
import { addFiles } from '../../src/index/build';
import { readCitations } from '../../src/index/readers';
import { splitSentences } from '../../src/inference/sentences';
import { EXIT } from '../../src/cli/exit';
import { parsePaperId } from '../../src/cli/commands/cite';
import { BowEmbedder, tmpDir } from './index-helpers';
import { cliRunner, ensureCliBuilt } from './cli-helpers';
import { DEMO_PUBMED } from '../fixtures/paths';

let dir = '';
let idx = '';
const { run } = cliRunner(() => path.join(dir, 'home'));

before(async () => {
  ensureCliBuilt();
  dir = tmpDir('biohicl-cite-');
  idx = path.join(dir, 'index');
  const emb = new BowEmbedder();
  const store = await IndexStore.open(idx, emb.identity, { create: true });
  try {
    await addFiles(store, emb, [path.join(DEMO_PUBMED, 'mesh-papers.medline.txt')], {
      read: (f) => readCitations(f),
      split: splitSentences,
    });
  } finally {
    store.close();
  }
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('ids: PMID and DOI forms are recognised; anything else is a usage error', () => {
  assert.deepEqual(parsePaperId('28422961'), { pmid: '28422961' });
  assert.deepEqual(parsePaperId('PMID: 28422961'), { pmid: '28422961' });
  assert.deepEqual(parsePaperId('https://doi.org/10.1371/journal.pone.0173548'), {
    doi: '10.1371/journal.pone.0173548',
  });
  assert.deepEqual(parsePaperId('doi:10.1371/Journal.PONE.0173548'), { doi: '10.1371/journal.pone.0173548' });
  assert.throws(
    () => parsePaperId('statins'),
    (e: Error & { exitCode?: number }) => {
      assert.equal(e.exitCode, EXIT.usage);
      assert.match(e.message, /"statins" is neither a PMID \(digits\) nor a DOI/);
      return true;
    },
  );
});

test('BibTeX by PMID, CSL-JSON by DOI, a Vancouver reference: the paper as PubMed has it', async () => {
  let r = await run(['cite', '28422961', '--index', idx]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^@article\{lu2017characterization,\n/);
  assert.match(
    r.out,
    /title = \{\{Characterization of the mechanism of drug-drug interactions from PubMed using MeSH terms\}\}/,
  );
  assert.match(
    r.out,
    /author = \{Lu, Y\. and Figler, B\. and Huang, H\. and Tu, Y\. C\. and Wang, J\. and Cheng, F\.\}/,
  );
  assert.match(r.out, /pages = \{e0173548\}/);
  assert.match(r.out, /doi = \{10\.1371\/journal\.pone\.0173548\}/);
  assert.match(r.out, /pmid = \{28422961\}/);

  r = await run(['cite', 'https://doi.org/10.1371/JOURNAL.PONE.0173548', '--index', idx, '--format', 'csl-json']);
  assert.equal(r.code, 0, r.err);
  const items = JSON.parse(r.out);
  assert.equal(items.length, 1);
  assert.equal(items[0].PMID, '28422961');
  assert.equal(items[0].DOI, '10.1371/journal.pone.0173548');
  assert.equal(items[0].volume, '12');
  assert.deepEqual(items[0].issued, { 'date-parts': [[2017]] });
  assert.equal(items[0].author[0].family, 'Lu');

  r = await run(['cite', '28422961', '--index', idx, '--format', 'text']);
  assert.equal(r.code, 0, r.err);
  assert.equal(
    r.out,
    'Lu Y, Figler B, Huang H, Tu YC, Wang J, Cheng F. Characterization of the mechanism of drug-drug interactions ' +
      'from PubMed using MeSH terms. PloS one. 2017;12(4):e0173548. doi:10.1371/journal.pone.0173548 PubMed PMID: 28422961.\n',
  );
});

test('an unknown id, an unknown format, no index: named, with their exit codes', async () => {
  let r = await run(['cite', '99999999', '--index', idx]);
  assert.equal(r.code, EXIT.failure);
  assert.match(r.err, /cite: PMID 99999999 is not in the index at .*index; add the paper with `biohicl index add/);
  assert.equal(r.out, '');
  r = await run(['cite', '10.1000/nothing.here', '--index', idx]);
  assert.equal(r.code, EXIT.failure);
  assert.match(r.err, /cite: DOI 10\.1000\/nothing\.here is not in the index/);
  r = await run(['cite', '28422961', '--index', idx, '--format', 'ris']);
  assert.equal(r.code, EXIT.usage);
  assert.match(r.err, /argument 'ris' is invalid\. Allowed choices are bibtex, csl-json, text/);
  r = await run(['cite', 'not-an-id', '--index', idx]);
  assert.equal(r.code, EXIT.usage);
  r = await run(['cite', '28422961', '--index', path.join(dir, 'nowhere')]);
  assert.equal(r.code, EXIT.missing);
  assert.match(r.err, /no index at .*nowhere: build one with `biohicl index add/);
});
