// lvi run STUDY: compile, then execute the plan (cached by content key, resumable).
import path from 'node:path';
import { Option, type Command } from 'commander';
import { compileChecked, compileStudy } from '../../compiler/index.js';
import { allowEscapes } from '../../compiler/confine.js';
import { executePlan } from '../../runtime/executor/index.js';
import { printDiagnostics, processIo, shownPath, type Io } from '../io.js';
import { runQueuedCli, type RunOptions } from './run-queued.js';

export type { RunOptions } from './run-queued.js';


export async function runRun(file: string, options: RunOptions = {}, io: Io = processIo): Promise<number> {
  const abs = path.resolve(file);
  const allowOut = options.allowOut?.map((p) => path.resolve(p)) ?? [];
  let { plan, diagnostics, check } = compileStudy(abs);
  // Outputs outside the study's folder are errors of the study unless --allow-out allows them.
  if (!plan && allowOut.length) ({ plan, diagnostics } = compileChecked(allowEscapes(check, allowOut)));
  if (!plan) {
    printDiagnostics((t) => io.err(t), abs, diagnostics);
    io.err(`${shownPath(abs)}: not run: fix the errors above first`);
    return 1;
  }
  if (options.queue !== undefined || options.detach) return runQueuedCli(plan, options, io);
  let summary;
  try {
    summary = await executePlan(plan, {
      cacheDir: options.cache ? path.resolve(options.cache) : undefined,
      only: options.only?.length ? options.only : undefined,
      force: options.force,
      device: options.device,
      json: options.json,
      allowOut,
    });
  } catch (e) {
    // Refusals before any node runs (an unknown --only name): a message, not a stack trace.
    io.err(`${shownPath(abs)}: not run: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  // The executor reports progress and a closing line on stderr; --json adds the summary on stdout.
  if (options.json) io.out(JSON.stringify(summary, null, 2));
  return summary.exitCode;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run a study: every analysis in dependency order, reusing cached results')
    .argument('<study>', 'study file (.lvi)')
    .option('--only <name>', 'run only this statement (and what it needs); repeatable or comma-separated', collect)
    .option('--force', 'recompute the selected nodes even when cached')
    .addOption(new Option('--device <device>', 'override the study\'s device').choices(['auto', 'cpu', 'webgpu', 'cuda']))
    .option('--json', 'print a machine-readable summary (each run\'s output folder) on stdout')
    .option('--queue [url]', 'run the analyses on `lvi worker`s through Redis: redis://HOST:PORT/DB or rediss:// (default: $LVI_REDIS_URL)')
    .option('--detach', 'with --queue: submit the jobs and return without waiting')
    .option('--allow-out <path>', 'let the study write outputs into this folder outside its own (repeatable or comma-separated)', collect)
    .option('--cache <dir>', 'the content-addressed cache folder (default: .lvi/cache beside the study; shared with the workers for --queue)')
    .action(async (file: string, opts: RunOptions) => {
      process.exitCode = await runRun(file, opts);
    });
}
