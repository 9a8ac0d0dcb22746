// Queue: a 24-run LAM sweep (FSRCNN x4 on the 256x256 cat, 10 steps) run by the local executor,
// then through `lvi run --queue` on a local redis-server with 1 and with 2 `lvi worker`s. Wall
// time of the submitting command (workers already started, as they are on a cluster), jobs per
// minute, and the queue's overhead per job from BullMQ's own timestamps: the worker's time per
// job outside the LAM kernel (checks, loaders, executor, publishing the entry) and the gap
// between one job's end and the next one's start on a worker.

import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { fixture, repoRoot } from '../../test/helpers/paths.js';
import { startRedis } from '../../test/runtime/queue/redis.js';
import { QUEUE_NAME, QUEUE_PREFIX, type JobResult } from '../../src/runtime/queue/jobs.js';
import { redisTarget } from '../../src/runtime/queue/url.js';
import { type BenchContext, median } from '../lib.js';

export const title = 'Sweeps through the queue: local executor vs lvi worker x1, x2 (24 LAM runs, 10 steps)';

const RUNS = 24;
const STEPS = 10;
const bin = join(repoRoot, 'bin', 'lvi.js');

function study(): string {
  const windows: string[] = [];
  for (let i = 0; i < RUNS; i++) windows.push(`(${16 + (i % 6) * 40},${16 + Math.floor(i / 6) * 56},16,16)`);
  return [
    'study "bench" out="out/bench"',
    'model f file="fsrcnn.onnx" scale=4 range=1',
    'image cat file="cat.png"',
    `lam eye model=f image=cat window=[${windows.join(', ')}] steps=${STEPS} batch=1`,
    'table di rows=eye',
    '',
  ].join('\n');
}

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvi-bench-queue-'));
  copyFileSync(fixture('lam', 'fsrcnn_chelsea', 'model.onnx'), join(dir, 'fsrcnn.onnx'));
  copyFileSync(fixture('lam', 'chelsea_256.png'), join(dir, 'cat.png'));
  writeFileSync(join(dir, 'bench.lvi'), study());
  return dir;
}

function lvi(args: string[], cwd: string): { done: Promise<number>; output: () => string; kill: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  return { done, output: () => out, kill: (s) => child.kill(s) };
}

async function timed(args: string[], cwd: string): Promise<number> {
  const t = Date.now();
  const p = lvi(args, cwd);
  const code = await p.done;
  if (code !== 0) throw new Error(`lvi ${args.join(' ')} exited ${code}:\n${p.output()}`);
  return (Date.now() - t) / 1000;
}

interface QueueFigures {
  wall: number;
  /** Median ms per job on the worker outside the LAM kernel. */
  workerOverheadMs: number;
  /** Median ms between a job's end and the next job's start on the same worker. */
  gapMs: number;
  /** Median LAM kernel seconds per job. */
  kernelS: number;
}

async function viaQueue(url: string, workers: number): Promise<QueueFigures> {
  const dir = folder();
  const procs = Array.from({ length: workers }, () => lvi(['worker', '--queue', url], dir));
  try {
    const t0 = Date.now();
    while (procs.some((p) => !p.output().includes('waiting for jobs'))) {
      if (Date.now() - t0 > 60_000) throw new Error(`workers did not start:\n${procs.map((p) => p.output()).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const wall = await timed(['run', 'bench.lvi', '--queue', url], dir);
    const queue = new Queue(QUEUE_NAME, { connection: redisTarget(url).options, prefix: QUEUE_PREFIX });
    const jobs = await queue.getJobs(['completed']);
    await queue.close();
    const overhead: number[] = [];
    const kernel: number[] = [];
    const byWorker = new Map<string, { start: number; end: number }[]>();
    for (const j of jobs) {
      const r = j.returnvalue as JobResult;
      if (!j.processedOn || !j.finishedOn) continue;
      overhead.push(j.finishedOn - j.processedOn - r.seconds * 1000);
      kernel.push(r.seconds);
      byWorker.set(r.worker, [...(byWorker.get(r.worker) ?? []), { start: j.processedOn, end: j.finishedOn }]);
    }
    const gaps: number[] = [];
    for (const runs of byWorker.values()) {
      runs.sort((a, b) => a.start - b.start);
      for (let i = 1; i < runs.length; i++) gaps.push(runs[i].start - runs[i - 1].end);
    }
    if (jobs.length !== RUNS) throw new Error(`expected ${RUNS} completed jobs, found ${jobs.length}`);
    return { wall, workerOverheadMs: median(overhead), gapMs: gaps.length ? median(gaps) : NaN, kernelS: median(kernel) };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.done));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  const local = folder();
  let localWall: number;
  try {
    localWall = await timed(['run', 'bench.lvi'], local);
  } finally {
    rmSync(local, { recursive: true, force: true });
  }
  const redis = await startRedis();
  let one: QueueFigures;
  let two: QueueFigures;
  try {
    // A separate database each: job ids are content keys, so a shared one would find the runs done.
    one = await viaQueue(redis.url.replace(/\/0$/, '/1'), 1);
    two = await viaQueue(redis.url.replace(/\/0$/, '/2'), 2);
  } finally {
    await redis.stop();
  }
  const perMin = (wall: number) => ((RUNS / wall) * 60).toFixed(0);
  ctx.table([
    ['engine', 'wall', 'jobs/min', 'LAM kernel/job', 'worker overhead/job', 'gap between jobs', 'extra wall/job vs local'],
    ['local executor (lvi run)', `${localWall.toFixed(1)} s`, perMin(localWall), '', '', '', ''],
    ...([['queue, 1 worker', one], ['queue, 2 workers', two]] as const).map(([name, f]) => [
      name,
      `${f.wall.toFixed(1)} s`,
      perMin(f.wall),
      `${(f.kernelS * 1000).toFixed(0)} ms`,
      `${f.workerOverheadMs.toFixed(0)} ms`,
      Number.isFinite(f.gapMs) ? `${f.gapMs.toFixed(0)} ms` : '-',
      `${(((f.wall - localWall) / RUNS) * 1000).toFixed(0)} ms`,
    ]),
  ]);
  ctx.log('  (wall: the submitting command, process start included; workers started beforehand)');
}
