// Resize/Upsample: nearest integer upscaling sums blocks; any other mode is linear in x
// (y = Ah x Aw^T per plane), so dx = Ah^T dy Aw.

import type { GraphNode } from '../../graph/ir.js';
import { tensorToNumbers } from '../attrs.js';
import type { Emitter } from '../emitter.js';
import { resizeMatrix } from '../resize.js';
import { first, type Grad, type Rule, unsupported } from './common.js';

export const resizeRules: Record<string, Rule> = {
  Resize: (node, gy, e, needs) => resizeRule(node, gy, e, needs),
  Upsample: (node, gy, e, needs) => resizeRule(node, gy, e, needs),
};

function resizeRule(node: GraphNode, gy: Grad[], e: Emitter, needs: boolean[]): Grad[] {
  if (!needs[0]) return [];
  const g = first(gy, node);
  const xs = e.shape(node.inputs[0]!);
  const ys = e.shape(g);
  if (xs.length !== 4 || xs[0] !== ys[0] || xs[1] !== ys[1]) unsupported(node, 'only spatial resizing of NCHW tensors is supported');
  const scalesIn = e.lookup(node.inputs.length === 2 ? node.inputs[1]! : node.inputs[2] ?? '');
  const scales = scalesIn && scalesIn.data.length ? tensorToNumbers(scalesIn) : ys.map((d, i) => d / xs[i]!);
  const ah = resizeMatrix(node, xs[2]!, ys[2]!, scales[2]!);
  const aw = resizeMatrix(node, xs[3]!, ys[3]!, scales[3]!);
  const [h, w] = [xs[2]!, xs[3]!];
  const [ho, wo] = [ys[2]!, ys[3]!];
  // Integer nearest upscaling: every output reads the source pixel of its block.
  const blockH = ho % h === 0 && isBlock(ah, h, ho);
  const blockW = wo % w === 0 && isBlock(aw, w, wo);
  if (blockH && blockW) {
    const sh = ho / h;
    const sw = wo / w;
    const r = e.reshape(g, [xs[0]!, xs[1]!, h, sh, w, sw]);
    return [e.reshape(e.reduceSum(r, [3, 5]), xs)];
  }
  // General case: y = Ah x Aw^T per plane, so dx = Ah^T dy Aw.
  const awT = e.tensor(aw, [wo, w], 'resize_w'); // aw is [wo][w] row-major: dy [.., wo] @ Aw -> [.., w]
  const ahT = e.tensor(transpose2(ah, ho, h), [h, ho], 'resize_hT');
  return [e.op('MatMul', [ahT, e.op('MatMul', [g, awT])])];
}

function transpose2(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

function isBlock(a: Float64Array, n: number, no: number): boolean {
  const s = no / n;
  for (let o = 0; o < no; o++) {
    for (let i = 0; i < n; i++) if (a[o * n + i] !== (Math.floor(o / s) === i ? 1 : 0)) return false;
  }
  return true;
}
