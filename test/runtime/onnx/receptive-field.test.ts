// The receptive field against perturbation in ONNX Runtime: bump a few input pixels, see which
// output pixels move, and count, from the input pixel each moved output pixel lies in
// (floor(o / scale)), how far before and after it the bumped pixel was. The farthest on each
// side, per axis, is what receptiveReach must give exactly (reference CARN and FSRCNN, and
// small linear nets through every resampling rule); for align_corners resizing it is a bound.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, receptiveField, receptiveReach, specialiseModel, type ReceptiveReach } from '../../../src/runtime/models/index.js';
import { encodeModel, specialise } from '../../../src/runtime/onnx/index.js';
import type { Graph, GraphNode, TensorData } from '../../../src/runtime/graph/ir.js';
import { randArray, rng } from '../../helpers/tensors.js';
import { referenceDir, runOrt } from './helpers.js';

/**
 * Measured reach of a graph on an NxN input: bump pixels (c+k, c+k) for k = 0..phases-1 (one
 * batch item each), then the farthest before and after per axis over all moved output pixels.
 */
async function measured(g: Graph, n: number, scale: number, phases: number, bump = 1): Promise<ReceptiveReach> {
  const input = g.inputs[0];
  const plane = n * n;
  const base = randArray(3 * plane, rng(11));
  const batch = new Float32Array((phases + 1) * base.length);
  const c = n >> 1;
  for (let k = 0; k <= phases; k++) {
    batch.set(base, k * base.length);
    if (k > 0) for (let ch = 0; ch < 3; ch++) batch[k * base.length + ch * plane + (c + k - 1) * n + (c + k - 1)] += bump;
  }
  const run = specialise(g, { [input.name]: [phases + 1, 3, n, n] });
  const [, ch, H, W] = run.outputs[0].shape as number[];
  const feeds: Record<string, TensorData> = { [input.name]: { dtype: 'float32', dims: [phases + 1, 3, n, n], data: batch } };
  const y = Object.values(await runOrt(encodeModel(run), feeds))[0];
  const per = ch * H * W;
  const span: ReceptiveReach = { before: [-Infinity, -Infinity], after: [-Infinity, -Infinity] };
  for (let k = 1; k <= phases; k++) {
    const p = c + k - 1;
    for (let i = 0; i < per; i++) {
      if (y[k * per + i] === y[i]) continue;
      const home = [Math.floor(Math.floor(i / W) % H / scale), Math.floor((i % W) / scale)];
      for (const a of [0, 1]) {
        span.before[a] = Math.max(span.before[a], home[a] - p);
        span.after[a] = Math.max(span.after[a], p - home[a]);
      }
    }
  }
  return span;
}

/** A linear net (no activations: nothing hides a dependency) from a list of layers. */
function net(layers: Omit<GraphNode, 'name' | 'inputs' | 'outputs'>[], opset = 13, extra: (i: number) => string[] = () => []): Graph {
  const r = rng(3);
  const initializers = new Map<string, TensorData>();
  const nodes: GraphNode[] = [];
  let x = 'x';
  let channels = 3;
  layers.forEach((l, i) => {
    const inputs = [x];
    if (l.opType === 'Conv' || l.opType === 'ConvTranspose') {
      const [kh, kw] = l.attrs.kernel_shape as number[];
      const dims = l.opType === 'Conv' ? [4, channels, kh, kw] : [channels, 4, kh, kw];
      const size = dims.reduce((p, q) => p * q, 1);
      initializers.set(`w${i}`, { dtype: 'float32', dims, data: randArray(size, r, -0.4, 0.4) });
      inputs.push(`w${i}`);
      channels = 4;
    }
    if (l.opType === 'SpaceToDepth') channels *= (l.attrs.blocksize as number) ** 2;
    if (l.opType === 'DepthToSpace') channels /= (l.attrs.blocksize as number) ** 2;
    for (const name of extra(i)) inputs.push(name);
    nodes.push({ ...l, name: `n${i}`, inputs, outputs: [`t${i}`] });
    x = `t${i}`;
  });
  const constants = new Map<string, TensorData>([
    ['roi', { dtype: 'float32', dims: [0], data: new Float32Array(0) }],
  ]);
  for (const [k, v] of constants) initializers.set(k, v);
  return {
    name: 'rf', opset, nodes, initializers,
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3, 'H', 'W'] }],
    outputs: [{ name: x, dtype: 'float32', shape: ['N', channels, 'Ho', 'Wo'] }],
  };
}

const conv = (k: number, attrs: GraphNode['attrs'] = {}) => ({ opType: 'Conv', attrs: { kernel_shape: [k, k], pads: [k >> 1, k >> 1, k >> 1, k >> 1], ...attrs } });
const f32 = (...v: number[]): TensorData => ({ dtype: 'float32', dims: [v.length], data: Float32Array.from(v) });
const i64 = (...v: number[]): TensorData => ({ dtype: 'int64', dims: [v.length], data: BigInt64Array.from(v.map(BigInt)) });

/** conv3 -> Resize by `scale` -> conv3. */
function resizeNet(scale: number, attrs: GraphNode['attrs']): Graph {
  const g = net([conv(3), { opType: 'Resize', attrs }, conv(3)], 13, (i) => (i === 1 ? ['roi', 'scales'] : []));
  g.initializers.set('scales', f32(1, 1, scale, scale));
  return g;
}

describe('receptiveField equals the perturbation-measured field', () => {
  it('reference CARN (43) and FSRCNN with its ConvTranspose (15)', async () => {
    for (const [name, expected] of [['carn_coffee', 43], ['fsrcnn_chelsea', 15]] as const) {
      const m = await loadModel({ file: path.join(referenceDir, name, 'model.onnx') });
      expect(m.info.receptiveField).toBe(expected);
      // The field plus a margin on each side: no border effect reaches the bumped pixel.
      const n = expected + 12;
      const half = (expected - 1) / 2;
      expect(receptiveReach(specialiseModel(m, [1, 3, n, n]))).toEqual({ before: [half, half], after: [half, half] });
      expect(await measured(m.graph, n, 4, 1)).toEqual({ before: [half, half], after: [half, half] });
    }
  });

  const resizes: [string, number, GraphNode['attrs']][] = [
    ['nearest asymmetric floor x2', 2, { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }],
    ['nearest half_pixel round_prefer_floor x3', 3, { mode: 'nearest' }],
    ['nearest asymmetric round_prefer_floor x2 (ties)', 2, { mode: 'nearest', coordinate_transformation_mode: 'asymmetric' }],
    ['nearest asymmetric round_prefer_ceil x2 (ties)', 2, { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'round_prefer_ceil' }],
    ['nearest tf_half_pixel_for_nn ceil x4', 4, { mode: 'nearest', coordinate_transformation_mode: 'tf_half_pixel_for_nn', nearest_mode: 'ceil' }],
    ['nearest half_pixel round_prefer_ceil x2', 2, { mode: 'nearest', nearest_mode: 'round_prefer_ceil' }],
    ['linear half_pixel x2', 2, { mode: 'linear' }],
    ['linear asymmetric x3', 3, { mode: 'linear', coordinate_transformation_mode: 'asymmetric' }],
    ['cubic half_pixel x4', 4, { mode: 'cubic' }],
    ['cubic asymmetric x2', 2, { mode: 'cubic', coordinate_transformation_mode: 'asymmetric' }],
    ['linear pytorch_half_pixel x0.5', 0.5, { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }],
  ];
  for (const [what, scale, attrs] of resizes) {
    it(`Resize ${what}`, async () => {
      const g = resizeNet(scale, attrs);
      expect(receptiveReach(specialise(g, { x: [1, 3, 24, 24] }))).toEqual(await measured(g, 24, scale, 2));
    });
  }

  it('Resize linear align_corners x2: a bound within 2 pixels', async () => {
    const g = resizeNet(2, { mode: 'linear', coordinate_transformation_mode: 'align_corners' });
    const theory = receptiveReach(specialise(g, { x: [1, 3, 24, 24] }))!;
    const seen = await measured(g, 24, 2, 2);
    for (const side of ['before', 'after'] as const) {
      for (const a of [0, 1]) {
        expect(theory[side][a]).toBeGreaterThanOrEqual(seen[side][a]);
        expect(theory[side][a] - seen[side][a]).toBeLessThanOrEqual(1);
      }
    }
  });

  it('SpaceToDepth, ConvTranspose with holes, DepthToSpace, Pad, Slice, dilation', async () => {
    // x2 down, x4 up (a 3-tap kernel at stride 4 leaves one output phase to the bias), x2 up,
    // then a lopsided Pad and a crop that move the output grid against the input.
    const g = net(
      [
        { opType: 'SpaceToDepth', attrs: { blocksize: 2 } },
        conv(3),
        { opType: 'ConvTranspose', attrs: { kernel_shape: [3, 3], strides: [4, 4], pads: [1, 1, 0, 0] } },
        { opType: 'DepthToSpace', attrs: { blocksize: 2, mode: 'CRD' } },
        { opType: 'Pad', attrs: {} },
        { opType: 'Slice', attrs: {} },
        conv(3, { dilations: [2, 2], pads: [2, 2, 2, 2] }),
      ],
      13,
      (i) => (i === 4 ? ['pads'] : i === 5 ? ['starts', 'ends', 'axes'] : []),
    );
    g.initializers.set('pads', i64(0, 0, 3, 1, 0, 0, 0, 2));
    g.initializers.set('starts', i64(1, 2));
    g.initializers.set('ends', i64(1000, 1000));
    g.initializers.set('axes', i64(2, 3));
    expect(receptiveReach(specialise(g, { x: [1, 3, 24, 24] }))).toEqual(await measured(g, 24, 4, 4));
  });

  it('MaxPool at stride 2, an even SAME_LOWER kernel, Upsample (opset 9)', async () => {
    const g = net(
      [
        { opType: 'MaxPool', attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
        { opType: 'Conv', attrs: { kernel_shape: [4, 4], auto_pad: 'SAME_LOWER' } },
        { opType: 'Upsample', attrs: { mode: 'nearest' } },
        conv(3),
      ],
      9,
      (i) => (i === 2 ? ['scales'] : []),
    );
    g.initializers.set('scales', f32(1, 1, 4, 4));
    // A large bump wins every max-pool window it is in.
    expect(receptiveReach(specialise(g, { x: [1, 3, 24, 24] }))).toEqual(await measured(g, 24, 2, 2, 10));
  });
});
