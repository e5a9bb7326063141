// A watched bibliography (biohicl.watchBibliographies: a Better BibTeX / Zotero auto-export) is indexed again,
// without any command, whenever the program that owns it rewrites it.
import * as fs from 'node:fs';
import * as path from 'node:path';

export default function ({ scenario, command, openFile, selectLine, sidebar, findRelated, patchSettings }) {
  scenario(
    'a watched Better BibTeX auto-export (biohicl.watchBibliographies) is indexed again whenever it changes',
    async ({ page, ctx }) => {
      const exportFile = path.join(ctx.ws, 'zotero-export.json');
      const item = (id, title) => ({
        id,
        type: 'article-journal',
        title,
        author: [{ family: 'Okafor', given: 'C' }],
        issued: { 'date-parts': [[2023]] },
        'container-title': 'J Example',
      });
      fs.writeFileSync(
        exportFile,
        JSON.stringify([item('okafor2023tardigrade', 'Tardigrade desiccation tolerance proteins')]),
      );
      // The extension watches while it is active (a manuscript or the sidebar open).
      fs.writeFileSync(path.join(ctx.ws, 'nobib', 'axolotl-draft.md'), 'Axolotl limb blastema regeneration atlas.\n');
      await openFile(page, 'nobib/axolotl-draft.md');
      await patchSettings(page, ctx, { 'biohicl.watchBibliographies': [exportFile] });
      // An earlier scenario's "Index updated" toast may still be up: clear them, so the one awaited below is this one.
      await command(page, 'Notifications: Clear All Notifications');
      // Zotero rewrites the export (another process, behind the editor's back): the new item is indexed.
      await new Promise((r) => setTimeout(r, 1500));
      fs.writeFileSync(
        exportFile,
        JSON.stringify([
          item('okafor2023tardigrade', 'Tardigrade desiccation tolerance proteins'),
          item('okafor2023axolotl', 'Axolotl limb blastema regeneration atlas'),
        ]),
      );
      await page
        .locator('.notifications-toasts', { hasText: /Index updated: [1-9]\d* added/ })
        .first()
        .waitFor({ timeout: 120_000 });
      await openFile(page, 'nobib/axolotl-draft.md');
      await selectLine(page, 1);
      const view = sidebar(page);
      await findRelated(page, view, 'Axolotl');
      await view
        .locator('li.paper[data-pmid="key:okafor2023axolotl"] [data-testid="in-library"]', {
          hasText: 'In your library (zotero-export.json)',
        })
        .waitFor();
      await patchSettings(page, ctx, { 'biohicl.watchBibliographies': undefined });
    },
  );
}
