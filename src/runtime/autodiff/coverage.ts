// Which operators of a network lvi cannot differentiate, found before any run (`lvi inspect`):
// the nodes between the image input and the output whose operator has no gradient rule.

import type { Graph, GraphNode } from '../graph/ir.js';
import { specialise } from '../onnx/specialise.js';
import { imageInput } from './gradient.js';
import { rules } from './rules/index.js';

export interface MissingRule {
  opType: string;
  /** Nodes of that operator on the way from the input to the output. */
  nodes: string[];
}

const isFloat = (d: string | undefined) => d === 'float32' || d === 'float64';

/**
 * Operators without a gradient rule that lie between the image input and the first output
 * of `forward` specialised at `inputShape` (constant subgraphs are folded first, as the gradient
 * builder does, so HAT's mask computation does not count). Empty when every one has a rule.
 */
export function missingGradientRules(forward: Graph, inputShape: number[]): MissingRule[] {
  const input = imageInput(forward);
  const freed: Graph = { ...forward, inputs: forward.inputs.map((i) => (i.name === input.name ? { ...i, shape: inputShape } : i)) };
  const g = specialise(freed, { [input.name]: inputShape });
  const dtype = (v: string) => g.valueInfo?.get(v)?.dtype;
  const requires = new Set([input.name]);
  for (const n of g.nodes) {
    if (n.inputs.some((i) => i && requires.has(i))) for (const o of n.outputs) if (o && isFloat(dtype(o))) requires.add(o);
  }
  const producer = new Map<string, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const missing = new Map<string, string[]>();
  const seen = new Set<string>();
  const stack = [g.outputs[0]!.name];
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const p = producer.get(v);
    if (!p) continue;
    const live = p.inputs.filter((i) => i && requires.has(i));
    if (live.length === 0) continue;
    const key = p.domain ? `${p.domain}:${p.opType}` : p.opType;
    if (!rules[key]) missing.set(key, [...(missing.get(key) ?? []), p.name]);
    stack.push(...live);
  }
  return [...missing].map(([opType, nodes]) => ({ opType, nodes: nodes.reverse() })).sort((a, b) => b.nodes.length - a.nodes.length || a.opType.localeCompare(b.opType));
}
