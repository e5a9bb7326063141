// Citation completion in the real editor: typing `\cite{` after a sentence offers the index's paper for it near the
// top; accepting it inserts the key the insert path chose and writes the entry once. Typing a key prefix offers the
// bibliography's entry. "BioHiCL: Cite…" offers the same ranked list in a QuickPick and cites with Enter.
import * as fs from 'node:fs';
import * as path from 'node:path';

const PREBIOTICS = '27930574'; // "A MeSH-based text mining method for identifying novel prebiotics." (mesh-papers)
const LIVESTOCK = '26036323'; // "An application of MeSH enrichment analysis in livestock."
const MESH_NOW = '28412964'; // "MeSH Now: automatic MeSH indexing at PubMed scale via learning to rank."

export default function ({ scenario, log, assert, openFile, saveActive, waitForFile, command }) {
  const rows = (page) => page.locator('.suggest-widget.visible .monaco-list-row');

  async function goToEndOfLine(page, line) {
    await page.locator('.editor-instance .view-lines').first().click();
    await page.keyboard.press('Control+G');
    await page.locator('.quick-input-widget input').waitFor();
    await page.keyboard.type(String(line));
    await page.keyboard.press('Enter');
    await page.keyboard.press('End');
  }

  /** The extension is active (its log says so): run alone, the scenario must not type before the provider exists. */
  async function activated(ctx) {
    const logs = path.join(ctx.dir, 'ud', 'logs');
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      for (const d of fs.existsSync(logs) ? fs.readdirSync(logs) : []) {
        const f = path.join(logs, d, 'exthost1', 'biohicl.biohicl-writer', 'BioHiCL Writer.log');
        if (fs.existsSync(f) && /activated in \d+ ms/.test(fs.readFileSync(f, 'utf8'))) return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('the extension did not activate');
  }

  /** The suggest widget's rows (label, description) once it lists something matching `expect`. */
  async function suggestions(page, expect) {
    await rows(page).first().waitFor({ timeout: 60_000 });
    await page
      .locator('.suggest-widget.visible .monaco-list-row', { hasText: expect })
      .first()
      .waitFor({ timeout: 60_000 });
    return rows(page).evaluateAll((els) =>
      els
        .sort((a, b) => Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index')))
        .map((e) => e.textContent ?? ''),
    );
  }

  scenario(
    'completion: \\cite{ after a sentence offers the index paper near the top; accepting writes key + entry once; a key prefix offers the entry; Cite… QuickPick',
    async ({ page, ctx }) => {
      const dir = path.join(ctx.ws, 'complete');
      fs.mkdirSync(dir, { recursive: true });
      const texFile = path.join(dir, 'draft.tex');
      const bibFile = path.join(dir, 'refs.bib');
      fs.writeFileSync(
        texFile,
        [
          '\\documentclass{article}',
          '\\begin{document}',
          'Text mining of MeSH annotations identifies novel prebiotics.',
          'The approach also found enriched MeSH terms in livestock genomes.',
          'Enrichment analysis of MeSH terms in livestock',
          '',
          '\\bibliography{refs}',
          '\\end{document}',
          '',
        ].join('\n'),
      );
      fs.writeFileSync(
        bibFile,
        `@article{jeong2015mesh,\n  title = {An application of {MeSH} enrichment analysis in livestock},\n  author = {Jeong, Jaehoon and Kim, Kwondo},\n  journal = {Animal Genetics},\n  year = {2015},\n  pmid = {${LIVESTOCK}}\n}\n`,
      );
      await openFile(page, 'complete/draft.tex');
      await activated(ctx);

      // 1. `\cite{` after the sentence: the index's paper for it near the top
      await goToEndOfLine(page, 3);
      await page.keyboard.press('ArrowLeft'); // before the full stop
      const t0 = Date.now();
      await page.keyboard.type(' \\cite{');
      const list = await suggestions(page, 'prebiotics');
      log(`  completion list shown ${Date.now() - t0} ms after typing \\cite{ (first query loads the model and index)`);
      log(`  top rows: ${list.slice(0, 3).join(' | ')}`);
      const at = list.findIndex((r) => /prebiotics/.test(r));
      assert.ok(at >= 0 && at < 3, `the prebiotics paper is near the top: ${list.slice(0, 5).join(' | ')}`);
      assert.match(list[at], /PMID 27930574/);
      assert.match(list[at], /cite and add to refs\.bib/);
      assert.ok(
        list.some((r) => /jeong2015mesh/.test(r) && /in your bibliography/.test(r)),
        'the bibliography entry is listed, marked as such',
      );
      for (let i = 0; i < at; i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      const bib = await waitForFile(bibFile, (t) => t.includes(`pmid = {${PREBIOTICS}}`), 'the new entry');
      const key = new RegExp(`@article\\{([^,]+),[^@]*pmid = \\{${PREBIOTICS}\\}`).exec(bib)?.[1];
      assert.ok(key, 'the entry has a key');
      assert.equal((bib.match(new RegExp(`pmid = \\{${PREBIOTICS}\\}`, 'g')) ?? []).length, 1, 'written once');
      assert.equal((bib.match(/^@article/gm) ?? []).length, 2);
      await saveActive(page);
      let tex = await waitForFile(texFile, (t) => t.includes(`prebiotics \\cite{${key}}.`), `\\cite{${key}}`);

      // 2. typing a key prefix: the bibliography's entry; Enter inserts its key, the .bib is unchanged
      await goToEndOfLine(page, 4);
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.type(' \\cite{jeo');
      const list2 = await suggestions(page, 'jeong2015mesh');
      assert.match(list2[0], /jeong2015mesh/, `first: ${list2[0]}`);
      await page.keyboard.press('Enter');
      await saveActive(page);
      tex = await waitForFile(texFile, (t) => t.includes('livestock genomes \\cite{jeong2015mesh}.'), 'the key');
      assert.equal(fs.readFileSync(bibFile, 'utf8'), bib, 'the .bib is unchanged');

      // 3. "BioHiCL: Cite…" at the end of a sentence: the same ranking in a QuickPick, Enter cites
      await goToEndOfLine(page, 5);
      await command(page, 'BioHiCL: Cite…');
      const pick = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
      await page
        .locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'jeong2015mesh' })
        .first()
        .waitFor({ timeout: 60_000 });
      const first = (await pick.first().textContent()) ?? '';
      assert.match(first, /jeong2015mesh/, `first pick: ${first}`);
      assert.match(first, /in your bibliography/);
      await page.keyboard.press('Enter');
      await saveActive(page);
      tex = await waitForFile(
        texFile,
        (t) => t.includes('MeSH terms in livestock~\\cite{jeong2015mesh}\n'),
        'the cited key',
      );
      assert.equal(fs.readFileSync(bibFile, 'utf8'), bib);
      assert.ok(tex.length > 0);
    },
  );

  scenario(
    'completion: [@ in Markdown after a sentence offers the index paper; accepting writes [@key] and the entry',
    async ({ page, ctx }) => {
      const dir = path.join(ctx.ws, 'complete-md');
      fs.mkdirSync(dir, { recursive: true });
      const mdFile = path.join(dir, 'draft.md');
      const bibFile = path.join(dir, 'refs.bib');
      fs.writeFileSync(
        mdFile,
        '---\ntitle: Draft\nbibliography: refs.bib\n---\n\nAutomatic MeSH indexing works at PubMed scale by learning to rank.\n',
      );
      fs.writeFileSync(
        bibFile,
        `@article{jeong2015mesh,\n  title = {An application of {MeSH} enrichment analysis in livestock},\n  author = {Jeong, Jaehoon},\n  year = {2015},\n  pmid = {${LIVESTOCK}}\n}\n`,
      );
      await openFile(page, 'complete-md/draft.md');
      await activated(ctx);
      await goToEndOfLine(page, 6);
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.type(' [@');
      const list = await suggestions(page, 'MeSH Now');
      const at = list.findIndex((r) => /MeSH Now/.test(r));
      assert.ok(at >= 0 && at < 3, `MeSH Now near the top: ${list.slice(0, 5).join(' | ')}`);
      for (let i = 0; i < at; i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      const bib = await waitForFile(bibFile, (t) => t.includes(`pmid = {${MESH_NOW}}`), 'the new entry');
      const key = new RegExp(`@article\\{([^,]+),[^@]*pmid = \\{${MESH_NOW}\\}`).exec(bib)?.[1];
      assert.ok(key);
      assert.equal((bib.match(/^@article/gm) ?? []).length, 2, 'written once');
      await saveActive(page);
      await waitForFile(mdFile, (t) => t.includes(`learning to rank [@${key}].`), `[@${key}]`);
    },
  );
}
