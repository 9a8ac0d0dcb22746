// The LAM machinery (path, batching, accumulation, NaN handling, crops, completeness) on small
// networks written out in JavaScript with exact gradients, so every expected number is known.

import { describe, expect, it } from 'vitest';
import {
  autoBatch,
  checkWindow,
  PROBE_MIN_REMAINING_MS,
  PROBE_WARMUP_RUNS,
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
 * integrated gradients are complete on every path. Each batch element is computed alone, so any
 * batch gives bit-identical values. `delayMs` slows a run (to steer batch=auto's probe),
 * `maxBatch` refuses larger programs as a pinned batch axis would, `mixBatch` lets batch
 * elements leak into each other's gradients.
 */
function nearestNet(
  opts: { gain?: number; global?: boolean; nanAt?: number; maxBatch?: number; delayMs?: (batch: number) => number; mixBatch?: boolean } = {},
): ProgramFactory & { calls: number[]; built: number[]; released: number[] } {
  const gain = opts.gain ?? 1;
  const calls: number[] = [];
  const built: number[] = [];
  const released: number[] = [];
  const factory = async ([batch, c, h, w]: [number, number, number, number]) => {
    // `maxBatch`: like an export whose batch axis is pinned
    if (batch > (opts.maxBatch ?? Infinity)) throw new Error(`the batch axis is fixed at ${opts.maxBatch}`);
    built.push(batch);
    return {
      batch,
      device: 'js',
      async run(inputs: Float32Array, mask: Float32Array) {
        calls.push(batch);
        if (opts.delayMs) await new Promise((resolve) => setTimeout(resolve, opts.delayMs!(batch)));
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
          // `mixBatch`: every element's gradient also carries the next element's, as a graph
          // that folds the batch into another axis would
          if (opts.mixBatch && batch > 1) for (let i = 0; i < n; i++) grad[b * n + i] += inputs[((b + 1) % batch) * n + i];
          if (opts.nanAt !== undefined) grad[b * n + opts.nanAt] = NaN;
          objective[b] = obj;
        }
        return { objective, grad, output, outputDims: [batch, c, H, W] };
      },
      async release() {
        released.push(batch);
      },
    };
  };
  return Object.assign(factory, { calls, built, released });
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
    // 10 steps + the baseline = 11 points: 4 runs of one, the check run of 4 on the same points
    // (compared, not accumulated), then the other 7 points in 2 runs of 4
    expect(net.calls).toEqual([1, 1, 1, 1, 4, 4, 4]);
    expect(net.built).toEqual([1, 4]);
    expect(four.batch).toBe(4);
    expect(four.batchCheck).toEqual({ batch: 4, points: 4, gradient: 0, objective: 0, agreed: true });
    expect(four.batchReason).toBeUndefined();
    expect(Array.from(four.attribution)).toEqual(Array.from(one.attribution));
    expect(four.di).toBe(one.di);
    expect(four.completeness).toEqual(one.completeness);
  });

  it('a batch that mixes path points is caught by its first run and the path runs one by one, loudly', async () => {
    const one = await computeLam(nearestNet(), lr, 2, base);
    for (const batch of [4, 'auto'] as const) {
      const warnings: string[] = [];
      const net = nearestNet({ mixBatch: true });
      const r = await computeLam(net, lr, 2, { ...base, batch, maxBatch: 4, warn: (m) => warnings.push(m) });
      expect(r.batch).toBe(1);
      expect(r.batchCheck!.agreed).toBe(false);
      expect(r.batchCheck!.gradient).toBeGreaterThan(0.1);
      expect(r.batchReason).toBe('batch 4 did not reproduce runs of one on path points 0..3');
      expect(warnings).toEqual([expect.stringMatching(/^batch 4 did not reproduce runs of one on path points 0\.\.3 \(gradient .* of its peak apart, detector .*\): the network mixes path points along the batch axis; running the path steps one at a time$/)]);
      expect(net.calls).toEqual([1, 1, 1, 1, 4, ...Array(7).fill(1)]);
      expect(net.released.sort()).toEqual([1, 4]);
      expect(Array.from(r.attribution)).toEqual(Array.from(one.attribution));
    }
  });

  it('a batch the graph proves unsafe never runs: batch 1, with the reason (a warning when the batch was given)', async () => {
    const one = await computeLam(nearestNet(), lr, 2, base);
    for (const batch of [4, 'auto'] as const) {
      const warnings: string[] = [];
      const asked: number[][] = [];
      const net = Object.assign(nearestNet({ mixBatch: true }), {
        batchProblem: (shape: number[]) => {
          asked.push(shape);
          return "Reshape node 'r' moves the batch into axis 5";
        },
      });
      const r = await computeLam(net, lr, 2, { ...base, batch, maxBatch: 4, warn: (m) => warnings.push(m) });
      expect(asked).toEqual([[4, 3, h, w]]);
      expect(r.batch).toBe(1);
      expect(r.batchCheck).toBeUndefined();
      expect(r.batchReason).toBe("a run of 4 path points would mix them: Reshape node 'r' moves the batch into axis 5");
      expect(warnings).toEqual(batch === 4 ? [`batch=4: ${r.batchReason}; running the path steps one at a time`] : []);
      expect(net.built).toEqual([1]);
      expect(Array.from(r.attribution)).toEqual(Array.from(one.attribution));
    }
  });

  it('batch=auto times batch 1 against the largest batch on the first points, and uses them', async () => {
    const long = { ...base, path: { ...base.path, steps: 30 } };
    const one = await computeLam(nearestNet(), lr, 2, long);
    // 31 points, at most 4 per run: the probe's batch is stepBatch(28, 4) = 4. Batch 1 runs
    // points 0..3 (two warm-up runs, then timed ones), batch 4 reruns them as the check (its
    // first warm-up run, not accumulated), warms up once more on 4..7 and is timed on 8..11; the
    // other 19 points run at the faster batch. The delays make batch 4 (7.5 ms a point against
    // 30) or batch 1 (30 ms against 60) the likely winner; the asserts hold whichever wins.
    const chosen: number[] = [];
    for (const delayMs of [() => 30, (b: number) => (b === 1 ? 30 : 60 * b)]) {
      const net = nearestNet({ delayMs });
      const auto = await computeLam(net, lr, 2, { ...long, batch: 'auto', maxBatch: 4, probeMinRemainingMs: 0 });
      chosen.push(auto.batch);
      const probe = auto.batchProbe!;
      expect(Object.keys(probe)).toEqual(['1', '4']);
      expect(probe['1']).toBeGreaterThan(0);
      expect(probe['4']).toBeGreaterThan(0);
      expect(auto.batch).toBe(probe['4'] < probe['1'] ? 4 : 1);
      const rest = auto.batch === 4 ? Array(5).fill(4) : Array(19).fill(1);
      expect(net.calls).toEqual([1, 1, 1, 1, 4, 4, 4, ...rest]);
      expect(auto.batchCheck).toEqual({ batch: 4, points: 4, gradient: 0, objective: 0, agreed: true });
      expect(net.built).toEqual([1, 4]);
      expect(net.released.sort()).toEqual([1, 4]);
      // tolerance 0: every point is evaluated alone and accumulated in path order either way
      expect(Array.from(auto.attribution)).toEqual(Array.from(one.attribution));
      expect(auto.completeness).toEqual(one.completeness);
      expect(auto.di).toBe(one.di);
      expect(Array.from(auto.sr)).toEqual(Array.from(one.sr));
    }
    console.log('batch=auto chose', chosen, '(likely [4, 1])');
  });

  it('batch=auto stays at batch 1 when the remaining work is too short for a probe to pay', async () => {
    const long = { ...base, path: { ...base.path, steps: 30 } };
    // 28 points left after batch 1's three runs, at 30 ms each: 840 ms, under the 10 s default.
    const net = nearestNet({ delayMs: () => 30 });
    const auto = await computeLam(net, lr, 2, { ...long, batch: 'auto', maxBatch: 4 });
    expect(PROBE_MIN_REMAINING_MS).toBe(10_000);
    expect(auto.batch).toBe(1);
    expect(Object.keys(auto.batchProbe!)).toEqual(['1']);
    expect(net.built).toEqual([1]);
    expect(net.calls).toEqual(Array(31).fill(1));
  });

  it('batch=auto skips the probe on a short path or a pinned batch axis; a given batch is kept', async () => {
    const short = nearestNet();
    // 11 points: a probe of batch 8 needs 35, so no probe; stepBatch(11, 8) = 6, after 6 runs
    // of one and the check of batch 6 on the same points
    const r = await computeLam(short, lr, 2, { ...base, batch: 'auto', maxBatch: 8 });
    expect(r.batchProbe).toBeUndefined();
    expect([r.batch, short.calls]).toEqual([6, [1, 1, 1, 1, 1, 1, 6, 6]]);

    const long = { ...base, path: { ...base.path, steps: 30 } };
    const one = await computeLam(nearestNet(), lr, 2, long);
    const warnings: string[] = [];
    const pinned = nearestNet({ maxBatch: 1 });
    const p = await computeLam(pinned, lr, 2, { ...long, batch: 'auto', maxBatch: 4, probeMinRemainingMs: 0, warn: (m) => warnings.push(m) });
    expect(p.batch).toBe(1);
    expect(Object.keys(p.batchProbe!)).toEqual(['1']);
    expect(pinned.calls).toEqual(Array(31).fill(1));
    expect(pinned.released).toEqual([1]);
    expect(warnings).toEqual([expect.stringMatching(/batch 4\): the batch axis is fixed at 1; running the path steps one at a time/)]);
    expect(Array.from(p.attribution)).toEqual(Array.from(one.attribution));

    const given = nearestNet();
    const g = await computeLam(given, lr, 2, { ...long, batch: 7, maxBatch: 4 });
    expect([g.batch, g.batchProbe]).toEqual([7, undefined]);
    expect(given.calls).toEqual([...Array(7).fill(1), 7, 7, 7, 7, 7]);
    // a given batch the export cannot take is an error, not a silent batch 1
    await expect(computeLam(nearestNet({ maxBatch: 1 }), lr, 2, { ...long, batch: 4 })).rejects.toThrow(/batch 4\): the batch axis is fixed at 1/);
    // a path no longer than the batch runs one by one: a batched run would only repeat points
    const tiny = nearestNet();
    const t = await computeLam(tiny, lr, 2, { ...base, path: { ...base.path, steps: 3 }, batch: 4 });
    expect([t.batch, tiny.calls, tiny.built]).toEqual([1, [1, 1, 1, 1], [1]]);
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

  it('autoBatch probes when the path holds at least one more run of the probed batch', () => {
    expect(PROBE_WARMUP_RUNS).toBe(2);
    expect(autoBatch(51, 8)).toEqual({ probe: 8, batch: 8 }); // 48 after batch 1's three runs: 6 x 8
    expect(autoBatch(35, 8)).toEqual({ probe: 8, batch: 8 }); // 3 + 3 x 8 probed, 8 more
    expect(autoBatch(34, 8)).toEqual({ batch: 7 }); // stepBatch(34, 8): 5 x 7 = 35 slots
    expect(autoBatch(31, 8)).toEqual({ probe: 7, batch: 7 }); // 28 after batch 1: 4 x 7; 3 + 3 x 7 + 7 = 31
    expect(autoBatch(30, 8)).toEqual({ batch: 6 }); // 27 left: 7 again, needs 31; stepBatch(30, 8) = 6
    expect(autoBatch(51, 1)).toEqual({ batch: 1 });
    expect(autoBatch(52, 2)).toEqual({ probe: 2, batch: 2 }); // 49 left: stepBatch says 1, a probe needs 2
    expect(autoBatch(11, 2)).toEqual({ probe: 2, batch: 2 });
    expect(autoBatch(9, 2)).toEqual({ batch: 1 }); // too short to probe; stepBatch: 9 x 1 pads nothing
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
