// A small float64 evaluator of graph IR: the independent oracle the gradient tests use
// (finite differences in float64, and gradient graphs evaluated without float32 rounding).
// Exactness over speed; only what the forward networks and the gradient builder emit.

import type { Graph, GraphNode, TensorData } from '../graph/ir.js';
import { attrFloat, attrInt, attrInts, attrStr, windowGeometry } from '../graph/attrs.js';
import { resizeMatrix } from '../autodiff/resize.js';
import {
  type ConstLookup, constantNodeValue, inferNode, normAxis, padSpec, reduceAxes, sliceSpec, sliceLength, splitSizes,
} from '../autodiff/shapes.js';
import { einsum, gather, gatherElements, gatherND, type Reduction, scatterElements, scatterND } from '../onnx/index-ops.js';
import { conv2d, convTranspose2d, pool2d } from './conv.js';
import { type F64, concat, mapN, reduce, reshape, size, sliceAxis, strides, toF64, transpose } from './tensor.js';

export type { F64 } from './tensor.js';

/** erf to float64 accuracy: Taylor series near 0, continued fraction for erfc beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let k = 1; k < 200; k++) {
      term *= -x2 / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  let f = ax;
  for (let k = 80; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}

const unaryOps: Record<string, (v: number, node: GraphNode) => number> = {
  Relu: (v) => (v > 0 ? v : 0),
  LeakyRelu: (v, n) => (v >= 0 ? v : attrFloat(n, 'alpha', 0.01) * v),
  Sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  Tanh: Math.tanh,
  Sqrt: Math.sqrt,
  Exp: Math.exp,
  Log: Math.log,
  Neg: (v) => -v,
  Abs: Math.abs,
  Sign: Math.sign,
  Erf: erf,
  Reciprocal: (v) => 1 / v,
  Softplus: (v) => Math.log1p(Math.exp(v)),
  Identity: (v) => v,
  Dropout: (v) => v,
  Not: (v) => (v ? 0 : 1),
  Floor: Math.floor,
  Ceil: Math.ceil,
};

const binaryOps: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: Math.pow,
  PRelu: (x, s) => (x < 0 ? s * x : x),
  Min: Math.min,
  Max: Math.max,
  Equal: (a, b) => (a === b ? 1 : 0),
  Greater: (a, b) => (a > b ? 1 : 0),
  Less: (a, b) => (a < b ? 1 : 0),
  GreaterOrEqual: (a, b) => (a >= b ? 1 : 0),
  LessOrEqual: (a, b) => (a <= b ? 1 : 0),
  And: (a, b) => (a && b ? 1 : 0),
  Or: (a, b) => (a || b ? 1 : 0),
};
const boolOut = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Not']);

function matmul(a: F64, b: F64): F64 {
  const a2 = a.dims.length === 1 ? reshape(a, [1, a.dims[0]!]) : a;
  const b2 = b.dims.length === 1 ? reshape(b, [b.dims[0]!, 1]) : b;
  const [m, k] = a2.dims.slice(-2) as [number, number];
  const n = b2.dims[b2.dims.length - 1]!;
  const ab = a2.dims.slice(0, -2);
  const bb = b2.dims.slice(0, -2);
  const batch = mapN([{ dtype: 'float64', dims: ab, data: new Float64Array(size(ab)) }, { dtype: 'float64', dims: bb, data: new Float64Array(size(bb)) }], 'float64', () => 0).dims;
  const nb = size(batch);
  // Batch offsets of a and b for each broadcast batch index.
  const offsets = (dims: number[], mat: number) => {
    const idxT: F64 = { dtype: 'float64', dims, data: Float64Array.from({ length: size(dims) }, (_, i) => i) };
    const z: F64 = { dtype: 'float64', dims: batch, data: new Float64Array(nb) };
    return mapN([idxT, z], 'float64', ([i]) => i! * mat).data;
  };
  const ao = offsets(ab, m * k);
  const bo = offsets(bb, k * n);
  const out = new Float64Array(nb * m * n);
  for (let q = 0; q < nb; q++) {
    for (let i = 0; i < m; i++) {
      for (let t = 0; t < k; t++) {
        const av = a2.data[ao[q]! + i * k + t]!;
        const ob = q * m * n + i * n;
        const bbase = bo[q]! + t * n;
        for (let j = 0; j < n; j++) out[ob + j]! += av * b2.data[bbase + j]!;
      }
    }
  }
  const dims = [...batch];
  if (a.dims.length > 1) dims.push(m);
  if (b.dims.length > 1) dims.push(n);
  return { dtype: a.dtype, dims, data: out };
}

function pixelShuffle(x: F64, b: number, mode: string, toSpace: boolean): F64 {
  const [n, c, h, w] = x.dims as [number, number, number, number];
  if (toSpace) {
    const co = c / (b * b);
    if (mode === 'DCR') return reshape(transpose(reshape(x, [n, b, b, co, h, w]), [0, 3, 4, 1, 5, 2]), [n, co, h * b, w * b]);
    return reshape(transpose(reshape(x, [n, co, b, b, h, w]), [0, 1, 4, 2, 5, 3]), [n, co, h * b, w * b]);
  }
  return reshape(transpose(reshape(x, [n, c, h / b, b, w / b, b]), [0, 3, 5, 1, 2, 4]), [n, c * b * b, h / b, w / b]);
}

function normalise(x: F64, axes: number[], eps: number): F64 {
  const mu = reduce(x, axes, true);
  const xc = mapN([x, mu], x.dtype, ([a, m]) => a! - m!);
  const v = reduce(mapN([xc], x.dtype, ([a]) => a! * a!), axes, true);
  return mapN([xc, v], x.dtype, ([a, s]) => a! / Math.sqrt(s! + eps));
}

function padTensor(x: F64, pads: number[], mode: string, value: number): F64 {
  const r = x.dims.length;
  const dims = x.dims.map((d, i) => d + pads[i]! + pads[i + r]!);
  const out = new Float64Array(size(dims));
  const xs = strides(x.dims);
  const idx = new Array<number>(r).fill(0);
  for (let i = 0; i < out.length; i++) {
    let off = 0;
    let inside = true;
    for (let a = 0; a < r; a++) {
      let s = idx[a]! - pads[a]!;
      const d = x.dims[a]!;
      if (s < 0 || s >= d) {
        if (mode === 'constant') { inside = false; break; }
        if (mode === 'edge') s = s < 0 ? 0 : d - 1;
        else if (mode === 'reflect') s = s < 0 ? -s : 2 * (d - 1) - s;
        else if (mode === 'wrap') s = ((s % d) + d) % d;
      }
      off += s * xs[a]!;
    }
    out[i] = inside ? x.data[off]! : value;
    for (let a = r - 1; a >= 0; a--) {
      if (++idx[a]! < dims[a]!) break;
      idx[a] = 0;
    }
  }
  return { dtype: x.dtype, dims, data: out };
}

function slice(x: F64, node: GraphNode, lookup: ConstLookup): F64 {
  const spec = sliceSpec(node, x.dims, lookup);
  let t = x;
  spec.axes.forEach((axis, i) => {
    const len = sliceLength(spec.starts[i]!, spec.ends[i]!, spec.steps[i]!);
    const dims = [...t.dims];
    dims[axis] = len;
    const outer = size(dims.slice(0, axis));
    const inner = size(dims.slice(axis + 1));
    const src = t.dims[axis]!;
    const out = new Float64Array(size(dims));
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < len; j++) {
        const s = spec.starts[i]! + j * spec.steps[i]!;
        out.set(t.data.subarray((o * src + s) * inner, (o * src + s + 1) * inner), (o * len + j) * inner);
      }
    }
    t = { dtype: t.dtype, dims, data: out };
  });
  return t;
}

function resize(x: F64, node: GraphNode, outDims: number[]): F64 {
  const [n, c, h, w] = x.dims as [number, number, number, number];
  const [, , ho, wo] = outDims as [number, number, number, number];
  if (outDims[0] !== n || outDims[1] !== c) throw new Error(`Resize '${node.name}': only spatial resizing is supported`);
  const ah = resizeMatrix(node, h, ho, scaleOf(node, 2, h, ho));
  const aw = resizeMatrix(node, w, wo, scaleOf(node, 3, w, wo));
  const out = new Float64Array(n * c * ho * wo);
  const tmp = new Float64Array(h * wo);
  for (let p = 0; p < n * c; p++) {
    tmp.fill(0);
    for (let y = 0; y < h; y++) {
      for (let o = 0; o < wo; o++) {
        let s = 0;
        for (let i = 0; i < w; i++) s += aw[o * w + i]! * x.data[(p * h + y) * w + i]!;
        tmp[y * wo + o] = s;
      }
    }
    for (let o = 0; o < ho; o++) {
      for (let i = 0; i < h; i++) {
        const a = ah[o * h + i]!;
        if (a === 0) continue;
        for (let q = 0; q < wo; q++) out[(p * ho + o) * wo + q]! += a * tmp[i * wo + q]!;
      }
    }
  }
  return { dtype: x.dtype, dims: outDims, data: out };
}

// ONNX maps coordinates with the given scale when scales are an input, else with out/in.
let scaleLookup: ConstLookup = () => undefined;
function scaleOf(node: GraphNode, axis: number, inSize: number, outSize: number): number {
  const name = node.inputs.length === 2 ? node.inputs[1] : node.inputs[2];
  const t = name ? scaleLookup(name) : undefined;
  if (t && t.data.length) return Number(t.data[axis]);
  return outSize / inSize;
}

function evalNode(node: GraphNode, ins: (F64 | undefined)[], opset: number, lookup: ConstLookup): F64[] {
  const op = node.opType;
  const x = ins[0]!;
  const un = unaryOps[op];
  if (un) return [mapN([x], boolOut.has(op) ? 'bool' : x.dtype, ([v]) => un(v!, node))];
  const bin = binaryOps[op];
  if (bin) return [mapN([x, ins[1]!], boolOut.has(op) ? 'bool' : x.dtype, ([a, b]) => bin(a!, b!))];
  const shapeOf = () => inferNode(node, ins.map((t) => (t ? { dtype: t.dtype, shape: t.dims } : undefined)), lookup, opset);
  switch (op) {
    case 'Constant': return [toF64(constantNodeValue(node))];
    case 'Gather': return [indexed(x, gather(x, ins[1]!, normAxis(attrInt(node, 'axis', 0), x.dims.length)))];
    case 'GatherElements': return [indexed(x, gatherElements(x, ins[1]!, normAxis(attrInt(node, 'axis', 0), x.dims.length)))];
    case 'GatherND': return [indexed(x, gatherND(x, ins[1]!))];
    case 'ScatterND': return [indexed(x, scatterND(x, ins[1]!, ins[2]!, attrStr(node, 'reduction', 'none') as Reduction))];
    case 'ScatterElements':
      return [indexed(x, scatterElements(x, ins[1]!, ins[2]!, normAxis(attrInt(node, 'axis', 0), x.dims.length), attrStr(node, 'reduction', 'none') as Reduction))];
    case 'Einsum': return [indexed(x, einsum(attrStr(node, 'equation', ''), ins as F64[]))];
    case 'Mod': {
      // fmod=1: the sign of the dividend (C fmod); fmod=0 (integers): the sign of the divisor.
      const c = attrInt(node, 'fmod', 0) === 1;
      return [mapN([x, ins[1]!], x.dtype, ([a, b]) => (c ? a! % b! : a! - Math.floor(a! / b!) * b!))];
    }
    case 'Gelu': {
      const tanh = attrStr(node, 'approximate', 'none') === 'tanh';
      return [mapN([x], x.dtype, ([v]) =>
        tanh ? 0.5 * v! * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v! + 0.044715 * v! ** 3))) : 0.5 * v! * (1 + erf(v! / Math.SQRT2)))];
    }
    case 'ArgMax': case 'ArgMin': {
      const r = x.dims.length;
      const axis = normAxis(attrInt(node, 'axis', 0), r);
      const last = attrInt(node, 'select_last_index', 0) === 1;
      const moved = transpose(x, [...[...Array(r).keys()].filter((a) => a !== axis), axis]);
      const n = x.dims[axis]!;
      const out = new Float64Array(moved.data.length / n);
      const better = op === 'ArgMax' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
      for (let o = 0; o < out.length; o++) {
        let best = 0;
        for (let i = 1; i < n; i++) {
          const v = moved.data[o * n + i]!;
          const b = moved.data[o * n + best]!;
          if (better(v, b) || (last && v === b)) best = i;
        }
        out[o] = best;
      }
      return [{ dtype: 'int64', dims: shapeOf()[0]!.shape, data: out }];
    }
    case 'Range': {
      const [s0, l, d] = [x.data[0]!, ins[1]!.data[0]!, ins[2]!.data[0]!];
      const n = Math.max(Math.ceil((l - s0) / d), 0);
      return [{ dtype: x.dtype, dims: [n], data: Float64Array.from({ length: n }, (_, i) => s0 + i * d) }];
    }
    case 'ConstantOfShape': {
      const dims = Array.from(x.data);
      const v = node.attrs.value;
      const value = v && typeof v === 'object' && !Array.isArray(v) ? toF64(v) : { dtype: 'float32' as const, data: Float64Array.of(0) };
      return [{ dtype: value.dtype, dims, data: new Float64Array(size(dims)).fill(value.data[0] ?? 0) }];
    }
    case 'Cast': return [{ ...x, dtype: shapeOf()[0]!.dtype }];
    case 'Sum': return [mapN(ins as F64[], x.dtype, (v) => v.reduce((a, b) => a + b, 0))];
    case 'Where': return [mapN([x, ins[1]!, ins[2]!], ins[1]!.dtype, ([c, a, b]) => (c ? a! : b!))];
    case 'Clip': {
      const lo = ins[1] ? ins[1].data[0]! : attrFloat(node, 'min', -Infinity);
      const hi = ins[2] ? ins[2].data[0]! : attrFloat(node, 'max', Infinity);
      return [mapN([x], x.dtype, ([v]) => Math.min(Math.max(v!, lo), hi))];
    }
    case 'Shape': return [{ dtype: 'int64', dims: [x.dims.length], data: Float64Array.from(x.dims) }];
    case 'Reshape': case 'Flatten': case 'Squeeze': case 'Unsqueeze':
      return [reshape(x, shapeOf()[0]!.shape)];
    case 'Expand': {
      const dims = shapeOf()[0]!.shape;
      return [mapN([x, { dtype: x.dtype, dims, data: new Float64Array(size(dims)) }], x.dtype, ([a]) => a!)];
    }
    case 'Transpose': return [transpose(x, attrInts(node, 'perm') ?? [...x.dims.keys()].reverse())];
    case 'Concat': {
      return [concat(ins as F64[], normAxis(attrInt(node, 'axis', 0), x.dims.length))];
    }
    case 'Split': {
      const axis = normAxis(attrInt(node, 'axis', 0), x.dims.length);
      let at = 0;
      return splitSizes(node, x.dims[axis]!, lookup).map((s) => {
        const part = sliceAxis(x, axis, at, s);
        at += s;
        return part;
      });
    }
    case 'Slice': return [slice(x, node, lookup)];
    case 'Pad': {
      const { pads, mode, value } = padSpec(node, x.dims.length, lookup);
      if (pads.some((p) => p < 0)) {
        const r = x.dims.length;
        let t = padTensor(x, pads.map((p) => Math.max(p, 0)), mode, value);
        for (let a = 0; a < r; a++) {
          const b = Math.max(0, -pads[a]!);
          const e = Math.max(0, -pads[a + r]!);
          if (b || e) t = sliceAxis(t, a, b, t.dims[a]! - b - e);
        }
        return [t];
      }
      return [padTensor(x, pads, mode, value)];
    }
    case 'Conv': {
      const w = ins[1]!;
      const g = windowGeometry(node, x.dims.slice(2), attrInts(node, 'kernel_shape') ?? w.dims.slice(2));
      return [conv2d(x, w, ins[2], g, attrInt(node, 'group', 1))];
    }
    case 'ConvTranspose': {
      const w = ins[1]!;
      const g = windowGeometry(node, x.dims.slice(2), attrInts(node, 'kernel_shape') ?? w.dims.slice(2), true);
      return [convTranspose2d(x, w, ins[2], g, attrInt(node, 'group', 1))];
    }
    case 'MaxPool': case 'AveragePool': {
      const g = windowGeometry(node, x.dims.slice(2), attrInts(node, 'kernel_shape')!, false, attrInt(node, 'ceil_mode', 0) === 1);
      return [pool2d(x, g, op === 'MaxPool' ? 'max' : 'avg', attrInt(node, 'count_include_pad', 0) === 1)];
    }
    case 'GlobalAveragePool': return [reduce(x, [...x.dims.keys()].slice(2), true)];
    case 'MatMul': return [matmul(x, ins[1]!)];
    case 'Gemm': {
      let a = x;
      let b = ins[1]!;
      if (attrInt(node, 'transA', 0)) a = transpose(a, [1, 0]);
      if (attrInt(node, 'transB', 0)) b = transpose(b, [1, 0]);
      const alpha = attrFloat(node, 'alpha', 1);
      const beta = attrFloat(node, 'beta', 1);
      const y = matmul(a, b);
      const c = ins[2];
      return [c ? mapN([y, c], y.dtype, ([p, q]) => alpha * p! + beta * q!) : mapN([y], y.dtype, ([p]) => alpha * p!)];
    }
    case 'DepthToSpace':
      return [pixelShuffle(x, attrInt(node, 'blocksize', 1), attrStr(node, 'mode', 'DCR'), true)];
    case 'SpaceToDepth': return [pixelShuffle(x, attrInt(node, 'blocksize', 1), 'DCR', false)];
    case 'Resize': case 'Upsample': return [resize(x, node, shapeOf()[0]!.shape)];
    case 'ReduceSum': case 'ReduceMean': {
      const axes = reduceAxes(node, x.dims.length, lookup);
      const r = reduce(x, axes, op === 'ReduceMean');
      return [reshape(r, shapeOf()[0]!.shape)];
    }
    case 'Softmax': {
      const r = x.dims.length;
      const axis = normAxis(attrInt(node, 'axis', opset >= 13 ? -1 : 1), r);
      const axes = opset >= 13 ? [axis] : [...Array(r - axis).keys()].map((i) => i + axis);
      const mx = mapN([x], x.dtype, ([v]) => v!);
      // Subtract the max for range, then exponentiate and normalise.
      const m = reduceMax(mx, axes);
      const ex = mapN([x, m], x.dtype, ([v, q]) => Math.exp(v! - q!));
      const s = reduce(ex, axes, false);
      return [mapN([ex, s], x.dtype, ([a, b]) => a! / b!)];
    }
    case 'LayerNormalization': {
      const axis = normAxis(attrInt(node, 'axis', -1), x.dims.length);
      const axes = [...Array(x.dims.length - axis).keys()].map((i) => i + axis);
      const xh = normalise(x, axes, attrFloat(node, 'epsilon', 1e-5));
      const y = mapN([xh, ins[1]!], x.dtype, ([a, s]) => a! * s!);
      return [ins[2] ? mapN([y, ins[2]], x.dtype, ([a, b]) => a! + b!) : y];
    }
    case 'InstanceNormalization': {
      const axes = [...x.dims.keys()].slice(2);
      const xh = normalise(x, axes, attrFloat(node, 'epsilon', 1e-5));
      const col = (t: F64) => reshape(t, [t.dims[0]!, ...axes.map(() => 1)]);
      return [mapN([xh, col(ins[1]!), col(ins[2]!)], x.dtype, ([a, s, b]) => a! * s! + b!)];
    }
    case 'BatchNormalization': {
      const col = (t: F64) => reshape(t, [t.dims[0]!, ...x.dims.slice(2).map(() => 1)]);
      const eps = attrFloat(node, 'epsilon', 1e-5);
      return [mapN([x, col(ins[1]!), col(ins[2]!), col(ins[3]!), col(ins[4]!)], x.dtype,
        ([v, s, b, m, va]) => ((v! - m!) / Math.sqrt(va! + eps)) * s! + b!)];
    }
    default:
      throw new Error(`reference evaluator: operator ${op} (node '${node.name}') is not supported`);
  }
}

/** An index kernel's result in the dtype of its data input. */
function indexed(like: F64, r: { dims: number[]; data: Float64Array }): F64 {
  return { dtype: like.dtype, dims: r.dims, data: r.data };
}

function reduceMax(x: F64, axes: number[]): F64 {
  // max via a transpose that brings the axes last.
  const keep = [...x.dims.keys()].filter((a) => !axes.includes(a));
  const t = transpose(x, [...keep, ...axes]);
  const inner = axes.reduce((p, a) => p * x.dims[a]!, 1);
  const outer = size(t.dims) / inner;
  const out = new Float64Array(outer);
  for (let o = 0; o < outer; o++) {
    let m = -Infinity;
    for (let i = 0; i < inner; i++) m = Math.max(m, t.data[o * inner + i]!);
    out[o] = m;
  }
  return { dtype: x.dtype, dims: x.dims.map((d, i) => (axes.includes(i) ? 1 : d)), data: out };
}

/**
 * Evaluates `graph` in float64 on `feeds` (graph inputs by name) and returns the requested values
 * (the graph outputs by default). Initializers may be overridden through feeds.
 */
export function evaluate(graph: Graph, feeds: Record<string, TensorData | F64>, wanted?: string[]): Record<string, F64> {
  const values = new Map<string, F64>();
  for (const [name, t] of graph.initializers) values.set(name, toF64(t));
  for (const [name, t] of Object.entries(feeds)) values.set(name, toF64(t));
  for (const i of graph.inputs) if (!values.has(i.name)) throw new Error(`evaluate: no value fed for input '${i.name}'`);
  const want = wanted ?? graph.outputs.map((o) => o.name);
  // Only the nodes the wanted values depend on.
  const producer = new Map<string, GraphNode>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const needed = new Set<GraphNode>();
  const stack = [...want];
  while (stack.length) {
    const p = producer.get(stack.pop()!);
    if (!p || needed.has(p)) continue;
    needed.add(p);
    for (const i of p.inputs) if (i) stack.push(i);
  }
  const nodes = graph.nodes.filter((n) => needed.has(n));
  const lastUse = new Map<string, number>();
  nodes.forEach((n, k) => n.inputs.forEach((i) => i && lastUse.set(i, k)));
  const keep = new Set([...want, ...graph.initializers.keys(), ...Object.keys(feeds)]);
  // Shape-like inputs (Reshape shapes, Slice starts, Resize scales) are read from computed values.
  const lookup: ConstLookup = (name) => values.get(name);
  scaleLookup = lookup;
  nodes.forEach((node, k) => {
    const ins = node.inputs.map((n) => {
      if (!n) return undefined;
      const v = values.get(n);
      if (!v) throw new Error(`evaluate: value '${n}' (input of node '${node.name}') is not computed`);
      return v;
    });
    let outs: F64[];
    try {
      outs = evalNode(node, ins, graph.opset, lookup);
    } catch (err) {
      throw new Error(`evaluate: node '${node.name}' (${node.opType}): ${(err as Error).message}`);
    }
    node.outputs.forEach((o, i) => o && outs[i] && values.set(o, outs[i]!));
    for (const n of node.inputs) if (n && lastUse.get(n) === k && !keep.has(n)) values.delete(n);
  });
  const out: Record<string, F64> = {};
  for (const w of want) {
    const v = values.get(w);
    if (!v) throw new Error(`evaluate: '${w}' was not computed`);
    out[w] = v;
  }
  return out;
}

