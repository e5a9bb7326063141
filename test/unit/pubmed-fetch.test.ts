// `biohicl pubmed fetch` against a real HTTP server on 127.0.0.1 laid out like ftp.ncbi.nlm.nih.gov/pubmed/
// (test/fixtures/nlm-mirror.ts: Apache index pages, .md5 siblings, Range), serving files built from the real MEDLINE
// file data/demo/medline16n0902.xml.gz. Every fault names the file and leaves the verified files as they were.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  makeNlmFiles,
  serveNlmMirror,
  revisedTitleSuffix,
  changedCopy,
  apacheSize,
  type NlmFiles,
  type NlmMirror,
} from '../fixtures/nlm-mirror';
import { readCitations } from '../../src/index/readers';
import type { Citation } from '../../src/index/citation';
import {
  fetchPubmed,
  readVerified,
  verifiedFiles,
  PubmedFetchError,
  selectFiles,
  LOCK_FILE,
  type FetchSummary,
} from '../../src/pubmed/fetch';
import {
  nlmFileOrder,
  parseListing,
  parseMd5,
  parseNlmFileName,
  compareNlmFiles,
  apacheSizeToBytes,
  NLM_MIRROR,
} from '../../src/pubmed/nlm';
import { download, ContentError } from '../../src/net/download';
import { gzipPubmedCheck } from '../../src/pubmed/gzip-check';
import { hashBytes, hashFile } from '../../src/util/hash';

const ROOT = path.resolve(__dirname, '..', '..');
let tmp = '';
let nlm: NlmFiles;
let n = 0;
const outDir = (): string => path.join(tmp, `out${n++}`);
const names = (files: string[]): string[] => files.map((f) => path.basename(f));
const md5Of = (f: string): string => hashBytes(fs.readFileSync(f), 'md5');

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'biohicl-pubmed-'));
  nlm = await makeNlmFiles(path.join(tmp, 'nlm'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A fresh mirror per test (faults are per server), closed afterwards. */
async function withMirror<T>(opts: Parameters<typeof serveNlmMirror>[1], f: (m: NlmMirror) => Promise<T>): Promise<T> {
  const m = await serveNlmMirror(nlm, opts);
  try {
    return await f(m);
  } finally {
    await m.close();
  }
}

/** Name → [mtimeMs, md5] of the verified files of a folder. */
function snapshot(dir: string): Map<string, [number, string]> {
  return new Map(verifiedFiles(dir).map((f) => [f.name, [fs.statSync(f.path).mtimeMs, md5Of(f.path)]]));
}

function assertServedCopy(m: NlmMirror, dir: string, name: string): void {
  const kind = nlmFileOrder(name)!.n <= 8 ? 'baseline' : 'updatefiles';
  const p = path.join(dir, kind, name);
  assert.deepEqual(fs.readFileSync(p), m.content(name)!.data, `${name} is the mirror's file`);
  assert.equal(readVerified(p)?.md5, m.content(name)!.md5);
  assert.equal(fs.readFileSync(`${p}.md5`, 'utf8'), `MD5(${name})= ${m.content(name)!.md5}\n`);
  assert.ok(!fs.existsSync(`${p}.partial`));
}

describe('NLM names, listing pages and .md5 lines', () => {
  test('file names → year, number, kind; nlmFileOrder orders baseline before updates by number', () => {
    assert.deepEqual(parseNlmFileName('pubmed26n0001.xml.gz'), {
      name: 'pubmed26n0001.xml.gz',
      yy: 26,
      year: 2026,
      number: 1,
      kind: undefined,
    });
    assert.equal(parseNlmFileName('/x/updatefiles/pubmed26n1335.xml.gz')?.kind, 'update');
    assert.equal(parseNlmFileName('/x/baseline/pubmed26n0002.xml.gz')?.kind, 'baseline');
    assert.equal(parseNlmFileName('pubmed26n0002.xml.gz', 'update')?.kind, 'update');
    assert.equal(parseNlmFileName('medline16n0902.xml.gz'), undefined);
    assert.equal(parseNlmFileName('pubmed26n0009_stats.html'), undefined);
    assert.deepEqual(nlmFileOrder('pubmed26n1335.xml.gz'), { yy: 26, n: 1335 });
    assert.deepEqual(nlmFileOrder('/data/updatefiles/pubmed26n0010.xml'), { yy: 26, n: 10 });
    assert.equal(nlmFileOrder('README.txt'), undefined);
    const shuffled = [
      'updatefiles/pubmed26n1336.xml.gz',
      'pubmed25n1400.xml.gz',
      'baseline/pubmed26n0002.xml.gz',
      'notes.txt',
      'pubmed26n1335.xml.gz',
      'pubmed26n0001.xml.gz',
    ];
    assert.deepEqual([...shuffled].sort(compareNlmFiles), [
      'pubmed25n1400.xml.gz',
      'pubmed26n0001.xml.gz',
      'baseline/pubmed26n0002.xml.gz',
      'pubmed26n1335.xml.gz',
      'updatefiles/pubmed26n1336.xml.gz',
      'notes.txt',
    ]);
  });

  test('an NCBI index page: .xml.gz links with their .md5, dates and sizes; README, parent and _stats.html ignored', () => {
    // The shape of https://ftp.ncbi.nlm.nih.gov/pubmed/updatefiles/ (Apache fancy index).
    const html = `<html>
 <head>
  <title>Index of /pubmed/updatefiles</title>
 </head>
 <body>
<h1>Index of /pubmed/updatefiles</h1>
<pre>Name                     Last modified      Size  <hr><a href="/pubmed/">Parent Directory</a>                              -
<a href="README.txt">README.txt</a>               2025-12-10 14:25  4.5K
<a href="pubmed26n1335.xml.gz">pubmed26n1335.xml.gz</a>     2025-12-15 15:32   31M
<a href="pubmed26n1335.xml.gz.md5">pubmed26n1335.xml.gz.md5</a> 2025-12-15 15:32   60
<a href="pubmed26n1335_stats.html">pubmed26n1335_stats.html</a> 2025-12-15 15:32  582
<a href="pubmed26n1336.xml.gz">pubmed26n1336.xml.gz</a>     2025-12-16 15:32  9.5M
<a href="https://elsewhere.example/pubmed26n1337.xml.gz">pubmed26n1337.xml.gz</a>
<hr></pre>
</body></html>`;
    const files = parseListing(html, 'https://ftp.ncbi.nlm.nih.gov/pubmed/updatefiles/', 'update');
    assert.deepEqual(
      files.map((f) => [f.name, f.number, f.kind, f.modified, f.size, f.approxBytes, f.md5Url]),
      [
        [
          'pubmed26n1335.xml.gz',
          1335,
          'update',
          '2025-12-15 15:32',
          '31M',
          31 * 2 ** 20,
          'https://ftp.ncbi.nlm.nih.gov/pubmed/updatefiles/pubmed26n1335.xml.gz.md5',
        ],
        ['pubmed26n1336.xml.gz', 1336, 'update', '2025-12-16 15:32', '9.5M', Math.round(9.5 * 2 ** 20), undefined],
      ],
    );
    assert.equal(files[0]!.url, 'https://ftp.ncbi.nlm.nih.gov/pubmed/updatefiles/pubmed26n1335.xml.gz');
    // An error page is not taken for an empty listing.
    assert.throws(
      () =>
        parseListing(
          '<html><head><title>503 Service Unavailable</title></head><body>busy</body></html>',
          'https://x/pubmed/baseline/',
          'baseline',
        ),
      /https:\/\/x\/pubmed\/baseline\/ is not a directory listing \(page: "503 Service Unavailable"\)/,
    );
    // An empty index (e.g. updatefiles/ right after the yearly baseline) is just empty.
    assert.deepEqual(
      parseListing(
        '<html><head><title>Index of /pubmed/updatefiles</title></head><body><pre><a href="/pubmed/">Parent Directory</a></pre></body></html>',
        'https://x/pubmed/updatefiles/',
        'update',
      ),
      [],
    );
    assert.equal(apacheSizeToBytes('60'), 60);
    assert.equal(apacheSizeToBytes('-'), undefined);
    assert.equal(apacheSize(60), '60');
    assert.equal(apacheSize(4608), '4.5K');
    assert.equal(apacheSize(31 * 2 ** 20), '31M');
  });

  test(".md5 lines: NLM's, md5sum's and bare; another file or no digest is named", () => {
    const hex = '0123456789abcdef0123456789abcdef';
    assert.equal(parseMd5(`MD5(pubmed26n0001.xml.gz)= ${hex.toUpperCase()}\n`, 'pubmed26n0001.xml.gz'), hex);
    assert.equal(parseMd5(`${hex}  pubmed26n0001.xml.gz\n`, 'pubmed26n0001.xml.gz'), hex);
    assert.equal(parseMd5(hex, 'pubmed26n0001.xml.gz'), hex);
    assert.throws(
      () => parseMd5(`MD5(pubmed26n0002.xml.gz)= ${hex}`, 'pubmed26n0001.xml.gz'),
      /pubmed26n0001\.xml\.gz: its \.md5 file is for another file \(pubmed26n0002\.xml\.gz\)/,
    );
    assert.throws(
      () => parseMd5('<html>error</html>', 'pubmed26n0001.xml.gz'),
      /pubmed26n0001\.xml\.gz: its \.md5 file holds no MD5 digest/,
    );
  });
});

describe("the fixture: real MEDLINE records in NLM's current format", () => {
  test('makeNlmFiles: 8 baseline + 2 update files that the index readers read, deletions included', async () => {
    assert.deepEqual(
      names(nlm.baseline),
      Array.from({ length: 8 }, (_, i) => `pubmed26n000${i + 1}.xml.gz`),
    );
    assert.deepEqual(names(nlm.updates), ['pubmed26n0009.xml.gz', 'pubmed26n0010.xml.gz']);
    assert.equal(nlm.allPmids.length, 604);
    assert.equal(new Set(nlm.allPmids).size, 604);
    assert.equal(nlm.revisedPmids.length, 25);
    assert.equal(nlm.deletedPmids.length, 10);
    assert.ok(nlm.revisedPmids.every((p) => !nlm.deletedPmids.includes(p)));

    const seen: string[] = [];
    const titles = new Map<string, string>();
    const deleted: string[] = [];
    for (const f of [...nlm.baseline, ...nlm.updates]) {
      const head = zlib.gunzipSync(fs.readFileSync(f)).toString('utf8').slice(0, 400);
      assert.match(
        head,
        /<!DOCTYPE PubmedArticleSet[\s\S]*<PubmedArticleSet>\n<PubmedArticle>\n<MedlineCitation /,
        path.basename(f),
      );
      for await (const ev of readCitations(f)) {
        if (ev.type === 'reject') assert.fail(`${f}: ${ev.message}`);
        if (ev.type === 'delete') {
          deleted.push(...ev.pmids);
          continue;
        }
        if (ev.type !== 'citation') continue; // notes (a record kept with something cleaned) are not failures
        const c: Citation = ev.citation;
        if (nlm.baseline.includes(f)) seen.push(c.pmid);
        else assert.ok(nlm.revisedPmids.includes(c.pmid), `${c.pmid} in an update is a revised record`);
        titles.set(c.pmid, c.title);
      }
    }
    assert.deepEqual(seen, nlm.allPmids);
    assert.deepEqual(deleted, nlm.deletedPmids);
    const last = nlm.revisedPmids.at(-1)!;
    assert.ok(titles.get(last)!.endsWith(revisedTitleSuffix('pubmed26n0010.xml.gz').trim()), titles.get(last));
    assert.ok(titles.get(nlm.revisedPmids[0]!)!.endsWith(revisedTitleSuffix('pubmed26n0009.xml.gz').trim()));

    // each MedlineCitation is the source's text, verbatim
    const source = zlib
      .gunzipSync(fs.readFileSync(path.join(ROOT, 'data', 'demo', 'medline16n0902.xml.gz')))
      .toString('utf8');
    const first = zlib.gunzipSync(fs.readFileSync(nlm.baseline[0]!)).toString('utf8');
    const rec = /<MedlineCitation [\s\S]*?<\/MedlineCitation>/.exec(first)![0];
    assert.ok(source.includes(rec));
    // deterministic
    const again = await makeNlmFiles(path.join(tmp, 'nlm-again'));
    for (const [a, b] of [...nlm.baseline, ...nlm.updates].map((f, i) => [
      f,
      [...again.baseline, ...again.updates][i]!,
    ]))
      assert.equal(md5Of(a), md5Of(b!));
  });
});

describe('fetchPubmed against an NLM-shaped mirror', () => {
  test('fetches everything md5-verified, with ≤ 3 connections (and exactly 3 in parallel); a rerun makes no file request', async () => {
    await withMirror({ bytesPerSecond: 1_000_000 }, async (m) => {
      const dir = outDir();
      const progress: { bytes: number; total: number; rate: number; eta?: number; active: number }[] = [];
      const s = await fetchPubmed({
        outDir: dir,
        mirror: m.url,
        onProgress: (p) =>
          progress.push({
            bytes: p.bytes,
            total: p.totalBytes,
            rate: p.rate,
            eta: p.etaSeconds,
            active: p.active.length,
          }),
      });
      assert.deepEqual(s.failures, []);
      assert.deepEqual(s.downloaded, [...names(nlm.baseline), ...names(nlm.updates)]);
      for (const f of [...nlm.baseline, ...nlm.updates]) assertServedCopy(m, dir, path.basename(f));
      const total = [...nlm.baseline, ...nlm.updates].reduce((t, f) => t + fs.statSync(f).size, 0);
      assert.equal(s.bytes, total);
      assert.ok(m.maxConnections <= 3, `server saw ${m.maxConnections} connections at once`);
      assert.equal(m.maxInFlight, 3, 'three transfers ran in parallel');
      assert.ok(
        progress.some((p) => p.rate > 0 && p.eta !== undefined && p.bytes < p.total),
        'progress has a rate and an ETA',
      );
      assert.ok(Math.max(...progress.map((p) => p.active)) <= 3);
      assert.equal(progress.at(-1)!.bytes, total);
      assert.deepEqual(
        verifiedFiles(dir).map((f) => f.name),
        [...names(nlm.baseline), ...names(nlm.updates)],
      );

      m.resetStats();
      const again = await fetchPubmed({ outDir: dir, mirror: m.url });
      assert.deepEqual(again.downloaded, []);
      assert.equal(again.skipped.length, 10);
      assert.equal(again.bytes, 0);
      assert.deepEqual(
        m.log.filter((l) => !l.path.endsWith('/')).map((l) => l.path),
        [],
        'only the listings were read',
      );

      // records gone (e.g. copied folder): the .md5 is fetched and the files re-hashed, nothing downloaded
      for (const f of verifiedFiles(dir)) fs.rmSync(f.path + '.verified.json');
      m.resetStats();
      const rehash = await fetchPubmed({ outDir: dir, mirror: m.url, connections: 1 });
      assert.deepEqual(rehash.downloaded, []);
      assert.ok(rehash.files.every((f) => f.message === "the copy here matches the mirror's md5"));
      assert.equal(m.requests('.xml.gz').length, 0);
      assert.equal(m.requests('.md5').length, 10);
      assert.equal(m.maxInFlight, 1);
    });
  });

  test('selection: baseline/updates only, --from/--to, --files, --after; unknown files and listings exit 4', async () => {
    await withMirror({}, async (m) => {
      const dir = outDir();
      const pick = async (o: Parameters<typeof fetchPubmed>[0]): Promise<string[]> =>
        (await fetchPubmed({ ...o, outDir: dir, mirror: m.url })).files.map((f) => f.name);
      assert.deepEqual(await pick({ outDir: dir, kinds: ['update'] }), names(nlm.updates));
      assert.deepEqual(await pick({ outDir: dir, kinds: ['baseline'], from: 3, to: 4 }), [
        'pubmed26n0003.xml.gz',
        'pubmed26n0004.xml.gz',
      ]);
      assert.deepEqual(await pick({ outDir: dir, files: ['pubmed26n0002', '7', 'pubmed26n0010.xml.gz'] }), [
        'pubmed26n0002.xml.gz',
        'pubmed26n0007.xml.gz',
        'pubmed26n0010.xml.gz',
      ]);
      assert.deepEqual(await pick({ outDir: dir, after: 'pubmed26n0009.xml.gz' }), ['pubmed26n0010.xml.gz']);
      assert.deepEqual(await pick({ outDir: dir, after: 'pubmed26n0007' }), [
        'pubmed26n0008.xml.gz',
        'pubmed26n0009.xml.gz',
        'pubmed26n0010.xml.gz',
      ]);
      await assert.rejects(
        fetchPubmed({ outDir: dir, mirror: m.url, files: ['pubmed26n0042'] }),
        (e: Error) => e instanceof PubmedFetchError && e.exitCode === 4 && /pubmed26n0042\.xml\.gz/.test(e.message),
      );
      await assert.rejects(
        fetchPubmed({ outDir: dir, mirror: m.url.replace('/pubmed/', '/nope/') }),
        (e: Error) =>
          e instanceof PubmedFetchError && e.exitCode === 4 && /no listing at .*\/nope\/baseline\//.test(e.message),
      );
      await assert.rejects(
        fetchPubmed({ outDir: dir, mirror: m.url, connections: 4 }),
        (e: Error) => e instanceof PubmedFetchError && e.exitCode === 2 && /moderate use/.test(e.message),
      );
      await assert.rejects(
        fetchPubmed({ outDir: dir, mirror: m.url, from: 5, to: 2 }),
        (e: Error) => e instanceof PubmedFetchError && e.exitCode === 2,
      );
      await assert.rejects(
        fetchPubmed({ outDir: dir, mirror: 'http://example.org/pubmed/' }),
        /downloads must use HTTPS/,
      );
      assert.equal(m.requests('.xml.gz').length, 7, 'the refused requests downloaded nothing');
    });
    assert.deepEqual(selectFiles([], { after: 'pubmed26n0001.xml.gz' }), { files: [], missing: [] });
    assert.equal(NLM_MIRROR, 'https://ftp.ncbi.nlm.nih.gov/pubmed/');
  });

  test('each fault names its file; already verified files stay as they were; nothing unverified is left in place', async () => {
    await withMirror({}, async (m) => {
      const dir = outDir();
      await fetchPubmed({ outDir: dir, mirror: m.url, kinds: ['baseline'], to: 2 });
      const before = snapshot(dir);
      assert.equal(before.size, 2);
      // a bad copy of an already verified file on the mirror must not replace the good one here
      m.setFile('baseline', 'pubmed26n0002.xml.gz', Buffer.from('<html><title>oops</title></html>'));
      m.faults.wrongMd5.add('pubmed26n0003.xml.gz');
      m.faults.htmlInsteadOfGzip.add('pubmed26n0004.xml.gz');
      m.faults.truncate.set('pubmed26n0005.xml.gz', 20_000);
      m.faults.missingMd5.add('pubmed26n0006.xml.gz');
      const s = await fetchPubmed({ outDir: dir, mirror: m.url, kinds: ['baseline'], retryDelayMs: 0 });
      const why = Object.fromEntries(s.failures.map((f) => [f.file, f.message]));
      assert.deepEqual(Object.keys(why).sort(), [
        'pubmed26n0002.xml.gz',
        'pubmed26n0003.xml.gz',
        'pubmed26n0004.xml.gz',
        'pubmed26n0005.xml.gz',
        'pubmed26n0006.xml.gz',
      ]);
      const real3 = m.content('pubmed26n0003.xml.gz')!.md5;
      assert.match(
        why['pubmed26n0003.xml.gz']!,
        new RegExp(
          `^pubmed26n0003\\.xml\\.gz: md5 mismatch: expected [0-9a-f]{32}, got ${real3}; the partial download was deleted`,
        ),
      );
      assert.match(
        why['pubmed26n0004.xml.gz']!,
        /^pubmed26n0004\.xml\.gz: not gzip: the server sent an HTML page \("NCBI - WWW Error Blocked Diagnostic"\) instead of the file/,
      );
      assert.match(why['pubmed26n0005.xml.gz']!, /^pubmed26n0005\.xml\.gz: truncated gzip/);
      assert.match(
        why['pubmed26n0006.xml.gz']!,
        /^pubmed26n0006\.xml\.gz: the mirror has no pubmed26n0006\.xml\.gz\.md5/,
      );
      assert.match(
        why['pubmed26n0002.xml.gz']!,
        /^pubmed26n0002\.xml\.gz: not gzip: the server sent an HTML page \("oops"\)/,
      );
      assert.deepEqual(s.downloaded, ['pubmed26n0007.xml.gz', 'pubmed26n0008.xml.gz']);
      for (const [name, [mtime, md5]] of before) {
        const p = path.join(dir, 'baseline', name);
        assert.equal(fs.statSync(p).mtimeMs, mtime, `${name} untouched`);
        assert.equal(md5Of(p), md5);
        assert.ok(readVerified(p), `${name} still verified`);
      }
      for (const k of ['3', '4', '5', '6']) {
        const p = path.join(dir, 'baseline', `pubmed26n000${k}.xml.gz`);
        assert.ok(
          !fs.existsSync(p) && !fs.existsSync(`${p}.partial`) && !fs.existsSync(`${p}.verified.json`),
          `nothing left for ${k}`,
        );
      }
      assert.deepEqual(
        verifiedFiles(dir).map((f) => f.name),
        ['pubmed26n0001.xml.gz', 'pubmed26n0002.xml.gz', 'pubmed26n0007.xml.gz', 'pubmed26n0008.xml.gz'],
      );
    });
  });

  test('a connection dropped at a random byte is resumed with Range and yields the right md5 (within a run, and across runs)', async () => {
    await withMirror({}, async (m) => {
      const name = 'pubmed26n0001.xml.gz';
      const size = m.content(name)!.data.length;
      const at = 1 + Math.floor(Math.random() * (size - 2));
      const dir = outDir();
      m.faults.dropAfter.set(name, at);
      const logs: string[] = [];
      const s = await fetchPubmed({
        outDir: dir,
        mirror: m.url,
        files: [name],
        retryDelayMs: 0,
        onLog: (l) => logs.push(l),
      });
      assert.deepEqual(s.failures, [], `dropped at ${at}`);
      // What reached the file before the drop (bytes still in the socket's stream buffer are lost with it):
      // the retry asks for exactly the rest.
      const lost = /connection lost at (\d+) bytes; retrying$/.exec(
        logs.find((l) => l.startsWith(`${name}: connection lost`)) ?? '',
      );
      assert.ok(lost, logs.join('\n'));
      const kept = Number(lost[1]);
      assert.ok(kept <= at, `kept ${kept} of ${at}`);
      const gets = m.requests(`/${name}`);
      assert.equal(gets.length, 2, `dropped at ${at}`);
      assert.equal(gets[1]!.range, kept ? `bytes=${kept}-` : undefined);
      assert.equal(gets[1]!.status, kept ? 206 : 200);
      assertServedCopy(m, dir, name);
      if (kept) assert.equal(s.files[0]!.message, `resumed at ${kept} bytes`);

      // no retries left: the partial stays, the next run resumes it
      const at2 = Math.floor(size / 4) + Math.floor(Math.random() * (size / 2));
      const dir2 = outDir();
      m.faults.dropAfter.set(name, at2);
      const s1 = await fetchPubmed({ outDir: dir2, mirror: m.url, files: [name], retries: 0 });
      const cut = new RegExp(`^${name}: connection lost at (\\d+) bytes.*run again to resume`).exec(
        s1.failures[0]?.message ?? '',
      );
      assert.ok(cut, s1.failures[0]?.message);
      const have = Number(cut[1]);
      assert.ok(have > 0 && have <= at2, `${have} of ${at2}`);
      assert.equal(fs.statSync(path.join(dir2, 'baseline', `${name}.partial`)).size, have);
      assert.ok(!fs.existsSync(path.join(dir2, 'baseline', name)));
      const s2 = await fetchPubmed({ outDir: dir2, mirror: m.url, files: [name] });
      assert.deepEqual(s2.failures, []);
      assert.equal(m.requests(`/${name}`).at(-1)!.range, `bytes=${have}-`);
      assert.equal(s2.bytes, size - have);
      assertServedCopy(m, dir2, name);
      assert.equal(await hashFile(path.join(dir2, 'baseline', name), 'md5'), m.content(name)!.md5);
    });
  });

  test('a connection that stalls is dropped after the stall timeout and resumed', async () => {
    await withMirror({}, async (m) => {
      const name = 'pubmed26n0007.xml.gz';
      m.faults.stallAfter.set(name, 30_000);
      const logs: string[] = [];
      const t = Date.now();
      const s = await fetchPubmed({
        outDir: outDir(),
        mirror: m.url,
        files: [name],
        stallTimeoutMs: 300,
        retryDelayMs: 0,
        onLog: (l) => logs.push(l),
      });
      assert.deepEqual(s.failures, []);
      assert.ok(Date.now() - t >= 300);
      assert.ok(
        logs.some((l) => /connection lost at \d+ bytes; retrying/.test(l)),
        logs.join('\n'),
      );
      assert.match(m.requests(`/${name}`).at(-1)!.range ?? '', /^bytes=\d+-$/);
    });
  });

  test('a stale partial of an older version is restarted from zero instead of failing the md5', async () => {
    await withMirror({}, async (m) => {
      const name = 'pubmed26n0002.xml.gz';
      const dir = outDir();
      fs.mkdirSync(path.join(dir, 'baseline'), { recursive: true });
      // the first 10 000 bytes of another version of the file
      fs.writeFileSync(
        path.join(dir, 'baseline', `${name}.partial`),
        changedCopy(m.content(name)!.data).subarray(0, 10_000),
      );
      const logs: string[] = [];
      const s = await fetchPubmed({ outDir: dir, mirror: m.url, files: [name], onLog: (l) => logs.push(l) });
      assert.deepEqual(s.failures, []);
      assert.ok(
        logs.some((l) => /after resuming at 10000 bytes; downloading from the start/.test(l)),
        logs.join('\n'),
      );
      assertServedCopy(m, dir, name);
    });
  });

  test('a listing that changes during the run is reported; a copy that no longer matches is not left verified', async () => {
    await withMirror({}, async (m) => {
      // changed right after the first listing page: the file fetched is the new one, consistent with its md5
      const dir = outDir();
      m.faults.changeAfter.set('pubmed26n0003.xml.gz', 'listing');
      const s = await fetchPubmed({ outDir: dir, mirror: m.url, kinds: ['baseline'] });
      assert.deepEqual(s.failures, []);
      assert.equal(s.listingChanged, true);
      assert.match(
        s.notes.join('\n'),
        /pubmed26n0003\.xml\.gz changed on the mirror during the run \(listed 2025-12-14 18:08, \S+, now 2025-12-16 18:08, \S+\); the copy here matches the mirror's current md5/,
      );
      assertServedCopy(m, dir, 'pubmed26n0003.xml.gz');
      // the record holds the new listing entry: the next run skips it without a request
      m.resetStats();
      await fetchPubmed({ outDir: dir, mirror: m.url, kinds: ['baseline'] });
      assert.equal(m.requests('.md5').length, 0);

      // changed between its .md5 and its download: the md5 fails, and the message says why
      const dir2 = outDir();
      m.faults.changeAfter.set('pubmed26n0005.xml.gz', 'md5');
      const s2 = await fetchPubmed({ outDir: dir2, mirror: m.url, kinds: ['baseline'] });
      assert.deepEqual(
        s2.failures.map((f) => f.file),
        ['pubmed26n0005.xml.gz'],
      );
      assert.match(
        s2.failures[0]!.message,
        /^pubmed26n0005\.xml\.gz: md5 mismatch: .* — pubmed26n0005\.xml\.gz changed on the mirror during the run \(listed .*, now .*\); run again$/,
      );
      assert.ok(!fs.existsSync(path.join(dir2, 'baseline', 'pubmed26n0005.xml.gz')));
      assert.equal(verifiedFiles(dir2).length, 7);
      const s3 = await fetchPubmed({ outDir: dir2, mirror: m.url, kinds: ['baseline'] });
      assert.deepEqual(s3.downloaded, ['pubmed26n0005.xml.gz']);
      assertServedCopy(m, dir2, 'pubmed26n0005.xml.gz');

      // a file that appears, and one that disappears, while the run goes on
      const dir3 = outDir();
      const extra = changedCopy(m.content('pubmed26n0010.xml.gz')!.data);
      const orig = m.content('pubmed26n0009.xml.gz')!;
      let listed = 0;
      const s4 = await fetchPubmed({
        outDir: dir3,
        mirror: m.url,
        kinds: ['update'],
        onProgress: (p) => {
          if (p.phase === 'download' && listed++ === 0) {
            m.setFile('updatefiles', 'pubmed26n0011.xml.gz', extra);
            m.removeFile('pubmed26n0010.xml.gz');
          }
        },
      });
      assert.match(
        s4.notes.join('\n'),
        /appeared on the mirror during the run: pubmed26n0011\.xml\.gz; run again to fetch it/,
      );
      assert.match(
        s4.failures.find((f) => f.file === 'pubmed26n0010.xml.gz')?.message ?? '',
        /^pubmed26n0010\.xml\.gz: the mirror has no pubmed26n0010\.xml\.gz\.md5 .* — it was removed from the mirror's listing during the run$/,
      );
      assert.deepEqual(fs.readFileSync(path.join(dir3, 'updatefiles', 'pubmed26n0009.xml.gz')), orig.data);
    });
  });

  test('one fetch per folder: a second one is refused while the first runs; a stale lock is taken over', async () => {
    await withMirror({ bytesPerSecond: 2_000_000 }, async (m) => {
      const dir = outDir();
      const first = fetchPubmed({ outDir: dir, mirror: m.url, kinds: ['baseline'] });
      await assert.rejects(
        fetchPubmed({ outDir: dir, mirror: m.url, kinds: ['update'] }),
        (e: Error) =>
          e instanceof PubmedFetchError &&
          new RegExp(`another fetch is writing to .* \\(pid ${process.pid} on `).test(e.message),
      );
      assert.deepEqual((await first).failures, []);
      assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)), 'released');
      // a lock whose process is gone
      fs.writeFileSync(
        path.join(dir, LOCK_FILE),
        JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), startedAt: 'yesterday' }),
      );
      assert.deepEqual(
        (await fetchPubmed({ outDir: dir, mirror: m.url, kinds: ['update'] })).downloaded,
        names(nlm.updates),
      );
    });
  });

  test('cancelling keeps the partial; the same call again resumes it', async () => {
    await withMirror({ bytesPerSecond: 400_000 }, async (m) => {
      const dir = outDir();
      const ac = new AbortController();
      const s = await fetchPubmed({
        outDir: dir,
        mirror: m.url,
        files: ['1'],
        signal: ac.signal,
        onProgress: (p) => {
          if (p.bytes > 50_000) ac.abort();
        },
      });
      assert.equal(s.cancelled, true);
      assert.match(
        s.failures[0]!.message,
        /pubmed26n0001\.xml\.gz: download cancelled at \d+ bytes; run again to resume/,
      );
      const partial = path.join(dir, 'baseline', 'pubmed26n0001.xml.gz.partial');
      const have = fs.statSync(partial).size;
      assert.ok(have > 0);
      const r = await fetchPubmed({ outDir: dir, mirror: m.url, files: ['1'] });
      assert.deepEqual(r.downloaded, ['pubmed26n0001.xml.gz']);
      assert.equal(m.requests('/pubmed26n0001.xml.gz').at(-1)!.range, `bytes=${have}-`);
      assertServedCopy(m, dir, 'pubmed26n0001.xml.gz');
    });
  });
});

describe('the downloader on its own (src/net/download.ts)', () => {
  test('content check: HTML with status 200 is stopped at its first bytes; a truncated gzip is caught without an md5', async () => {
    await withMirror({}, async (m) => {
      const dir = outDir();
      fs.mkdirSync(dir, { recursive: true });
      m.faults.htmlInsteadOfGzip.add('pubmed26n0004.xml.gz');
      await assert.rejects(
        download(`${m.url}baseline/pubmed26n0004.xml.gz`, path.join(dir, 'a.xml.gz'), {
          check: gzipPubmedCheck,
          algo: 'md5',
        }),
        (e: Error) =>
          e instanceof ContentError && /^a\.xml\.gz: not gzip: the server sent an HTML page/.test(e.message),
      );
      m.faults.truncate.set('pubmed26n0005.xml.gz', 30_000);
      await assert.rejects(
        download(`${m.url}baseline/pubmed26n0005.xml.gz`, path.join(dir, 'b.xml.gz'), {
          check: gzipPubmedCheck,
          label: 'pubmed26n0005.xml.gz',
        }),
        /^ContentError: pubmed26n0005\.xml\.gz: truncated gzip/,
      );
      assert.deepEqual(fs.readdirSync(dir), []);
      // with the light check (magic + XML root only) the truncated file passes the check: then the md5 is what catches it
      const light = await download(`${m.url}baseline/pubmed26n0005.xml.gz`, path.join(dir, 'light.xml.gz'), {
        check: () => gzipPubmedCheck({ full: false }),
        algo: 'md5',
      });
      assert.equal(light.bytes, 30_000);
      assert.notEqual(light.digest, m.content('pubmed26n0005.xml.gz')!.md5);
      fs.rmSync(path.join(dir, 'light.xml.gz'));
      const s = await fetchPubmed({ outDir: path.join(dir, 'f'), mirror: m.url, files: ['5'], inflateCheck: false });
      assert.match(s.failures[0]?.message ?? '', /^pubmed26n0005\.xml\.gz: md5 mismatch/);
      fs.rmSync(path.join(dir, 'f'), { recursive: true });
      const ok = await download(`${m.url}baseline/pubmed26n0006.xml.gz`, path.join(dir, 'c.xml.gz'), {
        check: gzipPubmedCheck,
        algo: 'md5',
        expected: m.content('pubmed26n0006.xml.gz')!.md5,
      });
      assert.equal(ok.digest, m.content('pubmed26n0006.xml.gz')!.md5);
      assert.equal(ok.url, `${m.url}baseline/pubmed26n0006.xml.gz`);
      // a redirect to the listing's folder is followed (NLM answers /pubmed/baseline with a 301)
      const listing = await download(`${m.url}baseline`, path.join(dir, 'listing.html'));
      assert.equal(listing.url, `${m.url}baseline/`);
    });
  });
});

describe('the CLI (biohicl pubmed fetch)', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), 'pubmed', 'fetch', ...args],
      {
        encoding: 'utf8',
        cwd: ROOT,
        env: { ...process.env, BIOHICL_HOME: path.join(tmp, 'home'), ...env },
        timeout: 60_000,
      },
    );

  test('exit 0 with a summary; exit 1 naming the failed file (the others kept); 2 for usage; 4 for a missing file; default folder under $BIOHICL_HOME', async () => {
    await withMirror({}, async (m) => {
      m.faults.wrongMd5.add('pubmed26n0010.xml.gz');
      // the server must keep answering while the child runs: spawn asynchronously
      const run = (args: string[]): Promise<{ code: number | null; out: string; err: string }> =>
        new Promise((resolve) => {
          const p = spawn(
            process.execPath,
            ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), 'pubmed', 'fetch', ...args],
            {
              cwd: ROOT,
              env: { ...process.env, BIOHICL_HOME: path.join(tmp, 'home') },
            },
          );
          let out = '';
          let err = '';
          p.stdout.on('data', (d) => {
            out += d;
          });
          p.stderr.on('data', (d) => {
            err += d;
          });
          p.on('close', (code) => resolve({ code, out, err }));
        });
      const a = await run(['--mirror', m.url, '--baseline', '--to', '3', '--json']);
      assert.equal(a.code, 0, a.err);
      const sum = JSON.parse(a.out) as FetchSummary;
      assert.equal(sum.outDir, path.join(tmp, 'home', 'pubmed'));
      assert.deepEqual(sum.downloaded, ['pubmed26n0001.xml.gz', 'pubmed26n0002.xml.gz', 'pubmed26n0003.xml.gz']);
      const b = await run(['--mirror', m.url, '--updates', '--connections', '2']);
      assert.equal(b.code, 1, b.err);
      assert.match(b.out, /downloaded 1, skipped 0 \(already verified\), failed 1 of 2 files/);
      assert.match(b.out, /failed: pubmed26n0010\.xml\.gz: md5 mismatch/);
      assert.ok(readVerified(path.join(tmp, 'home', 'pubmed', 'updatefiles', 'pubmed26n0009.xml.gz')));
      const c = await run(['--mirror', m.url, '--files', 'pubmed26n0077']);
      assert.equal(c.code, 4);
      assert.match(c.err, /not on the mirror .*pubmed26n0077\.xml\.gz/);
    });
    const bad = cli(['--connections', '4']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--connections must be 1\.\.3/);
    assert.equal(cli(['--baseline', '--updates']).status, 2);
    assert.equal(cli(['--files', 'a', '--from', '2']).status, 2);
    const notNlm = cli(['--after', 'foo.xml.gz', '--mirror', 'http://127.0.0.1:9/pubmed/']);
    assert.equal(notNlm.status, 2);
    assert.match(notNlm.stderr, /--after: 'foo\.xml\.gz' is not an NLM file name/);
  });
});
