// LAM: 50 path steps on the CARN reference case (64x64 LR, x4, window (120,100,16,16)), end to
// end (gradient graph, sessions, path, every step, maps), against 50 plain forward passes of
// the same model at the same size measured in the same run. Targets from issue 4: at most
// 2.5x the forward passes and under 6 s on the 2-core development machine (the authors' code
// needs about 25 s there). The defaults include batch=auto, which times batch 1 against the
// largest batch that fits on the first path points and runs the rest with the faster one; the
// batch=1 row is the baseline for that choice.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createSession, defaultThreads } from '../../src/runtime/engine/index.js';
import { deriveLr, readImage } from '../../src/runtime/image/index.js';
import { runLam, type LamParams } from '../../src/runtime/methods/lam/kernel.js';
import { loadModel, specialiseModel } from '../../src/runtime/models/index.js';
import { type BenchContext, median } from '../lib.js';
import { fixture } from '../../test/helpers/paths.js';

export const title = 'LAM, 50 steps, CARN x4 reference case (64x64 LR): end to end against 50 forward passes';

const STEPS = 50;
const REPS = 3;

export async function run(ctx: BenchContext): Promise<void> {
  const caseDir = fixture('lam', 'carn_coffee');
  const model = await loadModel({ file: path.join(caseDir, 'model.onnx') });
  const images = deriveLr(readImage(fixture('lam', 'coffee_256.png')), 4);
  const reference = JSON.parse(readFileSync(path.join(caseDir, 'di.json'), 'utf8')) as { seconds_lam: number; threads: number };
  const params: LamParams = {
    window: { x: 120, y: 100, w: 16, h: 16 },
    path: 'progressive-blur',
    sigma: 1.2,
    steps: STEPS,
    kernel: 9,
    detector: 'gradient',
    reduce: 'sum',
    batch: 'auto',
    crop: 'auto',
  };
  const quiet = { device: 'cpu' as const, progress: () => {}, warn: (m: string) => ctx.log(`  warning: ${m}`) };

  // 50 plain forward passes, batch 1, session made (and warmed) outside the timing.
  const forward = await createSession(specialiseModel(model, [1, 3, images.lr.height, images.lr.width]), { device: 'cpu', fresh: true });
  const feeds = { [model.info.inputName]: { dtype: 'float32' as const, dims: [1, 3, images.lr.height, images.lr.width], data: images.lr.data } };
  await forward.run(feeds);
  // Wall and CPU seconds: on a shared machine CPU time shows the work done when other jobs
  // stretch the wall clock.
  const timed = async (fn: () => Promise<unknown>): Promise<[number, number]> => {
    const c = process.cpuUsage();
    const t = performance.now();
    await fn();
    const u = process.cpuUsage(c);
    return [(performance.now() - t) / 1000, (u.user + u.system) / 1e6];
  };
  const forwardRuns = () =>
    timed(async () => {
      for (let i = 0; i < STEPS; i++) await forward.run(feeds);
    });

  const fwd: [number, number][] = [];
  const variants: { label: string; params: LamParams; seconds: [number, number][] }[] = [
    { label: `LAM ${STEPS} steps, end to end (defaults)`, params, seconds: [] },
    { label: `LAM ${STEPS} steps, batch=1`, params: { ...params, batch: 1 }, seconds: [] },
    { label: `LAM ${STEPS} steps, whole image (crop=off)`, params: { ...params, crop: 'off' }, seconds: [] },
  ];
  let facts = '';
  const choices: string[] = []; // batch=auto's pick in each rep, with the ms per step it measured
  // Interleaved, so load from other jobs on the machine hits every variant alike.
  for (let r = 0; r < REPS; r++) {
    fwd.push(await forwardRuns());
    for (const v of variants) {
      let res: Awaited<ReturnType<typeof runLam>> | undefined;
      v.seconds.push(await timed(async () => (res = await runLam(model, images, v.params, quiet))));
      if (v === variants[0] && res) {
        const c = res.result.crop;
        const probe = Object.entries(res.result.batchProbe ?? {}).map(([b, ms]) => `${b}: ${ms.toFixed(1)}`);
        choices.push(`${res.result.batch}${probe.length ? ` (ms/step ${probe.join(', ')})` : ''}`);
        facts = `${c ? `LR crop ${c.w}x${c.h} of ${images.lr.width}x${images.lr.height}` : 'whole image'}, DI ${res.result.di.toFixed(4)}`;
      }
    }
  }
  await forward.release();

  const wall = (xs: [number, number][]) => median(xs.map((x) => x[0]));
  const cpu = (xs: [number, number][]) => median(xs.map((x) => x[1]));
  const f = wall(fwd);
  const fc = cpu(fwd);
  const l = wall(variants[0].seconds);
  ctx.log(`  ${defaultThreads()} threads; medians of ${REPS} interleaved runs; defaults: ${facts}`);
  ctx.log(`  batch=auto ran batch ${choices.join('; ')}`);
  ctx.table([
    ['measurement', 'wall s', 'x forward', 'CPU s', 'x forward', 'target'],
    [`${STEPS} forward passes (baseline)`, f.toFixed(2), '1.00', fc.toFixed(2), '1.00', ''],
    ...variants.map((v, i) => {
      const w = wall(v.seconds);
      const c = cpu(v.seconds);
      const verdict = i === 0 ? `wall <= 2.5x and < 6 s: ${l / f <= 2.5 && l < 6 ? 'met' : 'NOT met'}` : '';
      return [v.label, w.toFixed(2), (w / f).toFixed(2), c.toFixed(2), (c / fc).toFixed(2), verdict];
    }),
    [`authors' code (PyTorch, ${reference.threads} thread, from di.json)`, reference.seconds_lam.toFixed(2), '', '', '', 'not rerun here'],
  ]);
}
