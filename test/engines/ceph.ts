// A real, throwaway, single-node Ceph object store for tests: one monitor, one memstore OSD and radosgw (beast)
// on 127.0.0.1, Debian's Ceph 16.2 (`apt-get install -y radosgw ceph-mon ceph-osd`, only when missing).
// Everything (config, run dir, pid files, admin sockets, logs, mon/OSD data) lives in one fresh temp folder that
// stop() removes; daemons are stopped by the pids in their pid files. Auth is off (auth_*_required = none);
// S3 requests are still signed with the access/secret key of an RGW user created here. See README.md.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  aptEnsure,
  installBlocker,
  freePorts,
  killNowSync,
  markedPids,
  onProcessExit,
  reapOrphans,
  run,
  startDaemon,
  stopPid,
  stopPidFile,
  tail,
  waitFor,
  writeOwner,
} from './proc';

export const CEPH_PACKAGES = ['radosgw', 'ceph-mon', 'ceph-osd'];
const CEPH_BINS = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph'];
const MARKER = 'BIOHICL_CEPH_HARNESS';

export interface CephRgw {
  /** http://127.0.0.1:PORT — the S3 endpoint (path-style). */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: 'us-east-1';
  /** The temp folder holding everything (ceph.conf, logs in log/, pid files and admin sockets in run/). */
  dir: string;
  /** Creates an S3 bucket (path-style request to RGW). */
  createBucket(name: string): Promise<void>;
  /** LanceDB `storageOptions` for `connect('s3://bucket/prefix', { storageOptions })`. */
  storageOptions(): Record<string, string>;
  /** Environment for child processes using the AWS SDK / object_store env conventions. */
  env(): Record<string, string>;
  /** Runs the `ceph` CLI against this cluster; returns stdout. */
  ceph(args: string[]): Promise<string>;
  /** Stops radosgw, the OSD and the monitor (by pid file) and removes the temp folder. Idempotent. */
  stop(): Promise<void>;
}

export interface CephOptions {
  /** Parent folder for the fresh temp folder (default os.tmpdir()). Keep it short: admin socket paths ≤ 107 bytes. */
  dir?: string;
  /** memstore capacity in bytes (data lives in RAM; default 1 GiB). */
  memBytes?: number;
  /** Give up starting after this long (default 120 s). */
  timeoutMs?: number;
}

/** Why Ceph cannot be had here (not installed and not installable), or undefined. */
export function cephUnavailableReason(): string | undefined {
  return installBlocker(CEPH_BINS, CEPH_PACKAGES);
}

/** apt-get installs Ceph when any binary is missing; returns how long that took (0 when already there). */
export function ensureCeph(): Promise<{ installed: boolean; ms: number }> {
  return aptEnsure(CEPH_BINS, CEPH_PACKAGES);
}

export async function startCeph(opts: CephOptions = {}): Promise<CephRgw> {
  await ensureCeph();
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const parent = opts.dir ?? os.tmpdir();
  fs.mkdirSync(parent, { recursive: true });
  reapOrphans(MARKER, 'biohicl-ceph-'); // daemons of an earlier run that was SIGKILLed
  const dir = fs.mkdtempSync(path.join(parent, 'biohicl-ceph-'));
  writeOwner(dir);
  if (Buffer.byteLength(path.join(dir, 'run', 'client.rgw.asok')) > 107) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`Ceph temp folder path too long for admin sockets: ${dir}`);
  }
  for (const d of ['run', 'log', 'mon/a', 'osd/0', 'rgw']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const conf = path.join(dir, 'ceph.conf');
  const fsid = crypto.randomUUID();
  const [monPort, rgwPort] = await freePorts(2);
  const memBytes = Math.max(256 * 1024 * 1024, Math.floor(opts.memBytes ?? 1024 ** 3));
  fs.writeFileSync(
    conf,
    `[global]
fsid = ${fsid}
mon host = v1:127.0.0.1:${monPort}
mon initial members = a
public addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind msgr2 = false
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
keyring = /dev/null
run dir = ${dir}/run
pid file = ${dir}/run/$name.pid
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
log to stderr = false
err to stderr = false
log to syslog = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
# each map change (pool create, OSD boot) waits for the next Paxos proposal: 1 s by default; 2 s per RGW pool
paxos propose interval = 0.05
paxos min wait = 0.01
[mon]
mon data = ${dir}/mon/$id
[osd]
osd data = ${dir}/osd/$id
osd objectstore = memstore
memstore device bytes = ${memBytes}
osd crush update on start = false
osd class update on start = false
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
rgw enable usage log = false
`,
  );
  // Every process we start carries the marker (children inherit it), and the conf path in its command line.
  const env: NodeJS.ProcessEnv = { ...process.env, CEPH_CONF: conf, [MARKER]: dir };
  const pidFiles = ['client.rgw', 'osd.0', 'mon.a'].map((n) => path.join(dir, 'run', `${n}.pid`));
  const log = (n: string) => path.join(dir, 'log', n);
  const diag = () =>
    ['mon.a', 'osd.0', 'client.rgw', 'launch'].map((n) => `--- ${n}.log\n${tail(log(`${n}.log`), 15)}`).join('\n');
  // Trap: with auth none a client can send its first command before it has the monmap, with fsid 0000…; the mon
  // refuses it and the CLI says "Error EPERM: problem getting command descriptions from mon." (~1 call in 10
  // here). Every command we send is idempotent, so such a refusal is simply retried.
  const cli = async (cmd: string, args: string[], timeout = 30_000): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await run(cmd, ['-c', conf, ...args], { env, timeoutMs: timeout })).stdout;
      } catch (e) {
        if (attempt >= 8 || !/problem getting command descriptions|EPERM/.test(String(e))) throw e;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  };

  let stopped = false;
  const unhook = onProcessExit(() => {
    if (stopped) return;
    killNowSync(pidFiles, dir, [MARKER, dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // In this order: radosgw (its shutdown hangs on librados while the OSD is gone), the OSD (it tells the
    // monitor it is going; with the mon gone it waits ~5 s), the monitor. About 0.5 s in all.
    for (const f of pidFiles) await stopPidFile(f, dir, 3000);
    for (const p of markedPids(MARKER, dir)) await stopPid(p, 1000); // anything left (e.g. a half-started daemon)
    if (!process.env.BIOHICL_ENGINES_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    unhook();
  };

  const t0 = Date.now();
  const left = () => Math.max(1000, timeoutMs - (Date.now() - t0));
  try {
    // Monitor.
    await run(
      'monmaptool',
      ['--create', '--addv', 'a', `[v1:127.0.0.1:${monPort}]`, '--fsid', fsid, path.join(dir, 'monmap')],
      { env },
    );
    await cli('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', path.join(dir, 'monmap')]);
    await startDaemon('ceph-mon', ['-c', conf, '-i', 'a'], { env, logFile: log('launch.log') });
    // Ready when it answers a map command (quorum_status can answer while `osd …` commands still get EPERM).
    await waitFor(
      'the monitor to form a quorum and answer',
      async () => {
        const s = JSON.parse(await cli('ceph', ['osd', 'stat', '-f', 'json', '--connect-timeout', '5'], 10_000));
        return typeof s === 'object' && s !== null;
      },
      left(),
      diag,
    );

    // OSD. Trap (scale-engines.md): the uuid to register is the one memstore wrote to <osd data>/fsid, not the
    // one we meant; here 16.2.15 writes --osd-uuid when given and all zeros without. Register what is in the file.
    await cli('ceph-osd', ['-i', '0', '--mkfs', '--osd-uuid', crypto.randomUUID()]);
    const osdUuid = fs.readFileSync(path.join(dir, 'osd/0/fsid'), 'utf8').trim();
    const id = (await cli('ceph', ['osd', 'create', osdUuid])).trim();
    if (id !== '0') throw new Error(`ceph osd create returned id ${id}, expected 0`);
    // Trap 2: at start the OSD sends `osd crush set-device-class`/`create-or-move` itself, and with auth none it
    // can do so before it has the monmap: the mon refuses "handle_command on fsid 0000… != <fsid>", the OSD exits
    // 250 (about 1 start in 3 here). So the OSD's own crush updates are off and we place it in the map ourselves.
    await cli('ceph', ['osd', 'crush', 'add', 'osd.0', '1.0', 'root=default']);
    await startDaemon('ceph-osd', ['-c', conf, '-i', '0'], { env, logFile: log('launch.log') });
    await waitFor(
      'the OSD to be up',
      async () => {
        const s = JSON.parse(await cli('ceph', ['osd', 'stat', '-f', 'json'], 10_000));
        return (s.num_up_osds ?? s.osdmap?.num_up_osds) === 1;
      },
      left(),
      diag,
    );

    // radosgw (creates its pools on first start), then an S3 user.
    await startDaemon('radosgw', ['-c', conf, '-n', 'client.rgw'], { env, logFile: log('launch.log') });
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitFor(
      'radosgw to answer HTTP',
      async () => {
        const r = await fetch(endpoint + '/', { signal: AbortSignal.timeout(2000) });
        await r.arrayBuffer();
        return r.status > 0;
      },
      left(),
      diag,
      250,
    );
    const accessKey = 'BIOHICL' + crypto.randomBytes(8).toString('hex').toUpperCase();
    const secretKey = crypto.randomBytes(24).toString('base64url');
    await cli('radosgw-admin', [
      'user',
      'create',
      '--uid=biohicl-test',
      '--display-name=biohicl test',
      `--access-key=${accessKey}`,
      `--secret-key=${secretKey}`,
    ]);

    const region = 'us-east-1' as const;
    const rgw: CephRgw = {
      endpoint,
      accessKey,
      secretKey,
      region,
      dir,
      async createBucket(name: string) {
        const s3 = new S3Client({
          endpoint,
          region,
          forcePathStyle: true,
          credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
        });
        try {
          await s3.send(new CreateBucketCommand({ Bucket: name }));
        } finally {
          s3.destroy();
        }
      },
      storageOptions: () => ({
        aws_endpoint: endpoint,
        aws_allow_http: 'true',
        aws_access_key_id: accessKey,
        aws_secret_access_key: secretKey,
        aws_region: region,
      }),
      env: () => ({
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: accessKey,
        AWS_SECRET_ACCESS_KEY: secretKey,
        AWS_REGION: region,
        AWS_ALLOW_HTTP: 'true',
      }),
      ceph: (args) => cli('ceph', args),
      stop,
    };
    return rgw;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    await stop();
    throw new Error(`Ceph did not start: ${msg}`);
  }
}
