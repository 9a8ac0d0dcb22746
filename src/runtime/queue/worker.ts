// `lvi worker`: pulls node jobs from the queue and computes them with lvi's own runners.
//
// Each job runs the local executor over a private cache folder inside the shared cache
// (<cache>/.workers/<host>-<pid>-<n>/): the job's dependencies already in the shared cache are
// linked in, its loaders rerun here, and when the node is done its finished entries are moved
// into the shared cache by one rename each (same file system), so a worker killed at any point
// leaves no partial entry, and two workers racing on one key leave one complete entry.

import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker, UnrecoverableError, type Job } from 'bullmq';
import { lviVersion } from '../../compiler/index.js';
import type { Plan } from '../../compiler/plan.js';
import type { Device } from '../api.js';
import { effectiveKeys, ResultCache } from '../executor/cache.js';
import { topologicalOrder } from '../executor/graph.js';
import { executePlan } from '../executor/index.js';
import type { NodeRunner, RunContext } from '../runner.js';
import { loadRunners } from '../runners.js';
import { checkJob, JobRefused } from './check.js';
import { QUEUE_NAME, QUEUE_PREFIX, type JobData, type JobProgress, type JobResult } from './jobs.js';
import { maskSecrets, type RedisTarget } from './url.js';

export interface WorkerOptions {
  target: RedisTarget;
  /** Overrides the study's device. */
  device?: Device;
  concurrency?: number;
  /** The shared cache; default: the folder the submitter named (which must lie in its study). */
  cacheDir?: string;
  /**
   * How long (s) a job stays with a worker that stopped answering before another takes it
   * (BullMQ's lock duration and stalled-job check). Default 30.
   */
  stalledSeconds?: number;
  log?: (line: string) => void;
}

export interface RunningWorker {
  name: string;
  worker: Worker;
  /** Finishes the running jobs, then disconnects. */
  close(): Promise<void>;
}

let jobCounter = 0;

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const name = `${hostname()}-${process.pid}`;
  const version = lviVersion();
  const stalledMs = Math.round((options.stalledSeconds ?? 30) * 1000);
  const kernels = await loadRunners();
  const swept = new Set<string>();

  const processor = async (job: Job): Promise<JobResult> => {
    let checked;
    try {
      checked = await checkJob(job.data, { lviVersion: version, kernels, cacheDir: options.cacheDir });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log(`refused job ${String(job.id).slice(0, 12)}: ${message}`);
      // No retry can fix a refused job.
      throw e instanceof JobRefused ? new UnrecoverableError(`refused by worker ${name}: ${message}`) : e;
    }
    const { data, cacheDir } = checked;
    return runJob(job, data, cacheDir);
  };

  const runJob = async (job: Job, data: JobData, cacheDir: string): Promise<JobResult> => {
    const shared = new ResultCache(cacheDir);
    for (const d of [join(cacheDir, '.workers'), join(data.plan.studyDir, '.lvi', 'worker-out')]) {
      if (swept.has(d)) continue;
      swept.add(d);
      await sweepDeadWorkers(d);
    }
    const plan = data.plan;
    const keys = effectiveKeys(topologicalOrder(plan), plan, kernels);
    const force = (job.data as { force?: boolean }).force === true;
    if (!force && (await shared.read(data.key))) {
      log(`cached  ${data.title}`);
      return { status: 'cached', seconds: 0, worker: name };
    }
    const slot = `${name}-${jobCounter++}`;
    const privateRoot = join(cacheDir, '.workers', slot);
    // The executor copies outputs to <out> and writes only inside the study folder: the scratch
    // <out> of a job lives there (the shared cache may be elsewhere), and goes with the job.
    const scratchOut = join(plan.studyDir, '.lvi', 'worker-out', slot);
    await mkdir(privateRoot, { recursive: true });
    try {
      // Cached results the shared cache already holds are linked in, so only this node runs.
      // Loaders are not: they rerun here to provide their values, and commit fresh entries.
      for (const node of plan.nodes) {
        const key = keys.get(node.id)!;
        if (node.id === data.nodeId || !kernels(node.kind)?.cache) continue;
        if (await shared.read(key)) await symlink(shared.entryDir(key), join(privateRoot, key), 'dir');
      }
      let lastProgress = 0;
      const wrapped = (kind: string): NodeRunner | undefined => {
        const runner = kernels(kind);
        if (!runner) return undefined;
        return {
          ...runner,
          run: (ctx: RunContext) =>
            runner.run(
              ctx.node.id !== data.nodeId
                ? ctx
                : {
                    ...ctx,
                    progress: (done, total, label) => {
                      ctx.progress(done, total, label);
                      const now = Date.now();
                      // BullMQ progress goes through Redis: a few updates a second are plenty.
                      if (now - lastProgress < 200 && done < total) return;
                      lastProgress = now;
                      const p: JobProgress = { done, total, label };
                      job.updateProgress(p as unknown as object).catch(() => undefined);
                    },
                  },
            ),
        };
      };
      const scratchPlan: Plan = { ...plan, outDir: scratchOut };
      const summary = await executePlan(scratchPlan, {
        only: [data.nodeId],
        force,
        device: options.device,
        cacheDir: privateRoot,
        lockFile: false,
        progress: 'none',
        kernels: wrapped,
      });
      const mine = summary.nodes.find((n) => n.id === data.nodeId);
      if (!mine || (mine.status !== 'ran' && mine.status !== 'cached')) {
        const failed = summary.nodes.find((n) => n.status === 'failed');
        const reason = mine?.status === 'failed' || !failed ? (mine?.error ?? 'not run') : `${failed.id} failed: ${failed.error ?? ''}`;
        log(`failed  ${data.title}: ${reason}`);
        // A node's failure is deterministic (a bad model, a bad window): retrying repeats it.
        throw new UnrecoverableError(reason);
      }
      for (const node of plan.nodes) await publish(privateRoot, shared, keys.get(node.id)!, node.id === data.nodeId && force);
      log(`ran     ${data.title} (${mine.seconds.toFixed(1)}s)`);
      return { status: 'ran', seconds: mine.seconds, device: typeof mine.summary.device === 'string' ? mine.summary.device : undefined, worker: name };
    } finally {
      await rm(privateRoot, { recursive: true, force: true }).catch(() => undefined);
      await rm(scratchOut, { recursive: true, force: true }).catch(() => undefined);
    }
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: options.target.options,
    prefix: QUEUE_PREFIX,
    concurrency: Math.max(1, options.concurrency ?? 1),
    lockDuration: stalledMs,
    // The check for expired locks is cheap: run it often, so a dead worker's job moves on
    // soon after its lock runs out.
    stalledInterval: Math.min(stalledMs, 5000),
    // A job whose worker died twice is still retried once more before it fails.
    maxStalledCount: 2,
    name,
  });
  let lastError = '';
  worker.on('error', (e) => {
    // Redis restarts show up here; the client reconnects by itself. Say so once per message.
    const message = maskSecrets(e instanceof Error ? e.message : String(e), options.target);
    if (message !== lastError) log(`worker ${name}: ${message} (reconnecting)`);
    lastError = message;
  });
  worker.on('ready', () => {
    if (lastError) log(`worker ${name}: connected to ${options.target.shown}`);
    lastError = '';
  });
  await worker.waitUntilReady();
  log(`worker ${name}: waiting for jobs on ${options.target.shown} (lvi ${version}, concurrency ${Math.max(1, options.concurrency ?? 1)})`);
  return {
    name,
    worker,
    close: () => worker.close(),
  };
}

/** Moves a finished entry of the private cache into the shared one (one rename, same disk). */
async function publish(privateRoot: string, shared: ResultCache, key: string, replace: boolean): Promise<void> {
  const from = join(privateRoot, key);
  let st;
  try {
    st = await lstat(from);
  } catch {
    return; // nothing made for this node (a dependency linked from the shared cache)
  }
  if (st.isSymbolicLink() || !st.isDirectory()) return;
  const to = shared.entryDir(key);
  await mkdir(shared.root, { recursive: true });
  if (existsSync(to)) {
    if (!replace && (await shared.read(key))) return; // another worker got there first
    // An incomplete or outdated entry (or --force): swap it out first, as the executor does.
    const trash = `${from}.old`;
    await rename(to, trash).catch(() => undefined);
  }
  try {
    await rename(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
  }
}

/** Private folders of workers on this host that were killed: their entries never made it. */
async function sweepDeadWorkers(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const host = hostname();
  for (const n of names) {
    const m = /^(.*)-(\d+)-\d+$/.exec(n);
    if (!m || m[1] !== host || Number(m[2]) === process.pid || isAlive(Number(m[2]))) continue;
    await rm(join(dir, n), { recursive: true, force: true }).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
