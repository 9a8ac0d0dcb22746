// LAM on transformer SR networks against the reference cases swinir_coffee and hat_astronaut
// (test/fixtures/lam: the authors' arch files exported by torch.onnx.export at opset 17, LAM
// by an independent PyTorch implementation). Tolerances of issue 12: map within 1e-4 of its
// peak, DI within 1e-3.
//
// Each case runs at the reference's own 50 steps and batch=auto, twice: on the whole image
// (crop=off) and with the default crop=auto, which plans by FLOPs before anything runs (HAT:
// the cone, which reads the whole LR image, its attention being global, but cuts the tail;
// SwinIR: the whole image, its cone computing 95% of it). Both within tolerance of the
// reference, crop=auto equal to crop=off, neither warning. For these graphs batch
// 'auto' is batch 1 by proof (their window partitions fold the batch into other axes), so this
// run is also the batch=1 run; batch-auto.test.ts checks that both give the same map.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../../helpers/paths.js';
import type { PlanNode } from '../../../src/compiler/plan.js';
import { deriveLr, readImage, readNpy } from '../../../src/runtime/image/index.js';
import { lamKernel } from '../../../src/runtime/methods/lam/kernel.js';
import { loadModel } from '../../../src/runtime/models/index.js';

const lamRef = fixture('lam');
const tmp = mkdtempSync(path.join(tmpdir(), 'lvi-lam-tf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CASES = [
  { name: 'swinir_coffee', hr: 'coffee_256.png', window: [120, 100, 16, 16], plan: 'whole', mixes: /^a run of \d path points would mix them: Reshape node '\/layers\.0\/residual_group\/blocks\.0\/Reshape_5' reshapes to/ },
  { name: 'hat_astronaut', hr: 'astronaut_256.png', window: [96, 120, 16, 16], plan: 'cone', mixes: /^a run of \d path points would mix them: the graph does not take batch \d: Reshape node '\/layers\.0\/residual_group\/blocks\.0\/Reshape'/ },
];

/** Largest difference relative to the reference's peak. */
function errorOfPeak(mine: Float32Array, ref: Float32Array): number {
  let peak = 0;
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    peak = Math.max(peak, Math.abs(ref[i]!));
    worst = Math.max(worst, Math.abs(mine[i]! - ref[i]!));
  }
  return worst / peak;
}

const measured: Record<string, unknown> = {};
afterAll(() => console.log('LAM transformer reference errors:', JSON.stringify(measured)));

/** crop=auto against crop=off: float32 summation order only (measured below 1e-6 of the peak). */
const CROP_TOLERANCE = 1e-5;

for (const c of CASES) {
  describe(`LAM reference case ${c.name} (transformer)`, () => {
    const runs: Record<'off' | 'auto', { dir: string; warnings: string[]; di: Record<string, any> }> = {} as never;
    let ref: Record<string, any>;

    beforeAll(async () => {
      const model = await loadModel({ file: path.join(lamRef, c.name, 'model.onnx') });
      const images = deriveLr(readImage(path.join(lamRef, c.hr)), 4);
      ref = JSON.parse(readFileSync(path.join(lamRef, c.name, 'di.json'), 'utf8'));
      for (const crop of ['off', 'auto'] as const) {
        const runDir = path.join(tmp, `${c.name}-${crop}`);
        mkdirSync(runDir, { recursive: true });
        const warnings: string[] = [];
        const node: PlanNode = {
          id: `lam:${c.name}`, kind: 'lam', statement: 'edge', runId: c.name, sweep: {}, key: c.name, files: {}, implicit: false,
          params: { window: c.window, path: 'progressive-blur', sigma: 1.2, steps: 50, kernel: 9, detector: 'gradient', reduce: 'sum', batch: 'auto', crop },
          deps: { model: 'model:m', image: 'lr:i' },
        };
        const started = performance.now();
        const result = await lamKernel.run({
          plan: { studyFile: '', studyDir: '', outDir: tmp, study: { name: 't', device: 'cpu', seed: 0 }, nodes: [], lviVersion: 'test' },
          node,
          deps: { model: { value: model, summary: {}, files: [] }, image: { value: { ...images, scale: 4 }, summary: {}, files: [] } },
          runDir,
          device: 'cpu',
          progress: () => {},
          warn: (m) => warnings.push(m),
        });
        measured[`${c.name}.${crop}.seconds`] = (performance.now() - started) / 1000;
        measured[`${c.name}.${crop}.summary`] = result.summary;
        runs[crop] = { dir: runDir, warnings, di: JSON.parse(readFileSync(path.join(runDir, 'di.json'), 'utf8')) };
      }
    }, 1_200_000);

    for (const crop of ['off', 'auto'] as const) {
      it(`crop=${crop}: attribution map within 1e-4 of the reference's peak, signed attribution too`, () => {
        for (const f of ['attribution.npy', 'attribution_chw.npy']) {
          const file = path.join(runs[crop].dir, f);
          expect(existsSync(file), f).toBe(true);
          const err = errorOfPeak(readNpy(file).data as Float32Array, readNpy(path.join(lamRef, c.name, f)).data as Float32Array);
          measured[`${c.name}.${crop}.${f}`] = err;
          expect(err, f).toBeLessThanOrEqual(1e-4);
        }
      });

      it(`crop=${crop}: DI within 1e-3, the detector at both ends within 1e-5, no NaN steps, no warnings`, () => {
        const { di, warnings } = runs[crop];
        measured[`${c.name}.${crop}.di_error`] = di.di - ref.di;
        expect(Math.abs(di.di - ref.di)).toBeLessThanOrEqual(1e-3);
        expect(Math.abs(di.map_max - ref.map_max)).toBeLessThanOrEqual(1e-4 * ref.map_max);
        for (const k of ['d_input', 'd_baseline'] as const) {
          expect(Math.abs(di.completeness[k] - ref.completeness[k]), k).toBeLessThanOrEqual(1e-5 * Math.abs(ref.completeness[k]));
        }
        expect(Math.abs(di.completeness.sum_attribution - ref.completeness.sum_attribution)).toBeLessThanOrEqual(1e-4 * Math.abs(ref.completeness.sum_attribution));
        expect([di.nan_steps, di.steps]).toEqual([0, 50]);
        expect(warnings).toEqual([]);
      });

      it(`crop=${crop}: ran one path point at a time, and di.json says why`, () => {
        expect(runs[crop].di.batch).toBe(1);
        expect(runs[crop].di.batch_reason).toMatch(c.mixes);
      });
    }

    it('crop=auto chose its plan by FLOPs before running, and its maps equal crop=off\'s', () => {
      const { di } = runs.auto;
      expect(runs.off.di.plan).toBe('whole');
      expect(di.plan).toBe(c.plan);
      if (c.plan === 'cone') {
        expect(di.flops.cone).toBeLessThan(0.5 * di.flops.whole);
        // the cone's first run, checked against the whole image's gradient graph
        expect(di.crop.checked_max_diff).toBeLessThanOrEqual(1e-5);
      }
      for (const f of ['attribution.npy', 'attribution_chw.npy']) {
        const a = readNpy(path.join(runs.auto.dir, f)).data as Float32Array;
        const b = readNpy(path.join(runs.off.dir, f)).data as Float32Array;
        const err = errorOfPeak(a, b);
        measured[`${c.name}.auto_vs_off.${f}`] = err;
        expect(err, f).toBeLessThanOrEqual(CROP_TOLERANCE);
      }
      expect(Math.abs(di.di - runs.off.di.di)).toBeLessThanOrEqual(1e-3);
    });
  });
}
