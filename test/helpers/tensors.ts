// Seeded random numbers and small tensors for tests: one generator, so every test's data comes
// from a seed and a failure reproduces, and the builders and comparisons many tests need.
import type { TensorData } from '../../src/runtime/graph/ir.js';
import { mulberry32 } from '../../src/runtime/stats/random.js';

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** mulberry32, the generator lvi itself draws with (src/runtime/stats/random.ts). */
export const rng = (seed: number): Rng => mulberry32(seed);

/** A standard normal number (Box-Muller). */
export function gauss(r: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** `n` float32 values in [lo, hi). */
export function randArray(n: number, r: Rng, lo = 0, hi = 1): Float32Array {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * r();
  return data;
}

/** Float32 tensor with values in [lo, hi): float32 so ORT and the float64 evaluator see the same numbers. */
export function randTensor(dims: number[], r: Rng, lo = -1, hi = 1): TensorData {
  return { dtype: 'float32', dims, data: randArray(dims.reduce((a, b) => a * b, 1), r, lo, hi) };
}

export function ints(values: number[]): TensorData {
  return { dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) };
}

export function floats(values: number[], dims = [values.length]): TensorData {
  return { dtype: 'float32', dims, data: Float32Array.from(values) };
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** max |a - b|; arrays of different lengths are an error, not a partial comparison. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** max |a - b| relative to max |b| (b the reference). */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return maxAbsDiff(a, b) / maxAbs(b);
}
