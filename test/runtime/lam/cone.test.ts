// Cone graphs (models/cone.ts) against the whole image. Part 1: each rewriting rule on small
// graphs, the cone's output equal to the same box of the whole graph's output for boxes at
// every corner and edge and inside, in float64 (the reference evaluator: the same numbers) and
// in ONNX Runtime. Part 2: LAM's gradient on the cone against the whole image's, in float64, on
// the reference CNNs and zoo networks, windows at corners and edges. Part 3: LAM end to end in
// ONNX Runtime on the cone against crop=off on the reference networks and every zoo model.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../../helpers/paths.js';
import { runOnnx } from '../../helpers/ort.js';
import type { LoadedModel } from '../../../src/runtime/api.js';
import type { Graph, GraphNode, TensorData } from '../../../src/runtime/graph/ir.js';
import { cropImage, cropPlanes, readImage, type Image } from '../../../src/runtime/image/index.js';
import { computeLam, type LamOptions, type ProgramFactory, type StepProgram, type Window } from '../../../src/runtime/methods/lam/compute.js';
import { coneFor, planLam } from '../../../src/runtime/methods/lam/plan.js';
import { forwardPrograms, windowPrograms } from '../../../src/runtime/methods/lam/program.js';
import { type Box, coneGraph } from '../../../src/runtime/models/cone.js';
import { loadModel } from '../../../src/runtime/models/index.js';
import { resolveZooModel, ZOO } from '../../../src/runtime/models/zoo.js';
import { specialise } from '../../../src/runtime/onnx/specialise.js';
import { evaluate } from '../../../src/runtime/reference/index.js';
import { buildGradientGraph } from '../../../src/runtime/autodiff/index.js';
import { windowMask } from '../../../src/runtime/methods/lam/compute.js';
import { relDiff } from '../../helpers/tensors.js';

const lamDir = fixture('lam');
const measured: Record<string, unknown> = {};

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** A small graph: input x [1, C, H, W], the nodes, random float initializers by shape. */
function net(name: string, c: number, h: number, w: number, nodes: GraphNode[], init: Record<string, number[] | TensorData>, opset = 17): Graph {
  const rand = rng(name.length * 7919 + nodes.length);
  const initializers = new Map<string, TensorData>();
  for (const [k, v] of Object.entries(init)) {
    initializers.set(k, Array.isArray(v) ? { dtype: 'float32', dims: v, data: new Float32Array(v.reduce((a, b) => a * b, 1)).map(() => rand()) } : v);
  }
  const g: Graph = {
    name,
    opset,
    nodes,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, c, h, w] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [] }],
    initializers,
  };
  const s = specialise(g, [1, c, h, w]);
  return { ...s, outputs: s.outputs };
}

const node = (opType: string, inputs: string[], outputs: string[], attrs: GraphNode['attrs'] = {}): GraphNode => ({
  name: `${opType}_${outputs[0]}`, opType, inputs, outputs, attrs,
});
const ints = (v: number[]): TensorData => ({ dtype: 'int64', dims: [v.length], data: BigInt64Array.from(v.map(BigInt)) });
const floats = (v: number[]): TensorData => ({ dtype: 'float32', dims: [v.length], data: Float32Array.from(v) });

/** Boxes of an H x W output: the four corners, the middle of each edge, inside, one pixel, all of it. */
function boxes(H: number, W: number, size: number): Box[] {
  const s = Math.min(size, H, W);
  const my = (H - s) >> 1;
  const mx = (W - s) >> 1;
  const at = (y: number, x: number, hh = s, ww = s): Box => ({ y0: y, y1: y + hh, x0: x, x1: x + ww });
  return [
    at(0, 0), at(0, W - s), at(H - s, 0), at(H - s, W - s),
    at(0, mx), at(H - s, mx), at(my, 0), at(my, W - s),
    at(my, mx), at(H - 1, W - 1, 1, 1), at(0, 0, H, W),
  ];
}

/**
 * The cone's output against the whole graph's on each box, in float64 (`f64`) or ONNX
 * Runtime; returns the worst error relative to the output's peak.
 */
async function coneAgainstWhole(g: Graph, boxSize: number, f64: boolean): Promise<number> {
  const [, c, h, w] = g.inputs[0]!.shape as number[];
  const rand = rng(99);
  const x = new Float32Array(c! * h! * w!).map(() => rand() + 0.5);
  const run = async (graph: Graph, data: Float32Array, dims: number[]): Promise<{ data: ArrayLike<number>; dims: number[] }> =>
    f64 ? evaluate(graph, { x: { dtype: 'float32', dims, data } }).y! : (await runOnnx(graph, { x: { dtype: 'float32', dims, data } })).y!;
  const whole = await run(g, x, [1, c!, h!, w!]);
  const [, oc, H, W] = whole.dims as [number, number, number, number];
  let peak = 0;
  for (let i = 0; i < whole.data.length; i++) peak = Math.max(peak, Math.abs(whole.data[i]!));
  let worst = 0;
  for (const box of boxes(H, W, boxSize)) {
    const cone = coneGraph(g, box);
    const b = cone.input;
    const crop = { x: b.x0, y: b.y0, w: b.x1 - b.x0, h: b.y1 - b.y0 };
    const xi = cropPlanes(x, c!, h!, w!, crop);
    const out = await run(cone.graph, xi, [1, c!, crop.h, crop.w]);
    const bh = box.y1 - box.y0;
    const bw = box.x1 - box.x0;
    expect(out.dims, `${g.name} box ${JSON.stringify(box)}`).toEqual([1, oc, bh, bw]);
    for (let ch = 0; ch < oc; ch++) {
      for (let yy = 0; yy < bh; yy++) {
        for (let xx = 0; xx < bw; xx++) {
          const d = Math.abs(out.data[(ch * bh + yy) * bw + xx]! - whole.data[(ch * H + yy + box.y0) * W + xx + box.x0]!);
          worst = Math.max(worst, d / peak);
        }
      }
    }
  }
  measured[`${g.name}${f64 ? ' f64' : ''}`] = worst;
  return worst;
}

describe('cone graphs equal the whole graph on their box', () => {
  // [title, graph, box size, float64 too (the reference evaluator has no cubic Resize)]
  const cases: [string, () => Graph, number, boolean?][] = [
    ['conv: strides, dilations, asymmetric pads, groups, SAME_UPPER', () => net('conv', 4, 13, 11, [
      node('Conv', ['x', 'w1', 'b1'], ['a'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      node('Conv', ['a', 'w2'], ['b'], { kernel_shape: [3, 5], pads: [2, 0, 1, 3], strides: [2, 1], dilations: [1, 2] }),
      node('Conv', ['b', 'w3'], ['c'], { kernel_shape: [3, 3], auto_pad: 'SAME_UPPER', group: 2 }),
      node('Conv', ['c', 'w4'], ['y'], { kernel_shape: [2, 2], pads: [0, 0, 1, 1] }),
    ], { w1: [6, 4, 3, 3], b1: [6], w2: [6, 6, 3, 5], w3: [6, 3, 3, 3], w4: [2, 6, 2, 2] }), 3],
    ['convtranspose: overlapping taps, gaps (stride above kernel), output_padding', () => net('convtranspose', 3, 7, 6, [
      node('ConvTranspose', ['x', 'w1', 'b1'], ['a'], { kernel_shape: [9, 9], strides: [4, 4], pads: [4, 4, 4, 4], output_padding: [3, 3] }),
      node('ConvTranspose', ['a', 'w2'], ['y'], { kernel_shape: [2, 1], strides: [3, 2], pads: [0, 0, 1, 0], output_padding: [1, 1] }),
    ], { w1: [3, 4, 9, 9], b1: [4], w2: [4, 2, 2, 1] }), 5],
    ['pooling and channel attention (global average pool: the whole input)', () => net('pooling', 3, 12, 10, [
      node('MaxPool', ['x'], ['a'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
      node('AveragePool', ['a'], ['b'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 0 }),
      node('AveragePool', ['b'], ['c'], { kernel_shape: [2, 3], pads: [1, 1, 0, 1], count_include_pad: 1 }),
      node('GlobalAveragePool', ['c'], ['g']),
      node('Conv', ['g', 'wg'], ['gs'], { kernel_shape: [1, 1] }),
      node('Sigmoid', ['gs'], ['s']),
      node('Mul', ['c', 's'], ['y']),
    ], { wg: [3, 3, 1, 1] }), 2],
    ['depth to space (both modes), space to depth, pad, spatial and channel slices, split', () => net('shuffle', 8, 9, 10, [
      node('DepthToSpace', ['x'], ['a'], { blocksize: 2, mode: 'CRD' }),
      node('Pad', ['a', 'pads', 'pv'], ['b'], { mode: 'constant' }),
      node('SpaceToDepth', ['b'], ['c'], { blocksize: 2 }),
      node('Slice', ['c', 'st', 'en', 'ax'], ['d']),
      node('Split', ['d', 'sp'], ['d1', 'd2'], { axis: 1 }),
      node('Add', ['d1', 'd2'], ['e']),
      node('DepthToSpace', ['e'], ['y'], { blocksize: 2, mode: 'DCR' }),
    ], {
      pads: ints([0, 0, 1, 2, 0, 0, 3, 2]), pv: floats([0.25]), st: ints([1, 0, 2]), en: ints([9, 100, -1]), ax: ints([2, 1, 3]), sp: ints([4, 4]),
    }), 4],
    ['resize: nearest asymmetric, linear half_pixel, sizes x3, nearest down', () => net('resize', 3, 7, 9, [
      node('Resize', ['x', '', 's2'], ['a'], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }),
      node('Conv', ['a', 'w1'], ['b'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      node('Resize', ['b', '', 's2'], ['c'], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }),
      node('Resize', ['c', '', '', 'sz'], ['d'], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }),
      node('Resize', ['d', '', 'sh'], ['y'], { mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: 'round_prefer_ceil' }),
    ], { s2: floats([1, 1, 2, 2]), w1: [3, 3, 3, 3], sz: ints([1, 3, 84, 72]), sh: floats([1, 1, 0.5, 0.5]) }), 6, true],
    ['resize: cubic (pixels on the grid read alone), scales and sizes', () => net('cubic', 3, 7, 9, [
      node('Resize', ['x', '', 's2'], ['a'], { mode: 'cubic', coordinate_transformation_mode: 'half_pixel', cubic_coeff_a: -0.75 }),
      node('Resize', ['a', '', '', 'sz'], ['y'], { mode: 'cubic', coordinate_transformation_mode: 'half_pixel', cubic_coeff_a: -0.5, exclude_outside: 1 }),
    ], { s2: floats([1, 1, 2, 2]), sz: ints([1, 3, 28, 54]) }), 5, false],
    ['branches of different reach: concat, residual add, PRelu, batch norm, a spatial constant', () => net('branches', 3, 11, 12, [
      node('Conv', ['x', 'w1'], ['a'], { kernel_shape: [5, 5], pads: [2, 2, 2, 2] }),
      node('PRelu', ['a', 'slope'], ['b']),
      node('Conv', ['b', 'w2'], ['c'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      node('Concat', ['a', 'c', 'x'], ['d'], { axis: 1 }),
      node('Conv', ['d', 'w3'], ['e'], { kernel_shape: [1, 1] }),
      node('BatchNormalization', ['e', 'bs', 'bb', 'bm', 'bv'], ['f'], { epsilon: 1e-5 }),
      node('Add', ['f', 'x'], ['g']),
      node('Mul', ['g', 'plane'], ['y']),
    ], {
      w1: [4, 3, 5, 5], slope: [4, 1, 1], w2: [4, 4, 3, 3], w3: [3, 11, 1, 1],
      bs: [3], bb: [3], bm: [3], bv: floats([1, 2, 3]), plane: [1, 1, 11, 12],
    }), 3],
    // A transformer's tokens: the channels last, so axes 2 and 3 of these rank-4 tensors are
    // (W, C), not the image's; a rank-1 bias broadcasts along C (HAT's qkv bias: the cone once
    // cut it as if it had rows and columns, and filled the block with NaN).
    ['tokens: channels last, a rank-1 bias, softmax over channels, a roll by slices, back to NCHW', () => net('tokens', 4, 9, 10, [
      node('Conv', ['x', 'w1'], ['a'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      node('Transpose', ['a'], ['t'], { perm: [0, 2, 3, 1] }),
      node('MatMul', ['t', 'wq'], ['q']),
      node('Add', ['bq', 'q'], ['qb']),
      node('Softmax', ['qb'], ['sm'], { axis: -1 }),
      node('Slice', ['sm', 'rs', 're', 'ra'], ['r1']),
      node('Slice', ['sm', 'rs2', 're2', 'ra'], ['r2']),
      node('Concat', ['r1', 'r2'], ['rolled'], { axis: 2 }),
      node('Mul', ['rolled', 'bq2'], ['m']),
      node('Transpose', ['m'], ['back'], { perm: [0, 3, 1, 2] }),
      node('Add', ['back', 'a'], ['s']),
      node('Conv', ['s', 'w2'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
    ], {
      w1: [4, 4, 3, 3], wq: [4, 4], bq: [4], bq2: [4], w2: [2, 4, 3, 3],
      rs: ints([2]), re: ints([10]), rs2: ints([0]), re2: ints([2]), ra: ints([2]),
    }), 3],
  ];
  for (const [title, build, size, f64 = true] of cases) {
    it(title, async () => {
      const g = build();
      // float64: the cone computes each value from the same numbers in the same order
      if (f64) expect(await coneAgainstWhole(g, size, true)).toBeLessThanOrEqual(1e-13);
      // float32 in ONNX Runtime: the order of additions may change with a tensor's size
      expect(await coneAgainstWhole(g, size, false)).toBeLessThanOrEqual(1e-5);
    });
  }

  it('narrows: each node computes only what the box needs', () => {
    const g = net('narrow', 3, 20, 20, [
      node('Conv', ['x', 'w1'], ['a'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      node('Relu', ['a'], ['b']),
      node('Conv', ['b', 'w2'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
    ], { w1: [4, 3, 3, 3], w2: [2, 4, 3, 3] });
    const cone = coneGraph(g, { y0: 5, y1: 7, x0: 0, x1: 3 });
    // two 3x3 convs: 2 pixels of reach each way, clipped at the left border
    expect(cone.input).toEqual({ y0: 3, y1: 9, x0: 0, x1: 5 });
    const convs = cone.graph.nodes.filter((n) => n.opType === 'Conv');
    // padding kept only on the left, where the box meets the image's border
    expect(convs.map((n) => n.attrs.pads)).toEqual([[0, 1, 0, 0], [0, 1, 0, 0]]);
    expect(cone.whole).toEqual([]);
  });
});

/** HR windows at the corners and edges of a W x H output (and one inside). */
function windows(W: number, H: number, s: number): Window[] {
  const at = (x: number, y: number): Window => ({ x, y, w: s, h: s });
  return [at(0, 0), at(W - s, H - s), at(W - s, 0), at(0, (H - s) >> 1), at((W - s) >> 1, H - s), at((W >> 1) - 3, (H >> 1) + 1)];
}

/**
 * The cone's float32 map against the whole image's float32 map. Both are float32 computations of
 * one float64 map, and the whole image's own is not always within 1e-5 of it: the networks are
 * piecewise linear, and where a ReLU's input lies within float32 rounding of 0 at some path
 * point, the sign it gets decides whether the unit's gradient passes. esrgan-medium/x2, window
 * (0,0,8,8): at path point 1 one ReLU input is 1.55e-6 in float64 and negative in ONNX Runtime's
 * whole-image float32, so that step's gradient is 3.2e-5 of its peak off (with the intensity
 * detector too: not the detector's square root) and the map 1.1e-4; the cone sums that unit in
 * another order and keeps its sign (3.0e-6). Against float64, the cone is as close as the whole
 * image or closer: see 'float32 against float64' below. Measured cone - whole: mostly about
 * 1e-6 of the peak, up to 1.1e-4 (that window) and 3.5e-5 (the same model, (0,14,8,8)).
 */
const FLOAT32_MAP_TOLERANCE = 5e-4;

/** LAM on the cone of each window against the whole image, 3 path steps; the worst map error. */
async function lamConeAgainstWhole(name: string, model: LoadedModel, lr: Image, size: number, count = 6): Promise<number> {
  const s = model.info.scale;
  const obj = { kind: 'window', detector: 'gradient', reduce: 'sum' } as const;
  const programs = windowPrograms(model, obj, { device: 'cpu', image: lr });
  const forward = forwardPrograms(model, { device: 'cpu' });
  let worst = 0;
  const flops: number[] = [];
  const errors: number[] = [];
  for (const window of windows(lr.width * s, lr.height * s, size).slice(0, count)) {
    const p = planLam(model, lr, { window, detector: 'gradient', reduce: 'sum', steps: 3, crop: 'auto' });
    expect(p.cone, name).toBeDefined();
    const opts: LamOptions = {
      window, path: { kind: 'progressive-blur', steps: 3, sigma: 1.2, kernel: 9 }, detector: 'gradient', batch: 1,
      warn: (m) => { throw new Error(`${name}: ${m}`); },
    };
    const whole = await computeLam(programs, lr, s, opts);
    const cone = await computeLam(programs, lr, s, { ...opts, crop: p.cone, forward });
    expect(cone.crop?.checkedMaxDiff, name).toBeLessThanOrEqual(1e-5);
    const err = relDiff(cone.map, whole.map);
    expect(err, `${name} window ${JSON.stringify(window)}`).toBeLessThanOrEqual(FLOAT32_MAP_TOLERANCE);
    // DI is 100 (1 - Gini): in its units, a hundredth
    expect(Math.abs(cone.di - whole.di), name).toBeLessThanOrEqual(1e-2);
    worst = Math.max(worst, err);
    errors.push(Number(err.toPrecision(2)));
    flops.push(Number((p.flops.cone! / p.flops.whole).toFixed(3)));
  }
  measured[name] = { errors, coneFlopsShare: flops };
  return worst;
}

/**
 * LAM's step in float64 (the reference evaluator): the input gradient and detector value of the
 * cone's gradient graph against the whole image's, for each window; the worst gradient
 * difference relative to its peak (the cone's gradient is zero outside its LR box).
 */
function f64GradientAgainstWhole(name: string, model: LoadedModel, lr: Image, wins: Window[]): number {
  const s = model.info.scale;
  const [W, H] = [lr.width * s, lr.height * s];
  const obj = { kind: 'window', detector: 'gradient', reduce: 'sum' } as const;
  const image = (data: Float32Array, dims: number[]) => ({ [model.info.inputName]: { dtype: 'float32' as const, dims, data } });
  const gw = buildGradientGraph(model.graph, { inputShape: [1, 3, lr.height, lr.width], objective: obj, wrtInput: true });
  let worst = 0;
  for (const window of wins) {
    const p = planLam(model, lr, { window, detector: 'gradient', reduce: 'sum', steps: 50, crop: 'auto' });
    const c = p.cone!;
    const o = c.output!;
    const whole = evaluate(gw.graph, { ...image(lr.data, [1, 3, lr.height, lr.width]), lvi_window: { dtype: 'float32', dims: [1, 1, H, W], data: windowMask(W, H, window) } });
    const gc = buildGradientGraph(coneFor(model, 1, lr.width, lr.height, o).graph, { inputShape: [1, 3, c.h, c.w], objective: obj, wrtInput: true });
    const cone = evaluate(gc.graph, {
      ...image(cropPlanes(lr.data, 3, lr.height, lr.width, c), [1, 3, c.h, c.w]),
      lvi_window: { dtype: 'float32', dims: [1, 1, o.h, o.w], data: windowMask(o.w, o.h, { ...window, x: window.x - o.x, y: window.y - o.y }) },
    });
    const gWhole = whole[gw.outputs.inputGrad!]!.data;
    const gCone = cone[gc.outputs.inputGrad!]!.data;
    let peak = 0;
    let diff = 0;
    for (let ch = 0; ch < 3; ch++) {
      for (let y = 0; y < lr.height; y++) {
        for (let x = 0; x < lr.width; x++) {
          const a = gWhole[(ch * lr.height + y) * lr.width + x]!;
          const inBox = x >= c.x && x < c.x + c.w && y >= c.y && y < c.y + c.h;
          const b = inBox ? gCone[(ch * c.h + y - c.y) * c.w + x - c.x]! : 0;
          peak = Math.max(peak, Math.abs(a));
          diff = Math.max(diff, Math.abs(a - b));
        }
      }
    }
    const d0 = whole[gw.outputs.objective]!.data[0]!;
    const d1 = cone[gc.outputs.objective]!.data[0]!;
    expect(Math.abs(d1 - d0), `${name} detector, window ${JSON.stringify(window)}`).toBeLessThanOrEqual(1e-12 * Math.abs(d0));
    expect(peak, name).toBeGreaterThan(0);
    worst = Math.max(worst, diff / peak);
  }
  measured[`${name} f64`] = worst;
  return worst;
}

describe('LAM\'s gradient on the cone equals the whole image\'s, in float64', () => {
  const corners = (lr: Image, s: number, size: number) => windows(lr.width * s, lr.height * s, size).slice(0, 4);

  it('on the reference CNNs (FSRCNN, CARN) and MSRResNet x2 (bilinear Resize), windows at the corners and edges', async () => {
    for (const m of ['fsrcnn_chelsea', 'carn_coffee']) {
      const model = await loadModel({ file: path.join(lamDir, m, 'model.onnx') });
      const lr = cropImage(readImage(path.join(lamDir, m, 'lr.png')), 8, 12, 20, 18);
      expect(f64GradientAgainstWhole(m, model, lr, corners(lr, 4, 16))).toBeLessThanOrEqual(1e-12);
    }
    const msr = await loadModel({ file: fixture('models', 'msrresnet-x2-clean.onnx') });
    const lr = cropImage(readImage(path.join(lamDir, 'carn_coffee', 'lr.png')), 10, 10, 20, 16);
    expect(f64GradientAgainstWhole('msrresnet-x2', msr, lr, corners(lr, 2, 12))).toBeLessThanOrEqual(1e-12);
  }, 300_000);

  it('on zoo networks of each family (RDN with nearest Resize, RRDN with pixel shuffle), at x2, x3, x4', async () => {
    const lr = cropImage(readImage(path.join(lamDir, 'carn_coffee', 'lr.png')), 20, 16, 12, 10);
    for (const id of ['esrgan-slim/x2', 'esrgan-medium/x3', 'rdn/x4', 'rrdn/x4']) {
      const model = await resolveZooModel(id);
      const s = model.info.scale;
      // a corner (the detector's neighbours clipped) and an edge
      const wins = windows(lr.width * s, lr.height * s, 8);
      expect(f64GradientAgainstWhole(id, model, lr, [wins[1]!, wins[3]!])).toBeLessThanOrEqual(1e-12);
    }
  }, 600_000);
});

/** LAM's step programs in float64 (the reference evaluator) on the whole image. */
function f64Programs(model: LoadedModel): ProgramFactory {
  return async (shape) => {
    const gg = buildGradientGraph(model.graph, { inputShape: shape, objective: { kind: 'window', detector: 'gradient', reduce: 'sum' }, wrtInput: true });
    const [b, c, h, w] = shape;
    const program: StepProgram = {
      batch: b,
      device: 'float64',
      async run(inputs, mask) {
        const outW = w * model.info.scale;
        const r = evaluate(gg.graph, {
          [model.info.inputName]: { dtype: 'float32', dims: [b, c, h, w], data: inputs },
          lvi_window: { dtype: 'float32', dims: [1, 1, mask.length / outW, outW], data: mask },
        });
        const out = r[gg.outputs.output]!;
        // Float32 results: the map's float64 sum keeps 1e-7 of relative precision, far below 1e-5.
        return {
          objective: Float32Array.from(r[gg.outputs.objective]!.data),
          grad: Float32Array.from(r[gg.outputs.inputGrad!]!.data),
          output: Float32Array.from(out.data),
          outputDims: out.dims,
        };
      },
      release: async () => {},
    };
    return program;
  };
}

describe('float32 against float64', () => {
  /**
   * The windows where the whole image's float32 map is farthest from float64 of those measured
   * (every zoo ESRGAN, 4 windows each at the corners and edges, 3 path steps; `mapError` against
   * the float64 map): esrgan-medium/x2 (0,0) whole 1.1e-4, cone 3.0e-6; (0,14) whole 3.5e-5,
   * cone 9.0e-7; (36,0) whole 5.2e-6, cone 8.1e-6; esrgan-slim/x2 (36,28) whole 8.2e-6, cone
   * 8.6e-6. Elsewhere whole and cone were both within 1.1e-5 (esrgan-thick/x2 (36,28): whole
   * 1.7e-5, cone 1.1e-5).
   */
  it('the cone\'s float32 map is within 1e-5 of the float64 map where the whole image\'s is, and never more than twice as far', async () => {
    const lr = cropImage(readImage(path.join(lamDir, 'carn_coffee', 'lr.png')), 20, 16, 22, 18);
    const cases: [string, [number, number]][] = [['esrgan-medium/x2', [0, 0]], ['esrgan-medium/x2', [0, 14]], ['esrgan-medium/x2', [36, 0]], ['esrgan-slim/x2', [36, 28]]];
    const rows: string[] = [];
    for (const [id, [x, y]] of cases) {
      const model = await resolveZooModel(id);
      const s = model.info.scale;
      const window = { x, y, w: 8, h: 8 };
      const p = planLam(model, lr, { window, detector: 'gradient', reduce: 'sum', steps: 3, crop: 'auto' });
      const opts: LamOptions = {
        window, path: { kind: 'progressive-blur', steps: 3, sigma: 1.2, kernel: 9 }, detector: 'gradient', batch: 1,
        warn: (m) => { throw new Error(`${id}: ${m}`); },
      };
      const programs = windowPrograms(model, { kind: 'window', detector: 'gradient', reduce: 'sum' }, { device: 'cpu', image: lr });
      const whole = await computeLam(programs, lr, s, opts);
      const cone = await computeLam(programs, lr, s, { ...opts, crop: p.cone, forward: forwardPrograms(model, { device: 'cpu' }) });
      const exact = await computeLam(f64Programs(model), lr, s, opts);
      const [ew, ec] = [relDiff(whole.map, exact.map), relDiff(cone.map, exact.map)];
      rows.push(`${id} (${x},${y}): whole ${ew.toExponential(1)}, cone ${ec.toExponential(1)}`);
      if (ew <= 1e-5) expect(ec, rows.at(-1)).toBeLessThanOrEqual(1e-5);
      else expect(ec, rows.at(-1)).toBeLessThanOrEqual(2 * ew);
    }
    measured['float32 against float64'] = rows;
    console.log('float32 maps against float64:', JSON.stringify(rows));
  }, 300_000);
});

describe('LAM on the cone equals LAM on the whole image', () => {
  it('on the reference networks (FSRCNN, CARN, SwinIR) and MSRResNet x2 (bilinear Resize), in ONNX Runtime', async () => {
    for (const m of ['fsrcnn_chelsea', 'carn_coffee']) {
      const model = await loadModel({ file: path.join(lamDir, m, 'model.onnx') });
      const lr = cropImage(readImage(path.join(lamDir, m, 'lr.png')), 8, 12, 28, 24);
      await lamConeAgainstWhole(m, model, lr, 16);
    }
    // SwinIR takes 64x64 only; its attention needs the whole image, the tail is cut.
    const swin = await loadModel({ file: path.join(lamDir, 'swinir_coffee', 'model.onnx') });
    await lamConeAgainstWhole('swinir_coffee', swin, readImage(path.join(lamDir, 'swinir_coffee', 'lr.png')), 16, 2);
    const msr = await loadModel({ file: fixture('models', 'msrresnet-x2-clean.onnx') });
    await lamConeAgainstWhole('msrresnet-x2', msr, cropImage(readImage(path.join(lamDir, 'carn_coffee', 'lr.png')), 10, 10, 30, 26), 16);
  }, 600_000);

  it('on every zoo model, in ONNX Runtime', async () => {
    const lr = cropImage(readImage(path.join(lamDir, 'carn_coffee', 'lr.png')), 20, 16, 22, 18);
    for (const z of ZOO) await lamConeAgainstWhole(z.id, await resolveZooModel(z.id), lr, 8, 4);
    console.log('cone against whole:', JSON.stringify(measured));
  }, 900_000);
});
