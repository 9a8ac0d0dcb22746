// The language server's cache of model summaries. Requests only ever peek at it: a model not
// read yet is queued and read off the request path (a worker thread with a deadline and a
// memory cap), and the answer is ready for the next request. Bounded in entries, file size and
// time; a model that fails or times out is remembered as failed until its file changes or, for
// a zoo id (whose package may get installed), for half a minute.
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { readModelSummary, type ModelRef, type ModelSummary } from './model-summary.js';

export type ModelState =
  | { status: 'ready'; summary: ModelSummary }
  | { status: 'loading' }
  | { status: 'error'; message: string };

export interface ModelInspectorOptions {
  /** How a model is read; defaults to a worker thread (or in-process when run from sources). */
  load?: (ref: ModelRef, timeoutMs: number) => Promise<ModelSummary>;
  timeoutMs?: number;
  maxEntries?: number;
  maxFileBytes?: number;
}

const workerUrl = new URL('./model-worker.js', import.meta.url);
const ERROR_TTL_MS = 30_000;

/** Reads a model in a worker thread that is terminated at the deadline. */
export function loadInWorker(ref: ModelRef, timeoutMs: number): Promise<ModelSummary> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl, { resourceLimits: { maxOldGenerationSizeMb: 2048 }, stdout: true, stderr: true });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`reading the model took longer than ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    worker.once('message', (m: { ok: true; summary: ModelSummary } | { ok: false; message: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (m.ok) resolve(m.summary);
      else reject(new Error(m.message));
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the model reader stopped (exit code ${code})`));
    });
    worker.postMessage(ref);
  });
}

/** The worker needs the compiled JavaScript; from TypeScript sources (tests) read in-process. */
function defaultLoad(ref: ModelRef, timeoutMs: number): Promise<ModelSummary> {
  if (fs.existsSync(fileURLToPath(workerUrl))) return loadInWorker(ref, timeoutMs);
  return readModelSummary(ref);
}

export class ModelInspector {
  private readonly entries = new Map<string, { state: ModelState; stamp: string; waiters: (() => void)[]; at: number }>();
  private readonly queue: { key: string; ref: ModelRef }[] = [];
  private running = false;
  private readonly load: (ref: ModelRef, timeoutMs: number) => Promise<ModelSummary>;
  private readonly timeoutMs: number;
  private readonly maxEntries: number;
  private readonly maxFileBytes: number;

  constructor(options: ModelInspectorOptions = {}) {
    this.load = options.load ?? defaultLoad;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 32;
    this.maxFileBytes = options.maxFileBytes ?? 512 * 1024 * 1024;
  }

  /** The model's state now; never waits. Starts reading a model it has not seen. */
  peek(ref: ModelRef): ModelState {
    const key = 'zoo' in ref ? `zoo:${ref.zoo}` : `file:${ref.file}`;
    let stamp = '';
    if ('file' in ref) {
      try {
        const st = fs.statSync(ref.file);
        if (st.size > this.maxFileBytes) {
          const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;
          return { status: 'error', message: `the model file is ${mb(st.size)}; the editor reads models up to ${mb(this.maxFileBytes)}` };
        }
        stamp = `${st.size}:${st.mtimeMs}`;
      } catch {
        return { status: 'error', message: `${ref.file} does not exist` };
      }
    }
    const entry = this.entries.get(key);
    const expired = entry?.state.status === 'error' && 'zoo' in ref && Date.now() - entry.at > ERROR_TTL_MS;
    if (entry && entry.stamp === stamp && !expired) {
      // Most recently used last, so eviction drops the oldest.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry.state;
    }
    this.entries.set(key, { state: { status: 'loading' }, stamp, waiters: entry?.waiters ?? [], at: Date.now() });
    this.evict();
    this.queue.push({ key, ref });
    void this.drain();
    return { status: 'loading' };
  }

  /** Waits until the model is read (tests and the benchmark; requests use peek). */
  async get(ref: ModelRef): Promise<ModelState> {
    const state = this.peek(ref);
    if (state.status !== 'loading') return state;
    const key = 'zoo' in ref ? `zoo:${ref.zoo}` : `file:${ref.file}`;
    await new Promise<void>((resolve) => this.entries.get(key)?.waiters.push(resolve) ?? resolve());
    return this.entries.get(key)?.state ?? { status: 'error', message: 'evicted' };
  }

  private evict(): void {
    for (const [key, e] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      if (e.state.status !== 'loading') this.entries.delete(key);
    }
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // One model at a time: a burst of hovers must not start many readers.
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        let state: ModelState;
        try {
          state = { status: 'ready', summary: await this.load(job.ref, this.timeoutMs) };
        } catch (err) {
          state = { status: 'error', message: err instanceof Error ? err.message : String(err) };
        }
        const entry = this.entries.get(job.key);
        if (entry) {
          entry.state = state;
          entry.at = Date.now();
          for (const w of entry.waiters.splice(0)) w();
        }
      }
    } finally {
      this.running = false;
    }
  }
}
