// Worker thread that reads one model for the language server (see models.ts), so a slow or
// huge model never blocks a request and can be stopped at its deadline.
import { parentPort } from 'node:worker_threads';
import { readModelSummary, type ModelRef } from './model-summary.js';

parentPort?.once('message', (ref: ModelRef) => {
  readModelSummary(ref).then(
    (summary) => parentPort?.postMessage({ ok: true, summary }),
    (err: unknown) => parentPort?.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) }),
  );
});
