// The sidebar webview's HTML: a strict CSP with a fresh nonce from a CSPRNG, the script and the stylesheet from
// media/ only, no inline script or style. No vscode import (the sidebar passes the webview's URIs as text), so it
// is tested on its own and in a real browser (test/unit/extension-webview.test.ts).
import * as crypto from 'node:crypto';

export interface SidebarPage {
  /** the webview's `cspSource` (the origin its resources are served from) */
  cspSource: string;
  /** webview URIs of media/sidebar.js and media/sidebar.css */
  scriptUri: string;
  styleUri: string;
  /** default: a fresh one from newNonce() */
  nonce?: string;
}

/** 18 random bytes from the CSPRNG, base64: a fresh script nonce per render. */
export function newNonce(): string {
  return crypto.randomBytes(18).toString('base64');
}

/** Text for a double-quoted HTML attribute. */
export function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Content-Security-Policy of the page: nothing but the nonce'd script and media/'s styles, images and fonts. */
export function sidebarCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `img-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function sidebarHtml(p: SidebarPage): string {
  const nonce = p.nonce ?? newNonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(sidebarCsp(p.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(p.styleUri)}">
<title>BioHiCL</title>
</head>
<body>
<div id="app"></div>
<div id="announce" class="sr-only" role="status" aria-live="polite" aria-atomic="true" data-testid="announce"></div>
<div id="toast" role="status" aria-live="polite" class="toast"></div>
<script nonce="${attr(nonce)}" src="${attr(p.scriptUri)}"></script>
</body>
</html>`;
}
