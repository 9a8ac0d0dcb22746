// Engine versions recorded in the lock file (and Node in the run record), read without loading the engines.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    // Walk up from the package's entry point: its package.json is not always exported.
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 6; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      } catch {
        // no package.json at this level
      }
      dir = dirname(dir);
    }
  } catch {
    // not installed
  }
  return 'not installed';
}

/** What defines the results: lvi and the engine (the lock file's `versions`). */
export function engineVersions(lviVersion: string): Record<string, string> {
  return { lvi: lviVersion, onnxruntime: packageVersion('onnxruntime-node') };
}

/** What the run happened on (the run record's): the Node version. */
export function runtimeVersions(): Record<string, string> {
  return { node: process.version.replace(/^v/, '') };
}

export { packageVersion };
