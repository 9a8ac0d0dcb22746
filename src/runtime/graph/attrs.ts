// Attribute readers and the geometry of windowed operators (Conv, ConvTranspose, pools),
// shared by shape inference (onnx/shapes.ts), the gradient rules and the float64 evaluator.

import type { AttrValue, GraphNode } from './ir.js';

export function attrInt(node: GraphNode, key: string, fallback: number): number {
  const v = node.attrs[key];
  return typeof v === 'number' ? v : fallback;
}

export function attrFloat(node: GraphNode, key: string, fallback: number): number {
  return attrInt(node, key, fallback);
}

export function attrInts(node: GraphNode, key: string): number[] | undefined {
  const v: AttrValue | undefined = node.attrs[key];
  if (v === undefined) return undefined;
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return (v as unknown[]).map(Number);
  return undefined;
}

export function attrStr(node: GraphNode, key: string, fallback: string): string {
  const v = node.attrs[key];
  return typeof v === 'string' ? v : fallback;
}

export { sizeOf as product, tensorNumbers as tensorToNumbers } from './params.js';

/** Spatial geometry of a Conv, ConvTranspose or pooling node, auto_pad resolved. */
export interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Begin pads then end pads, one per spatial axis (ONNX order). */
  pads: number[];
  /** Output spatial sizes. */
  out: number[];
  /** ConvTranspose only. */
  outputPadding: number[];
}

/**
 * Resolves kernel, strides, pads (auto_pad included) and the output size of a windowed node
 * whose input has the spatial sizes `inSpatial`. `transposed` selects ConvTranspose arithmetic.
 */
export function windowGeometry(
  node: GraphNode,
  inSpatial: number[],
  kernel: number[],
  transposed = false,
  ceilMode = false,
): WindowGeometry {
  const r = inSpatial.length;
  const strides = attrInts(node, 'strides') ?? new Array(r).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array(r).fill(1);
  const autoPad = attrStr(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads') ?? new Array(2 * r).fill(0);
  const outputPadding = attrInts(node, 'output_padding') ?? new Array(r).fill(0);
  const out: number[] = [];
  if (!transposed) {
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      pads = new Array(2 * r).fill(0);
      for (let i = 0; i < r; i++) {
        const o = Math.ceil(inSpatial[i]! / strides[i]!);
        const eff = (kernel[i]! - 1) * dilations[i]! + 1;
        const total = Math.max(0, (o - 1) * strides[i]! + eff - inSpatial[i]!);
        const small = Math.floor(total / 2);
        pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
        pads[i + r] = total - pads[i]!;
      }
    } else if (autoPad === 'VALID') {
      pads = new Array(2 * r).fill(0);
    }
    for (let i = 0; i < r; i++) {
      const eff = (kernel[i]! - 1) * dilations[i]! + 1;
      const span = inSpatial[i]! + pads[i]! + pads[i + r]! - eff;
      let o = (ceilMode ? Math.ceil(span / strides[i]!) : Math.floor(span / strides[i]!)) + 1;
      // ceil_mode: the last window must start inside the input or the begin padding.
      if (ceilMode && (o - 1) * strides[i]! >= inSpatial[i]! + pads[i]!) o -= 1;
      out.push(o);
    }
  } else {
    const outputShape = attrInts(node, 'output_shape');
    const eff = kernel.map((k, i) => (k - 1) * dilations[i]! + 1);
    if (outputShape !== undefined || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      pads = new Array(2 * r).fill(0);
      for (let i = 0; i < r; i++) {
        const o = outputShape !== undefined
          ? outputShape[outputShape.length - r + i]!
          : inSpatial[i]! * strides[i]!;
        const total = Math.max(0, strides[i]! * (inSpatial[i]! - 1) + outputPadding[i]! + eff[i]! - o);
        const small = Math.floor(total / 2);
        // ONNX: SAME_UPPER puts the extra pad at the end (ORT follows this for explicit output_shape too).
        pads[i] = autoPad === 'SAME_LOWER' ? total - small : small;
        pads[i + r] = total - pads[i]!;
      }
    } else if (autoPad === 'VALID') {
      pads = new Array(2 * r).fill(0);
    }
    for (let i = 0; i < r; i++) {
      out.push(strides[i]! * (inSpatial[i]! - 1) + outputPadding[i]! + eff[i]! - pads[i]! - pads[i + r]!);
    }
  }
  return { kernel, strides, dilations, pads, out, outputPadding };
}
