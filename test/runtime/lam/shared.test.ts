// Shared forward passes (lam/shared.ts): several windows of one image, model and path in one run
// per path point, a batch of seeds. Their maps against each window run on its own plan; the
// seed plumbing and the check of the first shared run on stand-in programs; the siblings a
// node shares with; two lam nodes through the kernel, the second served by the first's runs.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture } from '../../helpers/paths.js';
import type { PlanNode } from '../../../src/compiler/plan.js';
import type { LoadedModel } from '../../../src/runtime/api.js';
import type { RunContext } from '../../../src/runtime/runner.js';
import { cropImage, deriveLr, readImage } from '../../../src/runtime/image/index.js';
import type { StepOutputs } from '../../../src/runtime/methods/lam/compute.js';
import { lamKernel, lamParams, runLam, runLamShared, type LamParams } from '../../../src/runtime/methods/lam/kernel.js';
import { seedFactories, sharedForward, windowSiblings, type SharedProgram } from '../../../src/runtime/methods/lam/shared.js';
import { loadModel } from '../../../src/runtime/models/index.js';
import { relDiff } from '../../helpers/tensors.js';

const lamDir = fixture('lam');
const tmp = mkdtempSync(path.join(tmpdir(), 'lvi-lam-shared-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const measured: Record<string, unknown> = {};
afterAll(() => console.log('shared windows:', JSON.stringify(measured)));

const params = (x: number, y: number, extra: Partial<LamParams> = {}): LamParams => ({
  window: { x, y, w: 16, h: 16 }, path: 'progressive-blur', sigma: 1.2, steps: 5, kernel: 9,
  detector: 'gradient', reduce: 'sum', batch: 'auto', crop: 'auto', ...extra,
});

describe('LAM of several windows with shared forward passes', () => {
  it('CARN, neighbouring windows: shared where it computes less, each map as the window\'s own run gives it', async () => {
    const model = await loadModel({ file: path.join(lamDir, 'carn_coffee', 'model.onnx') });
    const images = deriveLr(readImage(path.join(lamDir, 'coffee_256.png')), 4);
    const warnings: string[] = [];
    const ctx = { device: 'cpu' as const, progress: () => {}, warn: (m: string) => warnings.push(m) };
    const list = [params(120, 100), params(136, 104), params(124, 120)];
    const shared = await runLamShared(model, images, list, ctx);
    expect(warnings).toEqual([]);
    expect(shared).toBeDefined();
    for (let i = 0; i < list.length; i++) {
      const own = await runLam(model, images, list[i]!, ctx);
      const r = shared![i]!;
      expect(r.plan.plan).toBe('shared');
      expect(r.plan.shared![0]).toEqual(list[i]!.window);
      expect(r.plan.shared).toHaveLength(3);
      // one forward for three windows: fewer FLOPs per point than three cones
      expect(r.plan.flops.shared!).toBeLessThan(3 * r.plan.flops.cone!);
      const err = relDiff(r.result.map, own.result.map);
      measured[`carn window ${i}`] = { err, di: r.result.di - own.result.di, shared: r.plan.flops.shared, cone: r.plan.flops.cone };
      // float32 noise only (another cone, so another order of additions)
      expect(err).toBeLessThanOrEqual(5e-4);
      expect(Math.abs(r.result.di - own.result.di)).toBeLessThanOrEqual(1e-2);
      expect(r.result.completeness.d_input).toBeCloseTo(own.result.completeness.d_input, 4);
      expect(Array.from(r.result.sr)).toEqual(Array.from(own.result.sr));
    }
  }, 300_000);

  it('declines where separate cones compute less (windows far apart on a network with a small field)', async () => {
    const model = await loadModel({ file: path.join(lamDir, 'fsrcnn_chelsea', 'model.onnx') });
    const images = deriveLr(readImage(path.join(lamDir, 'chelsea_256.png')), 4);
    const ctx = { device: 'cpu' as const, progress: () => {}, warn: (m: string) => { throw new Error(m); } };
    expect(await runLamShared(model, images, [params(0, 0), params(240, 240)], ctx)).toBeUndefined();
    // reduce=mean divides by one window's mask: not shared
    expect(await runLamShared(model, images, [params(100, 100, { reduce: 'mean' }), params(104, 100, { reduce: 'mean' })], ctx)).toBeUndefined();
  });

  it('falls back to each window\'s own plan, with a warning, where the batch-of-seeds graph cannot run', async () => {
    // Conv, then a Reshape to a shape taken at specialisation (the batch folded in, as some
    // exports have it): each path point on its own is fine, but the seeds' graph is built at
    // batch W and fed one image, and ONNX Runtime refuses the Reshape.
    const weights = new Float32Array(48 * 3 * 3 * 3).map((_, i) => Math.sin(i) * 0.2);
    const model: LoadedModel = {
      info: { source: 'file:pinned.onnx', hash: '', scale: 4, range: 1, inputName: 'x', outputName: 'y', inputChannels: 3, parameters: weights.length, hasGlobalOps: false },
      graph: {
        name: 'pinned',
        opset: 13,
        inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3, 'H', 'W'] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3, 'H_out', 'W_out'] }],
        initializers: new Map([['w', { dtype: 'float32', dims: [48, 3, 3, 3], data: weights }]]),
        nodes: [
          { name: 'conv', opType: 'Conv', inputs: ['x', 'w'], outputs: ['f'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
          { name: 'shape', opType: 'Shape', inputs: ['f'], outputs: ['s'], attrs: {} },
          { name: 'flat', opType: 'Flatten', inputs: ['f'], outputs: ['g'], attrs: { axis: 1 } },
          { name: 'back', opType: 'Reshape', inputs: ['g', 's'], outputs: ['h'], attrs: {} },
          { name: 'up', opType: 'DepthToSpace', inputs: ['h'], outputs: ['y'], attrs: { blocksize: 4, mode: 'CRD' } },
        ],
      },
    };
    const lr = cropImage(readImage(path.join(lamDir, 'carn_coffee', 'lr.png')), 10, 10, 24, 24);
    const warnings: string[] = [];
    const ctx = { device: 'cpu' as const, progress: () => {}, warn: (m: string) => warnings.push(m) };
    const list = [params(40, 40, { steps: 3 }), params(44, 44, { steps: 3 })];
    expect(await runLamShared(model, { lr }, list, ctx)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^the shared run of 2 windows failed: .*Reshape.*; running the windows one by one$/s);
    // and each window's own plan runs
    expect((await runLam(model, { lr }, list[0]!, ctx)).result.steps).toBe(3);
  }, 120_000);
});

describe('seed programs over one shared program', () => {
  /** A stand-in shared program: objective b = sum(x) * (b + 1), gradient b = b + 1 everywhere. */
  function fake(seeds: number, wrong = false) {
    const calls: number[][] = [];
    const program: SharedProgram = {
      seeds,
      device: 'js',
      masks: new Float32Array(seeds * 4),
      async run(input) {
        calls.push(Array.from(input));
        const n = input.length;
        const grad = new Float32Array(seeds * n);
        for (let b = 0; b < seeds; b++) grad.fill(b + 1, b * n, (b + 1) * n);
        const sum = input.reduce((a, v) => a + v, 0);
        return { objective: Float32Array.from({ length: seeds }, (_, b) => sum * (b + 1)), grad, output: input.slice(), outputDims: [1, 3, 1, 2] };
      },
      release: async () => {},
    };
    const verify = async (_p: SharedProgram, _x: Float32Array, r: StepOutputs) => {
      if (wrong || r.objective.length !== seeds) throw new Error('the shared run disagrees');
    };
    return { program, calls, verify };
  }
  const box = { x: 0, y: 0, w: 2, h: 1, output: { x: 0, y: 0, w: 2, h: 1 } };

  it('window b reads seed b; each point runs once, whatever order the windows ask in', async () => {
    const { program, calls, verify } = fake(2);
    const [f0, f1] = seedFactories(2, async () => program, box, verify);
    const [p0, p1] = [await f0!([1, 3, 1, 2], box), await f1!([1, 3, 1, 2], box)];
    const a = Float32Array.of(1, 2, 3, 4, 5, 6);
    const b = Float32Array.of(0, 0, 0, 0, 0, 1);
    const [r1b, r0a, r0b, r1a] = await Promise.all([p1.run(b, new Float32Array(2)), p0.run(a, new Float32Array(2)), p0.run(b, new Float32Array(2)), p1.run(Float32Array.from(a), new Float32Array(2))]);
    expect(calls).toHaveLength(2);
    expect([r0a.objective[0], r1a.objective[0], r0b.objective[0], r1b.objective[0]]).toEqual([21, 42, 1, 2]);
    expect(Array.from(r1a.grad)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(Array.from(r0b.grad)).toEqual([1, 1, 1, 1, 1, 1]);
    // a point asked again after every window read it runs again
    await p0.run(a, new Float32Array(2));
    expect(calls).toHaveLength(3);
    await expect(f0!([2, 3, 1, 2], box)).rejects.toThrow(/runs one point/);
  });

  it('a first run the check refuses fails every window', async () => {
    const { program, verify } = fake(2, true);
    const [f0, f1] = seedFactories(2, async () => program, box, verify);
    const x = Float32Array.of(1, 2, 3, 4, 5, 6);
    await expect((await f0!([1, 3, 1, 2], box)).run(x, new Float32Array(2))).rejects.toThrow('disagrees');
    await expect((await f1!([1, 3, 1, 2], box)).run(x, new Float32Array(2))).rejects.toThrow('disagrees');
  });

  it('the whole image\'s forward runs once for the windows', async () => {
    let runs = 0;
    let sessions = 0;
    const forward = sharedForward(async () => {
      sessions++;
      return { run: async (x: Float32Array) => (runs++, { output: x.map((v) => 2 * v), outputDims: [1, 3, 1, 2] }), release: async () => {} };
    }, 2);
    const [a, b] = [await forward([1, 3, 1, 2]), await forward([1, 3, 1, 2])];
    const x = Float32Array.of(1, 2, 3, 4, 5, 6);
    const [ra, rb] = await Promise.all([a.run(x), b.run(Float32Array.from(x))]);
    expect([runs, sessions]).toEqual([1, 1]);
    expect(Array.from(ra.output)).toEqual(Array.from(rb.output));
  });
});

function lamNode(id: string, window: number[], extra: Record<string, unknown> = {}): PlanNode {
  return {
    id, kind: 'lam', statement: 'edge', runId: id, sweep: {},
    params: { window, path: 'progressive-blur', sigma: 1.2, steps: 5, kernel: 9, detector: 'gradient', reduce: 'sum', batch: 'auto', crop: 'auto', ...extra },
    deps: { model: 'model:m', image: 'lr:i' }, key: `key-${id}`, files: {}, implicit: false,
  };
}

describe('windowSiblings', () => {
  it('the lam nodes that differ only in their window, still pending with no result of their key', () => {
    const me = lamNode('a', [0, 0, 16, 16]);
    const nodes = [
      me,
      lamNode('b', [16, 0, 16, 16]),
      lamNode('c', [32, 0, 16, 16], { steps: 10 }),
      { ...lamNode('d', [48, 0, 16, 16]), deps: { model: 'model:other', image: 'lr:i' } },
      lamNode('e', [64, 0, 16, 16]),
      lamNode('f', [80, 0, 16, 16]),
    ];
    const facts = { nodes: { a: { status: 'pending' }, b: { status: 'pending' }, c: { status: 'pending' }, d: { status: 'pending' }, e: { status: 'pending', outs: {} }, f: { status: 'cached' } } };
    const plan = { studyFile: '/s.lvi', studyDir: '/', outDir: '/o', study: { name: 's', device: 'cpu', seed: 0 }, nodes, lviVersion: 't' };
    expect(windowSiblings({ node: me, plan, facts: () => facts }).map((n) => n.id)).toEqual(['b']);
    expect(windowSiblings({ node: me, plan })).toEqual([]);
  });
});

describe('lam nodes of one image and model through the kernel', () => {
  it('the first computes both windows; the second takes its result and writes it', async () => {
    const model = await loadModel({ file: path.join(lamDir, 'carn_coffee', 'model.onnx') });
    const images = deriveLr(readImage(path.join(lamDir, 'coffee_256.png')), 4);
    const nodes = [lamNode('lam:one', [120, 100, 16, 16]), lamNode('lam:two', [136, 104, 16, 16])];
    const status: Record<string, string> = { 'lam:one': 'pending', 'lam:two': 'pending' };
    const plan = { studyFile: path.join(tmp, 's.lvi'), studyDir: tmp, outDir: tmp, study: { name: 's', device: 'cpu', seed: 0 }, nodes, lviVersion: 't' };
    const di: Record<string, Record<string, unknown>> = {};
    for (const n of nodes) {
      const runDir = path.join(tmp, n.runId.replace(':', '-'));
      mkdirSync(runDir, { recursive: true });
      const ctx: RunContext = {
        plan, node: n, runDir, device: 'cpu',
        deps: { model: { value: model, summary: {}, files: [] }, image: { value: { ...images, scale: 4 }, summary: {}, files: [] } },
        progress: () => {}, warn: (m) => { throw new Error(m); },
        facts: () => ({ nodes: Object.fromEntries(Object.entries(status).map(([k, v]) => [k, { status: v }])) }),
      };
      await lamKernel.run(ctx);
      status[n.id] = 'ran';
      di[n.id] = JSON.parse(readFileSync(path.join(runDir, 'di.json'), 'utf8'));
    }
    expect(di['lam:one']!.plan).toBe('shared');
    expect(di['lam:two']!.plan).toBe('shared');
    expect(di['lam:two']!.shared_windows).toEqual([{ x: 136, y: 104, w: 16, h: 16 }, { x: 120, y: 100, w: 16, h: 16 }]);
    // the second node's map is its own window's
    const own = await runLam(model, images, lamParams(nodes[1]!), { device: 'cpu', progress: () => {}, warn: () => {} });
    expect(Math.abs((di['lam:two']!.di as number) - own.result.di)).toBeLessThanOrEqual(1e-2);
    expect(Math.abs((di['lam:two']!.map_max as number) - own.result.mapMax)).toBeLessThanOrEqual(5e-4 * own.result.mapMax);
  }, 300_000);
});
