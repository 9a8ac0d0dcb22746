// The contract between the executor and the node runners (what runs one plan node).

import type { Plan, PlanNode } from '../compiler/plan.js';
import type { Device } from './api.js';

export interface RunContext {
  plan: Plan;
  node: PlanNode;
  /** Results of the nodes in node.deps, by role. */
  deps: Record<string, NodeResult>;
  /**
   * Folder for this run's files (created by the executor). It is a private temporary folder
   * that the executor moves into the cache and then copies to <out>/<statement>/<runId>/.
   */
  runDir: string;
  device: Device;
  /** Report progress of long work (drives the progress bar and ETA). */
  progress(done: number, total: number, label?: string): void;
  warn(message: string): void;
  signal?: AbortSignal;
  /**
   * The result of any node already handled in this run: every transitive dependency is.
   * A table uses it to reach the model behind an analysis (parameter count, receptive field).
   */
  lookup?(nodeId: string): NodeResult | undefined;
  /** The lock-file facts as they stand now (versions, per-node keys, status, timings). */
  facts?(): Record<string, unknown>;
}

export interface NodeResult {
  /**
   * In-memory value for downstream nodes in this process (e.g. a loaded model, an image).
   * Loaders (`cache: false`) rerun to provide it; cached runners provide it through `restore`.
   */
  value?: unknown;
  /** JSON-serialisable facts kept in the cache and the lock file (e.g. di, gini, seconds). */
  summary: Record<string, unknown>;
  /** Files written under runDir (relative names). */
  files: string[];
  /** Set by the executor: the absolute folder that holds `files` (the cache entry). */
  dir?: string;
  /** Files (relative names) to copy to further absolute paths on every run, cached or not. */
  exports?: Record<string, string>;
}

export interface NodeRunner {
  kind: string;
  /**
   * Cheap kernels (loading) are recomputed instead of cached on disk: their summary is kept so
   * a rerun can skip them, but whenever a dependent runs they run again to provide `value`.
   */
  cache: boolean;
  run(ctx: RunContext): Promise<NodeResult>;
  /**
   * Rebuilds the in-memory value of a cached result from its files (result.dir holds them), so
   * a cached node feeds its dependents as a fresh one does: a mask's model, features' arrays.
   */
  restore?(result: NodeResult): Promise<unknown>;
  /** Extra content for the node's cache key beyond the plan's key (e.g. the study's text). */
  keyInputs?(plan: Plan, node: PlanNode): string;
}
