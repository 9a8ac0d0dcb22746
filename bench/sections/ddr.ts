// DDR: features of 1,000 samples (32x32 LR crops of the bundled images) from the zoo's RDN x4
// (2.6M parameters), against 1,000 plain forward passes of the whole network in the same run,
// each in its own process (peak memory per process), interleaved, wall and CPU seconds. Then the wide case: the flattened body
// output (64 x 32 x 32 = 65,536 values per sample) and its exact PCA through the N x N Gram
// matrix, whose memory is set beside a dense N x D float64 copy of the features.

import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSession, defaultThreads } from '../../src/runtime/engine/index.js';
import { readImage, readNpy, writeNpy } from '../../src/runtime/image/index.js';
import { cropImage, type Image } from '../../src/runtime/image/image.js';
import { pca } from '../../src/runtime/linalg/pca.js';
import { extractFeatures, type Pool } from '../../src/runtime/methods/ddr/features.js';
import { loadModel, specialiseModel } from '../../src/runtime/models/index.js';
import { type BenchContext, median, mib } from '../lib.js';
import { fixture } from '../../test/helpers/paths.js';

export const title = 'DDR features, RDN x4 (2.6M parameters), 1,000 samples at 32x32 LR, against plain forward passes';

const ZOO = 'rdn/x4';
const N = 1000;
const SIZE = 32;
const BATCH = 8; // 1,000 = 125 x 8: no partial batch
const DEEP = 'FDF'; // global residual sum: the body's output, the upsampler's input
const LAYERS = ['LRL_1', 'LRL_5', DEEP];
const WIDE_N = 300; // SRGA-sized sets (the paper: 800 patches)

/** N crops of SIZE x SIZE on a seeded grid over the three bundled images. */
function samples(n: number): Image[] {
  const imgs = ['astronaut.png', 'chelsea.png', 'coffee.png'].map((f) => readImage(fixture('images', f)));
  let s = 7;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, (_, i) => {
    const img = imgs[i % imgs.length];
    return cropImage(img, Math.floor(rand() * (img.width - SIZE)), Math.floor(rand() * (img.height - SIZE)), SIZE, SIZE);
  });
}

const WIDE_FILE = path.join(os.tmpdir(), `lvi-bench-ddr-wide-${process.ppid}.npy`);

interface Job {
  /** wide: flattened features of WIDE_N samples, saved for load / gram (each its own process). */
  kind: 'forward' | 'features' | 'wide' | 'load' | 'gram';
  file?: string;
  layers?: string[];
  pool?: Pool;
}

export interface Measured {
  seconds: number;
  /** CPU seconds of the process over the same span (steadier than wall time on a shared machine). */
  cpuSeconds?: number;
  rows?: number;
  dim?: number;
  featureBytes?: number;
  denseFloat64Bytes?: number;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

export async function job(j: Job): Promise<Measured> {
  if (j.kind === 'load' || j.kind === 'gram') {
    const f = readNpy(j.file!);
    const [n, d] = f.shape;
    if (j.kind === 'load') return { seconds: 0, rows: n, dim: d };
    const t = performance.now();
    const r = pca(f.data, n, d, 50);
    if (r.route !== 'gram') throw new Error('expected the Gram route');
    return { seconds: (performance.now() - t) / 1000, rows: n, dim: d, denseFloat64Bytes: n * d * 8 };
  }
  const model = await loadModel({ zoo: ZOO });
  const inputs = samples(j.kind === 'wide' ? WIDE_N : N);
  const threads = defaultThreads();
  if (j.kind === 'forward') {
    const session = await createSession(specialiseModel(model, [BATCH, 3, SIZE, SIZE]), { device: 'cpu', threads, fresh: true });
    const feed = new Float32Array(BATCH * 3 * SIZE * SIZE);
    const dims = [BATCH, 3, SIZE, SIZE];
    // One warm-up run outside the timing (the features' session is made and warmed inside theirs).
    await session.run({ [model.info.inputName]: { dtype: 'float32', dims, data: feed } });
    const t = performance.now();
    const c = process.cpuUsage();
    for (let start = 0; start < N; start += BATCH) {
      const part = inputs.slice(start, start + BATCH);
      part.forEach((img, b) => feed.set(img.data, b * img.data.length));
      await session.run({ [model.info.inputName]: { dtype: 'float32', dims, data: feed } });
    }
    const seconds = (performance.now() - t) / 1000;
    const cpuSeconds = cpuSince(c);
    await session.release();
    return { seconds, cpuSeconds };
  }
  const t = performance.now();
  const c = process.cpuUsage();
  const f = await extractFeatures(model, inputs, { layers: j.layers ?? [DEEP], pool: j.pool ?? 'mean', device: 'cpu', threads, batch: BATCH });
  const seconds = (performance.now() - t) / 1000;
  const cpuSeconds = cpuSince(c);
  const featureBytes = f.reduce((a, x) => a + x.data.byteLength, 0);
  if (j.kind === 'wide') writeNpy(j.file!, f[0].data, [f[0].data.length / f[0].dim, f[0].dim]);
  return { seconds, cpuSeconds, rows: f[0].data.length / f[0].dim, dim: f[0].dim, featureBytes };
}

const REPS = 2;

export async function run(ctx: BenchContext): Promise<void> {
  type M = Measured & { peakRssBytes: number };
  const jobs: { label: string; job: Job; runs: M[] }[] = [
    { label: `${N} forward passes of the whole network (baseline)`, job: { kind: 'forward' }, runs: [] },
    { label: `features ${DEEP}, pool=mean`, job: { kind: 'features', layers: [DEEP], pool: 'mean' }, runs: [] },
    { label: `features ${LAYERS.join(' + ')}, pool=mean, one pass`, job: { kind: 'features', layers: LAYERS, pool: 'mean' }, runs: [] },
    { label: `features ${DEEP}, pool=none (flattened)`, job: { kind: 'features', layers: [DEEP], pool: 'none' }, runs: [] },
  ];
  // Interleaved repetitions, so load from other jobs on the machine hits every row alike.
  for (let r = 0; r < REPS; r++) for (const j of jobs) j.runs.push(await ctx.isolated<Measured>(import.meta.url, 'job', j.job));
  const wall = (j: (typeof jobs)[number]) => median(j.runs.map((m) => m.seconds));
  const cpu = (j: (typeof jobs)[number]) => median(j.runs.map((m) => m.cpuSeconds!));
  const fwd = jobs[0];
  ctx.log(`  ${defaultThreads()} threads, batch ${BATCH}, CPU; medians of ${REPS} interleaved runs, each its own process (peak RSS includes the model and ONNX Runtime)`);
  ctx.table([
    ['measurement', 'wall s', 'x forward', 'CPU s', 'x forward', 'peak RSS', 'features held'],
    ...jobs.map((j, i) => {
      const m = j.runs[0];
      const held = i === 0 ? '' : `${m.rows} x ${m.dim} float32${j.job.layers!.length > 1 ? ` x ${j.job.layers!.length} layers` : ''} (${mib(m.featureBytes!)})`;
      return [j.label, wall(j).toFixed(2), (wall(j) / wall(fwd)).toFixed(2), cpu(j).toFixed(2), (cpu(j) / cpu(fwd)).toFixed(2), mib(Math.max(...j.runs.map((x) => x.peakRssBytes))), held];
    }),
  ]);

  const wide = await ctx.isolated<Measured>(import.meta.url, 'job', { kind: 'wide', layers: [DEEP], pool: 'none', file: WIDE_FILE } satisfies Job);
  let load: Measured & { peakRssBytes: number };
  let gram: Measured & { peakRssBytes: number };
  try {
    load = await ctx.isolated<Measured>(import.meta.url, 'job', { kind: 'load', file: WIDE_FILE } satisfies Job);
    gram = await ctx.isolated<Measured>(import.meta.url, 'job', { kind: 'gram', file: WIDE_FILE } satisfies Job);
  } finally {
    rmSync(WIDE_FILE, { force: true });
  }
  ctx.log(
    `  wide PCA: ${wide.rows} x ${wide.dim} flattened features (${mib(wide.featureBytes!)} float32), 50 components through the ` +
      `${wide.rows} x ${wide.rows} Gram matrix: ${gram.seconds.toFixed(2)} s, peak ${mib(gram.peakRssBytes)} against ${mib(load.peakRssBytes)} ` +
      `for reading the features alone (+${mib(gram.peakRssBytes - load.peakRssBytes)}); a dense float64 copy of them would be ${mib(gram.denseFloat64Bytes!)}`,
  );
}
