// "Get the PubMed index", "Update the index" and how current the index is, at the engine (src/app/engine.ts,
// no vscode) against the real parts: PubMed-format files made from the real MEDLINE sample (test/fixtures/nlm-mirror.ts),
// a generated tiny model in the inference worker, an NLM-like mirror and a release server on 127.0.0.1 (real HTTP),
// a real release published from the index. Also describeCurrency's wording (src/index/currency.ts) and a model whose
// files differ from its manifest becoming an actionable problem.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Engine, EngineProblem, type EngineOptions } from '../../src/app/engine';
import { describeCurrency } from '../../src/index/currency';
import { ensureGeneratedModel } from '../../src/index/model';
import { publishRelease } from '../../src/release/publish';
import { serveFolder, type StaticServer } from '../../src/release/serve';
import { layoutFor } from '../../src/release/pull';
import {
  makeNlmFiles,
  revisedTitleSuffix,
  serveNlmMirror,
  type NlmFiles,
  type NlmMirror,
} from '../fixtures/nlm-mirror';

const logs: string[] = [];
const logger = {
  info: (m: string) => logs.push(m),
  warn: (m: string) => logs.push(m),
  error: (m: string) => logs.push(m),
};
let dir = '';
let model = '';
let nlm: NlmFiles;
let mirror: NlmMirror;
let server: StaticServer;
const engines: Engine[] = [];
const today = new Date().toISOString().slice(0, 10);

function engine(o: Partial<EngineOptions>): Engine {
  const e = new Engine(
    {
      modelDir: model,
      indexDir: path.join(dir, 'index'),
      device: 'cpu',
      threads: 1,
      queryPrefix: true,
      pubmedDir: path.join(dir, 'pubmed'),
      ...o,
    },
    logger,
  );
  engines.push(e);
  return e;
}
const never = new AbortController().signal;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-currency-'));
  model = path.join(dir, 'tiny');
  await ensureGeneratedModel(model, 'tiny');
  nlm = await makeNlmFiles(path.join(dir, 'nlm'));
  // the mirror lists the first two baseline files and both update files
  mirror = await serveNlmMirror({ baseline: nlm.baseline.slice(0, 2), updates: nlm.updates });
  fs.mkdirSync(path.join(dir, 'pub'));
  server = await serveFolder(path.join(dir, 'pub'));
});

after(async () => {
  for (const e of engines) await e.dispose();
  await mirror?.close();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('describeCurrency: PubMed files by NLM order, the release and what came after it, own files, interrupted files', () => {
  const row = (name: string, status: 'complete' | 'started' | 'rejects', at: string) => ({
    name,
    path: `/d/${name}`,
    status,
    updated_at: at,
  });
  const c = describeCurrency({
    files: [
      row('pubmed26n0002.xml.gz', 'complete', '2026-11-01T10:00:00Z'),
      row('pubmed26n0010.xml.gz', 'complete', '2026-12-01T08:00:00Z'),
      row('pubmed26n0009.xml.gz', 'complete', '2026-11-30T08:00:00Z'),
      row('pubmed26n0011.xml.gz', 'started', '2026-12-02T08:00:00Z'),
      row('mine.bib', 'complete', '2026-12-01T09:00:00Z'),
    ],
    release: { tag: 'r1', version: 3, at: '2026-11-15T00:00:00Z' },
    releaseFile: { tag: 'r1', pubmed: { last: 'pubmed26n0009.xml.gz' } },
  });
  assert.equal(c.kind, 'pubmed');
  assert.equal(c.label, 'PubMed through pubmed26n0010 (applied 2026-12-01)');
  assert.equal(c.lastFile, 'pubmed26n0010.xml.gz');
  assert.deepEqual(c.sinceRelease, ['pubmed26n0010.xml.gz']);
  assert.equal(c.pubmedFiles, 3);
  assert.equal(c.ownFiles, 1);
  assert.deepEqual(c.interrupted, ['pubmed26n0011.xml.gz']);
  assert.deepEqual(c.details, [
    'from release r1 (2026-11-15), then 1 update file applied here: pubmed26n0010',
    'and 1 file of your own',
    'interrupted: pubmed26n0011 (running the same command again resumes it)',
  ]);
  // no release.json: files applied after the release's time count as applied since
  assert.deepEqual(
    describeCurrency({
      files: [
        row('pubmed26n0002.xml.gz', 'complete', '2026-11-01T10:00:00Z'),
        row('pubmed26n0009.xml.gz', 'complete', '2026-11-30T08:00:00Z'),
      ],
      release: { tag: 'r1', version: 3, at: '2026-11-15T00:00:00Z' },
    }).sinceRelease,
    ['pubmed26n0009.xml.gz'],
  );
  // a file applied with rejected records counts as applied, and says so
  const rj = describeCurrency({
    files: [
      row('pubmed26n0001.xml.gz', 'complete', '2026-11-01T00:00:00Z'),
      row('pubmed26n0002.xml.gz', 'rejects', '2026-11-02T00:00:00Z'),
    ],
  });
  assert.equal(rj.label, 'PubMed through pubmed26n0002 (applied 2026-11-02)');
  assert.deepEqual(rj.withRejects, ['pubmed26n0002.xml.gz']);
  assert.deepEqual(rj.interrupted, []);
  assert.deepEqual(rj.details, [
    'some records of pubmed26n0002 were rejected (see the rejects report); the next update reads it again',
  ]);
  // a file that failed once and completed later is not interrupted
  assert.deepEqual(
    describeCurrency({
      files: [
        { ...row('pubmed26n0003.xml.gz', 'started', '2026-11-01T00:00:00Z'), path: '/a/pubmed26n0003.xml.gz' },
        { ...row('pubmed26n0003.xml.gz', 'complete', '2026-11-02T00:00:00Z'), path: '/b/pubmed26n0003.xml.gz' },
      ],
    }).interrupted,
    [],
  );
  const own = describeCurrency({
    files: [row('a.nbib', 'complete', '2026-12-01T00:00:00Z'), row('b.bib', 'rejects', '2026-12-01T00:00:00Z')],
  });
  assert.equal(own.kind, 'own');
  assert.equal(own.label, 'Your own files only');
  assert.deepEqual(own.details, ['2 files, no PubMed baseline or update file']);
  assert.equal(
    describeCurrency({ files: [], release: { tag: 'r9', version: 1, at: '2026-10-01T00:00:00Z' } }).label,
    'Release r9 (2026-10-01)',
  );
  assert.equal(describeCurrency({ files: [] }).kind, 'empty');
});

test(
  'an index of PubMed baseline files says how current it is; Update the index fetches and applies the update files (revised titles, deletions); a rerun applies nothing',
  { timeout: 240_000 },
  async () => {
    const e = engine({});
    await e.buildIndex(nlm.baseline.slice(0, 2), () => undefined, never);
    let c = await e.indexCurrency();
    assert.equal(c.kind, 'pubmed');
    assert.equal(c.label, `PubMed through pubmed26n0002 (applied ${today})`);
    const st = await e.statusWithIndex();
    assert.equal(st.currency?.label, c.label);
    assert.equal(st.currency?.lastFile, 'pubmed26n0002');

    const steps: { m: string; f?: number }[] = [];
    const r = await e.updateIndex(mirror.url, (m, f) => steps.push({ m, f }), never);
    assert.deepEqual(r.applied, ['pubmed26n0009.xml.gz', 'pubmed26n0010.xml.gz']);
    assert.equal(r.after, 'pubmed26n0002.xml.gz');
    assert.match(r.message, /^Applied pubmed26n0009, pubmed26n0010\. Index updated: \d+ added, \d+ updated/);
    assert.ok(
      steps.some((s) => /downloading update files/.test(s.m)) && steps.some((s) => /applying 2 update files/.test(s.m)),
      steps.map((s) => s.m).join('\n'),
    );
    const fr = steps.map((s) => s.f).filter((f): f is number => f !== undefined);
    assert.ok(
      fr.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= fr[i - 1]! - 1e-9)),
      `fractions rise within 0..1: ${fr.join(' ')}`,
    );
    assert.ok(
      fs.existsSync(path.join(dir, 'pubmed', 'updatefiles', 'pubmed26n0010.xml.gz')),
      "update files kept in the engine's pubmed folder",
    );
    c = await e.indexCurrency();
    assert.equal(c.label, `PubMed through pubmed26n0010 (applied ${today})`);
    // the sidebar answers from the new version: a revised title, a deleted paper gone
    const indexed = new Set(nlm.allPmids.slice(0, 152));
    const revised = nlm.revisedPmids.find((p) => indexed.has(p))!;
    const paper = await e.paper(revised);
    assert.ok(paper?.title.endsWith(revisedTitleSuffix('pubmed26n0009.xml.gz')), paper?.title);
    const q = await e.query(paper!.title.replace(revisedTitleSuffix('pubmed26n0009.xml.gz'), ''), {
      papers: 5,
      mesh: 0,
      sentences: 0,
    });
    assert.ok(
      q?.papers.some((p) => p.pmid === revised && p.title === paper!.title),
      'the query returns the revised title',
    );
    assert.equal(q?.status.currency?.lastFile, 'pubmed26n0010');
    const gone = nlm.deletedPmids.find((p) => indexed.has(p))!;
    assert.equal(await e.paper(gone), undefined, 'DeleteCitation applied');
    // again: nothing new on the mirror
    const before = mirror.log.length;
    const again = await e.updateIndex(mirror.url, () => undefined, never);
    assert.deepEqual(again.applied, []);
    assert.match(again.message, /^The index is current: PubMed through pubmed26n0010;/);
    assert.ok(!mirror.log.slice(before).some((l) => /\.xml\.gz$/.test(l.path)), 'no update file downloaded again');
  },
);

test(
  "Update the index on an index of the writer's own files only: the way out is Get the PubMed index",
  { timeout: 120_000 },
  async () => {
    const own = path.join(dir, 'own.medline.txt');
    fs.copyFileSync(path.resolve(__dirname, '..', 'fixtures', 'pubmed', 'biopython', 'pubmed_result1.txt'), own);
    const e = engine({ indexDir: path.join(dir, 'own-index') });
    await e.buildIndex([own], () => undefined, never);
    assert.equal((await e.indexCurrency()).label, 'Your own files only');
    await assert.rejects(
      e.updateIndex(mirror.url, () => undefined, never),
      (err: Error) =>
        err instanceof EngineProblem && err.action === 'getPubmedIndex' && /holds no PubMed baseline/.test(err.message),
    );
  },
);

test(
  'Get the PubMed index: size before the download, only complete and verified, then the sidebar answers from it; a refused release names the folder of its model; a cancelled pull leaves the old index answering',
  { timeout: 300_000 },
  async () => {
    await publishRelease({ index: path.join(dir, 'index'), out: path.join(dir, 'pub', 'r1'), tag: 'r1' });
    const local = path.join(dir, 'pulled');
    const e = engine({ indexDir: local });
    const rel = await e.peekRelease(`${server.url}r1/`);
    assert.equal(rel.tag, 'r1');
    assert.ok(rel.totalBytes > 0 && rel.files > 0);
    assert.equal(rel.pubmedLast, 'pubmed26n0010.xml.gz');
    const phases = new Set<string>();
    let lastBytes = 0;
    const r = await e.pullIndex(`${server.url}r1/`, {
      summary: rel,
      onProgress: (p) => {
        phases.add(p.phase);
        if (p.phase === 'download') lastBytes = p.bytes;
      },
    });
    assert.equal(r.status, 'switched');
    assert.equal(r.receivedBytes, rel.totalBytes);
    assert.equal(lastBytes, rel.totalBytes);
    for (const ph of ['plan', 'download', 'verify', 'open', 'switch'])
      assert.ok(phases.has(ph), `phase ${ph} reported`);
    assert.ok(fs.lstatSync(local).isSymbolicLink());
    const c = await e.indexCurrency();
    assert.equal(c.label, `PubMed through pubmed26n0010 (applied ${today})`);
    assert.deepEqual(c.release && { tag: c.release.tag, last: c.release.last }, {
      tag: 'r1',
      last: 'pubmed26n0010.xml.gz',
    });
    assert.deepEqual(c.details, [`from release r1 (${today})`]);
    const q = await e.query('myocardial infarction', { papers: 3, mesh: 0, sentences: 0 });
    assert.ok(q && q.papers.length > 0, 'the pulled index answers');
    assert.equal(q.status.currency?.release, 'r1');

    // another model: refused before anything is written, with the folder on this computer that holds the release's model
    const other = path.join(dir, 'tiny-other');
    await ensureGeneratedModel(other, 'tiny');
    const fresh = path.join(dir, 'pulled-other');
    const eo = engine({ indexDir: fresh, modelDir: other });
    await assert.rejects(eo.pullIndex(`${server.url}r1/`, { modelCandidates: [other, model] }), (err: Error) => {
      assert.ok(err instanceof EngineProblem, String(err));
      assert.equal(err.action, 'releaseModel');
      assert.equal(err.info.matchingModelDir, model);
      assert.match(
        err.message,
        /The release r1 was built with generated:tiny .*Nothing was downloaded: there is no index at .*use the model folder/s,
      );
      return true;
    });
    assert.ok(!fs.existsSync(fresh) && !fs.existsSync(layoutFor(fresh).root), 'nothing written');

    // a second release, pulled slowly and cancelled mid-way: the old index keeps answering, nothing switched
    const src = engine({ indexDir: path.join(dir, 'index') });
    await src.buildIndex([nlm.baseline[2]!], () => undefined, never);
    await publishRelease({ index: path.join(dir, 'index'), out: path.join(dir, 'pub', 'r2'), tag: 'r2' });
    const target = fs.realpathSync(local);
    server.faults.bytesPerSecond = 40_000;
    const ac = new AbortController();
    try {
      await assert.rejects(
        e.pullIndex(`${server.url}r2/`, {
          signal: ac.signal,
          onProgress: (p) => {
            if (p.phase === 'download' && p.bytes > 0) ac.abort();
          },
        }),
      );
    } finally {
      server.faults.bytesPerSecond = undefined;
    }
    assert.ok(ac.signal.aborted, 'the download had started when it was cancelled');
    assert.equal(fs.realpathSync(local), target, 'still the old release');
    const q2 = await e.query('myocardial infarction', { papers: 3, mesh: 0, sentences: 0 });
    assert.ok(q2 && q2.papers.length > 0, 'the old index answers');
    assert.equal(q2.status.currency?.release, 'r1');
    // and the next pull resumes and switches
    const r2 = await e.pullIndex(`${server.url}r2/`);
    assert.equal(r2.status, 'switched');
    assert.equal((await e.indexCurrency()).release?.tag, 'r2');
  },
);

test(
  'a model file that differs from its manifest is an EngineProblem with "Make the model again", not a raw load error',
  { timeout: 120_000 },
  async () => {
    const damaged = path.join(dir, 'damaged');
    fs.cpSync(model, damaged, { recursive: true });
    const onnx = fs.readdirSync(damaged).filter((f) => f.endsWith('.onnx'));
    assert.ok(onnx.length > 0);
    for (const f of onnx) {
      const p = path.join(damaged, f);
      const b = fs.readFileSync(p);
      b[b.length - 1] ^= 0xff;
      fs.writeFileSync(p, b);
    }
    const e = engine({ modelDir: damaged });
    await assert.rejects(e.query('myocardial infarction', { papers: 3, mesh: 0, sentences: 0 }), (err: Error) => {
      assert.ok(err instanceof EngineProblem, `${err.name}: ${err.message}`);
      assert.equal(err.action, 'remakeModel');
      assert.equal(err.info.modelDir, damaged);
      assert.match(
        err.message,
        /^The model in .*damaged is damaged: a file differs from its manifest \(model(\.int8)?\.onnx does not match it\)\. Nothing was loaded from it\. Make the model again/,
      );
      assert.match(err.info.raw ?? '', /does not match the model manifest/);
      assert.match(err.info.raw ?? '', /biohicl model generate --shape tiny/);
      return true;
    });
  },
);
