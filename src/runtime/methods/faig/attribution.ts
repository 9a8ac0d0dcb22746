// FAIG (Xie et al., NeurIPS 2021): integrated gradients in parameter space. For an input x with
// HR image y, along theta_s = a_s * baseline + (1 - a_s) * target, a_s = s / N (s = 0..N-1, the
// target first, the baseline itself never evaluated), G(x) = sum_s dL/dW(theta_s) with L the sum
// of squared errors against y; each kernel scores S(x)[k] = sum over its taps of
// |G(x) * (W_baseline - W_target) / N|, as the authors' faig.py computes it (float32).
//
// One ONNX Runtime session per LR size serves the whole path: the moving weights are graph
// inputs fed at every step (see GradientRequest.weightsAs). Inputs of one size run as one batch
// per step with per-example convolution weight gradients (the scores need each input's own
// gradient; a summed batch would mix them before the absolute value), where the graph provably
// keeps a batch's items apart (engine/batch-axis.ts); otherwise one by one.

import type { Device, LoadedModel } from '../../api.js';
import { buildGradientGraph } from '../../autodiff/index.js';
import { batchAxisVerdict } from '../../engine/batch-axis.js';
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

export interface AttributeAllOptions extends FaigOptions {
  /** Inputs per network run (of one LR size); the graph's batch axis is checked first. */
  batch?: number;
  onStep?: (inputs: number) => void;
  signal?: AbortSignal;
}

/** A batched program: per-example gradients of the scored weights, summed ones of the rest. */
interface BatchProgram {
  device: string;
  run(lr: Float32Array, hr: Float32Array, weights: Record<string, Float32Array>): Promise<{ losses: Float32Array; grads: Record<string, Float32Array> }>;
  release(): Promise<void>;
}

async function batchProgram(target: LoadedModel, pair: Pair, scored: string[], batch: number, size: { width: number; height: number }, o: FaigOptions): Promise<BatchProgram> {
  const c = target.info.inputChannels;
  const s = target.info.scale;
  const shape: [number, number, number, number] = [batch, c, size.height, size.width];
  const gg = buildGradientGraph(target.graph, { inputShape: shape, objective: { kind: 'sse' }, wrtInput: false, wrtWeights: pair.moving, weightsAs: 'inputs', perExample: scored });
  const session = await createSession(gg.graph, { device: o.device, threads: o.threads, onWarning: o.onWarning });
  const weightDims = new Map(pair.moving.map((w) => [w, target.graph.initializers.get(w)!.dims]));
  return {
    device: session.device,
    async run(lr, hr, weights) {
      const feeds: Record<string, TensorData> = {
        [target.info.inputName]: { dtype: 'float32', dims: shape, data: lr },
        lvi_target: { dtype: 'float32', dims: [batch, c, size.height * s, size.width * s], data: hr },
      };
      for (const [w, data] of Object.entries(weights)) feeds[w] = { dtype: 'float32', dims: weightDims.get(w)!, data };
      const out = await session.run(feeds);
      const grads: Record<string, Float32Array> = {};
      for (const [w, name] of Object.entries(gg.outputs.weightGrads)) grads[w] = out[name]!.data as Float32Array;
      return { losses: out[gg.outputs.objective]!.data as Float32Array, grads };
    },
    release: () => session.release(),
  };
}

export interface Attribution {
  /** S per input, [inputs, K]. */
  single: Float32Array;
  /** Per input: L(baseline) - L(target), and the part of the attribution in the scored weights. */
  inputs: { lossChange: number; attributedKernels: number }[];
  /** Integrated gradients' completeness over all inputs: attribution over every moving parameter / sum of L(baseline) - L(target). */
  completeness: number;
  device: string;
  /** Inputs per run, and why not more. */
  batch: number;
  batchNote?: string;
}

/**
 * FAIG of every input (its LR and the loss's target image): S per input, the loss changes and
 * the completeness of the path integral. Inputs of one LR size go in batches of up to `batch`;
 * memory holds one batch's gradient sums, whatever the number of inputs.
 */
export async function attributeAll(
  baseline: LoadedModel,
  target: LoadedModel,
  pair: Pair,
  inputs: { lr: Image; hr: Image }[],
  o: AttributeAllOptions,
): Promise<Attribution> {
  const diff = weightDifference(baseline.graph, target.graph, pair);
  const moving = new Set(pair.moving);
  const scored = pair.index.convs.map((c) => c.weight).filter((w) => moving.has(w));
  const k = pair.index.total;
  const single = new Float32Array(inputs.length * k);
  const perInput: Attribution['inputs'] = inputs.map(() => ({ lossChange: 0, attributedKernels: 0 }));
  let attributed = 0;
  let lossChange = 0;
  let device = String(o.device);
  const wanted = Math.max(1, o.batch ?? 16);
  let batch = wanted;
  let batchNote: string | undefined;
  const bySize = new Map<string, number[]>();
  inputs.forEach(({ lr }, i) => {
    const key = `${lr.width}x${lr.height}`;
    bySize.set(key, [...(bySize.get(key) ?? []), i]);
  });
  for (const members of bySize.values()) {
    const first = inputs[members[0]!]!.lr;
    let b = Math.min(wanted, members.length);
    if (b > 1) {
      const verdict = batchAxisVerdict(target.graph, target.info.inputName, [target.info.inputChannels, first.height, first.width], b);
      if (!verdict.independent) {
        batchNote = `one input per run: ${verdict.reason}`;
        b = 1;
      }
    }
    batch = Math.min(batch, b);
    const programs = new Map<number, BatchProgram>();
    try {
      for (let start = 0; start < members.length; start += b) {
        o.signal?.throwIfAborted();
        const chunk = members.slice(start, start + b);
        // The last chunk may be shorter: it gets a program of its own size (no filler inputs,
        // whose biases' gradients would be summed in with the real ones).
        const n = chunk.length;
        let program = programs.get(n);
        if (!program) {
          program = await batchProgram(target, pair, scored, n, first, o);
          programs.set(n, program);
        }
        device = program.device;
        const lrItem = first.data.length;
        const hrItem = inputs[chunk[0]!]!.hr.data.length;
        const lr = new Float32Array(n * lrItem);
        const hr = new Float32Array(n * hrItem);
        chunk.forEach((i, j) => {
          if (inputs[i]!.hr.data.length !== hrItem) throw new Error('FAIG: the HR images of one LR size differ in size');
          lr.set(inputs[i]!.lr.data, j * lrItem);
          hr.set(inputs[i]!.hr.data, j * hrItem);
        });
        const sums: Record<string, Float32Array> = {};
        for (const w of pair.moving) sums[w] = new Float32Array((scored.includes(w) ? n : 1) * diff[w]!.length);
        let lossTarget: Float32Array | undefined;
        for (let s = 0; s < o.steps; s++) {
          const { losses, grads } = await program.run(lr, hr, pathWeights(baseline.graph, target.graph, pair, s / o.steps));
          if (s === 0) lossTarget = losses.slice();
          for (const [w, g] of Object.entries(grads)) {
            const acc = sums[w]!;
            for (let i = 0; i < acc.length; i++) acc[i] = Math.fround(acc[i]! + g[i]!);
          }
          o.onStep?.(n);
        }
        const { losses: lossBaseline } = await program.run(lr, hr, pathWeights(baseline.graph, target.graph, pair, 1));
        const dot = (g: Float32Array, d: Float32Array) => {
          let t = 0;
          for (let i = 0; i < g.length; i++) t += (g[i]! * d[i]!) / o.steps;
          return t;
        };
        // Scores and attribution per input from its own kernel gradients.
        chunk.forEach((i, j) => {
          const own: Record<string, Float32Array> = {};
          for (const w of scored) own[w] = sums[w]!.subarray(j * diff[w]!.length, (j + 1) * diff[w]!.length);
          single.set(kernelScores(pair.index, own, diff, o.steps), i * k);
          const part = scored.reduce((a, w) => a + dot(own[w]!, diff[w]!), 0);
          const change = lossBaseline[j]! - lossTarget![j]!;
          perInput[i] = { lossChange: change, attributedKernels: part };
          attributed += part;
          lossChange += change;
        });
        // The other moving parameters (biases...) come summed over the batch's inputs.
        for (const w of pair.moving) if (!scored.includes(w)) attributed += dot(sums[w]!, diff[w]!);
      }
    } finally {
      for (const p of programs.values()) await p.release();
    }
  }
  return { single, inputs: perInput, completeness: lossChange !== 0 ? attributed / lossChange : NaN, device, batch, ...(batchNote ? { batchNote } : {}) };
}
