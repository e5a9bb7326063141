// The VS Code client's user-visible strings go through vscode.l10n.t (VS Code's l10n guide): checked on the sources
// with the TypeScript compiler API, no VS Code needed. Every l10n.t call has a literal message whose {n} placeholders
// are 0..k-1 without gaps, k being the number of values passed; no notification, progress title, QuickPick/InputBox
// title, placeholder or prompt is a raw string or template literal.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const DIR = path.resolve(__dirname, '..', '..', 'src', 'extension');
const files = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => {
    const file = path.join(DIR, f);
    return ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  });

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((c) => walk(c, visit));
}

function where(n: ts.Node): string {
  const sf = n.getSourceFile();
  const { line } = sf.getLineAndCharacterOfPosition(n.getStart());
  return `${path.basename(sf.fileName)}:${line + 1}`;
}

/** `l10n.t(…)`, `vscode.l10n.t(…)` */
function isL10nCall(n: ts.Node): n is ts.CallExpression {
  if (!ts.isCallExpression(n) || !ts.isPropertyAccessExpression(n.expression)) return false;
  const e = n.expression;
  if (e.name.text !== 't') return false;
  const o = e.expression;
  return (ts.isIdentifier(o) && o.text === 'l10n') || (ts.isPropertyAccessExpression(o) && o.name.text === 'l10n');
}

const isRawText = (n: ts.Node | undefined): boolean =>
  !!n && (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateExpression(n));

/** The placeholder numbers a message names, each once. */
export function placeholders(message: string): number[] {
  return [...new Set([...message.matchAll(/\{(\d+)\}/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
}

describe('l10n: placeholders', () => {
  it('finds each numbered placeholder once, sorted', () => {
    assert.deepEqual(placeholders('Indexed {1} of {0} files in {1}'), [0, 1]);
    assert.deepEqual(placeholders('no values'), []);
    assert.deepEqual(placeholders('{name} is not numbered'), []);
  });
});

describe('l10n: the VS Code client', () => {
  it('has l10n.t calls at all (the walk sees them)', () => {
    let n = 0;
    for (const sf of files) walk(sf, (x) => void (isL10nCall(x) && n++));
    assert.ok(n > 50, `only ${n} l10n.t calls found`);
  });

  it('every l10n.t call: a literal message, placeholders 0..k-1 without gaps, k values passed', () => {
    const bad: string[] = [];
    for (const sf of files)
      walk(sf, (n) => {
        if (!isL10nCall(n)) return;
        const [msg, ...values] = n.arguments;
        if (!msg || !(ts.isStringLiteral(msg) || ts.isNoSubstitutionTemplateLiteral(msg))) {
          bad.push(`${where(n)}: the message is not a string literal`);
          return;
        }
        // the object form l10n.t({ message, args, comment }) is not used here; the args form must be numbered
        const got = placeholders(msg.text);
        const want = values.map((_, i) => i);
        if (got.join() !== want.join())
          bad.push(`${where(n)}: placeholders {${got.join('},{')}} but ${values.length} value(s): ${msg.text}`);
      });
    assert.deepEqual(bad, []);
  });

  it('no showInformation/Warning/ErrorMessage with a raw string or template literal as its message', () => {
    const bad: string[] = [];
    for (const sf of files)
      walk(sf, (n) => {
        if (!ts.isCallExpression(n) || !ts.isPropertyAccessExpression(n.expression)) return;
        const name = n.expression.name.text;
        if (!/^show(Information|Warning|Error)Message$/.test(name) && name !== 'setStatusBarMessage') return;
        if (isRawText(n.arguments[0])) bad.push(`${where(n)}: ${name}(${n.arguments[0]!.getText().slice(0, 60)}`);
        // the buttons: literal labels are not translated either
        for (const a of n.arguments.slice(1)) if (isRawText(a)) bad.push(`${where(a)}: button ${a.getText()}`);
      });
    assert.deepEqual(bad, []);
  });

  it('no raw literal as a title, placeholder, prompt or open label the writer sees', () => {
    const keys = new Set(['title', 'placeHolder', 'placeholder', 'prompt', 'openLabel']);
    const bad: string[] = [];
    for (const sf of files)
      walk(sf, (n) => {
        // { title: '…' } in withProgress / showQuickPick / showInputBox / showOpenDialog options
        if (ts.isPropertyAssignment(n) && ts.isIdentifier(n.name) && keys.has(n.name.text) && isRawText(n.initializer))
          bad.push(`${where(n)}: ${n.getText().slice(0, 70)}`);
        // qp.title = '…'
        if (
          ts.isBinaryExpression(n) &&
          n.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
          ts.isPropertyAccessExpression(n.left) &&
          keys.has(n.left.name.text) &&
          isRawText(n.right)
        )
          bad.push(`${where(n)}: ${n.getText().slice(0, 70)}`);
      });
    assert.deepEqual(bad, []);
  });
});
