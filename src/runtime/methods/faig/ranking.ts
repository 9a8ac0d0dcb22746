// Rankings of kernels and the sets masking takes from them: by descending score, equal scores by
// lower index (so the order is one order); shares as the authors' int(K * p / 100); seeded
// random sets for the contrast; the paper's comparator that needs no gradients (filter change).

import type { Graph } from '../../graph/ir.js';
import { mulberry32 } from '../../stats/random.js';
import { locate, type KernelIndex } from './kernels.js';

/** Kernel indices by descending score, equal scores by lower index. */
export function rankScores(scores: Float32Array | Float64Array): Int32Array {
  const order = Int32Array.from(scores.keys());
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return order;
}

/** How many kernels a share (in percent) selects: int(K * p / 100), as the authors' mask script. */
export function shareCount(total: number, percent: number): number {
  return Math.floor((total * percent) / 100 + 1e-9);
}

/** A seeded permutation of 0..n-1 (Fisher-Yates over mulberry32). */
export function seededPermutation(n: number, seed: number): Int32Array {
  const next = mulberry32(seed ^ 0x2545f491);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * The paper's filter-change comparator: per kernel, sum |W_target - W_baseline| / sum |W_baseline|
 * over its taps (0 where the baseline's kernel is all zeros and unchanged).
 */
export function filterChange(index: KernelIndex, baseline: Graph, target: Graph): Float32Array {
  const scores = new Float32Array(index.total);
  for (const c of index.convs) {
    const b = baseline.initializers.get(c.weight)!.data;
    const t = target.initializers.get(c.weight)!.data;
    for (let k = 0; k < c.count; k++) {
      let change = 0;
      let size = 0;
      for (let i = k * c.taps; i < (k + 1) * c.taps; i++) {
        change += Math.abs((t[i] as number) - (b[i] as number));
        size += Math.abs(b[i] as number);
      }
      scores[c.offset + k] = size > 0 ? change / size : change > 0 ? Infinity : 0;
    }
  }
  return scores;
}

export interface TopEntry {
  rank: number;
  index: number;
  initializer: string;
  out: number;
  in: number;
  score: number;
}

/** The first `count` kernels of a ranking, located (ConvTranspose kernels: out and in of its layout). */
export function topEntries(index: KernelIndex, ranking: Int32Array, scores: ArrayLike<number>, count: number): TopEntry[] {
  return Array.from(ranking.subarray(0, count), (k, rank) => {
    const { conv, a, b } = locate(index, k);
    const [out, inn] = conv.op === 'Conv' ? [a, b] : [b, a];
    return { rank, index: k, initializer: conv.weight, out, in: inn, score: scores[k]! };
  });
}

/** How many of the given kernels each convolution holds, in the index's order. */
export function perLayer(index: KernelIndex, kernels: ArrayLike<number>): number[] {
  const counts = index.convs.map(() => 0);
  for (let i = 0; i < kernels.length; i++) {
    const k = kernels[i]!;
    const at = index.convs.findIndex((c) => k >= c.offset && k < c.offset + c.count);
    counts[at]!++;
  }
  return counts;
}
