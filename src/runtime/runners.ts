// Finding the runner of each plan-node kind. The catalogue says which module holds a kind's
// runners (KindSpec.load, a lazy import), so no list is kept by hand and importing the executor
// loads nothing heavy: a kind's module (and ONNX Runtime with it) loads when a plan needs it.

import { CATALOGUE, type Catalogue } from '../../grammar/catalogue.js';
import type { NodeRunner } from './runner.js';

/** Runners added outside the catalogue (tests, plug-ins); they take precedence. */
const registered = new Map<string, NodeRunner>();

export function registerRunner(runner: NodeRunner): void {
  registered.set(runner.kind, runner);
}

export type RunnerLookup = (kind: string) => NodeRunner | undefined;

/**
 * Loads the runners of these plan-node kinds (all the catalogue's when none are named). Kinds no
 * statement names as its runner (derive-lr, which images pass through) come with the loaders'
 * module, so it is loaded whenever such a kind is asked for.
 */
export async function loadRunners(kinds?: Iterable<string>, catalogue: Catalogue = CATALOGUE): Promise<RunnerLookup> {
  const wanted = kinds ? new Set(kinds) : undefined;
  const specs = Object.values(catalogue).filter((s) => s.load && s.runner);
  const covered = new Set(specs.map((s) => s.runner!));
  const needLoaders = wanted ? [...wanted].some((k) => !covered.has(k) && !registered.has(k)) : true;
  const chosen = specs.filter((s) => !wanted || wanted.has(s.runner!) || (needLoaders && s.loader));
  const found = new Map<string, NodeRunner>();
  for (const mod of await Promise.all(chosen.map((s) => s.load!()))) {
    for (const r of mod.runners as readonly NodeRunner[]) found.set(r.kind, r);
  }
  return (kind) => registered.get(kind) ?? found.get(kind);
}
