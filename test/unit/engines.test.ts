// Smoke test of the real-engine harnesses (test/engines): a throwaway Ceph RGW and a single-node Slurm cluster
// from Debian packages, installed with apt-get when missing (root only; otherwise the tests are skipped, saying
// why). Ceph: conditional PUT (If-None-Match: *) answers 412 on an existing key (of 8 racing, one wins), and
// LanceDB writes a table at s3://bucket/x and reads it back. Slurm: a 4-task array runs (all 4 at once), a
// finalize job waits on it with afterok, a task that exits 1 is reported FAILED with exit code 1. Install and
// start-up times are reported.
import '../../src/index/lance-env'; // must come before @lancedb/lancedb
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { arrow } from '../../src/index/store';
import { cephUnavailableReason, ensureCeph, startCeph } from '../engines/ceph';
import { ensureSlurm, slurmUnavailableReason, startSlurm } from '../engines/slurm';

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

test(
  'Ceph RGW: conditional PUT answers 412, LanceDB writes and reads s3://bucket/x',
  { timeout: 900_000 },
  async (t) => {
    const why = cephUnavailableReason();
    if (why) {
      t.skip(`Ceph not available: ${why}`);
      return;
    }
    const inst = await ensureCeph();
    t.diagnostic(`ceph apt install: ${inst.installed ? secs(inst.ms) : 'already installed'}`);

    const t0 = Date.now();
    const rgw = await startCeph();
    const tStart = Date.now() - t0;
    t.diagnostic(`ceph start-up (mon + memstore OSD + radosgw): ${secs(tStart)} at ${rgw.endpoint}`);
    const s3 = new S3Client({
      endpoint: rgw.endpoint,
      region: rgw.region,
      forcePathStyle: true,
      credentials: { accessKeyId: rgw.accessKey, secretAccessKey: rgw.secretKey },
    });
    const t1 = Date.now();
    try {
      assert.match(rgw.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
      await rgw.createBucket('biohicl-smoke');

      // Put-if-absent: the first conditional PUT of a new key wins, the second answers 412, the object is unchanged.
      await s3.send(new PutObjectCommand({ Bucket: 'biohicl-smoke', Key: 'k', Body: 'first', IfNoneMatch: '*' }));
      const second = await s3
        .send(new PutObjectCommand({ Bucket: 'biohicl-smoke', Key: 'k', Body: 'second', IfNoneMatch: '*' }))
        .then(
          () => undefined,
          (e: { $metadata?: { httpStatusCode?: number }; name?: string }) => e,
        );
      assert.ok(second, 'a PUT with If-None-Match: * on an existing key must fail');
      assert.equal(second.$metadata?.httpStatusCode, 412, `expected 412, got ${second.name}`);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'biohicl-smoke', Key: 'k' }));
      assert.equal(await got.Body!.transformToString(), 'first');
      // 8 concurrent conditional PUTs of one new key: exactly one wins, the others get 412 (what LanceDB's commit
      // protocol relies on; s3rver lets them all win).
      const race = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          s3.send(new PutObjectCommand({ Bucket: 'biohicl-smoke', Key: 'race', Body: `w${i}`, IfNoneMatch: '*' })),
        ),
      );
      assert.equal(race.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one conditional PUT wins');
      for (const r of race) {
        if (r.status === 'rejected')
          assert.equal((r.reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 412);
      }

      // LanceDB on the object store.
      const db = await lancedb.connect('s3://biohicl-smoke/x', { storageOptions: rgw.storageOptions() });
      const schema = new arrow.Schema([
        new arrow.Field('pmid', new arrow.Utf8(), false),
        new arrow.Field('title', new arrow.Utf8(), false),
        new arrow.Field(
          'vector',
          new arrow.FixedSizeList(4, new arrow.Field('item', new arrow.Float32(), true)),
          false,
        ),
      ]);
      const rows = [
        { pmid: '1', title: 'insulin resistance', vector: [1, 0, 0, 0] },
        { pmid: '2', title: 'tumor growth', vector: [0, 1, 0, 0] },
        { pmid: '3', title: 'statin myopathy', vector: [0, 0, 1, 0] },
      ];
      const table = await db.createTable('articles', rows, { schema });
      await table.add([{ pmid: '4', title: 'sepsis mortality', vector: [0, 0, 0, 1] }]);
      const db2 = await lancedb.connect('s3://biohicl-smoke/x', { storageOptions: rgw.storageOptions() });
      assert.deepEqual(await db2.tableNames(), ['articles']);
      const t2 = await db2.openTable('articles');
      assert.equal(await t2.countRows(), 4);
      const back = (await t2.query().select(['pmid', 'title']).toArray()).map((r) => `${r.pmid}:${r.title}`).sort();
      assert.deepEqual(back, ['1:insulin resistance', '2:tumor growth', '3:statin myopathy', '4:sepsis mortality']);
      const near = await t2.search([0, 0, 0.9, 0.1]).limit(1).toArray();
      assert.equal(near[0].pmid, '3');
      t2.close();
      table.close();
      // The table's files really are in RGW.
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'biohicl-smoke', Prefix: 'x/articles.lance/' }));
      assert.ok((listed.KeyCount ?? 0) > 0, 'no objects under x/articles.lance/');
      assert.ok(
        listed.Contents!.some((o) => o.Key!.includes('/_versions/')),
        'no _versions/ manifest in the bucket',
      );
      t.diagnostic(`ceph smoke (bucket, conditional PUT, LanceDB create/add/read/search): ${secs(Date.now() - t1)}`);
    } finally {
      s3.destroy();
      const t3 = Date.now();
      await rgw.stop();
      t.diagnostic(`ceph stop: ${secs(Date.now() - t3)}`);
    }
    assert.equal(fs.existsSync(rgw.dir), false, 'temp folder removed');
  },
);

test(
  'Slurm: a 4-task array runs at once, afterok finalize runs after it, exit 1 is FAILED',
  { timeout: 900_000 },
  async (t) => {
    const why = slurmUnavailableReason();
    if (why) {
      t.skip(`Slurm not available: ${why}`);
      return;
    }
    const inst = await ensureSlurm();
    t.diagnostic(`slurm apt install: ${inst.installed ? secs(inst.ms) : 'already installed'}`);

    const t0 = Date.now();
    const slurm = await startSlurm({ cpus: 2 });
    t.diagnostic(`slurm start-up (munged, slurmctld, slurmd, a probe job ran): ${secs(Date.now() - t0)}`);
    const t1 = Date.now();
    try {
      const out = path.join(slurm.workDir, 'out');
      fs.mkdirSync(out);
      // Each task records its start and end time (ms) and the variable passed through sbatch's environment.
      const task = path.join(slurm.workDir, 'task.sh');
      fs.writeFileSync(
        task,
        `#!/bin/sh
set -e
start=$(date +%s%3N)
sleep 2
echo "$SLURM_ARRAY_TASK_ID $start $(date +%s%3N) $SMOKE_VAR" > "${out}/task-$SLURM_ARRAY_TASK_ID"
`,
        { mode: 0o755 },
      );
      const array = await slurm.sbatch(['--array=0-3', '-o', `${out}/%A_%a.log`, task], {
        env: { SMOKE_VAR: 'through' },
      });
      const fin = await slurm.sbatch([
        `--dependency=afterok:${array}`,
        '-o',
        `${out}/final.log`,
        '--wrap',
        `ls ${out} | grep -c '^task-' > ${out}/final`,
      ]);
      const bad = await slurm.sbatch(['-o', `${out}/bad.log`, '--wrap', 'echo failing; exit 1']);
      const afterBad = await slurm.sbatch([`--dependency=afterok:${bad}`, '--wrap', 'touch never']);

      const res = await slurm.waitJobs([array, fin, bad, afterBad], 60_000);
      for (const i of [0, 1, 2, 3]) {
        assert.deepEqual(res[`${array}_${i}`], { state: 'COMPLETED', exitCode: '0:0', reason: 'None' }, `task ${i}`);
      }
      assert.equal(res[fin].state, 'COMPLETED');
      assert.equal(fs.readFileSync(path.join(out, 'final'), 'utf8').trim(), '4', 'finalize saw all 4 task files');
      assert.equal(res[bad].state, 'FAILED');
      assert.equal(res[bad].exitCode, '1:0');
      assert.equal(res[afterBad].state, 'CANCELLED'); // kill_invalid_depend: never left pending
      assert.equal(res[afterBad].reason, 'DependencyNeverSatisfied');
      assert.equal(fs.existsSync(path.join(slurm.workDir, 'never')), false);

      const spans = [0, 1, 2, 3].map((i) => {
        const [id, start, end, v] = fs
          .readFileSync(path.join(out, `task-${i}`), 'utf8')
          .trim()
          .split(' ');
        assert.equal(id, String(i));
        assert.equal(v, 'through', 'sbatch env reaches the task');
        return { start: Number(start), end: Number(end) };
      });
      // OverSubscribe=FORCE:4 on 2 CPUs: all 4 tasks overlap in time.
      assert.ok(
        Math.max(...spans.map((s) => s.start)) < Math.min(...spans.map((s) => s.end)),
        'the 4 tasks ran at once',
      );
      assert.match(fs.readFileSync(path.join(out, 'bad.log'), 'utf8'), /failing/);
      t.diagnostic(`slurm smoke (array 0-3 + afterok finalize + failing job): ${secs(Date.now() - t1)}`);
    } finally {
      const t2 = Date.now();
      await slurm.stop();
      t.diagnostic(`slurm stop: ${secs(Date.now() - t2)}`);
    }
    assert.equal(fs.existsSync(slurm.dir), false, 'temp folder removed');
  },
);
