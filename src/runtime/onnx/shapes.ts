// Shape inference for concrete shapes: one rule per ONNX operator, given the inputs' types and
// shapes and, where an input is a constant (shapes, axes, pads, scales), its value. The one
// engine: specialisation uses it directly, the gradient builder and the float64 evaluator through
// autodiff/shapes.ts.

import type { DType, GraphNode, TensorData } from '../graph/ir.js';
import { attrInt, attrInts, attrStr, windowGeometry } from '../graph/attrs.js';
import {
  type ConstInput, constantNodeValue, intsParam, padSpec, reduceAxes, reshapeDims, slicedDims, sliceSpec, splitSizes,
  squeezeDims, unsqueezeDims,
} from '../graph/params.js';
import { dtypeFromOnnx } from './codec.js';
import { einsumSizes, parseEinsum } from './index-ops.js';
import { broadcast, normAxis, sizeOf, toNumbers } from './tensor-util.js';

export interface TypedShape {
  dtype: DType;
  shape: number[];
}

/** An operator shape inference does not know, or an input it needs that is not constant. */
export class UnsupportedOperatorError extends Error {
  override name = 'UnsupportedOperatorError';
  constructor(
    readonly opType: string,
    readonly node: string,
    detail?: string,
  ) {
    super(detail ?? `unsupported operator ${opType} (node '${node}')`);
  }
}

export interface ShapeContext {
  node: GraphNode;
  inputs: (TypedShape | undefined)[];
  /** Constant value of input i, when known. */
  value(i: number): TensorData | undefined;
  opset: number;
}

type Rule = (c: ShapeContext) => TypedShape[];

const ints = (c: ShapeContext, name: string) => attrInts(c.node, name);
const int = (c: ShapeContext, name: string, fallback: number) => attrInt(c.node, name, fallback);
const str = (c: ShapeContext, name: string, fallback: string) => attrStr(c.node, name, fallback);
const inp = (c: ShapeContext, i: number): TypedShape => {
  const t = c.inputs[i];
  if (!t) throw new Error(`node '${c.node.name}' (${c.node.opType}): input ${i} is missing or has no known shape`);
  return t;
};
/** A constant input's values; a non-constant one makes the shape depend on data. */
const constant = (c: ShapeContext, i: number, what: string): number[] | undefined => {
  if (!c.node.inputs[i]) return undefined;
  const v = c.value(i);
  if (!v) {
    throw new UnsupportedOperatorError(
      c.node.opType,
      c.node.name,
      `${c.node.opType} node '${c.node.name}': its ${what} is computed from data, so its output shape is unknown`,
    );
  }
  return toNumbers(v);
};
/** The node's constant inputs for the parameter readers of graph/params.ts. */
const consts = (c: ShapeContext): ConstInput => (i, what) => constant(c, i, what);
const err = (c: ShapeContext, msg: string) => new Error(`${c.node.opType} node '${c.node.name}': ${msg}`);

const same: Rule = (c) => [{ ...inp(c, 0), shape: [...inp(c, 0).shape] }];

function broadcastAll(dtype: (c: ShapeContext) => DType): Rule {
  return (c) => {
    let shape: number[] = [];
    for (const t of c.inputs) if (t) shape = broadcast(shape, t.shape, `${c.node.opType} node '${c.node.name}'`);
    return [{ dtype: dtype(c), shape }];
  };
}
const firstType = (c: ShapeContext) => inp(c, 0).dtype;

/** Spatial output size of a sliding window (conv, pooling); an empty output is an error. */
function windowShape(c: ShapeContext, spatial: number[], kernel: number[], ceil = false): number[] {
  const { out } = windowGeometry(c.node, spatial, kernel, false, ceil);
  out.forEach((o, i) => {
    if (o <= 0) throw err(c, `input size ${spatial[i]} is too small for kernel ${kernel[i]}`);
  });
  return out;
}

function reduceRule(outType?: DType): Rule {
  return (c) => {
    const x = inp(c, 0);
    const rank = x.shape.length;
    const arg = c.node.opType === 'ArgMax' || c.node.opType === 'ArgMin';
    const set = new Set(arg ? [normAxis(int(c, 'axis', 0), rank)] : reduceAxes(c.node, rank, consts(c)));
    const keep = int(c, 'keepdims', 1) === 1;
    const shape = keep ? x.shape.map((d, i) => (set.has(i) ? 1 : d)) : x.shape.filter((_, i) => !set.has(i));
    return [{ dtype: outType ?? x.dtype, shape }];
  };
}

function resize(c: ShapeContext): TypedShape[] {
  const x = inp(c, 0);
  const rank = x.shape.length;
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (c.node.opType === 'Upsample' || c.opset < 11) {
    scales = c.opset < 9 ? ints(c, 'scales') : constant(c, 1, 'scales input');
  } else {
    scales = c.node.inputs[2] ? constant(c, 2, 'scales input') : undefined;
    sizes = c.node.inputs[3] ? constant(c, 3, 'sizes input') : undefined;
  }
  const axes = (ints(c, 'axes') ?? x.shape.map((_, i) => i)).map((a) => normAxis(a, rank));
  const shape = [...x.shape];
  if (sizes && sizes.length > 0) {
    const policy = str(c, 'keep_aspect_ratio_policy', 'stretch');
    if (policy !== 'stretch') {
      const ratios = axes.map((a, i) => sizes![i] / x.shape[a]);
      const r = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((a) => (shape[a] = Math.round(x.shape[a] * r)));
    } else {
      axes.forEach((a, i) => (shape[a] = sizes![i]));
    }
  } else if (scales && scales.length > 0) {
    axes.forEach((a, i) => (shape[a] = Math.floor(x.shape[a] * scales![i] + 1e-9)));
  } else {
    throw err(c, 'neither scales nor sizes given');
  }
  return [{ dtype: x.dtype, shape }];
}

function conv(c: ShapeContext): TypedShape[] {
  const x = inp(c, 0);
  const w = inp(c, 1);
  const kernel = ints(c, 'kernel_shape') ?? w.shape.slice(2);
  const group = int(c, 'group', 1);
  if (x.shape[1] !== w.shape[1] * group) {
    throw err(c, `input has ${x.shape[1]} channels, weights expect ${w.shape[1] * group}`);
  }
  return [{ dtype: x.dtype, shape: [x.shape[0], w.shape[0], ...windowShape(c, x.shape.slice(2), kernel)] }];
}

function convTranspose(c: ShapeContext): TypedShape[] {
  const x = inp(c, 0);
  const w = inp(c, 1);
  const kernel = ints(c, 'kernel_shape') ?? w.shape.slice(2);
  const { out } = windowGeometry(c.node, x.shape.slice(2), kernel, true);
  return [{ dtype: x.dtype, shape: [x.shape[0], w.shape[1] * int(c, 'group', 1), ...out] }];
}

function pool(c: ShapeContext): TypedShape[] {
  const x = inp(c, 0);
  const kernel = ints(c, 'kernel_shape');
  if (!kernel) throw err(c, 'no kernel_shape');
  const out = { dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...windowShape(c, x.shape.slice(2), kernel, int(c, 'ceil_mode', 0) === 1)] };
  return c.node.outputs.length > 1 ? [out, { dtype: 'int64', shape: out.shape }] : [out];
}

function matmulShape(c: ShapeContext, a: number[], b: number[]): number[] {
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  if (a2[a2.length - 1] !== b2[b2.length - 2]) throw err(c, `inner sizes differ: [${a}] x [${b}]`);
  const batch = broadcast(a2.slice(0, -2), b2.slice(0, -2), `${c.node.opType} node '${c.node.name}'`);
  const out = [...batch, a2[a2.length - 2], b2[b2.length - 1]];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

function split(c: ShapeContext): TypedShape[] {
  const x = inp(c, 0);
  const axis = normAxis(int(c, 'axis', 0), x.shape.length);
  const parts = splitSizes(c.node, x.shape[axis], consts(c));
  return parts.map((p) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? p : d)) }));
}

function pad(c: ShapeContext): TypedShape[] {
  const x = inp(c, 0);
  const rank = x.shape.length;
  const { pads } = padSpec(c.node, rank, consts(c));
  return [{ dtype: x.dtype, shape: x.shape.map((d, i) => d + pads[i] + pads[i + rank]) }];
}

const RULES: Record<string, Rule> = {};
const UNARY = [
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Sqrt', 'Neg', 'Abs', 'Erf', 'Clip', 'Softplus', 'Softsign',
  'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Celu', 'Gelu', 'Mish', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'Reciprocal',
  'Softmax', 'LogSoftmax', 'InstanceNormalization', 'LRN', 'Identity', 'Sign', 'ThresholdedRelu', 'Shrink', 'Hardmax',
];
for (const op of UNARY) RULES[op] = same;
for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'Mod']) RULES[op] = broadcastAll(firstType);
for (const op of ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']) RULES[op] = broadcastAll(() => 'bool');
RULES.Not = (c) => [{ dtype: 'bool', shape: [...inp(c, 0).shape] }];
RULES.Where = broadcastAll((c) => inp(c, 1).dtype);
const REDUCE = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp'];
for (const op of REDUCE) RULES[op] = reduceRule();
Object.assign(RULES, {
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool,
  AveragePool: pool,
  LpPool: pool,
  GlobalAveragePool: (c) => [{ ...inp(c, 0), shape: inp(c, 0).shape.map((d, i) => (i < 2 ? d : 1)) }],
  GlobalMaxPool: (c) => [{ ...inp(c, 0), shape: inp(c, 0).shape.map((d, i) => (i < 2 ? d : 1)) }],
  Resize: resize,
  Upsample: resize,
  DepthToSpace: (c) => {
    const [n, ch, h, w] = inp(c, 0).shape;
    const b = int(c, 'blocksize', 1);
    if (ch % (b * b) !== 0) throw err(c, `${ch} channels do not divide by blocksize^2 = ${b * b}`);
    return [{ dtype: inp(c, 0).dtype, shape: [n, ch / (b * b), h * b, w * b] }];
  },
  SpaceToDepth: (c) => {
    const [n, ch, h, w] = inp(c, 0).shape;
    const b = int(c, 'blocksize', 1);
    if (h % b || w % b) throw err(c, `spatial size ${h}x${w} does not divide by blocksize ${b}`);
    return [{ dtype: inp(c, 0).dtype, shape: [n, ch * b * b, h / b, w / b] }];
  },
  BatchNormalization: (c) => [same(c)[0]],
  LayerNormalization: (c) => {
    const x = inp(c, 0);
    const axis = normAxis(int(c, 'axis', -1), x.shape.length);
    const stat = { dtype: 'float32' as DType, shape: x.shape.map((d, i) => (i < axis ? d : 1)) };
    return [same(c)[0], stat, stat].slice(0, c.node.outputs.length);
  },
  Dropout: (c) => [same(c)[0], { dtype: 'bool', shape: [...inp(c, 0).shape] }].slice(0, c.node.outputs.length) as TypedShape[],
  Cast: (c) => [{ dtype: dtypeFromOnnx(int(c, 'to', 1), `Cast node '${c.node.name}'`), shape: [...inp(c, 0).shape] }],
  CastLike: (c) => [{ dtype: inp(c, 1).dtype, shape: [...inp(c, 0).shape] }],
  Concat: (c) => {
    const ts = c.inputs.filter((t): t is TypedShape => !!t);
    const axis = normAxis(int(c, 'axis', 0), ts[0].shape.length);
    const shape = [...ts[0].shape];
    shape[axis] = ts.reduce((s, t) => s + t.shape[axis], 0);
    for (const t of ts) {
      if (t.shape.some((d, i) => i !== axis && d !== ts[0].shape[i])) throw err(c, `inputs [${t.shape}] and [${ts[0].shape}] differ off axis ${axis}`);
    }
    return [{ dtype: ts[0].dtype, shape }];
  },
  Split: split,
  Slice: (c) => {
    const x = inp(c, 0);
    return [{ dtype: x.dtype, shape: slicedDims(x.shape, sliceSpec(c.node, x.shape, consts(c))) }];
  },
  Pad: pad,
  Reshape: (c) => {
    const x = inp(c, 0);
    const target = intsParam(c.node, 'shape', 1, consts(c), 'target shape');
    if (!target) throw err(c, 'no target shape');
    return [{ dtype: x.dtype, shape: reshapeDims(x.shape, target, int(c, 'allowzero', 0) === 1, `Reshape node '${c.node.name}'`) }];
  },
  Flatten: (c) => {
    const x = inp(c, 0);
    const axis = normAxis(int(c, 'axis', 1), x.shape.length);
    return [{ dtype: x.dtype, shape: [sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis))] }];
  },
  Squeeze: (c) => {
    const x = inp(c, 0);
    return [{ dtype: x.dtype, shape: squeezeDims(x.shape, intsParam(c.node, 'axes', 1, consts(c), 'axes input')) }];
  },
  Unsqueeze: (c) => {
    const x = inp(c, 0);
    const axes = intsParam(c.node, 'axes', 1, consts(c), 'axes input');
    if (!axes) throw err(c, 'no axes');
    return [{ dtype: x.dtype, shape: unsqueezeDims(x.shape, axes) }];
  },
  Transpose: (c) => {
    const x = inp(c, 0);
    const perm = ints(c, 'perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  MatMul: (c) => [{ dtype: inp(c, 0).dtype, shape: matmulShape(c, inp(c, 0).shape, inp(c, 1).shape) }],
  Gemm: (c) => {
    const a = inp(c, 0).shape;
    const b = inp(c, 1).shape;
    const m = int(c, 'transA', 0) ? a[1] : a[0];
    const n = int(c, 'transB', 0) ? b[0] : b[1];
    return [{ dtype: inp(c, 0).dtype, shape: [m, n] }];
  },
  ArgMax: reduceRule('int64'),
  ArgMin: reduceRule('int64'),
  Shape: (c) => {
    const rank = inp(c, 0).shape.length;
    const start = normAxis(int(c, 'start', 0), rank);
    const end = c.node.attrs.end === undefined ? rank : normAxis(int(c, 'end', rank), rank);
    return [{ dtype: 'int64', shape: [Math.max(0, Math.min(end, rank) - Math.max(start, 0))] }];
  },
  Size: () => [{ dtype: 'int64', shape: [] }],
  Constant: (c) => {
    const t = constantNodeValue(c.node);
    return [{ dtype: t.dtype, shape: [...t.dims] }];
  },
  ConstantOfShape: (c) => {
    const v = c.node.attrs.value;
    const dtype = v && typeof v === 'object' && !Array.isArray(v) ? v.dtype : 'float32';
    return [{ dtype, shape: constant(c, 0, 'shape input')! }];
  },
  Expand: (c) => [{ dtype: inp(c, 0).dtype, shape: broadcast(inp(c, 0).shape, constant(c, 1, 'shape input')!, `Expand node '${c.node.name}'`) }],
  Tile: (c) => {
    const reps = constant(c, 1, 'repeats input')!;
    return [{ dtype: inp(c, 0).dtype, shape: inp(c, 0).shape.map((d, i) => d * reps[i]) }];
  },
  Gather: (c) => {
    const x = inp(c, 0);
    const axis = normAxis(int(c, 'axis', 0), x.shape.length);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...inp(c, 1).shape, ...x.shape.slice(axis + 1)] }];
  },
  Range: (c) => {
    const [s, l, d] = [0, 1, 2].map((i) => constant(c, i, 'range bound')![0]);
    return [{ dtype: inp(c, 0).dtype, shape: [Math.max(Math.ceil((l - s) / d), 0)] }];
  },
  GatherElements: (c) => [{ dtype: inp(c, 0).dtype, shape: [...inp(c, 1).shape] }],
  GatherND: (c) => {
    const x = inp(c, 0).shape;
    const idx = inp(c, 1).shape;
    if (int(c, 'batch_dims', 0) !== 0) throw new UnsupportedOperatorError('GatherND', c.node.name, `GatherND node '${c.node.name}': batch_dims is not supported`);
    return [{ dtype: inp(c, 0).dtype, shape: [...idx.slice(0, -1), ...x.slice(idx[idx.length - 1])] }];
  },
  ScatterND: (c) => [{ ...inp(c, 0), shape: [...inp(c, 0).shape] }],
  ScatterElements: (c) => [{ ...inp(c, 0), shape: [...inp(c, 0).shape] }],
  Einsum: (c) => {
    const ins = c.inputs.map((t, i) => t ?? inp(c, i));
    const spec = parseEinsum(str(c, 'equation', ''), ins.map((t) => t.shape.length));
    const size = einsumSizes(spec, ins.map((t) => t.shape));
    return [{ dtype: ins[0].dtype, shape: [...spec.output].map((l) => size.get(l)!) }];
  },
} satisfies Record<string, Rule>);

export function knowsOperator(opType: string): boolean {
  return opType in RULES;
}

export function inferNode(c: ShapeContext): TypedShape[] {
  const rule = RULES[c.node.opType];
  if (!rule || (c.node.domain && c.node.domain !== 'ai.onnx')) {
    throw new UnsupportedOperatorError(c.node.opType, c.node.name);
  }
  return rule(c);
}
