// Pure helpers of the extension: what is under the cursor (hover), query text cleaning, safe links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pmidAt, citeKeyAt, linkFor } from '../../src/cite/locate';
import { queryText } from '../../src/cite/detect';

test('PMIDs under the cursor: "PMID: n", pubmed:n, PubMed URLs', () => {
  const line = 'See PMID: 28422961 and [@pubmed:25160252] or https://pubmed.ncbi.nlm.nih.gov/123456/ here';
  assert.equal(pmidAt(line, line.indexOf('28422961') + 2), '28422961');
  assert.equal(pmidAt(line, line.indexOf('pubmed:') + 1), '25160252');
  assert.equal(pmidAt(line, line.indexOf('123456')), '123456');
  assert.equal(pmidAt(line, 1), undefined);
});

test('citation keys under the cursor: inside \\cite{a,b} and Pandoc @keys', () => {
  const tex = 'as shown \\citep[p.~2]{smith2020gut, luCharacterizationMechanismDrugdrug2017} before';
  assert.equal(citeKeyAt(tex, tex.indexOf('smith') + 3), 'smith2020gut');
  assert.equal(citeKeyAt(tex, tex.indexOf('luChar') + 5), 'luCharacterizationMechanismDrugdrug2017');
  assert.equal(citeKeyAt(tex, 2), undefined);
  const md = 'discovery [@kastrin2014link; @doi:10.1/x].';
  assert.equal(citeKeyAt(md, md.indexOf('kastrin')), 'kastrin2014link');
  assert.equal(citeKeyAt(md, md.indexOf('doi:') + 2), 'doi:10.1/x');
  assert.equal(citeKeyAt('mail me@example.org', 0), undefined);
});

test('query text: LaTeX markup, citations and comments removed; Pandoc citations removed', () => {
  assert.equal(
    queryText('We \\emph{characterized} drugs~\\cite{a,b}. % note\n\\ref{fig:1} more', 'latex'),
    'We characterized drugs. more',
  );
  assert.equal(queryText('MeSH terms [@a; @b] index *PubMed* @c.', 'pandoc'), 'MeSH terms index PubMed.');
  assert.equal(queryText('  plain\n text ', 'plain'), 'plain text');
});

test('links open only PubMed, doi.org and the MeSH Browser, from validated identifiers', () => {
  assert.equal(linkFor('pubmed', '28422961'), 'https://pubmed.ncbi.nlm.nih.gov/28422961/');
  assert.equal(linkFor('doi', '10.1371/journal.pone.0173548'), 'https://doi.org/10.1371/journal.pone.0173548');
  assert.equal(linkFor('doi', '10.1002/(SICI)1097'), 'https://doi.org/10.1002/(SICI)1097');
  assert.equal(linkFor('mesh', 'D004347'), 'https://meshb.nlm.nih.gov/record/ui?ui=D004347');
  assert.throws(() => linkFor('pubmed', 'javascript:alert(1)'), /malformed pubmed link/);
  assert.throws(() => linkFor('doi', 'x y'), /malformed doi/);
  assert.throws(() => linkFor('mesh', '../../etc'), /malformed mesh/);
});
