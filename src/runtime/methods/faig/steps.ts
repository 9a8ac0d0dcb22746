// FAIG's path points as convolution groups: B points of the straight path in one network run,
// every weight a constant. ONNX Runtime prepacks constant kernels and runs them as its blocked
// (NCHWc) convolutions, which it cannot do for weights fed as inputs at every step; and one run
// replaces B, with their feeds and the gradient sums in JavaScript. The input is repeated along
// the batch axis, item j at path point a_j. Each convolution becomes
//   Reshape [B, C, H, W] -> [1, B*C, H, W], Conv with B*g groups whose weight stacks the B
//   interpolated weights (and biases), Reshape [1, B*M, H', W'] -> [B, M, H', W'];
// both reshapes only relabel memory. Valid where the graph keeps batch items apart (checked by
// the caller with engine/batch-axis.ts) and every moving parameter is a Conv's weight or bias.

import type { Graph, GraphNode, TensorData } from '../../graph/ir.js';
import { interpolate, type Pair } from './kernels.js';

export interface SteppedGraph {
  graph: Graph;
  /** Moving initializer -> its stacked initializer [B * dims[0], ...dims.slice(1)]. */
  stacked: Map<string, string>;
}

/** Why the path points cannot be stacked as groups, or undefined when they can. */
export function stepRefusal(target: Graph, pair: Pair): string | undefined {
  const moving = new Set(pair.moving);
  const convSlots = new Set<string>();
  for (const n of target.nodes) {
    if (n.opType === 'Conv') for (const i of n.inputs.slice(1, 3)) if (i && moving.has(i)) convSlots.add(i);
  }
  for (const n of target.nodes) {
    const used = n.inputs.filter((i, j) => moving.has(i) && !(n.opType === 'Conv' && (j === 1 || j === 2)));
    if (used.length) return `'${used[0]}' moves along the path and is an input of the ${n.opType} node '${n.name}', not a Conv's weight or bias`;
  }
  const loose = pair.moving.find((w) => !convSlots.has(w));
  return loose ? `'${loose}' moves along the path but is no Conv's weight or bias` : undefined;
}

/** The target's graph with one batch item per path point `alphas` (0: target, 1: baseline). */
export function stepGraph(baseline: Graph, target: Graph, pair: Pair, alphas: number[]): SteppedGraph {
  const refusal = stepRefusal(target, pair);
  if (refusal) throw new Error(`FAIG path points as groups: ${refusal}`);
  const b = alphas.length;
  const moving = new Set(pair.moving);
  const initializers = new Map(target.initializers);
  const stacked = new Map<string, string>();
  const stack = (name: string): string => {
    const done = stacked.get(name);
    if (done) return done;
    const t = target.initializers.get(name)!;
    const size = t.data.length;
    const data = new Float32Array(b * size);
    alphas.forEach((a, j) => data.set(moving.has(name) ? interpolate(baseline.initializers.get(name)!, t, a) : Float32Array.from(t.data as ArrayLike<number>), j * size));
    const out = `${name}@steps`;
    initializers.set(out, { dtype: 'float32', dims: [b * t.dims[0]!, ...t.dims.slice(1)], data });
    stacked.set(name, out);
    return out;
  };
  const int64 = (values: number[]): TensorData => ({ dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
  initializers.set('lvi_steps_flat', int64([1, -1, 0, 0]));
  initializers.set('lvi_steps_unflat', int64([b, -1, 0, 0]));
  const nodes: GraphNode[] = [];
  for (const n of target.nodes) {
    const [x, w, bias] = n.inputs;
    if (n.opType !== 'Conv' || !(moving.has(w!) || (bias && moving.has(bias)))) {
      nodes.push(n);
      continue;
    }
    const flat = `${n.outputs[0]}@steps_in`;
    const conv = `${n.outputs[0]}@steps`;
    const group = typeof n.attrs.group === 'number' ? n.attrs.group : 1;
    nodes.push(
      { name: `${n.name}/steps_in`, opType: 'Reshape', inputs: [x!, 'lvi_steps_flat'], outputs: [flat], attrs: {} },
      { ...n, inputs: [flat, stack(w!), ...(bias ? [stack(bias)] : [])], outputs: [conv], attrs: { ...n.attrs, group: group * b } },
      { name: `${n.name}/steps_out`, opType: 'Reshape', inputs: [conv, 'lvi_steps_unflat'], outputs: [n.outputs[0]!], attrs: {} },
    );
  }
  return { graph: { ...target, nodes, initializers, valueInfo: undefined }, stacked };
}
