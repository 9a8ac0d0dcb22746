// Ordering and selection of plan nodes: the executor trusts nothing about the plan's order and
// checks the graph itself, so a hand-made or edited plan fails with a clear message.

import type { Plan, PlanNode } from '../../compiler/plan.js';

/** The plan's nodes in dependency order (ties keep the plan's order). Throws on cycles. */
export function topologicalOrder(plan: Plan): PlanNode[] {
  const byId = new Map<string, PlanNode>();
  for (const node of plan.nodes) {
    if (byId.has(node.id)) throw new Error(`plan has two nodes with id '${node.id}'`);
    byId.set(node.id, node);
  }
  const order: PlanNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: PlanNode, path: string[]): void => {
    const s = state.get(node.id);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`plan has a dependency cycle: ${[...path, node.id].join(' -> ')}`);
    state.set(node.id, 'visiting');
    for (const [role, depId] of Object.entries(node.deps)) {
      const dep = byId.get(depId);
      if (!dep) throw new Error(`plan node '${node.id}' needs '${depId}' (as ${role}), which is not in the plan`);
      visit(dep, [...path, node.id]);
    }
    state.set(node.id, 'done');
    order.push(node);
  };
  for (const node of plan.nodes) visit(node, []);
  return order;
}

/**
 * The nodes to handle for `--only NAME...`: every node whose statement name or id is named,
 * and everything those need. Without names, all nodes. Unknown names throw with the choices.
 */
export function selectNodes(plan: Plan, only: string[] | undefined): Set<string> {
  if (!only || only.length === 0) return new Set(plan.nodes.map((n) => n.id));
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const selected = new Set<string>();
  const add = (id: string): void => {
    if (selected.has(id)) return;
    selected.add(id);
    for (const dep of Object.values(byId.get(id)?.deps ?? {})) add(dep);
  };
  const unknown: string[] = [];
  for (const name of only) {
    const hits = plan.nodes.filter((n) => n.statement === name || n.id === name);
    if (hits.length === 0) unknown.push(name);
    for (const n of hits) add(n.id);
  }
  if (unknown.length > 0) {
    const names = [...new Set(plan.nodes.flatMap((n) => (n.statement ? [n.statement] : [])))].sort();
    throw new Error(
      `--only: no statement named ${unknown.map((u) => `'${u}'`).join(', ')} in the study` +
        (names.length ? ` (statements: ${names.join(', ')})` : ''),
    );
  }
  return selected;
}

/** The nodes named by `--only` themselves (not what they need): `--force` applies to these. */
export function namedNodes(plan: Plan, only: string[] | undefined): Set<string> {
  if (!only || only.length === 0) return new Set(plan.nodes.map((n) => n.id));
  return new Set(plan.nodes.filter((n) => only.includes(n.id) || (n.statement !== undefined && only.includes(n.statement))).map((n) => n.id));
}
