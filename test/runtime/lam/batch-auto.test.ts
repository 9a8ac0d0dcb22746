// batch=auto against batch=1 on every network of the suite: the reference CNNs, every zoo model
// and the transformers. Wherever auto batches, its map must equal batch 1's within float32
// noise; where the graph mixes path points (the transformers), auto must not batch at all.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../../helpers/paths.js';
import type { LoadedModel } from '../../../src/runtime/api.js';
import { cropImage, readImage, type Image } from '../../../src/runtime/image/index.js';
import { computeLam, type LamOptions, type LamResult, type Window } from '../../../src/runtime/methods/lam/compute.js';
import { windowPrograms } from '../../../src/runtime/methods/lam/program.js';
import { loadModel } from '../../../src/runtime/models/index.js';
import { resolveZooModel, ZOO } from '../../../src/runtime/models/zoo.js';
import { relDiff } from '../../helpers/tensors.js';

const lamDir = fixture('lam');

const measured: Record<string, unknown> = {};

/**
 * LAM at batch 'auto' (at most 3 per run) and at batch 1 on a 5-step path: 6 points, so auto
 * runs 3 points one by one, checks batch 3 on them and runs the other 3 together (where the
 * graph allows batching at all).
 */
async function autoAgainstOne(name: string, model: LoadedModel, lr: Image, window: Window, steps = 5): Promise<LamResult> {
  const warnings: string[] = [];
  const factory = windowPrograms(model, { kind: 'window', detector: 'gradient', reduce: 'sum' }, { device: 'cpu' });
  const opts: LamOptions = {
    window, path: { kind: 'progressive-blur', steps, sigma: 1.2, kernel: 9 }, detector: 'gradient', batch: 'auto', maxBatch: 3,
    warn: (m) => warnings.push(m),
  };
  // Side by side, so the two batch-1 programs share one ONNX Runtime session (sessions are
  // cached while held: creating one is most of the cost for the large zoo networks).
  const [auto, one] = await Promise.all([
    computeLam(factory, lr, model.info.scale, opts),
    computeLam(factory, lr, model.info.scale, { ...opts, batch: 1 }),
  ]);
  expect(warnings, name).toEqual([]);
  expect(one.batch).toBe(1);
  const err = relDiff(auto.attribution, one.attribution);
  measured[name] = { batch: auto.batch, check: auto.batchCheck?.gradient, err, di: auto.di - one.di };
  // float32 summation order only (ONNX Runtime may sum a batch's convolutions differently)
  expect(err, name).toBeLessThanOrEqual(1e-5);
  expect(Math.abs(auto.di - one.di), name).toBeLessThanOrEqual(1e-5);
  return auto;
}

describe('batch=auto equals batch=1', () => {
  it('on the reference CNNs (FSRCNN, CARN), batched', async () => {
    for (const m of ['fsrcnn_chelsea', 'carn_coffee']) {
      const model = await loadModel({ file: path.join(lamDir, m, 'model.onnx') });
      const lr = readImage(path.join(lamDir, m, 'lr.png'));
      const r = await autoAgainstOne(m, model, lr, { x: 100, y: 100, w: 16, h: 16 });
      expect(r.batch, m).toBe(3);
      expect(r.batchCheck?.agreed, m).toBe(true);
    }
  });

  it('on every zoo model, batched', async () => {
    const lr = cropImage(readImage(path.join(lamDir, 'carn_coffee', 'lr.png')), 20, 20, 12, 12);
    for (const z of ZOO) {
      const model = await resolveZooModel(z.id);
      const r = await autoAgainstOne(z.id, model, lr, { x: 4 * z.scale, y: 4 * z.scale, w: 8, h: 8 });
      expect(r.batch, z.id).toBe(3);
      expect(r.batchCheck?.agreed, z.id).toBe(true);
    }
    console.log('batch=auto against batch=1:', JSON.stringify(measured));
  });

  it('on the transformers (SwinIR, HAT): auto proves it must not batch and runs batch 1', async () => {
    for (const [m, window] of [['swinir_coffee', { x: 120, y: 100, w: 16, h: 16 }], ['hat_astronaut', { x: 96, y: 120, w: 16, h: 16 }]] as const) {
      const model = await loadModel({ file: path.join(lamDir, m, 'model.onnx') });
      const lr = readImage(path.join(lamDir, m, 'lr.png'));
      const r = await autoAgainstOne(m, model, lr, window, 2);
      expect(r.batch, m).toBe(1);
      expect(r.batchCheck, m).toBeUndefined();
      expect(r.batchReason, m).toMatch(/^a run of 3 path points would mix them: /);
    }
  });

  it('SwinIR with the proof bypassed: the check of the first batched run catches the mixing, and the path runs one by one', async () => {
    const model = await loadModel({ file: path.join(lamDir, 'swinir_coffee', 'model.onnx') });
    const lr = readImage(path.join(lamDir, 'swinir_coffee', 'lr.png'));
    const proved = windowPrograms(model, { kind: 'window', detector: 'gradient', reduce: 'sum' }, { device: 'cpu' });
    const unproved: typeof proved = (shape, crop) => proved(shape, crop); // no batchProblem
    const warnings: string[] = [];
    const opts: LamOptions = {
      window: { x: 120, y: 100, w: 16, h: 16 }, path: { kind: 'progressive-blur', steps: 2, sigma: 1.2, kernel: 9 }, detector: 'gradient', batch: 2,
      warn: (w) => warnings.push(w),
    };
    const [forced, one] = await Promise.all([computeLam(unproved, lr, 4, opts), computeLam(proved, lr, 4, { ...opts, batch: 1 })]);
    // batch 2 on SwinIR's export: the items' windows land in each other's channels
    expect(forced.batchCheck!.agreed).toBe(false);
    expect(forced.batchCheck!.gradient).toBeGreaterThan(0.1);
    expect(forced.batch).toBe(1);
    expect(forced.batchReason).toBe('batch 2 did not reproduce runs of one on path points 0..1');
    expect(warnings).toEqual([expect.stringMatching(/^batch 2 did not reproduce runs of one on path points 0\.\.1 \(gradient .* of its peak apart.*running the path steps one at a time$/)]);
    expect(Array.from(forced.attribution)).toEqual(Array.from(one.attribution));
    measured['swinir_forced_batch_2'] = forced.batchCheck;
    console.log('SwinIR, batch=auto against batch=1 and the forced batch 2:', JSON.stringify(measured));
  });
});

