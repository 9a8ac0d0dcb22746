// Region-of-interest ("cone") graphs: the forward graph rewritten so that every node computes
// only the part of its output that a box of the network's output depends on, exactly.
//
// Needs go backwards first: the box of each value that some consumer reads (Conv taps with
// stride, dilation and padding; ConvTranspose phases; DepthToSpace blocks; Resize taps;
// element-wise and channel operations unchanged; several consumers: the bounding box of
// theirs). An operator not modelled here, or a global one, needs all of its inputs. Then the
// graph is rebuilt forwards: each node slices what it reads from the box its input holds, and
// where the original zero-padded, it pads only where the box meets the true border (a Conv
// keeps that padding in its own `pads`). So every value of the cone graph equals the same box
// of the whole-image value; only the order of float additions inside operators may differ.

import type { Graph, GraphNode, TensorData, ValueInfo } from '../graph/ir.js';
import { attrInt, attrInts, attrStr, windowGeometry } from '../graph/attrs.js';
import { normAxis, sizeOf, sliceSpec, padSpec } from '../graph/params.js';
import { toNumbers } from '../onnx/tensor-util.js';

/** A box of a tensor's two spatial axes (NCHW axes 2 and 3), half-open. */
export interface Box {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

/** Half-open interval along one axis. */
type Span = [number, number];

export interface Cone {
  /** The forward graph on the boxes: input [N, C, input box], output [N, C, output box]. */
  graph: Graph;
  /** The box of the model's input the cone reads. */
  input: Box;
  /** The box of the model's output it computes (the one asked for). */
  output: Box;
  /** Nodes of the original graph that needed their whole input (not modelled, or global). */
  whole: string[];
}

export class ConeError extends Error {
  override name = 'ConeError';
}

const spanOf = (b: Box, a: 0 | 1): Span => (a === 0 ? [b.y0, b.y1] : [b.x0, b.x1]);
const boxOf = (y: Span, x: Span): Box => ({ y0: y[0], y1: y[1], x0: x[0], x1: x[1] });
const sameBox = (a: Box, b: Box) => a.y0 === b.y0 && a.y1 === b.y1 && a.x0 === b.x0 && a.x1 === b.x1;
const union = (a: Box | undefined, b: Box): Box =>
  a ? { y0: Math.min(a.y0, b.y0), y1: Math.max(a.y1, b.y1), x0: Math.min(a.x0, b.x0), x1: Math.max(a.x1, b.x1) } : b;
const inside = (a: Box, b: Box) => a.y0 >= b.y0 && a.y1 <= b.y1 && a.x0 >= b.x0 && a.x1 <= b.x1;
const area = (b: Box) => (b.y1 - b.y0) * (b.x1 - b.x0);
const clampSpan = (s: Span, n: number): Span => [Math.max(0, s[0]), Math.min(n, s[1])];
const floorDiv = (a: number, b: number) => Math.floor(a / b);
const ceilDiv = (a: number, b: number) => -Math.floor(-a / b);

/** Element-wise operators (numpy broadcasting), and channel-wise ones along axis 1. */
const ELEMENTWISE = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'Celu', 'Gelu', 'Softplus', 'Softsign', 'Clip',
  'Identity', 'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Erf', 'HardSigmoid', 'HardSwish', 'Mish', 'Cast', 'Floor', 'Ceil',
  'Round', 'Sin', 'Cos', 'Reciprocal', 'Sign', 'Dropout', 'ThresholdedRelu', 'Not', 'IsNaN', 'IsInf',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Where', 'Equal', 'Less', 'Greater',
  'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Mod',
]);

/** Operators whose inputs after the first are per-channel parameters, not broadcast tensors. */
const FIRST_ONLY = new Set(['BatchNormalization', 'Clip', 'Dropout']);

interface Ctx {
  graph: Graph;
  shape: (v: string) => number[];
  constant: (v: string) => TensorData | undefined;
  /** Node outputs and the image input: values the cone computes (the rest are initializers). */
  computed: Set<string>;
}

/** What a node reads of each input for a box of its output, or 'whole' when it needs them all. */
type Needs = (Box | undefined)[] | 'whole';

function fullBox(shape: number[]): Box {
  return { y0: 0, y1: shape[2]!, x0: 0, x1: shape[3]! };
}

const rank4 = (ctx: Ctx, v: string) => ctx.shape(v).length === 4;

/** The constant spatial extent of input `v` aligned to rank 4 (numpy broadcasting): [h, w], 1 where broadcast. */
function extentOf(ctx: Ctx, v: string): [number, number] {
  const s = ctx.shape(v);
  const at = (a: number) => (s.length - 4 + a >= 0 ? s[s.length - 4 + a]! : 1);
  return [at(2), at(3)];
}

function elementwiseInputs(node: GraphNode): number[] {
  if (FIRST_ONLY.has(node.opType)) return [0];
  return node.inputs.map((_, i) => i).filter((i) => node.inputs[i]);
}

/** Spatial geometry of Conv or pooling along axis a, or undefined when not modelled. */
function windowed(node: GraphNode, ctx: Ctx): { k: number[]; s: number[]; d: number[]; pads: number[] } | undefined {
  const x = ctx.shape(node.inputs[0]!);
  if (x.length !== 4) return undefined;
  let kernel = attrInts(node, 'kernel_shape');
  if (!kernel && node.opType === 'Conv') kernel = ctx.shape(node.inputs[1]!).slice(2);
  if (!kernel || kernel.length !== 2) return undefined;
  if (node.opType !== 'Conv' && attrInt(node, 'ceil_mode', 0) !== 0) return undefined;
  if (node.opType === 'MaxPool' && node.outputs.filter(Boolean).length > 1) return undefined;
  const g = windowGeometry(node, x.slice(2), kernel);
  return { k: kernel, s: g.strides, d: g.dilations, pads: g.pads };
}

function convTransposeGeometry(node: GraphNode, ctx: Ctx) {
  const x = ctx.shape(node.inputs[0]!);
  if (x.length !== 4) return undefined;
  const auto = attrStr(node, 'auto_pad', 'NOTSET');
  if ((auto !== 'NOTSET' && auto !== 'VALID') || node.attrs.output_shape !== undefined) return undefined;
  const kernel = attrInts(node, 'kernel_shape') ?? ctx.shape(node.inputs[1]!).slice(2);
  if (kernel.length !== 2) return undefined;
  const g = windowGeometry(node, x.slice(2), kernel, true);
  return { k: kernel, s: g.strides, d: g.dilations, pads: g.pads, op: g.outputPadding, n: [x[2]!, x[3]!] };
}

/** ConvTranspose along one axis: the input span read for output span [a, b), and the new pads. */
function convTransposeAxis(a: number, b: number, n: number, k: number, s: number, d: number, pb: number) {
  const bl = b - 1;
  const ext = (k - 1) * d;
  let lo = Math.min(ceilDiv(a + pb - ext, s), floorDiv(a + pb, s));
  let hi = Math.max(floorDiv(bl + pb, s), ceilDiv(bl + pb - ext, s));
  lo = Math.min(Math.max(lo, 0), n - 1);
  hi = Math.min(Math.max(hi, lo), n - 1);
  const begin = pb + a - lo * s;
  let end = hi * s + ext - pb - bl;
  let outPad = 0;
  if (end < 0) {
    outPad = -end;
    end = 0;
  }
  return { span: [lo, hi + 1] as Span, begin, end, outPad };
}

/** Resize: output pixels per input pixel as [up, down] along spatial axis a (2 or 3), and its inputs. */
function resizeGeometry(node: GraphNode, ctx: Ctx) {
  const x = ctx.shape(node.inputs[0]!);
  const y = ctx.shape(node.outputs[0]!);
  if (x.length !== 4 || y.length !== 4 || x[0] !== y[0] || x[1] !== y[1]) return undefined;
  const legacy = node.opType === 'Upsample' || ctx.graph.opset < 11;
  if (node.attrs.axes !== undefined) return undefined;
  const mode = attrStr(node, 'mode', 'nearest');
  const coords = legacy ? 'asymmetric' : attrStr(node, 'coordinate_transformation_mode', 'half_pixel');
  const nearest = attrStr(node, 'nearest_mode', 'round_prefer_floor');
  if (!['nearest', 'linear', 'bilinear', 'cubic'].includes(mode)) return undefined;
  if (!['asymmetric', 'half_pixel', 'pytorch_half_pixel', 'tf_half_pixel_for_nn'].includes(coords)) return undefined;
  if (mode === 'nearest' && !['floor', 'ceil', 'round_prefer_ceil', 'round_prefer_floor'].includes(nearest)) return undefined;
  if (attrInt(node, 'antialias', 0) !== 0) return undefined;
  // A roi only matters for tf_crop_and_resize, which is not modelled.
  const scales: [number, number][] = [];
  for (const a of [2, 3]) {
    const from = x[a]!;
    const to = y[a]!;
    const g = gcdOf(from, to);
    const r: [number, number] = [to / g, from / g];
    // The operator's own scale must be that ratio, or slices would map differently.
    const given = legacy ? scaleInput(node, ctx, 1) : scaleInput(node, ctx, 2);
    if (given && Math.abs(given[a]! - r[0] / r[1]) > 1e-6 * (r[0] / r[1])) return undefined;
    scales.push(r);
  }
  if (coords === 'pytorch_half_pixel' && (y[2]! === 1 || y[3]! === 1)) return undefined;
  return { mode, coords, nearest, legacy, scales, n: [x[2]!, x[3]!] };
}

function scaleInput(node: GraphNode, ctx: Ctx, i: number): number[] | undefined {
  if (Array.isArray(node.attrs.scales)) return node.attrs.scales as number[];
  const t = node.inputs[i] ? ctx.constant(node.inputs[i]!) : undefined;
  const v = t ? toNumbers(t) : undefined;
  return v && v.length === 4 ? v : undefined;
}

function gcdOf(a: number, b: number): number {
  return b === 0 ? a : gcdOf(b, a % b);
}

/** The input pixels output pixel j of a Resize reads (before clamping to the image), inclusive. */
function resizeTaps(j: number, up: number, down: number, g: { mode: string; coords: string; nearest: string; legacy: boolean }): [number, number] {
  // Source coordinate num/den, exactly.
  let num: number;
  let den: number;
  if (g.coords === 'asymmetric') [num, den] = [j * down, up];
  else if (g.coords === 'tf_half_pixel_for_nn') [num, den] = [(2 * j + 1) * down, 2 * up];
  else [num, den] = [(2 * j + 1) * down - up, 2 * up];
  const f = Math.floor(num / den);
  const whole = num === f * den;
  if (g.mode === 'nearest') {
    if (g.legacy) return up >= down ? [f, f] : [f, whole ? f : f + 1];
    if (g.nearest === 'floor') return [f, f];
    if (g.nearest === 'ceil') return whole ? [f, f] : [f + 1, f + 1];
    if (g.nearest === 'round_prefer_ceil') {
      const r = Math.floor((2 * num + den) / (2 * den));
      return [r, r];
    }
    const r = -Math.floor((den - 2 * num) / (2 * den));
    return [r, r];
  }
  if (g.mode === 'cubic') return whole ? [f, f] : [f - 1, f + 2];
  return whole ? [f, f] : [f, f + 1];
}

/** The input span a Resize reads for output span [a, b), aligned to whole periods of the scale. */
function resizeAxis(a: number, b: number, n: number, up: number, down: number, g: Parameters<typeof resizeTaps>[3]): Span {
  // Not monotone where a source coordinate falls on a pixel (cubic reads that pixel alone): all of them.
  let lo = Infinity;
  let hi = -Infinity;
  for (let j = a; j < b; j++) {
    const [t0, t1] = resizeTaps(j, up, down, g);
    lo = Math.min(lo, Math.min(Math.max(t0, 0), n - 1));
    hi = Math.max(hi, Math.min(Math.max(t1, 0), n - 1));
  }
  // Start on a multiple of `down` so that the slice's output grid is the original's, shifted.
  return [floorDiv(lo, down) * down, Math.min(n, ceilDiv(hi + 1, down) * down)];
}

/** Slice along spatial axes with step 1 and constant bounds: the start per spatial axis, or undefined. */
function spatialSlice(node: GraphNode, ctx: Ctx): { starts: [number, number]; touches: boolean } | undefined {
  const shape = ctx.shape(node.inputs[0]!);
  let spec;
  try {
    spec = sliceSpec(node, shape, (i) => {
      const n = node.inputs[i];
      if (!n) return undefined;
      const t = ctx.constant(n);
      if (!t) throw new Error('not constant');
      return toNumbers(t);
    });
  } catch {
    return undefined;
  }
  const starts: [number, number] = [0, 0];
  let touches = false;
  for (let i = 0; i < spec.axes.length; i++) {
    const a = spec.axes[i]!;
    if (a !== 2 && a !== 3) continue;
    if (spec.steps[i] !== 1) return undefined;
    if (spec.starts[i] === 0 && spec.ends[i] === shape[a]) continue;
    starts[a - 2] = spec.starts[i]!;
    touches = true;
  }
  return { starts, touches };
}

function constantPads(node: GraphNode, ctx: Ctx): number[] | undefined {
  const rank = ctx.shape(node.inputs[0]!).length;
  if (rank !== 4) return undefined;
  let p;
  try {
    p = padSpec(node, rank, (i) => {
      const n = node.inputs[i];
      if (!n) return undefined;
      const t = ctx.constant(n);
      if (!t) throw new Error('not constant');
      return toNumbers(t);
    });
  } catch {
    return undefined;
  }
  if (p.mode !== 'constant' || p.pads.some((v) => v < 0)) return undefined;
  return p.pads;
}

/** What each input of `node` must hold for its outputs' needed boxes (`need`, per output). */
function needsOf(node: GraphNode, need: (Box | undefined)[], ctx: Ctx): Needs {
  const out = need[0];
  const op = node.opType;
  const x = node.inputs[0];
  if (!out || !x) return 'whole';
  if (node.outputs.length > 1 && op !== 'Split') return 'whole';
  if (!rank4(ctx, node.outputs[0]!) && op !== 'Split') return 'whole';
  const inputs = node.inputs.map(() => undefined as Box | undefined);
  if (ELEMENTWISE.has(op) || FIRST_ONLY.has(op) || op === 'Concat' || ((op === 'Softmax' || op === 'LogSoftmax') && normAxis(attrInt(node, 'axis', -1), 4) === 1)) {
    if (op === 'Concat' && ![0, 1].includes(normAxis(attrInt(node, 'axis', 0), 4))) return 'whole';
    const [H, W] = [ctx.shape(node.outputs[0]!)[2]!, ctx.shape(node.outputs[0]!)[3]!];
    for (const i of elementwiseInputs(node)) {
      const v = node.inputs[i]!;
      if (!ctx.computed.has(v)) continue;
      // Computed values of lower rank (a global statistic reshaped) are not modelled.
      if (!rank4(ctx, v)) return 'whole';
      const [h, w] = extentOf(ctx, v);
      if ((h !== 1 && h !== H) || (w !== 1 && w !== W)) return 'whole';
      inputs[i] = boxOf(h === 1 ? [0, 1] : spanOf(out, 0), w === 1 ? [0, 1] : spanOf(out, 1));
    }
    return inputs;
  }
  if (op === 'Split') {
    const axis = normAxis(attrInt(node, 'axis', 0), ctx.shape(x).length);
    if (!rank4(ctx, x) || axis >= 2) return 'whole';
    let u: Box | undefined;
    for (const b of need) if (b) u = union(u, b);
    inputs[0] = u;
    return inputs;
  }
  const xs = ctx.shape(x);
  if (xs.length !== 4) return 'whole';
  if (op === 'Conv' || op === 'MaxPool' || op === 'AveragePool' || op === 'LpPool') {
    const g = windowed(node, ctx);
    if (!g) return 'whole';
    const spans = ([0, 1] as const).map((a) => {
      const [o0, o1] = spanOf(out, a);
      const start = o0 * g.s[a]! - g.pads[a]!;
      const end = (o1 - 1) * g.s[a]! - g.pads[a]! + (g.k[a]! - 1) * g.d[a]! + 1;
      return clampSpan([start, end], xs[2 + a]!);
    });
    if (spans.some((s) => s[0] >= s[1])) return 'whole'; // the box lies in the padding only
    inputs[0] = boxOf(spans[0]!, spans[1]!);
    return inputs;
  }
  if (op === 'ConvTranspose') {
    const g = convTransposeGeometry(node, ctx);
    if (!g) return 'whole';
    const spans = ([0, 1] as const).map((a) => {
      const [o0, o1] = spanOf(out, a);
      return convTransposeAxis(o0, o1, g.n[a]!, g.k[a]!, g.s[a]!, g.d[a]!, g.pads[a]!);
    });
    if (spans.some((s, a) => s.outPad >= Math.max(g.s[a]!, g.d[a]!))) return 'whole';
    inputs[0] = boxOf(spans[0]!.span, spans[1]!.span);
    return inputs;
  }
  if (op === 'DepthToSpace' || op === 'SpaceToDepth') {
    const b = attrInt(node, 'blocksize', 1);
    const f = (s: Span): Span => (op === 'DepthToSpace' ? [floorDiv(s[0], b), ceilDiv(s[1], b)] : [s[0] * b, s[1] * b]);
    inputs[0] = boxOf(f(spanOf(out, 0)), f(spanOf(out, 1)));
    return inputs;
  }
  if (op === 'Resize' || op === 'Upsample') {
    const g = resizeGeometry(node, ctx);
    if (!g) return 'whole';
    const spans = ([0, 1] as const).map((a) => {
      const [o0, o1] = spanOf(out, a);
      return resizeAxis(o0, o1, g.n[a]!, g.scales[a]![0], g.scales[a]![1], g);
    });
    inputs[0] = boxOf(spans[0]!, spans[1]!);
    return inputs;
  }
  if (op === 'Pad') {
    const p = constantPads(node, ctx);
    if (!p) return 'whole';
    const spans = ([0, 1] as const).map((a) => {
      const [o0, o1] = spanOf(out, a);
      return clampSpan([o0 - p[2 + a]!, o1 - p[2 + a]!], xs[2 + a]!);
    });
    if (spans.some((s) => s[0] >= s[1])) return 'whole';
    inputs[0] = boxOf(spans[0]!, spans[1]!);
    return inputs;
  }
  if (op === 'Slice') {
    const s = spatialSlice(node, ctx);
    if (!s) return 'whole';
    inputs[0] = boxOf(
      [out.y0 + s.starts[0], out.y1 + s.starts[0]],
      [out.x0 + s.starts[1], out.x1 + s.starts[1]],
    );
    return inputs;
  }
  return 'whole';
}

/**
 * The cone of `graph` (specialised: concrete shapes in valueInfo) for box `output` of its first
 * output. The cone graph keeps the input's and the output's names; its batch is the graph's.
 */
export function coneGraph(graph: Graph, output: Box): Cone {
  const info = graph.valueInfo;
  if (!info) throw new ConeError('coneGraph needs a specialised graph (with inferred shapes)');
  const imageName = graph.inputs.find((i) => !graph.initializers.has(i.name))?.name;
  if (!imageName) throw new ConeError(`graph '${graph.name}' has no input`);
  const outName = graph.outputs[0]!.name;
  const shape = (v: string): number[] => {
    const s = graph.initializers.get(v)?.dims ?? info.get(v)?.shape;
    if (!s || s.some((d) => typeof d !== 'number')) throw new ConeError(`no shape known for '${v}'`);
    return s as number[];
  };
  const computed = new Set<string>([imageName]);
  for (const n of graph.nodes) for (const o of n.outputs) if (o) computed.add(o);
  const ctx: Ctx = { graph, shape, constant: (v) => graph.initializers.get(v), computed };
  const outShape = shape(outName);
  if (outShape.length !== 4) throw new ConeError(`output '${outName}' is not N x C x H x W`);
  if (!inside(output, fullBox(outShape)) || area(output) <= 0) {
    throw new ConeError(`box (${output.x0},${output.y0})..(${output.x1},${output.y1}) is not inside the ${outShape[3]}x${outShape[2]} output`);
  }

  // Backwards: the box each value must hold.
  const need = new Map<string, Box>([[outName, output]]);
  const mode = new Map<GraphNode, Needs>();
  const whole: string[] = [];
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k]!;
    const outs = node.outputs.map((o) => (o ? need.get(o) : undefined));
    if (outs.every((b) => !b)) continue;
    let needs = needsOf(node, outs, ctx);
    if (needs !== 'whole' && needs.some((b, i) => b && !inside(b, fullBox(shape(node.inputs[i]!))))) needs = 'whole';
    if (needs === 'whole') whole.push(node.name);
    mode.set(node, needs);
    node.inputs.forEach((v, i) => {
      if (!v || !computed.has(v)) return;
      const b = needs === 'whole' ? (rank4(ctx, v) ? fullBox(shape(v)) : undefined) : needs[i];
      if (needs === 'whole' && !rank4(ctx, v)) need.set(v, { y0: 0, y1: 0, x0: 0, x1: 0 }); // all of a non-image value
      else if (b) need.set(v, union(need.get(v), b));
    });
  }
  const inputBox = need.get(imageName);
  if (!inputBox) throw new ConeError(`the output box does not depend on the input '${imageName}'`);

  // Forwards: each node on the box it must compute; `have` is the box a value holds.
  const have = new Map<string, Box>([[imageName, inputBox]]);
  const nodes: GraphNode[] = [];
  const initializers = new Map(graph.initializers);
  let serial = 0;
  const fresh = (base: string) => `${base}::cone${serial++}`;
  const ints = (values: number[]): string => {
    const name = fresh('lvi_cone_ints');
    initializers.set(name, { dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  };
  const slices = new Map<string, string>();
  /** `v` cut down to box `b` (inside what it holds). */
  const cut = (v: string, b: Box): string => {
    const h = have.get(v);
    if (!h) return v; // a value without a box (not rank 4): whole
    if (!inside(b, h)) throw new ConeError(`internal error: '${v}' holds (${h.x0},${h.y0})..(${h.x1},${h.y1}), not (${b.x0},${b.y0})..(${b.x1},${b.y1})`);
    if (sameBox(b, h)) return v;
    const key = `${v}|${b.y0},${b.y1},${b.x0},${b.x1}`;
    const known = slices.get(key);
    if (known) return known;
    const name = fresh(v);
    const starts = [b.y0 - h.y0, b.x0 - h.x0];
    const ends = [b.y1 - h.y0, b.x1 - h.x0];
    if (graph.opset < 10) {
      nodes.push({ name: fresh('lvi_cone_slice'), opType: 'Slice', inputs: [v], outputs: [name], attrs: { starts, ends, axes: [2, 3] } });
    } else {
      nodes.push({ name: fresh('lvi_cone_slice'), opType: 'Slice', inputs: [v, ints(starts), ints(ends), ints([2, 3])], outputs: [name], attrs: {} });
    }
    have.set(name, b);
    slices.set(key, name);
    return name;
  };
  /**
   * A constant with spatial extent cut to box `b`, in JS. Its dims align to rank 4 from the
   * right (numpy broadcasting): a rank-1 constant (a bias [C] added to an N x H x W x C tensor)
   * has only the last axis.
   */
  const cutConstant = (v: string, b: Box): string => {
    const t = graph.initializers.get(v)!;
    const [h, w] = extentOf(ctx, v);
    const yb = h === 1 ? [0, 1] : [b.y0, b.y1];
    const xb = w === 1 ? [0, 1] : [b.x0, b.x1];
    if (yb[0] === 0 && yb[1] === h && xb[0] === 0 && xb[1] === w) return v; // all of it
    const dims = [...t.dims];
    const r = dims.length;
    const outer = sizeOf(dims.slice(0, Math.max(0, r - 2)));
    const nh = yb[1]! - yb[0]!;
    const nw = xb[1]! - xb[0]!;
    const data = new (t.data.constructor as new (n: number) => typeof t.data)(outer * nh * nw);
    for (let o = 0; o < outer; o++) {
      for (let y = 0; y < nh; y++) {
        for (let x = 0; x < nw; x++) (data as Float32Array)[(o * nh + y) * nw + x] = (t.data as Float32Array)[(o * h + y + yb[0]!) * w + x + xb[0]!]!;
      }
    }
    const name = fresh(v);
    initializers.set(name, { dtype: t.dtype, dims: r >= 2 ? [...dims.slice(0, r - 2), nh, nw] : [nw], data });
    return name;
  };

  for (const node of graph.nodes) {
    const needs = mode.get(node);
    if (!needs) continue; // not needed for the output box
    const outNeed = need.get(node.outputs[0]!);
    const emit = (n: GraphNode, box: Box | undefined) => {
      nodes.push(n);
      for (const o of n.outputs) if (o && box && rank4(ctx, o)) have.set(o, box);
    };
    if (needs === 'whole') {
      // Inputs are whole (their need was the full box); outputs are whole too.
      for (const v of node.inputs) {
        const h = v ? have.get(v) : undefined;
        if (h && !sameBox(h, fullBox(shape(v!)))) throw new ConeError(`internal error: '${v}' is not whole for '${node.name}'`);
      }
      nodes.push({ ...node });
      for (const o of node.outputs) if (o && rank4(ctx, o)) have.set(o, fullBox(shape(o)));
      continue;
    }
    const op = node.opType;
    const out = outNeed!;
    if (ELEMENTWISE.has(op) || FIRST_ONLY.has(op) || op === 'Concat' || op === 'Softmax' || op === 'LogSoftmax') {
      const idx = elementwiseInputs(node);
      const spatial = idx.filter((i) => {
        const [h, w] = extentOf(ctx, node.inputs[i]!);
        return h !== 1 || w !== 1;
      });
      // Where every input with extent already holds the same box, compute on it (no slices).
      const boxes = spatial.map((i) => (computed.has(node.inputs[i]!) ? have.get(node.inputs[i]!) : undefined));
      const common = boxes.length > 0 && boxes.every((b) => b && sameBox(b, boxes[0]!)) ? boxes[0]! : undefined;
      const target = common ?? out;
      const inputs = node.inputs.map((v, i) => {
        if (!v || !idx.includes(i)) return v;
        const [h, w] = extentOf(ctx, v);
        if (h === 1 && w === 1) return v;
        const b = boxOf(h === 1 ? [0, 1] : spanOf(target, 0), w === 1 ? [0, 1] : spanOf(target, 1));
        return computed.has(v) ? cut(v, b) : cutConstant(v, b);
      });
      emit({ ...node, inputs }, target);
      continue;
    }
    if (op === 'Split') {
      nodes.push({ ...node });
      const h = have.get(node.inputs[0]!)!;
      for (const o of node.outputs) if (o) have.set(o, h);
      continue;
    }
    const xs = shape(node.inputs[0]!);
    if (op === 'Conv' || op === 'MaxPool' || op === 'AveragePool' || op === 'LpPool') {
      const g = windowed(node, ctx)!;
      const pads = [0, 0, 0, 0];
      const spans = ([0, 1] as const).map((a) => {
        const [o0, o1] = spanOf(out, a);
        const start = o0 * g.s[a]! - g.pads[a]!;
        const end = (o1 - 1) * g.s[a]! - g.pads[a]! + (g.k[a]! - 1) * g.d[a]! + 1;
        const span = clampSpan([start, end], xs[2 + a]!);
        pads[a] = span[0] - start;
        pads[2 + a] = end - span[1];
        return span;
      });
      const x = cut(node.inputs[0]!, boxOf(spans[0]!, spans[1]!));
      const attrs: GraphNode['attrs'] = { ...node.attrs, pads };
      delete attrs.auto_pad;
      emit({ ...node, inputs: [x, ...node.inputs.slice(1)], attrs }, out);
      continue;
    }
    if (op === 'ConvTranspose') {
      const g = convTransposeGeometry(node, ctx)!;
      const axes = ([0, 1] as const).map((a) => {
        const [o0, o1] = spanOf(out, a);
        return convTransposeAxis(o0, o1, g.n[a]!, g.k[a]!, g.s[a]!, g.d[a]!, g.pads[a]!);
      });
      const x = cut(node.inputs[0]!, boxOf(axes[0]!.span, axes[1]!.span));
      const attrs: GraphNode['attrs'] = {
        ...node.attrs,
        pads: [axes[0]!.begin, axes[1]!.begin, axes[0]!.end, axes[1]!.end],
        output_padding: [axes[0]!.outPad, axes[1]!.outPad],
      };
      delete attrs.auto_pad;
      emit({ ...node, inputs: [x, ...node.inputs.slice(1)], attrs }, out);
      continue;
    }
    if (op === 'DepthToSpace' || op === 'SpaceToDepth') {
      const b = attrInt(node, 'blocksize', 1);
      const d2s = op === 'DepthToSpace';
      const f = (s: Span): Span => (d2s ? [floorDiv(s[0], b), ceilDiv(s[1], b)] : [s[0] * b, s[1] * b]);
      const inBox = boxOf(f(spanOf(out, 0)), f(spanOf(out, 1)));
      const x = cut(node.inputs[0]!, inBox);
      const g = (s: Span): Span => (d2s ? [s[0] * b, s[1] * b] : [s[0] / b, s[1] / b]);
      emit({ ...node, inputs: [x] }, boxOf(g(spanOf(inBox, 0)), g(spanOf(inBox, 1))));
      continue;
    }
    if (op === 'Resize' || op === 'Upsample') {
      const g = resizeGeometry(node, ctx)!;
      const spans = ([0, 1] as const).map((a) => {
        const [o0, o1] = spanOf(out, a);
        return resizeAxis(o0, o1, g.n[a]!, g.scales[a]![0], g.scales[a]![1], g);
      });
      const x = cut(node.inputs[0]!, boxOf(spans[0]!, spans[1]!));
      const made = spans.map((s, a) => {
        const [up, down] = g.scales[a]!;
        const start = (s[0] * up) / down;
        return [start, start + Math.floor(((s[1] - s[0]) * up) / down)] as Span;
      });
      const inputs = [x, ...node.inputs.slice(1)];
      const sizesAt = g.legacy ? -1 : 3;
      if (sizesAt > 0 && node.inputs[3]) {
        const ys = shape(node.outputs[0]!);
        inputs[3] = ints([ys[0]!, ys[1]!, made[0]![1] - made[0]![0], made[1]![1] - made[1]![0]]);
      }
      emit({ ...node, inputs }, boxOf(made[0]!, made[1]!));
      continue;
    }
    if (op === 'Pad') {
      const p = constantPads(node, ctx)!;
      const pads = [...p];
      const spans = ([0, 1] as const).map((a) => {
        const [o0, o1] = spanOf(out, a);
        const span = clampSpan([o0 - p[2 + a]!, o1 - p[2 + a]!], xs[2 + a]!);
        pads[2 + a] = span[0] - (o0 - p[2 + a]!);
        pads[6 + a] = o1 - p[2 + a]! - span[1];
        return span;
      });
      const x = cut(node.inputs[0]!, boxOf(spans[0]!, spans[1]!));
      const inputs = [x, ...node.inputs.slice(1)];
      const attrs = { ...node.attrs };
      if (Array.isArray(node.attrs.pads)) attrs.pads = pads;
      else inputs[1] = ints(pads);
      if (inputs[3]) inputs[3] = ''; // pads cover every axis now
      emit({ ...node, inputs: inputs.slice(0, 3), attrs }, out);
      continue;
    }
    if (op === 'Slice') {
      const s = spatialSlice(node, ctx)!;
      const src = boxOf([out.y0 + s.starts[0], out.y1 + s.starts[0]], [out.x0 + s.starts[1], out.x1 + s.starts[1]]);
      const x = cut(node.inputs[0]!, src);
      // The spatial part is done by the cut; what remains slices the other axes.
      const spec = sliceSpec(node, xs, (i) => (node.inputs[i] ? toNumbers(ctx.constant(node.inputs[i]!)!) : undefined));
      const keep = spec.axes.map((a, i) => i).filter((i) => spec.axes[i]! < 2);
      if (keep.length === 0) {
        emit({ name: node.name, opType: 'Identity', inputs: [x], outputs: node.outputs, attrs: {} }, out);
      } else {
        const starts = keep.map((i) => spec.starts[i]!);
        const ends = keep.map((i) => spec.ends[i]!);
        const axes = keep.map((i) => spec.axes[i]!);
        const steps = keep.map((i) => spec.steps[i]!);
        if (graph.opset < 10) emit({ ...node, inputs: [x], attrs: { starts, ends, axes } }, out);
        else emit({ ...node, inputs: [x, ints(starts), ints(ends), ints(axes), ints(steps)], attrs: {} }, out);
      }
      continue;
    }
    throw new ConeError(`internal error: no forward rule for ${op} (node '${node.name}')`);
  }

  // The output, cut to the box asked for, under its own name.
  const last = have.get(outName);
  if (!last) throw new ConeError(`internal error: the output '${outName}' has no box`);
  if (!sameBox(last, output)) {
    const held = fresh(outName);
    for (const n of nodes) {
      n.outputs = n.outputs.map((o) => (o === outName ? held : o));
      n.inputs = n.inputs.map((i) => (i === outName ? held : i));
    }
    have.set(held, last);
    have.delete(outName);
    const cutName = cut(held, output);
    nodes.push({ name: fresh('lvi_cone_output'), opType: 'Identity', inputs: [cutName], outputs: [outName], attrs: {} });
  }

  const input = graph.inputs.find((i) => i.name === imageName)!;
  const inShape = shape(imageName);
  const used = new Set<string>();
  for (const n of nodes) for (const i of n.inputs) if (i) used.add(i);
  for (const k of [...initializers.keys()]) if (!used.has(k)) initializers.delete(k);
  const coneInput: ValueInfo = { ...input, shape: [inShape[0]!, inShape[1]!, inputBox.y1 - inputBox.y0, inputBox.x1 - inputBox.x0] };
  const coneOutput: ValueInfo = {
    ...graph.outputs[0]!,
    shape: [outShape[0]!, outShape[1]!, output.y1 - output.y0, output.x1 - output.x0],
  };
  return {
    graph: {
      name: `${graph.name}_cone`,
      opset: graph.opset,
      nodes,
      inputs: [coneInput, ...graph.inputs.filter((i) => i.name !== imageName)],
      outputs: [coneOutput],
      initializers,
    },
    input: inputBox,
    output,
    whole,
  };
}
