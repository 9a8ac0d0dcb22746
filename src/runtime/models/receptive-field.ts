// Theoretical receptive field of an image graph, in input pixels, and whether it has global
// operators (then no output pixel has a finite field).
//
// Along each spatial axis every image-derived tensor is shift-periodic: moving `period` of its
// pixels moves what they read by `shift` input pixels (pitch = shift / period input pixels per
// pixel). So the exact first and last input pixel that each pixel of one period depends on
// describes all of them, and each operator maps these bounds through its index arithmetic
// (conv taps, ConvTranspose phases, pixel shuffles, resize coordinates) with integers only.
// The field is counted from the input pixel a pixel lies in (pixel j lies in floor(j*pitch)):
// the input pixels that any output pixel lying in one input pixel can depend on.

import type { Graph, GraphNode } from '../graph/ir.js';
import { toNumbers } from '../onnx/tensor-util.js';

/** One spatial axis: pixel r + k*period depends on input pixels lo[r]+k*shift .. hi[r]+k*shift (lo > hi: none). */
interface Axis {
  period: number;
  shift: number;
  lo: number[];
  hi: number[];
}

const POINTWISE = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'Celu', 'Gelu', 'Softplus', 'Softsign', 'Clip',
  'Identity', 'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Erf', 'HardSigmoid', 'HardSwish', 'Mish', 'Cast', 'Floor', 'Ceil',
  'Round', 'Sin', 'Cos', 'Reciprocal', 'Sign', 'Dropout', 'BatchNormalization',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Where', 'Equal', 'Less', 'Greater',
  'Concat', 'Split',
]);

/** Periods beyond this mean an unusual chain of rational resamplings: give up rather than loop. */
const MAX_PERIOD = 4096;

/** Operators that mix every spatial position: no finite receptive field, no cropping. */
export function globalOperators(graph: Graph): string[] {
  const image = imageDerived(graph);
  const found: string[] = [];
  for (const n of graph.nodes) {
    const fromImage = n.inputs.filter((i) => image.has(i));
    if (fromImage.length === 0) continue;
    let global = false;
    if (/^Global/.test(n.opType) || n.opType === 'InstanceNormalization') global = true;
    else if (/^Reduce/.test(n.opType) || n.opType === 'ArgMax' || n.opType === 'ArgMin') {
      const axes = reduceAxes(n, graph);
      const rank = graph.valueInfo?.get(n.inputs[0])?.shape.length ?? 4;
      global = !axes || axes.length === 0 || axes.some((a) => (a < 0 ? a + rank : a) >= 2);
    } else if (n.opType === 'MatMul' && fromImage.length === 2) global = true; // attention
    else if (n.opType === 'Softmax' || n.opType === 'LogSoftmax') {
      const rank = graph.valueInfo?.get(n.inputs[0])?.shape.length ?? 4;
      const axis = typeof n.attrs.axis === 'number' ? n.attrs.axis : -1;
      global = rank === 4 && (axis < 0 ? axis + rank : axis) >= 2;
    }
    if (global) found.push(`${n.opType} '${n.name}'`);
  }
  return found;
}

function reduceAxes(n: GraphNode, graph: Graph): number[] | undefined {
  if (Array.isArray(n.attrs.axes)) return n.attrs.axes as number[];
  const t = n.inputs[1] ? graph.initializers.get(n.inputs[1]) : undefined;
  return t ? toNumbers(t) : undefined;
}

function imageDerived(graph: Graph): Set<string> {
  const image = new Set(graph.inputs.map((i) => i.name));
  for (const n of graph.nodes) if (n.inputs.some((i) => image.has(i))) for (const o of n.outputs) image.add(o);
  return image;
}

const ints = (n: GraphNode, name: string, fallback: number[]): number[] =>
  Array.isArray(n.attrs[name]) ? (n.attrs[name] as number[]) : fallback;
const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));
const mod = (a: number, m: number): number => ((a % m) + m) % m;
const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, k) => from + k);

const firstOf = (x: Axis, i: number): number => x.lo[mod(i, x.period)] + x.shift * Math.floor(i / x.period);
const lastOf = (x: Axis, i: number): number => x.hi[mod(i, x.period)] + x.shift * Math.floor(i / x.period);

/**
 * The axis of an operator's output whose pixel j (0 <= j < period) reads pixels sources(j)
 * of each input (all with one pitch). Undefined when the period grows past MAX_PERIOD.
 */
function gather(xs: Axis[], period: number, shift: number, sources: (j: number) => number[]): Axis | undefined {
  if (period > MAX_PERIOD) return undefined;
  const lo: number[] = [];
  const hi: number[] = [];
  for (let j = 0; j < period; j++) {
    let a = Infinity;
    let b = -Infinity;
    for (const i of sources(j)) {
      for (const x of xs) {
        a = Math.min(a, firstOf(x, i));
        b = Math.max(b, lastOf(x, i));
      }
    }
    lo.push(a);
    hi.push(b);
  }
  return shortest({ period, shift, lo, hi });
}

/** The same axis over its shortest period, so that chained resamplings stay small. */
function shortest(x: Axis): Axis {
  for (let p = 1; p < x.period; p++) {
    if (x.period % p !== 0 || (x.shift * p) % x.period !== 0) continue;
    const step = (x.shift * p) / x.period;
    let ok = true;
    for (let j = 0; j + p < x.period && ok; j++) ok = x.lo[j + p] === x.lo[j] + step && x.hi[j + p] === x.hi[j] + step;
    if (ok) return { period: p, shift: step, lo: x.lo.slice(0, p), hi: x.hi.slice(0, p) };
  }
  return x;
}

/** Output pixel j reads input pixels stride*j + offset + e*dilation, e = 0..taps-1 (Conv, pooling, Pad). */
function strided(x: Axis, stride: number, offset: number, taps: number, dilation: number): Axis | undefined {
  const g = gcd(x.period, stride);
  return gather([x], x.period / g, (x.shift * stride) / g, (j) => range(0, taps - 1).map((e) => stride * j + offset + e * dilation));
}

/** How far, in input pixels, the field reaches before and after the input pixel an output pixel lies in: [height, width]. */
export interface ReceptiveReach {
  before: [number, number];
  after: [number, number];
}

/**
 * Receptive-field diameter in input pixels (the larger of height and width) of the first
 * output, or undefined when the graph has an operator this analysis does not model or a
 * global operator. NodeRunner sizes and resize scales come from initializers and attributes, or
 * from valueInfo when the graph is specialised.
 */
export function receptiveField(graph: Graph): number | undefined {
  const r = receptiveReach(graph);
  return r && Math.max(r.before[0] + r.after[0] + 1, r.before[1] + r.after[1] + 1);
}

/** The field of the first output on each side of the input pixel an output pixel lies in (see receptiveField). */
export function receptiveReach(graph: Graph): ReceptiveReach | undefined {
  if (globalOperators(graph).length > 0) return undefined;
  const reach = new Map<string, [Axis, Axis]>();
  const identity = (): Axis => ({ period: 1, shift: 1, lo: [0], hi: [0] });
  for (const i of graph.inputs) reach.set(i.name, [identity(), identity()]);
  for (const n of graph.nodes) {
    const ins = n.inputs.filter((i) => reach.has(i)).map((i) => reach.get(i)!);
    if (ins.length === 0) continue;
    const out: Axis[] = [];
    for (const a of [0, 1]) {
      const r = axisThrough(n, a, ins.map((x) => x[a]), graph);
      if (!r) return undefined;
      out.push(r);
    }
    for (const o of n.outputs) if (o) reach.set(o, [out[0], out[1]]);
  }
  const out = reach.get(graph.outputs[0]?.name);
  if (!out) return undefined;
  const result: ReceptiveReach = { before: [0, 0], after: [0, 0] };
  for (const a of [0, 1]) {
    const x = out[a];
    // Pixel j lies in input pixel floor(j*shift/period); count from there on both sides.
    let before = -Infinity;
    let after = -Infinity;
    for (let j = 0; j < x.period; j++) {
      if (x.lo[j] > x.hi[j]) continue;
      const home = Math.floor((j * x.shift) / x.period);
      before = Math.max(before, home - x.lo[j]);
      after = Math.max(after, x.hi[j] - home);
    }
    if (before === -Infinity) return undefined; // the output ignores its input
    result.before[a] = before;
    result.after[a] = after;
  }
  return result;
}

/** One operator along spatial axis a (0: height, 1: width), or undefined when not modelled. */
function axisThrough(n: GraphNode, a: number, xs: Axis[], graph: Graph): Axis | undefined {
  const x = xs[0];
  const info = graph.valueInfo;
  const constant = (name: string | undefined) => (name ? graph.initializers.get(name) : undefined);
  if (POINTWISE.has(n.opType) || n.opType === 'Slice') {
    // Broadcasting a tensor of another pitch (a global statistic) has no local meaning.
    if (xs.some((y) => y.shift * x.period !== x.shift * y.period)) return undefined;
    if (n.opType === 'Concat' || n.opType === 'Split') {
      const axis = typeof n.attrs.axis === 'number' ? n.attrs.axis : 0;
      if (axis !== 1 && axis !== -3) return undefined;
    }
    let offset = 0;
    if (n.opType === 'Slice') {
      // Channel slices are pointwise; a spatial one with step 1 from a fixed start shifts.
      // Before opset 10 starts and axes are attributes.
      const [starts, , axes, steps] = [1, 2, 3, 4].map((k) => constant(n.inputs[k]));
      if ((n.inputs[1] && !starts) || (n.inputs[3] && !axes) || (n.inputs[4] && !steps)) return undefined;
      const s = starts ? toNumbers(starts) : ints(n, 'starts', []);
      const ax = axes ? toNumbers(axes) : ints(n, 'axes', s.map((_, k) => k));
      const k = ax.findIndex((v) => v === 2 + a || v === a - 2);
      if (k >= 0) {
        if (s[k] < 0 || (steps && toNumbers(steps)[k] !== 1)) return undefined;
        offset = s[k];
      }
    }
    let period = x.period;
    for (const y of xs) period = (period * y.period) / gcd(period, y.period);
    return gather(xs, period, (x.shift * period) / x.period, (j) => [j + offset]);
  }
  if (n.opType === 'Conv' || n.opType === 'MaxPool' || n.opType === 'AveragePool' || n.opType === 'LpPool') {
    const weight = n.opType === 'Conv' ? (constant(n.inputs[1])?.dims ?? info?.get(n.inputs[1])?.shape) : undefined;
    const kernel = ints(n, 'kernel_shape', ((weight ?? []) as number[]).slice(2));
    if (kernel.length !== 2) return undefined;
    const s = ints(n, 'strides', [1, 1])[a];
    const d = ints(n, 'dilations', [1, 1])[a];
    const extent = (kernel[a] - 1) * d;
    const autoPad = typeof n.attrs.auto_pad === 'string' ? n.attrs.auto_pad : 'NOTSET';
    let begin: number;
    if (autoPad === 'NOTSET') begin = ints(n, 'pads', [0, 0, 0, 0])[a];
    else if (autoPad === 'VALID') begin = 0;
    else if (s === 1) begin = autoPad === 'SAME_UPPER' ? Math.floor(extent / 2) : Math.ceil(extent / 2);
    else return undefined; // strided SAME padding depends on the size
    return strided(x, s, -begin, kernel[a], d);
  }
  if (n.opType === 'ConvTranspose') {
    const w = constant(n.inputs[1])?.dims ?? (info?.get(n.inputs[1])?.shape as number[] | undefined);
    const autoPad = n.attrs.auto_pad;
    if (!w || (typeof autoPad === 'string' && autoPad !== 'NOTSET') || n.attrs.output_shape !== undefined) return undefined;
    const k = ints(n, 'kernel_shape', w.slice(2))[a];
    const s = ints(n, 'strides', [1, 1])[a];
    const d = ints(n, 'dilations', [1, 1])[a];
    const p = ints(n, 'pads', [0, 0, 0, 0])[a];
    // Output o reads input i where i*s = o + p - e*d, e = 0..k-1 (none: a phase only the bias reaches).
    return gather([x], x.period * s, x.shift, (o) =>
      range(0, k - 1).map((e) => o + p - e * d).filter((v) => mod(v, s) === 0).map((v) => v / s));
  }
  if (n.opType === 'DepthToSpace') {
    const b = Number(n.attrs.blocksize);
    return gather([x], x.period * b, x.shift, (o) => [Math.floor(o / b)]);
  }
  if (n.opType === 'SpaceToDepth') {
    const b = Number(n.attrs.blocksize);
    return strided(x, b, 0, b, 1);
  }
  if (n.opType === 'Pad') {
    const padsInput = constant(n.inputs[1]);
    const pads = padsInput ? toNumbers(padsInput) : ints(n, 'pads', []);
    if (pads.length !== 8 || n.inputs[3]) return undefined; // an opset-18 axes input is not modelled
    return gather([x], x.period, x.shift, (j) => [j - pads[2 + a]]);
  }
  if (n.opType === 'Resize' || n.opType === 'Upsample') return resized(n, a, x, graph);
  return undefined;
}

/** Resize/Upsample: output j reads the taps around its source coordinate, per the ONNX formulas. */
function resized(n: GraphNode, a: number, x: Axis, graph: Graph): Axis | undefined {
  const scale = resizeScale(n, a, graph);
  if (!scale) return undefined;
  const [up, down] = scale; // output pixels per input pixel = up / down
  const legacy = n.opType === 'Upsample' || graph.opset < 11;
  const mode = String(n.attrs.mode ?? 'nearest');
  const coords = legacy ? 'asymmetric' : String(n.attrs.coordinate_transformation_mode ?? 'half_pixel');
  if (n.attrs.antialias === 1 && up < down) return undefined;
  // Source coordinate of output j as num/den, exactly.
  let source: (j: number) => [number, number][];
  if (coords === 'asymmetric') source = (j) => [[j * down, up]];
  else if (coords === 'half_pixel' || coords === 'pytorch_half_pixel' || (coords === 'half_pixel_symmetric' && down === 1))
    source = (j) => [[(2 * j + 1) * down - up, 2 * up]];
  else if (coords === 'tf_half_pixel_for_nn') source = (j) => [[(2 * j + 1) * down, 2 * up]];
  else if (coords === 'align_corners') {
    // j*(in-1)/(out-1) lies between j/r and j/r + 1/r - 1 (r = up/down) for every size.
    source = (j) => [[j * down, up], [j * down + down - up, up]];
  } else return undefined;
  const nearest = String(n.attrs.nearest_mode ?? 'round_prefer_floor');
  if (!['nearest', 'linear', 'bilinear', 'cubic'].includes(mode)) return undefined;
  if (mode === 'nearest' && !['floor', 'ceil', 'round_prefer_ceil', 'round_prefer_floor'].includes(nearest)) return undefined;
  const fl = (num: number, den: number) => Math.floor(num / den);
  const taps = (num: number, den: number): number[] => {
    const f = fl(num, den);
    const whole = num === f * den;
    if (mode === 'nearest') {
      if (legacy) return up >= down ? [f] : range(f, whole ? f : f + 1); // ORT before opset 11: floor up, ceil down
      if (nearest === 'floor') return [f];
      if (nearest === 'ceil') return [whole ? f : f + 1];
      if (nearest === 'round_prefer_ceil') return [fl(2 * num + den, 2 * den)];
      return [-fl(den - 2 * num, 2 * den)]; // round_prefer_floor
    }
    // On a source pixel exactly, linear and cubic weights vanish off it.
    if (mode === 'cubic') return whole ? [f] : range(f - 1, f + 2);
    return whole ? [f] : [f, f + 1];
  };
  const g = gcd(down, x.period);
  return gather([x], (x.period / g) * up, (x.shift * down) / g, (j) => {
    const all = source(j).flatMap(([num, den]) => taps(num, den));
    return range(Math.min(...all), Math.max(...all));
  });
}

/** Output pixels per input pixel along axis a as a fraction [up, down], from scales or sizes. */
function resizeScale(n: GraphNode, a: number, graph: Graph): [number, number] | undefined {
  const t = (k: number) => (n.inputs[k] ? graph.initializers.get(n.inputs[k]) : undefined);
  const scalesInput = n.opType === 'Upsample' || graph.opset < 11 ? t(1) : t(2);
  const axes = Array.isArray(n.attrs.axes) ? (n.attrs.axes as number[]).map((v) => (v < 0 ? v + 4 : v)) : [0, 1, 2, 3];
  const at = axes.indexOf(2 + a);
  let value: number | undefined;
  const scales = Array.isArray(n.attrs.scales) ? (n.attrs.scales as number[]) : scalesInput ? toNumbers(scalesInput) : [];
  if (scales.length === axes.length) value = at < 0 ? 1 : scales[at];
  else {
    const sizes = t(3) ? toNumbers(t(3)!) : (graph.valueInfo?.get(n.outputs[0])?.shape as number[] | undefined)?.slice();
    const inShape = graph.valueInfo?.get(n.inputs[0])?.shape;
    const from = inShape?.[2 + a];
    const to = t(3) ? (at < 0 ? from : sizes?.[at]) : sizes?.[2 + a];
    if (typeof from === 'number' && typeof to === 'number' && from > 0) {
      const g = gcd(to, from);
      return [to / g, from / g];
    }
    return undefined;
  }
  if (!(value > 0)) return undefined;
  for (let down = 1; down <= 64; down++) {
    const up = Math.round(value * down);
    if (up > 0 && Math.abs(up / down - value) <= 1e-6 * Math.max(1, value)) return [up, down];
  }
  return undefined;
}
