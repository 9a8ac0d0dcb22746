// The queue tests' processes: the real `lvi` binary (dist/, rebuilt from changed sources as the
// language-server tests do) as submitter and workers, and a study folder with a small LAM sweep
// (the FSRCNN reference network on the 256x256 cat, from test/fixtures).

import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildServer } from '../../lsp/helpers/server-process.js';
import { fixture } from '../../helpers/paths.js';

export interface LviProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

let bin: string | undefined;

/** bin/lvi.js, with dist/ brought up to date first. */
export async function lviBin(): Promise<string> {
  bin ??= await buildServer();
  return bin;
}

export async function spawnLvi(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<LviProcess> {
  const child = spawn(process.execPath, [await lviBin(), ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return { child, output: () => out, exited };
}

export async function runLvi(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<{ code: number | null; output: string }> {
  const p = await spawnLvi(args, options);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, output: p.output() };
}

/** A worker process; resolves once it says it is waiting for jobs. */
export async function startWorker(url: string, cwd: string, extra: string[] = [], env?: NodeJS.ProcessEnv): Promise<LviProcess> {
  const w = await spawnLvi(['worker', '--queue', url, ...extra], { cwd, env });
  await waitFor(() => w.output().includes('waiting for jobs'), 30_000, () => `worker did not start:\n${w.output()}`, w);
  return w;
}

export async function stopWorker(w: LviProcess): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGTERM');
  const timer = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
  await w.exited;
  clearTimeout(timer);
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string, proc?: LviProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (proc && proc.child.exitCode !== null) throw new Error(`process exited (${proc.child.exitCode}): ${what()}`);
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const made: string[] = [];

/** A study folder holding the FSRCNN network, the cat and the given study files. */
export function studyFolder(studies: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvi-queue-'));
  made.push(dir);
  copyFileSync(fixture('lam', 'fsrcnn_chelsea', 'model.onnx'), join(dir, 'fsrcnn.onnx'));
  copyFileSync(fixture('lam', 'chelsea_256.png'), join(dir, 'cat.png'));
  for (const [name, text] of Object.entries(studies)) writeFileSync(join(dir, name), text);
  return dir;
}

export function removeStudyFolders(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A LAM sweep over `windows` windows of the cat (x4 FSRCNN), `steps` path steps each. */
export function lamSweep(name: string, windows: number, steps: number, extra = ''): string {
  const all: string[] = [];
  for (let i = 0; all.length < windows; i++) all.push(`(${16 + ((i * 40) % 216)},${16 + Math.floor(i / 6) * 36},16,16)`);
  return [
    `study "${name}" out="out/${name}"`,
    'model f file="fsrcnn.onnx" scale=4 range=1',
    'image cat file="cat.png"',
    `lam eye model=f image=cat window=[${all.join(', ')}] steps=${steps}`,
    'table di rows=eye columns=[window, di, gini, psnr]',
    extra,
    '',
  ].join('\n');
}

/**
 * Every file under dir, by relative path. LAM's di.json records the kernel's own timings
 * (`seconds`, and `batch_probe`: ms per step of each batch size tried), which differ between any
 * two runs, local ones included: they are left out, the rest of the file compared as it is.
 */
export function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const rel = relative(dir, p);
        if (name === 'di.json') {
          const j = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
          delete j.seconds;
          delete j.batch_probe;
          files.set(rel, JSON.stringify(j));
        } else files.set(rel, readFileSync(p).toString('base64'));
      }
    }
  };
  walk(dir);
  return files;
}

/** The names of the files that differ (or exist on one side only); [] when all are equal. */
export function differences(a: Map<string, string>, b: Map<string, string>): string[] {
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names]
    .filter((n) => a.get(n) !== b.get(n))
    .sort()
    .map((n) => (n.endsWith('.json') ? `${n}: ${firstDifference(a.get(n) ?? '', b.get(n) ?? '')}` : n));
}

function firstDifference(x: string, y: string): string {
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  return `'${x.slice(Math.max(0, i - 40), i + 40)}' vs '${y.slice(Math.max(0, i - 40), i + 40)}'`;
}
