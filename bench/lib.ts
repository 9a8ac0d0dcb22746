// Shared benchmark plumbing: sections, measurements in child processes (so each gets its own
// peak memory), and small statistics.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface BenchContext {
  /** Print one line of the report. */
  log(line?: string): void;
  /** Print rows as aligned columns. */
  table(rows: (string | number)[][]): void;
  /** Run `fn` exported by `moduleUrl` with `args` in a fresh Node process; adds its peak RSS. */
  isolated<T>(moduleUrl: string, fn: string, args: unknown): Promise<T & { peakRssBytes: number }>;
}

export interface BenchSection {
  title: string;
  run(ctx: BenchContext): Promise<void>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Time `fn` after `warmup` calls; returns the per-call milliseconds. */
export async function timeRuns(fn: () => Promise<unknown>, reps: number, warmup = 2): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
export const ms = (v: number): string => `${v.toFixed(1)} ms`;

export function formatTable(rows: (string | number)[][]): string[] {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd());
}

const childPath = fileURLToPath(new URL('./child.js', import.meta.url));

export function runIsolated<T>(moduleUrl: string, fn: string, args: unknown): Promise<T & { peakRssBytes: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(childPath, [JSON.stringify({ moduleUrl, fn, args })], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: (T & { peakRssBytes: number }) | undefined;
    let failure: string | undefined;
    child.on('message', (m: { ok: boolean; value?: T & { peakRssBytes: number }; error?: string }) => {
      if (m.ok) result = m.value;
      else failure = m.error;
    });
    child.on('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(failure ?? `benchmark child exited with code ${code}`));
    });
  });
}
