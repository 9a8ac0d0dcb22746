// Local Attribution Maps (Gu & Dong, CVPR 2021) exactly as the authors' code computes them:
// integrated gradients of a window detector on the SR output along a path from a baseline to
// the LR input, right-endpoint sum, NaN entries of a step's gradient zeroed; the map is
// |sum over channels| / max and the Diffusion Index is (1 - Gini) * 100.
//
// The network and its gradient come through a `StepProgram` (see program.ts for the one
// over lvi's runtime API), so this file holds only the method.

import { cropPlanes } from '../../image/index.js';
import { diffusionIndex } from '../../metrics/index.js';
import { pathPoints, type PathSpec } from './path.js';

/** A window in HR (output) pixels. */
export interface Window {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface StepOutputs {
  /** D(F(x)) per batch element. */
  objective: Float32Array;
  /** d D / d x, batch x C x h x w. */
  grad: Float32Array;
  /** F(x), batch x C x H x W. */
  output: Float32Array;
  outputDims: number[];
}

/** Forward + input gradient of a fixed-size batch: what one gradient session does. */
export interface StepProgram {
  readonly batch: number;
  readonly device: string;
  /** `inputs`: batch x C x h x w; `mask`: the window mask, H x W (output size). */
  run(inputs: Float32Array, mask: Float32Array): Promise<StepOutputs>;
  release(): Promise<void>;
}

/**
 * Builds a step program for input shape [batch, C, h, w]: of the whole image, or, with `crop`,
 * of that LR box, computing the crop's output box (a cone graph, models/cone.ts).
 */
export interface ProgramFactory {
  (shape: [number, number, number, number], crop?: CropPlan): Promise<StepProgram>;
  /**
   * Why a run of shape[0] path points would not compute each point as a run of one does,
   * proved from the network's graph (engine/batch-axis.ts); undefined when it would.
   */
  batchProblem?(shape: [number, number, number, number]): string | undefined;
}

/**
 * How far a batched run may differ from runs of one, relative to each point's largest gradient
 * entry (and its detector value): float32 summation order only (CARN: below 1e-6). A network
 * that mixes path points along the batch axis differs by tens of percent (SwinIR: 0.67 of the
 * map's peak).
 */
export const BATCH_CHECK_TOLERANCE = 1e-4;

/** The first batched run against runs of one of the same path points. */
export interface BatchCheck {
  batch: number;
  points: number;
  /** Largest gradient difference over the points, relative to each point's largest entry. */
  gradient: number;
  /** Largest relative difference of the detector value. */
  objective: number;
  agreed: boolean;
}

export interface LamOptions {
  window: Window;
  path: PathSpec;
  detector: 'gradient' | 'intensity';
  /**
   * Steps per run. 'auto': the largest batch B that fits (`maxBatch`, see `autoBatch`), or,
   * when the path is long enough, whichever of batch 1 and B is faster on the first points.
   * Any batch above 1 runs only where the factory's `batchProblem` finds none, and only after
   * its first run matched runs of one on the same points (else the path runs one by one).
   */
  batch: 'auto' | number;
  /** Largest batch 'auto' may pick (memory); default 8. */
  maxBatch?: number;
  /** 'auto' tries batch B only when the remaining batch-1 work is at least this long (ms). */
  probeMinRemainingMs?: number;
  /** Run on an LR crop around the window when the network allows it (see crop.ts). */
  crop?: CropPlan;
  /**
   * With a crop that has an `output` box: the whole image's forward pass at x_K gives the SR
   * picture and is compared with the crop's output box there (the crop is exact by
   * construction; without `forward`, the whole image's gradient is compared instead).
   */
  forward?: ForwardFactory;
  progress?: (done: number, total: number, label?: string) => void;
  warn?: (message: string) => void;
  /** Stops between runs when aborted (the error is the signal's reason). */
  signal?: AbortSignal;
}

/**
 * Where to run: a box of the LR image (x, y, w, h in LR pixels), checked before use. The runs
 * compute `output`, a box of the HR output (the crop times the scale when not given).
 */
export interface CropPlan {
  x: number;
  y: number;
  w: number;
  h: number;
  output?: Window;
}

/** The forward pass alone on the whole image, batch 1: output C x H x W. */
export type ForwardFactory = (shape: [number, number, number, number]) => Promise<{
  run(input: Float32Array): Promise<{ output: Float32Array; outputDims: number[] }>;
  release(): Promise<void>;
}>;

export interface LamResult {
  /** Signed attribution A, C x h x w at LR size (float32). */
  attribution: Float32Array;
  /** |sum over channels of A|, h x w, before normalisation. */
  map: Float32Array;
  mapMax: number;
  di: number;
  gini: number;
  completeness: { sum_attribution: number; d_input: number; d_baseline: number };
  /** Steps whose gradient held NaN entries (zeroed, as the authors do). */
  nanSteps: number;
  nanEntries: number;
  /** Steps the authors' sqrt-then-crop detector would have turned into NaN (gradient detector). */
  nanStepsAuthors: number;
  /** 'image' when every step's full SR was inspected, 'crop' when only the crop's output box. */
  nanStepsAuthorsScope: 'image' | 'crop';
  steps: number;
  /** The batch that ran the path (after the probe, when 'auto' probed). */
  batch: number;
  /** Milliseconds per path point of batch 1 and of batch B, keyed by batch, when 'auto' timed them. */
  batchProbe?: Record<string, number>;
  /** Why the path ran one point at a time although a larger batch was asked for or fitted. */
  batchReason?: string;
  /** The check of the first batched run, when one ran. */
  batchCheck?: BatchCheck;
  /** The SR output F(x_K) at full size, C x H x W. */
  sr: Float32Array;
  srWidth: number;
  srHeight: number;
  device: string;
  crop?: CropPlan & { checkedMaxDiff: number };
}

/**
 * The batch size for `points` evaluations when at most `max` fit: the one in [max/2, max] that
 * wastes the fewest padded slots (a pinned batch runs whole), ties to the larger.
 */
export function stepBatch(points: number, max: number): number {
  const hi = Math.max(1, Math.min(max, points));
  const lo = Math.max(1, Math.ceil(hi / 2));
  let best = hi;
  let bestCost = Math.ceil(points / hi) * hi;
  for (let b = hi - 1; b >= lo; b--) {
    const cost = Math.ceil(points / b) * b;
    if (cost < bestCost) [best, bestCost] = [b, cost];
  }
  return best;
}

/**
 * Runs of a new program before the one batch 'auto' times: ONNX Runtime's first two runs of a
 * session are slower than the rest (CARN x4, 51x51 LR, 2 cores: 76, 76, then 54 ms at batch 1;
 * 545, 529, then 418 ms at batch 7), and by different shares, so a second run would mislead.
 */
export const PROBE_WARMUP_RUNS = 2;

/**
 * Batching saves at most a few tens of percent per point, while trying batch B costs a session
 * and its slow warm-up runs (about a second on two cores): below this much remaining batch-1
 * work the probe cannot pay for itself, and the path stays at batch 1.
 */
export const PROBE_MIN_REMAINING_MS = 10_000;

/**
 * What batch 'auto' does with `points` path points when at most `max` fit: `probe` is the batch
 * B to time against batch 1 (each for PROBE_WARMUP_RUNS + 1 runs, 4B + 3 points with the
 * default), or undefined when that cannot pay (the path must hold at least one more run of B
 * after the probe); `batch` is the one to run without probing.
 */
export function autoBatch(points: number, max: number): { probe?: number; batch: number } {
  const runs = PROBE_WARMUP_RUNS + 1;
  // Of the largest batches, the one padding the fewest slots after batch 1's runs (stepBatch
  // prefers 1 to 2 for an odd count: no use to a probe).
  const probe = Math.max(stepBatch(points - runs, max), Math.min(2, max));
  if (probe > 1 && points >= runs * (1 + probe) + probe) return { probe, batch: probe };
  return { batch: stepBatch(points, max) };
}

/** 1 inside the window, 0 outside, H x W. */
export function windowMask(width: number, height: number, win: Window): Float32Array {
  const m = new Float32Array(width * height);
  for (let r = win.y; r < win.y + win.h; r++) m.fill(1, r * width + win.x, r * width + win.x + win.w);
  return m;
}

/** Throws with the valid range when the window does not lie inside a W x H output. */
export function checkWindow(win: Window, width: number, height: number): void {
  const { x, y, w, h } = win;
  for (const [k, v] of Object.entries(win)) {
    if (!Number.isInteger(v)) throw new Error(`window ${k}=${v} must be a whole number of pixels`);
  }
  if (w < 1 || h < 1) throw new Error(`window (${x},${y},${w},${h}): width and height must be at least 1`);
  if (w > width || h > height) {
    throw new Error(`window (${x},${y},${w},${h}) is larger than the ${width}x${height} output image`);
  }
  if (x < 0 || y < 0 || x + w > width || y + h > height) {
    throw new Error(
      `window (${x},${y},${w},${h}) lies outside the ${width}x${height} output image: ` +
        `for a ${w}x${h} window x must be in 0..${width - w} and y in 0..${height - h} (HR pixels)`,
    );
  }
}

/**
 * How many (channel, position) magnitudes of the authors' gradient detector are exactly zero
 * on the (H-1)x(W-1) grid: each one is a NaN in their backward pass (sqrt's gradient 1/(2*0)
 * times a zero upstream gradient), whichever window is chosen.
 */
export function zeroMagnitudes(out: Float32Array, offset: number, channels: number, height: number, width: number): number {
  let zeros = 0;
  for (let c = 0; c < channels; c++) {
    const base = offset + c * height * width;
    for (let r = 0; r < height - 1; r++) {
      for (let q = 0; q < width - 1; q++) {
        const i = base + r * width + q;
        if (out[i] === out[i + width] && out[i] === out[i + 1]) zeros++;
      }
    }
  }
  return zeros;
}

interface Evaluated {
  objective: number;
  grad: Float32Array;
  output: Float32Array;
}

/**
 * Evaluates `points` (each C x h x w) with a pinned-batch program, padding the last batch with
 * copies of its last point; calls `each` per point in order.
 */
async function evaluate(
  program: StepProgram,
  points: Float32Array[],
  mask: Float32Array,
  expectOut: [number, number, number],
  each: (index: number, r: Evaluated) => void,
  onBatch?: (done: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const size = points[0].length;
  const b = program.batch;
  const inputs = new Float32Array(b * size);
  for (let start = 0; start < points.length; start += b) {
    signal?.throwIfAborted();
    const n = Math.min(b, points.length - start);
    for (let i = 0; i < b; i++) inputs.set(points[start + Math.min(i, n - 1)], i * size);
    let r: StepOutputs;
    try {
      r = await program.run(inputs, mask);
    } catch (e) {
      throw new Error(`the model failed on path points ${start}..${start + n - 1}: ${(e as Error).message}`, { cause: e });
    }
    const [c, oh, ow] = expectOut;
    const outSize = c * oh * ow;
    if (r.outputDims.length !== 4 || r.outputDims[1] !== c || r.outputDims[2] !== oh || r.outputDims[3] !== ow) {
      throw new Error(`the model's output is ${r.outputDims.join('x')}, expected ${b}x${c}x${oh}x${ow}`);
    }
    for (let i = 0; i < n; i++) {
      each(start + i, {
        objective: r.objective[i],
        grad: r.grad.subarray(i * size, (i + 1) * size),
        output: r.output.subarray(i * outSize, (i + 1) * outSize),
      });
    }
    onBatch?.(start + n);
  }
}

/**
 * Computes LAM for an LR image (C x h x w, 0..1) with networks built by `factory`.
 * `scale` is the model's declared scale: the output must be exactly scale times the input.
 */
export async function computeLam(
  factory: ProgramFactory,
  lr: { width: number; height: number; data: Float32Array; channels?: number },
  scale: number,
  opts: LamOptions,
): Promise<LamResult> {
  const channels = lr.channels ?? 3;
  const { width: w, height: h } = lr;
  const W = w * scale;
  const H = h * scale;
  checkWindow(opts.window, W, H);
  const K = opts.path.steps;
  const warn = opts.warn ?? (() => {});
  const path = pathPoints(lr.data, channels, h, w, opts.path);

  // Where the path runs: the whole image, or a crop holding the window's receptive field.
  const crop = opts.crop && (opts.crop.w < w || opts.crop.h < h || opts.crop.output) ? opts.crop : undefined;
  const rw = crop ? crop.w : w;
  const rh = crop ? crop.h : h;
  // The output box the runs compute, in HR pixels.
  const outBox = crop ? (crop.output ?? { x: crop.x * scale, y: crop.y * scale, w: crop.w * scale, h: crop.h * scale }) : { x: 0, y: 0, w: W, h: H };
  const outDims: [number, number, number] = [channels, outBox.h, outBox.w];
  const runPoints = crop ? path.points.map((p) => cropPlanes(p, channels, h, w, crop)) : path.points;
  const runWindow = { ...opts.window, x: opts.window.x - outBox.x, y: opts.window.y - outBox.y };
  const runMask = windowMask(outBox.w, outBox.h, runWindow);
  const fullMask = crop ? windowMask(W, H, opts.window) : runMask;

  // x_1..x_K, then x_0 for the completeness check.
  const order = [...Array.from({ length: K }, (_, i) => i + 1), 0];
  const points = order.map((k) => runPoints[k]);
  if (opts.batch !== 'auto' && !(Number.isInteger(opts.batch) && opts.batch >= 1)) {
    throw new Error(`batch must be 'auto' or a whole number >= 1, got ${opts.batch}`);
  }
  let auto = opts.batch === 'auto' ? autoBatch(points.length, opts.maxBatch ?? 8) : undefined;
  let batch = auto ? auto.batch : (opts.batch as number);
  // Batching must be proved from the graph, not assumed (engine/batch-axis.ts).
  let batchReason: string | undefined;
  const asked = auto?.probe ?? batch;
  if (asked > 1) {
    const problem = factory.batchProblem?.([asked, channels, rh, rw]);
    if (problem) {
      batchReason = `a run of ${asked} path points would mix them: ${problem}`;
      if (!auto) warn(`batch=${asked}: ${batchReason}; running the path steps one at a time`);
      auto = undefined;
      batch = 1;
    }
  }

  const attribution = new Float64Array(channels * h * w);
  let nanSteps = 0;
  let nanEntries = 0;
  let nanStepsAuthors = 0;
  let dInput = NaN;
  let dBaseline = NaN;
  let sr: Float32Array | undefined;
  let checkedMaxDiff = 0;
  let gradAtInput: Float32Array | undefined;
  let outAtInput: Float32Array | undefined;

  /** Adds point `index` (of `order`) to the attribution; records the endpoints. */
  const accumulate = (index: number, r: Evaluated): void => {
    const k = order[index];
    if (!Number.isFinite(r.objective)) {
      warn(`LAM step ${k} of ${K}: the detector value is ${r.objective} (the model's output holds NaN or Inf)`);
    }
    if (k === 0) {
      dBaseline = r.objective;
      return;
    }
    if (opts.detector === 'gradient' && zeroMagnitudes(r.output, 0, channels, outBox.h, outBox.w) > 0) nanStepsAuthors++;
    let nans = 0;
    const delta = path.deltas[k - 1];
    for (let ch = 0; ch < channels; ch++) {
      for (let y = 0; y < rh; y++) {
        for (let x = 0; x < rw; x++) {
          const i = ch * rh * rw + y * rw + x;
          let g = r.grad[i];
          if (Number.isNaN(g)) {
            nans++;
            g = 0;
          } else if (!Number.isFinite(g)) {
            throw new Error(`LAM step ${k} of ${K}: the input gradient is ${g} at channel ${ch}, LR pixel (${x + (crop?.x ?? 0)},${y + (crop?.y ?? 0)})`);
          }
          const j = ch * h * w + (y + (crop?.y ?? 0)) * w + x + (crop?.x ?? 0);
          attribution[j] += g * delta[j];
        }
      }
    }
    if (nans > 0) {
      nanSteps++;
      nanEntries += nans;
    }
    if (k === K) {
      dInput = r.objective;
      if (crop) {
        gradAtInput = Float32Array.from(r.grad);
        outAtInput = Float32Array.from(r.output);
      } else sr = Float32Array.from(r.output);
    }
  };

  // Runs of one of the first path points, which the first batched run is checked against.
  const wantOnes = auto?.probe ?? batch;
  const ones: { objective: number; grad: Float32Array }[] = [];

  /** Evaluates points [from, to) in order with `program`; returns the wall milliseconds. */
  const evaluateRange = async (program: StepProgram, from: number, to: number): Promise<number> => {
    const started = performance.now();
    await evaluate(
      program,
      points.slice(from, to),
      runMask,
      outDims,
      (index, r) => {
        const at = from + index;
        if (program.batch === 1 && at < wantOnes) ones[at] = { objective: r.objective, grad: Float32Array.from(r.grad) };
        accumulate(at, r);
      },
      (done) => opts.progress?.(Math.min(from + done, K), K, 'LAM steps'),
      opts.signal,
    );
    return performance.now() - started;
  };
  /** The first batched run, on the points batch 1 ran first, against those runs; nothing is accumulated. */
  const check = async (wide: StepProgram): Promise<BatchCheck> => {
    const n = Math.min(wide.batch, ones.length);
    let gradient = 0;
    let objective = 0;
    await evaluate(wide, points.slice(0, n), runMask, outDims, (i, r) => {
      gradient = Math.max(gradient, relativeDifference(r.grad, ones[i]!.grad));
      objective = Math.max(objective, relativeDifference([r.objective], [ones[i]!.objective]));
    }, undefined, opts.signal);
    const agreed = gradient <= BATCH_CHECK_TOLERANCE && objective <= BATCH_CHECK_TOLERANCE;
    return { batch: wide.batch, points: n, gradient, objective, agreed };
  };
  const build = (b: number) => buildProgram(factory, [b, channels, rh, rw], crop ? 'crop' : 'image', rw, rh, crop);
  const pinnedBatch = (e: unknown) => warn(`${(e as Error).message}; running the path steps one at a time`);

  opts.progress?.(0, K, 'LAM steps');
  // Batch 1 always runs first: the points of the first batched run must have runs of one to
  // compare with, and batch 'auto' times it.
  let program = await build(1);
  const device = program.device;
  let batchProbe: Record<string, number> | undefined;
  let batchCheck: BatchCheck | undefined;
  try {
    const b = auto?.probe ?? batch;
    let next = 0;
    // A batched run must be left after the check, which only repeats points batch 1 ran.
    let tryWide = b > 1 && points.length > b;
    let msOne = 0;
    let timedOne = 0;
    if (auto?.probe) {
      // Each program's warm-up runs are not timed, the runs after them are.
      const warm = PROBE_WARMUP_RUNS;
      await evaluateRange(program, 0, warm);
      msOne = await evaluateRange(program, warm, warm + 1);
      timedOne = 1;
      next = warm + 1;
      batchProbe = { '1': msOne };
      if (msOne * (points.length - next) < (opts.probeMinRemainingMs ?? PROBE_MIN_REMAINING_MS)) tryWide = false;
    }
    batch = 1;
    if (tryWide) {
      if (next < b) {
        msOne += await evaluateRange(program, next, b);
        timedOne += b - next;
        next = b;
        if (batchProbe) batchProbe['1'] = msOne / timedOne;
      }
      let wide: StepProgram | undefined;
      try {
        wide = await build(b);
      } catch (e) {
        // Some exports pin the batch axis to 1; a given batch is an error, 'auto' runs one by one.
        if (!auto) throw e;
        pinnedBatch(e);
      }
      if (wide) {
        let keep = false;
        try {
          batchCheck = await check(wide);
          if (!batchCheck.agreed) {
            batchReason = `batch ${b} did not reproduce runs of one on path points 0..${batchCheck.points - 1}`;
            warn(
              `${batchReason} (gradient ${batchCheck.gradient.toExponential(2)} of its peak apart, detector ` +
                `${batchCheck.objective.toExponential(2)}): the network mixes path points along the batch axis; running the path steps one at a time`,
            );
          } else if (batchProbe) {
            // The check was batch b's first warm-up run.
            const more = (PROBE_WARMUP_RUNS - 1) * b;
            await evaluateRange(wide, next, next + more);
            next += more;
            const msWide = (await evaluateRange(wide, next, next + b)) / b;
            next += b;
            batchProbe[b] = msWide;
            keep = msWide < batchProbe['1']!;
          } else {
            keep = true;
          }
        } finally {
          if (!keep) await wide.release();
        }
        if (keep) {
          await program.release();
          program = wide;
          batch = b;
        }
      }
    }
    if (next < points.length) await evaluateRange(program, next, points.length);
  } finally {
    await program.release();
  }

  if (crop && opts.forward) {
    // The whole image's forward pass once at x_K: the SR picture, and its output box against the crop's.
    const full = await opts.forward([1, channels, h, w]);
    try {
      const r = await full.run(path.points[K]!);
      if (r.outputDims.length !== 4 || r.outputDims[1] !== channels || r.outputDims[2] !== H || r.outputDims[3] !== W) {
        throw new Error(`the model's output is ${r.outputDims.join('x')}, expected 1x${channels}x${H}x${W}`);
      }
      sr = Float32Array.from(r.output);
      let peak = 0;
      let diff = 0;
      const mine = outAtInput!;
      for (let ch = 0; ch < channels; ch++) {
        for (let y = 0; y < outBox.h; y++) {
          for (let x = 0; x < outBox.w; x++) {
            const whole = sr[(ch * H + y + outBox.y) * W + x + outBox.x]!;
            peak = Math.max(peak, Math.abs(whole));
            diff = Math.max(diff, Math.abs(whole - mine[(ch * outBox.h + y) * outBox.w + x]!));
          }
        }
      }
      checkedMaxDiff = peak > 0 ? diff / peak : diff;
      if (!(checkedMaxDiff <= 1e-5)) {
        throw new CropMismatch(
          `the LR box (${crop.x},${crop.y},${crop.w},${crop.h}) does not reproduce the whole image's output box ` +
            `(${outBox.x},${outBox.y},${outBox.w},${outBox.h}): relative difference ${checkedMaxDiff.toExponential(2)}`,
        );
      }
    } finally {
      await full.release();
    }
  } else if (crop) {
    // The full image once at x_K: the SR picture, and the proof that the crop changed nothing.
    const full = await buildProgram(factory, [1, channels, h, w], 'image', w, h);
    try {
      await evaluate(full, [path.points[K]], fullMask, [channels, H, W], (_, r) => {
        sr = Float32Array.from(r.output);
        let peak = 0;
        let diff = 0;
        const g = gradAtInput!;
        for (let ch = 0; ch < channels; ch++) {
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++) {
              const full = r.grad[ch * h * w + y * w + x];
              peak = Math.max(peak, Math.abs(full));
              const inside = x >= crop.x && x < crop.x + crop.w && y >= crop.y && y < crop.y + crop.h;
              const mine = inside ? g[ch * crop.h * crop.w + (y - crop.y) * crop.w + (x - crop.x)] : 0;
              diff = Math.max(diff, Math.abs(full - mine));
            }
          }
        }
        const objDiff = Math.abs(r.objective - dInput) / Math.max(Math.abs(r.objective), 1e-12);
        checkedMaxDiff = peak > 0 ? diff / peak : diff;
        if (!(checkedMaxDiff <= 1e-5) || !(objDiff <= 1e-5)) {
          throw new CropMismatch(
            `the LR crop (${crop.x},${crop.y},${crop.w},${crop.h}) does not reproduce the full image's gradient ` +
              `(relative difference ${checkedMaxDiff.toExponential(2)} in the gradient, ${objDiff.toExponential(2)} in the detector)`,
          );
        }
      });
    } finally {
      await full.release();
    }
  }

  const attr32 = Float32Array.from(attribution);
  const map = new Float32Array(h * w);
  let mapMax = 0;
  for (let i = 0; i < h * w; i++) {
    let s = 0;
    for (let ch = 0; ch < channels; ch++) s += attr32[ch * h * w + i];
    map[i] = Math.abs(s);
    if (map[i] > mapMax) mapMax = map[i];
  }
  const normed = mapMax > 0 ? map.map((v) => v / mapMax) : map.slice();
  if (mapMax === 0) warn('the attribution map is all zero (every step gave a zero gradient): DI is that of a flat map');
  const { di, gini } = diffusionIndex(normed);
  let sum = 0;
  for (const v of attribution) sum += v;
  return {
    attribution: attr32,
    map,
    mapMax,
    di,
    gini,
    completeness: { sum_attribution: sum, d_input: dInput, d_baseline: dBaseline },
    nanSteps,
    nanEntries,
    nanStepsAuthors,
    nanStepsAuthorsScope: crop ? 'crop' : 'image',
    steps: K,
    batch,
    batchProbe,
    batchReason,
    batchCheck,
    sr: sr!,
    srWidth: W,
    srHeight: H,
    device,
    crop: crop ? { ...crop, checkedMaxDiff } : undefined,
  };
}

/** max |a - b| over max |b|; NaN against NaN agrees, NaN against a number does not. */
function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let peak = 0;
  let diff = 0;
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) diff = Infinity;
      continue;
    }
    peak = Math.max(peak, Math.abs(y));
    diff = Math.max(diff, Math.abs(x - y));
  }
  return peak > 0 ? diff / peak : diff;
}

/** Raised when a crop does not reproduce the full image; the caller reruns without it. */
export class CropMismatch extends Error {
  override name = 'CropMismatch';
}

async function buildProgram(
  factory: ProgramFactory,
  shape: [number, number, number, number],
  what: 'image' | 'crop',
  w: number,
  h: number,
  crop?: CropPlan,
): Promise<StepProgram> {
  try {
    return await factory(shape, crop);
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(`cannot run the model on the ${w}x${h} LR ${what} (batch ${shape[0]}): ${msg}`, { cause: e });
  }
}
