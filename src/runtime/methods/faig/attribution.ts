// FAIG (Xie et al., NeurIPS 2021): integrated gradients in parameter space. For an input x with
// HR image y, along theta_s = a_s * baseline + (1 - a_s) * target, a_s = s / N (s = 0..N-1, the
// target first, the baseline itself never evaluated), G(x) = sum_s dL/dW(theta_s) with L the sum
// of squared errors against y; each kernel scores S(x)[k] = sum over its taps of
// |G(x) * (W_baseline - W_target) / N|, as the authors' faig.py computes it (float32).
//
// Two plans. 'steps' (steps.ts): a run evaluates one input at up to `batch` path points, stacked
// as convolution groups with every weight a constant, one session per chunk of the path; each
// input's gradients stay its own. 'inputs', where the path points cannot be stacked (a moving
// parameter outside a Conv): one session per LR size for the whole path, the moving weights
// graph inputs fed at every step, the inputs of one size as one batch per step with per-example
// convolution weight gradients (the scores need each input's own gradient; a summed batch would
// mix them before the absolute value). Both need a graph that provably keeps a batch's items
// apart (engine/batch-axis.ts); otherwise one input, one path point per run.

import type { Device, LoadedModel } from '../../api.js';
import { buildGradientGraph } from '../../autodiff/index.js';
import { batchAxisVerdict } from '../../engine/batch-axis.js';
import { createSession } from '../../engine/index.js';
import type { Graph, TensorData } from '../../graph/ir.js';
import type { Image } from '../../image/image.js';
import { interpolate, type KernelIndex, type Pair } from './kernels.js';
import { stepGraph, stepRefusal } from './steps.js';

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
  /** Network evaluations per run: path points of one input (plan 'steps') or inputs of one LR size at one path point ('inputs'). */
  batch?: number;
  /** Default: 'steps' where the path points stack, else 'inputs'. */
  plan?: Plan;
  onStep?: (inputs: number) => void;
  signal?: AbortSignal;
}

export type Plan = 'steps' | 'inputs';

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
  plan: Plan;
  /** Network evaluations per run, and why not more (or why not the steps plan). */
  batch: number;
  batchNote?: string;
}

/** One input's result: the gradient sums over the path of every moving weight, and its two losses. */
interface InputSums {
  sums: Record<string, Float32Array>;
  lossTarget: number;
  lossBaseline: number;
}

/** Accumulators of the 'steps' plan stay under this many bytes; more inputs go in several passes. */
const STEP_ACCUMULATOR_BYTES = 256 * 2 ** 20;

/**
 * FAIG of every input (its LR and the loss's target image): S per input, the loss changes and
 * the completeness of the path integral. Memory holds one run's activations and the gradient
 * sums of the inputs in flight (one batch of inputs, or up to 256 MiB of them), whatever the
 * number of inputs.
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
  const dot = (g: Float32Array, d: Float32Array) => {
    let t = 0;
    for (let i = 0; i < g.length; i++) t += (g[i]! * d[i]!) / o.steps;
    return t;
  };
  /** Scores and attribution of input i from its own kernel gradients (`summed`: weights whose sums hold other inputs too). */
  const finish = (i: number, r: InputSums, summed = new Set<string>()) => {
    single.set(kernelScores(pair.index, r.sums, diff, o.steps), i * k);
    const part = scored.reduce((a, w) => a + dot(r.sums[w]!, diff[w]!), 0);
    const change = r.lossBaseline - r.lossTarget;
    perInput[i] = { lossChange: change, attributedKernels: part };
    attributed += part;
    lossChange += change;
    for (const w of pair.moving) if (!scored.includes(w) && !summed.has(w)) attributed += dot(r.sums[w]!, diff[w]!);
  };
  const wanted = Math.max(1, o.batch ?? 16);
  const refusal = stepRefusal(target.graph, pair);
  if (o.plan === 'steps' && refusal) throw new Error(`FAIG: the path points cannot be stacked: ${refusal}`);
  const plan: Plan = o.plan ?? (refusal ? 'inputs' : 'steps');
  let device = String(o.device);
  let batch = wanted;
  let batchNote = plan === 'inputs' && refusal && !o.plan ? `inputs per run, not path points: ${refusal}` : undefined;
  const bySize = new Map<string, number[]>();
  inputs.forEach(({ lr }, i) => {
    const key = `${lr.width}x${lr.height}`;
    bySize.set(key, [...(bySize.get(key) ?? []), i]);
  });
  for (const members of bySize.values()) {
    const first = inputs[members[0]!]!.lr;
    let b = Math.min(wanted, plan === 'steps' ? o.steps + 1 : members.length);
    if (b > 1) {
      const verdict = batchAxisVerdict(target.graph, target.info.inputName, [target.info.inputChannels, first.height, first.width], b);
      if (!verdict.independent) {
        batchNote = `one network evaluation per run: ${verdict.reason}`;
        b = 1;
      }
    }
    // Even chunks of the N + 1 path points: the last one is not a sliver.
    if (plan === 'steps') b = Math.ceil((o.steps + 1) / Math.ceil((o.steps + 1) / b));
    batch = Math.min(batch, b);
    const sized = members.map((i) => inputs[i]!);
    if (sized.some((x) => x.hr.data.length !== sized[0]!.hr.data.length)) throw new Error('FAIG: the HR images of one LR size differ in size');
    if (plan === 'steps') {
      device = await stepsPlan(baseline, target, pair, members, inputs, b, o, (i, r) => finish(i, r));
      continue;
    }
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
        const lr = stack(chunk.map((i) => inputs[i]!.lr.data));
        const hr = stack(chunk.map((i) => inputs[i]!.hr.data));
        const sums: Record<string, Float32Array> = {};
        for (const w of pair.moving) sums[w] = new Float32Array((scored.includes(w) ? n : 1) * diff[w]!.length);
        let lossTarget: Float32Array | undefined;
        for (let s = 0; s < o.steps; s++) {
          const { losses, grads } = await program.run(lr, hr, pathWeights(baseline.graph, target.graph, pair, s / o.steps));
          if (s === 0) lossTarget = losses.slice();
          for (const [w, g] of Object.entries(grads)) accumulate(sums[w]!, g, 0);
          o.onStep?.(n);
        }
        const { losses: lossBaseline } = await program.run(lr, hr, pathWeights(baseline.graph, target.graph, pair, 1));
        const summed = new Set(pair.moving.filter((w) => !scored.includes(w)));
        chunk.forEach((i, j) => {
          const own: Record<string, Float32Array> = {};
          for (const w of scored) own[w] = sums[w]!.subarray(j * diff[w]!.length, (j + 1) * diff[w]!.length);
          finish(i, { sums: own, lossTarget: lossTarget![j]!, lossBaseline: lossBaseline[j]! }, summed);
        });
        // The other moving parameters (biases...) come summed over the batch's inputs.
        for (const w of summed) attributed += dot(sums[w]!, diff[w]!);
      }
    } finally {
      for (const p of programs.values()) await p.release();
    }
  }
  return { single, inputs: perInput, completeness: lossChange !== 0 ? attributed / lossChange : NaN, device, plan, batch, ...(batchNote ? { batchNote } : {}) };
}

/** Items laid end to end (a batch). */
function stack(items: Float32Array[]): Float32Array {
  const out = new Float32Array(items.reduce((a, x) => a + x.length, 0));
  let at = 0;
  for (const x of items) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

/** acc += g[offset .. offset + acc.length], in float32, as the reference sums the path's steps. */
function accumulate(acc: Float32Array, g: Float32Array, offset: number): void {
  for (let i = 0; i < acc.length; i++) acc[i] = Math.fround(acc[i]! + g[offset + i]!);
}

/**
 * The 'steps' plan for the inputs `members` (one LR size): the path points 0, 1/N, ..., (N-1)/N
 * and 1 (the baseline, for its loss only) in chunks of `b`, one session per chunk with
 * the chunk's weights stacked as constants; every input runs once per chunk.
 */
async function stepsPlan(
  baseline: LoadedModel, target: LoadedModel, pair: Pair, members: number[], inputs: { lr: Image; hr: Image }[], b: number,
  o: AttributeAllOptions, finish: (i: number, r: InputSums) => void,
): Promise<string> {
  const n = o.steps;
  const points = [...Array(n).keys()].map((s) => s / n).concat([1]);
  const per = b;
  const sizes = new Map(pair.moving.map((w) => [w, target.graph.initializers.get(w)!.data.length]));
  const bytes = 4 * [...sizes.values()].reduce((a, v) => a + v, 0);
  const block = Math.max(1, Math.floor(STEP_ACCUMULATOR_BYTES / bytes));
  const first = inputs[members[0]!]!;
  const c = target.info.inputChannels;
  let device = String(o.device);
  for (let start = 0; start < members.length; start += block) {
    const group = members.slice(start, start + block);
    const results: InputSums[] = group.map(() => ({ sums: Object.fromEntries(pair.moving.map((w) => [w, new Float32Array(sizes.get(w)!)])), lossTarget: NaN, lossBaseline: NaN }));
    for (let from = 0; from < points.length; from += per) {
      o.signal?.throwIfAborted();
      const alphas = points.slice(from, from + per);
      const m = alphas.length;
      const stepped = stepGraph(baseline.graph, target.graph, pair, alphas);
      const shape: [number, number, number, number] = [m, c, first.lr.height, first.lr.width];
      const gg = buildGradientGraph(stepped.graph, { inputShape: shape, objective: { kind: 'sse' }, wrtInput: false, wrtWeights: [...stepped.stacked.values()], weightsAs: 'constants' });
      // Each chunk's constants differ: a cached session would never be hit again.
      const session = await createSession(gg.graph, { device: o.device, threads: o.threads, onWarning: o.onWarning, fresh: true });
      device = session.device;
      try {
        for (const [g, i] of group.entries()) {
          o.signal?.throwIfAborted();
          const { lr, hr } = inputs[i]!;
          const out = await session.run({
            [target.info.inputName]: { dtype: 'float32', dims: shape, data: stack(Array(m).fill(lr.data)) },
            lvi_target: { dtype: 'float32', dims: [m, c, hr.height, hr.width], data: stack(Array(m).fill(hr.data)) },
          });
          const losses = out[gg.outputs.objective]!.data as Float32Array;
          const r = results[g]!;
          if (from === 0) r.lossTarget = losses[0]!;
          if (from + m === points.length) r.lossBaseline = losses[m - 1]!;
          const moving = Math.min(m, n - from); // the chunk's points before the baseline
          for (const w of pair.moving) {
            const grad = out[gg.outputs.weightGrads[stepped.stacked.get(w)!]!]!.data as Float32Array;
            const len = sizes.get(w)!;
            for (let j = 0; j < moving; j++) accumulate(r.sums[w]!, grad, j * len);
          }
          o.onStep?.(moving);
        }
      } finally {
        await session.release();
      }
    }
    group.forEach((i, g) => finish(i, results[g]!));
  }
  return device;
}
