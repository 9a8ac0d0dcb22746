// Issue 9.3: `lvi status` says what a rerun would do and why, without running anything; and
// `lvi doctor` reports the machine. A real 1-step LAM of the FSRCNN reference export.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runDoctor, type DoctorReport } from '../../src/cli/commands/doctor.js';
import { runStatus } from '../../src/cli/commands/status.js';
import { compileStudy } from '../../src/compiler/index.js';
import { executePlan } from '../../src/runtime/executor/index.js';
import type { StatusReport } from '../../src/runtime/executor/status.js';
import { fixture } from '../helpers/paths.js';
import { capture } from '../helpers/io.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lvi-status-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 's.lvi');
const text = (steps: number) => `study "s" out="out"
model m file="m.onnx" scale=4 range=1
image cat file="images/cat.png"
lam eye model=m image=cat window=(100,100,8,8) steps=${steps}
`;
copyFileSync(fixture('lam', 'fsrcnn_chelsea', 'model.onnx'), path.join(dir, 'm.onnx'));
mkdirSync(path.join(dir, 'images'));
copyFileSync(fixture('lam', 'chelsea_256.png'), path.join(dir, 'images', 'cat.png'));
writeFileSync(file, text(1));

async function status(): Promise<StatusReport> {
  const io = capture();
  expect(await runStatus(file, { json: true }, io)).toBe(0);
  return JSON.parse(io.stdout) as StatusReport;
}
const lam = (r: StatusReport) => r.nodes.find((n) => n.id.startsWith('lam:'))!;
const run = async () => {
  const { plan } = compileStudy(file);
  expect((await executePlan(plan!, { progress: 'none' })).exitCode).toBe(0);
};

describe('lvi status', () => {
  test('names the reason for each node that would rerun, and runs nothing', async () => {
    const fresh = await status();
    expect(fresh.locked).toBe(false);
    expect(fresh.nodes.every((n) => n.state === 'would-run')).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['images', 'm.onnx', 's.lvi']); // nothing written

    await run();
    const done = await status();
    expect(done.counts).toEqual({ 'up-to-date': done.nodes.length, 'would-run': 0, 'would-restore': 0 });
    const io = capture();
    await runStatus(file, {}, io);
    expect(io.stdout).toMatch(/lam eye: up to date/);

    writeFileSync(file, text(2));
    const steps = await status();
    expect(lam(steps)).toMatchObject({ state: 'would-run', reasons: ['parameter steps changed 1 -> 2'] });
    expect(steps.nodes.filter((n) => n.state !== 'up-to-date').map((n) => n.id)).toEqual([lam(steps).id]);
    const text2 = capture();
    await runStatus(file, {}, text2);
    expect(text2.stdout).toMatch(/lam eye: would run: parameter steps changed 1 -> 2/);
    writeFileSync(file, text(1));

    // A changed input image: its loader, the derived LR and the LAM would run.
    const cat = path.join(dir, 'images', 'cat.png');
    const original = readFileSync(cat);
    copyFileSync(fixture('lam', 'astronaut_256.png'), cat);
    const input = await status();
    const image = input.nodes.find((n) => n.id === 'image:cat')!;
    expect(image).toMatchObject({ state: 'would-run', reasons: ['input images/cat.png changed'] });
    expect(lam(input).state).toBe('would-run');
    expect(lam(input).reasons.some((r) => /^needs .*, which would run$/.test(r))).toBe(true);
    writeFileSync(cat, original);

    // A modified output comes back from the cache; a lost cache entry means a recomputation.
    writeFileSync(path.join(dir, 'out', 'eye', 'default', 'map.png'), 'edited');
    expect(lam(await status())).toMatchObject({ state: 'would-restore', reasons: ['output out/eye/default/map.png was modified or deleted'] });
    rmSync(path.join(dir, '.lvi', 'cache'), { recursive: true, force: true });
    expect(lam(await status())).toMatchObject({ state: 'would-run', reasons: ['its cached result is gone from .lvi/cache', 'output out/eye/default/map.png was modified or deleted'] });
  });

  test('a study with errors: the diagnostics and exit 1', async () => {
    const bad = path.join(dir, 'bad.lvi');
    writeFileSync(bad, 'lam x steps=1\n');
    const io = capture();
    expect(await runStatus(bad, {}, io)).toBe(1);
    expect(io.stderr).toMatch(/error\[missing-param\]/);
  });
});

describe('lvi doctor', () => {
  test('reports Node, npm, ONNX Runtime, every provider with its reason, and the zoo packages', async () => {
    const io = capture();
    expect(await runDoctor({ json: true }, io)).toBe(0);
    const r = JSON.parse(io.stdout) as DoctorReport;
    expect(r.node).toBe(process.version.slice(1));
    expect(r.npm).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.onnxruntime).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.providers.map((p) => p.device)).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(r.providers.find((p) => p.device === 'cpu')).toMatchObject({ ok: true });
    for (const p of r.providers) expect(p.why.length).toBeGreaterThan(5);
    expect(r.auto).toBe(r.providers.find((p) => p.ok)!.device);
    expect(r.zoo.find((z) => z.package === '@upscalerjs/esrgan-slim')).toMatchObject({ version: expect.stringMatching(/^\d/), ids: expect.arrayContaining(['esrgan-slim/x4']) });
    const text = capture();
    await runDoctor({}, text);
    expect(text.stdout).toMatch(/^node {9}\d/m);
    expect(text.stdout).toMatch(/^ {2}cpu {4}ok/m);
  });
});
