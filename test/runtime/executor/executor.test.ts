import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { executePlan, type RunSummary } from '../../../src/runtime/executor/index.js';
import type { NodeRunner } from '../../../src/runtime/runner.js';
import { registerRunner } from '../../../src/runtime/runners.js';
import type { Plan } from '../../../src/compiler/plan.js';
import { lastRunRecord, makePlan, removeTempStudies, tempStudy, type NodeSpec } from './helpers.js';
import { killKernel, killPlan } from './kill-fixture.js';

afterAll(removeTempStudies);

// Small real kernels: they read and write real files; counters record what actually ran.
const runs: string[] = [];
const failing = new Set<string>();

const readKernel: NodeRunner = {
  kind: 't-read',
  cache: false,
  async run({ node }) {
    runs.push(node.id);
    const value = Number(readFileSync(node.params.file as string, 'utf8'));
    return { value, summary: { value }, files: [] };
  },
};

/** Added to every square: a kernel whose result changes under the same key (a fix, a nondeterministic one). */
let drift = 0;
const squareKernel: NodeRunner = {
  kind: 't-square',
  cache: true,
  async run({ node, deps, runDir, progress }) {
    runs.push(node.id);
    if (failing.has(node.id)) throw new Error(`square of ${node.runId} is broken`);
    const x = deps.x.value as number;
    for (let i = 1; i <= 8; i++) progress(i, 8, 'steps');
    const y = x * x + (node.params.offset as number) + drift;
    writeFileSync(join(runDir, 'y.txt'), `${y}\n`);
    mkdirSync(join(runDir, 'sub'));
    writeFileSync(join(runDir, 'sub', 'x.txt'), `${x}\n`);
    return { summary: { y, device: 'cpu', seconds: Math.random() }, files: ['y.txt', 'sub/x.txt'] };
  },
};

const sumKernel: NodeRunner = {
  kind: 't-sum',
  cache: true,
  async run({ node, deps, runDir }) {
    runs.push(node.id);
    const sum = (deps.a.summary.y as number) + (deps.b.summary.y as number);
    writeFileSync(join(runDir, 'sum.txt'), `${sum}\n`);
    return { summary: { sum }, files: ['sum.txt'] };
  },
};

for (const k of [readKernel, squareKernel, sumKernel]) registerRunner(k);

const STUDY = `study "demo"
sq x=[a, b]
total of=sq
other x=c
`;

interface Fixture {
  study: { dir: string; file: string };
  plan: (over?: { offsetB?: number; extra?: NodeSpec[] }) => Plan;
}

function fixture(): Fixture {
  const study = tempStudy(STUDY);
  for (const [n, v] of [['a', 2], ['b', 3], ['c', 5]] as const) writeFileSync(join(study.dir, `${n}.txt`), String(v));
  const plan = (over: { offsetB?: number; extra?: NodeSpec[] } = {}) => {
    const specs: NodeSpec[] = [];
    for (const n of ['a', 'b', 'c']) {
      const file = join(study.dir, `${n}.txt`);
      specs.push({ id: `read:${n}`, kind: 't-read', params: { file }, files: [file] });
    }
    specs.push(
      { id: 'sq#a', kind: 't-square', statement: 'sq', runId: 'x=a', sweep: { x: 'a' }, params: { offset: 0 }, deps: { x: 'read:a' }, line: 2 },
      { id: 'sq#b', kind: 't-square', statement: 'sq', runId: 'x=b', sweep: { x: 'b' }, params: { offset: over.offsetB ?? 0 }, deps: { x: 'read:b' }, line: 2 },
      { id: 'total', kind: 't-sum', statement: 'total', params: {}, deps: { a: 'sq#a', b: 'sq#b' }, line: 3 },
      { id: 'other', kind: 't-square', statement: 'other', params: { offset: 1 }, deps: { x: 'read:c' }, line: 4 },
      ...(over.extra ?? []),
    );
    // Reverse: the executor must order the nodes itself.
    return makePlan(study, specs.reverse());
  };
  return { study, plan };
}

const quiet = { progress: 'none' as const };
const statusOf = (s: RunSummary) => Object.fromEntries(s.nodes.map((n) => [n.id, n.status]));
const read = (p: string) => readFileSync(p, 'utf8').trim();

beforeEach(() => {
  runs.length = 0;
  failing.clear();
});

describe('executePlan', () => {
  it('runs nodes in dependency order and writes each run under <out>/<statement>/<runId>/', async () => {
    const { plan } = fixture();
    const p = plan();
    const summary = await executePlan(p, quiet);
    expect(summary.exitCode).toBe(0);
    for (const [node, dep] of [['sq#a', 'read:a'], ['sq#b', 'read:b'], ['total', 'sq#a'], ['total', 'sq#b'], ['other', 'read:c']]) {
      expect(runs.indexOf(dep)).toBeLessThan(runs.indexOf(node));
    }
    expect(read(join(p.outDir, 'sq', 'x=a', 'y.txt'))).toBe('4');
    expect(read(join(p.outDir, 'sq', 'x=b', 'y.txt'))).toBe('9');
    expect(read(join(p.outDir, 'sq', 'x=b', 'sub', 'x.txt'))).toBe('3');
    expect(read(join(p.outDir, 'total', 'default', 'sum.txt'))).toBe('13');
    expect(read(join(p.outDir, 'other', 'default', 'y.txt'))).toBe('26');
    const total = summary.nodes.find((n) => n.id === 'total')!;
    expect(total).toMatchObject({ kind: 't-sum', statement: 'total', runId: 'default', status: 'ran', summary: { sum: 13 } });
    expect(total.outDir).toBe(join(p.outDir, 'total', 'default'));
    // The summary is JSON as the CLI prints it with --json.
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });

  it('a second run does nothing, and restores deleted outputs from the cache', async () => {
    const { plan } = fixture();
    await executePlan(plan(), quiet);
    runs.length = 0;
    rmSync(plan().outDir, { recursive: true });
    const second = await executePlan(plan(), quiet);
    expect(runs).toEqual([]);
    expect(new Set(Object.values(statusOf(second)))).toEqual(new Set(['cached']));
    expect(read(join(plan().outDir, 'total', 'default', 'sum.txt'))).toBe('13');
    expect(read(join(plan().outDir, 'sq', 'x=a', 'sub', 'x.txt'))).toBe('2');
  });

  it('changing one parameter reruns only that node and its dependents', async () => {
    const { plan } = fixture();
    await executePlan(plan(), quiet);
    runs.length = 0;
    const summary = await executePlan(plan({ offsetB: 10 }), quiet);
    // read:b runs again only because sq#b needs its value; nothing on the a or c side runs.
    expect(runs.sort()).toEqual(['read:b', 'sq#b', 'total']);
    expect(statusOf(summary)).toMatchObject({ 'sq#a': 'cached', 'sq#b': 'ran', total: 'ran', other: 'cached', 'read:a': 'cached' });
    expect(read(join(plan().outDir, 'total', 'default', 'sum.txt'))).toBe('23');
  });

  it('a changed input file reruns its dependents even when their own plan keys stay the same', async () => {
    const { study, plan } = fixture();
    await executePlan(plan(), quiet);
    runs.length = 0;
    writeFileSync(join(study.dir, 'c.txt'), '7');
    const p = plan();
    const summary = await executePlan(p, quiet);
    expect(runs.sort()).toEqual(['other', 'read:c']);
    expect(statusOf(summary).total).toBe('cached');
    expect(read(join(p.outDir, 'other', 'default', 'y.txt'))).toBe('50');
  });

  it('a failing node stops only its dependents, keeps the cache and the lock file consistent, and the rerun resumes', async () => {
    const { study, plan } = fixture();
    failing.add('sq#b');
    const logs: string[] = [];
    const first = await executePlan(plan(), { log: (l) => logs.push(l) });
    expect(first.exitCode).toBe(1);
    expect(first.status).toBe('failed');
    expect(statusOf(first)).toMatchObject({ 'sq#a': 'ran', 'sq#b': 'failed', total: 'skipped', other: 'ran' });
    const failed = first.nodes.find((n) => n.id === 'sq#b')!;
    expect(failed.error).toBe('square of x=b is broken');
    expect(failed.location).toBe(`${study.file}:2:1`);
    expect(logs.some((l) => /study\.lvi:2:1: error: t-square sq \(x=b\) failed: square of x=b is broken$/.test(l))).toBe(true);
    expect(first.nodes.find((n) => n.id === 'total')!.error).toMatch(/needs sq#b, which failed/);
    // No half-written entry: the failed run's temporary folder is gone.
    const cacheRoot = join(study.dir, '.lvi', 'cache');
    expect(readdirSync(join(cacheRoot, '.tmp'))).toEqual([]);
    // The lock holds results only; how the run went is in its run record.
    const lock = YAML.parse(readFileSync(join(study.dir, 'study.lock.yaml'), 'utf8'));
    expect(lock.nodes['sq#b'].summary).toBeUndefined();
    expect(lock.nodes['sq#b'].outs).toBeUndefined();
    expect(lock.nodes['sq#a']).toMatchObject({ summary: { y: 4 }, outs: { 'out/demo/sq/x=a/y.txt': expect.stringMatching(/^[0-9a-f]{64}$/) } });
    const record = lastRunRecord(study.dir);
    expect(record.status).toBe('failed');
    expect(record.nodes['sq#b']).toMatchObject({ status: 'failed', error: 'square of x=b is broken', source: 'study.lvi:2:1' });
    expect(record.nodes.total.status).toBe('skipped');
    expect(record.nodes['sq#a']).toMatchObject({ status: 'ran', summary: { y: 4 } });

    failing.clear();
    runs.length = 0;
    const second = await executePlan(plan(), quiet);
    expect(second.exitCode).toBe(0);
    expect(runs.sort()).toEqual(['read:b', 'sq#b', 'total']);
    expect(statusOf(second)).toMatchObject({ 'sq#a': 'cached', 'sq#b': 'ran', total: 'ran', other: 'cached' });
    const lock2 = YAML.parse(readFileSync(join(study.dir, 'study.lock.yaml'), 'utf8'));
    expect(lastRunRecord(study.dir).status).toBe('ok');
    expect(lock2.nodes.total).toMatchObject({ summary: { sum: 13 } });
  });

  it('a node whose kind has no kernel fails with a message; the rest runs', async () => {
    const { plan } = fixture();
    const summary = await executePlan(plan({ extra: [{ id: 'x', kind: 'no-such-kind', statement: 'x', line: 5 }] }), quiet);
    const x = summary.nodes.find((n) => n.id === 'x')!;
    expect(x.status).toBe('failed');
    expect(x.error).toMatch(/no kernel for 'no-such-kind'/);
    expect(statusOf(summary).total).toBe('ran');
    expect(summary.exitCode).toBe(1);
  });

  it('removes the run folders of sweep values the study no longer has', async () => {
    const { plan } = fixture();
    const p = plan();
    await executePlan(p, quiet);
    const fewer = { ...p, nodes: p.nodes.filter((n) => n.id !== 'sq#b' && n.id !== 'total') };
    await executePlan(fewer, { ...quiet, only: ['sq'] });
    expect(readdirSync(join(p.outDir, 'sq')).sort()).toEqual(['x=a', 'x=b']); // --only leaves them
    await executePlan(fewer, quiet);
    expect(readdirSync(join(p.outDir, 'sq'))).toEqual(['x=a']);
  });

  it('--only runs the named statement and what it needs', async () => {
    const { plan } = fixture();
    const summary = await executePlan(plan(), { ...quiet, only: ['sq'] });
    expect(summary.nodes.map((n) => n.id).sort()).toEqual(['read:a', 'read:b', 'sq#a', 'sq#b']);
    expect(runs).not.toContain('total');
    expect(runs).not.toContain('other');
    await expect(executePlan(plan(), { ...quiet, only: ['nope'] })).rejects.toThrow(/no statement named 'nope'.*statements: other, sq, total/);
  });

  it('--force reruns the selected nodes and, with --only, only the named ones', async () => {
    const { plan } = fixture();
    await executePlan(plan(), quiet);
    runs.length = 0;
    const all = await executePlan(plan(), { ...quiet, force: true });
    expect(new Set(Object.values(statusOf(all)))).toEqual(new Set(['ran']));
    expect(runs.sort()).toEqual(['other', 'read:a', 'read:b', 'read:c', 'sq#a', 'sq#b', 'total']);
    runs.length = 0;
    const one = await executePlan(plan(), { ...quiet, force: true, only: ['total'] });
    expect(runs).toEqual(['total']);
    expect(statusOf(one)).toEqual({ 'read:a': 'cached', 'read:b': 'cached', 'sq#a': 'cached', 'sq#b': 'cached', total: 'ran' });
  });

  it('a node forced alone to a new result makes its cached dependents stale: the next run recomputes them from it', async () => {
    const { plan } = fixture();
    await executePlan(plan(), quiet);
    runs.length = 0;
    // forced to the same result: nothing downstream is stale
    await executePlan(plan(), { ...quiet, force: true, only: ['sq'] });
    expect(runs.filter((r) => !r.startsWith('read:')).sort()).toEqual(['sq#a', 'sq#b']); // the readers give their values again
    runs.length = 0;
    expect(statusOf(await executePlan(plan(), quiet)).total).toBe('cached');
    drift = 1;
    try {
      await executePlan(plan(), { ...quiet, force: true, only: ['sq'] });
    } finally {
      drift = 0;
    }
    runs.length = 0;
    const lines: string[] = [];
    const next = await executePlan(plan(), { ...quiet, progress: 'lines', log: (l) => lines.push(l) });
    // total was computed from the old sq results; 'other' does not need sq
    expect(runs.filter((r) => !r.startsWith('read:'))).toEqual(['total']);
    expect(statusOf(next)).toMatchObject({ 'sq#a': 'cached', 'sq#b': 'cached', total: 'ran', other: 'cached' });
    expect(lines.some((l) => /^stale\s+t-sum total: sq#[ab] was computed again since \(--force\) and changed/.test(l))).toBe(true);
    runs.length = 0;
    const again = await executePlan(plan(), quiet);
    expect(new Set(Object.values(statusOf(again)))).toEqual(new Set(['cached']));
  });

  it('writes a lock file with resolved parameters, input hashes, keys, versions and output hashes; timings and devices go to the run record', async () => {
    const { study, plan } = fixture();
    const p = plan();
    await executePlan(p, quiet);
    const text = readFileSync(join(study.dir, 'study.lock.yaml'), 'utf8');
    const lock = YAML.parse(text);
    expect(lock.study).toMatchObject({ name: 'demo', file: 'study.lvi', out: 'out/demo' });
    expect(lock.versions).toEqual({ lvi: '0.0.0-test', onnxruntime: expect.any(String) });
    expect(lock.versions.onnxruntime).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(lock.nodes)).toEqual([...Object.keys(lock.nodes)].sort());
    const readA = p.nodes.find((n) => n.id === 'read:a')!;
    expect(lock.nodes['read:a'].params).toEqual({ file: 'a.txt' });
    expect(lock.nodes['read:a'].inputs).toEqual({ 'a.txt': readA.files[join(study.dir, 'a.txt')] });
    const sqb = lock.nodes['sq#b'];
    expect(sqb).toMatchObject({ kind: 't-square', statement: 'sq', runId: 'x=b', deps: { x: 'read:b' }, sweep: { x: 'b' }, summary: { y: 9 } });
    expect(sqb.outs).toEqual({
      'out/demo/sq/x=b/sub/x.txt': createHash('sha256').update('3\n').digest('hex'),
      'out/demo/sq/x=b/y.txt': createHash('sha256').update('9\n').digest('hex'),
    });
    expect(sqb.key).toMatch(/^[0-9a-f]{64}$/);
    for (const field of ['status', 'device', 'seconds', 'source', 'error']) expect(sqb[field]).toBeUndefined();
    expect(lock.run).toBeUndefined();
    const record = lastRunRecord(study.dir);
    expect(record).toMatchObject({ status: 'ok', device: 'cpu', versions: { node: process.version.slice(1) } });
    expect(record.nodes['sq#b']).toMatchObject({ status: 'ran', device: 'cpu', source: 'study.lvi:2:1' });
    expect(typeof record.nodes['sq#b'].computeSeconds).toBe('number');
    // A cached rerun leaves the lock byte-identical.
    await executePlan(plan(), quiet);
    expect(readFileSync(join(study.dir, 'study.lock.yaml'), 'utf8')).toBe(text);
    const again = YAML.parse(text);
    // --only keeps the other nodes' entries from the previous lock.
    await executePlan(plan({ offsetB: 1 }), { ...quiet, only: ['other'] });
    const partial = YAML.parse(readFileSync(join(study.dir, 'study.lock.yaml'), 'utf8'));
    expect(partial.nodes['sq#a']).toEqual(again.nodes['sq#a']);
    expect(partial.nodes['sq#b'].summary).toBeUndefined(); // its key changed and it did not run
    expect(lastRunRecord(study.dir)).toMatchObject({ only: ['other'], nodes: { 'sq#b': { status: 'not-run' } } });
  });

  it('keeps one run record per run under .lvi/runs/, the newest N; --json gives its path', async () => {
    const { study, plan } = fixture();
    const paths: string[] = [];
    for (let i = 0; i < 4; i++) paths.push((await executePlan(plan(), { ...quiet, runsKept: 2 })).runRecord!);
    expect(new Set(paths).size).toBe(4);
    const left = readdirSync(join(study.dir, '.lvi', 'runs')).sort();
    expect(left.map((n) => join(study.dir, '.lvi', 'runs', n))).toEqual(paths.slice(2).sort());
    expect(lastRunRecord(study.dir)).toMatchObject({ record: 1, study: 'study.lvi', status: 'ok', nodes: { total: { status: 'cached' } } });
  });

  it('loaders are not rerun when everything downstream is cached', async () => {
    const { plan } = fixture();
    await executePlan(plan(), quiet);
    runs.length = 0;
    const summary = await executePlan(plan(), quiet);
    expect(runs).toEqual([]);
    expect(summary.nodes.find((n) => n.id === 'read:a')!.summary).toEqual({ value: 2 });
  });

  it('prints plain progress lines with an ETA when not on a terminal', async () => {
    const { plan } = fixture();
    const logs: string[] = [];
    await executePlan(plan(), { log: (l) => logs.push(l), only: ['other'] });
    expect(logs.filter((l) => l.includes('t-square other')).join('\n')).toMatch(/25% \(2\/8 steps\), ETA [\d.]+s[\s\S]*50%[\s\S]*75%[\s\S]*ran {5}t-square other/);
    expect(logs.at(-1)).toMatch(/^done: 2 ran, 0 cached, 0 failed, 0 skipped/);
  });

  it('removes temporary folders left by killed runs, and ignores broken cache entries', async () => {
    const { study, plan } = fixture();
    const p = plan();
    await executePlan(p, quiet);
    const cacheRoot = join(study.dir, '.lvi', 'cache');
    // A run killed mid-node leaves its temporary folder (pid 999999999 does not exist).
    const stale = join(cacheRoot, '.tmp', 'abcdef0123456789-999999999-1-0');
    mkdirSync(join(stale, 'files'), { recursive: true });
    // An entry whose files were lost is recomputed, not trusted.
    const other = (await executePlan(plan(), { ...quiet, only: ['other'] })).nodes.find((n) => n.id === 'other')!;
    rmSync(join(cacheRoot, other.key, 'files', 'y.txt'));
    runs.length = 0;
    const summary = await executePlan(plan(), quiet);
    expect(existsSync(stale)).toBe(false);
    expect(runs.sort()).toEqual(['other', 'read:c']);
    expect(statusOf(summary).other).toBe('ran');
  });
});

describe('a killed run', () => {
  it('leaves finished results cached, no half-written entry, a lock naming what finished; the rerun resumes', async () => {
    const study = tempStudy('first\nhang\n');
    const repo = resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
    const child = spawn(process.execPath, [join(repo, 'node_modules/vite-node/vite-node.mjs'), join(path.dirname(fileURLToPath(import.meta.url)), 'kill-fixture.ts'), study.dir], {
      cwd: repo,
      env: { ...process.env, LVI_TEST_HANG: '1' },
      stdio: 'ignore',
    });
    const exited = new Promise((done) => child.on('exit', done));
    const marker = join(study.dir, 'hang-started');
    while (!existsSync(marker)) {
      if (child.exitCode !== null) throw new Error(`the child run exited early (${child.exitCode})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    await exited;

    const cacheRoot = join(study.dir, '.lvi', 'cache');
    // The killed node's temporary folder is there, but no entry for it.
    expect(readdirSync(join(cacheRoot, '.tmp'))).toHaveLength(1);
    const lock = YAML.parse(readFileSync(join(study.dir, 'study.lock.yaml'), 'utf8'));
    const record = lastRunRecord(study.dir);
    expect(record.status).toBe('incomplete');
    expect(record.nodes.first.status).toBe('ran');
    expect(record.nodes.hang.status).toBe('pending');
    expect(lock.nodes.first.outs).toBeDefined();
    expect(lock.nodes.hang.outs).toBeUndefined();
    const entries = readdirSync(cacheRoot).filter((n) => n !== '.tmp');
    expect(entries).toEqual([lock.nodes.first.key]);

    const rerun = await executePlan(killPlan(study.dir), { progress: 'none', kernels: killKernel });
    expect(statusOf(rerun)).toEqual({ first: 'cached', hang: 'ran' });
    expect(readdirSync(join(cacheRoot, '.tmp'))).toEqual([]);
    expect(read(join(rerun.outDir, 'hang', 'default', 'part.txt'))).toBe('whole');
    expect(lastRunRecord(study.dir).status).toBe('ok');
  });
});
