// A worker's checks before it computes a job: the job is plain data from a shared Redis, so it
// is read as untrusted. Same lvi version, kinds lvi has runners for, every input file inside the
// study's folder with the hash the submitter saw, every other path inside the study or the
// cache, and a key that the worker derives itself from the node.

import { createHash } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Plan, PlanNode, ResolvedValue } from '../../compiler/plan.js';
import { effectiveKeys } from '../executor/cache.js';
import { topologicalOrder } from '../executor/graph.js';
import type { NodeRunner } from '../runner.js';
import { JOB_FORMAT, type JobData } from './jobs.js';

export interface CheckedJob {
  data: JobData;
  /** The shared cache this job's result goes to. */
  cacheDir: string;
}

/** Why a job is refused; the worker fails such a job at once (no retry can fix it). */
export class JobRefused extends Error {}

export async function checkJob(
  raw: unknown,
  options: { lviVersion: string; kernels: (kind: string) => NodeRunner | undefined; cacheDir?: string },
): Promise<CheckedJob> {
  const data = raw as Partial<JobData> | null;
  if (!data || typeof data !== 'object' || data.format !== JOB_FORMAT) {
    throw new JobRefused(`not an lvi job of format ${JOB_FORMAT} (submitted by another version of lvi?)`);
  }
  if (data.lviVersion !== options.lviVersion) {
    throw new JobRefused(`the job was submitted by lvi ${String(data.lviVersion)}; this worker runs lvi ${options.lviVersion}`);
  }
  const plan = data.plan as Plan | undefined;
  if (typeof data.studyDir !== 'string' || !isAbsolute(data.studyDir) || !plan || !Array.isArray(plan.nodes)) {
    throw new JobRefused('the job has no study folder or no plan');
  }
  if (typeof data.nodeId !== 'string' || typeof data.key !== 'string' || !/^[0-9a-f]{64}$/.test(data.key)) {
    throw new JobRefused('the job names no node or no content key');
  }
  const studyDir = realDir(data.studyDir, 'the study folder');
  if (resolve(plan.studyDir) !== resolve(data.studyDir)) throw new JobRefused('the plan belongs to another study folder than the job says');
  let cacheDir: string;
  if (options.cacheDir) cacheDir = resolve(options.cacheDir);
  else {
    if (typeof data.cacheDir !== 'string' || !inside(resolve(data.cacheDir), resolve(data.studyDir))) {
      throw new JobRefused(`the job's cache folder is outside its study folder: start the worker with --cache DIR (the shared cache)`);
    }
    cacheDir = resolve(data.cacheDir);
  }
  const roots = [studyDir, resolve(data.studyDir), cacheDir];
  for (const node of plan.nodes) {
    if (!options.kernels(node.kind)) throw new JobRefused(`node ${node.id}: lvi has no runner for '${node.kind}' nodes`);
    await checkFiles(node, roots);
    checkParamPaths(node, roots);
  }
  let keys: Map<string, string>;
  try {
    keys = effectiveKeys(topologicalOrder(plan), plan, options.kernels);
  } catch (e) {
    throw new JobRefused(`the job's plan is not valid: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!keys.has(data.nodeId)) throw new JobRefused(`the job's plan has no node '${data.nodeId}'`);
  if (keys.get(data.nodeId) !== data.key) {
    throw new JobRefused(`node ${data.nodeId}: the job's key does not match the key this worker derives from the node`);
  }
  return { data: data as JobData, cacheDir };
}

/** Input files: inside an allowed folder (symlinks resolved) and with the hash the submitter saw. */
async function checkFiles(node: PlanNode, roots: string[]): Promise<void> {
  for (const [file, hash] of Object.entries(node.files ?? {})) {
    if (!isAbsolute(file)) throw new JobRefused(`node ${node.id}: input '${file}' is not an absolute path`);
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      throw new JobRefused(`node ${node.id}: input file ${file} does not exist on this machine (is the study folder shared at the same path?)`);
    }
    if (!roots.some((r) => inside(real, r))) throw new JobRefused(`node ${node.id}: input file ${file} is outside the study's folder`);
    const actual = await fileHash(real);
    if (actual !== hash) {
      throw new JobRefused(`node ${node.id}: input file ${file} differs from the one submitted (sha256 ${actual.slice(0, 12)}, expected ${String(hash).slice(0, 12)})`);
    }
  }
}

/** Any absolute path among the parameters (outputs included) must stay in an allowed folder. */
function checkParamPaths(node: PlanNode, roots: string[]): void {
  const visit = (v: ResolvedValue | undefined, name: string): void => {
    if (typeof v === 'string') {
      if (isAbsolute(v) && !roots.some((r) => inside(resolve(v), r))) throw new JobRefused(`node ${node.id}: ${name}='${v}' is outside the study's folder`);
    } else if (Array.isArray(v)) v.forEach((x) => visit(x, name));
    else if (v && typeof v === 'object' && 'call' in v) for (const [k, a] of Object.entries(v.args)) visit(a, `${name}.${k}`);
  };
  for (const [name, v] of Object.entries(node.params ?? {})) visit(v, name);
}

// Hashes of files seen by this worker, by path, size and modification time: a sweep's jobs read
// the same model and image, and reading them once per worker is enough.
const hashes = new Map<string, { size: number; mtimeMs: number; hash: string }>();

async function fileHash(file: string): Promise<string> {
  const st = statSync(file);
  const known = hashes.get(file);
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.hash;
  const hash = createHash('sha256').update(await readFile(file)).digest('hex');
  hashes.set(file, { size: st.size, mtimeMs: st.mtimeMs, hash });
  return hash;
}

function realDir(dir: string, what: string): string {
  try {
    return realpathSync(dir);
  } catch {
    throw new JobRefused(`${what} ${dir} does not exist on this machine (is it shared at the same path?)`);
  }
}

export function inside(p: string, root: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
