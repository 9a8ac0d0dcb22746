// Theoretical receptive field of a fully convolutional SR graph, in input (LR) pixels.
//
// Each value carries how far (in LR pixels, fractional after upsampling) an output pixel can
// reach before and after itself along each axis, and its resolution relative to the input.
// A Conv at resolution f adds (its padding-side reach) / f; nearest upsampling and
// DepthToSpace multiply f and add nothing; element-wise operators take the widest input.
// Rounding each side up at the end gives a bound that holds for every sub-pixel position.

import type { Graph } from '../../graph/ir.js';

interface Reach {
  factor: number;
  /** [before, after] for height, then width. */
  h: [number, number];
  w: [number, number];
}

const UNARY = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'Softplus', 'Clip', 'Identity', 'Neg', 'Abs',
]);
const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Concat', 'Max', 'Min', 'Sum']);

/**
 * Diameter of the receptive field in input pixels (the larger of height and width), or
 * undefined when the graph has an operator this analysis does not model (strides, pads,
 * global pooling, reshapes).
 */
export function receptiveField(graph: Graph): number | undefined {
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) return undefined;
  const reach = new Map<string, Reach>([[graph.inputs[0].name, { factor: 1, h: [0, 0], w: [0, 0] }]]);
  for (const node of graph.nodes) {
    const ins = node.inputs.filter((i) => reach.has(i)).map((i) => reach.get(i)!);
    if (ins.length === 0) continue; // constants only
    let r: Reach;
    if (UNARY.has(node.opType) && ins.length === 1) {
      r = ins[0];
    } else if (ELEMENTWISE.has(node.opType)) {
      if (ins.some((x) => x.factor !== ins[0].factor)) return undefined;
      r = {
        factor: ins[0].factor,
        h: [Math.max(...ins.map((x) => x.h[0])), Math.max(...ins.map((x) => x.h[1]))],
        w: [Math.max(...ins.map((x) => x.w[0])), Math.max(...ins.map((x) => x.w[1]))],
      };
    } else if (node.opType === 'Conv') {
      const strides = (node.attrs.strides as number[] | undefined) ?? [1, 1];
      if (strides.some((s) => s !== 1) || node.attrs.auto_pad) return undefined;
      const w = graph.initializers.get(node.inputs[1]);
      if (!w) return undefined;
      const [kh, kw] = w.dims.slice(2);
      const [dh, dw] = (node.attrs.dilations as number[] | undefined) ?? [1, 1];
      const pads = (node.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0];
      const x = ins[0];
      const eh = (kh - 1) * dh;
      const ew = (kw - 1) * dw;
      r = {
        factor: x.factor,
        h: [x.h[0] + pads[0] / x.factor, x.h[1] + (eh - pads[0]) / x.factor],
        w: [x.w[0] + pads[1] / x.factor, x.w[1] + (ew - pads[1]) / x.factor],
      };
    } else if (node.opType === 'DepthToSpace') {
      r = { ...ins[0], factor: ins[0].factor * Number(node.attrs.blocksize) };
    } else if (node.opType === 'Resize') {
      const scales = graph.initializers.get(node.inputs[2] ?? '');
      const nearestFloor =
        node.attrs.mode === 'nearest' &&
        node.attrs.coordinate_transformation_mode === 'asymmetric' &&
        node.attrs.nearest_mode === 'floor';
      if (!scales || !nearestFloor) return undefined;
      const s = Array.from(scales.data as Float32Array);
      if (s[2] !== s[3] || !Number.isInteger(s[2])) return undefined;
      r = { ...ins[0], factor: ins[0].factor * s[2] };
    } else {
      return undefined;
    }
    for (const o of node.outputs) reach.set(o, r);
  }
  const out = reach.get(graph.outputs[0].name);
  if (!out) return undefined;
  // Tiny tolerance: reaches are sums of fractions such as 1/4.
  const up = (v: number): number => Math.ceil(v - 1e-9);
  return Math.max(up(out.h[0]) + up(out.h[1]) + 1, up(out.w[0]) + up(out.w[1]) + 1);
}
