// FAIG (Xie et al., NeurIPS 2021): integrated gradients in parameter space. For an input x with
// HR image y, along theta_s = a_s * baseline + (1 - a_s) * target, a_s = s / N (s = 0..N-1, the
// target first, the baseline itself never evaluated), G(x) = sum_s dL/dW(theta_s) with L the sum
// of squared errors against y; each kernel scores S(x)[k] = sum over its taps of
// |G(x) * (W_baseline - W_target) / N|, as the authors' faig.py computes it (float32).
//
// One ONNX Runtime session serves the whole path: the moving weights are graph inputs fed at
// every step (see GradientRequest.weightsAs), and every input runs at batch 1, because the
// scores need each input's own gradient (a batch would sum them before the absolute value).

import type { Device, LoadedModel } from '../../api.js';
import { buildGradientGraph } from '../../autodiff/index.js';
import { createSession } from '../../engine/index.js';
import type { Graph, TensorData } from '../../graph/ir.js';
import type { Image } from '../../image/image.js';
import { interpolate, type KernelIndex, type Pair } from './kernels.js';

export interface FaigOptions {
  steps: number;
  device: Device;
  threads?: number;
  onWarning?: (message: string) => void;
}

/** One input's attribution. */
export interface InputAttribution {
  /** S(x): one score per kernel of the index. */
  scores: Float32Array;
  /** L(target) = L at the path's first point, L(baseline) from one more forward pass. */
  lossTarget: number;
  lossBaseline: number;
  /** Integrated gradients' completeness: sum over every moving parameter of G * (baseline - target) / N. */
  attributed: number;
}

/** The gradient program of a pair at one LR size: feeds the path's weights, returns dL/dW and L. */
export interface PathProgram {
  device: string;
  run(lr: Image, hr: Image, weights: Record<string, Float32Array>): Promise<{ loss: number; grads: Record<string, Float32Array> }>;
  release(): Promise<void>;
}

export async function pathProgram(target: LoadedModel, pair: Pair, size: { width: number; height: number }, o: FaigOptions): Promise<PathProgram> {
  const shape: [number, number, number, number] = [1, target.info.inputChannels, size.height, size.width];
  const gg = buildGradientGraph(target.graph, { inputShape: shape, objective: { kind: 'sse' }, wrtInput: false, wrtWeights: pair.moving, weightsAs: 'inputs' });
  const session = await createSession(gg.graph, { device: o.device, threads: o.threads, onWarning: o.onWarning });
  const s = target.info.scale;
  const dims = (t: TensorData) => t.dims;
  const weightDims = new Map(pair.moving.map((w) => [w, dims(target.graph.initializers.get(w)!)]));
  return {
    device: session.device,
    async run(lr, hr, weights) {
      if (hr.width !== lr.width * s || hr.height !== lr.height * s) {
        throw new Error(`an HR image of ${hr.width}x${hr.height} does not match its ${lr.width}x${lr.height} LR input at x${s} (expected ${lr.width * s}x${lr.height * s})`);
      }
      const feeds: Record<string, TensorData> = {
        [target.info.inputName]: { dtype: 'float32', dims: shape, data: lr.data },
        lvi_target: { dtype: 'float32', dims: [1, shape[1], hr.height, hr.width], data: hr.data },
      };
      for (const [w, data] of Object.entries(weights)) feeds[w] = { dtype: 'float32', dims: weightDims.get(w)!, data };
      const out = await session.run(feeds);
      const grads: Record<string, Float32Array> = {};
      for (const [w, name] of Object.entries(gg.outputs.weightGrads)) grads[w] = out[name]!.data as Float32Array;
      return { loss: (out[gg.outputs.objective]!.data as Float32Array)[0]!, grads };
    },
    release: () => session.release(),
  };
}

/** The moving weights at path point a (a = 0: the target, a = 1: the baseline). */
export function pathWeights(baseline: Graph, target: Graph, pair: Pair, a: number): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const w of pair.moving) out[w] = interpolate(baseline.initializers.get(w)!, target.initializers.get(w)!, a);
  return out;
}

/** W_baseline - W_target of every moving weight, float32. */
export function weightDifference(baseline: Graph, target: Graph, pair: Pair): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const w of pair.moving) {
    const b = baseline.initializers.get(w)!.data;
    const t = target.initializers.get(w)!.data;
    const d = new Float32Array(t.length);
    for (let i = 0; i < d.length; i++) d[i] = (b[i] as number) - (t[i] as number);
    out[w] = d;
  }
  return out;
}

/** S from the summed gradients: per kernel, the sum over its taps of |G * dW / N| (float32). */
export function kernelScores(index: KernelIndex, gradSum: Record<string, Float32Array>, diff: Record<string, Float32Array>, steps: number): Float32Array {
  const scores = new Float32Array(index.total);
  const f = Math.fround;
  for (const c of index.convs) {
    const g = gradSum[c.weight];
    const d = diff[c.weight];
    if (!g || !d) continue; // a weight equal in both networks: every score 0
    for (let k = 0; k < c.count; k++) {
      let s = 0;
      for (let t = k * c.taps; t < (k + 1) * c.taps; t++) s = f(s + Math.abs(f(f(g[t]! * d[t]!) / steps)));
      scores[c.offset + k] = s;
    }
  }
  return scores;
}

/**
 * The path integral for one input. `weightsAt(s)` gives the moving weights at a = s / steps
 * (callers cache them across inputs); `onStep` reports progress.
 */
export async function attributeInput(
  program: PathProgram,
  lr: Image,
  hr: Image,
  pair: Pair,
  steps: number,
  weightsAt: (s: number) => Record<string, Float32Array>,
  diff: Record<string, Float32Array>,
  onStep?: () => void,
): Promise<InputAttribution> {
  const sum: Record<string, Float32Array> = {};
  for (const w of pair.moving) sum[w] = new Float32Array(diff[w]!.length);
  let lossTarget = NaN;
  for (let s = 0; s < steps; s++) {
    const { loss, grads } = await program.run(lr, hr, weightsAt(s));
    if (s === 0) lossTarget = loss;
    for (const [w, g] of Object.entries(grads)) {
      const acc = sum[w]!;
      for (let i = 0; i < acc.length; i++) acc[i] = Math.fround(acc[i]! + g[i]!);
    }
    onStep?.();
  }
  const { loss: lossBaseline } = await program.run(lr, hr, weightsAt(steps));
  let attributed = 0;
  for (const w of pair.moving) {
    const g = sum[w]!;
    const d = diff[w]!;
    for (let i = 0; i < g.length; i++) attributed += (g[i]! * d[i]!) / steps;
  }
  return { scores: kernelScores(pair.index, sum, diff, steps), lossTarget, lossBaseline, attributed };
}

export interface AttributeAllOptions extends FaigOptions {
  onStep?: () => void;
  signal?: AbortSignal;
}

/**
 * FAIG of every input (its LR and the loss's target image): S per input as one [inputs, K]
 * array, and each input's completeness ratio (attribution over L(baseline) - L(target)).
 * One program per LR size; inputs one at a time, so memory does not grow with their number.
 */
export async function attributeAll(
  baseline: LoadedModel,
  target: LoadedModel,
  pair: Pair,
  inputs: { lr: Image; hr: Image }[],
  o: AttributeAllOptions,
): Promise<{ single: Float32Array; ratios: number[]; device: string }> {
  const programs = new Map<string, PathProgram>();
  const diff = weightDifference(baseline.graph, target.graph, pair);
  const k = pair.index.total;
  const single = new Float32Array(inputs.length * k);
  const ratios: number[] = [];
  let device = String(o.device);
  try {
    for (let i = 0; i < inputs.length; i++) {
      o.signal?.throwIfAborted();
      const { lr, hr } = inputs[i]!;
      const key = `${lr.width}x${lr.height}`;
      let program = programs.get(key);
      if (!program) {
        program = await pathProgram(target, pair, lr, o);
        programs.set(key, program);
        device = program.device;
      }
      const a = await attributeInput(program, lr, hr, pair, o.steps, (s) => pathWeights(baseline.graph, target.graph, pair, s / o.steps), diff, o.onStep);
      single.set(a.scores, i * k);
      const delta = a.lossBaseline - a.lossTarget;
      ratios.push(delta !== 0 ? a.attributed / delta : NaN);
    }
  } finally {
    for (const p of programs.values()) await p.release();
  }
  return { single, ratios, device };
}
