// Operator parameters that sit in an attribute in old opsets and in a constant input in new
// ones (slice bounds, pads, split sizes, reduction axes, squeeze axes, reshape targets), and the
// dimension arithmetic on them. One reading serves shape inference (onnx/shapes.ts), constant
// folding, the gradient rules and the float64 evaluator.

import type { GraphNode, TensorData } from './ir.js';

/**
 * Constant input `i` of a node as numbers; undefined when the input is omitted. Throws when
 * the input is given but its value is not known (`what` names it in the message).
 */
export type ConstInput = (i: number, what: string) => number[] | undefined;

export const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

export const sizeOf = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** Tensor values as plain numbers (int64 beyond 2^53 loses precision; only used for shapes/indices). */
export function tensorNumbers(t: TensorData): number[] {
  const out = new Array<number>(t.data.length);
  for (let i = 0; i < t.data.length; i++) out[i] = Number(t.data[i]);
  return out;
}

/** The attribute `attr` when the node has it (old opsets), else constant input `i` (new opsets). */
export function intsParam(node: GraphNode, attr: string, i: number, input: ConstInput, what: string): number[] | undefined {
  const a = node.attrs[attr];
  if (Array.isArray(a)) return (a as unknown[]).map(Number);
  return input(i, what);
}

/** Value of a Constant node as a tensor. */
export function constantNodeValue(node: GraphNode): TensorData {
  const a = node.attrs;
  if (a.value !== undefined && typeof a.value === 'object' && !Array.isArray(a.value)) return a.value;
  if (typeof a.value_float === 'number') return { dtype: 'float32', dims: [], data: Float32Array.of(a.value_float) };
  if (Array.isArray(a.value_floats)) {
    const v = a.value_floats as number[];
    return { dtype: 'float32', dims: [v.length], data: Float32Array.from(v) };
  }
  if (typeof a.value_int === 'number') return { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(a.value_int)) };
  if (Array.isArray(a.value_ints)) {
    const v = a.value_ints as number[];
    return { dtype: 'int64', dims: [v.length], data: BigInt64Array.from(v.map((x) => BigInt(x))) };
  }
  throw new Error(`Constant node '${node.name}' has no supported value attribute`);
}

/**
 * Axes of a Reduce* node, normalised and sorted, from its attribute (old opsets) or second
 * input (ReduceSum 13+, others 18+). No axes means all, or none with noop_with_empty_axes.
 */
export function reduceAxes(node: GraphNode, rank: number, input: ConstInput): number[] {
  const axes = intsParam(node, 'axes', 1, input, 'axes input');
  if (axes === undefined || axes.length === 0) {
    return node.attrs.noop_with_empty_axes === 1 ? [] : [...Array(rank).keys()];
  }
  return axes.map((a) => normAxis(a, rank)).sort((a, b) => a - b);
}

/** Resolved Slice parameters per axis: start, end (exclusive, may be -1 for a reversed slice to 0) and step. */
export interface SliceSpec { axes: number[]; starts: number[]; ends: number[]; steps: number[] }

export function sliceSpec(node: GraphNode, shape: readonly number[], input: ConstInput): SliceSpec {
  const starts = intsParam(node, 'starts', 1, input, 'slice starts') ?? [];
  const ends = intsParam(node, 'ends', 2, input, 'slice ends') ?? [];
  const axes = (intsParam(node, 'axes', 3, input, 'slice axes') ?? starts.map((_, i) => i)).map((a) => normAxis(a, shape.length));
  const steps = input(4, 'slice steps') ?? starts.map(() => 1);
  const rs: number[] = [];
  const re: number[] = [];
  for (let i = 0; i < axes.length; i++) {
    const d = shape[axes[i]!]!;
    const st = steps[i]!;
    let s = starts[i]!;
    let e = ends[i]!;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (st > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    rs.push(s);
    re.push(e);
  }
  return { axes, starts: rs, ends: re, steps };
}

export function sliceLength(start: number, end: number, step: number): number {
  return step > 0 ? Math.max(0, Math.ceil((end - start) / step)) : Math.max(0, Math.ceil((start - end) / -step));
}

/** Output dims of a Slice. */
export function slicedDims(shape: readonly number[], spec: SliceSpec): number[] {
  const dims = [...shape];
  spec.axes.forEach((a, i) => (dims[a] = sliceLength(spec.starts[i]!, spec.ends[i]!, spec.steps[i]!)));
  return dims;
}

/** Pads of a Pad node over every axis (begin..., end...), its mode and constant value. */
export function padSpec(node: GraphNode, rank: number, input: ConstInput): { pads: number[]; mode: string; value: number } {
  let pads = intsParam(node, 'pads', 1, input, 'pads input');
  if (pads === undefined) throw new Error(`Pad node '${node.name}' has no pads`);
  const axes = input(3, 'axes input');
  if (axes) {
    const full = new Array<number>(2 * rank).fill(0);
    axes.forEach((a0, i) => {
      const a = normAxis(a0, rank);
      full[a] = pads![i]!;
      full[a + rank] = pads![i + axes.length]!;
    });
    pads = full;
  }
  const value = input(2, 'constant_value input')?.[0] ?? (typeof node.attrs.value === 'number' ? node.attrs.value : 0);
  const mode = node.attrs.mode;
  return { pads, mode: typeof mode === 'string' ? mode : 'constant', value };
}

/** Split sizes of a Split node along its axis of size `dim`. */
export function splitSizes(node: GraphNode, dim: number, input: ConstInput): number[] {
  const split = intsParam(node, 'split', 1, input, 'split input');
  if (split !== undefined && split.length > 0) return split;
  const n = typeof node.attrs.num_outputs === 'number' ? node.attrs.num_outputs : node.outputs.length;
  const chunk = Math.ceil(dim / n);
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
}

export function unsqueezeDims(dims: readonly number[], axes: number[]): number[] {
  const rank = dims.length + axes.length;
  const set = new Set(axes.map((a) => normAxis(a, rank)));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(set.has(i) ? 1 : dims[j++]!);
  return out;
}

export function squeezeDims(dims: readonly number[], axes: number[] | undefined): number[] {
  if (!axes || axes.length === 0) return dims.filter((d) => d !== 1);
  const set = new Set(axes.map((a) => normAxis(a, dims.length)));
  return dims.filter((_, i) => !set.has(i));
}

/** Reshape's target with 0 (copy, unless allowzero) and one -1 resolved. */
export function reshapeDims(dims: readonly number[], target: number[], allowZero: boolean, where: string): number[] {
  const out = target.map((t, i) => (t === 0 && !allowZero ? dims[i]! : t));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const total = sizeOf(dims);
  const minus = out.indexOf(-1);
  if (minus >= 0) out[minus] = known === 0 ? 0 : total / known;
  if (sizeOf(out) !== total || !out.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${where}: cannot reshape [${dims}] to [${target}]`);
  }
  return out;
}
