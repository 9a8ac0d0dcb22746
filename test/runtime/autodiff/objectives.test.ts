// The objectives appended by buildGradientGraph (window detector, sse, feature), checked against
// direct JavaScript computations of their definitions, plus the builder's error paths.

import { describe, expect, it } from 'vitest';
import type { Graph, TensorData } from '../../../src/runtime/graph/ir.js';
import type { GradientRequest, Objective } from '../../../src/runtime/api.js';
import { buildGradientGraph, GradientRuleError, INPUT_GRAD } from '../../../src/runtime/autodiff/index.js';
import { evaluate } from '../../../src/runtime/reference/index.js';
import { finiteDifference, floats, maxAbs, probes, randTensor, rng, runOrt } from './helpers.js';

/** A small upscaling net: Conv 3->12 (3x3) -> Relu -> DepthToSpace x2 (CRD) -> 3 channels. */
function tinySr(r: () => number): Graph {
  return {
    name: 'tiny-sr', opset: 13,
    nodes: [
      { name: 'conv', opType: 'Conv', inputs: ['lr', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { name: 'relu', opType: 'Relu', inputs: ['c'], outputs: ['a'], attrs: {} },
      { name: 'shuffle', opType: 'DepthToSpace', inputs: ['a'], outputs: ['sr'], attrs: { blocksize: 2, mode: 'CRD' } },
    ],
    inputs: [{ name: 'lr', dtype: 'float32', shape: [1, 3, 'H', 'W'] }],
    outputs: [{ name: 'sr', dtype: 'float32', shape: [1, 3, 'H2', 'W2'] }],
    initializers: new Map([['w', randTensor([12, 3, 3, 3], r, -0.5, 0.5)], ['b', randTensor([12], r, 0, 0.2)]]),
  };
}

/** Nearest x2 upsampling only: its output has many exact-zero gradient magnitudes. */
function nearestUp(): Graph {
  return {
    name: 'nearest', opset: 13,
    nodes: [{ name: 'up', opType: 'Resize', inputs: ['lr', '', 'sc'], outputs: ['sr'], attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } }],
    inputs: [{ name: 'lr', dtype: 'float32', shape: [1, 3, 'H', 'W'] }],
    outputs: [{ name: 'sr', dtype: 'float32', shape: [1, 3, 'H2', 'W2'] }],
    initializers: new Map([['sc', floats([1, 1, 2, 2])]]),
  };
}

function windowMask(h: number, w: number, win: [number, number, number, number]): TensorData {
  const [x0, y0, ww, wh] = win;
  const data = new Float32Array(h * w);
  for (let y = y0; y < Math.min(h, y0 + wh); y++) for (let x = x0; x < Math.min(w, x0 + ww); x++) data[y * w + x] = 1;
  return { dtype: 'float32', dims: [1, 1, h, w], data };
}

/** LAM's detector written out directly: per channel, on the (H-1)x(W-1) grid, inside the window. */
function detector(s: ArrayLike<number>, [n, c, h, w]: number[], win: [number, number, number, number]): number[] {
  const [x0, y0, ww, wh] = win;
  const out: number[] = [];
  for (let b = 0; b < n!; b++) {
    let acc = 0;
    for (let ch = 0; ch < c!; ch++) {
      const at = (y: number, x: number) => s[((b * c! + ch) * h! + y) * w! + x]!;
      for (let y = y0; y < Math.min(y0 + wh, h! - 1); y++) {
        for (let x = x0; x < Math.min(x0 + ww, w! - 1); x++) {
          acc += Math.hypot(at(y, x) - at(y + 1, x), at(y, x) - at(y, x + 1));
        }
      }
    }
    out.push(acc);
  }
  return out;
}

describe('window objective', () => {
  const win: [number, number, number, number] = [3, 5, 6, 4];

  it('gradient detector: value matches the definition, input gradient matches finite differences', async () => {
    const r = rng(1);
    const net = tinySr(r);
    const shape: GradientRequest['inputShape'] = [2, 3, 6, 7];
    const gg = buildGradientGraph(net, { inputShape: shape, objective: { kind: 'window', detector: 'gradient', reduce: 'sum' }, wrtInput: true });
    const lr = randTensor(shape, r, 0, 1);
    const mask = windowMask(12, 14, win);
    const feeds = { lr, lvi_window: mask };
    const f64 = evaluate(gg.graph, feeds);
    const direct = detector(f64.sr!.data, [2, 3, 12, 14], win);
    direct.forEach((v, i) => expect(f64.lvi_objective!.data[i]).toBeCloseTo(v, 10));
    expect(f64.lvi_objective!.dims).toEqual([2]);

    const grad = f64[INPUT_GRAD]!;
    const scale = maxAbs(grad.data);
    expect(scale).toBeGreaterThan(0);
    for (const i of probes(grad.data.length, 30, r)) {
      const fd = finiteDifference(gg.graph, feeds, 'lr', i, 'lvi_objective', 1e-6);
      expect(Math.abs(grad.data[i]! - fd)).toBeLessThanOrEqual(1e-6 * Math.max(1, scale));
    }
    // Batch elements are independent: element 1's gradient does not see element 0's window values.
    const ort = await runOrt(gg.graph, feeds);
    ort.lvi_objective!.forEach((v, i) => expect(v).toBeCloseTo(direct[i]!, 3));
    ort[INPUT_GRAD]!.forEach((v, i) => expect(Math.abs(v - grad.data[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, scale)));
  });

  it('no NaN where the gradient magnitude is exactly zero; sqrt gradient taken as 0 there', async () => {
    // Nearest upsampling makes g = 0 inside every 2x2 block; the authors' formulation gives NaN here.
    const shape: GradientRequest['inputShape'] = [1, 3, 5, 6];
    const gg = buildGradientGraph(nearestUp(), { inputShape: shape, objective: { kind: 'window', detector: 'gradient', reduce: 'sum' }, wrtInput: true });
    const lr = randTensor(shape, rng(2), 0, 1);
    const mask = windowMask(10, 12, [1, 1, 8, 8]);
    const out = await runOrt(gg.graph, { lr, lvi_window: mask });
    const g = out[INPUT_GRAD]!;
    expect(g.every((v) => Number.isFinite(v))).toBe(true);
    // Reference: dD/dS by hand (0 where the magnitude is 0), then the adjoint of nearest x2 (block sums).
    const [h, w] = [10, 12];
    const s = out.sr!;
    const dS = new Float64Array(3 * h * w);
    for (let c = 0; c < 3; c++) {
      const at = (y: number, x: number) => (c * h + y) * w + x;
      for (let y = 0; y < h - 1; y++) {
        for (let x = 0; x < w - 1; x++) {
          if (!mask.data[y * w + x]) continue;
          const dx = s[at(y, x)]! - s[at(y + 1, x)]!;
          const dy = s[at(y, x)]! - s[at(y, x + 1)]!;
          const m = Math.hypot(dx, dy);
          if (m === 0) continue;
          dS[at(y, x)]! += (dx + dy) / m;
          dS[at(y + 1, x)]! -= dx / m;
          dS[at(y, x + 1)]! -= dy / m;
        }
      }
    }
    let zeros = 0;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 5; y++) {
        for (let x = 0; x < 6; x++) {
          let ref = 0;
          for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) ref += dS[(c * h + 2 * y + i) * w + 2 * x + j]!;
          expect(g[(c * 5 + y) * 6 + x]).toBeCloseTo(ref, 5);
          if (ref === 0) zeros++;
        }
      }
    }
    expect(zeros).toBeLessThan(90); // the check is not vacuous
  });

  it('intensity detector and mean reduction', () => {
    const r = rng(3);
    const shape: GradientRequest['inputShape'] = [1, 3, 4, 5];
    const objective: Objective = { kind: 'window', detector: 'intensity', reduce: 'mean' };
    const gg = buildGradientGraph(tinySr(r), { inputShape: shape, objective, wrtInput: true });
    const lr = randTensor(shape, r, 0, 1);
    const mask = windowMask(8, 10, [2, 1, 5, 3]);
    const f64 = evaluate(gg.graph, { lr, lvi_window: mask });
    let sum = 0;
    for (let c = 0; c < 3; c++) for (let i = 0; i < 80; i++) sum += f64.sr!.data[c * 80 + i]! * (mask.data[i] as number);
    expect(f64.lvi_objective!.data[0]).toBeCloseTo(sum / 15, 12);
    const grad = f64[INPUT_GRAD]!;
    for (const i of probes(grad.data.length, 20, r)) {
      const fd = finiteDifference(gg.graph, { lr, lvi_window: mask }, 'lr', i, 'lvi_objective', 1e-6);
      expect(grad.data[i]).toBeCloseTo(fd, 7);
    }
  });
});

describe('sse and feature objectives', () => {
  it('sse: value is the sum of squared errors; weight gradients match finite differences', () => {
    const r = rng(4);
    const net = tinySr(r);
    const shape: GradientRequest['inputShape'] = [2, 3, 4, 4];
    const gg = buildGradientGraph(net, { inputShape: shape, objective: { kind: 'sse' }, wrtInput: false, wrtWeights: ['w', 'b'] });
    expect(gg.outputs.inputGrad).toBeUndefined();
    expect(gg.graph.inputs.map((i) => i.name).sort()).toEqual(['b', 'lr', 'lvi_target', 'w']);
    const feeds = { lr: randTensor(shape, r, 0, 1), lvi_target: randTensor([2, 3, 8, 8], r, 0, 1), w: net.initializers.get('w')!, b: net.initializers.get('b')! };
    const f64 = evaluate(gg.graph, feeds);
    for (let n = 0; n < 2; n++) {
      let sse = 0;
      for (let i = 0; i < 192; i++) sse += (f64.sr!.data[n * 192 + i]! - (feeds.lvi_target.data[n * 192 + i] as number)) ** 2;
      expect(f64.lvi_objective!.data[n]).toBeCloseTo(sse, 10);
    }
    for (const w of ['w', 'b']) {
      const grad = f64[gg.outputs.weightGrads[w]!]!;
      for (const i of probes(grad.data.length, 20, r)) {
        const fd = finiteDifference(gg.graph, feeds, w, i, 'lvi_objective', 1e-6);
        expect(Math.abs(grad.data[i]! - fd)).toBeLessThanOrEqual(1e-6 * Math.max(1, maxAbs(grad.data)));
      }
    }
  });

  it("weightsAs 'constants': weights stay initializers; gradients match finite differences and the input-weight graph", async () => {
    for (const batch of [1, 2]) {
      const r = rng(40 + batch);
      const net = tinySr(r);
      const shape: GradientRequest['inputShape'] = [batch, 3, 5, 4];
      const request: GradientRequest = { inputShape: shape, objective: { kind: 'sse' }, wrtInput: true, wrtWeights: ['w', 'b'] };
      const gc = buildGradientGraph(net, { ...request, weightsAs: 'constants' });
      expect(gc.graph.inputs.map((i) => i.name).sort()).toEqual(['lr', 'lvi_target']);
      // The CRD pixel shuffle still becomes DCR: the weights are permuted by nodes, not replaced.
      expect(gc.graph.nodes.find((n) => n.opType === 'DepthToSpace')!.attrs.mode).toBe('DCR');
      expect(gc.graph.initializers.has('w') && gc.graph.initializers.has('b')).toBe(true);
      const feeds = { lr: randTensor(shape, r, 0, 1), lvi_target: randTensor([batch, 3, 10, 8], r, 0, 1) };
      const f64 = evaluate(gc.graph, feeds);
      const sr = evaluate(net, { lr: feeds.lr }).sr!.data;
      f64.sr!.data.forEach((v, i) => expect(Math.abs(v - sr[i]!)).toBeLessThanOrEqual(1e-12));
      for (const w of ['w', 'b']) {
        const grad = f64[gc.outputs.weightGrads[w]!]!;
        expect(grad.dims).toEqual(net.initializers.get(w)!.dims);
        const scale = Math.max(1, maxAbs(grad.data));
        for (const i of probes(grad.data.length, 20, r)) {
          const fd = finiteDifference(gc.graph, feeds, w, i, 'lvi_objective', 1e-6);
          expect(Math.abs(grad.data[i]! - fd), `${w}[${i}] batch ${batch}`).toBeLessThanOrEqual(1e-6 * scale);
        }
      }
      // ONNX Runtime (float32) on both forms against the float64 gradients.
      const gi = buildGradientGraph(net, request);
      const withWeights = { ...feeds, w: net.initializers.get('w')!, b: net.initializers.get('b')! };
      const [oc, oi] = [await runOrt(gc.graph, feeds), await runOrt(gi.graph, withWeights)];
      for (const name of [gc.outputs.weightGrads.w!, gc.outputs.weightGrads.b!, gc.outputs.inputGrad!]) {
        const ref = f64[name]!.data;
        const scale = Math.max(1, maxAbs(ref));
        for (const got of [oc[name]!, oi[name]!]) got.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThanOrEqual(2e-4 * scale));
      }
    }
  });

  it('feature objective by node name or value name, sum or mean', () => {
    const r = rng(5);
    const net = tinySr(r);
    const shape: GradientRequest['inputShape'] = [1, 3, 4, 4];
    const lr = randTensor(shape, r, 0, 1);
    const byNode = evaluate(buildGradientGraph(net, { inputShape: shape, objective: { kind: 'feature', node: 'relu', reduce: 'sum' }, wrtInput: true }).graph, { lr });
    const byValue = evaluate(buildGradientGraph(net, { inputShape: shape, objective: { kind: 'feature', node: 'a', reduce: 'mean' }, wrtInput: true }).graph, { lr });
    const a = evaluate(net, { lr }, ['a']).a!;
    const sum = a.data.reduce((p, v) => p + v, 0);
    expect(byNode.lvi_objective!.data[0]).toBeCloseTo(sum, 10);
    expect(byValue.lvi_objective!.data[0]).toBeCloseTo(sum / a.data.length, 12);
    expect(() => buildGradientGraph(net, { inputShape: shape, objective: { kind: 'feature', node: 'nope', reduce: 'sum' }, wrtInput: true }))
      .toThrow(/no node or value named 'nope'/);
  });
});

describe('builder errors and non-differentiable paths', () => {
  const base = (nodes: Graph['nodes'], inits: [string, TensorData][] = []): Graph => ({
    name: 'g', opset: 13, nodes,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 3, 3] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2, 3, 3] }],
    initializers: new Map(inits),
  });
  const request: GradientRequest = { inputShape: [1, 2, 3, 3], objective: { kind: 'feature', node: 'y', reduce: 'sum' }, wrtInput: true };

  it('an operator without a rule is an error naming the operator and the node', () => {
    const g = base([{ name: 'mystery_node', opType: 'HardSwish', inputs: ['x'], outputs: ['y'], attrs: {} }]);
    // Shape inference does not know HardSwish either; give it the shape as specialised graphs do.
    g.valueInfo = new Map([['y', { name: 'y', dtype: 'float32', shape: [1, 2, 3, 3] }]]);
    let err: unknown;
    try {
      buildGradientGraph(g, request);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GradientRuleError);
    expect((err as Error).message).toMatch(/HardSwish/);
    expect((err as Error).message).toMatch(/mystery_node/);
  });

  it('unknown or integer wrtWeights are errors', () => {
    const g = base([{ name: 'n', opType: 'Relu', inputs: ['x'], outputs: ['y'], attrs: {} }]);
    expect(() => buildGradientGraph(g, { ...request, wrtWeights: ['missing'] })).toThrow(/'missing' is not an initializer/);
  });

  it('integer and boolean paths carry no gradient and need no rule', () => {
    // y = x * float(x > 0): the comparison path is skipped, so dy/dx = float(x > 0).
    const g = base([
      { name: 'cmp', opType: 'Greater', inputs: ['x', 'zero'], outputs: ['m'], attrs: {} },
      { name: 'cast', opType: 'Cast', inputs: ['m'], outputs: ['mf'], attrs: { to: 1 } },
      { name: 'mul', opType: 'Mul', inputs: ['x', 'mf'], outputs: ['y'], attrs: {} },
    ], [['zero', floats([0], [])]]);
    const gg = buildGradientGraph(g, request);
    const x = randTensor([1, 2, 3, 3], rng(6), -1, 1);
    const out = evaluate(gg.graph, { x });
    out[INPUT_GRAD]!.data.forEach((v, i) => expect(v).toBe(x.data[i]! > 0 ? 1 : 0));
  });
});
