// LAM of two windows of one image and model with shared forward passes, against each window on
// its own plan (cone) and against both on the whole image, in the same run: the slowest pair of
// examples/lam-zoo.lvi (esrgan-thick x4 on coffee, windows (120,100) and (40,40), 50 steps,
// defaults), whose receptive field (309 LR pixels) leaves the cones most of the 64x64 image.
// Target from issue 13: examples/lam-zoo.lvi at least twice as fast as before the cones; this
// section is its largest part (time the study itself with `lvi run examples/lam-zoo.lvi`).

import { deriveLr, readImage } from '../../src/runtime/image/index.js';
import { computedFlops, runLam, runLamShared, type LamRun } from '../../src/runtime/methods/lam/kernel.js';
import { resolveZooModel } from '../../src/runtime/models/zoo.js';
import { defaultThreads } from '../../src/runtime/engine/index.js';
import { type BenchContext } from '../lib.js';
import { fixture } from '../../test/helpers/paths.js';
import { lamDefaults } from './lam-cone.js';

export const title = 'LAM, two windows of one image (esrgan-thick x4, coffee 64x64 LR, 50 steps): shared forward passes against one plan per window';

const timed = async <T>(fn: () => Promise<T>): Promise<[T, number, number]> => {
  const c = process.cpuUsage();
  const t = performance.now();
  const v = await fn();
  const u = process.cpuUsage(c);
  return [v, (performance.now() - t) / 1000, (u.user + u.system) / 1e6];
};

export async function run(ctx: BenchContext): Promise<void> {
  const model = await resolveZooModel('esrgan-thick/x4');
  const images = deriveLr(readImage(fixture('lam', 'coffee_256.png')), 4);
  const list = [lamDefaults({ x: 120, y: 100, w: 16, h: 16 }), lamDefaults({ x: 40, y: 40, w: 16, h: 16 })];
  const quiet = { device: 'cpu' as const, progress: () => {}, warn: (m: string) => ctx.log(`  warning: ${m}`) };
  const rows: (string | number)[][] = [];
  const flops = (runs: LamRun[]) => runs.reduce((a, r) => a + computedFlops(r), 0);
  const [whole, tw, cw] = await timed(async () => [await runLam(model, images, { ...list[0]!, crop: 'off' }, quiet), await runLam(model, images, { ...list[1]!, crop: 'off' }, quiet)]);
  const [own, to, co] = await timed(async () => [await runLam(model, images, list[0]!, quiet), await runLam(model, images, list[1]!, quiet)]);
  const [shared, ts, cs] = await timed(() => runLamShared(model, images, list, quiet));
  if (!shared) throw new Error('the shared plan was not taken');
  const f0 = flops(whole);
  rows.push(['measurement', 'wall s', 'x whole', 'CPU s', 'x whole', 'GFLOP', 'x whole']);
  const row = (label: string, w: number, c: number, f: number) => rows.push([label, w.toFixed(1), (w / tw).toFixed(2), c.toFixed(1), (c / cw).toFixed(2), (f / 1e9).toFixed(0), (f / f0).toFixed(2)]);
  row('both windows on the whole image (crop=off)', tw, cw, f0);
  row(`each window on its own plan (${own.map((r) => r.plan.plan).join(', ')})`, to, co, flops(own));
  row('shared forward passes (plan shared)', ts, cs, flops(shared));
  ctx.log(`  ${defaultThreads()} threads; one run each, in this order; batch ${[...whole, ...own].map((r) => r.result.batch).join(', ')}`);
  ctx.table(rows);
}
