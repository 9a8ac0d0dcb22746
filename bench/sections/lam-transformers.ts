// LAM on SwinIR-light x4 (the swinir_coffee reference export, opset 17), 64x64 LR, window
// (120,100,16,16), 50 steps, defaults: lvi's LAM end to end against 50 of lvi's own forward
// passes and 50 forward + input-gradient passes of the whole image in the same run, each in
// its own process (peak memory). Issue 12's speed question; PyTorch is not installed here, so
// the authors' figure comes from the reference's di.json (seconds_lam, its own machine).

import { readFileSync } from 'node:fs';
import { deriveLr, readImage } from '../../src/runtime/image/index.js';
import { windowMask } from '../../src/runtime/methods/lam/compute.js';
import { runLam } from '../../src/runtime/methods/lam/kernel.js';
import { forwardPrograms, windowPrograms } from '../../src/runtime/methods/lam/program.js';
import { defaultThreads } from '../../src/runtime/engine/index.js';
import { loadModel } from '../../src/runtime/models/index.js';
import { type BenchContext, median, mib } from '../lib.js';
import { fixture } from '../../test/helpers/paths.js';

export const title = 'LAM, SwinIR-light x4, 64x64 LR, window (120,100,16,16), 50 steps: end to end against 50 of its own forward passes';

const STEPS = 50;
const REPS = 2;
const WINDOW = { x: 120, y: 100, w: 16, h: 16 };

type Kind = 'forward' | 'fwd+grad' | 'lam';
interface Measured {
  seconds: number;
  cpuSeconds: number;
  batch?: number;
  batchReason?: string | null;
  di?: number;
}

const model = () => loadModel({ file: fixture('lam', 'swinir_coffee', 'model.onnx') });
const images = () => deriveLr(readImage(fixture('lam', 'coffee_256.png')), 4);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number, number]> {
  const c = process.cpuUsage();
  const t = performance.now();
  const value = await fn();
  const u = process.cpuUsage(c);
  return [value, (performance.now() - t) / 1000, (u.user + u.system) / 1e6];
}

/** One measurement, in a fresh process (bench/child.ts). */
export async function job(kind: Kind): Promise<Measured> {
  const m = await model();
  const { lr } = images();
  const shape: [number, number, number, number] = [1, 3, lr.height, lr.width];
  if (kind === 'lam') {
    const [r, seconds, cpuSeconds] = await timed(() =>
      runLam(m, { lr }, {
        window: WINDOW, path: 'progressive-blur', sigma: 1.2, steps: STEPS, kernel: 9, detector: 'gradient', reduce: 'sum', batch: 'auto', crop: 'auto',
      }, { device: 'cpu', progress: () => {}, warn: () => {} }));
    return { seconds, cpuSeconds, batch: r.result.batch, batchReason: r.result.batchReason ?? null, di: r.result.di };
  }
  // Sessions made and warmed outside the timing, as LAM's own are before its first timed step.
  const mask = windowMask(4 * lr.width, 4 * lr.height, WINDOW);
  const program = kind === 'forward' ? await forwardPrograms(m, { device: 'cpu' })(shape) : await windowPrograms(m, { kind: 'window', detector: 'gradient', reduce: 'sum' }, { device: 'cpu' })(shape);
  const once = () => (kind === 'forward' ? (program as { run(x: Float32Array): Promise<unknown> }).run(lr.data) : program.run(lr.data, mask));
  await once();
  await once();
  const [, seconds, cpuSeconds] = await timed(async () => {
    for (let i = 0; i < STEPS; i++) await once();
  });
  await program.release();
  return { seconds, cpuSeconds };
}

export async function run(ctx: BenchContext): Promise<void> {
  const kinds: Kind[] = ['forward', 'fwd+grad', 'lam'];
  const runs = new Map<Kind, (Measured & { peakRssBytes: number })[]>(kinds.map((k) => [k, []]));
  // Interleaved, so that a busy machine weighs on every kind alike.
  for (let r = 0; r < REPS; r++) for (const k of kinds) runs.get(k)!.push(await ctx.isolated<Measured>(import.meta.url, 'job', k));
  const wall = (k: Kind) => median(runs.get(k)!.map((x) => x.seconds));
  const cpu = (k: Kind) => median(runs.get(k)!.map((x) => x.cpuSeconds));
  const peak = (k: Kind) => Math.max(...runs.get(k)!.map((x) => x.peakRssBytes));
  const f = wall('forward');
  const fc = cpu('forward');
  const lam = runs.get('lam')![0]!;
  const reference = JSON.parse(readFileSync(fixture('lam', 'swinir_coffee', 'di.json'), 'utf8')) as { seconds_lam: number; threads: number };
  ctx.log(`  ${defaultThreads()} threads; medians of ${REPS} interleaved runs, each in its own process; LAM ran batch ${lam.batch} (${lam.batchReason ?? 'batched'}), DI ${lam.di?.toFixed(4)}`);
  ctx.table([
    ['measurement', 'wall s', 'x forward', 'CPU s', 'x forward', 'peak RSS'],
    ...([['forward', `${STEPS} forward passes (baseline)`], ['fwd+grad', `${STEPS} forward + input-gradient passes`], ['lam', `LAM end to end (${STEPS} steps + baseline)`]] as const).map(([k, label]) => [
      label, wall(k).toFixed(2), (wall(k) / f).toFixed(2), cpu(k).toFixed(2), (cpu(k) / fc).toFixed(2), mib(peak(k)),
    ]),
    [`LAM in PyTorch (${reference.threads} threads, reference machine, from di.json)`, reference.seconds_lam.toFixed(2), '', '', '', 'not rerun here'],
  ]);
}
