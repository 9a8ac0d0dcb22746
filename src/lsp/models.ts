// The language server's cache of model summaries. Requests only ever peek at it: a model not
// read yet is queued and read off the request path (a worker thread with a deadline and a
// memory cap), and the answer is ready for the next request. Bounded in entries, file size and
// time; a model that fails or times out is remembered as failed until its file changes or, for
// a zoo id (whose package may get installed), for half a minute. A lam statement's plan (its
// FLOPs on the whole image, the crop and the cone) is counted the same way, per model and query.
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LamPlan } from '../runtime/methods/lam/plan.js';
import { readLamPlan, readModelSummary, type ModelRef, type ModelSummary, type PlanQuery, type WorkerRequest } from './model-summary.js';

export type ModelState =
  | { status: 'ready'; summary: ModelSummary }
  | { status: 'loading' }
  | { status: 'error'; message: string };

/** A lam statement's plan (methods/lam/plan.ts) for one model, LR size and window. */
export type PlanState =
  | { status: 'ready'; plan: LamPlan }
  | { status: 'loading' }
  | { status: 'error'; message: string };

export interface ModelInspectorOptions {
  /** How a model is read; defaults to a worker thread (or in-process when run from sources). */
  load?: (ref: ModelRef, timeoutMs: number) => Promise<ModelSummary>;
  /** How a lam plan is counted (the model read again, off the request path); same default. */
  loadPlan?: (ref: ModelRef, query: PlanQuery, timeoutMs: number) => Promise<LamPlan>;
  timeoutMs?: number;
  maxEntries?: number;
  maxFileBytes?: number;
}

const workerUrl = new URL('./model-worker.js', import.meta.url);
const ERROR_TTL_MS = 30_000;

/** Runs one job (a model's summary, or a lam plan) in a worker thread terminated at the deadline. */
function inWorker<T>(message: WorkerRequest, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl, { resourceLimits: { maxOldGenerationSizeMb: 2048 }, stdout: true, stderr: true });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`reading the model took longer than ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    worker.once('message', (m: { ok: true; value: T } | { ok: false; message: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (m.ok) resolve(m.value);
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
    worker.postMessage(message);
  });
}

/** Reads a model in a worker thread that is terminated at the deadline. */
export function loadInWorker(ref: ModelRef, timeoutMs: number): Promise<ModelSummary> {
  return inWorker({ ref }, timeoutMs);
}

/** The worker needs the compiled JavaScript; from TypeScript sources (tests) read in-process. */
function defaultLoad(ref: ModelRef, timeoutMs: number): Promise<ModelSummary> {
  if (fs.existsSync(fileURLToPath(workerUrl))) return loadInWorker(ref, timeoutMs);
  return readModelSummary(ref);
}

function defaultLoadPlan(ref: ModelRef, query: PlanQuery, timeoutMs: number): Promise<LamPlan> {
  if (fs.existsSync(fileURLToPath(workerUrl))) return inWorker({ ref, plan: query }, timeoutMs);
  return readLamPlan(ref, query);
}

type Job = { status: 'ready'; value: unknown } | { status: 'loading' } | { status: 'error'; message: string };

export class ModelInspector {
  private readonly entries = new Map<string, { state: Job; stamp: string; waiters: (() => void)[]; at: number }>();
  private readonly queue: { key: string; run: () => Promise<unknown> }[] = [];
  private running = false;
  private readonly load: (ref: ModelRef, timeoutMs: number) => Promise<ModelSummary>;
  private readonly loadPlan: (ref: ModelRef, query: PlanQuery, timeoutMs: number) => Promise<LamPlan>;
  private readonly timeoutMs: number;
  private readonly maxEntries: number;
  private readonly maxFileBytes: number;

  constructor(options: ModelInspectorOptions = {}) {
    this.load = options.load ?? defaultLoad;
    this.loadPlan = options.loadPlan ?? defaultLoadPlan;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 32;
    this.maxFileBytes = options.maxFileBytes ?? 512 * 1024 * 1024;
  }

  /** The model's state now; never waits. Starts reading a model it has not seen. */
  peek(ref: ModelRef): ModelState {
    const s = this.lookup(keyOf(ref), ref, () => this.load(ref, this.timeoutMs));
    return s.status === 'ready' ? { status: 'ready', summary: s.value as ModelSummary } : s;
  }

  /** Waits until the model is read (tests and the benchmark; requests use peek). */
  async get(ref: ModelRef): Promise<ModelState> {
    await this.settled(keyOf(ref), this.peek(ref));
    return this.peek(ref);
  }

  /** A lam plan's state now; never waits. Starts counting one it has not seen. */
  peekPlan(ref: ModelRef, query: PlanQuery): PlanState {
    const s = this.lookup(planKey(ref, query), ref, () => this.loadPlan(ref, query, this.timeoutMs));
    return s.status === 'ready' ? { status: 'ready', plan: s.value as LamPlan } : s;
  }

  /** Waits until the plan is counted (tests). */
  async getPlan(ref: ModelRef, query: PlanQuery): Promise<PlanState> {
    await this.settled(planKey(ref, query), this.peekPlan(ref, query));
    return this.peekPlan(ref, query);
  }

  private async settled(key: string, state: { status: string }): Promise<void> {
    if (state.status !== 'loading') return;
    await new Promise<void>((resolve) => this.entries.get(key)?.waiters.push(resolve) ?? resolve());
  }

  private lookup(key: string, ref: ModelRef, run: () => Promise<unknown>): Job {
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
    this.queue.push({ key, run });
    void this.drain();
    return { status: 'loading' };
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
      // One job at a time: a burst of hovers must not start many readers.
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        let state: Job;
        try {
          state = { status: 'ready', value: await job.run() };
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

const keyOf = (ref: ModelRef) => ('zoo' in ref ? `zoo:${ref.zoo}` : `file:${ref.file}`);
const planKey = (ref: ModelRef, q: PlanQuery) => `plan:${keyOf(ref)}|${JSON.stringify(q)}`;
