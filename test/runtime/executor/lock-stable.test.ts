// Issue 9.2: the lock file is for review, not a log. It stays byte-identical after a rerun that
// changed nothing, after `lvi fmt`, after reordering statements and adding comments, and in
// another folder (paths are relative to the study); it changes where a result does.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { compileText } from '../../../src/compiler/compile.js';
import { formatStudy } from '../../../src/compiler/index.js';
import { executePlan } from '../../../src/runtime/executor/index.js';
import { SUMMARY_DIGITS, lockSummary } from '../../../src/runtime/executor/lock.js';
import { fixture } from '../../helpers/paths.js';
import { lastRunRecord, removeTempStudies, tempStudy } from './helpers.js';

afterAll(removeTempStudies);

const MODEL = 'model m file="m.onnx" scale=4 range=1';
const IMAGE = 'image cat file="cat.png"';
const LAM = 'lam eye model=m image=cat window=[(100,100,8,8), (40,60,8,8)] steps=2';
const TABLE = 'table di rows=eye columns=[window, di, gini, psnr]';

async function runIn(dir: string, file: string): Promise<string> {
  const { plan, diagnostics } = compileText(readFileSync(file, 'utf8'), file);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect((await executePlan(plan!, { progress: 'none' })).exitCode).toBe(0);
  return readFileSync(join(dir, 'study.lock.yaml'), 'utf8');
}

describe('the lock file changes only when results do', () => {
  it('is byte-identical after a no-op rerun, fmt, reordering, comments and in another folder', async () => {
    const s = tempStudy(['study "s" out="out"', MODEL, IMAGE, LAM, TABLE, ''].join('\n'));
    cpSync(fixture('lam', 'fsrcnn_chelsea', 'model.onnx'), join(s.dir, 'm.onnx'));
    cpSync(fixture('lam', 'chelsea_256.png'), join(s.dir, 'cat.png'));
    const first = await runIn(s.dir, s.file);
    const firstRecord = lastRunRecord(s.dir);
    // Nothing of how the run went.
    const lock = YAML.parse(first);
    expect(Object.keys(lock)).toEqual(['lock', 'study', 'versions', 'nodes']);
    expect(Object.keys(lock.versions)).toEqual(['lvi', 'onnxruntime']);
    for (const n of Object.values(lock.nodes) as Record<string, unknown>[]) {
      for (const k of ['status', 'device', 'seconds', 'source', 'error']) expect(n[k]).toBeUndefined();
      for (const k of ['seconds', 'device', 'batch', 'batchProbe']) expect((n.summary as Record<string, unknown>)?.[k]).toBeUndefined();
    }
    expect(Object.keys(lock.nodes['lam:eye#window=100-100-8-8'].outs)).toContain('out/eye/window=100-100-8-8/map.png');
    expect(await runIn(s.dir, s.file)).toBe(first);
    expect(lastRunRecord(s.dir).date).not.toBe(firstRecord.date);

    // Badly laid out, reordered, commented: the same study.
    writeFileSync(s.file, ['# a comment', TABLE.replace(' ', '   '), `${LAM}   # why this window`, 'study "s"    out="out"', IMAGE, `${MODEL}\n\n`].join('\n'));
    expect(await runIn(s.dir, s.file)).toBe(first);
    writeFileSync(s.file, formatStudy(readFileSync(s.file, 'utf8')));
    expect(await runIn(s.dir, s.file)).toBe(first);

    // Another folder (another machine's checkout), with its results.
    const other = tempStudy('');
    cpSync(s.dir, other.dir, { recursive: true });
    expect(await runIn(other.dir, other.file)).toBe(first);

    // A changed parameter changes the lock: the entry of what changed.
    writeFileSync(s.file, readFileSync(s.file, 'utf8').replace('steps=2', 'steps=3'));
    const changed = await runIn(s.dir, s.file);
    expect(changed).not.toBe(first);
    const a = YAML.parse(first).nodes;
    const b = YAML.parse(changed).nodes;
    expect(a['model:m']).toEqual(b['model:m']);
    expect(a['image:cat']).toEqual(b['image:cat']);
  });

  it('summaries: timings, devices and batch choices left out, numbers to a stated precision', () => {
    expect(SUMMARY_DIGITS).toBe(6);
    expect(lockSummary({ di: 0.97312345678, gini: 0.990000000004, steps: 50, seconds: 12.3, device: 'cpu', batch: 4, batchProbe: { 1: 3 }, psnr: 29.123456789, file: '/abs/cat.png', kind: 'x' }))
      .toEqual({ di: 0.973123, gini: 0.99, steps: 50, psnr: 29.1235, kind: 'x' });
  });
});
