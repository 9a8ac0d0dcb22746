// lvi doctor: what this machine offers lvi — Node, npm, ONNX Runtime, each execution provider's
// state and why, and the zoo packages present. The long explanation `device=auto` no longer
// prints on every run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Command } from 'commander';
import { ZOO } from '../../../grammar/zoo-table.js';
import { lviVersion } from '../../compiler/index.js';
import { packageVersion } from '../../runtime/executor/versions.js';
import { processIo, type Io } from '../io.js';

export interface DoctorOptions {
  json?: boolean;
}

export interface DoctorReport {
  lvi: string;
  node: string;
  npm: string;
  onnxruntime: string;
  providers: { device: string; ok: boolean; why: string }[];
  /** The device `device=auto` takes here. */
  auto: string;
  zoo: { package: string; version: string; ids: string[] }[];
}

function npmVersion(): string {
  // npm_config_user_agent is set when lvi runs under npm/npx: no second process needed then.
  const agent = /\bnpm\/(\S+)/.exec(process.env.npm_config_user_agent ?? '')?.[1];
  if (agent) return agent;
  try {
    return execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20000 }).trim();
  } catch {
    return 'not found';
  }
}

/** Whether a package is installed where lvi resolves it (its folder, not its entry point). */
function installedVersion(name: string): string {
  const version = packageVersion(name);
  if (version !== 'not installed') return version;
  try {
    const require = createRequire(import.meta.url);
    for (const dir of require.resolve.paths(name) ?? []) {
      if (existsSync(path.join(dir, name, 'package.json'))) return 'installed';
    }
  } catch {
    // not resolvable
  }
  return 'not installed';
}

export async function doctorReport(): Promise<DoctorReport> {
  const ort = packageVersion('onnxruntime-node');
  const providers: DoctorReport['providers'] = [];
  let auto = 'cpu';
  if (ort !== 'not installed') {
    // Loaded here only: the engine brings in ONNX Runtime's native binding.
    const { AUTO_ORDER, deviceProblem } = await import('../../runtime/engine/device.js');
    for (const d of AUTO_ORDER) {
      const problem = await deviceProblem(d);
      providers.push({ device: d, ok: !problem, why: problem ?? (d === 'cpu' ? 'always available' : 'a test session started') });
    }
    auto = providers.find((p) => p.ok)?.device ?? 'cpu';
  }
  const packages = [...new Set(ZOO.map((z) => z.package))].sort();
  const zoo = packages.map((p) => ({ package: p, version: installedVersion(p), ids: ZOO.filter((z) => z.package === p).map((z) => z.id) }));
  return { lvi: lviVersion(), node: process.version.replace(/^v/, ''), npm: npmVersion(), onnxruntime: ort, providers, auto, zoo };
}

export async function runDoctor(options: DoctorOptions = {}, io: Io = processIo): Promise<number> {
  const r = await doctorReport();
  if (options.json) {
    io.out(JSON.stringify(r, null, 2));
    return 0;
  }
  const lines = [
    `lvi          ${r.lvi}`,
    `node         ${r.node}`,
    `npm          ${r.npm}`,
    `onnxruntime  ${r.onnxruntime}${r.onnxruntime === 'not installed' ? ' (run npm ci)' : ''}`,
    'devices (device=auto takes the first that starts):',
    ...r.providers.map((p) => `  ${p.device.padEnd(7)}${p.ok ? 'ok   ' : 'no   '}${p.why}`),
    `  auto   -> ${r.auto}`,
    'zoo packages:',
    ...r.zoo.map((z) => `  ${z.package.padEnd(28)}${z.version.padEnd(14)}${z.ids.join(', ')}`),
  ];
  const missing = r.zoo.filter((z) => z.version === 'not installed');
  if (missing.length) lines.push(`  missing: npm install ${missing.map((z) => z.package).join(' ')}`);
  io.out(lines.join('\n'));
  return 0;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('what this machine offers: Node, npm, ONNX Runtime, each device and why it can or cannot start, zoo packages')
    .option('--json', 'print the report as JSON')
    .action(async (opts: DoctorOptions) => {
      process.exitCode = await runDoctor(opts);
    });
}
