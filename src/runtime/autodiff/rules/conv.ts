// Convolutions: input gradients as (flipped-weight) Conv or ConvTranspose, weight gradients by
// patches and one matrix product, bias gradients by a sum.

import type { GraphNode } from '../../graph/ir.js';
import { attrInt, attrInts, windowGeometry } from '../attrs.js';
import type { Emitter } from '../emitter.js';
import { first, only2d, type Rule, unsupported } from './common.js';

/**
 * Places `g` [N, C, Ho, Wo] back on the input grid with a ConvTranspose whose output is exactly
 * `inHW` (the pads/output_padding that make the size come out right are derived here).
 */
export function convTransposeTo(
  e: Emitter, g: string, w: string, inHW: number[], k: number[], s: number[], d: number[], pads: number[], group: number,
): string {
  const gs = e.shape(g);
  const p = [...pads];
  const op = [0, 0];
  for (let i = 0; i < 2; i++) {
    const base = (gs[2 + i]! - 1) * s[i]! + d[i]! * (k[i]! - 1) + 1 - p[i]! - p[i + 2]!;
    const extra = inHW[i]! - base;
    if (extra >= 0) op[i] = extra;
    else p[i + 2] = p[i + 2]! - extra;
  }
  let out = g;
  // output_padding must stay below the stride or dilation; pad the gradient instead otherwise.
  const fix = [0, 0];
  for (let i = 0; i < 2; i++) {
    if (op[i]! >= Math.max(s[i]!, d[i]!)) {
      fix[i] = op[i]!;
      op[i] = 0;
    }
  }
  out = e.op('ConvTranspose', [out, w], {
    strides: s, dilations: d, pads: p, group, kernel_shape: k, output_padding: op,
  });
  if (fix[0] || fix[1]) out = e.pad(out, [0, 0, 0, 0, 0, 0, fix[0]!, fix[1]!]);
  return out;
}

/** Conv weight [M, C/g, kh, kw] flipped and channel-swapped to [C, M/g, kh, kw], in JS. */
function flipSwapWeight(data: ArrayLike<number>, ws: number[], group: number): Float32Array {
  const [m, cg, kh, kw] = ws as [number, number, number, number];
  const mg = m / group;
  const out = new Float32Array(data.length);
  for (let j = 0; j < group; j++) {
    for (let co = 0; co < mg; co++) {
      for (let ci = 0; ci < cg; ci++) {
        const src = ((j * mg + co) * cg + ci) * kh * kw;
        const dst = ((j * cg + ci) * mg + co) * kh * kw;
        for (let y = 0; y < kh; y++) {
          for (let x = 0; x < kw; x++) out[dst + (kh - 1 - y) * kw + (kw - 1 - x)] = Number(data[src + y * kw + x]);
        }
      }
    }
  }
  return out;
}

/** The same flip and swap as graph nodes, for weights that are graph inputs. */
function flipSwapWeightNodes(e: Emitter, w: string, group: number): string {
  const [m, cg, kh, kw] = e.shape(w) as [number, number, number, number];
  let t: string;
  if (group === 1) t = e.transpose(w, [1, 0, 2, 3]);
  else {
    t = e.reshape(w, [group, m / group, cg, kh, kw]);
    t = e.transpose(t, [0, 2, 1, 3, 4]);
    t = e.reshape(t, [group * cg, m / group, kh, kw]);
  }
  return e.slice(t, [-1, -1], [-kh - 1, -kw - 1], [2, 3], [-1, -1]);
}

/** Below this many input channels, a Conv's input gradient uses ConvTranspose (see convInputGrad). */
const FLIPPED_CONV_MIN_CHANNELS = 12;

/** Gradient of Conv(x, w) with respect to x, given the output gradient g. */
function convInputGrad(
  e: Emitter, g: string, w: string, xs: number[], k: number[], s: number[], d: number[], pads: number[], group: number,
): string {
  const back = [0, 1].flatMap(() => [] as number[]);
  for (const i of [0, 1]) back[i] = d[i]! * (k[i]! - 1) - pads[i]!;
  for (const i of [0, 1]) back[i + 2] = d[i]! * (k[i]! - 1) - pads[i + 2]!;
  const stride1 = s.every((v) => v === 1);
  // A plain Conv with flipped, channel-swapped weights runs about 2x faster than ConvTranspose
  // (DESIGN.md 3) for 3x3 kernels, but not when it has few output channels (the forward's
  // input, e.g. RGB) nor for 1x1 kernels. Measured here (ORT CPU, 2 threads), Conv vs
  // ConvTranspose: 3->56 5x5 1.36 vs 0.32 ms, 8->64 3x3 0.49 vs 0.30, 12->12 3x3 0.12 vs 0.20,
  // 64->64 3x3 1.38 vs 2.59, 128->64 1x1 1.27 vs 0.57.
  const pointwise = k.every((v) => v === 1);
  if (stride1 && back.every((p) => p >= 0) && xs[1]! >= FLIPPED_CONV_MIN_CHANNELS && !pointwise) {
    const wc = e.lookup(w);
    const ws = e.shape(w);
    const flipped = wc
      ? e.tensor(flipSwapWeight(wc.data as ArrayLike<number>, ws, group), [ws[1]! * group, ws[0]! / group, ws[2]!, ws[3]!], 'flipped_w')
      : flipSwapWeightNodes(e, w, group);
    return e.op('Conv', [g, flipped], { pads: back, dilations: d, strides: [1, 1], group, kernel_shape: k });
  }
  return convTransposeTo(e, g, w, xs.slice(2), k, s, d, pads, group);
}

/**
 * Gradient of a Conv weight [M, C/g, kh, kw], ungrouped: the input's patches (im2col) from one
 * grouped Conv with one-hot kernels, with the forward's strides, dilations and pads, so
 * cols[n, c*kh*kw + t, o] is the input under tap t of output position o; then one matrix product
 * with the output gradient, which comes out in the weight's own layout. EDSR x4 at 48x48, all 35
 * conv weights, ORT CPU, 2 threads, medians of 25 interleaved runs on a quiet machine: 3.09x the
 * forward with weights as constants, 3.66x as inputs; one Gemm per kernel tap over sliced input
 * views was 3.6-4.5x (constants): its ~40 nodes per layer cost more in ONNX Runtime's per-node
 * and thread wake-up overhead than the patches Conv; the previous per-tap MatMul 4.06x / 4.54x.
 * The Conv form below (input channels as the batch, output gradient as a huge kernel) gives
 * ONNX Runtime GEMMs only kh*kw wide: 8.5x. Grouped convolutions use it all the same.
 */
function convWeightGrad(
  e: Emitter, x: string, g: string, k: number[], s: number[], d: number[], pads: number[], group: number, perExample = false,
): string {
  if (group !== 1) {
    return e.shape(x)[0] === 1 && !perExample ? convWeightGradGrouped(e, x, g, k, s, d, pads, group) : convWeightGradAsConv(e, x, g, k, s, d, pads, group);
  }
  const [n, c] = e.shape(x) as [number, number];
  const gs = e.shape(g);
  const [m, ho, wo] = [gs[1]!, gs[2]!, gs[3]!];
  const unit = s[0] === 1 && s[1] === 1;
  // Shifting the gradient beats the one-hot patches Conv whenever the output has no more channels
  // than the input: MSRResNet's 32 -> 32 convs at 32x32 LR, 1 thread, fwd + all weight gradients
  // 29.3 against 31.5 ms (and 42.2 against 43.3 on a busier machine).
  if (n === 1 && unit && m <= c && !perExample) return convWeightGradShiftedGrad(e, x, g, k, d, pads);
  const taps = k[0]! * k[1]!;
  const onehot = new Float32Array(c * taps * taps);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < taps; t++) onehot[(ch * taps + t) * taps + t] = 1;
  const kernel = e.tensor(onehot, [c * taps, 1, k[0]!, k[1]!], 'im2col_onehot');
  const cols = e.op('Conv', [x, kernel], { strides: s, dilations: d, pads, group: c, kernel_shape: k }); // [n, C*taps, ho, wo]
  // The patches are the product's left factor: ONNX Runtime packs the right one, and the
  // gradient [M, HW] is far smaller than the patches [C*taps, HW] (MSRResNet 32 -> 32 at 32x32,
  // 1 thread: the Gemm 1.0 ms per conv with the patches on the right).
  if (perExample) {
    // [n, C*taps, HW] x [n, HW, M] -> [n, C*taps, M], then to [n, M, C*taps]: each element's own gradient.
    const gT = e.transpose(e.reshape(g, [n, m, ho * wo]), [0, 2, 1]);
    const r = e.op('MatMul', [e.reshape(cols, [n, c * taps, ho * wo]), gT]);
    return e.reshape(e.transpose(r, [0, 2, 1]), [n, m, c, k[0]!, k[1]!]);
  }
  if (n === 1) {
    // Gemm(cols [C*taps, HW], g [M, HW]^T) -> [C*taps, M], transposed to the weight's layout.
    const r = e.op('Gemm', [e.reshape(cols, [c * taps, ho * wo]), e.reshape(g, [m, ho * wo])], { transB: 1 });
    return e.reshape(e.transpose(r, [1, 0]), [m, c, k[0]!, k[1]!]);
  }
  // Batched: [n, C*taps, HW] x [n, HW, M], summed over the batch.
  const gT = e.transpose(e.reshape(g, [n, m, ho * wo]), [0, 2, 1]);
  const r = e.reduceSum(e.op('MatMul', [e.reshape(cols, [n, c * taps, ho * wo]), gT]), [0], false); // [C*taps, M]
  return e.reshape(e.transpose(r, [1, 0]), [m, c, k[0]!, k[1]!]);
}

/**
 * Weight gradient for stride 1 and batch 1 when the output has far fewer channels than the
 * input (an SR net's last conv, 64 -> 3): the kernel taps shift the small gradient instead of
 * the large input. dW[m, c, ky, kx] = sum_i x[c, i] * g[m, i + pad - (ky, kx) * dilation], so
 * the gradient, padded to cover every shift, gives one [taps*M, HW] matrix and one Gemm.
 * EDSR's 64 -> 3 conv at 192x192: 0.38x that layer's forward Conv, against 1.5x shifting the input.
 */
function convWeightGradShiftedGrad(e: Emitter, x: string, g: string, k: number[], d: number[], pads: number[]): string {
  const [, c, h, w] = e.shape(x) as [number, number, number, number];
  const gs = e.shape(g);
  const [m, ho, wo] = [gs[1]!, gs[2]!, gs[3]!];
  // Begin pads may be negative (crops) where the forward padding exceeds the kernel's reach.
  const begin = [0, 1].map((i) => (k[i]! - 1) * d[i]! - pads[i]!);
  const end = [h + pads[0]! - ho, w + pads[1]! - wo];
  const taps = k[0]! * k[1]!;
  const a = shiftedTaps(e, e.pad(g, [0, 0, begin[0]!, begin[1]!, 0, 0, end[0]!, end[1]!]), k, d, h, w); // [1, taps*M, h, w]
  // The shifted gradient on the left: Gemm packs its right factor, and the input is the smaller
  // one (MSRResNet's conv_hr, 32 -> 32 at 64x64, 1 thread: 1.0 against 1.4 ms).
  const r = e.op('Gemm', [e.reshape(a, [taps * m, h * w]), e.reshape(x, [c, h * w])], { transB: 1 }); // [taps*M, C]
  return e.reshape(e.transpose(e.reshape(r, [taps, m, c]), [1, 2, 0]), [m, c, k[0]!, k[1]!]);
}

/** The padded gradient [N, M, ...] under each kernel tap, [N, taps*M, h, w], tap-major. */
function shiftedTaps(e: Emitter, gp: string, k: number[], d: number[], h: number, w: number): string {
  const parts: string[] = [];
  for (let ky = 0; ky < k[0]!; ky++) {
    for (let kx = 0; kx < k[1]!; kx++) {
      const y0 = (k[0]! - 1 - ky) * d[0]!;
      const x0 = (k[1]! - 1 - kx) * d[1]!;
      parts.push(e.slice(gp, [y0, x0], [y0 + h, x0 + w], [2, 3]));
    }
  }
  return parts.length === 1 ? parts[0]! : e.op('Concat', parts, { axis: 1 });
}

/**
 * Weight gradient of a grouped Conv, batch 1: each group's own product, as one batched MatMul
 * over the groups, with the gradient shifted (stride 1, no more output than input channels per
 * group) or the input's patches. A group of the input's channels is contiguous, so the grouping
 * is a reshape. FAIG stacks its path points as groups (methods/faig/steps.ts).
 */
function convWeightGradGrouped(
  e: Emitter, x: string, g: string, k: number[], s: number[], d: number[], pads: number[], group: number,
): string {
  const [, c, h, w] = e.shape(x) as [number, number, number, number];
  const gs = e.shape(g);
  const [m, ho, wo] = [gs[1]!, gs[2]!, gs[3]!];
  const [cg, mg] = [c / group, m / group];
  const taps = k[0]! * k[1]!;
  if (s[0] === 1 && s[1] === 1 && mg <= cg) {
    const begin = [0, 1].map((i) => (k[i]! - 1) * d[i]! - pads[i]!);
    const end = [h + pads[0]! - ho, w + pads[1]! - wo];
    const gp = e.pad(e.reshape(g, [group, mg, ho, wo]), [0, 0, begin[0]!, begin[1]!, 0, 0, end[0]!, end[1]!]);
    const a = shiftedTaps(e, gp, k, d, h, w); // [G, taps*Mg, h, w]
    // The shifted gradient on the left: the right factor, which MatMul packs, is the smaller input
    // (MSRResNet's path points as 25 groups, 1 thread: 4.8 against 6.0 ms per point).
    const r = e.op('MatMul', [e.reshape(a, [group, taps * mg, h * w]), e.transpose(e.reshape(x, [group, cg, h * w]), [0, 2, 1])]); // [G, taps*Mg, Cg]
    return e.reshape(e.transpose(e.reshape(r, [group, taps, mg, cg]), [0, 2, 3, 1]), [m, cg, k[0]!, k[1]!]);
  }
  const onehot = new Float32Array(c * taps * taps);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < taps; t++) onehot[(ch * taps + t) * taps + t] = 1;
  const kernel = e.tensor(onehot, [c * taps, 1, k[0]!, k[1]!], 'im2col_onehot');
  const cols = e.op('Conv', [x, kernel], { strides: s, dilations: d, pads, group: c, kernel_shape: k }); // [1, C*taps, ho, wo]
  const gT = e.transpose(e.reshape(g, [group, mg, ho * wo]), [0, 2, 1]);
  const r = e.op('MatMul', [e.reshape(cols, [group, cg * taps, ho * wo]), gT]); // [G, Cg*taps, Mg]
  return e.reshape(e.transpose(r, [0, 2, 1]), [m, cg, k[0]!, k[1]!]);
}

/**
 * Weight gradient as one Conv: the input's channels become the batch and the output gradient
 * becomes the kernel (forward stride and dilation swap roles).
 */
function convWeightGradAsConv(
  e: Emitter, x: string, g: string, k: number[], s: number[], d: number[], pads: number[], group: number,
): string {
  const [n, c, h, w] = e.shape(x) as [number, number, number, number];
  const m = e.shape(g)[1]!;
  const cg = c / group;
  let x2: string;
  if (group === 1) x2 = n === 1 ? e.reshape(x, [c, 1, h, w]) : e.transpose(x, [1, 0, 2, 3]);
  else {
    x2 = e.reshape(x, [n, group, cg, h, w]);
    x2 = e.transpose(x2, [2, 1, 0, 3, 4]);
    x2 = e.reshape(x2, [cg, group * n, h, w]);
  }
  const gs = e.shape(g);
  const g2 = n === 1 ? e.reshape(g, [m, 1, gs[2]!, gs[3]!]) : e.transpose(g, [1, 0, 2, 3]);
  let r = e.op('Conv', [x2, g2], { strides: d, dilations: s, pads, group, kernel_shape: gs.slice(2) });
  const rs = e.shape(r);
  if (rs[2] !== k[0] || rs[3] !== k[1]) r = e.slice(r, [0, 0], [k[0]!, k[1]!], [2, 3]);
  return e.transpose(r, [1, 0, 2, 3]);
}

function convGeometry(node: GraphNode, e: Emitter, transposed: boolean) {
  const xs = e.shape(node.inputs[0]!);
  const ws = e.shape(node.inputs[1]!);
  only2d(node, xs);
  const k = attrInts(node, 'kernel_shape') ?? ws.slice(2);
  return { xs, ws, k, geo: windowGeometry(node, xs.slice(2), k, transposed), group: attrInt(node, 'group', 1) };
}

function biasGrad(e: Emitter, g: string): string {
  return e.reduceSum(g, [0, 2, 3], false);
}

export const convRules: Record<string, Rule> = {
  Conv: (node, gy, e, needs) => {
    const g = first(gy, node);
    const { xs, k, geo, group } = convGeometry(node, e, false);
    const [x, w, b] = node.inputs as [string, string, string | undefined];
    return [
      needs[0] ? convInputGrad(e, g, w, xs, k, geo.strides, geo.dilations, geo.pads, group) : undefined,
      needs[1] ? convWeightGrad(e, x, g, k, geo.strides, geo.dilations, geo.pads, group, e.perExample.has(w)) : undefined,
      needs[2] && b ? biasGrad(e, g) : undefined,
    ];
  },
  ConvTranspose: (node, gy, e, needs) => {
    const g = first(gy, node);
    const { xs, k, geo, group } = convGeometry(node, e, true);
    const [x, w, b] = node.inputs as [string, string, string | undefined];
    // ConvTranspose is the adjoint of Conv with the same weight: its input gradient is that Conv.
    const gs = e.shape(g);
    const pads = [...geo.pads];
    let gIn = g;
    for (const i of [0, 1]) {
      const endPad = pads[i + 2]! - geo.outputPadding[i]!;
      if (endPad >= 0) pads[i + 2] = endPad;
      else {
        pads[i + 2] = 0;
        gIn = e.slice(gIn, [0], [gs[2 + i]! + endPad], [2 + i]);
      }
    }
    let gx: string | undefined;
    if (needs[0]) {
      gx = e.op('Conv', [gIn, w], { strides: geo.strides, dilations: geo.dilations, pads, group, kernel_shape: k });
      const got = e.shape(gx);
      if (got[2] !== xs[2] || got[3] !== xs[3]) unsupported(node, `input gradient came out [${got}], expected [${xs}]`);
    }
    return [
      gx,
      needs[1] ? convWeightGrad(e, gIn, x, k, geo.strides, geo.dilations, pads, group, e.perExample.has(w)) : undefined,
      needs[2] && b ? biasGrad(e, g) : undefined,
    ];
  },
};
