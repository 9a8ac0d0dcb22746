// `lvi run --queue URL`: the queue engine. The plan's analysis nodes become a BullMQ flow
// (parent/child jobs follow the plan's edges; job id = the node's content key, so two
// submitters never queue one node twice); workers compute them into the shared cache; the
// submitter shows their progress, waits, then runs the local executor over the same cache,
// which finds every node cached and writes <out>/..., the lock file and the report exactly as
// a local run does. Ctrl-C or --detach leaves the jobs queued; a resubmit attaches to them.

import { FlowProducer, Queue, QueueEvents, type FlowJob, type JobsOptions } from 'bullmq';
import { join } from 'node:path';
import { lviVersion } from '../../compiler/index.js';
import type { Plan, PlanNode } from '../../compiler/plan.js';
import { effectiveKeys, ResultCache } from '../executor/cache.js';
import { namedNodes, selectNodes, topologicalOrder } from '../executor/graph.js';
import { executePlan, nodeTitle, type ExecuteOptions, type RunSummary } from '../executor/index.js';
import { barProgress, formatSeconds, lineProgress, type NodeProgress, type ProgressSink } from '../executor/progress.js';
import type { NodeRunner } from '../runner.js';
import { loadRunners } from '../runners.js';
import { JOB_FORMAT, QUEUE_NAME, QUEUE_PREFIX, queuedKinds, subPlan, type JobData, type JobProgress, type JobResult } from './jobs.js';
import { maskSecrets, type RedisTarget } from './url.js';

export interface QueueRunOptions extends ExecuteOptions {
  target: RedisTarget;
  /** Submit and return without waiting. */
  detach?: boolean;
  /** Aborting (Ctrl-C) stops the waiting; the queued jobs stay queued. */
  signal?: AbortSignal;
  /** How often the submitter reads the jobs' states (ms, default 250). */
  pollMs?: number;
  /** Called when the waiting is over and the local pass (writing <out>) begins. */
  onLocalPass?: () => void;
}

export interface QueuedJob {
  nodeId: string;
  key: string;
  title: string;
  /** How this submission found it: newly queued, already in the queue, or already cached. */
  how: 'queued' | 'attached' | 'cached';
  state?: string;
  failedReason?: string;
  result?: JobResult;
}

export type QueueRunResult =
  | { outcome: 'done'; summary: RunSummary; jobs: QueuedJob[]; queueSeconds: number }
  | { outcome: 'detached'; jobs: QueuedJob[] }
  | { outcome: 'interrupted'; jobs: QueuedJob[]; pending: number };

/** Completed jobs are kept a week, so later submitters of the same node find them. */
const KEEP = { age: 7 * 24 * 3600 };

export async function runQueued(plan: Plan, options: QueueRunOptions): Promise<QueueRunResult> {
  const t0 = Date.now();
  const base = options.kernels ?? (await loadRunners(plan.nodes.map((n) => n.kind)));
  const order = topologicalOrder(plan);
  const selected = selectNodes(plan, options.only);
  const forced = options.force ? namedNodes(plan, options.only) : new Set<string>();
  const keys = effectiveKeys(order, plan, base);
  const cacheDir = options.cacheDir ?? join(plan.studyDir, '.lvi', 'cache');
  const cache = new ResultCache(cacheDir);
  const kinds = queuedKinds();
  const sink = progressSink(options);
  const log = (line: string) => sink.log(maskSecrets(line, options.target));

  const jobs = new Map<string, QueuedJob>();
  const toQueue: PlanNode[] = [];
  for (const node of order) {
    if (!selected.has(node.id) || !kinds.has(node.kind) || !base(node.kind)?.cache) continue;
    const key = keys.get(node.id)!;
    const job: QueuedJob = { nodeId: node.id, key, title: nodeTitle(node), how: 'queued' };
    jobs.set(node.id, job);
    if (!forced.has(node.id) && (await cache.read(key))) job.how = 'cached';
    else toQueue.push(node);
  }

  const connection = options.target.options;
  const queue = new Queue(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
  const flows = new FlowProducer({ connection, prefix: QUEUE_PREFIX });
  const events = new QueueEvents(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
  let lastError = '';
  const onError = (e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    if (message !== lastError) log(`queue ${options.target.shown}: ${message} (reconnecting)`);
    lastError = message;
  };
  queue.on('error', onError);
  flows.on('error', onError);
  events.on('error', onError);
  const closeAll = async () => {
    // A Redis that is down must not keep the submitter from exiting.
    const done = Promise.allSettled([queue.close(), flows.close(), events.close()]);
    await Promise.race([done, new Promise((r) => setTimeout(r, 3000).unref())]);
  };

  try {
    await Promise.all([queue.waitUntilReady(), flows.waitUntilReady(), events.waitUntilReady()]);
    // Jobs already in the queue: running or waiting ones are joined; finished ones whose result
    // is not in this cache (failed, or made for another cache) are queued again.
    const fresh: PlanNode[] = [];
    for (const node of toQueue) {
      const job = jobs.get(node.id)!;
      const state = await queue.getJobState(job.key);
      // Finished since the cache was read: nothing to queue.
      if (state === 'completed' && !forced.has(node.id) && (await cache.read(job.key))) {
        job.how = 'cached';
        continue;
      }
      const rerun = state === 'failed' || state === 'completed' || (forced.has(node.id) && state !== 'active');
      if (state !== 'unknown' && !rerun) {
        job.how = 'attached';
        continue;
      }
      if (state !== 'unknown') {
        try {
          await (await queue.getJob(job.key))?.remove();
        } catch {
          job.how = 'attached'; // locked by a worker right now: wait for that run instead
          continue;
        }
      }
      fresh.push(node);
    }
    const flowJobs = buildFlows(plan, fresh, keys, cacheDir, forced);
    // addBulk is one Redis transaction: an interrupted submit queues all of it or nothing.
    if (flowJobs.length) await flows.addBulk(flowJobs);
    const count = (how: QueuedJob['how']) => [...jobs.values()].filter((j) => j.how === how).length;
    log(`queue ${options.target.shown}: ${count('queued')} queued, ${count('attached')} already in the queue, ${count('cached')} cached`);

    const pending = new Map([...jobs.values()].filter((j) => j.how !== 'cached').map((j) => [j.key, j]));
    if (pending.size > 0) {
      // CLIENT LIST may be refused by a managed Redis: then say nothing.
      const workers = await queue.getWorkersCount().catch(() => -1);
      if (workers === 0) log(`no lvi worker is connected to ${options.target.shown} yet: the jobs wait until one starts (\`lvi worker --queue URL\`)`);
    }
    if (options.detach) {
      for (const j of pending.values()) log(`queued  ${j.title} (job ${j.key.slice(0, 12)})`);
      return { outcome: 'detached', jobs: [...jobs.values()] };
    }

    const bars = new Map<string, NodeProgress>();
    const barOf = (key: string): NodeProgress | undefined => {
      const j = pending.get(key);
      if (!j) return undefined;
      if (!bars.has(key)) bars.set(key, sink.begin(j.title));
      return bars.get(key);
    };
    events.on('progress', ({ jobId, data }) => {
      const p = data as Partial<JobProgress>;
      if (typeof p === 'object' && p && typeof p.done === 'number' && typeof p.total === 'number') barOf(jobId)?.update(p.done, p.total, p.label);
    });
    const finish = (j: QueuedJob, line: string) => {
      const bar = barOf(j.key)!;
      bars.delete(j.key);
      pending.delete(j.key);
      bar.end(maskSecrets(line, options.target));
    };
    const pollMs = options.pollMs ?? 250;
    while (pending.size > 0 && !options.signal?.aborted) {
      for (const j of [...pending.values()]) {
        const state = await untilAborted(queue.getJobState(j.key), options.signal).catch(() => undefined);
        if (state === undefined) break;
        j.state = state;
        if (state === 'completed') {
          const job = await queue.getJob(j.key);
          j.result = job?.returnvalue as JobResult | undefined;
          const r = j.result;
          finish(j, `${r?.status === 'cached' ? 'cached ' : 'ran    '} ${j.title}${r ? ` (${formatSeconds(r.seconds)} on ${r.worker})` : ''}`);
        } else if (state === 'failed') {
          const job = await queue.getJob(j.key);
          j.failedReason = job?.failedReason ?? 'failed in the queue';
          finish(j, `failed  ${j.title} on the queue: ${j.failedReason}`);
        } else if (state === 'unknown') {
          j.failedReason = 'the job was removed from the queue before it finished';
          finish(j, `failed  ${j.title}: ${j.failedReason}`);
        }
      }
      if (pending.size > 0) await sleep(pollMs, options.signal);
    }
    if (options.signal?.aborted) {
      for (const bar of bars.values()) bar.end('');
      log(`interrupted: ${pending.size} job(s) stay in the queue and keep running on the workers; run the same command again to wait for them`);
      return { outcome: 'interrupted', jobs: [...jobs.values()], pending: pending.size };
    }
  } finally {
    sink.close();
    await closeAll();
  }
  const queueSeconds = (Date.now() - t0) / 1000;

  // The local pass: queue nodes come from the cache; one the queue could not make fails with
  // the worker's message (the same a local run gives) instead of running here.
  const byId = new Map([...jobs.values()].map((j) => [j.nodeId, j]));
  const kernels = (kind: string): NodeRunner | undefined => {
    const r = base(kind);
    if (!r || !kinds.has(kind)) return r;
    return {
      ...r,
      run: async (ctx) => {
        const j = byId.get(ctx.node.id);
        throw new Error(j?.failedReason ?? `the workers left no result for it in ${cacheDir} (do they use the same --cache folder?)`);
      },
    };
  };
  options.onLocalPass?.();
  const summary = await executePlan(plan, { ...options, force: false, cacheDir, kernels });
  return { outcome: 'done', summary, jobs: [...jobs.values()], queueSeconds };
}

/**
 * BullMQ flows are trees (a job has one parent), the plan is a DAG: each queued node becomes
 * the child of the first queued node that needs it; a second parent does not wait for it (its
 * worker computes what is missing from the cache itself, which stays correct).
 */
function buildFlows(plan: Plan, fresh: PlanNode[], keys: Map<string, string>, cacheDir: string, forced: Set<string>): FlowJob[] {
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const freshIds = new Set(fresh.map((n) => n.id));
  const nearest = (node: PlanNode): string[] => {
    const found = new Set<string>();
    const seen = new Set<string>();
    const visit = (id: string): void => {
      if (seen.has(id)) return;
      seen.add(id);
      if (freshIds.has(id)) return void found.add(id);
      for (const d of Object.values(byId.get(id)!.deps)) visit(d);
    };
    for (const d of Object.values(node.deps)) visit(d);
    return [...found];
  };
  const parentOf = new Map<string, string>();
  const childrenOf = new Map<string, string[]>();
  for (const node of fresh) {
    for (const child of nearest(node)) {
      if (parentOf.has(child)) continue;
      parentOf.set(child, node.id);
      childrenOf.set(node.id, [...(childrenOf.get(node.id) ?? []), child]);
    }
  }
  const version = lviVersion();
  const jobFor = (id: string): FlowJob => {
    const node = byId.get(id)!;
    const key = keys.get(id)!;
    const data: JobData & { force?: boolean } = {
      format: JOB_FORMAT,
      lviVersion: version,
      nodeId: id,
      key,
      title: nodeTitle(node),
      studyDir: plan.studyDir,
      cacheDir,
      plan: subPlan(plan, id),
      force: forced.has(id) || undefined,
    };
    const opts: JobsOptions = {
      jobId: key,
      // Retries are for a worker that crashed (stalled twice), not for a node that failed.
      attempts: 3,
      backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: KEEP,
      removeOnFail: KEEP,
      failParentOnFailure: parentOf.has(id) || undefined,
    };
    const children = (childrenOf.get(id) ?? []).map(jobFor);
    return { name: node.kind, queueName: QUEUE_NAME, prefix: QUEUE_PREFIX, data, opts, ...(children.length ? { children } : {}) } as FlowJob;
  };
  return fresh.filter((n) => !parentOf.has(n.id)).map((n) => jobFor(n.id));
}

function progressSink(options: ExecuteOptions): ProgressSink {
  const mode = options.progress ?? 'auto';
  if (mode === 'none') return lineProgress(() => undefined);
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const bars = mode === 'bars' || (mode === 'auto' && !options.json && !options.log && process.stderr.isTTY === true);
  return bars ? barProgress(process.stderr) : lineProgress(log);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The promise, or undefined as soon as the signal aborts (a Redis that is down never answers). */
function untilAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  if (!signal) return p;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
