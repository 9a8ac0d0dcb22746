// `npm run bench [-- SECTION...]`: runs every bench/sections/*.js (compiled) in name order, or
// the ones named. A section prints its figures beside a baseline measured in the same run.
//
// To add a section: bench/sections/<name>.ts exporting `title` and `run(ctx: BenchContext)`.
// Measure in a fresh process with `ctx.isolated(import.meta.url, 'fnName', args)` (fnName is
// another export of the section; its result comes back with the process's peak memory).

import { readdirSync } from 'node:fs';
import os from 'node:os';
import { type BenchContext, type BenchSection, formatTable, runIsolated } from './lib.js';

const dir = new URL('./sections/', import.meta.url);
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.js'))
  .sort()
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.js$/, '')));
if (files.length === 0) {
  process.stderr.write(`no benchmark section matches ${wanted.join(', ')}\n`);
  process.exit(1);
}

const ctx: BenchContext = {
  log: (line = '') => process.stdout.write(`${line}\n`),
  table: (rows) => {
    for (const l of formatTable(rows)) process.stdout.write(`  ${l}\n`);
  },
  isolated: runIsolated,
};

ctx.log(`lvi benchmarks: node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`);
for (const file of files) {
  const section = (await import(new URL(file, dir).href)) as BenchSection;
  ctx.log();
  ctx.log(`== ${section.title} (${file.replace(/\.js$/, '')}) ==`);
  const t = Date.now();
  await section.run(ctx);
  ctx.log(`(${((Date.now() - t) / 1000).toFixed(0)} s)`);
}
