// `lvi status`: what a rerun would do and why, without running anything. Each node's content
// key, input hashes and parameters are compared with the lock file, and its outputs with the
// hashes the lock lists (`outs`).

import { join } from 'node:path';
import type { Plan, PlanNode } from '../../compiler/plan.js';
import { loadRunners } from '../runners.js';
import type { NodeRunner } from '../runner.js';
import { ResultCache, effectiveKeys } from './cache.js';
import { topologicalOrder } from './graph.js';
import { LOCK_FORMAT, lockPath, portable, readLock, type LockNode } from './lock.js';
import { fileHash } from './outputs.js';
import { engineVersions } from './versions.js';

export type RerunState = 'up-to-date' | 'would-run' | 'would-restore';

export interface NodeStatusReport {
  id: string;
  kind: string;
  statement?: string;
  runId: string;
  state: RerunState;
  /** Why it would run (or restore), one short sentence each; empty when up to date. */
  reasons: string[];
}

export interface StatusReport {
  study: string;
  lockFile: string;
  /** False when there is no lock file yet (every node would run). */
  locked: boolean;
  nodes: NodeStatusReport[];
  counts: Record<RerunState, number>;
}

export interface StatusOptions {
  cacheDir?: string;
  lockFile?: string;
  kernels?: (kind: string) => NodeRunner | undefined;
}

/** A value as the study writes it: 50, "x.png", (1,2,3,4), [a, b]. */
function shown(v: unknown): string {
  if (v === undefined) return '(none)';
  if (Array.isArray(v)) return v.every((x) => typeof x === 'number') ? `(${v.join(',')})` : `[${v.map(shown).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.ref === 'string') return o.ref;
    return JSON.stringify(v);
  }
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export async function studyStatus(plan: Plan, options: StatusOptions = {}): Promise<StatusReport> {
  const kernelFor = options.kernels ?? (await loadRunners(plan.nodes.map((n) => n.kind)));
  const order = topologicalOrder(plan);
  const keys = effectiveKeys(order, plan, kernelFor);
  const cache = new ResultCache(options.cacheDir ?? join(plan.studyDir, '.lvi', 'cache'));
  const lockFile = options.lockFile ?? lockPath(plan.studyFile);
  const lock = await readLock(lockFile);
  const usable = lock?.lock === LOCK_FORMAT ? lock : undefined;
  const versions = engineVersions(plan.lviVersion);
  const rel = (v: unknown) => portable(v, plan.studyDir);
  const byId = new Map<string, NodeStatusReport>();

  for (const node of order) {
    const key = keys.get(node.id)!;
    const prev: LockNode | undefined = usable?.nodes?.[node.id];
    const reasons: string[] = [];
    let state: RerunState = 'would-run';
    if (!lock) reasons.push('no lock file yet: the study has not run');
    else if (!usable) reasons.push(`the lock file is from an older lvi (format ${String(lock.lock)})`);
    else if (!prev) reasons.push('new: not in the lock file');
    else if (prev.key !== key) reasons.push(...whyKeyChanged(node, prev, rel, byId, usable.versions, versions));
    else if (!prev.outs && !prev.summary) reasons.push('it has no result yet (it failed or did not run last time)');
    else {
      const kernel = kernelFor(node.kind);
      const cached = !kernel?.cache || (await cache.read(key)) !== undefined;
      const broken: string[] = [];
      for (const [file, hash] of Object.entries(prev.outs ?? {})) {
        const now = await fileHash(join(plan.studyDir, file)).catch(() => undefined);
        if (now !== hash) broken.push(file);
      }
      if (!cached) reasons.push('its cached result is gone from .lvi/cache');
      else if (broken.length) state = 'would-restore';
      for (const f of broken) reasons.push(`output ${f} was modified or deleted`);
      if (reasons.length === 0) state = 'up-to-date';
    }
    byId.set(node.id, { id: node.id, kind: node.kind, statement: node.statement, runId: node.runId, state, reasons });
  }
  const nodes = plan.nodes.map((n) => byId.get(n.id)!);
  const counts: Record<RerunState, number> = { 'up-to-date': 0, 'would-run': 0, 'would-restore': 0 };
  for (const n of nodes) counts[n.state]++;
  return { study: plan.studyFile, lockFile, locked: !!lock, nodes, counts };
}

function whyKeyChanged(
  node: PlanNode,
  prev: LockNode,
  rel: (v: unknown) => unknown,
  earlier: Map<string, NodeStatusReport>,
  lockedVersions: Record<string, string> | undefined,
  versions: Record<string, string>,
): string[] {
  const reasons: string[] = [];
  const params = rel(node.params) as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(params), ...Object.keys(prev.params ?? {})])].sort()) {
    if (!same(params[k], prev.params?.[k])) reasons.push(`parameter ${k} changed ${shown(prev.params?.[k])} -> ${shown(params[k])}`);
  }
  const inputs = rel(node.files) as Record<string, string>;
  for (const f of [...new Set([...Object.keys(inputs), ...Object.keys(prev.inputs ?? {})])].sort()) {
    if (!(f in (prev.inputs ?? {}))) reasons.push(`new input ${f}`);
    else if (!(f in inputs)) reasons.push(`input ${f} is no longer read`);
    else if (inputs[f] !== prev.inputs[f]) reasons.push(`input ${f} changed`);
  }
  for (const [role, dep] of Object.entries(node.deps)) {
    const d = earlier.get(dep);
    if (d && d.state === 'would-run') reasons.push(`needs ${dep} (${role}), which would run`);
    else if (prev.deps?.[role] !== undefined && prev.deps[role] !== dep) reasons.push(`${role} is now ${dep} (was ${prev.deps[role]})`);
  }
  for (const k of Object.keys(versions)) {
    if (lockedVersions?.[k] !== undefined && lockedVersions[k] !== versions[k]) reasons.push(`${k} version changed ${lockedVersions[k]} -> ${versions[k]}`);
  }
  if (reasons.length === 0) reasons.push('its content key changed (what the runner hashes besides its parameters and inputs, e.g. the study text for a report)');
  return reasons;
}
