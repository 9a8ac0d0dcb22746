// The lock file: the study's resolved form as it ran, in YAML beside the study. Keys are in a
// fixed order (nodes by id, parameters and facts alphabetically) and paths are relative to the
// study, so a rerun on another machine diffs only where something really changed.

import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, sep } from 'node:path';
import YAML from 'yaml';
import type { Plan, PlanNode } from '../../compiler/plan.js';

export type NodeStatus = 'ran' | 'cached' | 'failed' | 'skipped';

/** What the lock file says about one node. */
export interface LockNode {
  kind: string;
  statement?: string;
  runId: string;
  source?: string;
  /** 'not-run': not selected by --only and no earlier result with the same key. */
  status: NodeStatus | 'pending' | 'not-run';
  key: string;
  device?: string;
  seconds?: number;
  deps: Record<string, string>;
  sweep: Record<string, unknown>;
  params: Record<string, unknown>;
  inputs: Record<string, string>;
  summary?: Record<string, unknown>;
  error?: string;
}

export interface LockDocument {
  lock: number;
  study: { name: string; file: string; out: string; hash?: string };
  versions: Record<string, string>;
  run: { date: string; seconds: number; status: 'ok' | 'failed' | 'incomplete'; device: string; only?: string[]; force?: boolean };
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

/** The lock entry of a plan node, before any result is known. */
export function lockNode(plan: Plan, node: PlanNode, key: string, status: LockNode['status']): LockNode {
  const rel = (v: unknown) => portable(v, plan.studyDir) as Record<string, unknown>;
  const entry: LockNode = {
    kind: node.kind,
    statement: node.statement,
    runId: node.runId,
    source: node.source ? `${portable(node.source.file, plan.studyDir)}:${node.source.line}:${node.source.column}` : undefined,
    status,
    key,
    deps: rel(node.deps) as Record<string, string>,
    sweep: rel(node.sweep),
    params: rel(node.params),
    inputs: rel(node.files) as Record<string, string>,
  };
  return entry;
}

/** A node entry in its fixed field order, undefined fields left out. */
function ordered(n: LockNode, studyDir: string): Record<string, unknown> {
  const fields: (keyof LockNode)[] = ['kind', 'statement', 'runId', 'source', 'status', 'key', 'device', 'seconds', 'error', 'deps', 'sweep', 'params', 'inputs', 'summary'];
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = n[f];
    if (v === undefined) continue;
    // Empty maps (no deps, no sweep, no input files) say nothing: left out.
    if ((f === 'deps' || f === 'sweep' || f === 'inputs') && Object.keys(v as object).length === 0) continue;
    out[f] = f === 'summary' ? portable(v, studyDir) : v;
  }
  return out;
}

export function lockText(doc: LockDocument, studyDir: string): string {
  const nodes: Record<string, unknown> = {};
  for (const id of Object.keys(doc.nodes).sort()) nodes[id] = ordered(doc.nodes[id], studyDir);
  const run: Record<string, unknown> = { date: doc.run.date, seconds: doc.run.seconds, status: doc.run.status, device: doc.run.device };
  if (doc.run.only) run.only = doc.run.only;
  if (doc.run.force) run.force = true;
  const body = { lock: doc.lock, study: doc.study, versions: portable(doc.versions, studyDir), run, nodes };
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
  return '# Written by `lvi run`: what ran, with which parameters, inputs, engines and results.\n' + yaml.toString({ lineWidth: 0 });
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

/** Writes through a temporary file and a rename: readers see the old or the new file, whole. */
export async function writeLock(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
