// lvi fmt STUDY...: rewrite studies in canonical layout; --check only reports.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { StudySyntaxError, formatStudy } from '../../compiler/index.js';
import { printDiagnostics, processIo, shownPath, type Io } from '../io.js';

export interface FmtOptions {
  check?: boolean;
  stdout?: boolean;
}

/** Returns 0, or 1 when a study does not parse or (with --check) is not formatted. */
export function runFmt(files: string[], options: FmtOptions = {}, io: Io = processIo): number {
  let code = 0;
  for (const f of files) {
    const file = path.resolve(f);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      io.err(`${shownPath(file)}: cannot read: ${(e as Error).message}`);
      code = 1;
      continue;
    }
    let formatted: string;
    try {
      formatted = formatStudy(text, file);
    } catch (e) {
      if (!(e instanceof StudySyntaxError)) throw e;
      printDiagnostics((t) => io.err(t), file, e.diagnostics, text);
      io.err(`${shownPath(file)}: not formatted: fix the syntax errors first`);
      code = 1;
      continue;
    }
    if (options.stdout) io.out(formatted);
    else if (options.check) {
      if (formatted !== text) {
        io.out(`${shownPath(file)}: not formatted (run lvi fmt ${shownPath(file)})`);
        code = 1;
      }
    } else if (formatted !== text) {
      fs.writeFileSync(file, formatted);
      io.err(`formatted ${shownPath(file)}`);
    }
  }
  return code;
}

export function register(program: Command): void {
  program
    .command('fmt')
    .description('rewrite studies in canonical layout (idempotent; keeps comments)')
    .argument('<study...>', 'study files (.lvi)')
    .option('--check', 'change nothing; exit 1 when a study is not formatted (for CI)')
    .option('--stdout', 'print the formatted study instead of writing it')
    .action((files: string[], opts: FmtOptions) => {
      process.exitCode = runFmt(files, opts);
    });
}
