// The cluster build, for real: Debian's Slurm as a single-node cluster and Debian's Ceph RGW as the object store,
// started and stopped by this test (test/engines). Real PubMed records split like NLM's files (8 baseline + 2 update
// files that revise and delete PMIDs) go through deploy/slurm/submit.sh: the setup job, an array job with one task
// per file (4 at once on the 2 cores), the finalize job chained with afterok — into a local folder and into
// s3:// on Ceph. One array task is SIGKILLed mid-run and requeues itself. Each result must equal a single-process
// build of the same files, and search must answer from it. A store that ignores conditional PUT is refused.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { ensureGeneratedModel } from '../../src/index/model';
import { IndexStore } from '../../src/index/store';
import { makeNlmFiles, type NlmFiles } from '../fixtures/nlm-mirror';
import { cephUnavailableReason, startCeph, type CephRgw } from '../engines/ceph';
import { slurmUnavailableReason, startSlurm, type SlurmCluster } from '../engines/slurm';
import { tmpDir } from './index-helpers';
import { diffSnapshots, problems, snapshot, type IndexSnapshot } from './index-snapshot';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const submit = path.join(root, 'deploy', 'slurm', 'submit.sh');
const skip = slurmUnavailableReason() ?? cephUnavailableReason();

let dir: string;
let model: string;
let nlm: NlmFiles;
let inputs: string;
let reference: IndexSnapshot;
let slurm: SlurmCluster | undefined;
let ceph: CephRgw | undefined;

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, BIOHICL_HOME: path.join(dir, 'home'), ...extra };
}

function runCli(
  args: string[],
  extra: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { env: cliEnv(extra) });
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
}

/** Submit the three jobs with deploy/slurm/submit.sh; returns their ids. */
function submitBuild(
  index: string,
  extra: Record<string, string>,
): { setup: string; array: string; finalize: string; out: string } {
  const r = spawnSync('bash', [submit, '--index', index, '--model', model, '--inputs', inputs], {
    encoding: 'utf8',
    cwd: slurm!.workDir,
    env: cliEnv({ ...slurm!.env(), BIOHICL: `${process.execPath} ${cli}`, ...extra }),
  });
  assert.equal(r.status, 0, r.stderr);
  const id = (name: string): string =>
    new RegExp(`^${name} (\\d+)`, 'm').exec(r.stdout)?.[1] ?? assert.fail(`no ${name} job id in: ${r.stdout}`);
  return { setup: id('setup'), array: id('array'), finalize: id('finalize'), out: r.stdout };
}

/** The pid of the running `index add --bulk <file>` process of this test, if any (by its command line). */
function bulkPid(fileName: string): number | undefined {
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmd.split('\0');
    if (args.includes('--bulk') && args.some((a) => a.endsWith(fileName)) && args.some((a) => a.startsWith(dir)))
      return Number(p);
  }
  return undefined;
}

before(async () => {
  if (skip) return;
  if (!fs.existsSync(cli))
    spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  dir = tmpDir('biohicl-cluster-');
  const started = Promise.all([startSlurm(), startCeph()]);
  model = path.join(dir, 'tiny');
  await ensureGeneratedModel(model, 'tiny');
  nlm = await makeNlmFiles(path.join(dir, 'nlm'));
  inputs = path.join(dir, 'inputs.txt');
  fs.writeFileSync(inputs, [...nlm.baseline, ...nlm.updates].join('\n') + '\n');
  const ref = path.join(dir, 'reference');
  const r = await runCli([
    'index',
    'add',
    ...nlm.baseline,
    ...nlm.updates,
    '--index',
    ref,
    '--model',
    model,
    '--quiet',
  ]);
  assert.equal(r.code, 0, r.err);
  reference = await snapshot(ref);
  [slurm, ceph] = await started;
  await ceph.createBucket('biohicl');
});

after(async () => {
  await Promise.all([slurm?.stop(), ceph?.stop()]);
});

test(
  'Slurm: setup → array (one task SIGKILLed, requeued) → finalize into a folder equals the single-process build',
  { skip, timeout: 600_000 },
  async () => {
    const idx = path.join(dir, 'slurm-local');
    const jobs = submitBuild(idx, { BIOHICL_ADD_OPTS: '--batch 8' });
    // SIGKILL the task of the third baseline file once it has committed something.
    const victim = path.basename(nlm.baseline[2]!);
    let killed = false;
    const t0 = Date.now();
    while (!killed && Date.now() - t0 < 120_000) {
      const pid = bulkPid(victim);
      if (pid && fs.existsSync(path.join(idx, 'meta.json'))) {
        const store = await IndexStore.open(idx, undefined, {}).catch(() => undefined);
        const n = store ? await store.articles.countRows(`source = '${nlm.baseline[2]}'`).catch(() => 0) : 0;
        store?.close();
        if (n > 0) {
          process.kill(pid, 'SIGKILL');
          killed = true;
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(killed, `the task of ${victim} was not caught running`);
    const res = await slurm!.waitJobs([jobs.setup, jobs.array, jobs.finalize], 480_000);
    for (const [id, r] of Object.entries(res)) assert.equal(r.state, 'COMPLETED', `job ${id}: ${JSON.stringify(r)}`);
    const log = fs
      .readdirSync(slurm!.workDir)
      .filter((f) => f.startsWith(`biohicl-array-${jobs.array}_2`))
      .map((f) => fs.readFileSync(path.join(slurm!.workDir, f), 'utf8'))
      .join('\n');
    // The requeued run writes the same output file: it says it is a restart, and it resumed (rows kept, not redone).
    assert.match(log, /task 2 \(restart 1\)/);
    assert.ok(JSON.parse(log.slice(log.indexOf('{'))).unchanged > 0, log);
    const snap = await snapshot(idx);
    assert.deepEqual(problems(snap), []);
    assert.deepEqual(diffSnapshots(reference, snap), []);
    const s = await runCli(['search', 'tumor', '--index', idx, '--model', model, '--mode', 'fts', '--json']);
    assert.equal(s.code, 0, s.err);
    assert.ok(JSON.parse(s.out).hits.length > 0);
  },
);

test(
  'Slurm into s3:// on a real Ceph RGW equals the single-process build; search answers from it',
  { skip, timeout: 600_000 },
  async () => {
    const uri = 's3://biohicl/pubmed-test';
    const jobs = submitBuild(uri, ceph!.env());
    const res = await slurm!.waitJobs([jobs.setup, jobs.array, jobs.finalize], 480_000);
    for (const [id, r] of Object.entries(res)) assert.equal(r.state, 'COMPLETED', `job ${id}: ${JSON.stringify(r)}`);
    const snap = await snapshot(uri, ceph!.storageOptions());
    assert.deepEqual(problems(snap), []);
    assert.deepEqual(diffSnapshots(reference, snap), []);
    const s = await runCli(
      ['search', 'tumor', '--index', uri, '--model', model, '--mode', 'fts', '--json'],
      ceph!.env(),
    );
    assert.equal(s.code, 0, s.err);
    assert.ok(JSON.parse(s.out).hits.length > 0);
  },
);

test(
  'two concurrent laptop-mode writers on s3:// give the single-writer index',
  { skip, timeout: 300_000 },
  async () => {
    const uri = 's3://biohicl/two-writers';
    const files = [...nlm.baseline.slice(0, 4), nlm.updates[0]!];
    const rs = await Promise.all(
      [files, [...files].reverse()].map((f) =>
        runCli(['index', 'add', ...f, '--index', uri, '--model', model, '--quiet'], ceph!.env()),
      ),
    );
    for (const r of rs) assert.equal(r.code, 0, r.err);
    const one = path.join(dir, 'one-writer');
    assert.equal((await runCli(['index', 'add', ...files, '--index', one, '--model', model, '--quiet'])).code, 0);
    const snap = await snapshot(uri, ceph!.storageOptions());
    assert.deepEqual(problems(snap), []);
    assert.deepEqual(diffSnapshots(await snapshot(one), snap), []);
  },
);

test(
  'an object store that ignores If-None-Match is refused for writing, saying why',
  { skip, timeout: 60_000 },
  async () => {
    // A real HTTP server that stores objects but answers every PUT with 200, whatever If-None-Match says (as s3rver
    // does): the check must catch it before LanceDB writes anything.
    const objects = new Map<string, Buffer>();
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const key = req.url!.split('?')[0]!;
        if (req.method === 'PUT') {
          objects.set(key, Buffer.concat(chunks));
          res.writeHead(200, { ETag: '"x"' }).end();
        } else if (req.method === 'GET' && objects.has(key)) res.writeHead(200).end(objects.get(key));
        else if (req.method === 'DELETE') {
          objects.delete(key);
          res.writeHead(204).end();
        } else res.writeHead(404, { 'Content-Type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const env = {
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: 'k',
        AWS_SECRET_ACCESS_KEY: 's',
        AWS_REGION: 'us-east-1',
        AWS_ALLOW_HTTP: 'true',
      };
      const r = await runCli(
        ['index', 'add', nlm.baseline[0]!, '--index', 's3://bucket/idx', '--model', model, '--quiet'],
        env,
      );
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /not safe for concurrent writers: the store ignores conditional PUT \(If-None-Match: \*\)/);
      assert.ok(![...objects.keys()].some((k) => k.includes('.lance')), 'nothing of a table was written');
    } finally {
      server.close();
    }
  },
);
