// Temporary cache folders of killed runs (.lvi/cache/.tmp/<key>-<pid>-<start ms>-<n>) are removed
// by later runs, and only those: a folder whose owner still runs is another live run's work.
// The owner is the pid *and* its start time, since a killed run's pid is soon another process's
// (in a container, often the next lvi run's own).

import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PROCESS_STARTED } from './cache.js';

/** Start of a live process in ms since the epoch (Linux /proc), undefined when unknown. */
function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime, clock ticks after boot) counted after the ')' that ends the name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined;
    return btime * 1000 + (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
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

/** True when the process that made a folder with this name may still be running. */
export function ownerMayRun(name: string, self = { pid: process.pid, started: PROCESS_STARTED }): boolean {
  const m = /^[0-9a-f]+-(\d+)-(\d+)-/.exec(name);
  if (!m) return true; // not a name lvi gives: left alone
  const pid = Number(m[1]);
  const started = Number(m[2]);
  if (pid === self.pid) return started === self.started;
  if (!isAlive(pid)) return false;
  const actual = processStart(pid);
  // The live process started well after the folder's owner did: the pid was reused.
  // (Tolerance: /proc counts in 10 ms ticks and a runtime starts its clock a little later.)
  return actual === undefined || Math.abs(actual - started) < 5000;
}

/** Removes the temporary folders whose owner is gone. */
export async function sweepStaleTemps(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(root, '.tmp'));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (ownerMayRun(name)) continue;
    await rm(join(root, '.tmp', name), { recursive: true, force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}
