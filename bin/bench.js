#!/usr/bin/env node
// The benchmarks are compiled with the rest (npm run build) into dist/bench/.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bench/index.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('bench: dist/bench/index.js is missing; run `npm run build` first\n');
  process.exit(1);
}
await import(entry.href);
