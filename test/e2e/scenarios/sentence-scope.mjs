// Similar sentences on an index built without sentence vectors (`biohicl index setup --sentence-scope none`, the
// laptop storage choice of README "What fits on a laptop"): the panel still lists sentences, taken from the
// best-matching papers' abstracts at query time, and says so; on the scenarios' own index (every sentence stored)
// it says they come from the sentence index.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export default function ({ scenario, assert, ROOT, log, openFile, selectLine, sidebar, findRelated, patchSettings }) {
  /** Put the scenarios' own index back, and wait until a query answers from it. */
  async function restore(page, ctx, view) {
    await page.keyboard.press('Escape');
    await patchSettings(page, ctx, { 'biohicl.indexDir': ctx.index });
    for (let i = 0; ; i++) {
      await openFile(page, 'markdown/paper.md');
      await selectLine(page, 16);
      await findRelated(page, view, 'semantic similarity');
      const scope =
        (await view
          .locator('[data-testid="sentence-scope"]')
          .textContent()
          .catch(() => '')) ?? '';
      if (/sentence index/.test(scope)) return;
      if (i >= 10) throw new Error(`the sidebar did not switch back to ${ctx.index}: "${scope}"`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  scenario(
    'sentence scope: an index without sentence vectors still shows similar sentences, and the panel names where they come from',
    async ({ page, ctx }) => {
      const index = path.join(ctx.dir, 'index-no-sentences');
      const cli = (args) => {
        const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), ...args], {
          encoding: 'utf8',
          env: { ...process.env, BIOHICL_HOME: path.join(ctx.dir, 'xdg', 'biohicl') },
        });
        if (r.status !== 0)
          throw new Error(`biohicl ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
        return r.stdout;
      };
      if (!fs.existsSync(path.join(index, 'meta.json'))) {
        const t = Date.now();
        cli(['index', 'setup', '--index', index, '--model', ctx.model, '--sentence-scope', 'none']);
        cli([
          'index',
          'add',
          '--quiet',
          '--model',
          ctx.model,
          '--index',
          index,
          path.join(ROOT, 'data', 'demo', 'mesh-papers.medline.txt'),
        ]);
        log(`  index without sentence vectors built in ${Date.now() - t} ms`);
      }
      const stats = JSON.parse(cli(['index', 'stats', '--index', index, '--json']));
      assert.equal(stats.sentences, 0, 'no sentence rows');
      assert.equal(stats.sentenceScope, 'none');
      const view = sidebar(page);
      try {
        // The scenarios' own index first: every sentence stored.
        await openFile(page, 'markdown/paper.md');
        await selectLine(page, 16);
        await findRelated(page, view, 'semantic similarity');
        await view.locator('li.sentence').first().waitFor();
        const own = await view.locator('[data-testid="sentence-scope"]').textContent();
        assert.equal(own, 'From the sentence index (every paper’s sentences)');

        await patchSettings(page, ctx, { 'biohicl.indexDir': index });
        for (let i = 0; ; i++) {
          await openFile(page, 'markdown/paper.md');
          await selectLine(page, 16);
          await findRelated(page, view, 'semantic similarity');
          const scope =
            (await view
              .locator('[data-testid="sentence-scope"]')
              .textContent()
              .catch(() => '')) ?? '';
          if (/best-matching papers/.test(scope)) break;
          if (i >= 10) throw new Error(`the sidebar did not answer from ${index}: scope line "${scope}"`);
          await new Promise((r) => setTimeout(r, 1000));
        }
        const scope = await view.locator('[data-testid="sentence-scope"]').textContent();
        assert.match(
          scope ?? '',
          /^From the 10 best-matching papers’ abstracts \(ranked by shared words; nothing embedded\): this index stores no sentence vectors$/,
        );
        // The scope line sits in the sentences panel, above its list, and the panel lists sentences.
        const inPanel = await view.locator('section[data-panel="sentences"] [data-testid="sentence-scope"]').count();
        assert.equal(inPanel, 1);
        const n = await view.locator('li.sentence').count();
        assert.ok(n >= 1, 'sentences listed');
        const texts = await view.locator('li.sentence blockquote').allTextContents();
        assert.ok(
          texts.some((t) => /semantic|similarity|MeSH|concept/i.test(t)),
          `sentences sharing words with the selection: ${texts.join(' | ')}`,
        );
        // Papers still show a best sentence (from their abstracts).
        assert.ok((await view.locator('li.paper blockquote').count()) >= 1, 'papers keep a best sentence');
      } finally {
        await restore(page, ctx, view);
      }
    },
  );
}
