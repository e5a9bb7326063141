// Index releases: `biohicl index publish` and `biohicl index pull` on real indexes (dist/cli.js building real PubMed-
// style files with a generated tiny model), served by a real HTTP server on 127.0.0.1 (src/release/serve.ts: Range,
// a request log with the bytes sent, a dropped-connection and a throttle knob), a folder, and — when Debian's Ceph can
// run here — a real S3 store. Faults are real: a file changed after publishing, a connection cut mid-file, a CLI
// process SIGKILLed mid-pull, a tmpfs that fills during the pull.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureGeneratedModel } from '../../src/index/model';
import { IndexStore } from '../../src/index/store';
import { hashFile } from '../../src/util/hash';
import { serveFolder, type StaticServer } from '../../src/release/serve';
import { pullRelease, layoutFor } from '../../src/release/pull';
import { ReleaseError, type ReleaseManifest } from '../../src/release/manifest';
import { walkFiles } from '../../src/release/fsutil';
import { makeNlmFiles, type NlmFiles } from '../fixtures/nlm-mirror';
import { tmpDir } from './index-helpers';
import { diffSnapshots, problems, snapshot, type IndexSnapshot } from './index-snapshot';
import { cliRunner } from './cli-helpers';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
let dir: string;
let model: string;
let otherModel: string;
let nlm: NlmFiles;
let src: string;
let pub: string;
let server: StaticServer;
let snapA: IndexSnapshot;
let snapB: IndexSnapshot;
let r1: ReleaseManifest;
let r2: ReleaseManifest;

const env = (): NodeJS.ProcessEnv => ({ ...process.env, BIOHICL_HOME: path.join(dir, 'home') });
/** The CLI as a child process (asynchronously: the HTTP server it talks to runs in this process). */
const { run } = cliRunner(() => path.join(dir, 'home'));
const add = async (idx: string, files: string[], m = model): Promise<void> => {
  const r = await run(['index', 'add', ...files, '--index', idx, '--model', m, '--quiet', '--json', '--threads', '1']);
  assert.equal(r.code, 0, r.err);
};
const readRelease = (name: string): ReleaseManifest =>
  JSON.parse(fs.readFileSync(path.join(pub, name, 'release.json'), 'utf8'));
/** Bytes of the files of `b` that `a` does not hold at the same path with the same sha256. */
const delta = (a: ReleaseManifest, b: ReleaseManifest): { bytes: number; files: number } => {
  const have = new Set(a.files.map((f) => `${f.path}\0${f.sha256}`));
  const d = b.files.filter((f) => !have.has(`${f.path}\0${f.sha256}`));
  return { bytes: d.reduce((s, f) => s + f.size, 0), files: d.length };
};
/** Body bytes the server sent for release `name`'s files (release.json apart) since log index `from`. */
const sent = (name: string, from = 0): number =>
  server.log
    .slice(from)
    .filter((r) => r.path.startsWith(`/${name}/`) && !r.path.endsWith('/release.json'))
    .reduce((s, r) => s + r.bytes, 0);
const quietPull = (source: string, index: string, extra: Partial<Parameters<typeof pullRelease>[0]> = {}) =>
  pullRelease({ source, index, modelDir: model, retryDelayMs: 50, ...extra });
const searchOk = async (idx: string): Promise<void> => {
  const r = await run(['search', 'cancer', '--index', idx, '--mode', 'fts', '--json']);
  assert.equal(r.code, 0, r.err);
  assert.ok(JSON.parse(r.out).hits.length > 0, 'the index answers');
};
function sameAs(where: string, want: IndexSnapshot): Promise<void> {
  return snapshot(where).then((s) => {
    assert.deepEqual(problems(s), []);
    assert.deepEqual(diffSnapshots(want, s), []);
  });
}

before(async () => {
  const help = fs.existsSync(cli)
    ? spawnSync(process.execPath, [cli, 'index', 'publish', '--help'], { encoding: 'utf8' })
    : undefined;
  if (help?.status !== 0)
    spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  dir = tmpDir('biohicl-release-');
  model = path.join(dir, 'tiny');
  otherModel = path.join(dir, 'tiny-other');
  await ensureGeneratedModel(model, 'tiny');
  await ensureGeneratedModel(otherModel, 'tiny'); // same shapes and seed, another manifest: another model
  nlm = await makeNlmFiles(path.join(dir, 'nlm'));
  src = path.join(dir, 'src');
  pub = path.join(dir, 'pub');
  fs.mkdirSync(pub);
  server = await serveFolder(pub);
});

after(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test(
  'publish from a finalize tag: the tagged version of each table, though the index has moved on; the index is not written',
  { timeout: 180_000 },
  async () => {
    const idx = path.join(dir, 'src-tagged');
    await add(idx, nlm.baseline.slice(0, 2));
    let r = await run(['index', 'finalize', '--index', idx, '--tag', 't0', '--json']);
    assert.equal(r.code, 0, r.err);
    const snapT = await snapshot(idx);
    await add(idx, [nlm.baseline[2]!]); // the index moves on after the tag
    const before = walkFiles(idx).sort();
    r = await run(['index', 'publish', '--index', idx, '--out', path.join(pub, 't0'), '--json']); // no --tag: finalize's
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out);
    assert.equal(res.tag, 't0');
    assert.equal(res.versionsFrom, 'tag');
    const t0 = readRelease('t0');
    assert.equal(t0.counts.articles, snapT.articles.size);
    // The files table at the tag: the 2 PubMed files, not the 3rd added later.
    assert.deepEqual(
      t0.pubmed.files.map((f) => f.name),
      nlm.baseline.slice(0, 2).map((f) => path.basename(f)),
    );
    await sameAs(path.join(pub, 't0'), snapT);
    assert.deepEqual(walkFiles(idx).sort(), before, 'publish wrote nothing in the index');
  },
);

test(
  'publish the current version: exactly its files, hashed, with the model and the PubMed files with their md5',
  { timeout: 180_000 },
  async () => {
    await add(src, nlm.baseline.slice(0, 4));
    snapA = await snapshot(src);
    const r = await run(['index', 'publish', '--index', src, '--out', path.join(pub, 'r1'), '--tag', 'r1', '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).versionsFrom, 'current');
    r1 = readRelease('r1');
    assert.equal(r1.tag, 'r1');
    assert.equal(r1.counts.articles, snapA.articles.size);
    assert.equal(r1.counts.sentences, snapA.sentences.size);
    assert.deepEqual(r1.model, JSON.parse(fs.readFileSync(path.join(src, 'meta.json'), 'utf8')).model);
    assert.deepEqual(
      r1.pubmed.files.map((f) => f.name),
      nlm.baseline.slice(0, 4).map((f) => path.basename(f)),
    );
    for (const [i, f] of r1.pubmed.files.entries()) assert.equal(f.md5, await hashFile(nlm.baseline[i]!, 'md5'));
    assert.equal(r1.pubmed.count, 4);
    assert.equal(r1.pubmed.last, 'pubmed26n0004.xml.gz');
    // Exactly the listed files are there, with those sizes and hashes; one manifest per table; the tag of each table.
    const onDisk = walkFiles(path.join(pub, 'r1'))
      .filter((p) => p !== 'release.json')
      .sort();
    assert.deepEqual(onDisk, [...r1.files, ...(r1.tags ?? [])].map((f) => f.path).sort());
    for (const f of r1.files) {
      assert.equal(fs.statSync(path.join(pub, 'r1', f.path)).size, f.size);
      assert.equal(await hashFile(path.join(pub, 'r1', f.path)), f.sha256);
    }
    for (const t of ['articles', 'sentences', 'files', 'deleted']) {
      assert.equal(r1.files.filter((f) => f.path.startsWith(`${t}.lance/_versions/`)).length, 1, `${t}: one manifest`);
      assert.ok(
        r1.tags?.some((f) => f.path === `${t}.lance/_refs/tags/r1.json`),
        `${t}: tagged`,
      );
    }
    assert.equal(
      r1.totalBytes,
      r1.files.reduce((n, f) => n + f.size, 0),
    );
    await sameAs(path.join(pub, 'r1'), snapA);
    // A second publish into the same folder needs --force.
    const again = await run(['index', 'publish', '--index', src, '--out', path.join(pub, 'r1'), '--tag', 'r1']);
    assert.equal(again.code, 2, again.err);
    assert.match(again.err, /already holds a release/);
  },
);

test(
  'pull into an empty location: only complete, verified, switched; it answers; a second pull is a no-op',
  { timeout: 120_000 },
  async () => {
    const local = path.join(dir, 'local');
    const mark = server.log.length;
    const r = await run(['index', 'pull', `${server.url}r1/`, '--index', local, '--model', model, '--json']);
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out);
    assert.equal(res.status, 'switched');
    assert.equal(res.receivedBytes, r1.totalBytes);
    assert.equal(sent('r1', mark), r1.totalBytes);
    assert.ok(fs.lstatSync(local).isSymbolicLink());
    assert.equal(fs.realpathSync(local), path.join(layoutFor(local).root, res.id));
    await sameAs(local, snapA);
    await searchOk(local); // no --model: meta.json names the local model folder the pull checked
    const again = JSON.parse(
      (await run(['index', 'pull', `${server.url}r1/`, '--index', local, '--model', model, '--json'])).out,
    );
    assert.equal(again.status, 'up-to-date');
  },
);

test(
  'release 2 (an update file): only the files the local copy lacks are transferred; a reader open before follows the switch',
  { timeout: 180_000 },
  async () => {
    await add(src, [nlm.updates[0]!]);
    snapB = await snapshot(src);
    const r = await run(['index', 'publish', '--index', src, '--out', path.join(pub, 'r2'), '--tag', 'r2', '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).versionsFrom, 'current');
    r2 = readRelease('r2');
    const d = delta(r1, r2);
    assert.ok(d.files < r2.files.length && d.bytes < r2.totalBytes, `a delta: ${d.files} of ${r2.files.length} files`);

    const local = path.join(dir, 'local');
    const reader = await IndexStore.open(local, undefined, {});
    assert.equal((await reader.counts()).articles, snapA.articles.size);
    const mark = server.log.length;
    const p = await run(['index', 'pull', `${server.url}r2/`, '--index', local, '--model', model, '--json']);
    assert.equal(p.code, 0, p.err);
    const res = JSON.parse(p.out);
    assert.equal(res.receivedBytes, d.bytes);
    assert.equal(sent('r2', mark), d.bytes, 'the server sent exactly the files the local copy lacked');
    assert.equal(res.downloadedFiles, d.files);
    assert.equal(res.linkedFiles, r2.files.length - d.files);
    await sameAs(local, snapB);
    // The store opened on the old release answers from the new one (LanceDB re-resolves the symlink).
    assert.equal((await reader.counts()).articles, snapB.articles.size);
    reader.close();
    const state = JSON.parse(fs.readFileSync(layoutFor(local).state, 'utf8'));
    assert.match(state.previous, /^r1-/);
    assert.ok(fs.existsSync(path.join(layoutFor(local).root, state.previous)), 'the previous release is kept');
  },
);

test(
  'a connection dropped mid-file is resumed with a Range request from where the partial ends',
  { timeout: 120_000 },
  async () => {
    const big = [...r2.files].sort((a, b) => b.size - a.size)[0]!;
    const esc = big.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    server.faults = { drop: { match: new RegExp(`^/r2/${esc}$`), afterBytes: Math.floor(big.size / 3) } };
    const mark = server.log.length;
    const local = path.join(dir, 'local-drop');
    try {
      const res = await quietPull(`${server.url}r2/`, local);
      assert.equal(res.status, 'switched');
    } finally {
      server.faults = {};
    }
    const reqs = server.log.slice(mark).filter((x) => x.path === `/r2/${big.path}`);
    assert.equal(reqs.length, 2, JSON.stringify(reqs));
    assert.equal(reqs[0]!.range, undefined);
    // Resumed where the client's partial ended (at most what the server wrote before it cut the connection).
    const at = Number(/^bytes=(\d+)-$/.exec(reqs[1]!.range ?? '')?.[1]);
    assert.ok(at > 0 && at <= reqs[0]!.bytes, JSON.stringify(reqs));
    assert.equal(reqs[1]!.bytes, big.size - at);
    await sameAs(local, snapB);
    // A server that keeps dropping: the pull gives up with how to resume; the index stays on its release.
    const local2 = path.join(dir, 'local-drop2');
    await quietPull(`${server.url}r1/`, local2);
    const linkBefore = fs.readlinkSync(local2);
    const have = new Set(r1.files.map((f) => `${f.path}\0${f.sha256}`));
    const bigDelta = r2.files.filter((f) => !have.has(`${f.path}\0${f.sha256}`)).sort((a, b) => b.size - a.size)[0]!;
    const escDelta = bigDelta.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    server.faults = { drop: { match: new RegExp(`^/r2/${escDelta}$`), afterBytes: 4096, times: 1000 } };
    try {
      await assert.rejects(quietPull(`${server.url}r2/`, local2), (e: Error) => {
        assert.ok(e instanceof ReleaseError, String(e));
        assert.match(e.message, /connection lost at \d+ bytes|download failed|got \d+ of \d+ bytes/);
        assert.match(
          e.message,
          /unchanged and keeps answering; run the same command again to resume \(.* are staged in /,
        );
        return true;
      });
    } finally {
      server.faults = {};
    }
    assert.equal(fs.readlinkSync(local2), linkBefore);
    await sameAs(local2, snapA);
    // What the dropped transfers left (a reset socket can discard bytes the server had sent, so it may be nothing).
    const partials: string[] = [];
    const walk = (d: string): void => {
      if (!fs.existsSync(d)) return;
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith(`${path.basename(bigDelta.path)}.partial`)) partials.push(p);
      }
    };
    walk(`${local2}.releases`);
    const kept = partials.length ? fs.statSync(partials[0]!).size : 0;
    const mark2 = server.log.length;
    assert.equal((await quietPull(`${server.url}r2/`, local2)).status, 'switched');
    const range = server.log.slice(mark2).find((x) => x.path === `/r2/${bigDelta.path}`)?.range ?? '';
    if (kept > 0) assert.equal(range, `bytes=${kept}-`, 'resumed from the partial');
    else assert.equal(range, '', 'nothing was kept, so nothing to resume from');
    await sameAs(local2, snapB);
  },
);

test(
  'pull onto a locally built index folder: its files are reused, the folder is kept as the previous release; an interrupted switch is recovered',
  { timeout: 120_000 },
  async () => {
    const plain = path.join(dir, 'plain');
    fs.cpSync(src, plain, { recursive: true }); // the source as it is now: the files of r2
    const mark = server.log.length;
    const res = await quietPull(`${server.url}r2/`, plain);
    assert.equal(res.status, 'switched');
    const meta = r2.files.find((f) => f.path === 'meta.json')!;
    assert.equal(res.receivedBytes, meta.size, 'only meta.json (the release records itself in it) was fetched');
    assert.equal(sent('r2', mark), meta.size);
    assert.ok(fs.lstatSync(plain).isSymbolicLink());
    assert.match(res.previous ?? '', /^local-/);
    await sameAs(plain, snapB);
    // Back to the local folder, then a crash between moving a plain folder away and creating the symlink: the next
    // pull puts the link back first, then switches.
    const l = layoutFor(plain);
    let r = await run(['index', 'pull', '--rollback', '--index', plain, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.match(fs.readlinkSync(plain), /local-/);
    const state = JSON.parse(fs.readFileSync(l.state, 'utf8'));
    fs.writeFileSync(l.state, JSON.stringify({ ...state, converting: { to: state.current } }));
    fs.rmSync(plain);
    r = await run(['index', 'pull', `${server.url}r2/`, '--index', plain, '--model', model]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /recovered an interrupted switch/);
    await sameAs(plain, snapB);
  },
);

test(
  'a release whose files do not match release.json is refused; the working index stays as it was',
  { timeout: 120_000 },
  async () => {
    const local = path.join(dir, 'local-bad');
    await quietPull(`${server.url}r1/`, local);
    const linkBefore = fs.readlinkSync(local);
    // Same size, one byte changed, in a file the local copy lacks (so it is downloaded).
    const have = new Set(r1.files.map((f) => `${f.path}\0${f.sha256}`));
    const victim = r2.files
      .filter((f) => !have.has(`${f.path}\0${f.sha256}`) && f.size > 1000)
      .sort((a, b) => b.size - a.size)[0]!;
    fs.cpSync(path.join(pub, 'r2'), path.join(pub, 'r2-bad'), { recursive: true, dereference: true });
    const file = path.join(pub, 'r2-bad', victim.path);
    fs.rmSync(file);
    const bytes = fs.readFileSync(path.join(pub, 'r2', victim.path));
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(file, bytes);
    let r = await run(['index', 'pull', `${server.url}r2-bad/`, '--index', local, '--model', model]);
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.err,
      new RegExp(`${victim.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not match release\\.json`),
    );
    assert.match(r.err, /unchanged and keeps answering/);
    assert.equal(fs.readlinkSync(local), linkBefore);
    await sameAs(local, snapA);
    await searchOk(local);
    // A file listed but absent on the server.
    fs.cpSync(path.join(pub, 'r2'), path.join(pub, 'r2-missing'), { recursive: true, dereference: true });
    fs.rmSync(path.join(pub, 'r2-missing', victim.path));
    r = await run(['index', 'pull', `${server.url}r2-missing/`, '--index', local, '--model', model]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /not found/);
    assert.equal(fs.readlinkSync(local), linkBefore);
    // A manifest naming a path outside the index.
    fs.cpSync(path.join(pub, 'r2'), path.join(pub, 'r2-evil'), { recursive: true, dereference: true });
    const evil = readRelease('r2-evil');
    evil.files[0]!.path = '../../escape.txt';
    fs.writeFileSync(path.join(pub, 'r2-evil', 'release.json'), JSON.stringify(evil));
    r = await run(['index', 'pull', `${server.url}r2-evil/`, '--index', local, '--model', model]);
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.err,
      /release\.json: files\[0\]\.path: expected meta\.json or a file inside a table folder, got "\.\.\/\.\.\/escape\.txt"/,
    );
    await sameAs(local, snapA);
  },
);

test(
  'a release built by another model is refused before any file is fetched, with the way out',
  { timeout: 120_000 },
  async () => {
    const other = path.join(dir, 'src-other');
    await add(other, [nlm.baseline[0]!], otherModel);
    let r = await run([
      'index',
      'publish',
      '--index',
      other,
      '--out',
      path.join(pub, 'other'),
      '--tag',
      'other',
      '--json',
    ]);
    assert.equal(r.code, 0, r.err);
    const local = path.join(dir, 'local');
    const linkBefore = fs.readlinkSync(local);
    const mark = server.log.length;
    r = await run(['index', 'pull', `${server.url}other/`, '--index', local, '--model', model]);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, /was built with model generated:tiny@seed-42 \(dim 32, manifest [0-9a-f]{12}/);
    assert.match(r.err, /nothing was downloaded/);
    assert.match(r.err, /pull again with `biohicl index pull/);
    assert.match(r.err, /or keep the current index: nothing was switched/);
    assert.deepEqual(
      server.log.slice(mark).map((x) => x.path),
      ['/other/release.json'],
    );
    assert.equal(fs.readlinkSync(local), linkBefore);
    // No model at all there: exit 4, saying which model the release needs.
    r = await run(['index', 'pull', `${server.url}r2/`, '--index', local, '--model', path.join(dir, 'no-model')]);
    assert.equal(r.code, 4, r.err);
    assert.match(r.err, /no model at .*The release r2 needs generated:tiny/);
    // And the right model pulls it (into a new place).
    const res = await pullRelease({
      source: `${server.url}other/`,
      index: path.join(dir, 'local-other'),
      modelDir: otherModel,
    });
    assert.equal(res.status, 'switched');
  },
);

test(
  'a pull SIGKILLed mid-transfer: the old index still opens and answers; the next pull resumes',
  { timeout: 180_000 },
  async () => {
    const local = path.join(dir, 'local-kill');
    await quietPull(`${server.url}r1/`, local);
    const d = delta(r1, r2);
    server.faults = { bytesPerSecond: 40_000 };
    const mark = server.log.length;
    const child = spawn(
      process.execPath,
      [cli, 'index', 'pull', `${server.url}r2/`, '--index', local, '--model', model, '--quiet', '--concurrency', '2'],
      { env: env(), stdio: 'ignore' },
    );
    try {
      const t0 = Date.now();
      while (sent('r2', mark) < d.bytes / 4) {
        if (Date.now() - t0 > 60_000) throw new Error(`the pull got only ${sent('r2', mark)} bytes in 60 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    } finally {
      server.faults = {};
    }
    const before = sent('r2', mark);
    assert.ok(before < d.bytes, 'killed before the end');
    assert.match(fs.readlinkSync(local), /r1-/);
    await sameAs(local, snapA);
    await searchOk(local);
    const mark2 = server.log.length;
    const r = await run(['index', 'pull', `${server.url}r2/`, '--index', local, '--model', model, '--json']);
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out);
    const after2 = sent('r2', mark2);
    assert.ok(after2 < d.bytes, `resumed: ${after2} bytes the second time, ${d.bytes} in all`);
    assert.ok(
      res.stagedFiles > 0 || server.log.slice(mark2).some((x) => x.range),
      'finished files or partials were reused',
    );
    await sameAs(local, snapB);
  },
);

test(
  'the disk fills during the pull (a real tmpfs): refused with the space needed, old index intact; resumes once space is freed',
  { timeout: 180_000 },
  async (t) => {
    const mnt = path.join(dir, 'tmpfs');
    fs.mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', mnt], { encoding: 'utf8' });
    if (m.status !== 0) {
      t.skip(
        `cannot mount a tmpfs here (${(m.stderr || m.error?.message || '').trim()}); the disk-full path is not exercised`,
      );
      return;
    }
    try {
      const local = path.join(mnt, 'index');
      await quietPull(`${server.url}r1/`, local);
      const filler = path.join(mnt, 'filler');
      const fill = (leave: number): void => {
        const s = fs.statfsSync(mnt);
        const free = Number(s.bavail) * Number(s.bsize);
        if (free > leave) fs.appendFileSync(filler, Buffer.alloc(free - leave));
      };
      // 1. Not enough space from the start: refused before any file is fetched.
      fill(Math.floor(delta(r1, r2).bytes / 2));
      let mark = server.log.length;
      await assert.rejects(quietPull(`${server.url}r2/`, local), (e: Error) => {
        assert.ok(e instanceof ReleaseError);
        assert.match(e.message, /not enough disk space: the pull needs [\d.]+ (KiB|MiB) more on the disk holding/);
        assert.match(e.message, /unchanged and keeps answering/);
        return true;
      });
      assert.equal(sent('r2', mark), 0);
      fs.rmSync(filler);
      // 2. Enough at the start, then another writer fills the disk while the largest file is being sent.
      const have = new Set(r1.files.map((f) => `${f.path}\0${f.sha256}`));
      const big = r2.files.filter((f) => !have.has(`${f.path}\0${f.sha256}`)).sort((a, b) => b.size - a.size)[0]!;
      server.faults = {
        beforeBody: (p) => {
          if (p === `/r2/${big.path}`) fill(0);
        },
      };
      mark = server.log.length;
      await assert.rejects(quietPull(`${server.url}r2/`, local, { concurrency: 1 }), (e: Error) => {
        assert.ok(e instanceof ReleaseError, String(e));
        assert.match(e.message, /the disk filled during the pull: the pull needs [\d.]+ (KiB|MiB) more/);
        assert.match(e.message, /the pull resumes there/);
        return true;
      });
      server.faults = {};
      assert.match(fs.readlinkSync(local), /r1-/);
      await sameAs(local, snapA);
      fs.rmSync(filler);
      const res = await quietPull(`${server.url}r2/`, local);
      assert.equal(res.status, 'switched');
      await sameAs(local, snapB);
    } finally {
      server.faults = {};
      // Lazy: LanceDB in this process may still hold files of the staged index open.
      if (spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
    }
  },
);

test(
  'rollback to the kept release, and forward again from what is on disk (nothing fetched)',
  { timeout: 120_000 },
  async () => {
    const local = path.join(dir, 'local');
    let r = await run(['index', 'pull', '--rollback', '--index', local, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.match(fs.readlinkSync(local), /r1-/);
    await sameAs(local, snapA);
    const mark = server.log.length;
    r = await run(['index', 'pull', `${server.url}r2/`, '--index', local, '--model', model, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).receivedBytes, 0);
    assert.equal(sent('r2', mark), 0);
    await sameAs(local, snapB);
  },
);

test('pull from a folder', { timeout: 60_000 }, async () => {
  const local = path.join(dir, 'local-folder');
  const r = await run(['index', 'pull', path.join(pub, 'r2'), '--index', local, '--model', model, '--json']);
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).receivedBytes, r2.totalBytes);
  await sameAs(local, snapB);
});

test('pull from s3:// (a real Ceph RGW): a whole release, then only the delta', { timeout: 240_000 }, async (t) => {
  const cephModule = path.join(root, 'test', 'engines', 'ceph.ts');
  if (!fs.existsSync(cephModule)) {
    t.skip('test/engines/ceph.ts is not here');
    return;
  }
  // Loaded by path: the Ceph harness is optional here.
  const ceph = (await import(cephModule)) as {
    cephUnavailableReason(): string | undefined;
    startCeph(o: { memBytes?: number }): Promise<{
      endpoint: string;
      accessKey: string;
      secretKey: string;
      region: string;
      createBucket(n: string): Promise<void>;
      env(): Record<string, string>;
      stop(): Promise<void>;
    }>;
  };
  const why = ceph.cephUnavailableReason();
  if (why) {
    t.skip(why);
    return;
  }
  const rgw = await ceph.startCeph({ memBytes: 512 << 20 });
  try {
    await rgw.createBucket('releases');
    const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({
      region: rgw.region,
      endpoint: rgw.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: rgw.accessKey, secretAccessKey: rgw.secretKey },
    });
    for (const name of ['r1', 'r2']) {
      const rel = readRelease(name);
      for (const f of [...rel.files.map((x) => x.path), 'release.json']) {
        await s3.send(
          new PutObjectCommand({
            Bucket: 'releases',
            Key: `${name}/${f}`,
            Body: fs.readFileSync(path.join(pub, name, f)),
          }),
        );
      }
    }
    s3.destroy();
    const e = { ...process.env, ...rgw.env() };
    const local = path.join(dir, 'local-s3');
    let res = await quietPull('s3://releases/r1', local, { env: e });
    assert.equal(res.receivedBytes, r1.totalBytes);
    await sameAs(local, snapA);
    res = await quietPull('s3://releases/r2', local, { env: e });
    assert.equal(res.receivedBytes, delta(r1, r2).bytes);
    await sameAs(local, snapB);
  } finally {
    await rgw.stop();
  }
});
