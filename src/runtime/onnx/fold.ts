// Constant evaluation of the operators that PyTorch exports use for shape arithmetic
// (Shape -> Gather -> Unsqueeze -> Concat -> Reshape, Cast, Slice, ConstantOfShape, ...).
// Values are computed in float64 numbers and written back in the node's output type; these
// tensors are shapes, indices and scales, never large activations.

import type { DType, GraphNode, TensorData } from '../graph/ir.js';
import {
  type ConstInput, constantNodeValue, intsParam, reduceAxes, reshapeDims, slicedDims, sliceSpec, squeezeDims, unsqueezeDims,
} from '../graph/params.js';
import { attrInt, attrInts, attrStr } from '../graph/attrs.js';
import { dtypeFromOnnx } from './codec.js';
import { gather, gatherElements, gatherND, type Reduction, scatterElements, scatterND } from './index-ops.js';
import { broadcast, broadcastStrides, fromNumbers, isInt, normAxis, sizeOf, toNumbers } from './tensor-util.js';

type Inputs = (TensorData | undefined)[];
type Fold = (node: GraphNode, inputs: Inputs, opset: number) => TensorData[];

const need = (t: TensorData | undefined, node: GraphNode, i: number): TensorData => {
  if (!t) throw new Error(`node '${node.name}' (${node.opType}): input ${i} is missing`);
  return t;
};

function elementwise(fn: (...xs: number[]) => number, outType?: (ts: TensorData[]) => DType): Fold {
  return (node, inputs) => {
    const ts = inputs.filter((t): t is TensorData => !!t);
    let dims: number[] = [];
    for (const t of ts) dims = broadcast(dims, t.dims, `node '${node.name}'`);
    const n = sizeOf(dims);
    const rank = dims.length;
    const strides = ts.map((t) => broadcastStrides(t.dims, rank));
    const vals = ts.map(toNumbers);
    const out = new Float64Array(n);
    const idx = new Array<number>(rank).fill(0);
    const args = new Array<number>(ts.length);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < ts.length; k++) {
        let off = 0;
        for (let d = 0; d < rank; d++) off += idx[d] * strides[k][d];
        args[k] = vals[k][off];
      }
      out[i] = fn(...args);
      for (let d = rank - 1; d >= 0; d--) {
        if (++idx[d] < dims[d]) break;
        idx[d] = 0;
      }
    }
    const dtype = outType ? outType(ts) : ts[0].dtype;
    return [fromNumbers(dtype, dims, out)];
  };
}

const boolType = (): DType => 'bool';
const whereType = (ts: TensorData[]): DType => ts[1].dtype;

/** An index kernel (index-ops.ts) as a fold: output in the data's type. */
function indexing(run: (ins: TensorData[], node: GraphNode) => { dims: number[]; data: ArrayLike<number> }): Fold {
  return (node, inputs) => {
    const ins = inputs.map((t, i) => need(t, node, i));
    const r = run(ins, node);
    return [fromNumbers(ins[0].dtype, r.dims, r.data)];
  };
}
const values = (t: TensorData) => ({ dims: t.dims, data: toNumbers(t) });
const axisOf = (node: GraphNode, t: TensorData) => normAxis(attrInt(node, 'axis', 0), t.dims.length);
const reductionOf = (node: GraphNode) => attrStr(node, 'reduction', 'none') as Reduction;

/** A fold's constant inputs as the parameter readers want them. */
const constInputs = (inputs: Inputs): ConstInput => (i) => (inputs[i] ? toNumbers(inputs[i]!) : undefined);

function slice(node: GraphNode, inputs: Inputs): TensorData[] {
  const data = need(inputs[0], node, 0);
  const spec = sliceSpec(node, data.dims, constInputs(inputs));
  const dims = slicedDims(data.dims, spec);
  const start = data.dims.map(() => 0);
  const step = data.dims.map(() => 1);
  spec.axes.forEach((a, i) => {
    start[a] = spec.starts[i]!;
    step[a] = spec.steps[i]!;
  });
  const inStrides = data.dims.map((_, i) => sizeOf(data.dims.slice(i + 1)));
  const base = start.reduce((o, s, d) => o + s * inStrides[d], 0);
  return [strided(data, dims, step.map((s, d) => s * inStrides[d]), base)];
}

function concat(node: GraphNode, inputs: Inputs): TensorData[] {
  const ts = inputs.filter((t): t is TensorData => !!t);
  const rank = ts[0].dims.length;
  const axis = normAxis(attrInt(node, 'axis', 0), rank);
  const outer = sizeOf(ts[0].dims.slice(0, axis));
  const out: number[] = [];
  const vals = ts.map(toNumbers);
  for (let o = 0; o < outer; o++) {
    ts.forEach((t, k) => {
      const chunk = sizeOf(t.dims.slice(axis));
      for (let j = 0; j < chunk; j++) out.push(vals[k][o * chunk + j]);
    });
  }
  const dims = [...ts[0].dims];
  dims[axis] = ts.reduce((s, t) => s + (t.dims[axis] ?? 1), 0);
  return [fromNumbers(ts[0].dtype, dims, out)];
}

function transpose(node: GraphNode, inputs: Inputs): TensorData[] {
  const data = need(inputs[0], node, 0);
  const rank = data.dims.length;
  const perm = attrInts(node, 'perm') ?? data.dims.map((_, i) => rank - 1 - i);
  const dims = perm.map((p) => data.dims[p]);
  const inStrides = data.dims.map((_, i) => sizeOf(data.dims.slice(i + 1)));
  return [strided(data, dims, perm.map((p) => inStrides[p]))];
}

function reduce(fn: (acc: number, x: number) => number, init: number, post?: (acc: number, n: number) => number): Fold {
  return (node, inputs) => {
    const data = need(inputs[0], node, 0);
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const rank = data.dims.length;
    const axes = new Set(reduceAxes(node, rank, constInputs(inputs)));
    const outDims = data.dims.map((d, i) => (axes.has(i) ? 1 : d));
    const n = sizeOf(outDims);
    const acc = new Array<number>(n).fill(init);
    const count = new Array<number>(n).fill(0);
    const vals = toNumbers(data);
    const outStrides = broadcastStrides(outDims, rank);
    const idx = new Array<number>(rank).fill(0);
    for (let i = 0; i < vals.length; i++) {
      let off = 0;
      for (let d = 0; d < rank; d++) off += idx[d] * outStrides[d];
      acc[off] = fn(acc[off], vals[i]);
      count[off]++;
      for (let d = rank - 1; d >= 0; d--) {
        if (++idx[d] < data.dims[d]) break;
        idx[d] = 0;
      }
    }
    const res = post ? acc.map((a, i) => post(a, count[i])) : acc;
    const dims = keep ? outDims : data.dims.filter((_, i) => !axes.has(i));
    return [fromNumbers(data.dtype, dims, res)];
  };
}

const intDiv = elementwise((a, b) => Math.trunc(a / b));
const realDiv = elementwise((a, b) => a / b);

const FOLDS: Record<string, Fold> = {
  Constant: (node) => [constantNodeValue(node)],
  Identity: (node, inputs) => [need(inputs[0], node, 0)],
  Cast: (node, inputs) => {
    const t = need(inputs[0], node, 0);
    const to = dtypeFromOnnx(attrInt(node, 'to', 1), `Cast node '${node.name}'`);
    return [fromNumbers(to, [...t.dims], toNumbers(t))];
  },
  Gather: indexing(([d, i], n) => gather(values(d), values(i), axisOf(n, d))),
  GatherElements: indexing(([d, i], n) => gatherElements(values(d), values(i), axisOf(n, d))),
  GatherND: indexing(([d, i]) => gatherND(values(d), values(i))),
  ScatterND: indexing(([d, i, u], n) => scatterND(values(d), values(i), values(u), reductionOf(n))),
  ScatterElements: indexing(([d, i, u], n) => scatterElements(values(d), values(i), values(u), axisOf(n, d), reductionOf(n))),
  Unsqueeze: (node, inputs) => {
    const t = need(inputs[0], node, 0);
    return [{ ...t, dims: unsqueezeDims(t.dims, intsParam(node, 'axes', 1, constInputs(inputs), 'axes') ?? []) }];
  },
  Squeeze: (node, inputs) => {
    const t = need(inputs[0], node, 0);
    return [{ ...t, dims: squeezeDims(t.dims, intsParam(node, 'axes', 1, constInputs(inputs), 'axes')) }];
  },
  Reshape: (node, inputs) => {
    const t = need(inputs[0], node, 0);
    const target = toNumbers(need(inputs[1], node, 1));
    return [{ ...t, dims: reshapeDims(t.dims, target, attrInt(node, 'allowzero', 0) === 1, `node '${node.name}'`) }];
  },
  Flatten: (node, inputs) => {
    const t = need(inputs[0], node, 0);
    const axis = normAxis(attrInt(node, 'axis', 1), t.dims.length);
    return [{ ...t, dims: [sizeOf(t.dims.slice(0, axis)), sizeOf(t.dims.slice(axis))] }];
  },
  Concat: concat,
  Slice: slice,
  Transpose: transpose,
  ConstantOfShape: (node, inputs) => {
    const dims = toNumbers(need(inputs[0], node, 0));
    const v = node.attrs.value;
    const value = v && typeof v === 'object' && !Array.isArray(v) ? v : fromNumbers('float32', [1], [0]);
    return [fromNumbers(value.dtype, dims, new Array(sizeOf(dims)).fill(Number(value.data[0])))];
  },
  Range: (node, inputs) => {
    const [s, l, d] = [0, 1, 2].map((i) => toNumbers(need(inputs[i], node, i))[0]);
    const n = Math.max(Math.ceil((l - s) / d), 0);
    return [fromNumbers(inputs[0]!.dtype, [n], Array.from({ length: n }, (_, i) => s + i * d))];
  },
  Expand: (node, inputs) => {
    const t = need(inputs[0], node, 0);
    const shape = toNumbers(need(inputs[1], node, 1));
    const dims = broadcast(t.dims, shape, `node '${node.name}'`);
    return [expandTo(t, dims)];
  },
  Add: elementwise((a, b) => a + b),
  Sub: elementwise((a, b) => a - b),
  Mul: elementwise((a, b) => a * b),
  Div: (node, inputs, opset) =>
    (isInt(need(inputs[0], node, 0).dtype) ? intDiv : realDiv)(node, inputs, opset),
  Mod: elementwise((a, b) => a - Math.floor(a / b) * b),
  Pow: elementwise((a, b) => a ** b),
  Neg: elementwise((a) => -a),
  Abs: elementwise((a) => Math.abs(a)),
  Floor: elementwise((a) => Math.floor(a)),
  Ceil: elementwise((a) => Math.ceil(a)),
  Round: elementwise((a) => {
    const r = Math.round(a);
    return Math.abs(a % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r; // half to even
  }),
  Sqrt: elementwise((a) => Math.sqrt(a)),
  Min: elementwise((...xs) => Math.min(...xs)),
  Max: elementwise((...xs) => Math.max(...xs)),
  Equal: elementwise((a, b) => (a === b ? 1 : 0), boolType),
  Less: elementwise((a, b) => (a < b ? 1 : 0), boolType),
  Greater: elementwise((a, b) => (a > b ? 1 : 0), boolType),
  Not: elementwise((a) => (a ? 0 : 1), boolType),
  And: elementwise((a, b) => (a && b ? 1 : 0), boolType),
  Or: elementwise((a, b) => (a || b ? 1 : 0), boolType),
  Where: elementwise((c, a, b) => (c ? a : b), whereType),
  ReduceProd: reduce((a, x) => a * x, 1),
  ReduceSum: reduce((a, x) => a + x, 0),
  ReduceMax: reduce((a, x) => Math.max(a, x), -Infinity),
  ReduceMin: reduce((a, x) => Math.min(a, x), Infinity),
  ReduceMean: reduce((a, x) => a + x, 0, (a, n) => a / n),
};

function expandTo(t: TensorData, dims: number[]): TensorData {
  return strided(t, dims, broadcastStrides(t.dims, dims.length));
}

/** The `dims` tensor whose element at index i is t's element at base + sum(i[d] * strides[d]). */
function strided(t: TensorData, dims: number[], strides: number[], base = 0): TensorData {
  const rank = dims.length;
  const vals = toNumbers(t);
  const n = sizeOf(dims);
  const out = new Array<number>(n);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let off = base;
    for (let d = 0; d < rank; d++) off += idx[d] * strides[d];
    out[i] = vals[off];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return fromNumbers(t.dtype, dims, out);
}

/** Largest output (elements) folded; bigger constant expressions stay in the graph. */
export const FOLD_LIMIT = 1 << 16;

export function canFold(opType: string): boolean {
  return opType in FOLDS;
}

/** Evaluate `node` on constant inputs; undefined inputs are omitted optional ones. */
export function foldNode(node: GraphNode, inputs: Inputs, opset: number): TensorData[] {
  return FOLDS[node.opType](node, inputs, opset);
}
