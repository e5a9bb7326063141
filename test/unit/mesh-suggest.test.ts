import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadVocab, shippedVocabDir } from '../../src/mesh/vocab';
import { collapseSiblings, suggestMesh, type Neighbour } from '../../src/mesh/suggest';
import { checkTagCues } from '../../src/mesh/checktags';
import { DEMO_PUBMED } from '../fixtures/paths';

const QA = path.join(DEMO_PUBMED, 'pubmedqa-pqal-dev.json');
type QaRec = { QUESTION: string; CONTEXTS: string[]; MESHES: string[] };
const qa = JSON.parse(fs.readFileSync(QA, 'utf8')) as Record<string, QaRec>;
const textOf = (r: QaRec) => `${r.QUESTION}\n${r.CONTEXTS.join('\n')}`;
// real PubMedQA records as neighbours: MeSH names only (no UI), as that reader gives them
const asNeighbour = (pmid: string, rank: number): Neighbour => ({
  pmid,
  rank,
  mesh: qa[pmid]!.MESHES.map((name) => ({ name, major: false, qualifiers: [] })),
});

test('suggestMesh: lexical evidence, neighbour votes mapped from names, scores in [0,1], sorted, urls', async () => {
  const v = await loadVocab(shippedVocabDir());
  const pmid = '10808977';
  const text = textOf(qa[pmid]!);
  const others = Object.keys(qa).filter((p) => p !== pmid);
  // neighbours: three records that share 'Mammography' first, then two unrelated ones
  const mammo = others.filter((p) => qa[p]!.MESHES.includes('Mammography')).slice(0, 3);
  const unrelated = others.filter((p) => !qa[p]!.MESHES.includes('Mammography')).slice(0, 2);
  const ns = [...mammo, ...unrelated].map((p, i) => asNeighbour(p, i));
  assert.ok(mammo.length >= 1);
  const out = suggestMesh(text, ns, v, { cutoff: 0 });
  assert.ok(out.length > 5);
  for (let i = 1; i < out.length; i++) assert.ok(out[i - 1]!.score >= out[i]!.score);
  for (const s of out) {
    assert.ok(s.score >= 0 && s.score <= 1, `${s.name} ${s.score}`);
    assert.equal(s.url, `https://meshb.nlm.nih.gov/record/ui?ui=${s.ui}`);
    assert.equal(s.name, v.get(s.ui)!.name);
  }
  const m = out.find((s) => s.name === 'Mammography')!;
  assert.ok(m.evidence.spans.length > 0 && m.evidence.spans.every((sp) => text.slice(sp.start, sp.end) === sp.text));
  assert.deepEqual(m.evidence.pmids, mammo);
  assert.ok(m.evidence.lexical > 0 && m.evidence.neighbours > 0);
  assert.ok(
    m.breadcrumbs.some(
      (b) =>
        b.startsWith('Analytical, Diagnostic and Therapeutic Techniques, and Equipment › ') &&
        b.endsWith(' › Mammography'),
    ),
  );
  assert.ok(m.entryTerms.length > 0);
  // agreement of both legs ranks above either alone
  const lexOnly = suggestMesh(text, [], v, { cutoff: 0 }).find((s) => s.name === 'Mammography')!;
  assert.ok(m.score > lexOnly.score);
  // check tags are their own group; 'women' cues Female and Humans
  const female = out.find((s) => s.name === 'Female')!;
  assert.equal(female.group, 'checktag');
  assert.ok(out.some((s) => s.name === 'Humans' && s.group === 'checktag'));
  assert.ok(out.filter((s) => s.group === 'topic').every((s) => !['Female', 'Humans', 'Male'].includes(s.name)));
  // the cut-off and max apply; neighbours beyond k are ignored
  const cut = suggestMesh(text, ns, v, { cutoff: 0.5, max: 3 });
  assert.ok(cut.length <= 3 && cut.every((s) => s.score >= 0.5));
  const k1 = suggestMesh(text, ns, v, { k: 1, lexical: false, cutoff: 0 });
  assert.deepEqual(new Set(k1.map((s) => s.name)), new Set(qa[mammo[0]!]!.MESHES.map((n) => v.findByName(n)!.name)));
  assert.ok(k1.every((s) => s.evidence.pmids.length === 1 && s.evidence.spans.length === 0));
});

test('neighbour votes: rank and major-topic weighting', async () => {
  const v = await loadVocab(shippedVocabDir());
  const h = (name: string, major = false) => ({ name, major, qualifiers: [] });
  const ns: Neighbour[] = [
    { pmid: '1', rank: 0, mesh: [h('Asthma', true), h('Humans')] },
    { pmid: '2', rank: 1, mesh: [h('Asthma'), h('Humans'), h('Obesity')] },
    { pmid: '3', rank: 2, mesh: [h('Obesity', true), h('Humans')] },
    { pmid: '4', rank: 3, mesh: [h('Not A MeSH Heading')] },
  ];
  const out = suggestMesh('', ns, v, { cutoff: 0, weights: { minorVote: 0.75 } });
  const score = (n: string) => out.find((s) => s.name === n)?.score ?? 0;
  assert.ok(score('Humans') > score('Asthma'));
  assert.ok(score('Asthma') > score('Obesity'), 'earlier ranks weigh more');
  assert.ok(out.length === 3, 'unknown names are dropped');
  const swap = suggestMesh(
    '',
    [
      { ...ns[0]!, mesh: [h('Asthma')] },
      { ...ns[1]!, mesh: [h('Obesity', true)] },
    ],
    v,
    { cutoff: 0, weights: { rankDecay: 0, minorVote: 0.5 } },
  );
  assert.ok(
    swap.find((s) => s.name === 'Obesity')!.score > swap.find((s) => s.name === 'Asthma')!.score,
    'major topic weighs more at equal rank',
  );
});

test('check-tag cues: sex, population, ages', () => {
  const c = checkTagCues(
    'We enrolled 120 women aged 50 to 69 years and their daughters. Mean age was 8.2 ± 2.1 years in the children.',
  );
  const tags = [...c.keys()];
  for (const t of ['Humans', 'Female', 'Middle Aged', 'Aged', 'Child'] as const)
    assert.ok(tags.includes(t), `${t} in ${tags.join(', ')}`);
  assert.ok(!tags.includes('Male') && !tags.includes('Animals') && !tags.includes('Infant, Newborn'));
  assert.ok(c.get('Female')!.spans.some((s) => s.text === 'women'));
  const rats = checkTagCues('Male Wistar rats were fed for 12 weeks.');
  assert.ok(rats.has('Animals') && rats.has('Male') && !rats.has('Humans'));
  assert.equal(checkTagCues('Follow-up lasted 2 to 5 years.').size, 0, 'a follow-up range is not an age');
});

test('collapse of three or more siblings into their parent', async () => {
  const v = await loadVocab(shippedVocabDir());
  const h = (name: string) => ({ name, major: true, qualifiers: [] });
  // three children of 'Coronavirus Infections' (C01.925.782.600.550.200) voted by one neighbour
  const parent = v.findByName('Coronavirus Infections')!;
  const kids = v.children(parent.ui).slice(0, 3);
  assert.equal(kids.length, 3);
  const ns: Neighbour[] = [{ pmid: '9', rank: 0, mesh: kids.map((d) => h(d.name)) }];
  const flat = suggestMesh('', ns, v, { cutoff: 0, checkTags: false });
  assert.equal(flat.length, 3);
  const col = suggestMesh('', ns, v, { cutoff: 0, checkTags: false, collapseSiblings: true });
  assert.equal(col.length, 1);
  assert.equal(col[0]!.ui, parent.ui);
  assert.deepEqual(new Set(col[0]!.collapsed), new Set(kids.map((d) => d.name)));
  assert.equal(col[0]!.score, Math.max(...flat.map((s) => s.score)));
  assert.deepEqual(
    collapseSiblings(flat.slice(0, 2), v).map((s) => s.ui),
    flat.slice(0, 2).map((s) => s.ui),
    'two siblings stay',
  );
});
