// The webview script and the extension manifest: the script type-checks against the host↔webview protocol, never
// turns data into HTML, and the package.json contributions agree with the code (commands, view, settings).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (p: string): string => fs.readFileSync(path.join(ROOT, p), 'utf8');

test('media/sidebar.js type-checks against src/extension/protocol.ts (tsc, checkJs, DOM lib)', () => {
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'media', 'tsconfig.json')],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `tsc on the webview script:\n${r.stdout}${r.stderr}`);
});

test('the webview script builds the DOM with textContent only: no HTML sinks, no eval', () => {
  const js = read('media/sidebar.js').replace(/^\s*\/\/.*$/gm, '');
  for (const sink of [
    'innerHTML',
    'outerHTML',
    'insertAdjacentHTML',
    'document.write',
    'eval(',
    'new Function',
    "setAttribute('on",
    'srcdoc',
    'href',
  ]) {
    assert.ok(!js.includes(sink), `media/sidebar.js uses ${sink}`);
  }
  assert.match(js, /textContent/);
});

test('the webview HTML: CSP with a crypto nonce, scripts and styles only from media/, no inline script', () => {
  const ts = read('src/extension/sidebar.ts');
  assert.match(ts, /crypto\.randomBytes\(/);
  assert.ok(!/Math\.random/.test(ts));
  assert.match(ts, /default-src 'none'/);
  assert.match(ts, /script-src 'nonce-\$\{nonce\}'/);
  assert.match(ts, /localResourceRoots: \[media\]/);
  const scripts = ts.match(/<script[^>]*>[^<]*<\/script>/g) ?? [];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0] ?? '', /^<script nonce="\$\{nonce\}" src="\$\{script\.toString\(\)\}"><\/script>$/);
  assert.ok(!/style="/.test(ts), 'no inline style attribute (the CSP has no unsafe-inline)');
});

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
  const ts = read('src/extension/sidebar.ts');
  assert.match(ts, /<div id="app"><\/div>/, 'the result list is not a live region');
  assert.match(ts, /id="announce"[^>]*aria-live="polite"/);
  const js = read('media/sidebar.js');
  assert.match(js, /announce\.textContent = `\$\{count\(r\.papers\.length/);
  assert.match(js, /\['ArrowDown', 'ArrowUp', 'Home', 'End'\]/);
  assert.ok(!/\(Ctrl\+Alt\+R,/.test(js), 'the shortcut label is not hard-coded');
});
