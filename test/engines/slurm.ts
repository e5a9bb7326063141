// A real single-node Slurm cluster for tests: Debian's slurm-wlm 22.05 + munge 0.5.15 (installed with
// `apt-get install -y --no-install-recommends slurm-wlm munge` only when missing). This host is controller and
// compute node. Nothing global is read or written: slurm.conf, the munge key and socket, pid files, spool/state dirs
// and logs all live in one fresh temp folder (slurmctld/slurmd take `-f <conf>`, the client commands SLURM_CONF,
// munged --key-file/--socket/…, and slurm.conf's AuthInfo=socket=… points Slurm at that munged). stop() cancels
// what is left, stops slurmd, slurmctld and munged by the pids in their pid files, and removes the folder.
//
// Job results: accounting is off, so `sacct` does not work. waitJobs() reads `scontrol show job -o` — slurmctld
// keeps finished job records for MinJobAge, set here to 24 h — and returns each job's (or array task's) final
// JobState and ExitCode ("<exit status>:<signal>", e.g. "1:0"). See README.md.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  aptEnsure,
  installBlocker,
  isRoot,
  freePorts,
  killNowSync,
  markedPids,
  onProcessExit,
  reapOrphans,
  run,
  sleep,
  startDaemon,
  stopPid,
  stopPidFile,
  tail,
  waitFor,
  writeOwner,
} from './proc';

export const SLURM_PACKAGES = ['slurm-wlm', 'munge'];
const SLURM_BINS = ['slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo', 'munged', 'munge'];
const MARKER = 'BIOHICL_SLURM_HARNESS';

/** Slurm job states after which a job (or array task) will not change any more. */
export const TERMINAL_STATES = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
]);

export interface JobResult {
  /** Final JobState: COMPLETED, FAILED, CANCELLED, TIMEOUT, … */
  state: string;
  /** Slurm's ExitCode "<exit status>:<signal>": "0:0" ok, "1:0" exited 1, "0:9" killed by SIGKILL. */
  exitCode: string;
  /** Slurm's Reason (e.g. NonZeroExitCode, DependencyNeverSatisfied). */
  reason: string;
}

export interface SbatchOptions {
  /** Working directory of the submission and of the job (default: the cluster's `workDir`). */
  cwd?: string;
  /** Extra environment for sbatch; with Slurm's default --export=ALL the job sees it too. */
  env?: Record<string, string>;
}

export interface SlurmCluster {
  /** The temp folder (slurm.conf, munge/, ctld/, d/, log/, jobs/). */
  dir: string;
  /** Path of this cluster's slurm.conf. */
  conf: string;
  /** Default working directory of submitted jobs (default `-o` output `slurm-%j.out` lands here). */
  workDir: string;
  /**
   * Environment that points Slurm clients (sbatch, squeue, …) at this cluster: { SLURM_CONF, BIOHICL_SLURM_HARNESS }.
   * The second marks processes (and the jobs they submit) for clean-up: stop() kills any still running.
   */
  env(): Record<string, string>;
  /** Runs `sbatch --parsable …args` and returns the job id ("123"; an --array job's id is the array's id). */
  sbatch(args: string[], opts?: SbatchOptions): Promise<string>;
  /**
   * Waits until every job in `ids` ("123" — a plain job or a whole array — or "123_4", one array task) has reached
   * a terminal state; returns one entry per job or array task, keyed "123" or "123_4". Throws on timeout.
   */
  waitJobs(ids: string[], timeoutMs: number): Promise<Record<string, JobResult>>;
  /** `squeue -h -a -t all -o '%i|%T|%r'` plus args; raw stdout. */
  squeue(args?: string[]): Promise<string>;
  /** `scontrol …args`; raw stdout. */
  scontrol(args: string[]): Promise<string>;
  /** Cancels remaining jobs, stops slurmd, slurmctld and munged (by pid file), removes the folder. Idempotent. */
  stop(): Promise<void>;
}

export interface SlurmOptions {
  /** Parent folder for the fresh temp folder (default os.tmpdir()); must be traversable by user munge. */
  dir?: string;
  /** CPUs the node declares (default: this machine's count). Each partition slot may be shared 4 ways. */
  cpus?: number;
  /** Give up starting after this long (default 60 s). */
  timeoutMs?: number;
}

/** Why Slurm cannot be had here (not root: slurmd and munged as user munge need root; or not installable). */
export function slurmUnavailableReason(): string | undefined {
  if (!isRoot()) return 'the Slurm harness needs root (slurmd runs jobs as root, munged is started as user munge)';
  return installBlocker(SLURM_BINS, SLURM_PACKAGES);
}

/** apt-get installs slurm-wlm + munge when any binary is missing; returns how long that took (0 when present). */
export function ensureSlurm(): Promise<{ installed: boolean; ms: number }> {
  return aptEnsure(SLURM_BINS, SLURM_PACKAGES, { noRecommends: true });
}

function mungeIds(): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('munge:'));
  if (!line) throw new Error('no user "munge" (the munge package creates it)');
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Parses `scontrol show job -o` output: one record per line, Key=Value pairs (values without spaces suffice). */
function parseJobs(out: string): Array<Record<string, string>> {
  const recs: Array<Record<string, string>> = [];
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const r: Record<string, string> = {};
    for (const m of line.matchAll(/(?:^|\s)([A-Za-z][\w/:]*)=(\S*)/g)) if (!(m[1] in r)) r[m[1]] = m[2];
    if (r.JobId) recs.push(r);
  }
  return recs;
}

export async function startSlurm(opts: SlurmOptions = {}): Promise<SlurmCluster> {
  const why = slurmUnavailableReason();
  if (why) throw new Error(why);
  await ensureSlurm();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const cpus = Math.max(1, Math.floor(opts.cpus ?? os.cpus().length));
  const parent = opts.dir ?? os.tmpdir();
  fs.mkdirSync(parent, { recursive: true });
  reapOrphans(MARKER, 'biohicl-slurm-'); // daemons and jobs of an earlier run that was SIGKILLed
  const dir = fs.mkdtempSync(path.join(parent, 'biohicl-slurm-'));
  writeOwner(dir);
  fs.chmodSync(dir, 0o711); // munged (user munge) must reach its socket dir below
  const sock = path.join(dir, 'munge', 'munge.socket');
  if (Buffer.byteLength(sock) > 100) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`Slurm temp folder path too long for the munge socket: ${dir}`);
  }
  for (const d of ['munge', 'ctld', 'd', 'log', 'jobs']) fs.mkdirSync(path.join(dir, d));
  const conf = path.join(dir, 'slurm.conf');
  const workDir = path.join(dir, 'jobs');
  const host = os.hostname().split('.')[0];
  const [ctldPort, slurmdPort] = await freePorts(2);

  // munge: our own key (1 KiB random), socket, pid, log and seed files, owned by user munge. munged insists the
  // socket dir be 0755 (execute for all) and the key be 0400/0600 owned by the daemon's user.
  const { uid, gid } = mungeIds();
  const mungeDir = path.join(dir, 'munge');
  fs.writeFileSync(path.join(mungeDir, 'munge.key'), crypto.randomBytes(1024), { mode: 0o400 });
  fs.chownSync(path.join(mungeDir, 'munge.key'), uid, gid);
  fs.chownSync(mungeDir, uid, gid);
  fs.chmodSync(mungeDir, 0o755);

  fs.writeFileSync(path.join(dir, 'plugstack.conf'), ''); // so /etc/slurm/plugstack.conf is not read either
  fs.writeFileSync(
    conf,
    `# BioHiCL test cluster (test/engines/slurm.ts), throwaway
ClusterName=biohicl
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=${ctldPort}
SlurmdPort=${slurmdPort}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${sock},cred_expire=5
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmctldDebug=${process.env.BIOHICL_SLURM_DEBUG ?? 'info'}
SlurmdDebug=${process.env.BIOHICL_SLURM_DEBUG ?? 'info'}
SlurmdParameters=config_overrides
# finished jobs stay visible to scontrol show job for 24 h (accounting is off, so that is where results are)
MinJobAge=86400
MaxJobCount=100000
# a dependency that can never be satisfied (afterok on a failed job) cancels the dependent job instead of
# leaving it pending forever
DependencyParameters=kill_invalid_depend
SchedulerParameters=batch_sched_delay=0
StateSaveLocation=${dir}/ctld
SlurmdSpoolDir=${dir}/d
SlurmctldPidFile=${dir}/ctld/slurmctld.pid
SlurmdPidFile=${dir}/d/slurmd.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
PlugStackConfig=${dir}/plugstack.conf
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} State=UNKNOWN
PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
`,
  );

  // Every process started here — daemons, and through sbatch's --export=ALL every job — carries the marker, so
  // stop() (and the crash clean-up) can find what is left without looking at process names.
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf, [MARKER]: dir };
  const clientEnv = (extra?: Record<string, string>): NodeJS.ProcessEnv => ({
    ...process.env,
    ...extra,
    SLURM_CONF: conf,
    [MARKER]: dir,
  });
  const pid = {
    munged: path.join(mungeDir, 'munged.pid'),
    slurmctld: path.join(dir, 'ctld', 'slurmctld.pid'),
    slurmd: path.join(dir, 'd', 'slurmd.pid'),
  };
  const log = (n: string) => path.join(dir, 'log', n);
  const diag = () =>
    [
      `--- munged.log\n${tail(path.join(mungeDir, 'munged.log'), 10)}`,
      ...['slurmctld', 'slurmd', 'launch'].map((n) => `--- ${n}.log\n${tail(log(`${n}.log`), 15)}`),
    ].join('\n');
  const cli = async (cmd: string, args: string[], extra?: Record<string, string>, cwd?: string) =>
    (await run(cmd, args, { env: clientEnv(extra), cwd: cwd ?? workDir, timeoutMs: 60_000 })).stdout;

  let stopped = false;
  const pidFiles = [pid.slurmd, pid.slurmctld, pid.munged];
  const unhook = onProcessExit(() => {
    if (stopped) return;
    killNowSync(pidFiles, dir, [MARKER, dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Cancel whatever still runs (only this cluster's jobs: SLURM_CONF), give slurmd a moment to reap them.
    if (fs.existsSync(pid.slurmctld)) {
      await run('scancel', ['--user', String(os.userInfo().username)], {
        env: clientEnv(),
        allowFail: true,
        timeoutMs: 10_000,
      }).catch(() => undefined);
      const t0 = Date.now();
      while (Date.now() - t0 < 5000) {
        const r = await run('squeue', ['-h', '-o', '%i'], { env: clientEnv(), allowFail: true, timeoutMs: 5000 }).catch(
          () => undefined,
        );
        if (!r || r.code !== 0 || !r.stdout.trim()) break;
        await sleep(200);
      }
    }
    await stopPidFile(pid.slurmd, dir, 5000);
    await stopPidFile(pid.slurmctld, dir, 5000);
    await stopPidFile(pid.munged, dir, 3000);
    // Left-overs carry our marker in their environment (slurmstepd, job processes of a cancelled job).
    for (const p of markedPids(MARKER, dir)) await stopPid(p, 1000);
    if (!process.env.BIOHICL_ENGINES_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    unhook();
  };

  const t0 = Date.now();
  const left = () => Math.max(1000, timeoutMs - (Date.now() - t0));
  try {
    await startDaemon(
      'munged',
      [
        `--key-file=${path.join(mungeDir, 'munge.key')}`,
        `--socket=${sock}`,
        `--pid-file=${pid.munged}`,
        `--log-file=${path.join(mungeDir, 'munged.log')}`,
        `--seed-file=${path.join(mungeDir, 'munged.seed')}`,
      ],
      { env, uid, gid, cwd: mungeDir, logFile: log('launch.log') },
    );
    const cred = (await run('munge', ['-S', sock, '-n'], { env })).stdout;
    const r = await run('unmunge', ['-S', sock], { env, input: cred, allowFail: true });
    const check = r.stdout + r.stderr;
    if (!/STATUS:\s+Success/.test(check)) throw new Error(`munge -n | unmunge did not succeed:\n${check}`);

    await startDaemon('slurmctld', ['-f', conf], { env, cwd: dir, logFile: log('launch.log') });
    await startDaemon('slurmd', ['-f', conf, '-N', host], { env, cwd: dir, logFile: log('launch.log') });
    await waitFor(
      'the node to be idle',
      async () => {
        const r = await run('sinfo', ['-h', '-N', '-o', '%T'], { env: clientEnv(), allowFail: true, timeoutMs: 5000 });
        return r.code === 0 && /^idle/m.test(r.stdout);
      },
      left(),
      diag,
      150,
    );
    // Ready when a job has run: this proves munge credentials, slurmd's launch and slurmstepd work, and waits
    // out slurmctld's first scheduler pass (about 3 s after it starts; later passes follow every second).
    const probe = (await cli('sbatch', ['--parsable', '-o', '/dev/null', '-J', 'harness-probe', '--wrap', 'true']))
      .trim()
      .split(';')[0];
    await waitFor(
      'a probe job to complete',
      async () => {
        const j = parseJobs(await cli('scontrol', ['show', 'job', '-o', probe]))[0];
        if (j && TERMINAL_STATES.has(j.JobState) && j.JobState !== 'COMPLETED')
          throw new Error(`probe job ${j.JobState} ${j.ExitCode}`);
        return j?.JobState === 'COMPLETED';
      },
      left(),
      diag,
      100,
    );
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    await stop();
    throw new Error(`Slurm did not start: ${msg}\n${diag()}`);
  }

  const scontrol = (args: string[]) => cli('scontrol', args);
  return {
    dir,
    conf,
    workDir,
    env: () => ({ SLURM_CONF: conf, [MARKER]: dir }),
    async sbatch(args, o = {}) {
      const out = (await cli('sbatch', ['--parsable', ...args], o.env, o.cwd)).trim();
      const id = out.split('\n').pop()!.split(';')[0].trim();
      if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: ${out}`);
      return id;
    },
    async waitJobs(ids, waitMs) {
      const t1 = Date.now();
      for (;;) {
        const result: Record<string, JobResult> = {};
        let pending = 0;
        for (const id of ids) {
          const r = await run('scontrol', ['show', 'job', '-o', id], {
            env: clientEnv(),
            allowFail: true,
            timeoutMs: 10_000,
          });
          if (r.code !== 0) throw new Error(`scontrol show job ${id}: ${r.stderr.trim() || r.stdout.trim()}`);
          const recs = parseJobs(r.stdout);
          if (!recs.length) throw new Error(`scontrol show job ${id} returned no record:\n${r.stdout}`);
          for (const j of recs) {
            // An array's not-yet-split remainder shows ArrayTaskId=2-3 (or [2-3]%N): still pending.
            const task = j.ArrayTaskId;
            const isArray = j.ArrayJobId !== undefined && task !== undefined;
            if (isArray && !/^\d+$/.test(task)) {
              pending++;
              continue;
            }
            const key = isArray ? `${j.ArrayJobId}_${task}` : j.JobId;
            const state = j.JobState ?? 'UNKNOWN';
            if (!TERMINAL_STATES.has(state)) pending++;
            result[key] = { state, exitCode: j.ExitCode ?? '', reason: j.Reason ?? '' };
          }
        }
        if (!pending) return result;
        if (Date.now() - t1 > waitMs) {
          const q = await run('squeue', ['-h', '-a', '-t', 'all', '-o', '%i|%T|%r'], {
            env: clientEnv(),
            allowFail: true,
          });
          throw new Error(
            `jobs ${ids.join(', ')} not finished after ${waitMs} ms:\n${q.stdout}\n${JSON.stringify(result)}`,
          );
        }
        await sleep(250);
      }
    },
    squeue: (args = []) => cli('squeue', ['-h', '-a', '-t', 'all', '-o', '%i|%T|%r', ...args]),
    scontrol,
    stop,
  };
}
