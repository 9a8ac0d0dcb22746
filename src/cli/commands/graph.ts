// lvi graph STUDY: the compiled plan as text, Mermaid or DOT.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { compileStudy, renderPlan, type GraphFormat } from '../../compiler/index.js';
import { printDiagnostics, processIo, type Io } from '../io.js';

export interface GraphOptions {
  format?: GraphFormat;
}

export function runGraph(file: string, options: GraphOptions = {}, io: Io = processIo): number {
  const abs = path.resolve(file);
  const { plan, diagnostics } = compileStudy(abs);
  if (!plan) {
    printDiagnostics((t) => io.err(t), abs, diagnostics);
    return 1;
  }
  io.out(renderPlan(plan, options.format ?? 'text'));
  return 0;
}

export function register(program: Command): void {
  program
    .command('graph')
    .description('print the execution plan of a study: nodes, dependencies and content keys')
    .argument('<study>', 'study file (.lvi)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'mermaid', 'dot']).default('text'))
    .action((file: string, opts: GraphOptions) => {
      process.exitCode = runGraph(file, opts);
    });
}
