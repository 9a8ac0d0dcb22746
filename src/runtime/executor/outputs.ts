// What lvi wrote, so it deletes and overwrites only that. Every output file is listed with its
// sha256 (the lock file's `outs`, and .lvi/outs.json, which also remembers files of statements
// that left the study). Before a run touches anything, the folders it writes into are checked:
// a file lvi did not write there stops the run with nothing changed. After a run, stale run
// folders go only when every file in them is lvi's and unchanged.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { isInside } from '../../compiler/confine.js';

/** Temporary names stay unique when two runs in one process write at once. */
let tmpCount = 0;

/** Output files by path relative to the study folder (posix separators) -> sha256. */
export type Outs = Record<string, string>;

export function relPath(studyDir: string, abs: string): string {
  return relative(studyDir, abs).split(sep).join('/');
}

export async function fileHash(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Every file below `dir` (absolute paths), symbolic links included as files; [] when absent. */
export async function filesBelow(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesBelow(p)));
    else out.push(p);
  }
  return out;
}

/** The manifest of every file lvi wrote and has not removed, kept under .lvi/. */
export class OutputManifest {
  private constructor(
    private readonly file: string,
    readonly known: Outs,
  ) {}

  static async load(file: string, lockOuts: Outs): Promise<OutputManifest> {
    let known: Outs = {};
    try {
      const doc = JSON.parse(await readFile(file, 'utf8')) as { outs?: Outs };
      if (doc && typeof doc.outs === 'object' && doc.outs) known = doc.outs;
    } catch {
      // none yet, or unreadable: the lock's outs still name what lvi wrote
    }
    return new OutputManifest(file, { ...known, ...lockOuts });
  }

  has(rel: string): boolean {
    return rel in this.known;
  }

  /** True when the file is lvi's and still holds the bytes lvi wrote. */
  async unchanged(studyDir: string, rel: string): Promise<boolean> {
    const want = this.known[rel];
    if (!want) return false;
    try {
      return (await fileHash(join(studyDir, rel))) === want;
    } catch {
      return false;
    }
  }

  record(outs: Outs): void {
    Object.assign(this.known, outs);
  }

  forget(rel: string): void {
    delete this.known[rel];
  }

  /** Drops entries whose file is gone, then writes the manifest (tmp + rename). */
  async save(studyDir: string): Promise<void> {
    const outs: Outs = {};
    for (const rel of Object.keys(this.known).sort()) if (existsSync(join(studyDir, rel))) outs[rel] = this.known[rel];
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}-${tmpCount++}.tmp`;
    await writeFile(tmp, JSON.stringify({ note: 'files lvi wrote (path relative to the study -> sha256); lvi deletes or replaces only these', outs }, null, 1) + '\n');
    await rename(tmp, this.file);
  }
}

/** Where a run may write: the study's folder and the folders given with --allow-out. */
export function writable(studyDir: string, allowOut: string[], p: string): boolean {
  return isInside(studyDir, p) || allowOut.some((a) => isInside(a, p));
}

export function escapeMessage(what: string, p: string, studyDir: string): string {
  return `${what} ${p} is outside the study's folder ${studyDir}; lvi writes there only when the command line allows it: lvi run --allow-out ${p}`;
}

/**
 * Files under the folders a run writes into that lvi did not write: a reason to refuse the run.
 * `lvisOwn(rel)` may accept more files (e.g. ones identical to the cached result they mirror).
 */
export async function foreignFiles(studyDir: string, dirs: string[], manifest: OutputManifest, lvisOwn: (rel: string, abs: string) => Promise<boolean>): Promise<string[]> {
  const foreign: string[] = [];
  for (const dir of dirs) {
    for (const abs of await filesBelow(dir)) {
      const rel = relPath(studyDir, abs);
      // A copy another run of this study is making right now (see copyOut) is lvi's too.
      if (/\.lvi-\d+-\d+\.tmp$/.test(abs) || manifest.has(rel) || (await lvisOwn(rel, abs))) continue;
      foreign.push(abs);
    }
  }
  return foreign;
}

/** The file at a path, when it exists and is not a folder. */
export function isFileAt(p: string): boolean {
  try {
    return !lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Removes a stale run folder when every file in it is lvi's and unchanged; otherwise leaves it
 * whole and says why. Returns the message for a folder it kept.
 */
export async function removeIfOurs(studyDir: string, dir: string, manifest: OutputManifest): Promise<string | undefined> {
  const files = await filesBelow(dir);
  for (const abs of files) {
    const rel = relPath(studyDir, abs);
    if (!(await manifest.unchanged(studyDir, rel))) {
      return `kept ${dir}: ${manifest.has(rel) ? `${rel} was changed since lvi wrote it` : `${rel} was not written by lvi`}`;
    }
  }
  await rm(dir, { recursive: true, force: true });
  for (const abs of files) manifest.forget(relPath(studyDir, abs));
  return undefined;
}
