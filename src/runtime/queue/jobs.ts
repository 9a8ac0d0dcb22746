// What travels through the queue: one job per analysis node, its id the node's content key, its
// data the plan nodes it needs (kinds, resolved parameters, input hashes) and where the study
// and the cache are. Data only: a worker runs nothing from a job but lvi's own runners.

import { CATALOGUE } from '../../../grammar/catalogue.js';
import type { Plan, PlanNode } from '../../compiler/plan.js';

/** BullMQ's key prefix and queue name: every lvi study shares one queue per Redis database. */
export const QUEUE_PREFIX = 'lvi';
export const QUEUE_NAME = 'nodes';
/** Bump when JobData changes shape: a worker refuses jobs of another format. */
export const JOB_FORMAT = 1;

export interface JobData {
  format: number;
  lviVersion: string;
  /** The node this job computes, and its cache key (also the job id). */
  nodeId: string;
  key: string;
  /** Title for progress lines: `lam edge (model=slim)`. */
  title: string;
  /** The study's folder (absolute): every input file must lie inside it. */
  studyDir: string;
  /** The submitter's cache folder; a worker without --cache writes there (it must be inside studyDir). */
  cacheDir: string;
  /** The node and everything it needs, in dependency order, with study-level facts. */
  plan: Plan;
}

export interface JobResult {
  status: 'ran' | 'cached';
  seconds: number;
  device?: string;
  worker: string;
}

/** Job progress as the worker reports it. */
export interface JobProgress {
  done: number;
  total: number;
  label?: string;
}

/**
 * Kinds that go to the queue: the analyses (LAM, FAIG, DDR...). Loaders run where a node needs
 * them (they are cheap and not cached on disk); tables and the report read the whole run's
 * facts and stay with the submitter.
 */
export function queuedKinds(): Set<string> {
  return new Set(Object.values(CATALOGUE).flatMap((s) => (s.analysis && s.runner ? [s.runner] : [])));
}

/** The plan cut down to one node and what it needs (transitively), in the plan's order. */
export function subPlan(plan: Plan, nodeId: string): Plan {
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const need = new Set<string>();
  const visit = (id: string): void => {
    if (need.has(id)) return;
    const node = byId.get(id);
    if (!node) throw new Error(`plan node '${id}' is not in the plan`);
    need.add(id);
    for (const dep of Object.values(node.deps)) visit(dep);
  };
  visit(nodeId);
  const nodes: PlanNode[] = plan.nodes.filter((n) => need.has(n.id));
  return { ...plan, nodes };
}
