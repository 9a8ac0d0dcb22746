// lvi worker --queue URL: computes queued plan nodes (from `lvi run --queue`) into the shared
// cache until stopped (Ctrl-C or SIGTERM finishes the running jobs first).
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { Device } from '../../runtime/api.js';
import { maskSecrets, redisTarget, startWorker } from '../../runtime/queue/index.js';
import { processIo, type Io } from '../io.js';

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
