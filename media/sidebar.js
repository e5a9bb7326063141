// @ts-check
// BioHiCL sidebar (runs inside the webview). Every string that came from PubMed or MeSH is put into the DOM with
// textContent / createTextNode, never innerHTML. Messages follow src/extension/protocol.ts.
/** @typedef {import('../src/extension/protocol').HostMessage} HostMessage */
/** @typedef {import('../src/extension/protocol').WebviewMessage} WebviewMessage */
/** @typedef {import('../src/extension/protocol').WebviewRequests} WebviewRequests */
/** @typedef {import('../src/extension/protocol').ViewState} ViewState */
/** @typedef {import('../src/extension/protocol').ResultsView} ResultsView */
/** @typedef {import('../src/extension/protocol').PaperView} PaperView */
/** @typedef {import('../src/extension/protocol').MeshView} MeshView */
/** @typedef {import('../src/extension/protocol').SentenceView} SentenceView */
/** @typedef {import('../src/extension/protocol').EngineStatusView} EngineStatusView */
/** @typedef {import('../src/extension/protocol').CurrencyView} CurrencyView */

(function () {
  // @ts-expect-error -- provided by VS Code in webviews
  const vscode = acquireVsCodeApi();
  const app = /** @type {HTMLElement} */ (document.getElementById('app'));
  const toast = /** @type {HTMLElement} */ (document.getElementById('toast'));
  // The only live region for results: it announces their counts, not the lists (a screen reader would re-read them all)
  const announce = /** @type {HTMLElement} */ (document.getElementById('announce'));
  let announcedQuery = -1;
  let nextId = 1;
  /** @type {Map<number, HTMLButtonElement>} */
  const pending = new Map();
  /** @type {Map<string, HTMLElement>} */
  const abstractSlots = new Map();
  let renderedQuery = -1;

  /**
   * @template {keyof WebviewRequests} K
   * @param {K} type @param {WebviewRequests[K]} data @param {HTMLButtonElement} [button]
   */
  function send(type, data, button) {
    const id = nextId++;
    if (button) {
      pending.set(id, button);
      button.setAttribute('aria-busy', 'true');
    }
    vscode.postMessage(/** @type {WebviewMessage} */ ({ id, type, data }));
  }

  /**
   * Element helper: tag, class, text (always via textContent), attributes.
   * @param {string} tag @param {string} [cls] @param {string} [text] @param {Record<string,string>} [attrs]
   */
  function h(tag, cls, text, attrs) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined) el.textContent = text;
    if (attrs) for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  }

  /** @param {string} label @param {() => void} onClick @param {string} [aria] */
  function button(label, onClick, aria) {
    const b = /** @type {HTMLButtonElement} */ (h('button', 'btn', label, { type: 'button' }));
    if (aria) b.setAttribute('aria-label', aria);
    b.addEventListener('click', onClick);
    return b;
  }

  /** @param {string} label @param {() => void} onClick @param {string} aria */
  function link(label, onClick, aria) {
    const b = h('button', 'link', label, { type: 'button', 'aria-label': aria });
    b.addEventListener('click', onClick);
    return b;
  }

  /** @param {string} text */
  function showToast(text, isError = false) {
    toast.textContent = text;
    toast.classList.toggle('error', isError);
    toast.classList.add('shown');
    setTimeout(() => toast.classList.remove('shown'), 4000);
  }

  /** Keyboard shortcuts as the writer's platform names them (the webview runs on the machine of the UI). */
  function isMac() {
    return /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  }
  /** @param {string} keys e.g. 'Ctrl+Alt+R' (as package.json's "key"), shown as 'Cmd+Alt+R' on macOS */
  function shortcut(keys) {
    return isMac() ? keys.replace(/\bCtrl\b/g, 'Cmd').replace(/\bAlt\b/g, 'Option') : keys;
  }

  /** @param {string[]} authors */
  function authorLine(authors) {
    if (!authors.length) return '';
    return authors.length > 3 ? `${authors.slice(0, 3).join(', ')}, et al.` : authors.join(', ');
  }

  /** @param {number} score */
  function relevance(score) {
    const pct = Math.round(Math.max(0, Math.min(1, score)) * 100);
    const bar = h('div', 'bar', undefined, {
      role: 'meter',
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': String(pct),
      'aria-label': `Relevance ${pct}%`,
    });
    const fill = h('div', 'fill');
    fill.style.width = `${pct}%`; // CSSOM, allowed by the CSP (no inline style attribute)
    bar.appendChild(fill);
    return bar;
  }

  /** @param {EngineStatusView | undefined} s */
  function statusBlock(s) {
    const wrap = h('div', 'status-block');
    if (!s) return wrap;
    if (s.generated) {
      const banner = h('div', 'banner', undefined, { role: 'alert', 'data-testid': 'generated-banner' });
      banner.appendChild(h('strong', undefined, 'Generated weights in use. '));
      banner.appendChild(
        document.createTextNode(
          'The model has random weights: rankings carry no meaning. Run "BioHiCL: Fetch model" for real results.',
        ),
      );
      wrap.appendChild(banner);
    }
    const parts = [];
    if (s.provider) parts.push(`provider: ${s.provider}`);
    if (s.indexSize !== undefined) parts.push(`index: ${s.indexSize.toLocaleString('en-US')} papers`);
    if (s.model) parts.push(`model: ${s.model}`);
    if (s.indexModel && (!s.model || !s.model.startsWith(s.indexModel)))
      parts.push(`index built with: ${s.indexModel}`);
    if (parts.length)
      wrap.appendChild(h('div', 'meta status-line', parts.join(' · '), { 'data-testid': 'status-line' }));
    if (s.currency) wrap.appendChild(currencyBlock(s.currency));
    if (s.fallbackReason) wrap.appendChild(h('div', 'meta warn', `Fell back: ${s.fallbackReason}`));
    if (s.notes.length) {
      const d = h('details', 'notes');
      d.appendChild(h('summary', 'meta', 'About these results'));
      for (const n of s.notes) d.appendChild(h('div', 'meta note', n));
      wrap.appendChild(d);
    }
    return wrap;
  }

  /** How current the index is, with the command that brings it further. @param {CurrencyView} c */
  function currencyBlock(c) {
    const d = h('div', 'meta currency', undefined, { 'data-testid': 'currency', 'data-kind': c.kind });
    if (c.lastFile) d.setAttribute('data-last-file', c.lastFile);
    d.appendChild(h('span', 'currency-label', c.label));
    /** @type {'updateIndex' | 'getPubmedIndex'} */
    const command = c.kind === 'pubmed' ? 'updateIndex' : 'getPubmedIndex';
    const label = command === 'updateIndex' ? 'Update' : 'Get the PubMed index';
    d.appendChild(document.createTextNode(' '));
    const b = link(
      label,
      () => send('runCommand', { command }),
      command === 'updateIndex' ? 'Update the index from PubMed' : 'Get the PubMed index',
    );
    b.dataset['action'] = command;
    d.appendChild(b);
    for (const x of c.details) d.appendChild(h('div', 'currency-detail', x));
    return d;
  }

  /** @param {string} title @param {string} id @param {number} count */
  function section(title, id, count) {
    const sec = h('section', 'panel', undefined, { 'aria-labelledby': `${id}-h`, 'data-panel': id });
    const head = h('h2', undefined, undefined, { id: `${id}-h` });
    head.appendChild(document.createTextNode(title));
    head.appendChild(h('span', 'count', ` (${count})`));
    sec.appendChild(head);
    const list = h('ul', 'list', undefined, { role: 'list', 'aria-labelledby': `${id}-h` });
    sec.appendChild(list);
    return { sec, list };
  }

  /** @param {PaperView} p */
  function paperItem(p) {
    const li = h('li', 'item paper', undefined, { role: 'listitem', 'data-pmid': p.pmid });
    li.appendChild(relevance(p.score));
    li.appendChild(h('div', 'title', p.title));
    li.appendChild(
      h('div', 'meta', [authorLine(p.authors), p.journal, p.year ? String(p.year) : ''].filter(Boolean).join(' · ')),
    );
    if (p.best && p.best.text) {
      const q = h('blockquote', 'best');
      const { text, start, end } = p.best;
      const s = Math.max(0, Math.min(text.length, start));
      const e = Math.max(s, Math.min(text.length, end));
      q.appendChild(document.createTextNode(text.slice(0, s)));
      q.appendChild(h('mark', undefined, text.slice(s, e)));
      q.appendChild(document.createTextNode(text.slice(e)));
      li.appendChild(q);
    }
    if (p.why) li.appendChild(h('div', 'meta why', p.why));
    if (p.inBibliography) {
      const where = p.inBibliography.file ? ` in ${p.inBibliography.file}` : '';
      const badge = h('div', 'badge in-bib', undefined, { 'data-testid': 'in-bib', 'data-key': p.inBibliography.key });
      badge.appendChild(h('span', 'badge-label', `Already${where}`));
      badge.appendChild(document.createTextNode(' as '));
      badge.appendChild(h('code', undefined, p.inBibliography.key));
      li.appendChild(badge);
    } else if (p.inLibrary) {
      const badge = h('div', 'badge in-lib', undefined, { 'data-testid': 'in-library' });
      badge.appendChild(h('span', 'badge-label', `In your library (${p.inLibrary.file})`));
      if (p.inLibrary.key) {
        badge.appendChild(document.createTextNode(' as '));
        badge.appendChild(h('code', undefined, p.inLibrary.key));
      }
      li.appendChild(badge);
    }
    if (p.missing && p.missing.length) {
      li.appendChild(
        h(
          'div',
          'meta warn missing',
          `Incomplete record — no ${p.missing.join(', ')}: the reference will lack ${p.missing.length > 1 ? 'them' : 'it'}.`,
          { 'data-testid': 'missing', role: 'note' },
        ),
      );
    }
    const links = h('div', 'links');
    // Library items without a PMID are indexed under doi:… or key:… ids: no PubMed link for those.
    if (/^\d+$/.test(p.pmid))
      links.appendChild(
        link(
          `PMID ${p.pmid}`,
          () => send('openLink', { kind: 'pubmed', value: p.pmid }),
          `Open PubMed record ${p.pmid} in the browser`,
        ),
      );
    if (p.doi) {
      const doi = p.doi;
      links.appendChild(
        link(`DOI ${doi}`, () => send('openLink', { kind: 'doi', value: doi }), `Open DOI ${doi} in the browser`),
      );
    }
    li.appendChild(links);
    const actions = h('div', 'actions');
    const inBib = p.inBibliography;
    const cite = button(
      'Insert citation',
      () => send('insertCitation', { pmid: p.pmid }, cite),
      `Insert citation for ${p.title}${inBib ? ` (already in the bibliography as ${inBib.key})` : ''}${p.missing && p.missing.length ? ` (incomplete: no ${p.missing.join(', ')})` : ''}`,
    );
    cite.dataset['action'] = 'insert-citation';
    const bib = button('Copy BibTeX', () => send('copyBibtex', { pmid: p.pmid }, bib), `Copy BibTeX for ${p.title}`);
    const slot = h('div', 'abstract', undefined, { hidden: '', id: `abs-${p.pmid}` });
    const abs = button(
      'Show abstract',
      () => {
        const open = !slot.hidden;
        if (open) {
          slot.hidden = true;
          abs.textContent = 'Show abstract';
          abs.setAttribute('aria-expanded', 'false');
          return;
        }
        abs.setAttribute('aria-expanded', 'true');
        abs.textContent = 'Hide abstract';
        slot.hidden = false;
        if (!slot.textContent) {
          slot.textContent = 'Loading…';
          send('showAbstract', { pmid: p.pmid }, abs);
        }
      },
      `Show abstract of ${p.title}`,
    );
    abs.setAttribute('aria-expanded', 'false');
    abs.setAttribute('aria-controls', slot.id);
    abstractSlots.set(p.pmid, slot);
    actions.append(cite, bib, abs);
    li.appendChild(actions);
    li.appendChild(slot);
    return li;
  }

  /** @param {MeshView} m */
  function meshItem(m) {
    const li = h('li', 'item mesh', undefined, { role: 'listitem', 'data-ui': m.ui });
    li.appendChild(relevance(m.score));
    const name = h('div', 'title', m.name);
    if (m.entryTerms.length) name.title = `Entry terms: ${m.entryTerms.join('; ')}`;
    li.appendChild(name);
    if (m.entryTerms.length) li.appendChild(h('span', 'sr-only', `Entry terms: ${m.entryTerms.join('; ')}`));
    li.appendChild(h('div', 'meta', `${m.ui} · score ${m.score.toFixed(2)}`));
    for (const b of m.breadcrumbs.slice(0, 2)) li.appendChild(h('div', 'crumb', b));
    const actions = h('div', 'actions');
    const kw = button(
      'Insert as keyword',
      () => send('insertKeyword', { ui: m.ui, name: m.name }, kw),
      `Insert ${m.name} as keyword`,
    );
    actions.appendChild(kw);
    actions.appendChild(
      link('MeSH Browser', () => send('openLink', { kind: 'mesh', value: m.ui }), `Open ${m.name} in the MeSH Browser`),
    );
    li.appendChild(actions);
    return li;
  }

  /** @param {SentenceView} s */
  function sentenceItem(s) {
    const li = h('li', 'item sentence', undefined, { role: 'listitem', 'data-pmid': s.pmid });
    li.appendChild(relevance(s.score));
    li.appendChild(h('blockquote', 'best', s.text));
    li.appendChild(
      h(
        'div',
        'meta',
        [authorLine(s.authors.slice(0, 1)), s.year ? String(s.year) : '', s.title].filter(Boolean).join(' · '),
      ),
    );
    const actions = h('div', 'actions');
    const ins = button(
      'Insert with citation',
      () => send('insertSentence', { pmid: s.pmid, text: s.text }, ins),
      'Insert this sentence with its citation',
    );
    const copy = button('Copy', () => send('copyText', { text: s.text }, copy), 'Copy this sentence');
    actions.append(ins, copy);
    li.appendChild(actions);
    return li;
  }

  /** @param {number} n @param {string} what */
  function count(n, what) {
    return `${n} ${what}${n === 1 ? '' : 's'}`;
  }

  /** @param {ViewState} state */
  function render(state) {
    vscode.setState(state);
    abstractSlots.clear();
    if (state.phase !== 'results' || state.results.queryId !== renderedQuery) window.scrollTo(0, 0);
    renderedQuery = state.phase === 'results' ? state.results.queryId : -1;
    toast.classList.remove('shown');
    app.replaceChildren();
    app.removeAttribute('aria-busy');
    const status = state.phase === 'results' ? state.results.status : state.status;
    app.appendChild(statusBlock(status));
    if (state.phase === 'idle') {
      const empty = h('div', 'empty', undefined, { 'data-testid': 'empty' });
      empty.appendChild(
        h(
          'p',
          undefined,
          `Select a sentence or paragraph in your manuscript, then run “BioHiCL: Find related literature” (${shortcut('Ctrl+Alt+R')}, or the editor context menu).`,
        ),
      );
      empty.appendChild(h('p', 'meta', 'Everything runs on this computer: your text never leaves it.'));
      app.appendChild(empty);
      return;
    }
    if (state.phase === 'loading') {
      app.setAttribute('aria-busy', 'true');
      const l = h('div', 'loading', undefined, { role: 'status', 'data-testid': 'loading' });
      l.appendChild(h('div', 'spinner', undefined, { 'aria-hidden': 'true' }));
      l.appendChild(h('span', undefined, 'Searching the local index…'));
      app.appendChild(l);
      app.appendChild(h('div', 'meta query', state.query));
      return;
    }
    if (state.phase === 'error') {
      const e = h('div', 'error', undefined, { role: 'alert', 'data-testid': 'error' });
      e.appendChild(h('strong', undefined, 'Something went wrong. '));
      e.appendChild(document.createTextNode(state.message));
      if (state.detail) e.appendChild(h('pre', 'detail', state.detail));
      const actions = h('div', 'actions');
      for (const a of state.actions ?? []) {
        const b = button(a.label, () => send('errorAction', { command: a.command }, b));
        b.dataset['action'] = a.command;
        actions.append(b);
      }
      actions.append(
        button('Retry', () => send('rerun', {})),
        button('Show logs', () => send('showLogs', {})),
      );
      e.appendChild(actions);
      app.appendChild(e);
      return;
    }
    const r = state.results;
    if (r.queryId !== announcedQuery) {
      announcedQuery = r.queryId;
      announce.textContent = `${count(r.papers.length, 'related paper')}, ${count(r.mesh.length, 'MeSH term')}, ${count(r.sentences.length, 'similar sentence')}.`;
    }
    app.appendChild(
      h(
        'div',
        'meta query results-query',
        `“${r.query.length > 160 ? r.query.slice(0, 160) + '…' : r.query}” · ${r.ms} ms`,
      ),
    );
    const papers = section('Related papers', 'papers', r.papers.length);
    if (!r.papers.length) papers.list.appendChild(h('li', 'empty', 'No related papers in the index.'));
    for (const p of r.papers) papers.list.appendChild(paperItem(p));
    const pending = r.pending ?? [];
    if (pending.includes('ranking'))
      papers.sec.insertBefore(
        h('p', 'meta pending', 'Full-text order; the ranking with the model follows.', {
          'data-testid': 'ranking-pending',
        }),
        papers.list,
      );
    const mesh = section('MeSH terms', 'mesh', r.mesh.length);
    if (pending.includes('mesh')) {
      app.setAttribute('aria-busy', 'true');
      const l = h('li', 'empty pending', undefined, { 'data-testid': 'mesh-pending' });
      l.appendChild(h('span', 'spinner small', undefined, { 'aria-hidden': 'true' }));
      l.appendChild(h('span', undefined, 'Finding MeSH terms…'));
      mesh.list.appendChild(l);
    } else if (!r.mesh.length) mesh.list.appendChild(h('li', 'empty', 'No MeSH suggestions.'));
    for (const m of r.mesh) mesh.list.appendChild(meshItem(m));
    const sents = section('Similar sentences', 'sentences', r.sentences.length);
    // Where they came from (the sentence index, or the best papers' abstracts embedded now): text, never markup.
    if (r.sentenceScope)
      sents.sec.insertBefore(h('p', 'meta scope', r.sentenceScope, { 'data-testid': 'sentence-scope' }), sents.list);
    if (!r.sentences.length) sents.list.appendChild(h('li', 'empty', 'No similar sentences.'));
    for (const s of r.sentences) sents.list.appendChild(sentenceItem(s));
    app.append(papers.sec, mesh.sec, sents.sec);
  }

  // Up/Down move between items of a list; Home/End to the first/last (buttons stay reachable with Tab).
  app.addEventListener('keydown', (ev) => {
    const t = /** @type {HTMLElement} */ (ev.target);
    const item = t.closest('li.item');
    if (!item || !['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(ev.key)) return;
    const list = item.parentElement;
    const sib = /** @type {HTMLElement | null} */ (
      ev.key === 'ArrowDown'
        ? item.nextElementSibling
        : ev.key === 'ArrowUp'
          ? item.previousElementSibling
          : ev.key === 'Home'
            ? (list?.querySelector(':scope > li.item') ?? null)
            : (list?.querySelector(':scope > li.item:last-of-type') ?? null)
    );
    const target = sib && /** @type {HTMLElement | null} */ (sib.querySelector('button'));
    if (target) {
      target.focus();
      ev.preventDefault();
    }
  });

  window.addEventListener('message', (ev) => {
    const m = /** @type {HostMessage} */ (ev.data);
    if (!m || typeof m !== 'object') return;
    if (m.type === 'state') render(m.state);
    else if (m.type === 'abstract') {
      const slot = abstractSlots.get(m.pmid);
      if (slot) slot.textContent = m.abstract || '(no abstract)';
    } else if (m.type === 'reply') {
      const b = pending.get(m.id);
      pending.delete(m.id);
      if (b) b.removeAttribute('aria-busy');
      if (m.ok && m.message) showToast(m.message);
      if (!m.ok) showToast(m.error, true);
    }
  });

  const saved = /** @type {ViewState | undefined} */ (vscode.getState());
  if (saved) render(saved);
  send('ready', {});
})();
