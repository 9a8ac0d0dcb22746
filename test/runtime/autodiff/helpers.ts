// Shared pieces of the gradient tests: ONNX Runtime runs of IR graphs and central finite
// differences in float64 through the reference evaluator (seeded tensors: test/helpers/tensors.ts).

import { outputData, runOnnx } from '../../helpers/ort.js';
import type { Graph, TensorData } from '../../../src/runtime/graph/ir.js';
import { evaluate, type F64 } from '../../../src/runtime/reference/index.js';

export { floats, ints, maxAbs, randTensor, rng } from '../../helpers/tensors.js';

/** Runs a graph in ONNX Runtime (CPU, float32) and returns the named outputs. */
export async function runOrt(graph: Graph, feeds: Record<string, TensorData>, threads = 1): Promise<Record<string, Float32Array>> {
  return outputData(await runOnnx(graph, feeds, { threads }));
}

/** Sum of `value` over all elements (the tests' objectives are per-element sums). */
export function total(t: F64): number {
  let s = 0;
  for (const v of t.data) s += v;
  return s;
}

/**
 * Central finite difference of sum(graph output `value`) with respect to element `index` of the
 * fed tensor `name` (an input or an initializer), in float64.
 */
export function finiteDifference(
  graph: Graph, feeds: Record<string, TensorData | F64>, name: string, index: number, value: string, h: number,
): number {
  const base = feeds[name] ?? graph.initializers.get(name);
  if (!base) throw new Error(`no tensor '${name}'`);
  const at = (delta: number) => {
    const data = Float64Array.from(base.data as ArrayLike<number>, Number);
    data[index]! += delta;
    const out = evaluate(graph, { ...feeds, [name]: { dtype: 'float64', dims: base.dims, data } }, [value]);
    return total(out[value]!);
  };
  return (at(h) - at(-h)) / (2 * h);
}

/** Indices to probe: all when small, else a seeded sample. */
export function probes(n: number, count: number, r: () => number): number[] {
  if (n <= count) return [...Array(n).keys()];
  const set = new Set<number>();
  while (set.size < count) set.add(Math.floor(r() * n));
  return [...set];
}
