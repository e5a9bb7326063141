// End-to-end suite: the extension in a real VS Code (code-server 4.100.3, offline) driven by playwright-core and
// Debian's Chromium. Installs what it needs (test/e2e/setup.mjs), builds a tiny generated model and a small real
// PubMed index (plus one hostile citation) in a temp folder, installs the extension (the linux-x64 VSIX when
// `npm run package` made one, else a link to this folder), then runs the scenarios with one server and one browser.
// Usage: node test/e2e/run.mjs [--keep] [--headed] [--only <name>] [--screenshots (write media/screenshots/)]
// BIOHICL_E2E_DEV=1: link the development folder instead of installing the VSIX.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { ROOT, ensureAptPackages, ensureCodeServer, CHROMIUM } from './setup.mjs';

const args = process.argv.slice(2);
const KEEP = args.includes('--keep');
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const EXT_ID = `${PKG.publisher}.${PKG.name}`;
const PUBMED = path.resolve(ROOT, 'data', 'demo', 'mesh-papers.medline.txt');
const HOSTILE_PMID = '99999901';
/** A record with no author, journal or year (the sidebar must say so before it is cited). */
const INCOMPLETE_PMID = '99999902';
const BBT_PMID = '28422961';
const T0 = Date.now();
const log = (m) => console.log(`[e2e ${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${m}`);

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// ---------------------------------------------------------------- preparation
async function prepare() {
  ensureAptPackages();
  const codeServer = ensureCodeServer();
  if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js')) || !fs.existsSync(path.join(ROOT, 'dist', 'worker.js')))
    run(process.execPath, ['scripts/build.mjs'], { cwd: ROOT });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-e2e-'));
  log(`run folder ${dir}`);
  for (const d of ['ud/User', 'ext', 'xdg/config', 'xdg/data', 'xdg/cache', 'chrome', 'data'])
    fs.mkdirSync(path.join(dir, d), { recursive: true });

  // A tiny model with generated weights and a small real index (284 MEDLINE citations, one hostile record, one without
  // author, journal or year).
  const model = path.join(dir, 'model');
  run(process.execPath, [
    path.join(ROOT, 'dist', 'cli.js'),
    'model',
    'generate',
    '--shape',
    'tiny',
    '--out',
    model,
    '--precisions',
    'fp32',
  ]);
  const hostile = path.join(dir, 'data', 'hostile.medline.txt');
  fs.writeFileSync(
    hostile,
    [
      `PMID- ${HOSTILE_PMID}`,
      'DP  - 2021',
      'TI  - Drug-drug interactions <img src=x onerror="window.__xss=1;document.title=\'pwned\'"> mined from PubMed',
      '      with MeSH terms <script>window.__xss=2</script> & co-occurrence heatmaps.',
      'AB  - We characterized the mechanism of drug-drug interactions from PubMed abstracts using MeSH terms and',
      '      co-occurrence heatmaps. <b>Bold</b> claims & <a href="javascript:alert(1)">links</a> must stay text.',
      'FAU - Evil, Mallory',
      'AU  - Evil M',
      'TA  - J Hostile Inf',
      'JT  - Journal of Hostile Informatics',
      'MH  - *Drug Interactions',
      'MH  - Medical Subject Headings',
      '',
      `PMID- ${INCOMPLETE_PMID}`,
      'TI  - Hair cell regeneration in the zebrafish lateral line after neomycin damage.',
      'AB  - Hair cells of the zebrafish lateral line regenerate within days after neomycin damage, from support cells.',
      '',
      '',
    ].join('\n'),
  );
  const index = path.join(dir, 'index');
  run(process.execPath, [
    path.join(ROOT, 'dist', 'cli.js'),
    'index',
    'add',
    '--quiet',
    '--model',
    model,
    '--index',
    index,
    PUBMED,
    hostile,
  ]);
  log('model and index ready');

  // The extension: the packaged linux-x64 VSIX (scripts/package.mjs, as users install it); the development folder
  // linked in only when packaging is impossible here or BIOHICL_E2E_DEV=1.
  let how;
  let vsix;
  if (!process.env.BIOHICL_E2E_DEV && process.platform === 'linux' && process.arch === 'x64') {
    try {
      const { buildVsix } = await import('../../scripts/package.mjs');
      const r = await buildVsix('linux-x64', { reuse: true, quiet: true, fetch: false });
      vsix = r.vsix;
      log(
        `VSIX ${path.relative(ROOT, vsix)} (${r.reused ? 'reused' : `built in ${r.seconds?.toFixed?.(0) ?? '?'} s`})`,
      );
    } catch (e) {
      if (process.env.BIOHICL_E2E_REQUIRE_VSIX) throw e;
      log(`VSIX packaging unavailable (${e.message.split('\n')[0]}): linking the development folder instead`);
    }
  }
  if (vsix) {
    run(
      process.execPath,
      [
        path.join(codeServer, 'out', 'node', 'entry.js'),
        '--extensions-dir',
        path.join(dir, 'ext'),
        '--user-data-dir',
        path.join(dir, 'ud'),
        '--install-extension',
        vsix,
      ],
      { env: xdgEnv(dir) },
    );
    how = `installed ${path.relative(ROOT, vsix)}`;
  } else {
    fs.symlinkSync(ROOT, path.join(dir, 'ext', `${EXT_ID}-${PKG.version}`), 'dir');
    how = 'linked the development folder';
  }
  log(`extension: ${how}`);

  const ws = path.join(dir, 'ws');
  fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'manuscripts'), ws, { recursive: true });
  writeSettings(dir, { model, index, theme: 'Default Light Modern' });
  return { dir, codeServer, ws, model, index, how };
}

function xdgEnv(dir) {
  return {
    ...process.env,
    XDG_CONFIG_HOME: path.join(dir, 'xdg', 'config'),
    XDG_DATA_HOME: path.join(dir, 'xdg', 'data'),
    XDG_CACHE_HOME: path.join(dir, 'xdg', 'cache'),
    BIOHICL_HOME: path.join(dir, 'xdg', 'biohicl'),
  };
}

function writeSettings(dir, { model, index, theme }) {
  // files.autoSave is set, not left to the default: after the LaTeX scenario an edit to a .bib was auto-saved about
  // 1 s later (seen here), and the unsaved-.bib scenario asserts on unsaved state.
  const s = {
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'workbench.tips.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'workbench.enableExperiments': false,
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'update.mode': 'none',
    'git.enabled': false,
    'files.hotExit': 'off',
    'files.autoSave': 'off',
    'workbench.colorTheme': theme,
    'editor.minimap.enabled': false,
    'window.commandCenter': false,
    'workbench.layoutControl.enabled': false,
    'chat.commandCenter.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'biohicl.modelDir': model,
    'biohicl.indexDir': index,
    'biohicl.device': 'cpu',
  };
  fs.writeFileSync(path.join(dir, 'ud', 'User', 'settings.json'), JSON.stringify(s, null, 2));
}

// ---------------------------------------------------------------- server + browser
async function startServer(ctx) {
  fs.writeFileSync(path.join(ctx.dir, 'config.yaml'), 'auth: none\ncert: false\n');
  const audit = path.join(ctx.dir, 'net-audit.jsonl');
  fs.writeFileSync(audit, '');
  const env = {
    ...xdgEnv(ctx.dir),
    BIOHICL_NET_AUDIT: audit,
    NODE_OPTIONS:
      `${process.env.NODE_OPTIONS ?? ''} --require ${path.join(ROOT, 'test', 'e2e', 'net-audit.cjs')}`.trim(),
  };
  const proc = spawn(
    process.execPath,
    [
      path.join(ctx.codeServer, 'out', 'node', 'entry.js'),
      '--config',
      path.join(ctx.dir, 'config.yaml'),
      '--auth',
      'none',
      '--bind-addr',
      '127.0.0.1:0',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir',
      path.join(ctx.dir, 'ud'),
      '--extensions-dir',
      path.join(ctx.dir, 'ext'),
      ctx.ws,
    ],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logFile = fs.createWriteStream(path.join(ctx.dir, 'code-server.log'));
  proc.stderr.pipe(logFile);
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`code-server did not start in 60 s:\n${buf}`)), 60_000);
    proc.stdout.on('data', (d) => {
      buf += d;
      logFile.write(d);
      const m = /HTTP server listening on (http:\/\/[^\s]+)/.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(m[1].replace(/\/$/, ''));
      }
    });
    proc.on('exit', (c) => reject(new Error(`code-server exited (${c}):\n${buf}`)));
  });
  proc.stdout.on('data', (d) => logFile.write(d));
  return { proc, url, audit };
}

async function startBrowser(ctx, url) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launchPersistentContext(path.join(ctx.dir, 'chrome'), {
    executablePath: CHROMIUM,
    headless: !args.includes('--headed'),
    viewport: { width: 1500, height: 950 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(60_000);
  await page.goto(`${url}/?folder=${encodeURIComponent(ctx.ws)}`);
  await page.locator('.monaco-workbench').waitFor();
  return { browser, page };
}

// ---------------------------------------------------------------- page helpers
const isMac = false;
async function command(page, title) {
  // The palette lists what is registered when it opens: while the extension host is still starting, close and retry.
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    try {
      await input.waitFor({ timeout: 3_000 });
    } catch {
      // F1 went to a view that keeps keys (output, webview): move focus to a neutral spot and try again
      await page.keyboard.press('Escape');
      await page.locator('.part.statusbar').click({ position: { x: 5, y: 5 } });
      if (attempt >= 8) throw new Error(`the command palette did not open for ${title}`);
      continue;
    }
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row.focused', { hasText: title }).first();
    try {
      await row.waitFor({ timeout: attempt < 8 ? 5_000 : 60_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (e) {
      if (attempt >= 8) throw e;
      await page.keyboard.press('Escape');
    }
  }
}

async function openFile(page, rel) {
  await page.keyboard.press(isMac ? 'Meta+P' : 'Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(rel);
  // wait until the filtered list has the file focused (a stale "recently opened" list must not take the Enter)
  await page
    .locator('.quick-input-list .monaco-list-row.focused', { hasText: path.basename(rel) })
    .first()
    .waitFor();
  await page.keyboard.press('Enter');
  await page
    .locator(`.tab.active[aria-label*="${path.basename(rel)}"], .tab.active:has-text("${path.basename(rel)}")`)
    .first()
    .waitFor();
  await page.locator('.editor-instance .view-lines .view-line').first().waitFor();
}

async function selectLine(page, line) {
  await page.locator('.editor-instance .view-lines').first().click();
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input').waitFor();
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
  await page.keyboard.press('Home');
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
}

async function saveActive(page) {
  await page.locator('.editor-instance .view-lines').first().click();
  await page.keyboard.press('Control+S');
}

function sidebar(page) {
  return page.frameLocator(`iframe.webview[src*="extensionId=${EXT_ID}"]`).frameLocator('iframe#active-frame');
}

async function waitForFile(file, pred, what, timeout = 20_000) {
  const end = Date.now() + timeout;
  let text = '';
  while (Date.now() < end) {
    text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (pred(text)) return text;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what} in ${file}; it holds:\n${text}`);
}

async function findRelated(page, view, expect) {
  await command(page, 'BioHiCL: Find related literature');
  // the results of THIS query (earlier results stay on screen until the new ones replace them)
  await view.locator('.results-query', { hasText: expect }).waitFor({ timeout: 120_000 });
  await view.locator('li.paper').first().waitFor();
}

function auditEvents(file) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

// ---------------------------------------------------------------- scenarios
const scenarios = [];
const scenario = (name, fn) => scenarios.push({ name, fn });

scenario(
  'latex: select, find, sidebar panels, insert citation → \\cite + .bib entry; Better BibTeX key reused; no socket during a query',
  async ({ page, ctx, server }) => {
    await openFile(page, 'tex/paper.tex');
    await selectLine(page, 9);
    const view = sidebar(page);
    const before = auditEvents(server.audit);
    const hosts = new Set(
      before.filter((e) => e.kind === 'loaded' && /extensionHost/.test(e.argv + e.role)).map((e) => e.pid),
    );
    const tq0 = Date.now();
    await findRelated(page, view, 'co-occurrence heatmaps');
    await view.locator('li.mesh').first().waitFor();
    await view.locator('li.sentence').first().waitFor();
    const tq1 = Date.now();
    log(`  first query (worker + model + index load): ${tq1 - tq0} ms`);
    // three panels, status line, generated-weights banner
    assert.ok((await view.locator('li.paper').count()) >= 3, 'papers listed');
    assert.ok((await view.locator('li.mesh').count()) >= 1, 'MeSH terms listed');
    assert.ok((await view.locator('li.sentence').count()) >= 1, 'sentences listed');
    await view.locator('[data-testid="generated-banner"]').waitFor();
    const status = await view.locator('[data-testid="status-line"]').textContent();
    assert.match(status ?? '', /provider: cpu/);
    assert.match(status ?? '', /index: 286 papers/);
    const meshText = await view.locator('li.mesh .title').allTextContents();
    assert.ok(
      meshText.some((t) => /Drug Interactions|Medical Subject Headings|PubMed/.test(t)),
      `MeSH: ${meshText.join(' | ')}`,
    );
    assert.ok((await view.locator('li.mesh .crumb').count()) >= 1, 'breadcrumbs shown');
    assert.ok(
      (await view.locator(`li.paper[data-pmid="${BBT_PMID}"]`).count()) === 1,
      'the Better BibTeX paper is among the hits',
    );
    assert.ok((await view.locator('li.paper mark').count()) >= 1, 'best sentence highlighted');

    // privacy: the query opened no socket and made no DNS lookup in the extension host
    assert.ok(
      hosts.size >= 1,
      `the network audit hook is loaded in the extension host (saw ${JSON.stringify([...new Set(before.map((e) => e.role + ':' + e.argv.slice(0, 80)))])})`,
    );
    const during = auditEvents(server.audit).filter(
      (e) => hosts.has(e.pid) && e.kind !== 'loaded' && e.t >= tq0 && e.t <= tq1,
    );
    assert.deepEqual(during, [], 'no network activity from the extension host during the query');

    // Insert citation for a paper that is not in the .bib → \cite{newkey} + a new entry in references.bib
    const pmids = await view.locator('li.paper').evaluateAll((els) => els.map((e) => e.getAttribute('data-pmid')));
    const fresh = pmids.find((p) => p !== BBT_PMID && p !== HOSTILE_PMID);
    assert.ok(fresh);
    await view.locator(`li.paper[data-pmid="${fresh}"] button[data-action="insert-citation"]`).click();
    const bibFile = path.join(ctx.ws, 'tex', 'references.bib');
    const bib = await waitForFile(bibFile, (t) => t.includes(`pmid = {${fresh}}`), `the new entry for PMID ${fresh}`);
    const key = new RegExp(`@article\\{([^,]+),[^@]*pmid = \\{${fresh}\\}`).exec(bib)?.[1];
    assert.ok(key, 'new entry has a key');
    await view.locator('#toast', { hasText: 'Cited' }).waitFor();
    // the Better BibTeX entry (same PMID) is reused, not duplicated
    await view.locator(`li.paper[data-pmid="${BBT_PMID}"] button[data-action="insert-citation"]`).click();
    await view.locator('#toast', { hasText: 'already in references.bib' }).waitFor();
    await saveActive(page);
    const texFile = path.join(ctx.ws, 'tex', 'paper.tex');
    const tex = await waitForFile(
      texFile,
      (t) => t.includes('luCharacterizationMechanismDrugdrug2017'),
      'the merged \\cite',
    );
    assert.match(tex, new RegExp(`heatmaps~\\\\cite\\{${key},luCharacterizationMechanismDrugdrug2017\\}\\.`));
    // hover on a citation key the index knows: title and authors from the index (End scrolls the key into view)
    await selectLine(page, 9);
    await page.keyboard.press('End');
    const keySpan = page.locator('.view-line span', { hasText: 'luCharacterizationMechanismDrugdrug2017' }).last();
    const box = await keySpan.boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + box.width - 40, box.y + box.height / 2);
    await page
      .locator('.monaco-hover', { hasText: 'Characterization of the mechanism of drug-drug interactions' })
      .first()
      .waitFor();
    await page.keyboard.press('Escape');
    const after = fs.readFileSync(bibFile, 'utf8');
    assert.equal((after.match(/28422961/g) ?? []).length, 2, 'BBT entry not duplicated (pmid + eprint fields only)');
    assert.equal((after.match(/^@article/gm) ?? []).length, 3);
  },
);

scenario('hostile PubMed title renders as text and runs nothing', async ({ page }) => {
  const view = sidebar(page);
  const item = view.locator(`li.paper[data-pmid="${HOSTILE_PMID}"]`);
  await item.waitFor();
  const title = await item.locator('.title').textContent();
  assert.match(title ?? '', /<img src=x onerror="window.__xss=1;document.title='pwned'">/);
  assert.match(title ?? '', /<script>window.__xss=2<\/script>/);
  assert.equal(
    await view.locator('#app img, #app script, #app a, #app iframe').count(),
    0,
    'no element was created from PubMed text',
  );
  const flags = await view.locator('body').evaluate(() => ({ xss: window.__xss, title: document.title }));
  assert.equal(flags.xss, undefined);
  assert.notEqual(flags.title, 'pwned');
  // keyboard: the buttons are real buttons (Enter activates), ArrowDown moves to the next paper
  await item.locator('button', { hasText: 'Show abstract' }).focus();
  await page.keyboard.press('Enter');
  await item.locator('.abstract', { hasText: '<a href="javascript:alert(1)">links</a>' }).waitFor();
  assert.equal(await item.locator('button', { hasText: 'Hide abstract' }).getAttribute('aria-expanded'), 'true');
  await page.keyboard.press('ArrowDown');
  const focused = await view
    .locator('body')
    .evaluate(() => document.activeElement?.closest('li.paper')?.getAttribute('data-pmid'));
  const order = await view.locator('li.paper').evaluateAll((els) => els.map((e) => e.getAttribute('data-pmid')));
  assert.equal(focused, order[order.indexOf(HOSTILE_PMID) + 1], 'ArrowDown moved focus to the next paper');
  assert.equal(await item.locator('.abstract a, .abstract b').count(), 0);
});

scenario('markdown with YAML bibliography: insert [@key] and the .bib entry', async ({ page, ctx }) => {
  await openFile(page, 'markdown/paper.md');
  await selectLine(page, 12);
  const view = sidebar(page);
  await findRelated(page, view, 'Link prediction');
  const pmids = await view.locator('li.paper').evaluateAll((els) => els.map((e) => e.getAttribute('data-pmid')));
  const pick = pmids.find((p) => p !== HOSTILE_PMID);
  await view.locator(`li.paper[data-pmid="${pick}"] button[data-action="insert-citation"]`).click();
  const bibFile = path.join(ctx.ws, 'markdown', 'references.bib');
  const bib = await waitForFile(bibFile, (t) => t.includes(`pmid = {${pick}}`), `the entry for PMID ${pick}`);
  const key = new RegExp(`@article\\{([^,]+),[^@]*pmid = \\{${pick}\\}`).exec(bib)?.[1];
  assert.ok(key);
  await view.locator('#toast', { hasText: 'Cited' }).waitFor();
  // MeSH "Insert as keyword" goes into the YAML keywords list
  const firstMesh = (await view.locator('li.mesh .title').first().textContent()) ?? '';
  await view.locator('li.mesh button', { hasText: 'Insert as keyword' }).first().click();
  await view.locator('#toast', { hasText: 'Inserted keyword' }).waitFor();
  // "Insert with citation" of a similar sentence: the sentence after the selection, cited before its full stop
  const sent = view.locator('li.sentence').first();
  const sentText = ((await sent.locator('blockquote').textContent()) ?? '').replace(/\s+/g, ' ').trim();
  await sent.locator('button', { hasText: 'Insert with citation' }).click();
  await view.locator('#toast', { hasText: 'Cited' }).waitFor();
  await saveActive(page);
  const md = await waitForFile(
    path.join(ctx.ws, 'markdown', 'paper.md'),
    (t) => t.includes(`[@${key}]`) && t.includes(sentText.slice(0, 40)),
    `[@${key}] and the inserted sentence`,
  );
  const body = sentText.replace(/[.!?]$/, '');
  assert.ok(md.includes(`${body} [@`), `the inserted sentence is cited: ${body.slice(-40)}`);
  assert.match(md, new RegExp(`literature-based discovery \\[@${key}\\]\\.`));
  assert.ok(md.includes(`  - ${firstMesh}\n`), `keyword ${firstMesh} added to YAML`);
});

scenario(
  'no bibliography yet: the writer is asked (Cancel creates nothing, Create makes references.bib and the YAML header); a .bib with unsaved edits of theirs is not saved',
  async ({ page, ctx }) => {
    await openFile(page, 'nobib/draft.md');
    await selectLine(page, 3);
    const view = sidebar(page);
    await findRelated(page, view, 'Link prediction');
    const pmids = (
      await view.locator('li.paper').evaluateAll((els) => els.map((e) => e.getAttribute('data-pmid')))
    ).filter((p) => p !== HOSTILE_PMID);
    assert.ok(pmids.length >= 2);
    const bibFile = path.join(ctx.ws, 'nobib', 'references.bib');
    const dialogButton = (label) =>
      page.locator('.monaco-dialog-box .dialog-buttons .monaco-button', { hasText: label });
    // Cancel: nothing is created, the sidebar says why
    await view.locator(`li.paper[data-pmid="${pmids[0]}"] button[data-action="insert-citation"]`).click();
    await dialogButton('Create references.bib').waitFor();
    await dialogButton('Cancel').click();
    await view.locator('#toast.error', { hasText: 'no bibliography file' }).waitFor();
    assert.ok(!fs.existsSync(bibFile), 'no references.bib after Cancel');
    // Create: the file with the entry, and a bibliography header in new YAML front matter
    await view.locator(`li.paper[data-pmid="${pmids[0]}"] button[data-action="insert-citation"]`).click();
    await dialogButton('Create references.bib').click();
    const bib = await waitForFile(bibFile, (t) => t.includes(`pmid = {${pmids[0]}}`), `the entry for PMID ${pmids[0]}`);
    const key = new RegExp(`@article\\{([^,]+),[^@]*pmid = \\{${pmids[0]}\\}`).exec(bib)?.[1];
    assert.ok(key);
    await view.locator('#toast', { hasText: 'added to references.bib' }).waitFor();
    await saveActive(page);
    const md = await waitForFile(path.join(ctx.ws, 'nobib', 'draft.md'), (t) => t.includes(`[@${key}]`), `[@${key}]`);
    assert.ok(md.startsWith('---\nbibliography: references.bib\n---\n'), md.slice(0, 80));
    // The writer edits references.bib and does not save; the next citation goes in beside their edit, unsaved
    await openFile(page, 'nobib/references.bib');
    await page
      .locator('.editor-instance .view-line', { hasText: `@article{${key},` })
      .first()
      .waitFor();
    await page
      .locator('.editor-instance .view-line', { hasText: `@article{${key},` })
      .first()
      .click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.type('% my own note, not saved yet\n');
    await page.locator('.tab.dirty', { hasText: 'references.bib' }).waitFor();
    await openFile(page, 'nobib/draft.md');
    await selectLine(page, 7);
    await findRelated(page, view, 'Link prediction');
    await view.locator(`li.paper[data-pmid="${pmids[1]}"] button[data-action="insert-citation"]`).click();
    await view.locator('#toast', { hasText: 'not saved: the file had unsaved changes' }).waitFor();
    const onDisk = fs.readFileSync(bibFile, 'utf8');
    assert.ok(
      !onDisk.includes(`pmid = {${pmids[1]}}`) && !onDisk.includes('my own note'),
      'the .bib on disk is as the writer last saved it',
    );
    // when they save it, their edit and the new entry are both there
    await openFile(page, 'nobib/references.bib');
    await saveActive(page);
    const saved = await waitForFile(bibFile, (t) => t.includes(`pmid = {${pmids[1]}}`), 'the second entry once saved');
    assert.ok(saved.startsWith('% my own note, not saved yet\n'), saved.slice(0, 60));
    assert.equal((saved.match(/^@article/gm) ?? []).length, 2);
  },
);

scenario(
  'a failing query shows what went wrong with Retry; Retry answers once the cause is gone',
  async ({ page, ctx }) => {
    await openFile(page, 'markdown/paper.md');
    await selectLine(page, 16);
    const view = sidebar(page);
    await findRelated(page, view, 'semantic similarity');
    // the index disappears under the open extension (a moved or deleted folder)
    const moved = `${ctx.index}.moved`;
    fs.renameSync(ctx.index, moved);
    try {
      await command(page, 'BioHiCL: Find related literature');
      const err = view.locator('[data-testid="error"]');
      await err.waitFor({ timeout: 60_000 });
      const text = (await err.textContent()) ?? '';
      assert.match(text, /Something went wrong/);
      assert.ok(
        text.includes(`the index at ${ctx.index} could not be read: ${ctx.index}/`),
        `the error names the index and the missing file: ${text.slice(0, 300)}`,
      );
      assert.ok(text.includes('is missing'), text.slice(0, 300));
      await err.locator('button', { hasText: 'Retry' }).waitFor();
    } finally {
      fs.renameSync(moved, ctx.index);
    }
    await view.locator('[data-testid="error"] button', { hasText: 'Retry' }).click();
    await view.locator('li.paper').first().waitFor({ timeout: 60_000 });
    assert.equal(await view.locator('[data-testid="error"]').count(), 0, 'the error is gone');
    await view.locator('.results-query', { hasText: 'semantic similarity' }).waitFor();
  },
);

scenario(
  'plain text: a Vancouver reference (citation-js in the packaged extension); Manubot: [@pubmed:PMID], no .bib',
  async ({ page, ctx }) => {
    const view = sidebar(page);
    await openFile(page, 'plain/notes.txt');
    await selectLine(page, 3);
    await findRelated(page, view, 'adverse drug events in older patients');
    await view.locator('li.paper button[data-action="insert-citation"]').first().click();
    await view.locator('#toast', { hasText: 'Cited:' }).waitFor();
    await saveActive(page);
    const txt = await waitForFile(
      path.join(ctx.ws, 'plain', 'notes.txt'),
      (t) => /\nReferences\n\n1\. /.test(t),
      'the References list',
    );
    assert.match(txt, /older patients \[1\]\./);
    assert.match(txt, /\n1\. [^\n]+\. [^\n]*(19|20)\d\d[^\n]*PMID: \d+\.?\n$/);

    await openFile(page, 'manubot/content/02.introduction.md');
    await selectLine(page, 4);
    await findRelated(page, view, 'co-occurrence heatmaps');
    await view.locator(`li.paper[data-pmid="${BBT_PMID}"] button[data-action="insert-citation"]`).click();
    await view.locator('#toast', { hasText: `[@pubmed:${BBT_PMID}]` }).waitFor();
    await saveActive(page);
    await waitForFile(
      path.join(ctx.ws, 'manubot', 'content', '02.introduction.md'),
      (t) => t.includes(`heatmaps [@pubmed:${BBT_PMID}].`),
      '[@pubmed:PMID]',
    );
    assert.deepEqual(
      fs.readdirSync(path.join(ctx.ws, 'manubot', 'content')),
      ['02.introduction.md'],
      'no bibliography file created',
    );
  },
);

scenario(
  'Quarto with a CSL-JSON bibliography (keyboard shortcut Ctrl+Alt+R): [@key] and a CSL item appended',
  async ({ page, ctx }) => {
    const view = sidebar(page);
    await openFile(page, 'csl/paper.qmd');
    await selectLine(page, 6);
    await page.keyboard.press('Control+Alt+R');
    await view.locator('.results-query', { hasText: 'Co-occurrence networks of MeSH descriptors' }).waitFor();
    const pick = (
      await view.locator('li.paper').evaluateAll((els) => els.map((e) => e.getAttribute('data-pmid')))
    ).find((p) => p !== HOSTILE_PMID);
    await view.locator(`li.paper[data-pmid="${pick}"] button[data-action="insert-citation"]`).click();
    const jsonFile = path.join(ctx.ws, 'csl', 'references.json');
    const text = await waitForFile(jsonFile, (t) => t.includes(`"PMID": "${pick}"`), `the CSL item for PMID ${pick}`);
    const items = JSON.parse(text);
    assert.equal(items.length, 2);
    assert.equal(items[0].id, 'existing2016');
    const key = items[1].id;
    assert.equal(items[1].type, 'article-journal');
    await saveActive(page);
    await waitForFile(
      path.join(ctx.ws, 'csl', 'paper.qmd'),
      (t) => t.includes(`link prediction [@${key}].`),
      `[@${key}]`,
    );
  },
);

scenario(
  'cited papers are marked with their key; after an insert the cursor is right after the citation (the next keystroke does not replace it); an incomplete record is flagged before it is inserted',
  async ({ page, ctx }) => {
    // a manuscript of its own with a Zotero-style .bib that holds one of the papers (by DOI, no PMID)
    const dir = path.join(ctx.ws, 'marks');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'cited.md'),
      [
        '---',
        'bibliography: refs.bib',
        '---',
        '',
        'MeSH terms index PubMed citations and support literature-based discovery [@lu_characterization_2017].',
        'Drug-drug interactions can be characterized from PubMed abstracts using MeSH terms and co-occurrence heatmaps.',
        '',
        'Hair cell regeneration in the zebrafish lateral line after neomycin damage was followed for a week.',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(dir, 'refs.bib'),
      [
        '@article{lu_characterization_2017,',
        '\ttitle = {Characterization of the mechanism of drug-drug interactions from {PubMed} using {MeSH} terms},',
        '\tvolume = {12},',
        '\tdoi = {10.1371/journal.pone.0173548},',
        '\tjournaltitle = {{PLOS} {ONE}},',
        '\tauthor = {Lu, Yin and Figler, Bryan and Huang, Hong and Tu, Yi-Cheng and Wang, Ju and Cheng, Feng},',
        '\tdate = {2017},',
        '}',
        '',
      ].join('\n'),
    );
    const view = sidebar(page);
    await openFile(page, 'marks/cited.md');
    await selectLine(page, 6);
    await findRelated(page, view, 'co-occurrence heatmaps');
    // item 6: the paper already in refs.bib is marked, with its key; the others are not
    const marked = view.locator(`li.paper[data-pmid="${BBT_PMID}"] [data-testid="in-bib"]`);
    await marked.waitFor();
    assert.equal(await marked.getAttribute('data-key'), 'lu_characterization_2017');
    assert.match((await marked.textContent()) ?? '', /Already in refs\.bib as lu_characterization_2017/);
    assert.equal(
      await view.locator('[data-testid="in-bib"]').count(),
      1,
      'only the paper in the bibliography is marked',
    );
    // item 7: insert a paper that is not there; the selection does not grow over the citation
    const pmids = await view.locator('li.paper').evaluateAll((els) => els.map((e) => e.getAttribute('data-pmid')));
    const fresh = pmids.find((p) => p !== BBT_PMID && p !== HOSTILE_PMID && p !== INCOMPLETE_PMID);
    const selection = page.locator('[id="status.editor.selection"]');
    assert.match((await selection.textContent()) ?? '', /selected/, 'the line is selected before the insert');
    await view.locator(`li.paper[data-pmid="${fresh}"] button[data-action="insert-citation"]`).click();
    await view.locator('#toast', { hasText: 'Cited' }).waitFor();
    const bib = await waitForFile(
      path.join(dir, 'refs.bib'),
      (t) => t.includes(`pmid = {${fresh}}`),
      `the entry for PMID ${fresh}`,
    );
    const key = new RegExp(`@article\\{([^,]+),[^@]*pmid = \\{${fresh}\\}`).exec(bib)?.[1];
    assert.ok(key);
    assert.match(key, /^[a-z][a-z-]*_[^_\s]+_\d{4}$/, `the new key follows the file's Zotero style: ${key}`);
    await page.waitForFunction(
      () => !/selected/.test(document.querySelector('[id="status.editor.selection"]')?.textContent ?? ''),
    );
    // the sidebar now marks the inserted paper too
    await view.locator(`li.paper[data-pmid="${fresh}"] [data-testid="in-bib"][data-key="${key}"]`).waitFor();
    // back in the editor, the next keystroke goes after the citation instead of replacing it
    await command(page, 'View: Focus Active Editor Group');
    await page.keyboard.type('Z');
    await saveActive(page);
    const md = await waitForFile(
      path.join(dir, 'cited.md'),
      (t) => t.includes(`heatmaps [@${key}]Z.`),
      `the citation kept and Z typed after it`,
    );
    assert.ok(md.includes('characterized from PubMed abstracts'), 'the selected sentence is still there');
    // item 4: a record with no author, journal or year says so before it is inserted, and the message after says it too
    await selectLine(page, 8);
    await findRelated(page, view, 'zebrafish lateral line');
    const inc = view.locator(`li.paper[data-pmid="${INCOMPLETE_PMID}"]`);
    await inc.locator('[data-testid="missing"]', { hasText: 'no author, journal, year' }).waitFor();
    assert.match(
      (await inc.locator('button[data-action="insert-citation"]').getAttribute('aria-label')) ?? '',
      /incomplete: no author, journal, year/,
    );
    await inc.locator('button[data-action="insert-citation"]').click();
    await view.locator('#toast', { hasText: 'missing: author, journal, year' }).waitFor();
  },
);

scenario(
  '"Use generated weights" says which setting it changed (with Undo); a model mismatch then offers the in-editor ways out, and Switch back makes the query work again',
  async ({ page, ctx }) => {
    await openFile(page, 'markdown/paper.md');
    await selectLine(page, 16);
    const view = sidebar(page);
    await findRelated(page, view, 'semantic similarity');
    await command(page, 'BioHiCL: Use generated weights');
    // item 8: the change is said, with the old and the new folder (generating base-shaped weights takes a while)
    const note = page
      .locator('.notifications-toasts .notification-toast', { hasText: 'biohicl.modelDir changed from' })
      .first();
    await note.waitFor({ timeout: 240_000 });
    const text = (await note.textContent()) ?? '';
    assert.ok(text.includes(ctx.model), `names the folder it replaced: ${text.slice(0, 300)}`);
    assert.match(text, /generated-base/);
    assert.match(text, /was built with generated:tiny/);
    await note.locator('.monaco-button', { hasText: 'Undo' }).waitFor();
    await note.locator('.monaco-button', { hasText: 'Rebuild index with this model' }).waitFor();
    const settingsFile = path.join(ctx.dir, 'ud', 'User', 'settings.json');
    await waitForFile(
      settingsFile,
      (t) => /generated-base/.test(JSON.parse(t)['biohicl.modelDir'] ?? ''),
      'the new modelDir in the user settings',
    );
    await page.keyboard.press('Escape');
    // the next query: the mismatch in the editor's words, with buttons instead of a CLI command
    await command(page, 'BioHiCL: Find related literature');
    const err = view.locator('[data-testid="error"]');
    await err.waitFor({ timeout: 240_000 });
    const msg = (await err.textContent()) ?? '';
    assert.match(msg, /was built with generated:tiny/);
    assert.match(msg, /Rebuild the index with this model, or switch back/);
    await err.locator('button[data-action="rebuildIndex"]').waitFor();
    const back = err.locator('button[data-action="useIndexModel"]');
    await back.waitFor();
    await back.click();
    await waitForFile(settingsFile, (t) => JSON.parse(t)['biohicl.modelDir'] === ctx.model, 'modelDir switched back');
    await view.locator('.results-query', { hasText: 'semantic similarity' }).waitFor({ timeout: 120_000 });
    await view.locator('li.paper').first().waitFor();
    assert.equal(await view.locator('[data-testid="error"]').count(), 0);
  },
);

scenario(
  'Build index from files (explorer context menu): progress notification, the index grows',
  async ({ page, ctx }) => {
    const extra = path.join(ctx.ws, 'extra.medline.txt');
    fs.copyFileSync(path.resolve(ROOT, 'test', 'fixtures', 'pubmed', 'biopython', 'pubmed_result2.txt'), extra);
    // the extension host must have loaded the extension for its menu items to appear
    // command() waits until the palette lists the extension's commands; the device picker is closed again unchanged
    await command(page, 'BioHiCL: Pick device');
    await page.locator('.quick-input-widget', { hasText: 'device for the encoder' }).waitFor();
    await page.keyboard.press('Escape');
    await command(page, 'View: Show Explorer');
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'extra.medline.txt' }).first();
    await row.waitFor();
    await row.click({ button: 'right' });
    const item = page.getByRole('menuitem', { name: /Build index from files/ }).first();
    await item.hover();
    await page.keyboard.press('Enter');
    await page
      .locator('.notifications-toasts', { hasText: /Index updated: 4 added/ })
      .first()
      .waitFor({ timeout: 120_000 });
    await command(page, 'BioHiCL: Find related literature');
    const view = sidebar(page);
    await view.locator('[data-testid="status-line"]', { hasText: 'index: 290 papers' }).waitFor();
  },
);

scenario(
  'Index this manuscript\'s bibliography: its items become searchable and are marked "In your library"',
  async ({ page, ctx }) => {
    // The writer's own library: an item with no PMID and no abstract (a book) in the manuscript's .bib.
    fs.appendFileSync(
      path.join(ctx.ws, 'markdown', 'references.bib'),
      '\n@book{ng2019quorum,\n  title = {Quorum sensing in bacterial biofilms: a handbook},\n  author = {Ng, Pei},\n  year = {2019},\n  publisher = {Example Press}\n}\n',
    );
    fs.writeFileSync(
      path.join(ctx.ws, 'markdown', 'library-note.md'),
      '---\ntitle: "Notes"\nbibliography: references.bib\n---\n\nQuorum sensing in bacterial biofilms, a handbook.\n',
    );
    await openFile(page, 'markdown/library-note.md');
    // The previous scenario's "Index updated" toast may still be up: clear it, so the one awaited is this build's.
    await command(page, 'Notifications: Clear All Notifications');
    await command(page, "BioHiCL: Index this manuscript's bibliography");
    await page
      .locator('.notifications-toasts', { hasText: /Index updated: [1-9]\d* added/ })
      .first()
      .waitFor({ timeout: 120_000 });
    await selectLine(page, 6);
    const view = sidebar(page);
    await findRelated(page, view, 'Quorum sensing');
    let item = view.locator('li.paper[data-pmid="key:ng2019quorum"]');
    await item.waitFor();
    // From this manuscript it is the bibliography's own entry …
    await item.locator('[data-testid="in-bib"]', { hasText: 'Already in references.bib' }).waitFor();
    assert.equal(
      await item.locator('a', { hasText: /^PMID / }).count(),
      0,
      'no PubMed link for a library item without a PMID',
    );
    // … and from a draft that names no bibliography, it is marked as the writer's library.
    fs.writeFileSync(
      path.join(ctx.ws, 'nobib', 'library-draft.md'),
      'Quorum sensing in bacterial biofilms, a handbook.\n',
    );
    await openFile(page, 'nobib/library-draft.md');
    await selectLine(page, 1);
    await findRelated(page, view, 'Quorum sensing');
    item = view.locator('li.paper[data-pmid="key:ng2019quorum"]');
    await item.locator('[data-testid="in-library"]', { hasText: 'In your library (references.bib)' }).waitFor();
  },
);

// ---------------------------------------------------------------- the PubMed index: pull a release, apply updates
// A release published (with the CLI, as a maintainer would) from an index of PubMed-format files made from the real
// MEDLINE sample (test/fixtures/nlm-mirror.ts), served over HTTP on 127.0.0.1 (src/release/serve.ts), and an NLM-like
// mirror with two update files (serveNlmMirror). The scenarios point biohicl.indexDir at a folder of their own and put
// it back afterwards, so the other scenarios keep their index.
const cleanups = [];
const today = () => new Date().toISOString().slice(0, 10);

/** The CLI, asynchronously: the servers it may talk to run in this process. */
function cliAsync(ctx, cliArgs) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), ...cliArgs], {
      env: xdgEnv(ctx.dir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`biohicl ${cliArgs.join(' ')} failed (${code}):\n${out}\n${err}`)),
    );
  });
}

async function pubmedFixtures(ctx) {
  if (ctx.pubmed) return ctx.pubmed;
  const { tsImport } = await import('tsx/esm/api');
  const nm = await tsImport(path.join(ROOT, 'test', 'fixtures', 'nlm-mirror.ts'), import.meta.url);
  const { serveFolder } = await tsImport(path.join(ROOT, 'src', 'release', 'serve.ts'), import.meta.url);
  const base = path.join(ctx.dir, 'pubmed-fixtures');
  const nlm = await nm.makeNlmFiles(path.join(base, 'nlm'));
  const src = path.join(base, 'src-index');
  const pub = path.join(base, 'pub');
  fs.mkdirSync(pub, { recursive: true });
  // r1: baseline files 1-2 (152 citations); r2: the same index once baseline file 3 was added
  await cliAsync(ctx, [
    'index',
    'add',
    '--quiet',
    '--threads',
    '1',
    '--model',
    ctx.model,
    '--index',
    src,
    ...nlm.baseline.slice(0, 2),
  ]);
  await cliAsync(ctx, ['index', 'publish', '--index', src, '--out', path.join(pub, 'r1'), '--tag', 'r1']);
  await cliAsync(ctx, [
    'index',
    'add',
    '--quiet',
    '--threads',
    '1',
    '--model',
    ctx.model,
    '--index',
    src,
    nlm.baseline[2],
  ]);
  await cliAsync(ctx, ['index', 'publish', '--index', src, '--out', path.join(pub, 'r2'), '--tag', 'r2']);
  const releases = await serveFolder(pub);
  const mirror = await nm.serveNlmMirror({ baseline: nlm.baseline.slice(0, 2), updates: nlm.updates });
  cleanups.push(
    () => releases.close(),
    () => mirror.close(),
  );
  // A paper of baseline files 1-2 whose title the first update file revises (a plain-text title, to select as a query).
  const zlib = await import('node:zlib');
  const xml = nlm.baseline
    .slice(0, 2)
    .map((f) => zlib.gunzipSync(fs.readFileSync(f)).toString('utf8'))
    .join('\n');
  let revised;
  for (const pmid of nlm.revisedPmids) {
    const m = new RegExp(`<PMID[^>]*>${pmid}</PMID>[\\s\\S]*?<ArticleTitle>([^<&]{40,160})</ArticleTitle>`).exec(xml);
    if (m) {
      revised = { pmid, title: m[1].trim() };
      break;
    }
  }
  assert.ok(revised, 'a revised paper with a plain title in baseline files 1-2');
  const r1 = JSON.parse(fs.readFileSync(path.join(pub, 'r1', 'release.json'), 'utf8'));
  const r2 = JSON.parse(fs.readFileSync(path.join(pub, 'r2', 'release.json'), 'utf8'));
  const have = new Set(r1.files.map((f) => `${f.path}\0${f.sha256}`));
  log(
    `  PubMed fixtures: r1 ${r1.files.length} files ${r1.totalBytes} B (${r1.counts.articles} papers), r2 adds ${r2.files.filter((f) => !have.has(`${f.path}\0${f.sha256}`)).reduce((n, f) => n + f.size, 0)} B; revised PMID ${revised.pmid}`,
  );
  // the writer's note: the revised paper's title, to select
  fs.mkdirSync(path.join(ctx.ws, 'pubmed'), { recursive: true });
  fs.writeFileSync(path.join(ctx.ws, 'pubmed', 'notes.md'), `# Notes\n\n${revised.title}\n`);
  ctx.pubmed = {
    nlm,
    releases,
    mirror,
    revised,
    r1url: `${releases.url}r1/`,
    r2url: `${releases.url}r2/`,
    r1,
    r2,
    index: path.join(ctx.dir, 'pubmed-index'),
    suffix: nm.revisedTitleSuffix(path.basename(nlm.updates[0])),
  };
  return ctx.pubmed;
}

function settingsFile(ctx) {
  return path.join(ctx.dir, 'ud', 'User', 'settings.json');
}
/**
 * Change user settings as a writer editing settings.json would: the file is written, opened in the editor, reverted
 * to what is on disk and saved (code-server's file watcher does not report a file written behind its back, but a
 * save through the editor reloads the configuration).
 */
async function patchSettings(page, ctx, patch) {
  const s = JSON.parse(fs.readFileSync(settingsFile(ctx), 'utf8'));
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete s[k];
    else s[k] = v;
  }
  fs.writeFileSync(settingsFile(ctx), JSON.stringify(s, null, 2) + '\n');
  await command(page, 'Preferences: Open User Settings (JSON)');
  await page.locator('.tab.active', { hasText: 'settings.json' }).waitFor();
  await command(page, 'File: Revert File');
  // the editor shows what was written (the first string value of the patch)
  const shown = Object.values(patch).find((v) => typeof v === 'string');
  if (shown)
    await page
      .locator('.editor-instance .view-line', { hasText: `${shown}"` })
      .first()
      .waitFor();
  await page.locator('.editor-instance .view-lines').first().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(' ');
  await page.keyboard.press('Control+S');
  await page.locator('.tab.active.dirty', { hasText: 'settings.json' }).waitFor({ state: 'detached' });
  await command(page, 'View: Revert and Close Editor');
}

/** biohicl.indexDir → the scenarios' own folder, with the release URL and the mirror set (read when a command runs). */
async function usePubmedIndex(page, ctx, { pulled }) {
  const f = await pubmedFixtures(ctx);
  if (pulled && !fs.existsSync(path.join(f.index, 'meta.json'))) {
    // run on its own (--only): the index pulled with the CLI, as the first scenario does in the editor
    await cliAsync(ctx, ['index', 'pull', f.r1url, '--index', f.index, '--model', ctx.model]);
  }
  await patchSettings(page, ctx, {
    'biohicl.indexDir': f.index,
    'biohicl.releaseUrl': f.r1url,
    'biohicl.pubmedMirror': f.mirror.url,
  });
  return f;
}

/** Put the other scenarios' index back, and wait until a query answers from it. */
async function restoreIndex(page, ctx) {
  if (!ctx.pubmed) return;
  ctx.pubmed.releases.faults = {};
  await page.keyboard.press('Escape');
  await patchSettings(page, ctx, {
    'biohicl.indexDir': ctx.index,
    'biohicl.releaseUrl': undefined,
    'biohicl.pubmedMirror': undefined,
  });
  const view = sidebar(page);
  for (let i = 0; ; i++) {
    await openFile(page, 'markdown/paper.md');
    await selectLine(page, 16);
    await findRelated(page, view, 'semantic similarity');
    const st =
      (await view
        .locator('[data-testid="status-line"]')
        .textContent()
        .catch(() => '')) ?? '';
    if (/index: 2\d\d papers/.test(st)) return; // the scenarios' own index (286–294 papers as scenarios add to it), not a PubMed one (~600)
    if (i >= 10) throw new Error(`the index did not switch back to ${ctx.index}: ${st}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Run "Get the PubMed index…" once the input box says it goes into `indexDir` (the setting applied); answer `url`. */
async function getPubmedIndex(page, indexDir, url) {
  for (let i = 0; ; i++) {
    await command(page, 'BioHiCL: Get the PubMed index');
    const box = page.locator('.quick-input-widget', { hasText: `It goes into ${indexDir};` });
    try {
      await box.waitFor({ timeout: 3_000 });
    } catch {
      await page.keyboard.press('Escape');
      if (i >= 15) throw new Error(`the input box never named ${indexDir} (the setting did not apply)`);
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    const input = page.locator('.quick-input-widget input');
    const value = await input.inputValue();
    if (url) await input.fill(url);
    await page.keyboard.press('Enter');
    return value;
  }
}

function toast(page, text) {
  return page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
}

async function queryNotes(page, view, f) {
  await openFile(page, 'pubmed/notes.md');
  await selectLine(page, 3);
  await findRelated(page, view, f.revised.title.slice(0, 40));
}

scenario(
  'PubMed index: "Get the PubMed index" pulls a release from a local server (size and progress shown, only 127.0.0.1 contacted); the sidebar answers from it and says how current it is',
  async ({ page, ctx, server }) => {
    const f = await usePubmedIndex(page, ctx, { pulled: false });
    fs.rmSync(f.index, { recursive: true, force: true });
    fs.rmSync(`${f.index}.releases`, { recursive: true, force: true });
    try {
      const hosts = new Set(
        auditEvents(server.audit)
          .filter((e) => e.kind === 'loaded' && /extensionHost/.test(e.argv + e.role))
          .map((e) => e.pid),
      );
      const t0 = Date.now();
      const value = await getPubmedIndex(page, f.index);
      assert.equal(value, f.r1url, 'the input box offers biohicl.releaseUrl');
      // the size before and during the download
      const mib = (f.r1.totalBytes / 1024 ** 2).toFixed(1);
      await toast(page, 'release r1: ')
        .waitFor({ timeout: 60_000 })
        .catch(() => undefined);
      const done = toast(page, `is now release r1 (${f.r1.counts.articles} papers)`);
      await done.waitFor({ timeout: 180_000 });
      const t1 = Date.now();
      const text = (await done.textContent()) ?? '';
      assert.ok(text.includes(f.index), text);
      assert.ok(
        new RegExp(`${mib} MiB downloaded|[\\d.]+ KiB downloaded`).test(text),
        `the size downloaded is said: ${text}`,
      );
      assert.ok(fs.lstatSync(f.index).isSymbolicLink(), 'the index folder is a symlink to the release');
      // network: only the local server
      const events = auditEvents(server.audit).filter(
        (e) => hosts.has(e.pid) && e.kind !== 'loaded' && e.t >= t0 && e.t <= t1,
      );
      const outside = events.filter(
        (e) =>
          !(e.kind === 'connect' && /^(127\.0\.0\.1:|unix:)/.test(e.detail)) &&
          !(e.kind === 'lookup' && /^(127\.0\.0\.1|localhost)$/.test(e.detail)),
      );
      assert.deepEqual(outside, [], 'the pull contacted nothing but 127.0.0.1');
      assert.ok(
        events.some((e) => e.kind === 'connect' && e.detail.startsWith(`127.0.0.1:${new URL(f.releases.url).port}`)),
        'the pull went to the release server',
      );
      // the sidebar answers from the pulled index and says how current it is
      const view = sidebar(page);
      await queryNotes(page, view, f);
      const paper = view.locator(`li.paper[data-pmid="${f.revised.pmid}"]`);
      await paper.waitFor();
      assert.equal(((await paper.locator('.title').textContent()) ?? '').trim(), f.revised.title);
      const cur = view.locator('[data-testid="currency"]');
      await cur.waitFor();
      const ct = (await cur.textContent()) ?? '';
      assert.ok(ct.includes(`PubMed through pubmed26n0002 (applied ${today()})`), ct);
      assert.ok(ct.includes(`from release r1 (${today()})`), ct);
      assert.equal(await cur.getAttribute('data-last-file'), 'pubmed26n0002');
      await cur.locator('button[data-action="updateIndex"]').waitFor();
      const st = (await view.locator('[data-testid="status-line"]').textContent()) ?? '';
      assert.ok(st.includes(`index: ${f.r1.counts.articles} papers`), st);
    } catch (e) {
      await restoreIndex(page, ctx).catch(() => undefined);
      throw e;
    }
  },
);

scenario(
  'PubMed index: "Update the index" fetches the update files from an NLM-like mirror and applies them; the sidebar shows the new last file and the revised title',
  async ({ page, ctx }) => {
    const f = await usePubmedIndex(page, ctx, { pulled: true });
    try {
      const view = sidebar(page);
      // a query first: the settings are in effect once it answers from the pulled index
      for (let i = 0; ; i++) {
        await queryNotes(page, view, f);
        if (await view.locator(`li.paper[data-pmid="${f.revised.pmid}"]`).count()) break;
        if (i >= 10) throw new Error('the pulled index never answered');
        await new Promise((r) => setTimeout(r, 1000));
      }
      const before = f.mirror.log.length;
      await command(page, 'BioHiCL: Update the index');
      const done = toast(page, 'Applied pubmed26n0009, pubmed26n0010.');
      await done.waitFor({ timeout: 180_000 });
      assert.match((await done.textContent()) ?? '', /Index updated: \d+ added, \d+ updated/);
      assert.ok(
        f.mirror.log.slice(before).some((l) => l.path.endsWith('/updatefiles/pubmed26n0009.xml.gz')),
        'fetched from the mirror',
      );
      // the sidebar answers from the new version: the revised title, the new last file
      await queryNotes(page, view, f);
      await view
        .locator(`li.paper[data-pmid="${f.revised.pmid}"] .title`, { hasText: f.suffix.trim() })
        .waitFor({ timeout: 60_000 });
      const cur = view.locator('[data-testid="currency"]', {
        hasText: `PubMed through pubmed26n0010 (applied ${today()})`,
      });
      await cur.waitFor();
      assert.equal(await cur.getAttribute('data-last-file'), 'pubmed26n0010');
      assert.match(
        (await cur.textContent()) ?? '',
        /from release r1 \([\d-]+\), then 2 update files applied here: pubmed26n0009, pubmed26n0010/,
      );
      await page.locator('.part.sidebar').screenshot({ path: path.join(ctx.dir, 'sidebar-after-update.png') });
      // again: nothing newer on the mirror
      await command(page, 'BioHiCL: Update the index');
      await toast(page, 'The index is current: PubMed through pubmed26n0010').waitFor({ timeout: 60_000 });
    } catch (e) {
      await restoreIndex(page, ctx).catch(() => undefined);
      throw e;
    }
  },
);

scenario(
  'PubMed index: a pull cancelled mid-way (slow server) switches nothing and the old index keeps answering; run again, it resumes and switches',
  async ({ page, ctx }) => {
    const f = await usePubmedIndex(page, ctx, { pulled: true });
    try {
      const view = sidebar(page);
      for (let i = 0; ; i++) {
        await queryNotes(page, view, f);
        if (await view.locator(`li.paper[data-pmid="${f.revised.pmid}"]`).count()) break;
        if (i >= 10) throw new Error('the pulled index never answered');
        await new Promise((r) => setTimeout(r, 1000));
      }
      const curBefore = ((await view.locator('[data-testid="currency"] .currency-label').textContent()) ?? '').trim();
      const target = fs.realpathSync(f.index);
      // the server: slow, and after the first data file it sends no more bodies (a download stuck mid-way)
      let first;
      f.releases.faults = {
        bytesPerSecond: 16_000,
        beforeBody: (p) => {
          if (p.endsWith('/release.json')) return undefined;
          if (!first) {
            first = p;
            return undefined;
          }
          return new Promise(() => undefined);
        },
      };
      await getPubmedIndex(page, f.index, f.r2url);
      const progressToast = toast(page, /release r2: .* downloading [1-9][\d.]* (B|KiB|MiB) of /);
      await progressToast.waitFor({ timeout: 120_000 });
      log(`  progress shown: ${((await progressToast.textContent()) ?? '').slice(0, 200)}`);
      await progressToast.locator('.monaco-button', { hasText: 'Cancel' }).click();
      await toast(page, 'getting the PubMed index was cancelled; nothing was switched').waitFor({ timeout: 60_000 });
      f.releases.faults = {};
      assert.equal(fs.realpathSync(f.index), target, 'the index still points at the old release');
      assert.ok(
        fs.existsSync(path.join(`${f.index}.releases`, '.staging')),
        'what was downloaded is kept for the next pull',
      );
      // the old index answers, and the sidebar says the same as before
      await queryNotes(page, view, f);
      await view.locator(`li.paper[data-pmid="${f.revised.pmid}"]`).waitFor();
      assert.equal(
        ((await view.locator('[data-testid="currency"] .currency-label').textContent()) ?? '').trim(),
        curBefore,
      );
      // run again: it resumes and switches to r2
      await getPubmedIndex(page, f.index, f.r2url);
      await toast(page, `is now release r2 (${f.r2.counts.articles} papers)`).waitFor({ timeout: 180_000 });
      assert.notEqual(fs.realpathSync(f.index), target);
      await queryNotes(page, view, f);
      await view.locator('[data-testid="currency"]', { hasText: 'from release r2' }).waitFor({ timeout: 60_000 });
    } finally {
      await restoreIndex(page, ctx);
    }
  },
);

// Scenarios of one topic each live in test/e2e/scenarios/*.mjs (loaded in main(), run here: before the last three,
// which toggle settings, take screenshots and remake the model).
const TAIL_FROM = scenarios.length;

scenario('suggest as I select: a selection alone (no command) updates the sidebar', async ({ page }) => {
  await command(page, 'BioHiCL: Toggle suggest as I select');
  await page.locator('.notifications-toasts', { hasText: 'suggest as I select is on' }).first().waitFor();
  await openFile(page, 'markdown/paper.md');
  await selectLine(page, 17);
  const view = sidebar(page);
  await view
    .locator('.results-query', { hasText: 'semantic similarity between biomedical concepts' })
    .waitFor({ timeout: 30_000 });
  await command(page, 'BioHiCL: Toggle suggest as I select');
  await page.locator('.notifications-toasts', { hasText: 'suggest as I select is off' }).first().waitFor();
});

scenario('screenshots of the sidebar in light and dark themes', async ({ page, ctx }) => {
  // into media/screenshots/ (for the README) only when asked, so a plain test run leaves the tree clean
  const out =
    args.includes('--screenshots') || process.env.BIOHICL_E2E_SCREENSHOTS
      ? path.join(ROOT, 'media', 'screenshots')
      : path.join(ctx.dir, 'screenshots');
  fs.mkdirSync(out, { recursive: true });
  // a real query on a real manuscript: the abstract of the R Markdown paper in test/fixtures/manuscripts-real
  const real = path.join(ctx.ws, 'real', 'rmd-topcuoglu-ml-crc');
  fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'manuscripts-real', 'rmd-topcuoglu-ml-crc'), real, { recursive: true });
  const lines = fs.readFileSync(path.join(real, 'manuscript.Rmd'), 'utf8').split('\n');
  const abstractLine =
    lines.findIndex((l) => l.startsWith('Machine learning (ML) modeling of the human microbiome')) + 1;
  assert.ok(abstractLine > 0, 'the abstract paragraph of the real manuscript');
  await openFile(page, 'real/rmd-topcuoglu-ml-crc/manuscript.Rmd');
  await selectLine(page, abstractLine);
  const view = sidebar(page);
  await findRelated(page, view, 'Machine learning (ML) modeling of the human microbiome');
  await view.locator('li.mesh').first().waitFor();
  await command(page, 'View: Toggle Word Wrap'); // the workbench shot shows the selected paragraph, not its line end
  await command(page, 'Notifications: Clear All Notifications');
  const part = page.locator('.part.sidebar');
  // a wider sidebar reads better in the README: drag the sash to its right (cosmetic; ignored when it fails)
  const sb = await part.boundingBox();
  if (sb && sb.width < 400) {
    await page.mouse.move(sb.x + sb.width + 1, sb.y + sb.height / 2);
    await page.mouse.down();
    await page.mouse.move(sb.x + 420, sb.y + sb.height / 2, { steps: 5 });
    await page.mouse.up();
  }
  await part.screenshot({ path: path.join(out, 'sidebar-light.png') });
  await command(page, 'Preferences: Toggle between Light/Dark Themes');
  await page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('vs-dark'));
  await view.locator('body.vscode-dark').waitFor();
  await part.screenshot({ path: path.join(out, 'sidebar-dark.png') });
  await page.screenshot({ path: path.join(out, 'workbench-dark.png') });
});

// Last: it leaves the model made again (new random weights), so the index of the other scenarios no longer matches it.
scenario(
  'a model file that differs from its manifest: the sidebar says so and offers "Make the model again"; made again, the index built with the old weights is offered a rebuild',
  async ({ page, ctx }) => {
    const view = sidebar(page);
    await openFile(page, 'markdown/paper.md');
    await selectLine(page, 16);
    await findRelated(page, view, 'semantic similarity');
    // damage the model on disk, then restart the worker (a setting it depends on) so that it loads the files again
    for (const f of fs.readdirSync(ctx.model).filter((n) => n.endsWith('.onnx'))) {
      const p = path.join(ctx.model, f);
      const b = fs.readFileSync(p);
      b[b.length - 1] ^= 0xff;
      fs.writeFileSync(p, b);
    }
    await patchSettings(page, ctx, { 'biohicl.threads': 1 });
    const err = view.locator('[data-testid="error"]');
    for (let i = 0; ; i++) {
      await openFile(page, 'markdown/paper.md');
      await selectLine(page, 16);
      await command(page, 'BioHiCL: Find related literature');
      try {
        await err.waitFor({ timeout: 10_000 });
        break;
      } catch {
        if (i >= 10) throw new Error('the damaged model was never reported');
      }
    }
    const text = (await err.textContent()) ?? '';
    assert.ok(
      text.includes(`The model in ${ctx.model} is damaged: a file differs from its manifest`),
      text.slice(0, 400),
    );
    assert.match(text, /Make the model again/);
    await page.keyboard.press('Escape');
    await err.locator('button[data-action="remakeModel"]', { hasText: 'Make the model again' }).click();
    await page.locator('.monaco-dialog-box .dialog-buttons .monaco-button', { hasText: 'Make it again' }).click();
    await toast(page, `the model in ${ctx.model} was made again`).waitFor({ timeout: 120_000 });
    // new random weights: the query now meets the index built with the old ones, and the way out is offered
    await view.locator('[data-testid="error"] button[data-action="rebuildIndex"]').waitFor({ timeout: 120_000 });
    assert.match((await view.locator('[data-testid="error"]').textContent()) ?? '', /was built with generated:tiny/);
    assert.ok(fs.existsSync(path.join(ctx.model, 'manifest.json')), 'the model folder was made again');
  },
);

// ---------------------------------------------------------------- main
const timing = [];
let firstAnswer;
/** What a scenario module (test/e2e/scenarios/*.mjs, `export default function (api) { api.scenario(...) }`) gets. */
const scenarioApi = () => ({
  scenario,
  log,
  assert,
  ROOT,
  cleanups,
  command,
  openFile,
  selectLine,
  saveActive,
  sidebar,
  waitForFile,
  findRelated,
  toast,
  patchSettings,
  settingsFile,
  restoreIndex,
  auditEvents,
});

async function loadScenarioModules() {
  const dir = path.join(ROOT, 'test', 'e2e', 'scenarios');
  if (!fs.existsSync(dir)) return;
  const before = scenarios.length;
  for (const f of fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.mjs'))
    .sort()) {
    const mod = await import(path.join(dir, f));
    mod.default(scenarioApi());
  }
  scenarios.splice(TAIL_FROM, 0, ...scenarios.splice(before));
}

async function main() {
  await loadScenarioModules();
  const ctx = await prepare();
  log('starting code-server');
  const server = await startServer(ctx);
  log(`code-server at ${server.url}`);
  let browser;
  let failed = 0;
  let passed = 0;
  try {
    const b = await startBrowser(ctx, server.url);
    browser = b.browser;
    const page = b.page;
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    log('workbench loaded');
    for (const s of scenarios) {
      if (ONLY && !ONLY.split('|').some((o) => s.name.includes(o))) continue;
      const t = Date.now();
      try {
        await s.fn({ page, ctx, server });
        passed++;
        log(`ok   ${s.name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed++;
        log(`FAIL ${s.name} (${((Date.now() - t) / 1000).toFixed(1)} s)\n${e.stack ?? e}`);
        const shot = path.join(ctx.dir, `fail-${failed}.png`);
        await page.screenshot({ path: shot }).catch(() => undefined);
        log(`     screenshot: ${shot}`);
      }
    }
  } finally {
    for (const c of cleanups.splice(0)) await Promise.resolve(c()).catch(() => undefined);
    await browser?.close().catch(() => undefined);
    try {
      process.kill(-server.proc.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    const extLog = findExtLog(ctx.dir);
    if (extLog) {
      const text = fs.readFileSync(extLog, 'utf8');
      for (const re of [
        /activated in (\d+) ms/,
        /view ready (\d+) ms after it was created/,
        /loaded in (\d+) ms; provider (\w+)/,
        /query 2: .* in (\d+) ms/,
      ]) {
        const m = re.exec(text);
        if (m) timing.push(m[0]);
      }
      const fa = /first answer (\d+) ms after the sidebar was ready \(([^)]*)\)/.exec(text);
      if (fa) firstAnswer = `first answer after the sidebar was ready: ${fa[1]} ms (${fa[2]}; target ≤ 1500 ms)`;
    }
    if (failed && extLog) log(`extension log: ${extLog}\n${fs.readFileSync(extLog, 'utf8').slice(-4000)}`);
    if (!KEEP && !failed) fs.rmSync(ctx.dir, { recursive: true, force: true });
    else log(`kept ${ctx.dir}`);
  }
  if (timing.length) log(`extension timings: ${timing.join('; ')}`);
  if (firstAnswer) log(firstAnswer);
  log(`${failed ? `${failed} FAILED` : 'all passed'} in ${((Date.now() - T0) / 1000).toFixed(1)} s`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed || !passed ? 1 : 0);
}

function findExtLog(dir) {
  const root = path.join(dir, 'ud', 'logs');
  if (!fs.existsSync(root)) return undefined;
  const stack = [root];
  while (stack.length) {
    const d = stack.pop();
    for (const f of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) stack.push(p);
      else if (/BioHiCL Writer\.log$/.test(f.name)) return p;
    }
  }
  return undefined;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
