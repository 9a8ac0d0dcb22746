// The scored kernels of a network pair: every 2-D kernel of every convolution weight, in the
// order the graph applies the convolutions, and the checks that make a baseline and a target
// two states of one architecture (so a straight path between them exists).

import type { Graph, TensorData } from '../../graph/ir.js';

/** One convolution weight's kernels. Kernel index = offset + a * dims[1] + b for weight[a, b, :, :]. */
export interface ConvKernels {
  /** The weight's initializer name. */
  weight: string;
  /** The bias's initializer, when the convolution has one (never scored; interpolated along the path). */
  bias?: string;
  /** Conv: [out, in/group, kh, kw]; ConvTranspose: [in, out/group, kh, kw]. */
  shape: number[];
  op: 'Conv' | 'ConvTranspose';
  offset: number;
  /** shape[0] * shape[1]. */
  count: number;
  /** kh * kw. */
  taps: number;
}

export interface KernelIndex {
  total: number;
  convs: ConvKernels[];
}

export class PairError extends Error {
  override name = 'PairError';
}

const isFloat = (t: TensorData) => t.dtype === 'float32' || t.dtype === 'float64';

/** The convolution weights of a graph that are initializers, first use first. */
export function kernelIndex(graph: Graph): KernelIndex {
  const convs: ConvKernels[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const n of graph.nodes) {
    if (n.opType !== 'Conv' && n.opType !== 'ConvTranspose') continue;
    const w = n.inputs[1];
    const t = w ? graph.initializers.get(w) : undefined;
    if (!w || !t || seen.has(w) || !isFloat(t) || t.dims.length < 3) continue;
    seen.add(w);
    const b = n.inputs[2];
    const count = t.dims[0]! * t.dims[1]!;
    const taps = t.dims.slice(2).reduce((a, d) => a * d, 1);
    convs.push({ weight: w, ...(b && graph.initializers.has(b) ? { bias: b } : {}), shape: [...t.dims], op: n.opType, offset, count, taps });
    offset += count;
  }
  return { total: offset, convs };
}

/** Where kernel `index` lives: its convolution and the (out, in) pair (ConvTranspose: (in, out)). */
export function locate(index: KernelIndex, k: number): { conv: ConvKernels; a: number; b: number } {
  let lo = 0;
  let hi = index.convs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (index.convs[mid]!.offset <= k) lo = mid;
    else hi = mid - 1;
  }
  const conv = index.convs[lo]!;
  const local = k - conv.offset;
  return { conv, a: Math.floor(local / conv.shape[1]!), b: local % conv.shape[1]! };
}

export interface Pair {
  index: KernelIndex;
  /** Float initializers whose values differ between the two networks: they move along the path. */
  moving: string[];
}

/**
 * Checks that `baseline` and `target` are one architecture: the same convolution weights (by
 * initializer name and shape) and every float initializer of the target present in the baseline
 * with the same shape. `names` say how messages call the two.
 */
export function matchPair(baseline: Graph, target: Graph, names: { baseline: string; target: string }): Pair {
  const index = kernelIndex(target);
  const problems: string[] = [];
  if (index.convs.length === 0) throw new PairError(`${names.target} has no convolution weights to score (FAIG scores the kernels of Conv and ConvTranspose weights stored in the file)`);
  const theirs = kernelIndex(baseline);
  const byName = new Map(theirs.convs.map((c) => [c.weight, c]));
  for (const c of index.convs) {
    const other = byName.get(c.weight);
    if (!other) problems.push(`${c.weight} [${c.shape.join(',')}] is in ${names.target} only`);
    else if (other.shape.join(',') !== c.shape.join(',')) problems.push(`${c.weight} is [${c.shape.join(',')}] in ${names.target} but [${other.shape.join(',')}] in ${names.baseline}`);
    byName.delete(c.weight);
  }
  for (const c of byName.values()) problems.push(`${c.weight} [${c.shape.join(',')}] is in ${names.baseline} only`);
  const moving: string[] = [];
  for (const [name, t] of target.initializers) {
    if (!isFloat(t)) continue;
    const b = baseline.initializers.get(name);
    if (!b) {
      if (!problems.some((p) => p.startsWith(`${name} `))) problems.push(`${name} [${t.dims.join(',')}] is in ${names.target} only`);
      continue;
    }
    if (b.dims.join(',') !== t.dims.join(',')) {
      if (!problems.some((p) => p.startsWith(`${name} `))) problems.push(`${name} is [${t.dims.join(',')}] in ${names.target} but [${b.dims.join(',')}] in ${names.baseline}`);
      continue;
    }
    let differs = false;
    for (let i = 0; i < t.data.length && !differs; i++) differs = t.data[i] !== b.data[i];
    if (differs) moving.push(name);
  }
  if (problems.length) {
    const shown = problems.slice(0, 8).join('; ') + (problems.length > 8 ? `; and ${problems.length - 8} more` : '');
    throw new PairError(
      `${names.baseline} and ${names.target} are not the same architecture (FAIG needs two trainings of one network, weights matched by initializer name and shape): ${shown}`,
    );
  }
  return { index, moving };
}

/** theta = a * baseline + (1 - a) * target, in float32, as the authors' script interpolates. */
export function interpolate(baseline: TensorData, target: TensorData, a: number): Float32Array {
  const out = new Float32Array(target.data.length);
  const fa = Math.fround(a);
  const fb = Math.fround(1 - a);
  const f = Math.fround;
  for (let i = 0; i < out.length; i++) out[i] = f(f(fa * (baseline.data[i] as number)) + f(fb * (target.data[i] as number)));
  return out;
}

/**
 * The target's graph with the chosen kernels (indices of `index`) set to the baseline's values,
 * or to lambda * target + (1 - lambda) * baseline when `lambda` is given. Biases stay the target's.
 */
export function replaceKernels(target: Graph, baseline: Graph, index: KernelIndex, kernels: Iterable<number>, lambda?: number): Graph {
  const initializers = new Map(target.initializers);
  const copies = new Map<string, Float32Array | Float64Array>();
  const f = Math.fround;
  for (const k of kernels) {
    const { conv, a, b } = locate(index, k);
    let data = copies.get(conv.weight);
    if (!data) {
      data = (target.initializers.get(conv.weight)!.data as Float32Array | Float64Array).slice();
      copies.set(conv.weight, data);
    }
    const base = baseline.initializers.get(conv.weight)!.data;
    const tgt = target.initializers.get(conv.weight)!.data;
    const start = (a * conv.shape[1]! + b) * conv.taps;
    for (let t = start; t < start + conv.taps; t++) {
      data[t] = lambda === undefined ? (base[t] as number) : f(f(f(lambda) * (tgt[t] as number)) + f(f(1 - lambda) * (base[t] as number)));
    }
  }
  for (const [name, data] of copies) initializers.set(name, { ...target.initializers.get(name)!, data });
  return { ...target, initializers };
}
