// ONNX Resize along one axis as a dense matrix A[out][in] (y = A x): nearest and linear modes
// are separable, so a 2-D resize is Ah x Aw^T per plane and its gradient is Ah^T dy Aw.

import type { GraphNode } from '../graph/ir.js';
import { attrStr } from './attrs.js';

function sourceCoordinate(mode: string, o: number, inSize: number, outSize: number, scale: number): number {
  switch (mode) {
    case 'half_pixel': return (o + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel': return outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case 'align_corners': return outSize === 1 ? 0 : (o * (inSize - 1)) / (outSize - 1);
    case 'asymmetric': return o / scale;
    case 'tf_half_pixel_for_nn': return (o + 0.5) / scale;
    default: throw new Error(`Resize coordinate_transformation_mode '${mode}' is not supported`);
  }
}

function nearestIndex(mode: string, x: number): number {
  switch (mode) {
    case 'round_prefer_floor': return x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x);
    case 'round_prefer_ceil': return Math.round(x);
    case 'floor': return Math.floor(x);
    case 'ceil': return Math.ceil(x);
    default: throw new Error(`Resize nearest_mode '${mode}' is not supported`);
  }
}

/** Interpolation matrix [outSize x inSize] of a Resize (or Upsample) node along one axis. */
export function resizeMatrix(node: GraphNode, inSize: number, outSize: number, scale: number): Float64Array {
  const a = new Float64Array(outSize * inSize);
  const legacy = node.opType === 'Upsample';
  const mode = attrStr(node, 'mode', 'nearest');
  const ctm = legacy ? 'asymmetric' : attrStr(node, 'coordinate_transformation_mode', 'half_pixel');
  if (inSize === outSize && scale === 1) {
    for (let i = 0; i < inSize; i++) a[i * inSize + i] = 1;
    return a;
  }
  for (let o = 0; o < outSize; o++) {
    const x = sourceCoordinate(ctm, o, inSize, outSize, scale);
    if (mode === 'nearest') {
      const nm = legacy ? 'floor' : attrStr(node, 'nearest_mode', 'round_prefer_floor');
      const i = Math.min(Math.max(nearestIndex(nm, x), 0), inSize - 1);
      a[o * inSize + i] = 1;
    } else if (mode === 'linear' || mode === 'bilinear') {
      const xc = Math.min(Math.max(x, 0), inSize - 1);
      const i0 = Math.floor(xc);
      const i1 = Math.min(i0 + 1, inSize - 1);
      const t = xc - i0;
      a[o * inSize + i0] += 1 - t;
      a[o * inSize + i1] += t;
    } else {
      throw new Error(`Resize mode '${mode}' (node '${node.name}') is not supported`);
    }
  }
  return a;
}
