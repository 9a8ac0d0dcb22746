// The `lvi` command (bin/lvi.js imports the compiled form of this file).
import { Command } from 'commander';
import { lviVersion } from '../compiler/index.js';
import { commands } from './commands/index.js';

export function createProgram(): Command {
  const program = new Command();
  program
    .name('lvi')
    .description('Interpretability studies of image-restoration networks (LAM, FAIG, DDR), written as .lvi files')
    .version(lviVersion())
    .showHelpAfterError();
  for (const register of commands) register(program);
  return program;
}

await createProgram().parseAsync(process.argv);
