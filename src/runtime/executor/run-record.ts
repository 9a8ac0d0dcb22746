// The run record: how one `lvi run` went (when, how long, ran or cached, devices, batch
// timings, Node, where each statement is in the source, errors and warnings). One JSON file per
// run under <study folder>/.lvi/runs/, the newest RUNS_KEPT kept; `lvi run --json` prints the
// same facts, and the report shows them. The lock file holds only what defines the results.

import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { NodeStatus } from './lock.js';

/** Temporary names stay unique when two runs in one process write at once. */
let tmpCount = 0;
const recordsStarted = new Map<string, number>();

export const RUNS_KEPT = 20;

export interface RunRecordNode {
  status: NodeStatus | 'pending' | 'not-run';
  /** Seconds the node took in this run (near 0 when cached). */
  seconds?: number;
  /** Seconds and device of the run that computed the result (an earlier one when cached). */
  computeSeconds?: number;
  device?: string;
  /** `study.lvi:12:1`, relative to the study folder. */
  source?: string;
  /** The node's whole summary, volatile fields (timings, batch probe) included. */
  summary?: Record<string, unknown>;
  error?: string;
  warnings?: string[];
}

export interface RunRecord {
  record: 1;
  study: string;
  date: string;
  seconds: number;
  status: 'ok' | 'failed' | 'incomplete';
  device: string;
  only?: string[];
  force?: boolean;
  /** sha256 of the study's text as it ran (comments and layout included). */
  studyHash?: string;
  versions: Record<string, string>;
  nodes: Record<string, RunRecordNode>;
}

/** .lvi/runs/ of a study. */
export function runsDir(studyFile: string, studyDir: string): { dir: string; prefix: string } {
  return { dir: join(studyDir, '.lvi', 'runs'), prefix: basename(studyFile, extname(studyFile)) };
}

/** One name per run, sortable by time: <study>-<date>-<pid>.json. */
export function runRecordPath(studyFile: string, studyDir: string, started: Date): string {
  const { dir, prefix } = runsDir(studyFile, studyDir);
  // Two runs started in the same millisecond by one process (tests, a queue) get two names.
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const name = recordsStarted.get(stamp) ? `${prefix}-${stamp}-${process.pid}${recordsStarted.get(stamp)}.json` : `${prefix}-${stamp}-${process.pid}.json`;
  recordsStarted.set(stamp, (recordsStarted.get(stamp) ?? 0) + 1);
  return join(dir, name);
}

export async function writeRunRecord(path: string, record: RunRecord): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const tmp = `${path}.${tmpCount++}.tmp`;
  await writeFile(tmp, JSON.stringify(record, null, 1) + '\n');
  await rename(tmp, path);
}

/** Removes all but the newest `keep` records of the study. */
export async function pruneRunRecords(studyFile: string, studyDir: string, keep = RUNS_KEPT): Promise<void> {
  const { dir, prefix } = runsDir(studyFile, studyDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{4}-\\d\\d-\\d\\dT[\\d-]+Z-\\d+\\.json$`);
  const mine = names.filter((n) => pattern.test(n)).sort();
  for (const n of mine.slice(0, Math.max(0, mine.length - keep))) await rm(join(dir, n), { force: true });
}
