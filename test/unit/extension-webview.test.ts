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
  const registered = [
    ...(read('src/extension/controller.ts') + read('src/extension/completion.ts')).matchAll(
      /registerCommand\('([^']+)'/g,
    ),
  ].map((m) => m[1]);
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
