// Worker thread that compiles a study for plan-level diagnostics (see plan-diagnostics.ts):
// compiling hashes every input file, which must not stall the language server.
import { parentPort } from 'node:worker_threads';
import { compileText } from '../compiler/index.js';

parentPort?.on('message', (job: { id: number; text: string; file: string }) => {
  let diagnostics: unknown[] = [];
  try {
    diagnostics = compileText(job.text, job.file).diagnostics;
  } catch {
    diagnostics = []; // the check's own diagnostics stand
  }
  parentPort?.postMessage({ id: job.id, diagnostics });
});
