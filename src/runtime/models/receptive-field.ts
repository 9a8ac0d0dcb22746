// Theoretical receptive field of an image graph (specialised, constants folded), in input
// pixels, and whether it has global operators (then no output pixel has a finite field).
//
// Each image-derived tensor carries its pixel pitch t in input pixels and how far, in input
// pixels, an output pixel's inputs reach before and after the point its own position maps to
// (pixel j of a tensor with pitch t sits at input coordinate j*t). Every rule is a bound that
// holds for all positions, so the rounded-up result never undercounts.

import type { Graph, GraphNode } from '../graph/ir.js';
import { toNumbers } from '../onnx/tensor-util.js';

interface Reach {
  pitch: [number, number];
  before: [number, number];
  after: [number, number];
}

const POINTWISE = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'Celu', 'Gelu', 'Softplus', 'Softsign', 'Clip',
  'Identity', 'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Erf', 'HardSigmoid', 'HardSwish', 'Mish', 'Cast', 'Floor', 'Ceil',
  'Round', 'Sin', 'Cos', 'Reciprocal', 'Sign', 'Dropout', 'BatchNormalization',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Where', 'Equal', 'Less', 'Greater',
  'Concat', 'Split',
]);

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

/**
 * Receptive-field diameter in input pixels (the larger of height and width) of the first
 * output, or undefined when the graph has an operator this analysis does not model or a
 * global operator. Expects a specialised graph (shapes in valueInfo, shape arithmetic folded).
 */
export function receptiveField(graph: Graph): number | undefined {
  if (globalOperators(graph).length > 0) return undefined;
  const info = graph.valueInfo;
  const reach = new Map<string, Reach>();
  for (const i of graph.inputs) reach.set(i.name, { pitch: [1, 1], before: [0, 0], after: [0, 0] });
  for (const n of graph.nodes) {
    const ins = n.inputs.filter((i) => reach.has(i)).map((i) => reach.get(i)!);
    if (ins.length === 0) continue;
    const x = ins[0];
    let r: Reach | undefined;
    const spatial = (v: string) => (info?.get(v)?.shape.slice(2) ?? []) as number[];
    if (POINTWISE.has(n.opType)) {
      // Broadcasting a tensor of another pitch (a global statistic) has no local meaning.
      if (ins.some((y) => y.pitch[0] !== x.pitch[0] || y.pitch[1] !== x.pitch[1])) return undefined;
      if (n.opType === 'Concat' || n.opType === 'Split') {
        const axis = typeof n.attrs.axis === 'number' ? n.attrs.axis : 0;
        if (axis !== 1 && axis !== -3) return undefined;
      }
      r = {
        pitch: x.pitch,
        before: [0, 1].map((a) => Math.max(...ins.map((y) => y.before[a]))) as [number, number],
        after: [0, 1].map((a) => Math.max(...ins.map((y) => y.after[a]))) as [number, number],
      };
    } else if (n.opType === 'Conv' || n.opType === 'MaxPool' || n.opType === 'AveragePool' || n.opType === 'LpPool') {
      if (typeof n.attrs.auto_pad === 'string' && n.attrs.auto_pad !== 'NOTSET' && n.attrs.auto_pad !== 'VALID') return undefined;
      const kernel = n.opType === 'Conv'
        ? ints(n, 'kernel_shape', (graph.initializers.get(n.inputs[1])?.dims ?? info?.get(n.inputs[1])?.shape ?? []).slice(2) as number[])
        : ints(n, 'kernel_shape', []);
      if (kernel.length !== 2) return undefined;
      const s = ints(n, 'strides', [1, 1]);
      const d = ints(n, 'dilations', [1, 1]);
      const p = n.attrs.auto_pad === 'VALID' ? [0, 0, 0, 0] : ints(n, 'pads', [0, 0, 0, 0]);
      r = {
        pitch: [x.pitch[0] * s[0], x.pitch[1] * s[1]],
        before: [0, 1].map((a) => x.before[a] + p[a] * x.pitch[a]) as [number, number],
        after: [0, 1].map((a) => x.after[a] + Math.max(0, (kernel[a] - 1) * d[a] - p[a]) * x.pitch[a]) as [number, number],
      };
    } else if (n.opType === 'ConvTranspose') {
      const w = graph.initializers.get(n.inputs[1])?.dims ?? (info?.get(n.inputs[1])?.shape as number[] | undefined);
      if (!w || (typeof n.attrs.auto_pad === 'string' && n.attrs.auto_pad !== 'NOTSET')) return undefined;
      const kernel = ints(n, 'kernel_shape', w.slice(2));
      const s = ints(n, 'strides', [1, 1]);
      const d = ints(n, 'dilations', [1, 1]);
      const p = ints(n, 'pads', [0, 0, 0, 0]);
      // Output o reads input i with i*s = o + p - e*d, e in 0..k-1.
      r = {
        pitch: [x.pitch[0] / s[0], x.pitch[1] / s[1]],
        before: [0, 1].map((a) => x.before[a] + Math.max(0, (kernel[a] - 1) * d[a] - p[a]) * (x.pitch[a] / s[a])) as [number, number],
        after: [0, 1].map((a) => x.after[a] + p[a] * (x.pitch[a] / s[a])) as [number, number],
      };
    } else if (n.opType === 'DepthToSpace') {
      const b = Number(n.attrs.blocksize);
      r = {
        pitch: [x.pitch[0] / b, x.pitch[1] / b],
        before: [0, 1].map((a) => x.before[a] + ((b - 1) / b) * x.pitch[a]) as [number, number],
        after: x.after,
      };
    } else if (n.opType === 'SpaceToDepth') {
      const b = Number(n.attrs.blocksize);
      r = {
        pitch: [x.pitch[0] * b, x.pitch[1] * b],
        before: x.before,
        after: [0, 1].map((a) => x.after[a] + (b - 1) * x.pitch[a]) as [number, number],
      };
    } else if (n.opType === 'Resize' || n.opType === 'Upsample') {
      const [hi, wi] = spatial(n.inputs[0]);
      const [ho, wo] = spatial(n.outputs[0]);
      if (!hi || !ho) return undefined;
      const f = [ho / hi, wo / wi];
      const mode = typeof n.attrs.mode === 'string' ? n.attrs.mode : 'nearest';
      // Nearest picks a source within one input pixel; linear one pixel each side, cubic two.
      const taps = mode === 'nearest' ? [1, 0] : mode === 'cubic' ? [2, 2] : [1, 1];
      r = {
        pitch: [x.pitch[0] / f[0], x.pitch[1] / f[1]],
        before: [0, 1].map((a) => x.before[a] + taps[0] * x.pitch[a]) as [number, number],
        after: [0, 1].map((a) => x.after[a] + taps[1] * x.pitch[a]) as [number, number],
      };
    } else if (n.opType === 'Pad') {
      const pads = n.inputs[1] && graph.initializers.get(n.inputs[1]) ? toNumbers(graph.initializers.get(n.inputs[1])!) : ints(n, 'pads', []);
      if (pads.length !== 8) return undefined;
      r = {
        pitch: x.pitch,
        before: [0, 1].map((a) => x.before[a] + pads[2 + a] * x.pitch[a]) as [number, number],
        after: [0, 1].map((a) => x.after[a] + pads[6 + a] * x.pitch[a]) as [number, number],
      };
    } else {
      return undefined;
    }
    for (const o of n.outputs) if (o) reach.set(o, r);
  }
  const out = reach.get(graph.outputs[0]?.name);
  if (!out) return undefined;
  const up = (v: number) => Math.ceil(v - 1e-9);
  return Math.max(...[0, 1].map((a) => up(out.before[a]) + up(out.after[a]) + 1));
}
