// The plan as text (for people), Mermaid (for Markdown) and DOT (for Graphviz).
import path from 'node:path';
import type { Plan, PlanNode } from './plan.js';

export type GraphFormat = 'text' | 'mermaid' | 'dot';

/**
 * `notes`: more lines about some nodes, by node id (`lvi graph --flops`: a lam node's plan and
 * FLOPs), under the node's line in text, in its label in Mermaid and DOT.
 */
export function renderPlan(plan: Plan, format: GraphFormat = 'text', notes?: ReadonlyMap<string, string[]>): string {
  switch (format) {
    case 'text':
      return renderText(plan, notes);
    case 'mermaid':
      return renderMermaid(plan, notes);
    case 'dot':
      return renderDot(plan, notes);
  }
}

function label(n: PlanNode): string {
  return n.id;
}

function renderText(plan: Plan, notes?: ReadonlyMap<string, string[]>): string {
  const out = [`study ${plan.study.name}: ${plan.nodes.length} nodes, results in ${path.relative(process.cwd(), plan.outDir) || '.'}`];
  const width = Math.max(...plan.nodes.map((n) => n.id.length), 4);
  const kindWidth = Math.max(...plan.nodes.map((n) => n.kind.length), 4);
  for (const n of plan.nodes) {
    const deps = Object.entries(n.deps).map(([role, id]) => `${role}=${id}`);
    out.push(
      `  ${n.id.padEnd(width)}  ${n.kind.padEnd(kindWidth)}  ${n.key.slice(0, 12)}${deps.length ? `  <- ${deps.join(', ')}` : ''}`,
    );
    for (const line of notes?.get(n.id) ?? []) out.push(`      ${line}`);
  }
  return `${out.join('\n')}\n`;
}

function renderMermaid(plan: Plan, notes?: ReadonlyMap<string, string[]>): string {
  const ids = new Map(plan.nodes.map((n, i) => [n.id, `n${i}`]));
  const out = ['flowchart LR'];
  for (const n of plan.nodes) {
    const text = [label(n), n.kind, ...(notes?.get(n.id) ?? [])].join('<br/>').replace(/"/g, '#quot;');
    out.push(n.implicit ? `  ${ids.get(n.id)}(["${text}"])` : `  ${ids.get(n.id)}["${text}"]`);
  }
  for (const n of plan.nodes) {
    for (const [role, dep] of Object.entries(n.deps)) {
      if (ids.has(dep)) out.push(`  ${ids.get(dep)} -->|${role.replace(/[|"]/g, '')}| ${ids.get(n.id)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function renderDot(plan: Plan, notes?: ReadonlyMap<string, string[]>): string {
  const q = (s: string) => JSON.stringify(s);
  const out = ['digraph plan {', '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
  for (const n of plan.nodes) {
    out.push(`  ${q(n.id)} [label=${q([label(n), n.kind, ...(notes?.get(n.id) ?? [])].join('\n'))}${n.implicit ? ', style=rounded' : ''}];`);
  }
  for (const n of plan.nodes) {
    for (const [role, dep] of Object.entries(n.deps)) out.push(`  ${q(dep)} -> ${q(n.id)} [label=${q(role)}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
