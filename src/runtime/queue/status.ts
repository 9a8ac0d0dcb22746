// Queue state per node of a study: cached, waiting, running (with progress), done, failed.
// For `lvi status --queue URL` and after `lvi run --detach`.

import { Queue } from 'bullmq';
import { join } from 'node:path';
import type { Plan } from '../../compiler/plan.js';
import { effectiveKeys, ResultCache } from '../executor/cache.js';
import { topologicalOrder } from '../executor/graph.js';
import { nodeTitle } from '../executor/index.js';
import { loadRunners } from '../runners.js';
import { QUEUE_NAME, QUEUE_PREFIX, queuedKinds, type JobProgress, type JobResult } from './jobs.js';
import { maskSecrets, type RedisTarget } from './url.js';

export interface NodeQueueState {
  nodeId: string;
  title: string;
  key: string;
  /** 'cached' when the shared cache has the result; else BullMQ's state, or 'not queued'. */
  state: string;
  progress?: JobProgress;
  worker?: string;
  failedReason?: string;
}

export async function queueStatus(plan: Plan, target: RedisTarget, cacheDir?: string): Promise<NodeQueueState[]> {
  const kernels = await loadRunners(plan.nodes.map((n) => n.kind));
  const order = topologicalOrder(plan);
  const keys = effectiveKeys(order, plan, kernels);
  const cache = new ResultCache(cacheDir ?? join(plan.studyDir, '.lvi', 'cache'));
  const kinds = queuedKinds();
  const queue = new Queue(QUEUE_NAME, { connection: { ...target.options, retryStrategy: () => null, maxRetriesPerRequest: 1 }, prefix: QUEUE_PREFIX });
  queue.on('error', () => undefined);
  try {
    await queue.waitUntilReady();
    const rows: NodeQueueState[] = [];
    for (const node of order) {
      if (!kinds.has(node.kind)) continue;
      const key = keys.get(node.id)!;
      const row: NodeQueueState = { nodeId: node.id, title: nodeTitle(node), key, state: 'not queued' };
      if (await cache.read(key)) row.state = 'cached';
      const job = await queue.getJob(key);
      if (job) {
        const state = await job.getState();
        if (row.state !== 'cached') row.state = state;
        const p = job.progress as Partial<JobProgress> | number;
        if (state === 'active' && typeof p === 'object' && typeof p.done === 'number' && typeof p.total === 'number') row.progress = p as JobProgress;
        row.worker = (job.returnvalue as JobResult | null)?.worker;
        if (state === 'failed') row.failedReason = job.failedReason;
      }
      rows.push(row);
    }
    return rows;
  } catch (e) {
    throw new Error(`queue ${target.shown}: ${maskSecrets(e instanceof Error ? e.message : String(e), target)}`);
  } finally {
    await queue.close().catch(() => undefined);
  }
}

/** One line per node: `running  lam edge (model=slim)  40% (4/10)`. */
export function formatQueueStatus(rows: NodeQueueState[]): string[] {
  const word = (s: string) => (s === 'active' ? 'running' : s === 'completed' ? 'done' : s === 'waiting-children' ? 'waiting' : s);
  const width = Math.max(8, ...rows.map((r) => word(r.state).length));
  return rows.map((r) => {
    let line = `${word(r.state).padEnd(width)}  ${r.title}`;
    if (r.progress) line += `  ${Math.floor((100 * r.progress.done) / Math.max(1, r.progress.total))}% (${r.progress.done}/${r.progress.total})`;
    if (r.worker && r.state !== 'cached') line += `  on ${r.worker}`;
    if (r.failedReason) line += `: ${r.failedReason}`;
    return line;
  });
}
