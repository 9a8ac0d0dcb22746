// Float64 tensors for the reference evaluator: every dtype is held as float64 values
// (integers are exact up to 2^53, booleans are 0/1), which keeps the kernels small.

import type { DType, TensorData } from '../graph/ir.js';
import { sizeOf as size } from '../graph/params.js';

export interface F64 {
  dtype: DType;
  dims: number[];
  data: Float64Array;
}

export { size };

export function toF64(t: TensorData | F64): F64 {
  if (t.data instanceof Float64Array) return { dtype: t.dtype, dims: [...t.dims], data: t.data };
  const data = new Float64Array(t.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Number(t.data[i]);
  return { dtype: t.dtype, dims: [...t.dims], data };
}

export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

export function broadcastDims(shapes: number[][]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    s.forEach((d, i) => {
      const j = rank - s.length + i;
      if (d !== 1) {
        if (out[j] !== 1 && out[j] !== d) throw new Error(`cannot broadcast [${shapes.map((x) => x.join(',')).join('] [')}]`);
        out[j] = d;
      }
    });
  }
  return out;
}

/** Element-wise map over broadcast inputs. */
export function mapN(inputs: F64[], dtype: DType, f: (v: number[]) => number): F64 {
  const dims = broadcastDims(inputs.map((t) => t.dims));
  const n = size(dims);
  const out = new Float64Array(n);
  const rank = dims.length;
  const same = inputs.every((t) => t.dims.length === rank && t.dims.every((d, i) => d === dims[i]));
  const vals = new Array<number>(inputs.length);
  if (same) {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < inputs.length; k++) vals[k] = inputs[k]!.data[i]!;
      out[i] = f(vals);
    }
    return { dtype, dims, data: out };
  }
  const st = inputs.map((t) => {
    const s = strides(t.dims);
    return dims.map((d, i) => {
      const j = i - (rank - t.dims.length);
      return j < 0 || t.dims[j] === 1 ? 0 : s[j]!;
    });
  });
  const idx = new Array<number>(rank).fill(0);
  const off = new Array<number>(inputs.length).fill(0);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < inputs.length; k++) vals[k] = inputs[k]!.data[off[k]!]!;
    out[i] = f(vals);
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]!++;
      for (let k = 0; k < inputs.length; k++) off[k]! += st[k]![a]!;
      if (idx[a]! < dims[a]!) break;
      for (let k = 0; k < inputs.length; k++) off[k]! -= st[k]![a]! * dims[a]!;
      idx[a] = 0;
    }
  }
  return { dtype, dims, data: out };
}

export function transpose(t: F64, perm: number[]): F64 {
  const dims = perm.map((p) => t.dims[p]!);
  const s = strides(t.dims);
  const ps = perm.map((p) => s[p]!);
  const n = size(dims);
  const out = new Float64Array(n);
  const rank = dims.length;
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    out[i] = t.data[off]!;
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]!++;
      off += ps[a]!;
      if (idx[a]! < dims[a]!) break;
      off -= ps[a]! * dims[a]!;
      idx[a] = 0;
    }
  }
  return { dtype: t.dtype, dims, data: out };
}

export function reshape(t: F64, dims: number[]): F64 {
  if (size(dims) !== size(t.dims)) throw new Error(`cannot reshape [${t.dims}] to [${dims}]`);
  return { dtype: t.dtype, dims, data: t.data };
}

/** Sum (or mean) over axes, keeping them as size-1 dims. */
export function reduce(t: F64, axes: number[], mean: boolean): F64 {
  const dims = t.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float64Array(size(dims));
  const os = strides(dims).map((s, i) => (axes.includes(i) ? 0 : s));
  const rank = t.dims.length;
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < t.data.length; i++) {
    out[off]! += t.data[i]!;
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]!++;
      off += os[a]!;
      if (idx[a]! < t.dims[a]!) break;
      off -= os[a]! * t.dims[a]!;
      idx[a] = 0;
    }
  }
  if (mean) {
    const cnt = axes.reduce((p, a) => p * t.dims[a]!, 1);
    for (let i = 0; i < out.length; i++) out[i]! /= cnt;
  }
  return { dtype: t.dtype, dims, data: out };
}

/** Copies ranges along one axis: pieces are [outer, len, inner] blocks. */
export function concat(parts: F64[], axis: number): F64 {
  const dims = [...parts[0]!.dims];
  dims[axis] = parts.reduce((s, p) => s + p.dims[axis]!, 0);
  const outer = size(dims.slice(0, axis));
  const inner = size(dims.slice(axis + 1));
  const out = new Float64Array(size(dims));
  let at = 0;
  for (const p of parts) {
    const len = p.dims[axis]! * inner;
    for (let o = 0; o < outer; o++) out.set(p.data.subarray(o * len, (o + 1) * len), o * dims[axis]! * inner + at);
    at += len;
  }
  return { dtype: parts[0]!.dtype, dims, data: out };
}

export function sliceAxis(t: F64, axis: number, start: number, len: number): F64 {
  const dims = [...t.dims];
  dims[axis] = len;
  const outer = size(dims.slice(0, axis));
  const inner = size(dims.slice(axis + 1));
  const out = new Float64Array(size(dims));
  const src = t.dims[axis]! * inner;
  for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * src + start * inner, o * src + (start + len) * inner), o * len * inner);
  return { dtype: t.dtype, dims, data: out };
}
