// Node kernels plug into the executor through one registry keyed by plan-node kind.

import type { Plan, PlanNode } from '../../compiler/plan.js';
import type { Device } from '../api.js';

export interface KernelContext {
  plan: Plan;
  node: PlanNode;
  /** Results of the nodes in node.deps, by role. */
  deps: Record<string, KernelResult>;
  /** Folder for this run's files: <out>/<statement>/<runId>/ (created by the executor). */
  runDir: string;
  device: Device;
  /** Report progress of long work (drives the progress bar and ETA). */
  progress(done: number, total: number, label?: string): void;
  warn(message: string): void;
  signal?: AbortSignal;
}

export interface KernelResult {
  /** In-memory value for downstream nodes in this process (e.g. a loaded model, an image). */
  value?: unknown;
  /** JSON-serialisable facts kept in the cache and the lock file (e.g. di, gini, seconds). */
  summary: Record<string, unknown>;
  /** Files written under runDir (relative names). */
  files: string[];
}

export interface Kernel {
  kind: string;
  /** Cheap kernels (loading) are recomputed instead of cached on disk. */
  cache: boolean;
  run(ctx: KernelContext): Promise<KernelResult>;
}
