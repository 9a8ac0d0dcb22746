// `lvi run`: executes a compiled plan in dependency order. Results are cached by content key
// under <studyDir>/.lvi/cache, so a rerun does only what changed; every run's files are copied
// to <out>/<statement>/<runId>/; a failing node stops only what needs it; the lock file beside
// the study records what ran.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Plan, PlanNode } from '../../compiler/plan.js';
import type { Device } from '../api.js';
import { loadRunners } from '../runners.js';
import { ResultCache, checkRelative, copyOut, effectiveKeys, materialise, type CacheEntry } from './cache.js';
import { namedNodes, selectNodes, topologicalOrder } from './graph.js';
import type { NodeRunner, RunContext, NodeResult } from '../runner.js';
import { lockNode, lockPath, lockText, portable, readLock, writeLock, type LockDocument, type LockNode, type NodeStatus } from './lock.js';
import { barProgress, formatSeconds, lineProgress, type ProgressSink } from './progress.js';
import { engineVersions } from './versions.js';

export type { NodeStatus } from './lock.js';
export { lockPath } from './lock.js';

export interface ExecuteOptions {
  /** Run only these statements (names or node ids) and what they need. */
  only?: string[];
  /** Ignore cached results of the selected nodes (those named by `only`, or all). */
  force?: boolean;
  /** Overrides the study's `device`. */
  device?: Device;
  /** Machine-readable mode: plain progress lines only (the caller prints the summary). */
  json?: boolean;
  /** Default: <studyDir>/.lvi/cache. */
  cacheDir?: string;
  /** Where progress lines go (default: stderr). A custom log turns bars off. */
  log?: (line: string) => void;
  /** 'auto' (default): bars on a terminal unless json or log is given; 'lines'; 'none'. */
  progress?: 'auto' | 'bars' | 'lines' | 'none';
  /** NodeRunner lookup (default: the registry). */
  kernels?: (kind: string) => NodeRunner | undefined; // default: the catalogue's runners (src/runtime/runners.ts)
  /** Lock file path (default: beside the study); false writes none. */
  lockFile?: string | false;
}

export interface NodeRunSummary {
  id: string;
  kind: string;
  statement?: string;
  runId: string;
  status: NodeStatus;
  /** Seconds spent on the node in this run (near 0 when cached). */
  seconds: number;
  /** Where the run's files are: <out>/<statement>/<runId>/ (absent when it wrote none). */
  outDir?: string;
  /** Absolute paths of the run's files, extra copies (a report's `file`) included. */
  files: string[];
  summary: Record<string, unknown>;
  key: string;
  /** `file:line:col` of the statement (absolute file). */
  location?: string;
  error?: string;
  warnings?: string[];
}

export interface RunSummary {
  study: string;
  outDir: string;
  lockFile?: string;
  status: 'ok' | 'failed';
  /** 0 when every selected node ran or was cached, 1 otherwise. */
  exitCode: number;
  seconds: number;
  counts: Record<NodeStatus, number>;
  /** Selected nodes in execution order. */
  nodes: NodeRunSummary[];
}

interface NodeState {
  node: PlanNode;
  kernel?: NodeRunner;
  key: string;
  status?: NodeStatus;
  result?: NodeResult;
  /** True once `result.value` comes from a run in this process. */
  valueReady: boolean;
  seconds: number;
  /** The seconds and device of the run that produced the result (cached or not). */
  computeSeconds?: number;
  device?: string;
  error?: string;
  warnings: string[];
  outDir?: string;
  files: string[];
}

export async function executePlan(plan: Plan, options: ExecuteOptions = {}): Promise<RunSummary> {
  const started = new Date();
  const t0 = performance.now();
  const kernelFor = options.kernels ?? (await loadRunners(plan.nodes.map((n) => n.kind)));
  const order = topologicalOrder(plan);
  const selected = selectNodes(plan, options.only);
  const forced = options.force ? namedNodes(plan, options.only) : new Set<string>();
  const keys = effectiveKeys(order, plan, kernelFor);
  const device = (options.device ?? (plan.study.device as Device | undefined) ?? 'auto') as Device;
  const cache = new ResultCache(options.cacheDir ?? join(plan.studyDir, '.lvi', 'cache'));
  await sweepStaleTemps(cache.root);
  const lockFile = options.lockFile === false ? undefined : (options.lockFile ?? lockPath(plan.studyFile));
  const previousLock = lockFile ? await readLock(lockFile) : undefined;
  const sink = progressSink(options);
  const versions = engineVersions(plan.lviVersion);
  // Read once: the lock is rewritten many times per run, and it describes the study as it was compiled.
  const studyFileHash = studyHash(plan);

  const states = new Map<string, NodeState>();
  for (const node of order) {
    states.set(node.id, { node, kernel: kernelFor(node.kind), key: keys.get(node.id)!, valueReady: false, seconds: 0, warnings: [], files: [] });
  }

  const lockDocument = (final = false): LockDocument => {
    const nodes: Record<string, LockNode> = {};
    for (const st of states.values()) {
      const { node } = st;
      if (!selected.has(node.id)) {
        const prev = previousLock?.nodes?.[node.id];
        nodes[node.id] = prev && prev.key === st.key ? prev : lockNode(plan, node, st.key, 'not-run');
        continue;
      }
      const entry = lockNode(plan, node, st.key, st.status ?? 'pending');
      entry.device = st.device;
      entry.seconds = st.computeSeconds === undefined ? undefined : round3(st.computeSeconds);
      if (st.result) entry.summary = st.result.summary;
      if (st.error) entry.error = st.error;
      nodes[node.id] = entry;
    }
    const failed = [...states.values()].some((s) => s.status === 'failed' || s.status === 'skipped');
    return {
      lock: 1,
      study: {
        name: plan.study.name,
        file: String(portable(plan.studyFile, plan.studyDir)),
        out: String(portable(plan.outDir, plan.studyDir)),
        hash: studyFileHash,
      },
      versions,
      run: {
        date: started.toISOString(),
        seconds: round3((performance.now() - t0) / 1000),
        status: failed ? 'failed' : final ? 'ok' : 'incomplete',
        device,
        only: options.only && options.only.length ? options.only : undefined,
        force: options.force || undefined,
      },
      nodes,
    };
  };

  const materialiseNode = async (st: NodeState): Promise<void> => {
    const r = st.result!;
    st.files = [];
    st.outDir = undefined;
    if (st.node.statement !== undefined && r.files.length > 0 && r.dir) {
      st.outDir = join(plan.outDir, segment(st.node.statement), segment(st.node.runId));
      await materialise(r.dir, r.files, st.outDir);
      st.files.push(...r.files.map((f) => join(st.outDir!, f)));
    }
    for (const [name, dest] of Object.entries(r.exports ?? {})) {
      await copyOut(join(r.dir!, name), dest);
      st.files.push(dest);
    }
  };

  const runNode = async (st: NodeState): Promise<void> => {
    const { node } = st;
    const title = nodeTitle(node);
    const tStart = performance.now();
    for (const depId of Object.values(node.deps)) {
      const dep = states.get(depId)!;
      if (!(await ensureValue(dep))) {
        st.status = 'skipped';
        st.error = `not run: it needs ${depId}, which ${dep.status === 'skipped' ? 'was skipped' : 'failed'}`;
        sink.log(`skipped ${title}: needs ${depId}`);
        return;
      }
    }
    const kernel = st.kernel!;
    const progress = sink.begin(title);
    const pending = await cache.begin(st.key);
    const deps: Record<string, NodeResult> = {};
    for (const [role, depId] of Object.entries(node.deps)) deps[role] = states.get(depId)!.result!;
    const ctx: RunContext = {
      plan,
      node,
      deps,
      runDir: pending.filesDir,
      device,
      progress: (done, total, label) => progress.update(done, total, label),
      warn: (message) => {
        st.warnings.push(message);
        sink.log(`warning: ${title}: ${message}`);
      },
      lookup: (id) => states.get(id)?.result,
      facts: () => JSON.parse(JSON.stringify(portable(lockDocument(), plan.studyDir))) as Record<string, unknown>,
    };
    try {
      const out = await kernel.run(ctx);
      const seconds = (performance.now() - tStart) / 1000;
      const where = `${title}`;
      const files = (out.files ?? []).map((f) => checkRelative(f, where));
      for (const f of files) {
        if (!existsSync(join(pending.filesDir, f))) throw new Error(`kernel '${node.kind}' lists the file '${f}' but did not write it`);
      }
      const exports: Record<string, string> = {};
      for (const [name, dest] of Object.entries(out.exports ?? {})) {
        if (!files.includes(checkRelative(name, where))) throw new Error(`kernel '${node.kind}' exports '${name}', which is not among its files`);
        exports[checkRelative(name, where)] = dest;
      }
      // The round trip makes a fresh summary identical to the one a cached rerun reads back.
      const summary = JSON.parse(JSON.stringify(out.summary ?? {})) as Record<string, unknown>;
      // Only kernels that compute on a device say which one they used (loaders and tables do not).
      const usedDevice = typeof summary.device === 'string' ? summary.device : undefined;
      const entry: Omit<CacheEntry, 'format'> = {
        key: st.key,
        id: node.id,
        kind: node.kind,
        summary,
        files,
        exports: Object.keys(exports).length ? exports : undefined,
        seconds: round3(seconds),
        device: usedDevice,
        createdAt: new Date().toISOString(),
      };
      await cache.commit(pending, entry);
      st.result = { value: out.value, summary, files, dir: cache.filesDir(st.key), exports: entry.exports };
      st.valueReady = true;
      st.status = 'ran';
      st.computeSeconds = seconds;
      st.device = usedDevice;
      st.error = undefined;
      await materialiseNode(st);
      st.seconds = (performance.now() - tStart) / 1000;
      progress.end(`ran     ${title} (${formatSeconds(seconds)})`);
    } catch (e) {
      await cache.discard(pending).catch(() => undefined);
      st.status = 'failed';
      st.error = errorMessage(e);
      st.seconds = (performance.now() - tStart) / 1000;
      progress.end(`${displayLocation(node, plan) ?? node.id}: error: ${title} failed: ${st.error}`);
    }
  };

  // The lock is rewritten as nodes finish (at most every 2 s), so a killed run leaves a lock
  // that names what finished; the pending nodes are marked so.
  let lastLockWrite = -Infinity;
  const interimLock = async (): Promise<void> => {
    if (!lockFile || performance.now() - lastLockWrite < 2000) return;
    lastLockWrite = performance.now();
    await writeLock(lockFile, lockText(lockDocument(), plan.studyDir)).catch(() => undefined);
  };

  /** Makes sure a dependency's in-memory value exists, rerunning a loader whose summary was cached. */
  const ensureValue = async (st: NodeState): Promise<boolean> => {
    if (st.status === 'failed' || st.status === 'skipped' || st.status === undefined) return false;
    if (st.valueReady) return true;
    if (st.kernel?.cache) {
      // A cached node's value comes back from its files (a mask's model, features' arrays).
      if (st.kernel.restore && st.result && st.result.value === undefined) {
        try {
          st.result.value = await st.kernel.restore(st.result);
        } catch (e) {
          st.status = 'failed';
          st.error = `cannot read the cached result back: ${errorMessage(e)}`;
          return false;
        }
      }
      st.valueReady = true;
      return true;
    }
    await runNode(st);
    return st.status === 'ran';
  };

  /** One selected node: skipped, failed (no kernel), cached, or run. */
  const handle = async (node: PlanNode): Promise<void> => {
    const st = states.get(node.id)!;
    const blocker = Object.values(node.deps)
      .map((id) => states.get(id)!)
      .find((d) => d.status === 'failed' || d.status === 'skipped');
    if (blocker) {
      st.status = 'skipped';
      st.error = `not run: it needs ${blocker.node.id}, which ${blocker.status === 'skipped' ? 'was skipped' : 'failed'}`;
      sink.log(`skipped ${nodeTitle(node)}: needs ${blocker.node.id}`);
      return;
    }
    if (!st.kernel) {
      st.status = 'failed';
      st.error = `no kernel for '${node.kind}' nodes in this version of lvi`;
      sink.log(`${displayLocation(node, plan) ?? node.id}: error: ${nodeTitle(node)}: ${st.error}`);
      return;
    }
    if (!forced.has(node.id)) {
      const entry = await cache.read(st.key);
      if (entry) {
        const tStart = performance.now();
        st.result = { summary: entry.summary, files: entry.files, dir: cache.filesDir(st.key), exports: entry.exports };
        st.status = 'cached';
        st.computeSeconds = entry.seconds;
        st.device = entry.device;
        try {
          await materialiseNode(st);
        } catch (e) {
          st.status = 'failed';
          st.error = `cannot copy the cached result to the output folder: ${errorMessage(e)}`;
        }
        st.seconds = (performance.now() - tStart) / 1000;
        // Loaders (not cached on disk) say nothing here: they print 'ran' if a node needs them.
        if (st.status !== 'cached') sink.log(`${nodeTitle(node)}: error: ${st.error}`);
        else if (st.kernel.cache) sink.log(`cached  ${nodeTitle(node)}`);
        return;
      }
    }
    await runNode(st);
  };

  try {
    for (const node of order) {
      if (!selected.has(node.id)) continue;
      await handle(node);
      await interimLock();
    }
  } finally {
    sink.close();
  }
  if (!options.only?.length) await pruneRunFolders(plan);

  const nodes: NodeRunSummary[] = [];
  const counts: Record<NodeStatus, number> = { ran: 0, cached: 0, failed: 0, skipped: 0 };
  for (const st of states.values()) {
    if (!selected.has(st.node.id) || !st.status) continue;
    counts[st.status]++;
    const { node } = st;
    nodes.push({
      id: node.id,
      kind: node.kind,
      statement: node.statement,
      runId: node.runId,
      status: st.status,
      seconds: round3(st.seconds),
      outDir: st.outDir,
      files: st.files,
      summary: st.result?.summary ?? {},
      key: st.key,
      location: locationOf(node, plan),
      error: st.error,
      warnings: st.warnings.length ? st.warnings : undefined,
    });
  }
  const ok = counts.failed === 0 && counts.skipped === 0;
  if (lockFile) {
    try {
      await writeLock(lockFile, lockText(lockDocument(true), plan.studyDir));
    } catch (e) {
      sink.log(`error: cannot write the lock file ${lockFile}: ${errorMessage(e)}`);
    }
  }
  const seconds = round3((performance.now() - t0) / 1000);
  sink.log(
    `${ok ? 'done' : 'failed'}: ${counts.ran} ran, ${counts.cached} cached, ${counts.failed} failed, ${counts.skipped} skipped ` +
      `in ${formatSeconds(seconds)}; results in ${shortPath(plan.outDir)}`,
  );
  return {
    study: plan.studyFile,
    outDir: plan.outDir,
    lockFile,
    status: ok ? 'ok' : 'failed',
    exitCode: ok ? 0 : 1,
    seconds,
    counts,
    nodes,
  };
}

function progressSink(options: ExecuteOptions): ProgressSink {
  const mode = options.progress ?? 'auto';
  if (mode === 'none') return lineProgress(() => undefined);
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const bars = mode === 'bars' || (mode === 'auto' && !options.json && !options.log && process.stderr.isTTY === true);
  return bars ? barProgress(process.stderr) : lineProgress(log);
}

/** `lam edge (model=slim)`; implicit nodes by their id. */
export function nodeTitle(node: PlanNode): string {
  if (node.statement === undefined) return node.id;
  return `${node.kind} ${node.statement}${node.runId && node.runId !== 'default' ? ` (${node.runId})` : ''}`;
}

/**
 * Where a node comes from in the study. Implicit nodes (derive LR) have no statement of their
 * own: the statement they read (the image) or, failing that, the first that reads them.
 */
function sourceOf(node: PlanNode, plan: Plan): PlanNode['source'] {
  if (node.source) return node.source;
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  for (const id of Object.values(node.deps)) if (byId.get(id)?.source) return byId.get(id)!.source;
  return plan.nodes.find((n) => n.source && Object.values(n.deps).includes(node.id))?.source;
}

/** `/abs/study.lvi:12:1` for --json. */
function locationOf(node: PlanNode, plan: Plan): string | undefined {
  const s = sourceOf(node, plan);
  return s ? `${s.file}:${s.line}:${s.column}` : undefined;
}

/** `study.lvi:12:1`, relative to the working folder when that is shorter. */
function displayLocation(node: PlanNode, plan: Plan): string | undefined {
  const s = sourceOf(node, plan);
  return s ? `${shortPath(s.file)}:${s.line}:${s.column}` : undefined;
}

function shortPath(p: string): string {
  const rel = relative(process.cwd(), p) || '.';
  return rel.length < p.length ? rel : p;
}

/** A statement name or run id as one folder name; the compiler promises safe ids, this checks. */
function segment(name: string): string {
  if (name === '' || name === '.' || name === '..' || /[\\/\0]/.test(name)) {
    throw new Error(`'${name}' cannot be used as a folder name`);
  }
  return name;
}

function studyHash(plan: Plan): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(plan.studyFile)).digest('hex');
  } catch {
    return undefined;
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Run folders of sweep values no longer in the study (<out>/<statement>/<old runId>/) are
 * removed after a full run, so the output folder shows only what the study now produces.
 */
async function pruneRunFolders(plan: Plan): Promise<void> {
  const current = new Map<string, Set<string>>();
  for (const n of plan.nodes) {
    if (n.statement === undefined) continue;
    current.set(n.statement, (current.get(n.statement) ?? new Set()).add(n.runId));
  }
  for (const [statement, runIds] of current) {
    const dir = join(plan.outDir, statement);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!runIds.has(name)) await rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** Temporary folders of runs that were killed (their process is gone) are removed. */
async function sweepStaleTemps(root: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(join(root, '.tmp'));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^[0-9a-f]+-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    await rm(join(root, '.tmp', name), { recursive: true, force: true }).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
