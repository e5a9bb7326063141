// The webview: its script type-checks against the host↔webview protocol; the page the host builds has a strict CSP
// with a fresh nonce (parsed with htmlparser2); in a real browser (Debian's chromium through playwright-core) the
// nonce'd script runs, an injected inline script is blocked, hostile PubMed text stays text, and every message the
// script sends passes the host's check. The package.json contributions agree with the code (commands, view, settings).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseDocument, DomUtils } from 'htmlparser2';
import type { Element } from 'domhandler';
import { newNonce, sidebarCsp, sidebarHtml } from '../../src/extension/sidebar-html';
import { checkWebviewMessage } from '../../src/extension/messages';
import type { ViewState } from '../../src/extension/protocol';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (p: string): string => fs.readFileSync(path.join(ROOT, p), 'utf8');
const CHROMIUM = process.env.BIOHICL_E2E_CHROMIUM || '/usr/bin/chromium';

test('media/sidebar.js type-checks against src/extension/protocol.ts (tsc, checkJs, DOM lib)', () => {
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'media', 'tsconfig.json')],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `tsc on the webview script:\n${r.stdout}${r.stderr}`);
});

test('the page: CSP with a fresh CSPRNG nonce, one script (nonce + media/ URI), no inline script or style', () => {
  const page = {
    cspSource: 'https://file+.vscode-resource.test',
    scriptUri: 'https://r.test/media/sidebar.js',
    styleUri: 'https://r.test/media/sidebar.css',
  };
  const a = newNonce();
  const b = newNonce();
  assert.notEqual(a, b, 'a fresh nonce each time');
  assert.equal(Buffer.from(a, 'base64').length, 18);
  const doc = parseDocument(sidebarHtml({ ...page, nonce: a }));
  const els = DomUtils.findAll(() => true, doc.children) as Element[];
  const meta = els.find((e) => e.name === 'meta' && e.attribs['http-equiv'] === 'Content-Security-Policy');
  assert.ok(meta, 'a CSP meta element');
  const csp = new Map(
    meta.attribs.content!.split(';').map((d) => {
      const [k, ...v] = d.trim().split(/\s+/);
      return [k!, v.join(' ')] as const;
    }),
  );
  assert.equal(csp.get('default-src'), "'none'");
  assert.equal(csp.get('script-src'), `'nonce-${a}'`, 'scripts only with the nonce: no unsafe-inline, no host');
  assert.equal(csp.get('style-src'), page.cspSource, 'styles only from the webview resources (no unsafe-inline)');
  for (const d of ['connect-src', 'form-action', 'base-uri']) assert.equal(csp.get(d), "'none'", d);
  const scripts = els.filter((e) => e.name === 'script');
  assert.equal(scripts.length, 1);
  assert.deepEqual(scripts[0]!.attribs, { nonce: a, src: page.scriptUri });
  assert.equal(DomUtils.textContent(scripts[0]!), '', 'no inline script');
  assert.equal(els.filter((e) => e.name === 'style').length, 0);
  assert.ok(els.every((e) => !('style' in e.attribs) && !Object.keys(e.attribs).some((k) => /^on/i.test(k))));
  const link = els.find((e) => e.name === 'link');
  assert.deepEqual(link?.attribs, { rel: 'stylesheet', href: page.styleUri });
  // URIs with quotes or markup stay one attribute value
  const hostile = 'https://r.test/x"><script>alert(1)</script><x y="';
  const doc2 = parseDocument(sidebarHtml({ ...page, scriptUri: hostile, styleUri: hostile }));
  const els2 = DomUtils.findAll(() => true, doc2.children) as Element[];
  const s2 = els2.filter((e) => e.name === 'script');
  assert.equal(s2.length, 1);
  assert.equal(s2[0]!.attribs.src, hostile);
  assert.equal(els2.find((e) => e.name === 'link')?.attribs.href, hostile);
  assert.equal(
    sidebarCsp('https://x', 'n'),
    "default-src 'none'; style-src https://x; img-src https://x; font-src https://x; script-src 'nonce-n'; connect-src 'none'; form-action 'none'; base-uri 'none'",
  );
});

test(
  "in a browser: the nonce'd script runs, inline script is blocked, hostile text stays text, messages pass the host check",
  { timeout: 120_000 },
  async (t) => {
    if (!fs.existsSync(CHROMIUM)) {
      t.skip(`no chromium at ${CHROMIUM} (Debian's chromium package; BIOHICL_E2E_CHROMIUM names another)`);
      return;
    }
    const { chromium } = await import('playwright-core');
    const origin = 'https://webview.test';
    const html = sidebarHtml({
      cspSource: origin,
      scriptUri: `${origin}/media/sidebar.js`,
      styleUri: `${origin}/media/sidebar.css`,
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu'],
    });
    try {
      const page = await browser.newPage();
      await page.route(`${origin}/**`, (route) => {
        const p = new URL(route.request().url()).pathname;
        if (p === '/') return route.fulfill({ contentType: 'text/html', body: html });
        if (p === '/media/sidebar.js')
          return route.fulfill({ contentType: 'text/javascript', body: read('media/sidebar.js') });
        if (p === '/media/sidebar.css')
          return route.fulfill({ contentType: 'text/css', body: read('media/sidebar.css') });
        return route.fulfill({ status: 404, body: '' });
      });
      // The VS Code webview API the script is given: what it posts is recorded.
      // (browser code is passed as text: the test runner's transform would add helpers the page does not have)
      await page.addInitScript({
        content: `
        window.__sent = [];
        window.__violations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.effectiveDirective));
        window.acquireVsCodeApi = () => ({
          postMessage: (m) => window.__sent.push(m),
          getState: () => undefined,
          setState: () => undefined,
        });`,
      });
      await page.goto(`${origin}/`);
      await page.waitForFunction("window.__sent.some((m) => m.type === 'ready')");

      const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
      const state: ViewState = {
        phase: 'results',
        results: {
          queryId: 1,
          query: `statins ${evil}`,
          ms: 5,
          status: { generated: false, notes: [`note ${evil}`], provider: 'cpu' },
          papers: [
            {
              pmid: '123',
              title: `Title ${evil}`,
              authors: [`Smith ${evil}`],
              journal: `J ${evil}`,
              year: 2020,
              doi: '10.1/x',
              score: 0.9,
              why: evil,
            },
          ],
          mesh: [
            {
              ui: 'D001',
              name: `Mesh ${evil}`,
              score: 0.5,
              breadcrumbs: [evil],
              entryTerms: [evil],
              url: 'https://meshb.nlm.nih.gov/record/ui?ui=D001',
            },
          ],
          sentences: [{ text: `Sentence ${evil}`, pmid: '123', title: evil, authors: [], score: 0.7 }],
        },
      };
      await page.evaluate(`window.postMessage(${JSON.stringify({ id: 1, type: 'state', state })}, '*')`);
      await page.waitForSelector('li.item');
      const dom = (await page.evaluate(`({
      imgs: document.querySelectorAll('img').length,
      scripts: document.querySelectorAll('script').length,
      pwned: window.__pwned,
      text: document.getElementById('app').textContent,
    })`)) as { imgs: number; scripts: number; pwned?: number; text: string };
      assert.equal(dom.imgs, 0, 'no element made from PubMed text');
      assert.equal(dom.scripts, 1, "only the page's own script");
      assert.equal(dom.pwned, undefined);
      assert.ok(dom.text.includes(`Title ${evil}`), 'the title is shown as the text it is');
      assert.ok(dom.text.includes(`Mesh ${evil}`));

      await page.getByRole('button', { name: /^Insert citation for Title/ }).click();
      await page.getByRole('button', { name: /^Open DOI 10\.1\/x/ }).click();
      const sent = (await page.evaluate('window.__sent')) as unknown[];
      assert.ok(sent.some((m) => (m as { type: string }).type === 'insertCitation'));
      for (const m of sent) assert.ok(checkWebviewMessage(m).ok, `the host refuses ${JSON.stringify(m)}`);
      assert.deepEqual((sent.at(-1) as { data: unknown }).data, { kind: 'doi', value: '10.1/x' });

      // An inline script added to the page does not run (script-src has only the nonce).
      const inline = (await page.evaluate(`(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.appendChild(s);
      await new Promise((r) => setTimeout(r, 50));
      return { ran: window.__inline, violations: window.__violations };
    })()`)) as { ran?: number; violations: string[] };
      assert.equal(inline.ran, undefined);
      assert.ok(
        inline.violations.includes('script-src-elem') || inline.violations.includes('script-src'),
        JSON.stringify(inline.violations),
      );
    } finally {
      await browser.close();
    }
  },
);

test('package.json contributions match the code: commands, menus, keybinding, view, settings', () => {
  const pkg = JSON.parse(read('package.json'));
  const c = pkg.contributes;
  const declared = new Set<string>(c.commands.map((x: { command: string }) => x.command));
  const registered = fs
    .readdirSync(path.join(ROOT, 'src', 'extension'))
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...read(`src/extension/${f}`).matchAll(/registerCommand\('([^']+)'/g)].map((m) => m[1]));
  assert.deepEqual([...declared].sort(), [...registered].sort(), 'every declared command is registered and vice versa');
  const used = [...c.keybindings, ...Object.values(c.menus).flat()].map((x) => (x as { command: string }).command);
  for (const u of used) assert.ok(declared.has(u), `menu/keybinding uses undeclared ${u}`);
  assert.ok(c.menus['editor/context'].some((m: { command: string }) => m.command === 'biohicl.findRelated'));
  assert.ok(c.keybindings.some((k: { command: string }) => k.command === 'biohicl.findRelated'));
  assert.equal(c.views.biohicl[0].id, 'biohicl.sidebar');
  assert.match(read('src/extension/sidebar.ts'), /viewType = 'biohicl\.sidebar'/);
  assert.ok(
    c.viewsContainers.activitybar.some(
      (v: { id: string; icon: string }) => v.id === 'biohicl' && fs.existsSync(path.join(ROOT, v.icon)),
    ),
  );
  const settings = new Set(Object.keys(c.configuration.properties));
  const readKeys = [...read('src/extension/config.ts').matchAll(/this\.c\.get(?:<[^>]+>)?\('([^']+)'/g)].map(
    (m) => `biohicl.${m[1]}`,
  );
  assert.ok(readKeys.length >= 14);
  for (const k of readKeys) assert.ok(settings.has(k), `Config reads ${k}, which package.json does not declare`);
  for (const k of settings) assert.ok(readKeys.includes(k), `package.json declares ${k}, which Config never reads`);
  assert.ok(
    /^\^1\.(\d+)\./.test(pkg.engines.vscode) && Number(/^\^1\.(\d+)/.exec(pkg.engines.vscode)![1]) <= 100,
    'engines.vscode ≤ 1.100 (code-server 4.100.3)',
  );
  assert.equal(pkg.main, './dist/extension.js');
});

test('package.json follows VS Code conventions: localized strings, setting scopes and descriptions, walkthrough, activation', () => {
  const raw = read('package.json');
  const pkg = JSON.parse(raw);
  const nls = JSON.parse(read('package.nls.json')) as Record<string, string>;
  // every %key% resolves, every key is used, and no command title or setting description is left untranslatable
  const refs = [...raw.matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]!);
  for (const r of refs) assert.ok(typeof nls[r] === 'string' && nls[r].length > 0, `package.nls.json lacks ${r}`);
  for (const k of Object.keys(nls)) assert.ok(refs.includes(k), `package.nls.json has unused ${k}`);
  const c = pkg.contributes;
  for (const cmd of c.commands) assert.match(cmd.title, /^%.+%$/, `${cmd.command}: title not in package.nls.json`);
  assert.equal(nls['command.findRelated'], 'Find related literature', 'the English titles stay as they were');
  const scopes = new Set([
    'application',
    'machine',
    'machine-overridable',
    'window',
    'resource',
    'language-overridable',
  ]);
  for (const [k, p] of Object.entries(c.configuration.properties) as [string, Record<string, unknown>][]) {
    assert.match(String(p.markdownDescription), /^%.+%$/, `${k}: markdownDescription from package.nls.json`);
    assert.equal(p.description, undefined, `${k}: markdownDescription only`);
    assert.ok(scopes.has(String(p.scope)), `${k}: scope ${String(p.scope)}`);
    if (Array.isArray(p.enum)) {
      const d = (p.markdownEnumDescriptions ?? p.enumDescriptions) as unknown[] | undefined;
      assert.equal(d?.length, p.enum.length, `${k}: one description per enum value`);
    }
  }
  // citation conventions belong to the manuscript's folder; model, index and device paths are window settings: a
  // machine scope would drop them from the user settings of a remote window (code-server, measured in the e2e suite)
  assert.equal(c.configuration.properties['biohicl.modelDir'].scope, 'window');
  assert.equal(c.configuration.properties['biohicl.citeCommand'].scope, 'resource');
  // walkthrough: four steps with their media, command links to declared commands, completion events
  const declared = new Set<string>(c.commands.map((x: { command: string }) => x.command));
  const [w] = c.walkthroughs;
  assert.deepEqual(
    w.steps.map((s: { id: string }) => s.id),
    ['model', 'index', 'find', 'cite'],
  );
  for (const s of w.steps) {
    assert.ok(fs.existsSync(path.join(ROOT, s.media.markdown)), s.media.markdown);
    assert.ok(s.completionEvents.length >= 1);
    const desc = nls[s.description.slice(1, -1)]!;
    for (const m of desc.matchAll(/\(command:([^)]+)\)/g))
      assert.ok(declared.has(m[1]!) || m[1] === 'biohicl.sidebar.focus', `walkthrough links ${m[1]}`);
  }
  // activation: the languages it serves and manuscript workspaces, not every Markdown file (commands and the view
  // activate it by themselves since VS Code 1.74)
  assert.ok(!pkg.activationEvents.includes('onLanguage:markdown'));
  assert.ok(!pkg.activationEvents.includes('*'));
  assert.ok(pkg.activationEvents.includes('onLanguage:latex'));
});

test('the webview: one live region that announces result counts only; Home/End; per-platform shortcut labels', () => {
  const doc = parseDocument(
    sidebarHtml({ cspSource: 'https://c.test', scriptUri: 'https://r.test/s.js', styleUri: 'https://r.test/s.css' }),
  );
  const byId = (id: string): Element | undefined =>
    DomUtils.findOne((e) => e.attribs.id === id, doc.children, true) ?? undefined;
  assert.equal(byId('app')?.attribs['aria-live'], undefined, 'the result list is not a live region');
  const live = DomUtils.findAll((e) => e.attribs['aria-live'] !== undefined, doc.children).map((e) => e.attribs.id);
  assert.deepEqual(live.sort(), ['announce', 'toast'], 'live regions: the counts and the toast only');
  assert.equal(byId('announce')?.attribs['aria-live'], 'polite');
  const js = read('media/sidebar.js');
  assert.match(js, /announce\.textContent = `\$\{count\(r\.papers\.length/);
  assert.match(js, /\['ArrowDown', 'ArrowUp', 'Home', 'End'\]/);
  assert.ok(!/\(Ctrl\+Alt\+R,/.test(js), 'the shortcut label is not hard-coded');
});
