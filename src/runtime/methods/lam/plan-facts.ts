// Each lam node's plan before anything runs (`lvi graph --flops`): its model read and its LR
// image derived by their loaders, then plan.ts's FLOPs of the whole image, the receptive-field
// crop and the cone, and the plan crop=auto would choose. Windows that share forward passes
// (plan 'shared') are decided when they run; this is each window on its own.

import type { Plan, PlanNode } from '../../../compiler/plan.js';
import type { LoadedModel } from '../../api.js';
import type { LrPair } from '../../kernels/derive-lr.js';
import type { NodeResult } from '../../runner.js';
import { loadRunners } from '../../runners.js';
import { checkOutputSize, lamParams } from './kernel.js';
import { describePlan, type LamPlan, planLam } from './plan.js';

export type LamPlanFact = { plan: LamPlan; steps: number } | { error: string };

/** The plan of every lam node of `plan`, by node id. Only loaders run (cache: false kinds). */
export async function lamPlans(plan: Plan): Promise<Map<string, LamPlanFact>> {
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const lams = plan.nodes.filter((n) => n.kind === 'lam');
  const kinds = new Set<string>();
  const seen = new Set<string>();
  const collect = (id: string) => {
    const n = byId.get(id);
    if (!n || seen.has(id)) return;
    seen.add(id);
    kinds.add(n.kind);
    for (const d of Object.values(n.deps)) collect(d);
  };
  for (const n of lams) for (const d of Object.values(n.deps)) collect(d);
  const runners = await loadRunners(kinds);
  const done = new Map<string, Promise<NodeResult>>();
  const load = (id: string): Promise<NodeResult> => {
    let p = done.get(id);
    if (!p) {
      p = (async () => {
        const n = byId.get(id);
        if (!n) throw new Error(`no node '${id}' in the plan`);
        const runner = runners(n.kind);
        if (!runner) throw new Error(`no runner for '${n.kind}'`);
        if (runner.cache) throw new Error(`it reads ${n.kind} node '${id}', which only \`lvi run\` computes`);
        const deps: Record<string, NodeResult> = {};
        for (const [role, d] of Object.entries(n.deps)) deps[role] = await load(d);
        return runner.run({ plan, node: n, deps, runDir: plan.outDir, device: 'cpu', progress: () => {}, warn: () => {} });
      })();
      done.set(id, p);
    }
    return p;
  };
  const out = new Map<string, LamPlanFact>();
  for (const n of lams) {
    try {
      out.set(n.id, await planOf(n, load));
    } catch (e) {
      out.set(n.id, { error: (e as Error).message });
    }
  }
  return out;
}

async function planOf(node: PlanNode, load: (id: string) => Promise<NodeResult>): Promise<LamPlanFact> {
  const params = lamParams(node);
  const model = (await load(node.deps.model!)).value as LoadedModel;
  const { lr } = (await load(node.deps.image!)).value as LrPair;
  checkOutputSize(model, lr.width, lr.height);
  return { plan: planLam(model, lr, params), steps: params.steps };
}

/** The lines `lvi graph --flops` prints under a lam node. */
export function planNotes(facts: Map<string, LamPlanFact>): Map<string, string[]> {
  const notes = new Map<string, string[]>();
  for (const [id, f] of facts) notes.set(id, 'error' in f ? [`FLOPs not counted: ${f.error}`] : describePlan(f.plan, f.steps));
  return notes;
}
