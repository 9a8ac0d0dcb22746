// Pooling: average pooling scatters 1/count through a ConvTranspose of ones, max pooling
// routes the gradient to the first maximal tap of each window.

import type { GraphNode } from '../../graph/ir.js';
import { attrInt, attrInts, product, windowGeometry } from '../attrs.js';
import type { Emitter } from '../emitter.js';
import { first, type Grad, only2d, type Rule, zero } from './common.js';
import { convTransposeTo } from './conv.js';

export const poolRules: Record<string, Rule> = {
  GlobalAveragePool: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    const xs = e.shape(node.inputs[0]!);
    const area = product(xs.slice(2));
    return [e.expand(e.mul(first(gy, node), e.scalar(1 / area)), xs)];
  },
  AveragePool: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    const g = first(gy, node);
    const xs = e.shape(node.inputs[0]!);
    only2d(node, xs);
    const k = attrInts(node, 'kernel_shape')!;
    const geo = windowGeometry(node, xs.slice(2), k, false, attrInt(node, 'ceil_mode', 0) === 1);
    const includePad = attrInt(node, 'count_include_pad', 0) === 1;
    const [ho, wo] = geo.out as [number, number];
    // 1 / (number of elements each window averages), as ORT counts them.
    const inv = new Float32Array(ho * wo);
    const span = (o: number, i: number, lim: number) => {
      const s0 = o * geo.strides[i]! - geo.pads[i]!;
      let cnt = 0;
      for (let t = 0; t < k[i]!; t++) {
        const p = s0 + t * geo.dilations[i]!;
        const lo = includePad ? -geo.pads[i]! : 0;
        const hi = includePad ? lim + geo.pads[i + 2]! : lim;
        if (p >= lo && p < hi) cnt++;
      }
      return cnt;
    };
    for (let y = 0; y < ho; y++) for (let x = 0; x < wo; x++) inv[y * wo + x] = 1 / (span(y, 0, xs[2]!) * span(x, 1, xs[3]!));
    const scaled = e.mul(g, e.tensor(inv, [1, 1, ho, wo], 'pool_inv_count'));
    const c = xs[1]!;
    const ones = e.tensor(new Float32Array(c * k[0]! * k[1]!).fill(1), [c, 1, k[0]!, k[1]!], 'pool_ones');
    return [convTransposeTo(e, scaled, ones, xs.slice(2), k, geo.strides, geo.dilations, geo.pads, c)];
  },
  MaxPool: (node, gy, e, needs) => maxPoolRule(node, gy, e, needs),
};

/**
 * MaxPool: for each kernel offset, the positions where the shifted input equals the maximum
 * (first offset wins on ties) receive the gradient; one grouped ConvTranspose with one-hot
 * kernels scatters all offsets back.
 */
function maxPoolRule(node: GraphNode, gy: Grad[], e: Emitter, needs: boolean[]): Grad[] {
  if (!needs[0]) return [];
  const g = first(gy, node);
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  const xs = e.shape(x);
  only2d(node, xs);
  const k = attrInts(node, 'kernel_shape')!;
  const geo = windowGeometry(node, xs.slice(2), k, false, attrInt(node, 'ceil_mode', 0) === 1);
  const [ho, wo] = geo.out as [number, number];
  const s = geo.strides;
  const d = geo.dilations;
  // Pad with a value below any input so padding never wins, far enough for every window.
  const pads = [0, 0, geo.pads[0]!, geo.pads[1]!, 0, 0, 0, 0];
  for (const i of [0, 1]) {
    const need = (geo.out[i]! - 1) * s[i]! + d[i]! * (k[i]! - 1) + 1;
    pads[6 + i] = Math.max(0, need - xs[2 + i]! - geo.pads[i]!);
  }
  const xp = pads.some((p) => p > 0)
    ? e.op('Pad', [x, e.ints(pads), e.scalar(-3.4e38)], { mode: 'constant' })
    : x;
  let taken: string | undefined;
  const parts: string[] = [];
  for (let ky = 0; ky < k[0]!; ky++) {
    for (let kx = 0; kx < k[1]!; kx++) {
      const v = e.slice(xp, [ky * d[0]!, kx * d[1]!], [ky * d[0]! + (ho - 1) * s[0]! + 1, kx * d[1]! + (wo - 1) * s[1]! + 1], [2, 3], [s[0]!, s[1]!]);
      let m = e.op('Equal', [v, y]);
      if (taken) {
        m = e.op('And', [m, e.op('Not', [taken])]);
        taken = e.op('Or', [taken, m]);
      } else taken = m;
      parts.push(e.unsqueeze(e.op('Where', [m, g, zero(e)]), [2]));
    }
  }
  const [n, c] = xs as [number, number];
  const kk = k[0]! * k[1]!;
  const stacked = e.reshape(e.op('Concat', parts, { axis: 2 }), [n, c * kk, ho, wo]);
  const onehot = new Float32Array(c * kk * kk);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < kk; t++) onehot[(ch * kk + t) * kk + t] = 1;
  const w = e.tensor(onehot, [c * kk, 1, k[0]!, k[1]!], 'maxpool_onehot');
  return [convTransposeTo(e, stacked, w, xs.slice(2), k, s, d, geo.pads, c)];
}
