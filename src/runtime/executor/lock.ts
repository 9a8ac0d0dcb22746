// The lock file: what defines and identifies a study's results, in YAML beside the study, for
// review in version control. It changes only when results do: resolved parameters, input hashes,
// content keys, lvi and engine versions, deterministic summaries (numbers to 6 significant
// digits) and the sha256 of every output file (`outs`). Keys are in a fixed order (nodes by id,
// everything else alphabetically), paths relative to the study, and nothing that says how or
// when a run went (dates, seconds, cached or ran, devices, Node, source lines): that is the
// run record's (.lvi/runs/, see run-record.ts).

import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, sep } from 'node:path';
import YAML from 'yaml';
import type { Plan, PlanNode } from '../../compiler/plan.js';

/** Temporary names stay unique when two runs in one process write at once. */
let tmpCount = 0;

export type NodeStatus = 'ran' | 'cached' | 'failed' | 'skipped';

export const LOCK_FORMAT = 2;

/** Significant digits of the summaries' non-integer numbers in the lock file. */
export const SUMMARY_DIGITS = 6;

/** What the lock file says about one node. */
export interface LockNode {
  kind: string;
  statement?: string;
  runId: string;
  key: string;
  deps: Record<string, string>;
  sweep: Record<string, unknown>;
  params: Record<string, unknown>;
  inputs: Record<string, string>;
  /** The deterministic part of the node's summary; absent until the node has a result. */
  summary?: Record<string, unknown>;
  /** Output files (relative to the study) -> sha256; absent until the node has a result. */
  outs?: Record<string, string>;
}

export interface LockDocument {
  lock: number;
  study: { name: string; file: string; out: string };
  versions: Record<string, string>;
  nodes: Record<string, LockNode>;
}

/** `study.lvi` -> `study.lock.yaml` in the same folder. */
export function lockPath(studyFile: string): string {
  const ext = extname(studyFile);
  return join(dirname(studyFile), `${basename(studyFile, ext)}.lock.yaml`);
}

/** Absolute paths become relative to the study folder (posix separators); object keys sorted. */
export function portable(value: unknown, studyDir: string): unknown {
  if (typeof value === 'string') {
    if (!isAbsolute(value) || value.includes('\n')) return value;
    const rel = relative(studyDir, value).split(sep).join('/');
    return rel === '' ? '.' : rel;
  }
  if (Array.isArray(value)) return value.map((v) => portable(v, studyDir));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[String(portable(k, studyDir))] = portable(v, studyDir);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

/**
 * Summary fields that describe how a run went rather than what it found: timings, the device,
 * the batch size batch=auto chose by timing and the check of its first batched run. They go to
 * the run record, not the lock.
 */
export function isVolatileField(name: string): boolean {
  return /^(seconds|ms|device|devices|date|time|batch|batchProbe|batch_probe|batchCheck|createdAt)$|Seconds$|_seconds$|Ms$|_ms$/.test(name);
}

/** Numbers to SUMMARY_DIGITS significant digits, so float noise between machines does not show. */
export function rounded(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) || !Number.isFinite(value) ? value : Number(value.toPrecision(SUMMARY_DIGITS));
  if (Array.isArray(value)) return value.map(rounded);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = rounded(v);
    return out;
  }
  return value;
}

/**
 * The lock's part of a summary: volatile fields dropped, numbers rounded, and absolute paths
 * dropped too: a cached summary names the file where that run saw it (another checkout, for a
 * shared cache), while the entry's params, inputs and outs already name the files, relative.
 */
export function lockSummary(summary: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(summary)) {
    if (isVolatileField(k) || (typeof v === 'string' && isAbsolute(v))) continue;
    out[k] = rounded(v);
  }
  return out;
}

/** The lock entry of a plan node, before any result is known. */
export function lockNode(plan: Plan, node: PlanNode, key: string): LockNode {
  const rel = (v: unknown) => portable(v, plan.studyDir) as Record<string, unknown>;
  return {
    kind: node.kind,
    statement: node.statement,
    runId: node.runId,
    key,
    deps: rel(node.deps) as Record<string, string>,
    sweep: rel(node.sweep),
    params: rel(node.params),
    inputs: rel(node.files) as Record<string, string>,
  };
}

/** A node entry in its fixed field order, undefined fields and empty maps left out. */
function ordered(n: LockNode, studyDir: string): Record<string, unknown> {
  const fields: (keyof LockNode)[] = ['kind', 'statement', 'runId', 'key', 'deps', 'sweep', 'params', 'inputs', 'summary', 'outs'];
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = n[f];
    if (v === undefined) continue;
    if ((f === 'deps' || f === 'sweep' || f === 'inputs' || f === 'outs') && Object.keys(v as object).length === 0) continue;
    out[f] = f === 'summary' || f === 'outs' ? portable(v, studyDir) : v;
  }
  return out;
}

export function lockText(doc: LockDocument, studyDir: string): string {
  const nodes: Record<string, unknown> = {};
  for (const id of Object.keys(doc.nodes).sort()) nodes[id] = ordered(doc.nodes[id], studyDir);
  const body = { lock: doc.lock, study: portable(doc.study, studyDir), versions: portable(doc.versions, studyDir), nodes };
  const yaml = new YAML.Document(body, { aliasDuplicateObjects: false });
  // Short things on one line: lists of plain values (windows, columns) and references.
  YAML.visit(yaml, {
    Seq(_, seq) {
      if (seq.items.every((i) => YAML.isScalar(i))) seq.flow = true;
    },
    Map(_, map) {
      if (map.items.some((p) => YAML.isScalar(p.key) && p.key.value === 'ref') && map.items.every((p) => YAML.isScalar(p.value))) map.flow = true;
    },
  });
  return (
    '# Written by `lvi run`: what defines the results (parameters, input and output hashes, versions,\n' +
    `# summaries to ${SUMMARY_DIGITS} significant digits). It changes only when results do; how each run went is in .lvi/runs/.\n` +
    yaml.toString({ lineWidth: 0 })
  );
}

export async function readLock(path: string): Promise<LockDocument | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    const doc = YAML.parse(await readFile(path, 'utf8')) as LockDocument;
    return doc && typeof doc === 'object' && doc.nodes && typeof doc.nodes === 'object' ? doc : undefined;
  } catch {
    return undefined; // a broken lock file is rewritten, not trusted
  }
}

/** Every output listed by a lock (any format: format 1 had none). */
export function lockOuts(doc: LockDocument | undefined): Record<string, string> {
  const outs: Record<string, string> = {};
  for (const n of Object.values(doc?.nodes ?? {})) if (n && typeof n.outs === 'object' && n.outs) Object.assign(outs, n.outs);
  return outs;
}

/**
 * Writes through a temporary file and a rename: readers see the old or the new file, whole.
 * An unchanged text is not rewritten, so the file's time stays too.
 */
export async function writeLock(path: string, text: string): Promise<void> {
  try {
    if ((await readFile(path, 'utf8')) === text) return;
  } catch {
    // no lock yet
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}-${tmpCount++}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
