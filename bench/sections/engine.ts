// Engine: EDSR-baseline x4 at 48x48 LR. Forward, forward + input gradient (LAM) and all conv
// weight gradients (FAIG) in ONNX Runtime, each in its own process, against the forward-only
// time of the same run. Targets from issue 3: fwd+grad <= 2.2x forward, >= 150 GFLOP/s for
// fwd+grad, weight gradients <= 3.5x forward; memory linear in the batch; auto batch in budget.
// The weight-gradient ratios come from a process that alternates that graph with the forward.

import { buildGradientGraph, TARGET_INPUT, WINDOW_INPUT } from '../../src/runtime/autodiff/index.js';
import type { Objective } from '../../src/runtime/api.js';
import { chooseBatch, createSession, defaultBudgetBytes, defaultThreads, estimateMemory } from '../../src/runtime/engine/index.js';
import type { Graph, TensorData } from '../../src/runtime/graph/ir.js';
import { countFlops } from '../../src/runtime/models/flops.js';
import { sizeOf } from '../../src/runtime/onnx/tensor-util.js';
import { specialise } from '../../src/runtime/onnx/specialise.js';
import { edsrBaseline } from '../fixtures/edsr.js';
import { type BenchContext, median, mib, ms, timeRuns } from '../lib.js';

export const title = 'EDSR-baseline x4 at 48x48: forward, input gradient, weight gradients';

const SIZE = 48;
const SCALE = 4;
const WINDOW = 16;
const MAX_BATCH = 8;

/** weight-grad: differentiated weights fed as graph inputs (one session for a whole FAIG path);
 * weight-grad-const: `weightsAs: 'constants'`, the weights stay initializers that ONNX Runtime
 * pre-packs (one session per FAIG path step, shared by the images of that step). */
type Kind = 'forward' | 'input-grad' | 'weight-grad' | 'weight-grad-const';

export interface Job {
  kind: Kind;
  batch: number;
  threads: number;
  spinning: boolean;
  reps: number;
}

export interface Measured {
  msPerRun: number;
  msPerRunMin: number;
  /** FLOPs of one run as the graph counts them (all nodes). */
  flops: number;
  /** Resident memory once the graph is built, before the session exists. */
  baseRssBytes: number;
  /** Session creation. */
  createMs: number;
}

const LAM_OBJECTIVE: Objective = { kind: 'window', detector: 'gradient', reduce: 'sum' };

function convWeights(g: Graph): string[] {
  return g.nodes.filter((n) => n.opType === 'Conv').map((n) => n.inputs[1]);
}

/** The graph one job runs, specialised to its batch (`forward`: the model, built once per process). */
export function jobGraph(kind: Kind, batch: number, forward: Graph = edsrBaseline({ seed: 1 })): Graph {
  const shape: [number, number, number, number] = [batch, 3, SIZE, SIZE];
  if (kind === 'forward') return specialise(forward, shape);
  const weights = kind === 'input-grad' ? undefined : convWeights(forward);
  const grad = buildGradientGraph(forward, {
    inputShape: shape,
    objective: kind === 'input-grad' ? LAM_OBJECTIVE : { kind: 'sse' },
    wrtInput: kind === 'input-grad',
    wrtWeights: weights,
    weightsAs: kind === 'weight-grad-const' ? 'constants' : 'inputs',
  });
  return specialise(grad.graph, {});
}

function feedsFor(g: Graph, forward: Graph): Record<string, TensorData> {
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const feeds: Record<string, TensorData> = {};
  for (const input of g.inputs) {
    const dims = input.shape as number[];
    const n = sizeOf(dims);
    let data: Float32Array;
    if (input.name === WINDOW_INPUT) {
      data = new Float32Array(n);
      const [h, w] = [dims[2], dims[3]];
      const y0 = (h - WINDOW) >> 1;
      const x0 = (w - WINDOW) >> 1;
      for (let y = y0; y < y0 + WINDOW; y++) data.fill(1, y * w + x0, y * w + x0 + WINDOW);
    } else if (forward.initializers.has(input.name)) {
      data = forward.initializers.get(input.name)!.data as Float32Array; // weights fed as inputs
    } else {
      data = new Float32Array(n).map(rand);
      if (input.name === TARGET_INPUT) data = data.map((v) => v * 0.5 + 0.25);
    }
    feeds[input.name] = { dtype: 'float32', dims, data };
  }
  return feeds;
}

/** Child-process entry: build, run `reps` times after warm-up, report. */
export async function measure(job: Job): Promise<Measured> {
  const forward = edsrBaseline({ seed: 1 });
  const g = jobGraph(job.kind, job.batch, forward);
  const feeds = feedsFor(g, forward);
  const flops = countFlops(g).total;
  (globalThis as { gc?: () => void }).gc?.();
  const baseRssBytes = process.memoryUsage().rss;
  const t0 = performance.now();
  const session = await createSession(g, { device: 'cpu', threads: job.threads, spinning: job.spinning, fresh: true });
  const createMs = performance.now() - t0;
  const times = await timeRuns(() => session.run(feeds), job.reps);
  await session.release();
  return { msPerRun: median(times), msPerRunMin: Math.min(...times), flops, baseRssBytes, createMs };
}

export interface Paired {
  /** Median ms of the job's graph and of the batch-1 forward, runs alternating in one process. */
  msPerRun: number;
  forwardMsPerRun: number;
}

/**
 * Child-process entry: the job's graph and the forward alternate run by run, so a ratio between
 * them holds up on a shared machine where load changes between processes.
 */
export async function measurePaired(job: Job): Promise<Paired> {
  const forward = edsrBaseline({ seed: 1 });
  const g = jobGraph(job.kind, job.batch, forward);
  const f = jobGraph('forward', 1, forward);
  const options = { device: 'cpu' as const, threads: job.threads, spinning: job.spinning, fresh: true };
  const [sg, sf] = [await createSession(g, options), await createSession(f, options)];
  const [fg, ff] = [feedsFor(g, forward), feedsFor(f, forward)];
  const tg: number[] = [];
  const tf: number[] = [];
  for (let i = 0; i < 2; i++) {
    await sg.run(fg);
    await sf.run(ff);
  }
  for (let i = 0; i < job.reps; i++) {
    tg.push(...(await timeRuns(() => sg.run(fg), 1, 0)));
    tf.push(...(await timeRuns(() => sf.run(ff), 1, 0)));
  }
  await sg.release();
  await sf.release();
  return { msPerRun: median(tg), forwardMsPerRun: median(tf) };
}

export async function run(ctx: BenchContext): Promise<void> {
  const threads = defaultThreads();
  const reps = Number(process.env.LVI_BENCH_REPS ?? 7);
  const budget = process.env.LVI_BENCH_BUDGET_MB ? Number(process.env.LVI_BENCH_BUDGET_MB) * 2 ** 20 : defaultBudgetBytes();
  const m = (kind: Kind, batch: number, spinning = false) =>
    ctx.isolated<Measured>(import.meta.url, 'measure', { kind, batch, threads, spinning, reps } satisfies Job);

  const fwdGraph = jobGraph('forward', 1);
  const fwdFlops = countFlops(fwdGraph);
  ctx.log(`threads ${threads}, ${reps} timed runs per figure (median), each figure in its own process`);
  ctx.log(`forward: ${(fwdFlops.total / 1e9).toFixed(2)} GFLOP per image (convolutions ${(fwdFlops.matrix / 1e9).toFixed(2)})`);

  // Batch for the input gradient from the memory estimate of the batch-1 gradient graph.
  const est = estimateMemory(jobGraph('input-grad', 1));
  const auto = chooseBatch({ perItemBytes: est.perItemBytes, fixedBytes: est.fixedBytes, budgetBytes: budget, max: MAX_BATCH });
  ctx.log(
    `input-gradient memory estimate per path step: ${mib(est.perItemBytes)} (no reuse; liveness lower bound ` +
      `${mib(est.peakActivationBytes)}) + ${mib(est.fixedBytes)} fixed; budget ${mib(budget)} -> automatic batch ${auto} (max ${MAX_BATCH})`,
  );

  // Spinning on vs off, forward and gradient at batch 1.
  const fwdOff = await m('forward', 1, false);
  const fwdOn = await m('forward', 1, true);
  const gradOff = await m('input-grad', 1, false);
  const gradOn = await m('input-grad', 1, true);
  ctx.log();
  ctx.log('intra-op spinning (session.intra_op.allow_spinning), batch 1:');
  ctx.table([
    ['', 'spinning off', 'spinning on', 'on/off'],
    ['forward', ms(fwdOff.msPerRun), ms(fwdOn.msPerRun), (fwdOn.msPerRun / fwdOff.msPerRun).toFixed(2)],
    ['forward + input grad', ms(gradOff.msPerRun), ms(gradOn.msPerRun), (gradOn.msPerRun / gradOff.msPerRun).toFixed(2)],
  ]);
  ctx.log('  (lvi uses spinning off: same speed or better here, and no collapse when another job holds a core)');

  // Batches for the gradient: 1, 2, 4, 8 (linearity) and the automatic one.
  const batches = [...new Set([1, 2, 4, 8, auto])].sort((a, b) => a - b);
  const grads = new Map<number, Measured & { peakRssBytes: number }>();
  for (const b of batches) grads.set(b, b === 1 ? gradOff : await m('input-grad', b));
  const fwdAuto = await m('forward', auto);
  const weights = await m('weight-grad', 1);
  const weightsConst = await m('weight-grad-const', 1);
  const paired = (kind: Kind) =>
    ctx.isolated<Paired>(import.meta.url, 'measurePaired', { kind, batch: 1, threads, spinning: false, reps: 2 * reps + 1 } satisfies Job);
  const weightsPaired = await paired('weight-grad');
  const weightsConstPaired = await paired('weight-grad-const');

  const base = fwdOff.msPerRun;
  const used = (r: Measured & { peakRssBytes: number }) => r.peakRssBytes - r.baseRssBytes;
  const gflops = (r: Measured) => r.flops / (r.msPerRun / 1000) / 1e9;
  const gAuto = grads.get(auto)!;
  ctx.log();
  ctx.log(`per path step (one image), forward-only baseline ${ms(base)} at batch 1:`);
  ctx.table([
    ['', 'ms/step', 'x forward', 'GFLOP/s', 'peak memory', 'target'],
    ['forward, batch 1', ms(base), '1.00', gflops(fwdOff).toFixed(0), mib(used(fwdOff)), ''],
    [`forward, batch ${auto}`, ms(fwdAuto.msPerRun / auto), (fwdAuto.msPerRun / auto / base).toFixed(2), gflops(fwdAuto).toFixed(0), mib(used(fwdAuto)), ''],
    ...batches.map((b) => {
      const r = grads.get(b)!;
      const per = r.msPerRun / b;
      return [
        `fwd + input grad, batch ${b}${b === auto ? ' (auto)' : ''}`,
        ms(per),
        (per / base).toFixed(2),
        gflops(r).toFixed(0),
        mib(used(r)),
        b === 1 || b === auto ? '<= 2.2x, >= 150 GFLOP/s' : '',
      ];
    }),
    ['weight grads (all convs), weights as inputs, batch 1', ms(weights.msPerRun), (weights.msPerRun / base).toFixed(2), gflops(weights).toFixed(0), mib(used(weights)), '<= 3.5x'],
    ['  same, weights as constants (session per step)', ms(weightsConst.msPerRun), (weightsConst.msPerRun / base).toFixed(2), gflops(weightsConst).toFixed(0), mib(used(weightsConst)), '<= 3.5x'],
  ]);
  ctx.log(
    `  session creation: forward ${ms(fwdOff.createMs)}, fwd + input grad ${ms(gradOff.createMs)}, ` +
      `weight grads ${ms(weights.createMs)}, weight grads with weights as constants ${ms(weightsConst.createMs)} ` +
      `(paid once per FAIG path step with constants, shared by that step's images)`,
  );
  ctx.log('  GFLOP/s counts every node of the graph that ran (the gradient graph holds its own backward convolutions).');
  const pair = (p: Paired) => `${ms(p.msPerRun)} vs forward ${ms(p.forwardMsPerRun)} = ${(p.msPerRun / p.forwardMsPerRun).toFixed(2)}x`;
  ctx.log(
    `  weight grads alternating run by run with the forward in one process (${2 * reps + 1} runs each, medians; ` +
      `the targets use these): weights as inputs ${pair(weightsPaired)}, as constants ${pair(weightsConstPaired)}`,
  );

  // Memory against the batch: least-squares line through the measured peaks.
  const xs = batches;
  const ys = batches.map((b) => used(grads.get(b)!));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const slope = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const icpt = my - slope * mx;
  const worst = Math.max(...xs.map((x, i) => Math.abs(ys[i] - (icpt + slope * x))));
  ctx.log();
  ctx.log(
    `memory vs batch (fwd + input grad): ${mib(icpt)} + ${mib(slope)} per step (estimate ${mib(est.perItemBytes)}, ` +
      `liveness ${mib(est.peakActivationBytes)}); ` +
      `largest deviation from the line ${mib(worst)}`,
  );

  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const r1 = gradOff.msPerRun / base;
  const rAuto = gAuto.msPerRun / auto / base;
  // Weight-gradient ratios from the paired runs (forward alternating in the same process).
  const rw = weightsPaired.msPerRun / weightsPaired.forwardMsPerRun;
  const rwc = weightsConstPaired.msPerRun / weightsConstPaired.forwardMsPerRun;
  ctx.log();
  ctx.log('targets:');
  ctx.table([
    ['fwd + input grad <= 2.2x forward', `batch 1: ${r1.toFixed(2)}x`, `auto batch ${auto}: ${rAuto.toFixed(2)}x`, verdict(Math.min(r1, rAuto) <= 2.2)],
    ['fwd + input grad >= 150 GFLOP/s', `batch 1: ${gflops(gradOff).toFixed(0)}`, `auto batch ${auto}: ${gflops(gAuto).toFixed(0)}`, verdict(Math.max(gflops(gradOff), gflops(gAuto)) >= 150)],
    [
      'weight grads <= 3.5x forward',
      `weights as inputs: ${rw.toFixed(2)}x`,
      `as constants: ${rwc.toFixed(2)}x`,
      rw <= 3.5 ? verdict(true) : rwc <= 3.5 ? 'met with weights as constants' : verdict(false),
    ],
    ['auto batch inside the budget', `${mib(used(gAuto))} used`, `budget ${mib(budget)}`, verdict(used(gAuto) <= budget)],
  ]);
}
