// lvi run STUDY --queue: the submitting side of a queued run (the options of `lvi run` live here
// so that run.ts and this file do not import each other).
import path from 'node:path';
import type { Plan } from '../../compiler/plan.js';
import type { Device } from '../../runtime/api.js';
import { maskSecrets, redisTarget, runQueued } from '../../runtime/queue/index.js';
import { processIo, shownPath, type Io } from '../io.js';

export interface RunOptions {
  only?: string[];
  force?: boolean;
  device?: Device;
  json?: boolean;
  /** Run the analyses on `lvi worker`s through this Redis (true: $LVI_REDIS_URL). */
  queue?: string | boolean;
  detach?: boolean;
  /** The (shared) content-addressed cache folder. */
  cache?: string;
  /** Folders outside the study's folder the run may write into. */
  allowOut?: string[];
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
