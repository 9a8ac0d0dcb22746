// The on-disk result cache: <cacheRoot>/<key>/result.json plus the run's files under files/.
// Entries appear by one rename of a finished temporary folder, so a failed or killed run never
// leaves a half-written entry, and an entry, once there, is complete.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile, constants as fsConstants } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Plan, PlanNode } from '../../compiler/plan.js';
import { performance } from 'node:perf_hooks';
import type { NodeRunner } from '../runner.js';
import { filesBelow } from './outputs.js';

/** Bump when the entry layout or the key derivation changes: old entries are then ignored. */
const CACHE_FORMAT = 1;

export interface CacheEntry {
  format: number;
  key: string;
  id: string;
  kind: string;
  summary: Record<string, unknown>;
  files: string[];
  exports?: Record<string, string>;
  /** Seconds the kernel took when the entry was made. */
  seconds: number;
  device?: string;
  createdAt: string;
  /** A hash of the result (summary and files): --force may give a different result under the same key. */
  stamp?: string;
  /** The stamps of the results it was computed from, per dependency role (cached ones). */
  needs?: Record<string, string>;
}

/**
 * Cache keys: the plan's key of a node, what its kernel adds, and the keys of the nodes it
 * needs, so a change anywhere upstream reaches every dependent whatever the compiler hashed.
 */
export function effectiveKeys(order: PlanNode[], plan: Plan, kernelFor: (kind: string) => NodeRunner | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  for (const node of order) {
    const h = createHash('sha256');
    h.update(`lvi-cache-${CACHE_FORMAT}\0${node.kind}\0${node.key}\0`);
    const extra = kernelFor(node.kind)?.keyInputs?.(plan, node);
    if (extra !== undefined) h.update(`extra\0${extra}\0`);
    for (const role of Object.keys(node.deps).sort()) h.update(`dep\0${role}\0${keys.get(node.deps[role])}\0`);
    keys.set(node.id, h.digest('hex'));
  }
  return keys;
}

export interface PendingEntry {
  /** Temporary folder; files/ inside it is the kernel's runDir. */
  dir: string;
  filesDir: string;
}

let tempCounter = 0;

/** This process's start, in ms since the epoch (what names its temporary folders). */
export const PROCESS_STARTED = Math.round(performance.timeOrigin);

export class ResultCache {
  constructor(readonly root: string) {}

  entryDir(key: string): string {
    return join(this.root, key);
  }

  filesDir(key: string): string {
    return join(this.root, key, 'files');
  }

  /** A complete entry for the key, or undefined (missing, unreadable, other format, file lost). */
  async read(key: string): Promise<CacheEntry | undefined> {
    let entry: CacheEntry;
    try {
      entry = JSON.parse(await readFile(join(this.entryDir(key), 'result.json'), 'utf8')) as CacheEntry;
    } catch {
      return undefined;
    }
    if (entry.format !== CACHE_FORMAT || entry.key !== key || !Array.isArray(entry.files)) return undefined;
    const files = this.filesDir(key);
    if (!entry.files.every((f) => existsSync(join(files, f)))) return undefined;
    return entry;
  }

  async begin(key: string): Promise<PendingEntry> {
    // The pid and the process's start time name the owner: a later run removes the folder once
    // that process is gone, even when its pid has been given to another process since.
    const dir = join(this.root, '.tmp', `${key.slice(0, 16)}-${process.pid}-${PROCESS_STARTED}-${tempCounter++}`);
    const filesDir = join(dir, 'files');
    await mkdir(filesDir, { recursive: true });
    return { dir, filesDir };
  }

  /**
   * Moves a finished temporary folder into place; replaces an older entry for the same key
   * (--force). Another process may commit the same key at the same moment: whichever entry ends
   * up there is as good as the other (same key, same result), so losing that race is no error.
   */
  async commit(pending: PendingEntry, fields: Omit<CacheEntry, 'format'>): Promise<void> {
    const entry: CacheEntry = { format: CACHE_FORMAT, ...fields };
    await writeFile(join(pending.dir, 'result.json'), JSON.stringify(entry, null, 2) + '\n');
    const final = this.entryDir(entry.key);
    await mkdir(this.root, { recursive: true });
    const busy = (e: unknown) => ['ENOTEMPTY', 'EEXIST', 'ENOENT'].includes((e as NodeJS.ErrnoException).code ?? '');
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        await rename(pending.dir, final);
        return;
      } catch (e) {
        if (!busy(e)) throw e;
      }
      // An entry is in place. Move it aside first: the swap leaves either the old or the new
      // entry, or (if killed between the two renames) none, never a mixture.
      const trash = `${pending.dir}.old${attempt}`;
      try {
        await rename(final, trash);
      } catch (e) {
        if (!busy(e)) throw e;
        continue; // someone else moved it meanwhile: try again
      }
      try {
        await rename(pending.dir, final);
        return;
      } catch (e) {
        if (!busy(e)) throw e;
      } finally {
        await rm(trash, { recursive: true, force: true });
      }
    }
    await this.discard(pending); // another run keeps committing this key: its entry stands
  }

  async discard(pending: PendingEntry): Promise<void> {
    await rm(pending.dir, { recursive: true, force: true });
  }
}

/** A relative file name from a kernel, checked to stay inside its folder. */
export function checkRelative(name: string, where: string): string {
  if (typeof name !== 'string' || name === '' || isAbsolute(name)) {
    throw new Error(`${where}: file name '${String(name)}' must be a relative path`);
  }
  const rel = relative('/root', resolve('/root', name));
  if (rel.startsWith('..') || rel === '') throw new Error(`${where}: file name '${name}' leaves the run folder`);
  return rel.split(sep).join('/');
}

/**
 * Copies a run's files from its cache entry to its output folder, replacing what an earlier run
 * left there (the executor has checked that whatever is there is lvi's). Copies (reflinks where
 * the file system can), so editing an output never edits the cache. Each file is replaced by
 * one rename, so two runs of one study at once never see each other's half-copied files.
 */
export async function materialise(fromDir: string, files: string[], toDir: string): Promise<void> {
  await mkdir(toDir, { recursive: true });
  for (const f of files) {
    // A concurrent `--force` run of the same key swaps the entry for its identical new one: the
    // file is gone for a moment, then back at the same path.
    for (let attempt = 0; ; attempt++) {
      try {
        await copyOut(join(fromDir, f), join(toDir, f));
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5 || !existsSync(dirname(dirname(fromDir)))) throw e;
        await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
      }
    }
  }
  const keep = new Set(files.map((f) => join(toDir, f)));
  for (const abs of await filesBelow(toDir)) {
    if (!keep.has(abs) && !isCopyTemp(abs)) await rm(abs, { force: true });
  }
}

/** A copy in progress (`<file>.lvi-<pid>-<n>.tmp`), renamed onto its file when whole. */
export function isCopyTemp(path: string): boolean {
  return /\.lvi-\d+-\d+\.tmp$/.test(path);
}

export async function copyOut(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const tmp = `${to}.lvi-${process.pid}-${tempCounter++}.tmp`;
  try {
    await copyFile(from, tmp, fsConstants.COPYFILE_FICLONE);
    await rename(tmp, to);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}
