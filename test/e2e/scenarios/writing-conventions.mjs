// Keywords for the manuscript (YAML and LaTeX keyword fields through the MeSH QuickPick), the status bar item, and
// the webview's accessibility (a live region for the counts only, Home/End, per-platform shortcut labels).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';

const HCC = 'Carcinoma, Hepatocellular';

const MD = `---
title: "Statin use and the risk of hepatocellular carcinoma" # working title
abstract: |
  Statins may lower the risk of hepatocellular carcinoma in patients with chronic liver disease.
  We followed adults with cirrhosis and compared the incidence of liver cancer between statin users and non-users.
keywords: [statins] # MeSH headings go here
---

# Introduction

Hepatocellular carcinoma is the most common primary liver cancer.
`;

const TEX = `\\documentclass{elsarticle}
\\begin{document}
\\begin{frontmatter}
\\title{Statin use and the risk of hepatocellular carcinoma}
\\begin{abstract}
Statins may lower the risk of hepatocellular carcinoma in patients with chronic liver disease.
\\end{abstract}
\\begin{keyword}
statins \\sep cohort studies
% MeSH headings below
\\end{keyword}
\\end{frontmatter}
Body text about liver cancer in adults.
\\end{document}
`;

/** A note of this topic's own (other scenarios edit the shared fixtures, so their line numbers move). */
const NOTE = `# Notes

Link prediction on a network of co-occurring MeSH terms can generate new hypotheses for literature-based discovery.

We computed semantic similarity between biomedical concepts from the MeSH hierarchy.
`;

function writeNote(ctx) {
  const dir = path.join(ctx.ws, 'keywords');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'note.md'), NOTE);
}

const AMS = `\\documentclass{amsart}
\\title{Notes}
\\keywords{statins}
\\begin{document}
Hepatocellular carcinoma risk in adults with cirrhosis who take statins.
\\end{document}
`;

export default function ({
  scenario,
  ROOT,
  assert,
  log,
  command,
  openFile,
  selectLine,
  saveActive,
  sidebar,
  findRelated,
  waitForFile,
  patchSettings,
  toast,
}) {
  /** Run the keyword command, check the QuickPick, pick `names` (or `names(labels, rows)`), accept; the picked names. */
  async function pickKeywords(page, names, expectFrom) {
    await command(page, 'BioHiCL: Suggest MeSH keywords for this manuscript');
    const qp = page.locator('.quick-input-widget');
    await qp
      .locator('.quick-input-title', { hasText: `MeSH keywords for ${expectFrom}` })
      .waitFor({ timeout: 120_000 });
    const rows = qp.locator('.quick-input-list .monaco-list-row');
    await rows.first().waitFor();
    const all = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    const input = qp.locator('input.input, .quick-input-box input').first();
    // names, or a choice made from the offered headings (their labels, best first)
    const offered = all.map((l) => l.replace(/, \d+% ·.*/, ''));
    const chosen = typeof names === 'function' ? names(offered, all) : names;
    for (const name of chosen) {
      await input.fill(name); // the list is virtualised: filter so that the row is rendered
      const row = rows
        .filter({
          has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }),
        })
        .first();
      await row.waitFor();
      // the breadcrumb of its tree position is the row's detail
      const text = (await row.textContent()) ?? '';
      assert.ok(/ › /.test(text), `breadcrumb shown for ${name}: ${text}`);
      await row.locator('.quick-input-list-checkbox, input[type="checkbox"], .monaco-checkbox').first().click();
    }
    await input.fill('');
    const labels = all;
    log(
      `  keyword picker offered ${labels.length}: ${labels
        .slice(0, 8)
        .map((l) => l.replace(/, \d+% ·.*/, ''))
        .join(' | ')}`,
    );
    await page.keyboard.press('Enter');
    await qp.waitFor({ state: 'hidden' });
    return chosen;
  }

  walkthrough({ scenario, assert, command });

  scenario(
    'keywords for the manuscript: YAML keywords: [statins] + "Carcinoma, Hepatocellular" → two keywords, comments kept',
    async ({ page, ctx }) => {
      const dir = path.join(ctx.ws, 'keywords');
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'hcc.md');
      fs.writeFileSync(file, MD);
      await openFile(page, 'keywords/hcc.md');
      await page.keyboard.press('Control+Home');
      await pickKeywords(page, [HCC], 'the title and abstract');
      await toast(page, `Inserted keyword “${HCC}” into the YAML keywords:`).waitFor();
      await saveActive(page);
      const md = await waitForFile(file, (t) => t.includes(HCC), 'the keyword in the front matter');
      assert.ok(md.includes(`keywords: [statins, "${HCC}"] # MeSH headings go here\n`), md.slice(0, 400));
      assert.ok(md.includes('# working title'), 'comments kept');
      const fm = parseYaml(/^---\n([\s\S]*?)\n---/.exec(md)[1]);
      assert.deepEqual(fm.keywords, ['statins', HCC], 'two keywords');
      assert.equal(md.replace(`, "${HCC}"`, ''), MD, 'nothing else changed');
      // again: the heading is marked as a keyword already and not added twice
      await pickKeywords(page, [HCC], 'the title and abstract');
      await toast(page, `Already a keyword: “${HCC}”`).waitFor();
    },
  );

  scenario(
    'keywords for the manuscript: LaTeX elsarticle keyword environment (\\sep) and \\keywords{} from a selection',
    async ({ page, ctx }) => {
      const dir = path.join(ctx.ws, 'keywords');
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'elsarticle.tex');
      fs.writeFileSync(file, TEX);
      await openFile(page, 'keywords/elsarticle.tex');
      await page.keyboard.press('Control+Home');
      await pickKeywords(page, [HCC, 'Humans'], 'the title and abstract');
      await toast(page, 'into \\begin{keyword}').waitFor();
      await saveActive(page);
      const tex = await waitForFile(file, (t) => t.includes(HCC), 'the keywords in the keyword environment');
      // the picked headings follow the list's ranking, after the writer's own, before the comment line
      const field =
        /\\begin\{keyword\}\nstatins \\sep cohort studies \\sep (.+)\n% MeSH headings below\n\\end\{keyword\}/.exec(
          tex,
        );
      assert.ok(field, tex);
      assert.deepEqual(field[1].split(' \\sep ').sort(), [HCC, 'Humans'].sort());
      // amsart's \keywords{} from the selected sentence: a comma-separated list, the comma-holding name braced
      const ams = path.join(dir, 'ams.tex');
      fs.writeFileSync(ams, AMS);
      await openFile(page, 'keywords/ams.tex');
      await selectLine(page, 5);
      await pickKeywords(page, [HCC], 'the selection');
      await toast(page, 'into \\keywords{}').waitFor();
      await saveActive(page);
      const out = await waitForFile(ams, (t) => t.includes(HCC), 'the keyword in \\keywords{}');
      assert.ok(out.includes(`\\keywords{statins, {${HCC}}}\n`), out);
    },
  );

  scenario(
    'keywords for the manuscript: Manubot (real OpenPBTA content) — into content/metadata.yaml, saved, nothing else changed',
    async ({ page, ctx }) => {
      const real = path.join(ctx.ws, 'real', 'manubot-openpbta');
      fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'manuscripts-real', 'manubot-openpbta'), real, { recursive: true });
      const metaFile = path.join(real, 'content', 'metadata.yaml');
      const meta = fs.readFileSync(metaFile, 'utf8');
      const summary = fs.readFileSync(path.join(real, 'content', '01.summary.md'), 'utf8');
      await openFile(page, 'real/manubot-openpbta/content/01.summary.md');
      await selectLine(page, 3); // "Pediatric brain and spinal cancers are … the leading disease-related cause of death in children, …"
      const [picked] = await pickKeywords(
        page,
        (labels, rows) => [labels.find((l, i) => !/already a keyword/.test(rows[i]))],
        'the selection',
      );
      assert.ok(picked, 'a heading to pick');
      await toast(page, `Inserted keyword “${picked}” into metadata.yaml keywords:`).waitFor();
      const out = await waitForFile(metaFile, (t) => t.includes(`- ${picked}\n`), 'the keyword saved in metadata.yaml');
      assert.equal(
        out,
        meta.replace('- somatic variation\n', `- somatic variation\n- ${picked}\n`),
        'nothing else changed',
      );
      assert.equal(
        fs.readFileSync(path.join(real, 'content', '01.summary.md'), 'utf8'),
        summary,
        'the content file untouched',
      );
      assert.equal(await page.locator('.tab.dirty', { hasText: '01.summary.md' }).count(), 0, 'and not edited unsaved');
    },
  );

  scenario(
    'status bar item: model, provider, index size and state; a click opens the sidebar, or the logs after a problem',
    async ({ page, ctx }) => {
      const item = page.locator('.part.statusbar .statusbar-item', { hasText: 'BioHiCL' }).first();
      await item.waitFor();
      const view = sidebar(page);
      writeNote(ctx);
      await openFile(page, 'keywords/note.md');
      await selectLine(page, 3);
      await findRelated(page, view, 'Link prediction');
      await page
        .locator('.part.statusbar .statusbar-item', { hasText: /BioHiCL · cpu · \d+ papers/ })
        .first()
        .waitFor();
      const label =
        (await item.locator('a, .statusbar-item-label').first().getAttribute('aria-label')) ??
        (await item.getAttribute('aria-label')) ??
        '';
      log(`  status bar: ${(await item.textContent())?.trim()} — ${label.slice(0, 200)}`);
      assert.match(label, /Model: generated:tiny/);
      assert.match(label, /Index: \d+ papers/);
      assert.match(label, /Ready: \d+ papers, \d+ MeSH terms, \d+ sentences/);
      // a click brings the sidebar back from another view
      await command(page, 'View: Show Explorer');
      await page.locator('.part.sidebar .composite.title', { hasText: /Explorer/i }).waitFor();
      await item.click();
      await page.locator('.part.sidebar .composite.title', { hasText: /BioHiCL/i }).waitFor();
      await view.locator('li.paper').first().waitFor();
      // a problem (the index folder is gone): the item says so and a click opens the logs
      const gone = path.join(ctx.dir, 'no-such-index');
      await patchSettings(page, ctx, { 'biohicl.indexDir': gone });
      try {
        await openFile(page, 'keywords/note.md');
        await selectLine(page, 3);
        await command(page, 'BioHiCL: Find related literature');
        await view.locator('[data-testid="error"]').waitFor({ timeout: 60_000 });
        await page.keyboard.press('Escape');
        const warn = page.locator('.part.statusbar .statusbar-item', { hasText: 'BioHiCL' }).first();
        await warn.locator('.codicon-warning').waitFor();
        await warn.click();
        await page.locator('.part.panel', { hasText: 'no-such-index' }).first().waitFor();
      } finally {
        await patchSettings(page, ctx, { 'biohicl.indexDir': ctx.index });
      }
      await openFile(page, 'keywords/note.md');
      await selectLine(page, 3);
      await findRelated(page, view, 'Link prediction');
    },
  );

  scenario(
    'webview accessibility: only the result counts are announced; Home/End; Cmd on macOS',
    async ({ page, ctx }) => {
      const view = sidebar(page);
      writeNote(ctx);
      await openFile(page, 'keywords/note.md');
      await selectLine(page, 5);
      await findRelated(page, view, 'semantic similarity');
      const counts = [
        await view.locator('li.paper').count(),
        await view.locator('li.mesh').count(),
        await view.locator('li.sentence').count(),
      ];
      const live = await view
        .locator('body')
        .evaluate(() => [...document.querySelectorAll('[aria-live]')].map((e) => ({ id: e.id, text: e.textContent })));
      assert.deepEqual(
        live.map((l) => l.id),
        ['announce', 'toast'],
        'the result lists are not live regions',
      );
      const announced = live[0].text;
      assert.match(
        announced,
        new RegExp(`^${counts[0]} related papers?, ${counts[1]} MeSH terms?, ${counts[2]} similar sentences?\\.$`),
      );
      // Home/End move between the first and the last paper
      const papers = view.locator('li.paper');
      const n = await papers.count();
      assert.ok(n >= 3);
      await papers.nth(1).locator('button').first().focus();
      const focusedPmid = () =>
        view.locator('body').evaluate(() => document.activeElement?.closest('li.paper')?.getAttribute('data-pmid'));
      const order = await papers.evaluateAll((els) => els.map((e) => e.getAttribute('data-pmid')));
      await page.keyboard.press('End');
      assert.equal(await focusedPmid(), order[n - 1], 'End: the last paper');
      await page.keyboard.press('Home');
      assert.equal(await focusedPmid(), order[0], 'Home: the first paper');
      // shortcut labels: Ctrl here (Linux), Cmd where the UI runs on macOS
      const idle = (platform) =>
        view.locator('body').evaluate((_body, p) => {
          Object.defineProperty(navigator, 'platform', { value: p, configurable: true });
          window.postMessage({ id: 0, type: 'state', state: { phase: 'idle' } }, '*');
          return new Promise((r) =>
            setTimeout(
              () => r(`${navigator.platform}: ${document.querySelector('[data-testid="empty"]')?.textContent ?? ''}`),
              300,
            ),
          );
        }, platform);
      assert.match(await idle('Linux x86_64'), /\(Ctrl\+Alt\+R,/);
      assert.match(await idle('MacIntel'), /\(Cmd\+Option\+R,/);
      await idle('Linux x86_64');
    },
  );
}

export function walkthrough({ scenario, assert, command }) {
  scenario('walkthrough "Write with BioHiCL": four steps with their command buttons', async ({ page }) => {
    await command(page, 'Welcome: Open Walkthrough...');
    const input = page.locator('.quick-input-widget input');
    await input.fill('Write with BioHiCL');
    await page
      .locator('.quick-input-list .monaco-list-row.focused', { hasText: 'Write with BioHiCL' })
      .first()
      .waitFor();
    await page.keyboard.press('Enter');
    const gs = page.locator('.gettingStartedContainer');
    await gs.locator('.getting-started-step', { hasText: 'Get a model' }).first().waitFor();
    for (const t of ['Get an index', 'Select text and find papers', 'Insert a citation'])
      assert.equal(await gs.locator('.getting-started-step', { hasText: t }).count(), 1, t);
    // the expanded first step offers its commands as buttons
    await gs.locator('.getting-started-step', { hasText: 'Get a model' }).first().click();
    await gs
      .locator('.getting-started-step.expanded .button-link, .getting-started-step.expanded a', {
        hasText: 'Use generated weights',
      })
      .first()
      .waitFor();
    await page
      .locator('.tab.active', { hasText: 'Walkthrough' })
      .locator('.codicon-close, .action-label')
      .first()
      .click();
    await page.locator('.tab', { hasText: 'Walkthrough' }).waitFor({ state: 'detached' });
  });
}
