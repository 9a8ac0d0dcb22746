// Where the repository's own test data lives. Tests, benchmarks and scripts read fixtures only
// through `fixture()`, so a clone needs nothing beside it (no ../shared) and a missing file is a
// failure with its path, never a silently skipped test.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding lvi's package.json, found by walking up: this file also runs compiled
 *  under dist/ (the benchmark imports it), where a fixed '../..' would point into dist. */
function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'lvi') {
      return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`lvi's package.json not found above ${start}`);
  }
}

export const repoRoot: string = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));

export const fixturesDir: string = path.join(repoRoot, 'test', 'fixtures');

/** Absolute path of a file or folder under test/fixtures; throws naming the path if it is missing. */
export function fixture(...parts: string[]): string {
  const file = path.join(fixturesDir, ...parts);
  if (!file.startsWith(fixturesDir + path.sep) && file !== fixturesDir) {
    throw new Error(`fixture path ${parts.join('/')} leaves test/fixtures`);
  }
  if (!existsSync(file)) {
    throw new Error(`test fixture missing: ${file} (test/fixtures is part of the repository; see test/fixtures/README.md)`);
  }
  return file;
}
