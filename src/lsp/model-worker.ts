// Worker thread that reads one model for the language server (see models.ts), so a slow or
// huge model never blocks a request and can be stopped at its deadline: its summary, or a lam
// plan's FLOPs on it.
import { parentPort } from 'node:worker_threads';
import { readLamPlan, readModelSummary, type WorkerRequest } from './model-summary.js';

parentPort?.once('message', (m: WorkerRequest) => {
  const job: Promise<unknown> = m.plan ? readLamPlan(m.ref, m.plan) : readModelSummary(m.ref);
  job.then(
    (value) => parentPort?.postMessage({ ok: true, value }),
    (err: unknown) => parentPort?.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) }),
  );
});
