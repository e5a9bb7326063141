import * as vscode from 'vscode';
export function activate(_ctx: vscode.ExtensionContext): void {}
export function deactivate(): void {}
