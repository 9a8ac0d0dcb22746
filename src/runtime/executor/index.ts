// `lvi run`: executes a compiled plan in dependency order. Results are cached by content key
// under <studyDir>/.lvi/cache, so a rerun does only what changed; every run's files are copied
// to <out>/<statement>/<runId>/; a failing node stops only what needs it. The lock file beside
// the study records what defines the results (and every output's hash); .lvi/runs/ records how
// each run went. lvi writes only inside the study's folder (or where --allow-out says), and
// deletes or replaces only files it wrote (outputs.ts).

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Plan, PlanNode } from '../../compiler/plan.js';
import type { Device } from '../api.js';
import { loadRunners } from '../runners.js';
import { ResultCache, checkRelative, copyOut, effectiveKeys, materialise, type CacheEntry } from './cache.js';
import { namedNodes, selectNodes, topologicalOrder } from './graph.js';
import type { NodeRunner, RunContext, NodeResult } from '../runner.js';
import { LOCK_FORMAT, lockNode, lockOuts, lockPath, lockSummary, lockText, portable, readLock, writeLock, type LockDocument, type LockNode, type NodeStatus } from './lock.js';
import { OutputManifest, escapeMessage, fileHash, foreignFiles, isFileAt, relPath, removeIfOurs, writable, type Outs } from './outputs.js';
import { barProgress, formatSeconds, lineProgress, type ProgressSink } from './progress.js';
import { RUNS_KEPT, pruneRunRecords, runRecordPath, writeRunRecord, type RunRecord, type RunRecordNode } from './run-record.js';
import { sweepStaleTemps } from './temps.js';
import { engineVersions, runtimeVersions } from './versions.js';

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
  /** Lock file path (default: beside the study); false writes none (and no run record). */
  lockFile?: string | false;
  /** Folders outside the study's folder that this run may write into (`lvi run --allow-out`). */
  allowOut?: string[];
  /** Run records kept under .lvi/runs/ (default RUNS_KEPT). */
  runsKept?: number;
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
  /** The run's files (relative to the study folder) -> sha256, as in the lock's `outs`. */
  outs: Outs;
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
  /** This run's record under .lvi/runs/. */
  runRecord?: string;
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
  outs: Outs;
  /** The stamp of its cache entry (see CacheEntry.stamp). */
  stamp?: string;
}

export async function executePlan(plan: Plan, options: ExecuteOptions = {}): Promise<RunSummary> {
  const started = new Date();
  const t0 = performance.now();
  const { studyDir } = plan;
  const kernelFor = options.kernels ?? (await loadRunners(plan.nodes.map((n) => n.kind)));
  const order = topologicalOrder(plan);
  const selected = selectNodes(plan, options.only);
  const forced = options.force ? namedNodes(plan, options.only) : new Set<string>();
  const keys = effectiveKeys(order, plan, kernelFor);
  const device = (options.device ?? (plan.study.device as Device | undefined) ?? 'auto') as Device;
  const cache = new ResultCache(options.cacheDir ?? join(studyDir, '.lvi', 'cache'));
  const allowOut = (options.allowOut ?? []).map((p) => resolve(p));
  const lockFile = options.lockFile === false ? undefined : (options.lockFile ?? lockPath(plan.studyFile));
  const previousLock = lockFile ? await readLock(lockFile) : undefined;
  const manifest = await OutputManifest.load(join(studyDir, '.lvi', 'outs.json'), lockOuts(previousLock));

  // Refusals come before anything is written or removed.
  if (!writable(studyDir, allowOut, plan.outDir)) throw new Error(escapeMessage('the output folder', plan.outDir, studyDir));
  if (isFileAt(plan.outDir)) throw new Error(`the output folder ${shortPath(plan.outDir)} is a file, not a folder: give out= a folder (or a path that does not exist yet)`);
  await refuseForeignFiles(plan, selected, keys, cache, manifest);

  await sweepStaleTemps(cache.root);
  const sink = progressSink(options);
  const versions = engineVersions(plan.lviVersion);
  // Read once: it describes the study as it was compiled (comments included: the run record's).
  const studyFileHash = studyHash(plan);
  const recordFile = lockFile ? runRecordPath(plan.studyFile, studyDir, started) : undefined;

  const states = new Map<string, NodeState>();
  for (const node of order) {
    states.set(node.id, { node, kernel: kernelFor(node.kind), key: keys.get(node.id)!, valueReady: false, seconds: 0, warnings: [], files: [], outs: {} });
  }

  const previousEntry = (st: NodeState): LockNode | undefined => {
    const prev = previousLock?.lock === LOCK_FORMAT ? previousLock.nodes?.[st.node.id] : undefined;
    return prev && prev.key === st.key ? prev : undefined;
  };

  const lockDocument = (): LockDocument => {
    const nodes: Record<string, LockNode> = {};
    for (const st of states.values()) {
      const { node } = st;
      const done = selected.has(node.id) && (st.status === 'ran' || st.status === 'cached') && st.result;
      if (!done) {
        // Not selected, or not finished yet: what the lock said, while it still describes this node.
        const keep = !selected.has(node.id) || st.status === undefined ? previousEntry(st) : undefined;
        nodes[node.id] = keep ?? lockNode(plan, node, st.key);
        continue;
      }
      const entry = lockNode(plan, node, st.key);
      entry.summary = lockSummary(st.result!.summary);
      entry.outs = st.outs;
      nodes[node.id] = entry;
    }
    return {
      lock: LOCK_FORMAT,
      study: { name: plan.study.name, file: plan.studyFile, out: plan.outDir },
      versions,
      nodes,
    };
  };

  const runRecord = (final: boolean): RunRecord => {
    const nodes: Record<string, RunRecordNode> = {};
    for (const st of states.values()) {
      const { node } = st;
      const source = sourceOf(node, plan);
      nodes[node.id] = {
        status: !selected.has(node.id) ? 'not-run' : (st.status ?? 'pending'),
        seconds: st.status ? round3(st.seconds) : undefined,
        computeSeconds: st.computeSeconds === undefined ? undefined : round3(st.computeSeconds),
        device: st.device,
        source: source ? `${portable(source.file, studyDir)}:${source.line}:${source.column}` : undefined,
        summary: st.result ? (portable(st.result.summary, studyDir) as Record<string, unknown>) : undefined,
        error: st.error,
        warnings: st.warnings.length ? [...st.warnings] : undefined,
      };
    }
    const failed = [...states.values()].some((s) => s.status === 'failed' || s.status === 'skipped');
    return {
      record: 1,
      study: String(portable(plan.studyFile, studyDir)),
      date: started.toISOString(),
      seconds: round3((performance.now() - t0) / 1000),
      status: failed ? 'failed' : final ? 'ok' : 'incomplete',
      device,
      only: options.only && options.only.length ? options.only : undefined,
      force: options.force || undefined,
      studyHash: studyFileHash,
      versions: { ...versions, ...runtimeVersions() },
      nodes,
    };
  };

  /** What the report shows: the lock's facts with this run's (date, device, status, seconds). */
  const facts = (): Record<string, unknown> => {
    const lock = portable(lockDocument(), studyDir) as Record<string, unknown> & { nodes: Record<string, Record<string, unknown>> };
    const record = runRecord(false);
    for (const [id, n] of Object.entries(lock.nodes)) {
      const r = record.nodes[id];
      if (r) Object.assign(n, { status: r.status, device: r.device, seconds: r.computeSeconds });
    }
    return { ...lock, versions: record.versions, run: { date: record.date, device: record.device, status: record.status } };
  };

  const materialiseNode = async (st: NodeState): Promise<void> => {
    const r = st.result!;
    st.files = [];
    st.outs = {};
    st.outDir = undefined;
    // An exported file is written where it is exported to, once (not also into the run folder).
    const exported = new Set(Object.keys(r.exports ?? {}));
    const runFiles = r.files.filter((f) => !exported.has(f));
    if (st.node.statement !== undefined && runFiles.length > 0 && r.dir) {
      st.outDir = join(plan.outDir, segment(st.node.statement), segment(st.node.runId));
      await materialise(r.dir, runFiles, st.outDir);
      st.files.push(...runFiles.map((f) => join(st.outDir!, f)));
    }
    for (const [name, dest] of Object.entries(r.exports ?? {})) {
      const from = join(r.dir!, name);
      if (!writable(studyDir, allowOut, dest)) throw new Error(escapeMessage(`'${name}' is to be written to`, dest, studyDir));
      if (existsSync(dest) && !manifest.has(relPath(studyDir, dest)) && (await fileHash(dest).catch(() => '')) !== (await fileHash(from))) {
        throw new Error(`${shortPath(dest)} exists and lvi did not write it: not replaced (move it, or write '${name}' elsewhere)`);
      }
      await copyOut(from, dest);
      st.files.push(dest);
    }
    for (const f of st.files) st.outs[relPath(studyDir, f)] = await fileHash(f);
    manifest.record(st.outs);
  };

  /** The stamps of a node's cached dependencies now (those computed or read in this run, else the cache's). */
  const needsOf = async (node: PlanNode): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const [role, dep] of Object.entries(node.deps)) {
      const ds = states.get(dep);
      const stamp = ds?.stamp ?? (ds?.kernel?.cache ? (await cache.read(ds.key))?.stamp : undefined);
      if (stamp) out[role] = stamp;
    }
    return out;
  };
  /** A dependency whose result is no longer the one this entry was computed from. */
  const staleDependency = async (node: PlanNode, entry: CacheEntry): Promise<string | undefined> => {
    if (!entry.needs) return undefined;
    const now = await needsOf(node);
    const role = Object.keys(entry.needs).find((r) => now[r] !== undefined && now[r] !== entry.needs![r]);
    return role === undefined ? undefined : node.deps[role];
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
        // The device line (`device: cpu (...)`) is a note, said once; the rest are warnings.
        sink.log(message.startsWith('device: ') ? message : `warning: ${title}: ${message}`);
      },
      lookup: (id) => states.get(id)?.result,
      facts: () => JSON.parse(JSON.stringify(facts())) as Record<string, unknown>,
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
        stamp: await resultStamp(summary, files, pending.filesDir),
        needs: await needsOf(node),
      };
      await cache.commit(pending, entry);
      st.stamp = entry.stamp;
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

  // The lock and the run record are rewritten as nodes finish (at most every 2 s), so a killed
  // run leaves a record of what finished and a lock whose entries all describe real results.
  let lastWrite = -Infinity;
  const interimWrite = async (): Promise<void> => {
    if (!lockFile || performance.now() - lastWrite < 2000) return;
    lastWrite = performance.now();
    await writeLock(lockFile, lockText(lockDocument(), studyDir)).catch(() => undefined);
    if (recordFile) await writeRunRecord(recordFile, runRecord(false)).catch(() => undefined);
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
      const stale = entry ? await staleDependency(node, entry) : undefined;
      if (stale) sink.log(`stale   ${nodeTitle(node)}: ${stale} was computed again since (--force) and changed; recomputing`);
      if (entry && !stale) {
        st.stamp = entry.stamp;
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
        if (st.status !== 'cached') sink.log(`${displayLocation(node, plan) ?? node.id}: error: ${nodeTitle(node)}: ${st.error}`);
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
      await interimWrite();
    }
  } finally {
    sink.close();
  }
  if (!options.only?.length) {
    for (const kept of await pruneRunFolders(plan, states, manifest)) sink.log(`note: ${kept}`);
  }

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
      outs: st.outs,
      summary: st.result?.summary ?? {},
      key: st.key,
      location: locationOf(node, plan),
      error: st.error,
      warnings: st.warnings.length ? st.warnings : undefined,
    });
  }
  let ok = counts.failed === 0 && counts.skipped === 0;
  if (lockFile) {
    try {
      await writeLock(lockFile, lockText(lockDocument(), studyDir));
      await manifest.save(studyDir);
      await writeRunRecord(recordFile!, runRecord(true));
      await pruneRunRecords(plan.studyFile, studyDir, options.runsKept ?? RUNS_KEPT);
    } catch (e) {
      ok = false;
      sink.log(`error: cannot write the lock file ${lockFile} or the run record: ${errorMessage(e)}`);
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
    runRecord: lockFile ? recordFile : undefined,
    status: ok ? 'ok' : 'failed',
    exitCode: ok ? 0 : 1,
    seconds,
    counts,
    nodes,
  };
}

/** A result's content: its summary (less its timing) and files. A rerun that gives the same result gives the same stamp. */
async function resultStamp(summary: Record<string, unknown>, files: string[], dir: string): Promise<string> {
  const { seconds: _seconds, ...rest } = summary;
  const h = createHash('sha256').update(JSON.stringify(rest));
  for (const f of [...files].sort()) h.update(`\0${f}\0${await fileHash(join(dir, f))}`);
  return h.digest('hex');
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
 * removed after a full run, so the output folder shows only what the study now produces; a
 * folder goes only when every file in it is lvi's and unchanged. Returns what it kept, and why.
 */
async function pruneRunFolders(plan: Plan, states: Map<string, NodeState>, manifest: OutputManifest): Promise<string[]> {
  const current = new Map<string, Set<string>>();
  for (const st of states.values()) {
    const n = st.node;
    if (n.statement === undefined) continue;
    const ids = current.get(n.statement) ?? new Set<string>();
    current.set(n.statement, ids);
    // A run that wrote no run folder (its files are all exported) leaves none behind either.
    const wroteNone = (st.status === 'ran' || st.status === 'cached') && st.outDir === undefined;
    if (!wroteNone) ids.add(n.runId);
  }
  const kept: string[] = [];
  for (const [statement, runIds] of current) {
    const dir = join(plan.outDir, segment(statement));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (runIds.has(name)) continue;
      const why = await removeIfOurs(plan.studyDir, join(dir, name), manifest);
      if (why) kept.push(why);
    }
  }
  return kept;
}

/**
 * Stops the run, before anything is written, when a folder it writes into (<out>/<statement>/)
 * holds files lvi did not write: with out="." a statement named like an input folder would
 * otherwise have its files replaced or pruned. A file at the place of one of the files of the
 * cached result that run folder mirrors counts as lvi's (outputs of a version of lvi that kept
 * no manifest, or a concurrent run's copy in progress).
 */
async function refuseForeignFiles(plan: Plan, selected: Set<string>, keys: Map<string, string>, cache: ResultCache, manifest: OutputManifest): Promise<void> {
  const runs = new Map<string, string>(); // <statement>/<runId> -> cache key
  const dirs = new Set<string>();
  for (const n of plan.nodes) {
    if (n.statement === undefined || !selected.has(n.id)) continue;
    runs.set(`${n.statement}/${n.runId}`, keys.get(n.id)!);
    dirs.add(join(plan.outDir, segment(n.statement)));
  }
  const adopted: Outs = {};
  const lvisOwn = async (rel: string, abs: string): Promise<boolean> => {
    const parts = relative(plan.outDir, abs).split(/[\/]/);
    const key = runs.get(`${parts[0]}/${parts[1]}`);
    if (!key || parts.length < 3) return false;
    const entry = await cache.read(key);
    const name = parts.slice(2).join('/');
    // One of the files this very result consists of, at its place: lvi's (identical, or being
    // copied there right now by a concurrent run of the same study).
    if (!entry?.files.includes(name)) return false;
    adopted[rel] = await fileHash(abs);
    return true;
  };
  const foreign = await foreignFiles(plan.studyDir, [...dirs], manifest, lvisOwn);
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 3).map(shortPath).join(', ') + (foreign.length > 3 ? ` and ${foreign.length - 3} more` : '');
    const folders = [...new Set(foreign.map((f) => [...dirs].find((d) => f.startsWith(d))!))].map(shortPath).join(', ');
    throw new Error(
      `the output folder ${folders} holds files lvi did not write (${shown}); lvi replaces and removes only its own outputs, ` +
        'so nothing was changed. Move those files, or give the statement another name or the study another out=',
    );
  }
  manifest.record(adopted);
}
