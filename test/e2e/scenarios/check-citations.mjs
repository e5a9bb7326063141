// "BioHiCL: Check citations" in the real editor: an uncited claim is flagged as an Information diagnostic whose
// quick fix cites the paper through the one insert path (new key + .bib entry), and a weak citation's hover names
// the better-matching paper. The index is the suite's (284 real MEDLINE citations, generated weights: the search is
// the full-text ranking).
import * as fs from 'node:fs';
import * as path from 'node:path';

const MESH_NOW = '28412964'; // "MeSH Now: automatic MeSH indexing at PubMed scale via learning to rank."
const PREBIOTICS = '27930574'; // "A MeSH-based text mining method for identifying novel prebiotics." (the wrong citation)
const SCHOLAR = 'Variation in number of hits for complex searches in Google Scholar';

export default function ({
  scenario,
  assert,
  openFile,
  selectLine,
  command,
  waitForFile,
  saveActive,
  toast,
  log,
  patchSettings,
}) {
  scenario(
    'check citations: an uncited claim is flagged and its quick fix cites it (key + .bib entry); a weak citation’s hover names a better match',
    async ({ page, ctx }) => {
      const dir = path.join(ctx.ws, 'check');
      fs.mkdirSync(dir, { recursive: true });
      const md = path.join(dir, 'claims.md');
      const bib = path.join(dir, 'refs.bib');
      fs.writeFileSync(
        md,
        [
          '---',
          'title: "Checking citations"',
          'bibliography: refs.bib',
          '---',
          '',
          '# Manual MeSH indexing is time-consuming and costly',
          '',
          'Manual MeSH indexing by human indexers has been shown to be time-consuming and costly, which motivated automatic MeSH indexing with learning to rank.',
          '',
          'The number of hits reported by Google Scholar for complex search strategies is an unreliable measure [@prebiotics2016].',
          '',
          '```',
          'Manual MeSH indexing by human indexers has been shown to be time-consuming and costly.',
          '```',
          '',
          'We wrote this draft on a Tuesday.',
          '',
        ].join('\n'),
      );
      fs.writeFileSync(
        bib,
        [
          '@article{prebiotics2016,',
          '  title = {A MeSH-based text mining method for identifying novel prebiotics},',
          '  author = {Shinohara, Eiji},',
          '  journal = {Medicine},',
          '  year = {2016},',
          `  pmid = {${PREBIOTICS}}`,
          '}',
          '',
        ].join('\n'),
      );
      await openFile(page, 'check/claims.md');
      const t0 = Date.now();
      await command(page, 'BioHiCL: Check citations');
      // one flag (the heading and the code block say the same words and are not flagged), one weak citation
      await toast(page, '1 uncited claim, 1 weak citation of 1 checked').waitFor({ timeout: 180_000 });
      log(`  check: ${Date.now() - t0} ms`);
      await page.locator('.squiggly-info').first().waitFor();
      // the claim (wrapped over two view lines: a squiggle each) and the weak citation
      assert.ok((await page.locator('.squiggly-info').count()) >= 2, 'squiggles on the claim and the weak citation');

      // the quick fix on the flagged sentence: "Cite Mao et al. 2017, MeSH Now…" through the insert path
      await selectLine(page, 8);
      await page.keyboard.press('Home');
      await page.keyboard.press('Control+.');
      const fix = page.locator('.action-widget .monaco-list-row', { hasText: 'Cite Mao et al. 2017' }).first();
      await fix.waitFor({ timeout: 20_000 });
      // the keyboard picks it (the widget's pointer guard takes clicks): move the focus to it, then Enter
      for (let i = 0; i < 10; i++) {
        const focused = (await page.locator('.action-widget .monaco-list-row.focused').first().textContent()) ?? '';
        if (focused.includes('Cite Mao et al. 2017')) break;
        await page.keyboard.press('ArrowDown');
      }
      await page.keyboard.press('Enter');
      const bibText = await waitForFile(
        bib,
        (t) => t.includes(`pmid = {${MESH_NOW}}`),
        `the new entry for PMID ${MESH_NOW}`,
      );
      const key = new RegExp(`@article\\{([^,]+),[^@]*pmid = \\{${MESH_NOW}\\}`).exec(bibText)?.[1];
      assert.ok(key && key !== 'prebiotics2016', `a new key: ${key}`);
      assert.equal((bibText.match(/^@article/gm) ?? []).length, 2, 'one entry added');
      await saveActive(page);
      const text = await waitForFile(md, (t) => t.includes(`[@${key}]`), `[@${key}] in the manuscript`);
      assert.match(
        text,
        new RegExp(`with learning to rank \\[@${key}\\]\\.\\n`),
        'cited at the end of the flagged sentence',
      );
      // the cited sentence's diagnostic is gone; the weak citation's stays
      await page.waitForFunction(() => document.querySelectorAll('.squiggly-info').length === 1, null, {
        timeout: 10_000,
      });

      // hover on the weak citation's key: support figures and the better-matching paper
      await selectLine(page, 10);
      await page.keyboard.press('End');
      const keySpan = page.locator('.view-line span', { hasText: 'prebiotics2016' }).last();
      const box = await keySpan.boundingBox();
      assert.ok(box);
      await page.mouse.move(box.x + box.width - 20, box.y + box.height / 2);
      const hover = page
        .locator('.monaco-hover', { hasText: 'Better-matching papers:' })
        .filter({ hasText: 'Best-matching sentence of its abstract' })
        .first();
      await hover.waitFor({ timeout: 30_000 });
      const h = ((await hover.textContent()) ?? '').replace(/\u00a0/g, ' '); // appendText keeps spaces as &nbsp;
      assert.match(h, /Is this the right citation\?/);
      assert.ok(h.includes(SCHOLAR), `the better match is named: ${h}`);
      assert.match(h, /not among the 10 best papers|rank \d+ of \d+/);
      await page.keyboard.press('Escape');

      // its quick fix "Also cite <the better match>" joins the citation group (new key + .bib entry)
      await selectLine(page, 10);
      await page.keyboard.press('Control+.');
      await page
        .locator('.action-widget .monaco-list-row', { hasText: 'Also cite Bramer 2016' })
        .first()
        .waitFor({ timeout: 20_000 });
      for (let i = 0; i < 10; i++) {
        const focused = (await page.locator('.action-widget .monaco-list-row.focused').first().textContent()) ?? '';
        if (focused.includes('Also cite Bramer 2016')) break;
        await page.keyboard.press('ArrowDown');
      }
      await page.keyboard.press('Enter');
      const bib2 = await waitForFile(bib, (t) => t.includes('pmid = {27076802}'), 'the entry of the better match');
      const key2 = /@article\{([^,]+),[^@]*pmid = \{27076802\}/.exec(bib2)?.[1];
      assert.ok(key2);
      await saveActive(page);
      await waitForFile(md, (t) => t.includes(`[@prebiotics2016; @${key2}].`), `[@prebiotics2016; @${key2}]`);
    },
  );

  scenario(
    'check citations on save (biohicl.check.onSave), and the threshold setting tunes what is flagged',
    async ({ page, ctx }) => {
      const md = path.join(ctx.ws, 'check', 'onsave.md');
      fs.mkdirSync(path.dirname(md), { recursive: true });
      fs.writeFileSync(
        md,
        'Manual MeSH indexing by human indexers has been shown to be time-consuming and costly for PubMed.\n',
      );
      const typeAndSave = async () => {
        await page.locator('.editor-instance .view-lines').first().click();
        await page.keyboard.press('Control+End');
        await page.keyboard.type(' ');
        await page.keyboard.press('Control+S');
        await page.locator('.tab.active.dirty', { hasText: 'onsave.md' }).waitFor({ state: 'detached' });
      };
      try {
        await patchSettings(page, ctx, { 'biohicl.check.onSave': true });
        await openFile(page, 'check/onsave.md');
        await typeAndSave();
        await page.locator('.squiggly-info').first().waitFor({ timeout: 120_000 });
        // a threshold above every match: the next save flags nothing
        await patchSettings(page, ctx, { 'biohicl.check.threshold': 0.99 });
        await openFile(page, 'check/onsave.md');
        await typeAndSave();
        await page.waitForFunction(() => document.querySelectorAll('.squiggly-info').length === 0, null, {
          timeout: 60_000,
        });
      } finally {
        await patchSettings(page, ctx, { 'biohicl.check.onSave': undefined, 'biohicl.check.threshold': undefined });
      }
    },
  );
}
