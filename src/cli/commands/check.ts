// lvi check STUDY...: every mistake of each study, compiler-style, with the source line.
import path from 'node:path';
import type { Command } from 'commander';
import { compileStudy, type LviDiagnostic } from '../../compiler/index.js';
import { printDiagnostics, processIo, shownPath, type Io } from '../io.js';

export interface CheckOptions {
  json?: boolean;
}

/** Returns the exit code: 0 when no study has errors, 1 otherwise. */
export function runCheck(files: string[], options: CheckOptions = {}, io: Io = processIo): number {
  const results: { file: string; diagnostics: LviDiagnostic[] }[] = [];
  let errors = 0;
  for (const f of files) {
    const file = path.resolve(f);
    const { diagnostics } = compileStudy(file);
    errors += diagnostics.filter((d) => d.severity === 'error').length;
    results.push({ file, diagnostics });
    if (options.json) continue;
    printDiagnostics((t) => io.out(t), file, diagnostics);
  }
  if (options.json) {
    io.out(JSON.stringify({ files: results, errors }, null, 2));
  } else if (errors === 0) {
    io.err(`${files.map(shownPath).join(', ')}: no problems found`);
  } else {
    io.err(`${errors} error${errors === 1 ? '' : 's'} found`);
  }
  return errors > 0 ? 1 : 0;
}

export function register(program: Command): void {
  program
    .command('check')
    .description('check studies for mistakes (syntax, parameters, references, files); exit 1 on errors')
    .argument('<study...>', 'study files (.lvi)')
    .option('--json', 'print the diagnostics as JSON (codes, ranges, suggestions)')
    .action((files: string[], opts: CheckOptions) => {
      process.exitCode = runCheck(files, opts);
    });
}
