// Static shape and dtype inference for the operators the gradient builder reads and emits.
// The builder needs concrete shapes (broadcast reductions, pre-flipped weights, output sizes);
// graphs arrive specialised to one input shape, so every size here is a number.

import type { DType, Graph, GraphNode, TensorData } from '../graph/ir.js';
import { attrInt, attrInts, attrStr, product, tensorToNumbers, windowGeometry } from './attrs.js';

export interface TensorInfo {
  dtype: DType;
  shape: number[];
}

/** Looks up the value of a constant tensor (initializer or Constant output), if any. */
export type ConstLookup = (name: string) => TensorData | undefined;

export function broadcastShapes(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = new Array(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i]!;
      if (d === out[j] || d === 1) continue;
      if (out[j] === 1) out[j] = d;
      else throw new Error(`shapes [${shapes.map((x) => x.join(',')).join('] [')}] do not broadcast`);
    }
  }
  return out;
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Value of a Constant node as a tensor. */
export function constantNodeValue(node: GraphNode): TensorData {
  const a = node.attrs;
  if (a.value !== undefined && typeof a.value === 'object' && !Array.isArray(a.value)) return a.value;
  if (typeof a.value_float === 'number') return { dtype: 'float32', dims: [], data: Float32Array.of(a.value_float) };
  if (Array.isArray(a.value_floats)) {
    const v = (a.value_floats as number[]);
    return { dtype: 'float32', dims: [v.length], data: Float32Array.from(v) };
  }
  if (typeof a.value_int === 'number') return { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(a.value_int)) };
  if (Array.isArray(a.value_ints)) {
    const v = (a.value_ints as number[]);
    return { dtype: 'int64', dims: [v.length], data: BigInt64Array.from(v.map((x) => BigInt(x))) };
  }
  throw new Error(`Constant node '${node.name}' has no supported value attribute`);
}

/** Axes of a Reduce* node, from its attribute (old opsets) or second input (ReduceSum 13+, others 18+). */
export function reduceAxes(node: GraphNode, rank: number, lookup: ConstLookup): number[] {
  let axes = attrInts(node, 'axes');
  const axesInput = node.inputs[1];
  if (axes === undefined && axesInput) {
    const t = lookup(axesInput);
    if (!t) throw new Error(`${node.opType} node '${node.name}': axes must be constant`);
    axes = tensorToNumbers(t);
  }
  if (axes === undefined || axes.length === 0) {
    if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [];
    return [...Array(rank).keys()];
  }
  return axes.map((a) => normAxis(a, rank)).sort((a, b) => a - b);
}

/** Resolved Slice parameters per axis: start, end (exclusive, may be -1 for a reversed slice to 0) and step. */
export interface SliceSpec { axes: number[]; starts: number[]; ends: number[]; steps: number[] }

export function sliceSpec(node: GraphNode, shape: number[], lookup: ConstLookup): SliceSpec {
  const ints = (i: number, attr: string): number[] | undefined => {
    const a = attrInts(node, attr);
    if (a !== undefined) return a;
    const nm = node.inputs[i];
    if (!nm) return undefined;
    const t = lookup(nm);
    if (!t) throw new Error(`Slice node '${node.name}': input ${i} must be constant`);
    return tensorToNumbers(t);
  };
  const starts = ints(1, 'starts')!;
  const ends = ints(2, 'ends')!;
  const axes = (ints(3, 'axes') ?? starts.map((_, i) => i)).map((a) => normAxis(a, shape.length));
  const steps = ints(4, '__none__') ?? starts.map(() => 1);
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

/** Pads of a Pad node (begin..., end...) and its mode. */
export function padSpec(node: GraphNode, rank: number, lookup: ConstLookup): { pads: number[]; mode: string; value: number } {
  let pads = attrInts(node, 'pads');
  if (pads === undefined) {
    const t = lookup(node.inputs[1]!);
    if (!t) throw new Error(`Pad node '${node.name}': pads must be constant`);
    pads = tensorToNumbers(t);
  }
  const axesName = node.inputs[3];
  if (axesName) {
    const t = lookup(axesName);
    if (!t) throw new Error(`Pad node '${node.name}': axes must be constant`);
    const axes = tensorToNumbers(t).map((a) => normAxis(a, rank));
    const full = new Array(2 * rank).fill(0);
    axes.forEach((a, i) => {
      full[a] = pads![i]!;
      full[a + rank] = pads![i + axes.length]!;
    });
    pads = full;
  }
  let value = typeof node.attrs.value === 'number' ? node.attrs.value : 0;
  const vName = node.inputs[2];
  if (vName) {
    const t = lookup(vName);
    if (!t) throw new Error(`Pad node '${node.name}': constant_value must be constant`);
    value = Number(t.data[0] ?? 0);
  }
  return { pads, mode: attrStr(node, 'mode', 'constant'), value };
}

/** Split sizes of a Split node along its axis. */
export function splitSizes(node: GraphNode, dim: number, lookup: ConstLookup): number[] {
  let split = attrInts(node, 'split');
  if (split === undefined && node.inputs[1]) {
    const t = lookup(node.inputs[1]);
    if (!t) throw new Error(`Split node '${node.name}': split must be constant`);
    split = tensorToNumbers(t);
  }
  if (split !== undefined) return split;
  const n = attrInt(node, 'num_outputs', node.outputs.length);
  const chunk = Math.ceil(dim / n);
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
}

/** Target shape of a Reshape (0 copies, -1 infers). */
export function reshapeTarget(node: GraphNode, inShape: number[], lookup: ConstLookup): number[] {
  const t = lookup(node.inputs[1]!);
  if (!t) throw new Error(`Reshape node '${node.name}': shape must be constant (specialise the graph first)`);
  const spec = tensorToNumbers(t);
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const out = spec.map((d, i) => (d === 0 && !allowZero ? inShape[i]! : d));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const dims = out.map((d) => (d === -1 ? product(inShape) / known : d));
  if (product(dims) !== product(inShape) || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`Reshape node '${node.name}': cannot reshape [${inShape}] to [${spec}]`);
  }
  return dims;
}

/** Output spatial sizes of a Resize node. */
export function resizeSizes(node: GraphNode, inShape: number[], lookup: ConstLookup): { sizes: number[]; scales: number[] } {
  // opset 10: (X, scales); opset 11+: (X, roi, scales, sizes)
  const scalesName = node.inputs.length === 2 ? node.inputs[1] : node.inputs[2];
  const sizesName = node.inputs[3];
  if (sizesName) {
    const t = lookup(sizesName);
    if (!t) throw new Error(`Resize node '${node.name}': sizes must be constant`);
    const sizes = tensorToNumbers(t);
    return { sizes, scales: sizes.map((s, i) => s / inShape[i]!) };
  }
  const t = scalesName ? lookup(scalesName) : undefined;
  if (!t || t.data.length === 0) throw new Error(`Resize node '${node.name}': scales or sizes must be constant`);
  const scales = tensorToNumbers(t);
  return { sizes: inShape.map((d, i) => Math.floor(d * scales[i]!)), scales };
}

function poolKernel(node: GraphNode): number[] {
  const k = attrInts(node, 'kernel_shape');
  if (!k) throw new Error(`${node.opType} node '${node.name}' has no kernel_shape`);
  return k;
}

const sameShape = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Sqrt', 'Exp', 'Neg', 'Abs', 'Erf', 'Identity', 'Sign',
  'Reciprocal', 'Log', 'Softmax', 'LogSoftmax', 'Clip', 'Floor', 'Ceil', 'Round', 'Dropout', 'Elu',
  'Selu', 'HardSigmoid', 'Softplus', 'InstanceNormalization', 'BatchNormalization', 'Not',
]);
const broadcastOps = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'PRelu', 'Max', 'Min', 'Sum', 'Mean']);
const compareOps = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Xor']);

const dtypeOfOnnx: Record<number, DType> = { 1: 'float32', 2: 'uint8', 6: 'int32', 7: 'int64', 9: 'bool', 11: 'float64' };

/** Output infos of one node, from its input infos. */
export function inferNode(node: GraphNode, ins: (TensorInfo | undefined)[], lookup: ConstLookup): TensorInfo[] {
  const x = ins[0];
  const need = (): TensorInfo => {
    if (!x) throw new Error(`${node.opType} node '${node.name}': input '${node.inputs[0]}' has no known shape`);
    return x;
  };
  const op = node.opType;
  if (sameShape.has(op)) {
    const a = need();
    return node.outputs.map((_, i) => (i === 0 ? { ...a } : { dtype: 'bool' as DType, shape: a.shape }));
  }
  if (broadcastOps.has(op)) {
    const present = ins.filter((i): i is TensorInfo => i !== undefined);
    return [{ dtype: need().dtype, shape: broadcastShapes(...present.map((i) => i.shape)) }];
  }
  if (compareOps.has(op)) return [{ dtype: 'bool', shape: broadcastShapes(need().shape, ins[1]!.shape) }];
  switch (op) {
    case 'Where':
      return [{ dtype: ins[1]!.dtype, shape: broadcastShapes(need().shape, ins[1]!.shape, ins[2]!.shape) }];
    case 'Cast':
      return [{ dtype: dtypeOfOnnx[attrInt(node, 'to', 1)] ?? 'float32', shape: need().shape }];
    case 'Constant': {
      const t = constantNodeValue(node);
      return [{ dtype: t.dtype, shape: t.dims }];
    }
    case 'Shape': return [{ dtype: 'int64', shape: [need().shape.length] }];
    case 'ConstantOfShape': {
      const t = lookup(node.inputs[0]!);
      if (!t) throw new Error(`ConstantOfShape node '${node.name}': shape must be constant`);
      const v = node.attrs.value as TensorData | undefined;
      return [{ dtype: v?.dtype ?? 'float32', shape: tensorToNumbers(t) }];
    }
    case 'LayerNormalization': {
      const a = need();
      const axis = normAxis(attrInt(node, 'axis', -1), a.shape.length);
      const stat = a.shape.map((d, i) => (i < axis ? d : 1));
      return node.outputs.map((_, i) => (i === 0 ? { ...a } : { dtype: a.dtype, shape: stat }));
    }
    case 'Conv': {
      const a = need();
      const w = ins[1]!.shape;
      const g = windowGeometry(node, a.shape.slice(2), attrInts(node, 'kernel_shape') ?? w.slice(2));
      return [{ dtype: a.dtype, shape: [a.shape[0]!, w[0]!, ...g.out] }];
    }
    case 'ConvTranspose': {
      const a = need();
      const w = ins[1]!.shape;
      const g = windowGeometry(node, a.shape.slice(2), attrInts(node, 'kernel_shape') ?? w.slice(2), true);
      return [{ dtype: a.dtype, shape: [a.shape[0]!, w[1]! * attrInt(node, 'group', 1), ...g.out] }];
    }
    case 'MaxPool':
    case 'AveragePool': {
      const a = need();
      const g = windowGeometry(node, a.shape.slice(2), poolKernel(node), false, attrInt(node, 'ceil_mode', 0) === 1);
      const shape = [a.shape[0]!, a.shape[1]!, ...g.out];
      return node.outputs.map((_, i) => (i === 0 ? { dtype: a.dtype, shape } : { dtype: 'int64' as DType, shape }));
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool': {
      const a = need();
      return [{ dtype: a.dtype, shape: a.shape.map((d, i) => (i < 2 ? d : 1)) }];
    }
    case 'MatMul': {
      const a = need().shape;
      const b = ins[1]!.shape;
      const a2 = a.length === 1 ? [1, a[0]!] : a;
      const b2 = b.length === 1 ? [b[0]!, 1] : b;
      const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
      const shape = [...batch];
      if (a.length > 1) shape.push(a2[a2.length - 2]!);
      if (b.length > 1) shape.push(b2[b2.length - 1]!);
      return [{ dtype: need().dtype, shape }];
    }
    case 'Gemm': {
      const a = need().shape;
      const b = ins[1]!.shape;
      const m = attrInt(node, 'transA', 0) ? a[1]! : a[0]!;
      const n = attrInt(node, 'transB', 0) ? b[0]! : b[1]!;
      return [{ dtype: need().dtype, shape: [m, n] }];
    }
    case 'Concat': {
      const a = need();
      const axis = normAxis(attrInt(node, 'axis', 0), a.shape.length);
      const shape = [...a.shape];
      shape[axis] = ins.reduce((s, i) => s + (i ? i.shape[axis]! : 0), 0);
      return [{ dtype: a.dtype, shape }];
    }
    case 'Split': {
      const a = need();
      const axis = normAxis(attrInt(node, 'axis', 0), a.shape.length);
      return splitSizes(node, a.shape[axis]!, lookup).map((s) => {
        const shape = [...a.shape];
        shape[axis] = s;
        return { dtype: a.dtype, shape };
      });
    }
    case 'Slice': {
      const a = need();
      const spec = sliceSpec(node, a.shape, lookup);
      const shape = [...a.shape];
      spec.axes.forEach((ax, i) => {
        shape[ax] = sliceLength(spec.starts[i]!, spec.ends[i]!, spec.steps[i]!);
      });
      return [{ dtype: a.dtype, shape }];
    }
    case 'Pad': {
      const a = need();
      const { pads } = padSpec(node, a.shape.length, lookup);
      return [{ dtype: a.dtype, shape: a.shape.map((d, i) => d + pads[i]! + pads[i + a.shape.length]!) }];
    }
    case 'Reshape': {
      const a = need();
      return [{ dtype: a.dtype, shape: reshapeTarget(node, a.shape, lookup) }];
    }
    case 'Expand': {
      const a = need();
      const t = lookup(node.inputs[1]!);
      if (!t) throw new Error(`Expand node '${node.name}': shape must be constant`);
      return [{ dtype: a.dtype, shape: broadcastShapes(a.shape, tensorToNumbers(t)) }];
    }
    case 'Tile': {
      const a = need();
      const t = lookup(node.inputs[1]!);
      if (!t) throw new Error(`Tile node '${node.name}': repeats must be constant`);
      const reps = tensorToNumbers(t);
      return [{ dtype: a.dtype, shape: a.shape.map((d, i) => d * reps[i]!) }];
    }
    case 'Transpose': {
      const a = need();
      const perm = attrInts(node, 'perm') ?? [...a.shape.keys()].reverse();
      return [{ dtype: a.dtype, shape: perm.map((p) => a.shape[p]!) }];
    }
    case 'Flatten': {
      const a = need();
      const axis = normAxis(attrInt(node, 'axis', 1), a.shape.length);
      return [{ dtype: a.dtype, shape: [product(a.shape.slice(0, axis)), product(a.shape.slice(axis))] }];
    }
    case 'Squeeze': {
      const a = need();
      let axes = attrInts(node, 'axes');
      if (axes === undefined && node.inputs[1]) axes = tensorToNumbers(lookup(node.inputs[1])!);
      const set = new Set((axes ?? a.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((ax) => normAxis(ax, a.shape.length)));
      return [{ dtype: a.dtype, shape: a.shape.filter((_, i) => !set.has(i)) }];
    }
    case 'Unsqueeze': {
      const a = need();
      let axes = attrInts(node, 'axes');
      if (axes === undefined && node.inputs[1]) {
        const t = lookup(node.inputs[1]);
        if (!t) throw new Error(`Unsqueeze node '${node.name}': axes must be constant`);
        axes = tensorToNumbers(t);
      }
      const rank = a.shape.length + axes!.length;
      const set = new Set(axes!.map((ax) => normAxis(ax, rank)));
      const shape: number[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) shape.push(set.has(i) ? 1 : a.shape[j++]!);
      return [{ dtype: a.dtype, shape }];
    }
    case 'DepthToSpace': {
      const a = need();
      const b = attrInt(node, 'blocksize', 1);
      const [n, c, h, w] = a.shape as [number, number, number, number];
      return [{ dtype: a.dtype, shape: [n, c / (b * b), h * b, w * b] }];
    }
    case 'SpaceToDepth': {
      const a = need();
      const b = attrInt(node, 'blocksize', 1);
      const [n, c, h, w] = a.shape as [number, number, number, number];
      return [{ dtype: a.dtype, shape: [n, c * b * b, h / b, w / b] }];
    }
    case 'Resize':
    case 'Upsample': {
      const a = need();
      return [{ dtype: a.dtype, shape: resizeSizes(node, a.shape, lookup).sizes }];
    }
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceSumSquare':
    case 'ReduceL2': {
      const a = need();
      const axes = new Set(reduceAxes(node, a.shape.length, lookup));
      const keep = attrInt(node, 'keepdims', 1) === 1;
      const shape = keep ? a.shape.map((d, i) => (axes.has(i) ? 1 : d)) : a.shape.filter((_, i) => !axes.has(i));
      return [{ dtype: a.dtype, shape }];
    }
    case 'Gather': {
      const a = need();
      const idx = ins[1]!;
      const axis = normAxis(attrInt(node, 'axis', 0), a.shape.length);
      return [{ dtype: a.dtype, shape: [...a.shape.slice(0, axis), ...idx.shape, ...a.shape.slice(axis + 1)] }];
    }
    default:
      throw new Error(`shape inference: operator ${op} (node '${node.name}') is not supported`);
  }
}

/**
 * Infers every value's shape in a graph whose inputs have concrete shapes. Known shapes in
 * `graph.valueInfo` are not trusted over inference but fill gaps for unsupported operators.
 */
export function inferShapes(graph: Graph, inputShapes: Record<string, number[]>): Map<string, TensorInfo> {
  const info = new Map<string, TensorInfo>();
  const constants = new Map<string, TensorData>();
  for (const [name, t] of graph.initializers) {
    info.set(name, { dtype: t.dtype, shape: t.dims });
    constants.set(name, t);
  }
  for (const i of graph.inputs) {
    if (info.has(i.name)) continue;
    const s = inputShapes[i.name] ?? i.shape;
    if (s.some((d) => typeof d !== 'number')) throw new Error(`input '${i.name}' has no concrete shape`);
    info.set(i.name, { dtype: i.dtype, shape: s as number[] });
  }
  const lookup: ConstLookup = (n) => constants.get(n);
  for (const node of graph.nodes) {
    let outs: TensorInfo[];
    try {
      outs = inferNode(node, node.inputs.map((n) => (n ? info.get(n) : undefined)), lookup);
    } catch (err) {
      const known = node.outputs.map((o) => graph.valueInfo?.get(o));
      if (known.every((k) => k && k.shape.every((d) => typeof d === 'number'))) {
        outs = known.map((k) => ({ dtype: k!.dtype, shape: k!.shape as number[] }));
      } else throw err;
    }
    node.outputs.forEach((o, i) => {
      if (o && outs[i]) info.set(o, outs[i]!);
    });
    if (node.opType === 'Constant') constants.set(node.outputs[0]!, constantNodeValue(node));
  }
  return info;
}
