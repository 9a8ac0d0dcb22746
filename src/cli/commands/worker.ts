// lvi worker --queue URL: computes queued plan nodes (from `lvi run --queue`) into the shared
// cache until stopped (Ctrl-C or SIGTERM finishes the running jobs first).
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { Plan } from '../../compiler/plan.js';
import type { Device } from '../../runtime/api.js';
import { maskSecrets, redisTarget, runQueued, startWorker } from '../../runtime/queue/index.js';
import { processIo, shownPath, type Io } from '../io.js';
import type { RunOptions } from './run.js';

export interface WorkerCliOptions {
  queue?: string;
  device?: Device;
  concurrency?: string;
  cache?: string;
  stalledSeconds?: string;
}

export async function runWorker(options: WorkerCliOptions, io: Io = processIo): Promise<number> {
  let target;
  try {
    target = redisTarget(options.queue);
  } catch (e) {
    io.err(`lvi worker: ${maskSecrets(e instanceof Error ? e.message : String(e))}`);
    return 1;
  }
  const concurrency = options.concurrency === undefined ? 1 : Number(options.concurrency);
  const stalledSeconds = options.stalledSeconds === undefined ? undefined : Number(options.stalledSeconds);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    io.err(`lvi worker: --concurrency must be a whole number of 1 or more (got '${options.concurrency}')`);
    return 1;
  }
  if (stalledSeconds !== undefined && !(stalledSeconds >= 1)) {
    io.err(`lvi worker: --stalled-seconds must be 1 or more (got '${options.stalledSeconds}')`);
    return 1;
  }
  const running = await startWorker({
    target,
    device: options.device,
    concurrency,
    cacheDir: options.cache ? path.resolve(options.cache) : undefined,
    stalledSeconds,
    log: (line) => io.err(maskSecrets(line, target)),
  });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) process.exit(130); // a second Ctrl-C: leave now (the job goes back to the queue)
      stopping = true;
      io.err(`worker ${running.name}: ${signal}: finishing the running job(s), then stopping`);
      running.close().then(resolve, resolve);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('compute queued nodes of `lvi run --queue` sweeps into the shared cache (one per GPU or machine)')
    .option('--queue <url>', 'redis://[user:password@]HOST:PORT/DB or rediss:// (TLS); default: $LVI_REDIS_URL')
    .addOption(new Option('--device <device>', 'override the studies\' device').choices(['auto', 'cpu', 'webgpu', 'cuda']))
    .option('--concurrency <n>', 'jobs run at once by this worker', '1')
    .option('--cache <dir>', 'the shared content-addressed cache (default: the one each submitter names, inside its study folder)')
    .option('--stalled-seconds <s>', 'how long a job stays with a worker that stopped answering before another takes it', '30')
    .action(async (opts: WorkerCliOptions) => {
      process.exitCode = await runWorker(opts);
    });
}

/**
 * `lvi run STUDY --queue URL [--detach]`: submits, shows the jobs' progress, waits, then writes
 * the results as a local run does. Ctrl-C stops waiting and leaves the jobs queued (exit 130).
 */
export async function runQueuedCli(plan: Plan, options: RunOptions, io: Io = processIo): Promise<number> {
  const study = shownPath(plan.studyFile);
  let target;
  try {
    target = redisTarget(typeof options.queue === 'string' ? options.queue : undefined);
  } catch (e) {
    io.err(`${study}: not run: ${maskSecrets(e instanceof Error ? e.message : String(e))}`);
    return 1;
  }
  const abort = new AbortController();
  let local = false;
  // While waiting, Ctrl-C stops the waiting (the jobs stay queued); in the local pass it stops
  // the process as it does a local run (whose cache entries are atomic).
  const onSigint = () => {
    if (local || abort.signal.aborted) process.exit(130);
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await runQueued(plan, {
      target,
      detach: options.detach,
      signal: abort.signal,
      onLocalPass: () => (local = true),
      only: options.only?.length ? options.only : undefined,
      force: options.force,
      device: options.device,
      json: options.json,
      cacheDir: options.cache ? path.resolve(options.cache) : undefined,
    });
    if (result.outcome === 'done') {
      if (options.json) io.out(JSON.stringify(result.summary, null, 2));
      return result.summary.exitCode;
    }
    if (options.json) io.out(JSON.stringify({ outcome: result.outcome, jobs: result.jobs }, null, 2));
    if (result.outcome === 'detached') {
      io.err(`${study}: submitted; \`lvi run ${study} --queue\` again waits for the jobs and writes the results`);
      return 0;
    }
    return 130;
  } catch (e) {
    io.err(`${study}: not run: ${maskSecrets(e instanceof Error ? e.message : String(e), target)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
