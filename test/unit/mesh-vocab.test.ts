import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  loadVocab,
  loadDescriptorXml,
  loadTsvVocab,
  loadVocabCache,
  saveVocabCache,
  meshBrowserUrl,
  shippedVocabDir,
} from '../../src/mesh/vocab';
import { MESH_SAMPLE } from '../fixtures/paths';

const SAMPLE = MESH_SAMPLE;

test('shipped MeSH 2024 vocabulary: descriptors, entry terms, lookups', async () => {
  const v = await loadVocab(shippedVocabDir());
  assert.equal(v.version, 'MeSH 2024');
  assert.equal(v.size, 30764);
  assert.equal(await loadVocab(shippedVocabDir()), v, 'cached in memory');
  const dm2 = v.findByName('diabetes mellitus, TYPE 2')!;
  assert.equal(dm2.ui, 'D003924');
  assert.ok(dm2.terms.includes('NIDDM'));
  assert.ok(!dm2.terms.includes(dm2.name), 'the name is not repeated among entry terms');
  assert.equal(v.get('D003924'), dm2);
  // an old name (renamed descriptor) is an entry term and resolves
  assert.equal(v.findByName('European Continental Ancestry Group')?.name, 'White People');
  assert.equal(v.resolve({ name: 'Humans' })?.ui, 'D006801');
  assert.equal(v.resolve({ ui: 'D006801', name: 'whatever' })?.name, 'Humans');
  assert.equal(v.findByName('no such heading'), undefined);
  assert.equal(meshBrowserUrl('D003924'), 'https://meshb.nlm.nih.gov/record/ui?ui=D003924');
});

test('tree: breadcrumbs with category and top-level names, parents, children, depth', async () => {
  const v = await loadVocab(shippedVocabDir());
  const covid = v.findByName('COVID-19')!;
  const crumbs = v.breadcrumbStrings(covid.ui);
  assert.ok(crumbs.length >= 2);
  assert.ok(
    crumbs.includes(
      'Diseases › Infections › Virus Diseases › RNA Virus Infections › Nidovirales Infections › Coronaviridae Infections › Coronavirus Infections › COVID-19',
    ),
    crumbs.join('\n'),
  );
  for (const c of crumbs) assert.match(c, /^Diseases › .* › COVID-19$/);
  const parents = v
    .parents(covid.ui)
    .map((d) => d.name)
    .sort();
  assert.deepEqual(parents, ['Coronavirus Infections', 'Pneumonia, Viral']);
  const infections = v.findByName('Infections')!;
  assert.ok(infections.treeNumbers.includes('C01'), 'top-level position restored');
  assert.equal(v.depth(infections.ui), 1);
  assert.ok(v.children(infections.ui).some((d) => d.name === 'Virus Diseases'));
  assert.ok(v.children(v.findByName('Coronavirus Infections')!.ui).some((d) => d.ui === covid.ui));
  assert.equal(v.depth(covid.ui), Math.min(...covid.treeNumbers.map((t) => t.split('.').length)));
  assert.equal(v.byTreeNumber('C01')?.name, 'Infections');
  assert.deepEqual(v.breadcrumbs(v.findByName('Female')!.ui), [], 'no tree number, no breadcrumb');
});

test('NLM descriptor XML (streamed): UI, name, tree numbers, entry terms without permuted forms, scope note', async () => {
  const v = await loadDescriptorXml(SAMPLE);
  assert.equal(v.version, 'MeSH 2006');
  const d = v.get('D000001')!;
  assert.equal(d.name, 'Calcimycin');
  assert.ok(d.treeNumbers.length > 0 && d.treeNumbers.every((t) => /^D\d\d(\.\d+)*$/.test(t)), d.treeNumbers.join());
  assert.ok(d.terms.includes('A23187') && d.terms.includes('Antibiotic A23187') && d.terms.includes('A-23187'));
  assert.ok(!d.terms.includes('A 23187') && !d.terms.includes('A23187, Antibiotic'), 'permuted terms skipped');
  assert.match(d.scopeNote ?? '', /^An ionophorous, polyether antibiotic from Streptomyces chartreusensis\./);
  // the same through loadVocab, gzipped, and via the compact cache
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-vocab-'));
  try {
    const gz = path.join(dir, 'desc2006.xml.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(SAMPLE)));
    const v2 = await loadVocab(gz);
    assert.deepEqual(v2.get('D000001'), d);
    const cache = path.join(dir, 'vocab.json.gz');
    saveVocabCache(v2, cache);
    const v3 = loadVocabCache(cache);
    assert.deepEqual(v3.get('D000001'), d);
    assert.equal(v3.version, 'MeSH 2006');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input names the file and where', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-bad-'));
  try {
    const bad = path.join(dir, 'desc2099.xml');
    fs.writeFileSync(
      bad,
      '<DescriptorRecordSet><DescriptorRecord><DescriptorUI>D1</DescriptorUI>\n<DescriptorName><String>x</String></DescriptorNam></DescriptorRecord>',
    );
    await assert.rejects(loadDescriptorXml(bad), (e: Error) => e.message.includes(bad) && /line 2/.test(e.message));
    const other = path.join(dir, 'other.xml');
    fs.writeFileSync(other, '<PubmedArticleSet></PubmedArticleSet>');
    await assert.rejects(loadDescriptorXml(other), /expected <DescriptorRecordSet>/);
    const tsv = path.join(dir, 'x-descriptors.tsv');
    fs.writeFileSync(tsv, 'descriptor_ui\tname\ttree_numbers\nD000001\tOK\tA01\nnot a row\n');
    assert.throws(
      () => loadTsvVocab(tsv, tsv),
      (e: Error) => e.message.includes(tsv) && e.message.includes('line 3'),
    );
    await assert.rejects(loadVocab(path.join(dir, 'missing.json.gz')), /not found/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('descriptor XML: many records, multi-byte characters across read chunks, gzip', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-big-'));
  try {
    const recs: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const ui = `D${String(900000 + i)}`;
      recs.push(
        `<DescriptorRecord DescriptorClass="1"><DescriptorUI>${ui}</DescriptorUI><DescriptorName><String>Sjögren β-${i} &amp; Ærø</String></DescriptorName>` +
          `<TreeNumberList><TreeNumber>C17.${String(i).padStart(3, '0')}</TreeNumber></TreeNumberList><ConceptList><Concept PreferredConceptYN="Y"><ScopeNote>Note ${i} — ü</ScopeNote>` +
          `<TermList><Term RecordPreferredTermYN="Y"><TermUI>T${i}</TermUI><String>Sjögren β-${i} &amp; Ærø</String></Term><Term RecordPreferredTermYN="N"><TermUI>T${i}b</TermUI><String>Entry ${i} naïve</String></Term></TermList></Concept></ConceptList></DescriptorRecord>`,
      );
    }
    const xml = `<?xml version="1.0"?>\n<DescriptorRecordSet LanguageCode="eng">\n${recs.join('\n')}\n</DescriptorRecordSet>\n`;
    const file = path.join(dir, 'desc2025.xml.gz');
    fs.writeFileSync(file, zlib.gzipSync(Buffer.from(xml, 'utf8')));
    const v = await loadDescriptorXml(file);
    assert.equal(v.version, 'MeSH 2025');
    assert.equal(v.size, 3000);
    for (let i = 0; i < 3000; i += 1) {
      const d = v.get(`D${String(900000 + i)}`)!;
      assert.equal(d.name, `Sjögren β-${i} & Ærø`);
      assert.deepEqual(d.terms, [`Entry ${i} naïve`]);
      assert.equal(d.scopeNote, `Note ${i} — ü`);
    }
    assert.equal(
      v.breadcrumbStrings('D900005')[0],
      'Diseases › Skin and Connective Tissue Diseases › Sjögren β-5 & Ærø',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
