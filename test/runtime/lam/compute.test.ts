// The LAM machinery (path, batching, accumulation, NaN handling, crops, completeness) on small
// networks written out in JavaScript with exact gradients, so every expected number is known.

import { describe, expect, it } from 'vitest';
import {
  checkWindow,
  computeLam,
  CropMismatch,
  stepBatch,
  windowMask,
  zeroMagnitudes,
  type LamOptions,
  type ProgramFactory,
} from '../../../src/runtime/methods/lam/compute.js';

/**
 * F = nearest-neighbour x2 upscaling times `gain` (+ the image mean when `global`), D = the
 * intensity detector: D(F(x)) = sum(mask * F(x)), linear in x, so its gradient is exact and
 * integrated gradients are complete on every path.
 */
function nearestNet(opts: { gain?: number; global?: boolean; nanAt?: number } = {}): ProgramFactory & { calls: number[] } {
  const gain = opts.gain ?? 1;
  const calls: number[] = [];
  const factory = async ([batch, c, h, w]: [number, number, number, number]) => ({
    batch,
    device: 'js',
    async run(inputs: Float32Array, mask: Float32Array) {
      calls.push(batch);
      const H = 2 * h;
      const W = 2 * w;
      const n = c * h * w;
      const objective = new Float32Array(batch);
      const grad = new Float32Array(batch * n);
      const output = new Float32Array(batch * c * H * W);
      let maskSum = 0;
      for (const m of mask) maskSum += m;
      for (let b = 0; b < batch; b++) {
        let mean = 0;
        if (opts.global) for (let i = 0; i < n; i++) mean += inputs[b * n + i] / n;
        let obj = 0;
        for (let ch = 0; ch < c; ch++) {
          for (let Y = 0; Y < H; Y++) {
            for (let X = 0; X < W; X++) {
              const src = b * n + ch * h * w + (Y >> 1) * w + (X >> 1);
              const v = gain * inputs[src] + mean;
              output[b * c * H * W + ch * H * W + Y * W + X] = v;
              const m = mask[Y * W + X];
              obj += m * v;
              grad[src] += gain * m;
            }
          }
        }
        if (opts.global) for (let i = 0; i < n; i++) grad[b * n + i] += (c * maskSum) / n;
        if (opts.nanAt !== undefined) grad[b * n + opts.nanAt] = NaN;
        objective[b] = obj;
      }
      return { objective, grad, output, outputDims: [batch, c, H, W] };
    },
    async release() {},
  });
  return Object.assign(factory, { calls });
}

const h = 10;
const w = 12;
const lr = { width: w, height: h, data: Float32Array.from({ length: 3 * h * w }, (_, i) => ((i * 53) % 97) / 96) };
const base: LamOptions = {
  window: { x: 6, y: 4, w: 6, h: 5 },
  path: { kind: 'progressive-blur', steps: 10, sigma: 1.2, kernel: 9 },
  detector: 'intensity',
  batch: 1,
};

describe('computeLam on an exactly differentiable network', () => {
  it('is complete: sum of A equals D(F(x_K)) - D(F(x_0)) on every path', async () => {
    for (const kind of ['progressive-blur', 'linear', 'blur-linear'] as const) {
      const r = await computeLam(nearestNet({ gain: 0.7 }), lr, 2, { ...base, path: { ...base.path, kind } });
      const { sum_attribution, d_input, d_baseline } = r.completeness;
      // float32 network values; relative 1e-5 of the objective
      expect(Math.abs(sum_attribution - (d_input - d_baseline))).toBeLessThan(1e-5 * Math.abs(d_input));
      expect(r.steps).toBe(10);
      expect(r.map).toHaveLength(h * w);
      expect(r.sr).toHaveLength(3 * 4 * h * w);
    }
  });

  it('gives A = grad * (x_K - x_0) for a linear network, zero outside the window\'s support', async () => {
    const r = await computeLam(nearestNet(), lr, 2, { ...base, path: { ...base.path, kind: 'linear' } });
    // window covers HR columns 6..11, rows 4..8 -> LR columns 3..5, rows 2..4; each LR pixel
    // holds as many window pixels as its 2x2 block shares with the window.
    const counts = (y: number, x: number) => {
      let n = 0;
      for (const Y of [2 * y, 2 * y + 1]) for (const X of [2 * x, 2 * x + 1]) if (Y >= 4 && Y < 9 && X >= 6 && X < 12) n++;
      return n;
    };
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = c * h * w + y * w + x;
          expect(r.attribution[i]).toBeCloseTo(counts(y, x) * lr.data[i], 5);
        }
      }
    }
  });

  it('batches path steps (padding the last run) without changing the result', async () => {
    const one = await computeLam(nearestNet(), lr, 2, base);
    const net = nearestNet();
    const four = await computeLam(net, lr, 2, { ...base, batch: 4 });
    // 10 steps + the baseline = 11 points -> 3 runs of 4
    expect(net.calls).toEqual([4, 4, 4]);
    expect(Array.from(four.attribution)).toEqual(Array.from(one.attribution));
    expect(four.di).toBe(one.di);
    expect(four.completeness).toEqual(one.completeness);
  });

  it('zeroes NaN gradient entries and counts the steps, as the authors do', async () => {
    const r = await computeLam(nearestNet({ nanAt: 0 }), lr, 2, { ...base, window: { x: 0, y: 0, w: 4, h: 4 } });
    expect(r.nanSteps).toBe(10);
    expect(r.nanEntries).toBe(10);
    expect(r.attribution[0]).toBe(0);
    expect(r.attribution[1]).not.toBe(0);
  });

  it('counts the steps the authors\' sqrt-then-crop detector would have made NaN', async () => {
    // nearest-neighbour upscaling repeats pixels: zero gradient magnitudes in every step
    const r = await computeLam(nearestNet(), lr, 2, { ...base, detector: 'gradient' });
    expect(r.nanStepsAuthors).toBe(10);
    expect(r.nanStepsAuthorsScope).toBe('image');
    const flat = new Float32Array([1, 1, 2, 1, 1, 2, 3, 3, 3]);
    // grid (2x2) of a 3x3 image: only (0,0) has equal right and lower neighbours
    expect(zeroMagnitudes(flat, 0, 1, 3, 3)).toBe(1);
  });

  it('runs on an LR crop when the crop reproduces the full image, and refuses when it does not', async () => {
    const full = await computeLam(nearestNet(), lr, 2, base);
    const crop = { x: 2, y: 1, w: 5, h: 6 }; // holds LR columns 3..5, rows 2..4 and the blur's reach is outside anyway
    const cropped = await computeLam(nearestNet(), lr, 2, { ...base, crop });
    expect(cropped.crop).toEqual({ ...crop, checkedMaxDiff: 0 });
    expect(cropped.nanStepsAuthorsScope).toBe('crop');
    for (let i = 0; i < full.attribution.length; i++) expect(cropped.attribution[i]).toBeCloseTo(full.attribution[i], 6);
    expect(Array.from(cropped.sr)).toEqual(Array.from(full.sr));
    // the image mean reaches every pixel: a crop changes the gradient and must be refused
    await expect(computeLam(nearestNet({ global: true }), lr, 2, { ...base, crop })).rejects.toThrow(CropMismatch);
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('user pressed Ctrl+C'));
    await expect(computeLam(nearestNet(), lr, 2, { ...base, signal: ac.signal })).rejects.toThrow('user pressed Ctrl+C');
  });

  it('checks the output size and the window against it', async () => {
    await expect(computeLam(nearestNet(), lr, 3, base)).rejects.toThrow(/output is 1x3x20x24, expected 1x3x30x36/);
    await expect(computeLam(nearestNet(), lr, 2, { ...base, window: { x: 20, y: 0, w: 6, h: 6 } })).rejects.toThrow(
      'window (20,0,6,6) lies outside the 24x20 output image: for a 6x6 window x must be in 0..18 and y in 0..14 (HR pixels)',
    );
  });
});

describe('helpers', () => {
  it('stepBatch wastes the fewest padded slots', () => {
    expect(stepBatch(51, 8)).toBe(4); // 13 x 4 = 52 slots
    expect(stepBatch(50, 8)).toBe(5); // 10 x 5 = 50
    expect(stepBatch(64, 8)).toBe(8);
    expect(stepBatch(3, 8)).toBe(3);
    expect(stepBatch(10, 1)).toBe(1);
  });

  it('windowMask and checkWindow', () => {
    const m = windowMask(4, 3, { x: 1, y: 1, w: 2, h: 2 });
    expect(Array.from(m)).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0]);
    expect(() => checkWindow({ x: 0, y: 0, w: 300, h: 4 }, 256, 256)).toThrow('window (0,0,300,4) is larger than the 256x256 output image');
    expect(() => checkWindow({ x: -1, y: 0, w: 16, h: 16 }, 256, 256)).toThrow(/x must be in 0\.\.240 and y in 0\.\.240/);
    expect(() => checkWindow({ x: 1.5, y: 0, w: 16, h: 16 }, 256, 256)).toThrow(/x=1.5 must be a whole number/);
    expect(() => checkWindow({ x: 240, y: 240, w: 16, h: 16 }, 256, 256)).not.toThrow();
  });
});
