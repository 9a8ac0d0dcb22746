// Every subcommand, one file each. To add one: create commands/<name>.ts exporting
// `register(program)` and add one line here.
import type { Command } from 'commander';
import { register as check } from './check.js';
import { register as doctor } from './doctor.js';
import { register as fmt } from './fmt.js';
import { register as graph } from './graph.js';
import { register as inspect } from './inspect.js';
import { register as lsp } from './lsp.js';
import { register as run } from './run.js';
import { register as status } from './status.js';
import { register as worker } from './worker.js';

export const commands: ((program: Command) => void)[] = [
  check,
  doctor,
  fmt,
  graph,
  inspect,
  lsp,
  run,
  status,
  worker,
];
