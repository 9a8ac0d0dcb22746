// Indexing operators on plain values (dims + numbers): Gather, GatherElements, GatherND,
// ScatterND, ScatterElements and Einsum. One implementation serves constant folding (shapes,
// masks: HAT's shifted-window mask is a ScatterND of constants) and the float64 evaluator.

import { sizeOf } from '../graph/params.js';

export interface Values {
  dims: number[];
  data: ArrayLike<number>;
}

export interface Result {
  dims: number[];
  data: Float64Array;
}

export type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';

const rowStrides = (dims: readonly number[]): number[] => {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
};

/** An index along an axis of size `n`, negative from the end; throws when out of range. */
function at(i: number, n: number, what: string): number {
  const j = i < 0 ? i + n : i;
  if (!(j >= 0 && j < n)) throw new Error(`${what}: index ${i} is out of range for size ${n}`);
  return j;
}

function combine(r: Reduction, old: number, v: number): number {
  switch (r) {
    case 'none': return v;
    case 'add': return old + v;
    case 'mul': return old * v;
    case 'max': return Math.max(old, v);
    case 'min': return Math.min(old, v);
  }
}

/** Gather along `axis`: out = data[..., indices[j...], ...]. */
export function gather(data: Values, indices: Values, axis: number): Result {
  const outer = sizeOf(data.dims.slice(0, axis));
  const inner = sizeOf(data.dims.slice(axis + 1));
  const n = data.dims[axis]!;
  const idx = Array.from(indices.data, (i) => at(i, n, 'Gather'));
  const out = new Float64Array(outer * idx.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const j of idx) for (let b = 0; b < inner; b++) out[o++] = data.data[(a * n + j) * inner + b]!;
  }
  return { dims: [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)], data: out };
}

/** GatherElements: out[i] = data[i with axis `axis` replaced by indices[i]]; out has the indices' shape. */
export function gatherElements(data: Values, indices: Values, axis: number): Result {
  const ds = rowStrides(data.dims);
  const is = rowStrides(indices.dims);
  const out = new Float64Array(indices.data.length);
  for (let p = 0; p < out.length; p++) out[p] = data.data[elementOffset(p, indices, is, ds, data.dims, axis)]!;
  return { dims: [...indices.dims], data: out };
}

/** Offset in `data` that element p of `indices` (GatherElements/ScatterElements) points at. */
function elementOffset(p: number, indices: Values, is: number[], ds: number[], dataDims: number[], axis: number): number {
  let rest = p;
  let off = 0;
  for (let d = 0; d < is.length; d++) {
    const c = Math.floor(rest / is[d]!);
    rest -= c * is[d]!;
    off += (d === axis ? at(indices.data[p]!, dataDims[d]!, 'GatherElements/ScatterElements') : c) * ds[d]!;
  }
  return off;
}

/** For each element of `indices` (GatherElements/ScatterElements), the flat offset in data it names. */
export function elementTargets(dataDims: number[], indices: Values, axis: number): number[] {
  const ds = rowStrides(dataDims);
  const is = rowStrides(indices.dims);
  return Array.from({ length: indices.data.length }, (_, p) => elementOffset(p, indices, is, ds, dataDims, axis));
}

/** GatherND (batch_dims 0): indices [..., k] pick slices data[i0..ik-1]. */
export function gatherND(data: Values, indices: Values): Result {
  const k = indices.dims[indices.dims.length - 1]!;
  const lead = indices.dims.slice(0, -1);
  const slice = sizeOf(data.dims.slice(k));
  const ds = rowStrides(data.dims);
  const n = sizeOf(lead);
  const out = new Float64Array(n * slice);
  for (let q = 0; q < n; q++) {
    let off = 0;
    for (let t = 0; t < k; t++) off += at(indices.data[q * k + t]!, data.dims[t]!, 'GatherND') * ds[t]!;
    for (let b = 0; b < slice; b++) out[q * slice + b] = data.data[off + b]!;
  }
  return { dims: [...lead, ...data.dims.slice(k)], data: out };
}

/** ScatterND: a copy of data with the slices that indices [..., k] name set to (or combined with) updates. */
export function scatterND(data: Values, indices: Values, updates: Values, reduction: Reduction = 'none'): Result {
  const out = Float64Array.from(data.data);
  const k = indices.dims[indices.dims.length - 1]!;
  const n = sizeOf(indices.dims.slice(0, -1));
  const slice = sizeOf(data.dims.slice(k));
  if (updates.data.length !== n * slice) throw new Error(`ScatterND: updates [${updates.dims}] do not match indices [${indices.dims}] on data [${data.dims}]`);
  const ds = rowStrides(data.dims);
  for (let q = 0; q < n; q++) {
    let off = 0;
    for (let t = 0; t < k; t++) off += at(indices.data[q * k + t]!, data.dims[t]!, 'ScatterND') * ds[t]!;
    for (let b = 0; b < slice; b++) out[off + b] = combine(reduction, out[off + b]!, updates.data[q * slice + b]!);
  }
  return { dims: [...data.dims], data: out };
}

/** ScatterElements: out = data, then out[indices[i] along `axis`] = (or combined with) updates[i]. */
export function scatterElements(data: Values, indices: Values, updates: Values, axis: number, reduction: Reduction = 'none'): Result {
  const out = Float64Array.from(data.data);
  if (updates.data.length !== indices.data.length) throw new Error(`ScatterElements: updates [${updates.dims}] and indices [${indices.dims}] differ`);
  const ds = rowStrides(data.dims);
  const is = rowStrides(indices.dims);
  for (let p = 0; p < indices.data.length; p++) {
    const off = elementOffset(p, indices, is, ds, data.dims, axis);
    out[off] = combine(reduction, out[off]!, updates.data[p]!);
  }
  return { dims: [...data.dims], data: out };
}

/** Letters of each operand and of the output, with '...' spelled out as capital letters. */
export interface EinsumSpec {
  inputs: string[];
  output: string;
}

/** Parses an Einsum equation for operands of the given ranks (implicit output: letters used once, sorted). */
export function parseEinsum(equation: string, ranks: number[]): EinsumSpec {
  const eq = equation.replace(/\s/g, '');
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) throw new Error(`Einsum '${equation}': ${terms.length} terms for ${ranks.length} operands`);
  let ell = 0;
  const spell = (t: string, rank: number): string => {
    if (!t.includes('...')) return t;
    const n = rank - t.replace('...', '').length;
    ell = Math.max(ell, n);
    return t.replace('...', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.slice(26 - n));
  };
  const inputs = terms.map((t, i) => spell(t, ranks[i]!));
  inputs.forEach((t, i) => {
    if (t.length !== ranks[i]) throw new Error(`Einsum '${equation}': term '${terms[i]}' does not fit an operand of rank ${ranks[i]}`);
  });
  let output: string;
  if (rhs !== undefined) {
    output = rhs.includes('...') ? rhs.replace('...', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.slice(26 - ell)) : rhs;
  } else {
    const all = inputs.join('');
    const once = [...new Set(all)].filter((c) => c >= 'a' && all.split(c).length === 2).sort().join('');
    output = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.slice(26 - ell) + once;
  }
  return { inputs, output };
}

/** Sizes of every letter; operands broadcast where a letter has size 1 in some of them. */
export function einsumSizes(spec: EinsumSpec, dims: number[][]): Map<string, number> {
  const size = new Map<string, number>();
  spec.inputs.forEach((t, i) => {
    [...t].forEach((c, d) => {
      const n = dims[i]![d]!;
      const known = size.get(c);
      if (known === undefined || known === 1) size.set(c, n);
      else if (n !== 1 && n !== known) throw new Error(`Einsum: letter '${c}' has sizes ${known} and ${n}`);
    });
  });
  for (const c of spec.output) if (!size.has(c)) throw new Error(`Einsum: output letter '${c}' is in no operand`);
  return size;
}

/** Einsum by a loop over every letter's range (small tensors: the evaluator and tests). */
export function einsum(equation: string, operands: Values[]): Result {
  const spec = parseEinsum(equation, operands.map((o) => o.dims.length));
  const size = einsumSizes(spec, operands.map((o) => o.dims));
  const letters = [...size.keys()];
  const pos = new Map(letters.map((c, i) => [c, i]));
  const outDims = [...spec.output].map((c) => size.get(c)!);
  const out = new Float64Array(sizeOf(outDims));
  const strides = spec.inputs.map((t, i) => {
    const s = rowStrides(operands[i]!.dims);
    return [...t].map((c, d) => ({ l: pos.get(c)!, s: operands[i]!.dims[d] === 1 ? 0 : s[d]! }));
  });
  const os = rowStrides(outDims);
  const outStride = [...spec.output].map((c, d) => ({ l: pos.get(c)!, s: os[d]! }));
  const idx = new Array<number>(letters.length).fill(0);
  const total = sizeOf(letters.map((c) => size.get(c)!));
  for (let n = 0; n < total; n++) {
    let v = 1;
    for (let i = 0; i < operands.length; i++) {
      let off = 0;
      for (const { l, s } of strides[i]!) off += idx[l]! * s;
      v *= operands[i]!.data[off]!;
    }
    let o = 0;
    for (const { l, s } of outStride) o += idx[l]! * s;
    out[o] += v;
    for (let d = letters.length - 1; d >= 0; d--) {
      if (++idx[d]! < size.get(letters[d]!)!) break;
      idx[d] = 0;
    }
  }
  return { dims: outDims, data: out };
}
