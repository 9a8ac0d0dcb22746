// FAIG of the reference case's pair (MSRResNet x2, 32 features, 4 blocks; K = 13,504 kernels):
// 6 HR crops (64x64, two per bundled image) x 100 path steps x both degradations (blur, noise),
// against the same number of plain forward passes and of forward + weight-gradient passes at the
// target's fixed weights, in the same run, each in its own process (peak memory), on all cores
// and on one; FAIG with its default plan (an input's path points stacked as convolution groups,
// weights constants, 16 points per run) and with the 'inputs' plan (all 12 inputs of a step in
// one run, weights fed as inputs, per-example weight gradients). PyTorch's figure is the reference implementation's own timing
// (test/fixtures/faig/small_3img_20steps/timing.json: 3 images x 20 steps x 2), scaled by the
// work (x10): it is not rerun here (no PyTorch on this machine).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildGradientGraph } from '../../src/runtime/autodiff/index.js';
import { buildSamples } from '../../src/runtime/data/samples.js';
import { createSession, defaultThreads } from '../../src/runtime/engine/index.js';
import { attributeAll, type Plan } from '../../src/runtime/methods/faig/attribution.js';
import { matchPair } from '../../src/runtime/methods/faig/kernels.js';
import { loadOnnxFile, specialiseModel } from '../../src/runtime/models/index.js';
import { type BenchContext, median, mib } from '../lib.js';
import { fixture } from '../../test/helpers/paths.js';

export const title = 'FAIG, MSRResNet x2 pair (K = 13,504), 6 crops x 100 steps x 2 degradations, against forward and gradient passes';

const STEPS = 100;
const CASE = fixture('faig', 'small_3img_20steps');

/** The 6 HR crops under blur and noise, source-major (each crop: blurry, then noisy). */
function inputs() {
  const images = fixture('images');
  const files = ['astronaut.png', 'chelsea.png', 'coffee.png'].map((f) => path.join(images, f));
  const samples = buildSamples(
    [
      { kind: 'call', call: 'blur', args: { sigma: 2, size: 21 }, text: 'blur(sigma=2)' },
      { kind: 'call', call: 'noise', args: { sigma: 0.1, seed: 0 }, text: 'noise(sigma=0.1)' },
    ],
    { data: { dir: images, files, lr: false }, scale: 2, down: 'mean', patch: 64, patches: 2, seed: 0, studyDir: images, withHr: true },
  );
  return samples.images.map((lr, i) => ({ lr, hr: samples.hr[i]! }));
}

interface Job {
  kind: 'forward' | 'gradient' | 'faig';
  threads: number;
  /** FAIG: network evaluations per run (path points, or inputs for the 'inputs' plan). */
  batch?: number;
  plan?: Plan;
}

export interface Measured {
  seconds: number;
  cpuSeconds: number;
  runs: number;
}

export async function job(j: Job): Promise<Measured> {
  const baseline = await loadOnnxFile(path.join(CASE, 'baseline.onnx'));
  const target = await loadOnnxFile(path.join(CASE, 'target.onnx'));
  const pair = matchPair(baseline.graph, target.graph, { baseline: 'baseline', target: 'target' });
  const data = inputs();
  const runs = data.length * STEPS;
  const shape: [number, number, number, number] = [1, 3, 32, 32];
  const c0 = process.cpuUsage();
  if (j.kind === 'faig') {
    const t = performance.now();
    await attributeAll(baseline, target, pair, data, { steps: STEPS, device: 'cpu', threads: j.threads, batch: j.batch ?? 16, ...(j.plan ? { plan: j.plan } : {}) });
    const u = process.cpuUsage(c0);
    return { seconds: (performance.now() - t) / 1000, cpuSeconds: (u.user + u.system) / 1e6, runs };
  }
  const graph = j.kind === 'forward'
    ? specialiseModel(target, shape)
    : buildGradientGraph(target.graph, { inputShape: shape, objective: { kind: 'sse' }, wrtInput: false, wrtWeights: pair.moving, weightsAs: 'constants' }).graph;
  const session = await createSession(graph, { device: 'cpu', threads: j.threads, fresh: true });
  const feeds = (i: number) => ({
    [target.info.inputName]: { dtype: 'float32' as const, dims: shape, data: data[i]!.lr.data },
    ...(j.kind === 'gradient' ? { lvi_target: { dtype: 'float32' as const, dims: [1, 3, 64, 64], data: data[i]!.hr.data } } : {}),
  });
  await session.run(feeds(0));
  const t = performance.now();
  const c = process.cpuUsage();
  for (let r = 0; r < runs; r++) await session.run(feeds(r % data.length));
  const u = process.cpuUsage(c);
  const seconds = (performance.now() - t) / 1000;
  await session.release();
  return { seconds, cpuSeconds: (u.user + u.system) / 1e6, runs };
}

const REPS = 2;

export async function run(ctx: BenchContext): Promise<void> {
  type M = Measured & { peakRssBytes: number };
  const all = defaultThreads();
  const timing = JSON.parse(readFileSync(path.join(CASE, 'timing.json'), 'utf8')) as { threads: Record<string, { best: number }>; images: number; steps: number };
  const scaleUp = (6 * STEPS) / (timing.images * timing.steps);
  const rows: { label: string; job: Job; runs: M[] }[] = [];
  for (const threads of all > 1 ? [all, 1] : [1]) {
    rows.push(
      { label: `${threads} thr: 1,200 forward passes (batch 1)`, job: { kind: 'forward', threads }, runs: [] },
      { label: `${threads} thr: 1,200 forward + weight-gradient passes`, job: { kind: 'gradient', threads }, runs: [] },
      { label: `${threads} thr: FAIG, path points stacked (12 x 7 runs of 15 points)`, job: { kind: 'faig', threads, batch: 16 }, runs: [] },
      { label: `${threads} thr: FAIG, plan 'inputs' (101 runs of 12 inputs)`, job: { kind: 'faig', threads, batch: 12, plan: 'inputs' }, runs: [] },
    );
  }
  for (let r = 0; r < REPS; r++) for (const row of rows) row.runs.push(await ctx.isolated<Measured>(import.meta.url, 'job', row.job));
  const wall = (row: (typeof rows)[number]) => median(row.runs.map((m) => m.seconds));
  ctx.log(`  CPU, medians of ${REPS} interleaved runs, each its own process`);
  ctx.table([
    ['measurement', 'wall s', 'x forward', 'CPU s', 'ms / pass', 'peak RSS'],
    ...rows.map((row, i) => {
      const fwd = rows[i - (i % 4)]!;
      return [row.label, wall(row).toFixed(2), (wall(row) / wall(fwd)).toFixed(2), median(row.runs.map((m) => m.cpuSeconds)).toFixed(2), ((1000 * wall(row)) / 1200).toFixed(1), mib(Math.max(...row.runs.map((m) => m.peakRssBytes)))];
    }),
  ]);
  for (const [threads, t] of Object.entries(timing.threads)) {
    const mine = rows.find((r) => r.job.kind === 'faig' && r.job.threads === Number(threads) && !r.job.plan);
    const torch = t.best * scaleUp;
    ctx.log(`  PyTorch reference, ${threads} thread(s): ${t.best.toFixed(2)} s for ${timing.images} images x ${timing.steps} steps, x${scaleUp} = ${torch.toFixed(1)} s here` + (mine ? `; lvi ${wall(mine).toFixed(1)} s (${(wall(mine) / torch).toFixed(2)}x)` : ''));
  }
}
