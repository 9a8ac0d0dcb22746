// `lvi check` compiles the study, so it also reports what only compiling finds (an empty or
// unreadable dataset folder). Compiling hashes every input file, too slow for each keystroke on
// the server's thread; so once a study checks clean, it is compiled in a worker a moment after
// the last edit, and the complete diagnostics are pushed when they differ. The result is cached
// by text, so later validations of the same text return it at once.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { compileText, type LviDiagnostic } from '../compiler/index.js';
import type { StudyView } from './study.js';

type Listener = (uri: string, text: string, diagnostics: LviDiagnostic[]) => void;

const workerUrl = new URL('./compile-worker.js', import.meta.url);

export interface PlanDiagnosticsOptions {
  delayMs?: number;
  timeoutMs?: number;
  maxEntries?: number;
}

export class PlanDiagnostics {
  private readonly cache = new Map<string, { text: string; diagnostics: LviDiagnostic[] }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly jobs = new Map<number, { uri: string; text: string; timer: NodeJS.Timeout }>();
  private readonly delayMs: number;
  private readonly timeoutMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly listener: Listener,
    options: PlanDiagnosticsOptions = {},
  ) {
    this.delayMs = options.delayMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 64;
  }

  /** The complete (`lvi check`) diagnostics of this text when known; else schedules them. */
  diagnostics(view: StudyView): LviDiagnostic[] {
    const { uri, text } = view.parsed;
    if (view.check.hasErrors || !uri.startsWith('file:')) return view.check.diagnostics;
    const hit = this.cache.get(uri);
    if (hit && hit.text === text) return hit.diagnostics;
    clearTimeout(this.timers.get(uri));
    this.timers.set(
      uri,
      setTimeout(() => {
        this.timers.delete(uri);
        this.compile(uri, text, view.parsed.file);
      }, this.delayMs),
    );
    return view.check.diagnostics;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const j of this.jobs.values()) clearTimeout(j.timer);
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private compile(uri: string, text: string, file: string): void {
    if (!fs.existsSync(fileURLToPath(workerUrl))) {
      // Running from TypeScript sources (tests): compile on this thread.
      this.settle(uri, text, compileText(text, file).diagnostics);
      return;
    }
    const worker = this.ensureWorker();
    const id = this.nextId++;
    const timer = setTimeout(() => {
      // A compile that hangs (a huge input on a slow disk) is abandoned with its worker.
      this.jobs.delete(id);
      void this.worker?.terminate();
      this.worker = undefined;
    }, this.timeoutMs);
    this.jobs.set(id, { uri, text, timer });
    worker.postMessage({ id, text, file });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerUrl, { resourceLimits: { maxOldGenerationSizeMb: 1024 }, stdout: true, stderr: true });
    worker.unref();
    worker.on('message', (m: { id: number; diagnostics: LviDiagnostic[] }) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      clearTimeout(job.timer);
      this.jobs.delete(m.id);
      this.settle(job.uri, job.text, m.diagnostics);
    });
    const drop = () => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, j] of this.jobs) {
        clearTimeout(j.timer);
        this.jobs.delete(id);
      }
    };
    worker.on('error', drop);
    worker.on('exit', drop);
    this.worker = worker;
    return worker;
  }

  private settle(uri: string, text: string, diagnostics: LviDiagnostic[]): void {
    this.cache.delete(uri);
    this.cache.set(uri, { text, diagnostics });
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.listener(uri, text, diagnostics);
  }
}
