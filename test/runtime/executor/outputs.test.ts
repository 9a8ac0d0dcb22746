// Issue 8.1 / 8.2 / 8.9: lvi deletes and replaces only what it wrote, writes only inside the
// study's folder (unless --allow-out), refuses an out path that is a file, and a failed node
// gives a non-zero exit. Real studies, compiled and run with the shipped kernels (a 1-step LAM
// of the FSRCNN reference export: well under a second).

import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { runRun } from '../../../src/cli/commands/run.js';
import { compileText } from '../../../src/compiler/compile.js';
import { executePlan } from '../../../src/runtime/executor/index.js';
import { fixture } from '../../helpers/paths.js';
import { removeTempStudies, tempStudy } from './helpers.js';
import { capture } from '../../helpers/io.js';

afterAll(removeTempStudies);

/** A study folder with m.onnx and images/cat.png, as in the issue. */
function study(text: string): { dir: string; file: string } {
  const s = tempStudy(text);
  copyFileSync(fixture('lam', 'fsrcnn_chelsea', 'model.onnx'), join(s.dir, 'm.onnx'));
  mkdirSync(join(s.dir, 'images'));
  copyFileSync(fixture('lam', 'chelsea_256.png'), join(s.dir, 'images', 'cat.png'));
  return s;
}

const HEAD = 'model m file="m.onnx" scale=4 range=1\nimage i file="images/cat.png"\n';
const quiet = { progress: 'none' as const };
const run = async (file: string, opts: { allowOut?: string[] } = {}) => {
  const io = capture();
  const origWrite = process.stderr.write.bind(process.stderr);
  // The executor's progress goes to stderr: keep the test output clean, but keep what it said.
  let said = '';
  process.stderr.write = ((chunk: string | Uint8Array) => ((said += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await runRun(file, opts, io);
    return { code, stderr: io.stderr + said, stdout: io.stdout };
  } finally {
    process.stderr.write = origWrite;
  }
};
const compile = (s: { file: string }) => {
  const { plan, diagnostics } = compileText(readFileSync(s.file, 'utf8'), s.file);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return plan!;
};

describe('lvi deletes and replaces only files it wrote', () => {
  it('out="." with a statement named like an input folder: refused, nothing touched (the issue\'s case)', async () => {
    const s = study(`study "s" out="."\n${HEAD}lam images model=m image=i window=(100,100,8,8) steps=1\n`);
    writeFileSync(join(s.dir, 'images', 'notes.txt'), 'my notes\n');
    mkdirSync(join(s.dir, 'images', 'raw'));
    writeFileSync(join(s.dir, 'images', 'raw', 'a.txt'), 'a\n');
    const before = readFileSync(join(s.dir, 'images', 'cat.png'));
    const r = await run(s.file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/holds files lvi did not write \(.*images\/cat\.png/);
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(readdirSync(join(s.dir, 'images')).sort()).toEqual(['cat.png', 'notes.txt', 'raw']);
    expect(readFileSync(join(s.dir, 'images', 'cat.png'))).toEqual(before);
    expect(readFileSync(join(s.dir, 'images', 'raw', 'a.txt'), 'utf8')).toBe('a\n');
    expect(existsSync(join(s.dir, '.lvi', 'cache'))).toBe(false); // refused before anything ran
  });

  it('a file dropped into a run folder stops the next run; lvi\'s own files there do not', async () => {
    const s = study(`study "s" out="out"\n${HEAD}lam eye model=m image=i window=(100,100,8,8) steps=1\n`);
    const first = await executePlan(compile(s), quiet);
    expect(first.exitCode).toBe(0);
    const runDir = join(s.dir, 'out', 'eye', 'default');
    expect(readdirSync(runDir)).toContain('map.png');
    // Editing lvi's own output is fine: the rerun restores it.
    writeFileSync(join(runDir, 'map.png'), 'edited');
    expect((await executePlan(compile(s), quiet)).exitCode).toBe(0);
    expect(readFileSync(join(runDir, 'map.png')).subarray(1, 4).toString()).toBe('PNG');
    writeFileSync(join(runDir, 'mine.txt'), 'keep me\n');
    await expect(executePlan(compile(s), quiet)).rejects.toThrow(/out\/eye holds files lvi did not write \(.*mine\.txt\)/);
    expect(readFileSync(join(runDir, 'mine.txt'), 'utf8')).toBe('keep me\n');
  });

  it('two runs of one study at once both finish: neither takes the other\'s outputs for foreign files', async () => {
    const s = study(`study "s" out="out"\n${HEAD}lam eye model=m image=i window=[(100,100,8,8), (40,40,8,8)] steps=1\n`);
    await executePlan(compile(s), quiet);
    const [a, b] = await Promise.all([executePlan(compile(s), { ...quiet, force: true }), executePlan(compile(s), { ...quiet, force: true })]);
    expect([a, b].flatMap((r) => r.nodes.filter((n) => n.error).map((n) => n.error))).toEqual([]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
  });

  it('stale run folders go only when unchanged; a changed one is kept with a note', async () => {
    const text = (steps: string) => `study "s" out="out"\n${HEAD}lam eye model=m image=i window=(100,100,8,8) steps=${steps}\n`;
    const s = study(text('[1, 2]'));
    await executePlan(compile(s), quiet);
    const eye = join(s.dir, 'out', 'eye');
    expect(readdirSync(eye).sort()).toEqual(['steps=1', 'steps=2']);
    writeFileSync(s.file, text('[1, 3]'));
    await executePlan(compile(s), quiet);
    expect(readdirSync(eye).sort()).toEqual(['steps=1', 'steps=3']); // steps=2 was lvi's, unchanged
    writeFileSync(join(eye, 'steps=3', 'di.json'), '{"edited": true}\n');
    writeFileSync(s.file, text('1'));
    const logs: string[] = [];
    await executePlan(compile(s), { log: (l) => logs.push(l) });
    expect(readdirSync(eye).sort()).toEqual(['default', 'steps=3']);
    expect(readFileSync(join(eye, 'steps=3', 'di.json'), 'utf8')).toBe('{"edited": true}\n');
    expect(logs.join('\n')).toMatch(/kept .*steps=3: out\/eye\/steps=3\/di\.json was changed since lvi wrote it/);
  });

  it('report file= naming a file lvi did not write: the report fails, the file stays, exit 1', async () => {
    const s = study(`study "s" out="out"\n${HEAD}lam eye model=m image=i window=(100,100,8,8) steps=1\nreport file="index.html"\n`);
    writeFileSync(join(s.dir, 'index.html'), '<p>my page</p>\n');
    const r = await run(s.file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/index\.html exists and lvi did not write it: not replaced/);
    expect(readFileSync(join(s.dir, 'index.html'), 'utf8')).toBe('<p>my page</p>\n');
  });

  it('the report is written once, where file= says (no second copy in <out>/report/default/)', async () => {
    const s = study(`study "s" out="out"\n${HEAD}lam eye model=m image=i window=(100,100,8,8) steps=1\nreport file="out/report.html"\n`);
    const summary = await executePlan(compile(s), quiet);
    expect(summary.exitCode).toBe(0);
    expect(existsSync(join(s.dir, 'out', 'report.html'))).toBe(true);
    expect(existsSync(join(s.dir, 'out', 'report'))).toBe(false);
    const lock = YAML.parse(readFileSync(join(s.dir, 'study.lock.yaml'), 'utf8'));
    const report = Object.values(lock.nodes as Record<string, { kind: string; outs: object }>).find((n) => n.kind === 'report')!;
    expect(Object.keys(report.outs)).toEqual(['out/report.html']);
  });
});

describe('outputs stay in the study\'s folder', () => {
  it('out= outside the folder: lvi run refuses (check error), --allow-out PATH allows it', async () => {
    const s = study(`study "s" out="../elsewhere-${process.pid}"\n${HEAD}lam eye model=m image=i window=(100,100,8,8) steps=1\n`);
    const target = join(s.dir, '..', `elsewhere-${process.pid}`);
    const refused = await run(s.file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error\[path-escapes\]/);
    expect(existsSync(target)).toBe(false);
    const allowed = await run(s.file, { allowOut: [target] });
    expect(allowed.code).toBe(0);
    expect(existsSync(join(target, 'eye', 'default', 'map.png'))).toBe(true);
    rmSync(target, { recursive: true, force: true }); // beside the temp study, in the OS's temp folder
  });

  it('a hand-made plan whose out folder leaves the study is refused by the executor', async () => {
    const s = study(`study "s" out="out"\n${HEAD}lam eye model=m image=i window=(100,100,8,8) steps=1\n`);
    const plan = { ...compile(s), outDir: join(s.dir, '..', 'x') };
    await expect(executePlan(plan, quiet)).rejects.toThrow(/outside the study's folder.*--allow-out/);
  });

  it('an out path that is a regular file: a clear refusal and exit 1', async () => {
    const s = study(`study "s" out="out"\n${HEAD}lam eye model=m image=i window=(100,100,8,8) steps=1\n`);
    writeFileSync(join(s.dir, 'out'), 'a file\n');
    const r = await run(s.file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is a file, not a folder/);
    expect(readFileSync(join(s.dir, 'out'), 'utf8')).toBe('a file\n');
  });

  it('a node that fails gives exit 1 from lvi run', async () => {
    const s = study(`study "s" out="out"\n${HEAD}lam eye model=m image=i window=(100,100,8,8) steps=1\n`);
    // Check passes, the run fails: the model file is replaced by bytes that are no ONNX model.
    writeFileSync(join(s.dir, 'm.onnx'), 'not a model');
    const r = await run(s.file);
    expect(r.stderr).toMatch(/1 failed|failed: /);
    expect(r.code).toBe(1);
  });
});
