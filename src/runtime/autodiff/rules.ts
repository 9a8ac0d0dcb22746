// Backward rules, one per ONNX operator: rules[opType](node, outputGrads, emit, needs) returns
// the gradient of each input (undefined where not needed or not differentiable).
// Rules emit plain ONNX nodes through the Emitter; shapes are static.

import type { GraphNode } from '../graph/ir.js';
import { attrFloat, attrInt, attrInts, attrStr, product, tensorToNumbers, windowGeometry } from './attrs.js';
import type { Emitter } from './emitter.js';
import { resizeMatrix } from './resize.js';
import { normAxis, padSpec, reduceAxes, sliceLength, sliceSpec, splitSizes } from './shapes.js';

export type Grad = string | undefined;
export type Rule = (node: GraphNode, gy: Grad[], e: Emitter, needs: boolean[]) => Grad[];

export class GradientRuleError extends Error {}

function unsupported(node: GraphNode, why: string): never {
  throw new GradientRuleError(`gradient of ${node.opType} (node '${node.name}'): ${why}`);
}

function only2d(node: GraphNode, shape: number[]): void {
  if (shape.length !== 4) unsupported(node, `only 2-D spatial inputs (rank 4) are supported, got rank ${shape.length}`);
}

const first = (gy: Grad[], node: GraphNode): string => {
  const g = gy[0];
  if (!g) unsupported(node, 'missing output gradient');
  return g;
};

/**
 * Places `g` [N, C, Ho, Wo] back on the input grid with a ConvTranspose whose output is exactly
 * `inHW` (the pads/output_padding that make the size come out right are derived here).
 */
function convTransposeTo(
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
  e: Emitter, x: string, g: string, k: number[], s: number[], d: number[], pads: number[], group: number,
): string {
  if (group !== 1) return convWeightGradAsConv(e, x, g, k, s, d, pads, group);
  const [n, c] = e.shape(x) as [number, number];
  const gs = e.shape(g);
  const [m, ho, wo] = [gs[1]!, gs[2]!, gs[3]!];
  const unit = s[0] === 1 && s[1] === 1;
  if (n === 1 && unit && 4 * m <= c) return convWeightGradShiftedGrad(e, x, g, k, d, pads);
  const taps = k[0]! * k[1]!;
  const onehot = new Float32Array(c * taps * taps);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < taps; t++) onehot[(ch * taps + t) * taps + t] = 1;
  const kernel = e.tensor(onehot, [c * taps, 1, k[0]!, k[1]!], 'im2col_onehot');
  const cols = e.op('Conv', [x, kernel], { strides: s, dilations: d, pads, group: c, kernel_shape: k }); // [n, C*taps, ho, wo]
  if (n === 1) {
    // Gemm(g [M, HW], cols [C*taps, HW]^T) -> [M, C*taps]: the weight's own layout.
    const r = e.op('Gemm', [e.reshape(g, [m, ho * wo]), e.reshape(cols, [c * taps, ho * wo])], { transB: 1 });
    return e.reshape(r, [m, c, k[0]!, k[1]!]);
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
  const gp = e.pad(g, [0, 0, begin[0]!, begin[1]!, 0, 0, end[0]!, end[1]!]);
  const parts: string[] = [];
  for (let ky = 0; ky < k[0]!; ky++) {
    for (let kx = 0; kx < k[1]!; kx++) {
      const y0 = (k[0]! - 1 - ky) * d[0]!;
      const x0 = (k[1]! - 1 - kx) * d[1]!;
      parts.push(e.slice(gp, [y0, x0], [y0 + h, x0 + w], [2, 3]));
    }
  }
  const taps = parts.length;
  const a = parts.length === 1 ? parts[0]! : e.op('Concat', parts, { axis: 1 }); // [1, taps*M, h, w]
  const r = e.op('Gemm', [e.reshape(x, [c, h * w]), e.reshape(a, [taps * m, h * w])], { transB: 1 }); // [C, taps*M]
  return e.reshape(e.transpose(e.reshape(r, [c, taps, m]), [2, 0, 1]), [m, c, k[0]!, k[1]!]);
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

/** Swaps the last two axes. */
function mT(e: Emitter, x: string): string {
  const r = e.shape(x).length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return e.transpose(x, perm);
}

function unary(f: (x: string, y: string, g: string, e: Emitter, node: GraphNode) => string): Rule {
  return (node, gy, e, needs) => (needs[0] ? [f(node.inputs[0]!, node.outputs[0]!, first(gy, node), e, node)] : []);
}

const zero = (e: Emitter) => e.scalar(0);

/** A boolean mask as 0/1 in the dtype of `like`. */
function castMask(e: Emitter, cond: string, like: string): string {
  return e.op('Cast', [cond], { to: e.dtype(like) === 'float64' ? 11 : 1 });
}

/**
 * g where `cond`, else 0, as g * float(cond). On a quiet 2-thread CPU this runs as fast as
 * Where(cond, g, 0) over the whole CARN/EDSR backward; Where never won a comparison here.
 */
function maskMul(e: Emitter, g: string, cond: string): string {
  return e.mul(g, castMask(e, cond, g));
}

export const rules: Record<string, Rule> = {
  Identity: (node, gy) => [gy[0]],
  Dropout: (node, gy) => [gy[0]],
  Constant: () => [],
  Cast: unary((x, _y, g, e) => (e.dtype(x) === e.dtype(g) ? g : e.op('Cast', [g], { to: e.dtype(x) === 'float64' ? 11 : 1 }))),

  // The mask is read from the ReLU's output, so the Conv+ReLU fusion of the forward stays intact.
  Relu: unary((_x, y, g, e) => maskMul(e, g, e.op('Greater', [y, zero(e)]))),
  LeakyRelu: unary((x, y, g, e, node) => {
    const alpha = attrFloat(node, 'alpha', 0.01);
    // With alpha >= 0 the output has the input's sign: reading the output keeps Conv fusion.
    const ref = alpha >= 0 ? y : x;
    const pos = castMask(e, e.op('Greater', [ref, zero(e)]), g);
    return e.mul(g, e.add(e.mul(pos, e.scalar(1 - alpha)), e.scalar(alpha)));
  }),
  Sigmoid: unary((_x, y, g, e) => e.mul(g, e.mul(y, e.sub(e.scalar(1), y)))),
  Tanh: unary((_x, y, g, e) => e.mul(g, e.sub(e.scalar(1), e.mul(y, y)))),
  Exp: unary((_x, y, g, e) => e.mul(g, y)),
  Log: unary((x, _y, g, e) => e.div(g, x)),
  Neg: unary((_x, _y, g, e) => e.neg(g)),
  Abs: unary((x, _y, g, e) => e.mul(g, e.op('Sign', [x]))),
  Reciprocal: unary((_x, y, g, e) => e.neg(e.mul(g, e.mul(y, y)))),
  // d sqrt(x) = 1 / (2 sqrt(x)); taken as 0 where sqrt(x) = 0, so an exact zero never gives 0 * inf.
  Sqrt: unary((_x, y, g, e) =>
    e.op('Where', [e.op('Equal', [y, zero(e)]), zero(e), e.div(e.mul(g, e.scalar(0.5)), y)])),
  Erf: unary((x, _y, g, e) =>
    e.mul(g, e.mul(e.scalar(2 / Math.sqrt(Math.PI)), e.op('Exp', [e.neg(e.mul(x, x))])))),
  Softplus: unary((x, _y, g, e) => e.mul(g, e.op('Sigmoid', [x]))),
  // Gradient passes where the value was not clipped (x == clip(x), bounds included).
  Clip: (node, gy, e, needs) => [needs[0] ? maskMul(e, first(gy, node), e.op('Equal', [node.inputs[0]!, node.outputs[0]!])) : undefined],

  PRelu: (node, gy, e, needs) => {
    const [x, slope] = node.inputs as [string, string];
    const g = first(gy, node);
    const neg = castMask(e, e.op('Less', [x, zero(e)]), g);
    // dy/dx = 1 + [x < 0] (slope - 1); the slope term is tiny, the mask is one multiply.
    return [
      needs[0] ? e.mul(g, e.add(e.mul(neg, e.sub(slope, e.scalar(1))), e.scalar(1))) : undefined,
      needs[1] ? e.reduceTo(e.mul(g, e.op('Min', [x, zero(e)])), e.shape(slope)) : undefined,
    ];
  },

  Where: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [c, a, b] = node.inputs as [string, string, string];
    return [
      undefined,
      needs[1] ? e.reduceTo(e.op('Where', [c, g, zero(e)]), e.shape(a)) : undefined,
      needs[2] ? e.reduceTo(e.op('Where', [c, zero(e), g]), e.shape(b)) : undefined,
    ];
  },
  // Max/Min: the gradient goes to the operand(s) equal to the result.
  Max: (node, gy, e, needs) => selectRule(node, first(gy, node), e, needs),
  Min: (node, gy, e, needs) => selectRule(node, first(gy, node), e, needs),
  Add: (node, gy, e, needs) => {
    const g = first(gy, node);
    return node.inputs.map((i, k) => (needs[k] ? e.reduceTo(g, e.shape(i)) : undefined));
  },
  Sum: (node, gy, e, needs) => {
    const g = first(gy, node);
    return node.inputs.map((i, k) => (needs[k] ? e.reduceTo(g, e.shape(i)) : undefined));
  },
  Sub: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b] = node.inputs as [string, string];
    return [needs[0] ? e.reduceTo(g, e.shape(a)) : undefined, needs[1] ? e.reduceTo(e.neg(g), e.shape(b)) : undefined];
  },
  Mul: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b] = node.inputs as [string, string];
    return [
      needs[0] ? e.reduceTo(e.mul(g, b), e.shape(a)) : undefined,
      needs[1] ? e.reduceTo(e.mul(g, a), e.shape(b)) : undefined,
    ];
  },
  Div: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b] = node.inputs as [string, string];
    const y = node.outputs[0]!;
    return [
      needs[0] ? e.reduceTo(e.div(g, b), e.shape(a)) : undefined,
      needs[1] ? e.reduceTo(e.neg(e.div(e.mul(g, y), b)), e.shape(b)) : undefined,
    ];
  },
  Pow: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b] = node.inputs as [string, string];
    const y = node.outputs[0]!;
    let ga: string | undefined;
    if (needs[0]) {
      const bc = e.lookup(b);
      const bv = bc && bc.data.length === 1 ? Number(bc.data[0]) : undefined;
      const dpow = bv === 2 ? e.mul(a, e.scalar(2))
        : bv === 1 ? undefined
        : e.mul(b, e.op('Pow', [a, e.sub(b, e.scalar(1))]));
      ga = e.reduceTo(dpow ? e.mul(g, dpow) : g, e.shape(a));
    }
    return [ga, needs[1] ? e.reduceTo(e.mul(g, e.mul(y, e.op('Log', [a]))), e.shape(b)) : undefined];
  },

  Conv: (node, gy, e, needs) => {
    const g = first(gy, node);
    const { xs, k, geo, group } = convGeometry(node, e, false);
    const [x, w, b] = node.inputs as [string, string, string | undefined];
    return [
      needs[0] ? convInputGrad(e, g, w, xs, k, geo.strides, geo.dilations, geo.pads, group) : undefined,
      needs[1] ? convWeightGrad(e, x, g, k, geo.strides, geo.dilations, geo.pads, group) : undefined,
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
      needs[1] ? convWeightGrad(e, gIn, x, k, geo.strides, geo.dilations, pads, group) : undefined,
      needs[2] && b ? biasGrad(e, g) : undefined,
    ];
  },

  BatchNormalization: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [x, scale, bias, mean, v] = node.inputs as [string, string, string, string, string];
    const c = e.shape(scale)[0]!;
    const r = e.shape(x).length;
    const col = (t: string) => e.reshape(t, [c, ...new Array(r - 2).fill(1)]);
    const rstd = e.op('Reciprocal', [e.op('Sqrt', [e.add(col(v), e.scalar(attrFloat(node, 'epsilon', 1e-5)))])]);
    const axes = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2)];
    const xhat = () => e.mul(e.sub(x, col(mean)), rstd);
    return [
      needs[0] ? e.mul(g, e.mul(col(scale), rstd)) : undefined,
      needs[1] ? e.reshape(e.reduceSum(e.mul(g, xhat()), axes), [c]) : undefined,
      needs[2] ? e.reshape(e.reduceSum(g, axes), [c]) : undefined,
      needs[3] ? unsupported(node, 'gradient with respect to the running mean is not supported') : undefined,
      needs[4] ? unsupported(node, 'gradient with respect to the running variance is not supported') : undefined,
    ];
  },

  MatMul: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b] = node.inputs as [string, string];
    const as = e.shape(a);
    const bs = e.shape(b);
    const a2 = as.length === 1 ? e.reshape(a, [1, as[0]!]) : a;
    const b2 = bs.length === 1 ? e.reshape(b, [bs[0]!, 1]) : b;
    const gShape = [...e.shape(g)];
    if (as.length === 1) gShape.splice(gShape.length - (bs.length === 1 ? 0 : 1), 0, 1);
    if (bs.length === 1) gShape.push(1);
    const g2 = e.reshape(g, gShape);
    return [
      needs[0] ? e.reshape(e.reduceTo(e.op('MatMul', [g2, mT(e, b2)]), e.shape(a2)), as) : undefined,
      needs[1] ? e.reshape(e.reduceTo(e.op('MatMul', [mT(e, a2), g2]), e.shape(b2)), bs) : undefined,
    ];
  },
  Gemm: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b, c] = node.inputs as [string, string, string | undefined];
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    const tA = attrInt(node, 'transA', 0);
    const tB = attrInt(node, 'transB', 0);
    const ga = !needs[0] ? undefined
      : tA ? e.op('Gemm', [b, g], { alpha, transA: tB, transB: 1 })
      : e.op('Gemm', [g, b], { alpha, transB: tB ? 0 : 1 });
    const gb = !needs[1] ? undefined
      : tB ? e.op('Gemm', [g, a], { alpha, transA: 1, transB: tA })
      : e.op('Gemm', [a, g], { alpha, transA: tA ? 0 : 1 });
    const gc = needs[2] && c ? e.reduceTo(beta === 1 ? g : e.mul(g, e.scalar(beta)), e.shape(c)) : undefined;
    return [ga, gb, gc];
  },

  Concat: (node, gy, e, needs) => {
    const g = first(gy, node);
    const rank = e.shape(g).length;
    const axis = normAxis(attrInt(node, 'axis', 0), rank);
    let at = 0;
    return node.inputs.map((i, k) => {
      const len = e.shape(i)[axis]!;
      const s = at;
      at += len;
      return needs[k] ? e.slice(g, [s], [s + len], [axis]) : undefined;
    });
  },
  Split: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    const x = node.inputs[0]!;
    const xs = e.shape(x);
    const axis = normAxis(attrInt(node, 'axis', 0), xs.length);
    const sizes = splitSizes(node, xs[axis]!, e.lookup);
    const parts = sizes.map((sz, i) => {
      const gi = gy[i];
      if (gi) return gi;
      const shape = [...xs];
      shape[axis] = sz;
      return e.expand(zero(e), shape);
    });
    return [parts.length === 1 ? parts[0] : e.op('Concat', parts, { axis })];
  },
  Slice: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    let g = first(gy, node);
    const xs = e.shape(node.inputs[0]!);
    const spec = sliceSpec(node, xs, e.lookup);
    spec.axes.forEach((axis, i) => {
      const step = spec.steps[i]!;
      const len = sliceLength(spec.starts[i]!, spec.ends[i]!, step);
      let start = spec.starts[i]!;
      if (len === 0) unsupported(node, 'empty slice');
      if (step < 0) {
        g = e.slice(g, [-1], [-len - 1], [axis], [-1]);
        start = start + (len - 1) * step;
      }
      const k = Math.abs(step);
      let span = len;
      if (k > 1) {
        // Interleave k-1 zeros after every element: unsqueeze, pad the new axis, merge.
        const gs = e.shape(g);
        const u = e.unsqueeze(g, [axis + 1]);
        const pads = new Array(2 * (gs.length + 1)).fill(0);
        pads[gs.length + 1 + axis + 1] = k - 1;
        const merged = [...gs];
        merged[axis] = gs[axis]! * k;
        g = e.reshape(e.pad(u, pads), merged);
        span = len * k;
      }
      const end = xs[axis]! - start - span;
      if (end < 0) {
        g = e.slice(g, [0], [span + end], [axis]);
      }
      const pads = new Array(2 * xs.length).fill(0);
      pads[axis] = start;
      pads[axis + xs.length] = Math.max(0, end);
      g = e.pad(g, pads);
    });
    return [g];
  },
  Pad: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    let g = first(gy, node);
    const xs = e.shape(node.inputs[0]!);
    const r = xs.length;
    const { pads, mode } = padSpec(node, r, e.lookup);
    if (mode === 'constant') {
      g = e.pad(g, pads.map((p) => Math.max(0, -p)));
      const gs = e.shape(g);
      const axes = [...Array(r).keys()].filter((a) => pads[a]! > 0 || pads[a + r]! > 0);
      if (axes.length === 0) return [g];
      return [e.slice(g, axes.map((a) => Math.max(0, pads[a]!)), axes.map((a) => gs[a]! - Math.max(0, pads[a + r]!)), axes)];
    }
    if (mode !== 'reflect' && mode !== 'edge') unsupported(node, `pad mode '${mode}' is not supported`);
    if (pads.some((p) => p < 0)) unsupported(node, 'negative pads with reflect/edge mode');
    for (let a = 0; a < r; a++) {
      const b = pads[a]!;
      const en = pads[a + r]!;
      if (b === 0 && en === 0) continue;
      const len = xs[a]!;
      const terms = [e.slice(g, [b], [b + len], [a])];
      const place = (t: string, before: number, after: number) => {
        const p = new Array(2 * r).fill(0);
        p[a] = before;
        p[a + r] = after;
        terms.push(e.pad(t, p));
      };
      if (b > 0) {
        const part = e.slice(g, [0], [b], [a]);
        if (mode === 'reflect') place(e.slice(part, [-1], [-b - 1], [a], [-1]), 1, len - 1 - b);
        else place(e.reduceSum(part, [a]), 0, len - 1);
      }
      if (en > 0) {
        const part = e.slice(g, [b + len], [b + len + en], [a]);
        if (mode === 'reflect') place(e.slice(part, [-1], [-en - 1], [a], [-1]), len - 1 - en, 1);
        else place(e.reduceSum(part, [a]), len - 1, 0);
      }
      g = e.sum(terms);
    }
    return [g];
  },

  Reshape: (node, gy, e, needs) => [needs[0] ? e.reshape(first(gy, node), e.shape(node.inputs[0]!)) : undefined],
  Flatten: (node, gy, e, needs) => [needs[0] ? e.reshape(first(gy, node), e.shape(node.inputs[0]!)) : undefined],
  Squeeze: (node, gy, e, needs) => [needs[0] ? e.reshape(first(gy, node), e.shape(node.inputs[0]!)) : undefined],
  Unsqueeze: (node, gy, e, needs) => [needs[0] ? e.reshape(first(gy, node), e.shape(node.inputs[0]!)) : undefined],
  Expand: (node, gy, e, needs) => [needs[0] ? e.reduceTo(first(gy, node), e.shape(node.inputs[0]!)) : undefined],
  Transpose: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    const r = e.shape(node.inputs[0]!).length;
    const perm = attrInts(node, 'perm') ?? [...Array(r).keys()].reverse();
    const inv = new Array(r);
    perm.forEach((p, i) => { inv[p] = i; });
    return [e.transpose(first(gy, node), inv)];
  },

  DepthToSpace: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    const g = first(gy, node);
    const b = attrInt(node, 'blocksize', 1);
    if (attrStr(node, 'mode', 'DCR') === 'DCR') return [e.op('SpaceToDepth', [g], { blocksize: b })];
    // CRD: y[n, c, h*b+i, w*b+j] = x[n, c*b*b + i*b + j, h, w]
    const [n, c, hb, wb] = e.shape(g) as [number, number, number, number];
    const h = hb / b;
    const w = wb / b;
    const t = e.transpose(e.reshape(g, [n, c, h, b, w, b]), [0, 1, 3, 5, 2, 4]);
    return [e.reshape(t, [n, c * b * b, h, w])];
  },
  SpaceToDepth: (node, gy, e, needs) =>
    [needs[0] ? e.op('DepthToSpace', [first(gy, node)], { blocksize: attrInt(node, 'blocksize', 1), mode: 'DCR' }) : undefined],

  Resize: (node, gy, e, needs) => resizeRule(node, gy, e, needs),
  Upsample: (node, gy, e, needs) => resizeRule(node, gy, e, needs),

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

  ReduceSum: (node, gy, e, needs) => reduceRule(node, gy, e, needs, false),
  ReduceMean: (node, gy, e, needs) => reduceRule(node, gy, e, needs, true),

  Softmax: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    const g = first(gy, node);
    const y = node.outputs[0]!;
    const r = e.shape(y).length;
    const axis = normAxis(attrInt(node, 'axis', e.opset >= 13 ? -1 : 1), r);
    const axes = e.opset >= 13 ? [axis] : [...Array(r - axis).keys()].map((i) => i + axis);
    const gyy = e.mul(g, y);
    return [e.sub(gyy, e.mul(y, e.reduceSum(gyy, axes, true)))];
  },
  LayerNormalization: (node, gy, e, needs) => {
    const xs = e.shape(node.inputs[0]!);
    const axis = normAxis(attrInt(node, 'axis', -1), xs.length);
    const axes = [...Array(xs.length - axis).keys()].map((i) => i + axis);
    return normRule(node, first(gy, node), e, needs, axes, (t) => t);
  },
  InstanceNormalization: (node, gy, e, needs) => {
    const xs = e.shape(node.inputs[0]!);
    const axes = [...Array(xs.length - 2).keys()].map((i) => i + 2);
    const c = xs[1]!;
    return normRule(node, first(gy, node), e, needs, axes, (t) => e.reshape(t, [c, ...new Array(xs.length - 2).fill(1)]));
  },
};

function selectRule(node: GraphNode, g: string, e: Emitter, needs: boolean[]): Grad[] {
  const y = node.outputs[0]!;
  return node.inputs.map((i, k) => (needs[k] ? e.reduceTo(e.op('Where', [e.op('Equal', [i, y]), g, zero(e)]), e.shape(i)) : undefined));
}

function reduceRule(node: GraphNode, gy: Grad[], e: Emitter, needs: boolean[], mean: boolean): Grad[] {
  if (!needs[0]) return [];
  const xs = e.shape(node.inputs[0]!);
  const axes = reduceAxes(node, xs.length, e.lookup);
  let g = e.reshape(first(gy, node), xs.map((d, i) => (axes.includes(i) ? 1 : d)));
  if (mean) g = e.mul(g, e.scalar(1 / product(axes.map((a) => xs[a]!))));
  return [e.expand(g, xs)];
}

/** Layer/instance normalisation: statistics are recomputed from x (cheap next to convolutions). */
function normRule(
  node: GraphNode, g: string, e: Emitter, needs: boolean[], axes: number[], param: (t: string) => string,
): Grad[] {
  const [x, scale, bias] = node.inputs as [string, string, string | undefined];
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const mu = e.reduceMean(x, axes);
  const xc = e.sub(x, mu);
  const v = e.reduceMean(e.mul(xc, xc), axes);
  const rstd = e.op('Reciprocal', [e.op('Sqrt', [e.add(v, e.scalar(eps))])]);
  const xhat = e.mul(xc, rstd);
  let gx: string | undefined;
  if (needs[0]) {
    const dxhat = e.mul(g, param(scale));
    const m1 = e.reduceMean(dxhat, axes);
    const m2 = e.reduceMean(e.mul(dxhat, xhat), axes);
    gx = e.mul(rstd, e.sub(e.sub(dxhat, m1), e.mul(xhat, m2)));
  }
  const paramGrad = (t: string, name: string) => {
    const ps = e.shape(name);
    return e.reshape(e.reduceTo(t, e.shape(param(name))), ps);
  };
  return [
    gx,
    needs[1] ? paramGrad(e.mul(g, xhat), scale) : undefined,
    needs[2] && bias ? paramGrad(g, bias) : undefined,
  ];
}

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
