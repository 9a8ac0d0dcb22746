// Shared pieces of the gradient tests: seeded random tensors, ONNX Runtime runs of IR graphs,
// and central finite differences in float64 through the reference evaluator.

import { outputData, runOnnx } from '../../helpers/ort.js';
import type { Graph, TensorData } from '../../../src/runtime/graph/ir.js';
import { evaluate, type F64 } from '../../../src/runtime/reference/index.js';

/** mulberry32: small, seeded, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float32 tensor with values in [lo, hi): float32 so ORT and the float64 evaluator see the same numbers. */
export function randTensor(dims: number[], r: () => number, lo = -1, hi = 1): TensorData {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * r();
  return { dtype: 'float32', dims, data };
}

export function ints(values: number[]): TensorData {
  return { dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) };
}

export function floats(values: number[], dims = [values.length]): TensorData {
  return { dtype: 'float32', dims, data: Float32Array.from(values) };
}

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

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
