// lvi status STUDY: what `lvi run` would do and why, without running anything.
import path from 'node:path';
import type { Command } from 'commander';
import { compileStudy } from '../../compiler/index.js';
import { nodeTitle } from '../../runtime/executor/index.js';
import { studyStatus } from '../../runtime/executor/status.js';
import { printDiagnostics, processIo, shownPath, type Io } from '../io.js';

export interface StatusOptions {
  json?: boolean;
  /** Show each node's state on this queue (true: $LVI_REDIS_URL) instead of the local cache's. */
  queue?: string | boolean;
  cache?: string;
}

const LABEL = { 'up-to-date': 'up to date', 'would-run': 'would run', 'would-restore': 'would restore' } as const;

/** Exit 0 when the status could be read (whatever it is), 1 when the study has errors. */
export async function runStatus(file: string, options: StatusOptions = {}, io: Io = processIo): Promise<number> {
  const abs = path.resolve(file);
  const { plan, diagnostics } = compileStudy(abs);
  if (!plan) {
    printDiagnostics((t) => io.err(t), abs, diagnostics);
    io.err(`${shownPath(abs)}: no status: fix the errors above first`);
    return 1;
  }
  if (options.queue !== undefined && options.queue !== false) {
    // Loaded only here: the queue client is not needed for a local status.
    const { formatQueueStatus, maskSecrets, queueStatus, redisTarget } = await import('../../runtime/queue/index.js');
    try {
      const target = redisTarget(typeof options.queue === 'string' ? options.queue : undefined);
      const rows = await queueStatus(plan, target, options.cache ? path.resolve(options.cache) : undefined);
      io.out(options.json ? JSON.stringify(rows, null, 2) : [`${shownPath(abs)} on ${target.shown}:`, ...formatQueueStatus(rows).map((l) => `  ${l}`)].join('\n'));
      return 0;
    } catch (e) {
      io.err(`lvi status: ${maskSecrets((e as Error).message)}`);
      return 1;
    }
  }
  const report = await studyStatus(plan);
  if (options.json) {
    io.out(JSON.stringify(report, null, 2));
    return 0;
  }
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const lines = [`${shownPath(abs)}: ${report.counts['up-to-date']} up to date, ${report.counts['would-run']} would run, ${report.counts['would-restore']} would restore from the cache`];
  for (const n of report.nodes) {
    const title = nodeTitle(byId.get(n.id)!);
    lines.push(n.reasons.length ? `  ${title}: ${LABEL[n.state]}: ${n.reasons.join('; ')}` : `  ${title}: ${LABEL[n.state]}`);
  }
  io.out(lines.join('\n'));
  return 0;
}

export function register(program: Command): void {
  program
    .command('status')
    .description('what `lvi run` would do and why (parameters, inputs, outputs against the lock file), without running anything')
    .argument('<study>', 'study file (.lvi)')
    .option('--json', 'print each node\'s state and reasons as JSON')
    .option('--queue [url]', 'each node\'s state on a Redis queue (queued, running, done, cached); URL default: $LVI_REDIS_URL')
    .option('--cache <dir>', 'the shared cache folder the workers write into')
    .action(async (file: string, opts: StatusOptions) => {
      process.exitCode = await runStatus(file, opts);
    });
}
