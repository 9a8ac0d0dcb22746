// lvi graph STUDY: the compiled plan as text, Mermaid or DOT; with --flops, each lam node's
// plan and FLOPs (whole image, receptive-field crop, cone), which reads its models and images.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { compileStudy, renderPlan, type GraphFormat } from '../../compiler/index.js';
import { printDiagnostics, processIo, type Io } from '../io.js';

export interface GraphOptions {
  format?: GraphFormat;
  /** Count each lam node's FLOPs (models are read: seconds, not milliseconds). */
  flops?: boolean;
}

export function runGraph(file: string, options?: GraphOptions & { flops?: false }, io?: Io): number;
export function runGraph(file: string, options: GraphOptions, io?: Io): number | Promise<number>;
export function runGraph(file: string, options: GraphOptions = {}, io: Io = processIo): number | Promise<number> {
  const abs = path.resolve(file);
  const { plan, diagnostics } = compileStudy(abs);
  if (!plan) {
    printDiagnostics((t) => io.err(t), abs, diagnostics);
    return 1;
  }
  const format = options.format ?? 'text';
  if (!options.flops) {
    io.out(renderPlan(plan, format));
    return 0;
  }
  return (async () => {
    // Loaded only here: plain `lvi graph` stays free of the runtime.
    const { lamPlans, planNotes } = await import('../../runtime/methods/lam/plan-facts.js');
    io.out(renderPlan(plan, format, planNotes(await lamPlans(plan))));
    return 0;
  })();
}

export function register(program: Command): void {
  program
    .command('graph')
    .description('print the execution plan of a study: nodes, dependencies and content keys')
    .argument('<study>', 'study file (.lvi)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'mermaid', 'dot']).default('text'))
    .option('--flops', "under each lam node, its FLOPs per step on the whole image, the receptive-field crop and the cone, and the plan crop=auto runs (reads the models)")
    .action(async (file: string, opts: GraphOptions) => {
      process.exitCode = await runGraph(file, opts);
    });
}
