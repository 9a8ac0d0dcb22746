// FAIG against the reference case (test/fixtures/faig/small_3img_20steps, from an independent
// PyTorch implementation that reproduces the authors' faig.py bit for bit): the kernel index, the
// gradient at the target, per-image scores, the blur contrast and its ranking. Tolerances are
// those of the case's README: scores within 1e-4 x max |score|, the top 1 % as a set.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readImage, readNpy, readNpyInt32 } from '../../../src/runtime/image/index.js';
import { loadOnnxFile } from '../../../src/runtime/models/index.js';
import type { LoadedModel } from '../../../src/runtime/api.js';
import { attributeAll, type Attribution } from '../../../src/runtime/methods/faig/attribution.js';
import { matchPair, type Pair } from '../../../src/runtime/methods/faig/kernels.js';
import { rankScores, shareCount } from '../../../src/runtime/methods/faig/ranking.js';
import { fixture } from '../../helpers/paths.js';
import { maxAbs, maxAbsDiff } from '../../helpers/tensors.js';

const dir = fixture('faig', 'small_3img_20steps');
const json = (f: string) => JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
const npy = (f: string) => readNpy(path.join(dir, f));

const names = (json('case.json') as { images: { name: string }[] }).images.map((i) => i.name);
const steps = json('case.json').steps as number;

let pair: Pair;
/** Inputs in the case's order: each image's blurry, then its noisy LR. */
const runs: Record<'steps' | 'batched' | 'single', Attribution | undefined> = { steps: undefined, batched: undefined, single: undefined };
const S = (run: Attribution, side: 'blur' | 'noise', image: number) => run.single.subarray((image * 2 + (side === 'blur' ? 0 : 1)) * pair.index.total, (image * 2 + (side === 'blur' ? 0 : 1) + 1) * pair.index.total);

beforeAll(async () => {
  const baseline: LoadedModel = await loadOnnxFile(path.join(dir, 'baseline.onnx'));
  const target: LoadedModel = await loadOnnxFile(path.join(dir, 'target.onnx'));
  pair = matchPair(baseline.graph, target.graph, { baseline: 'baseline', target: 'target' });
  const inputs = names.flatMap((name) => {
    const hr = readImage(path.join(dir, 'inputs', `${name}_hr.png`));
    return (['blur', 'noise'] as const).map((side) => ({ lr: readImage(path.join(dir, 'inputs', `${name}_lr_${side}.png`)), hr }));
  });
  // path points stacked as groups (the default), inputs batched at one path point, one by one
  runs.steps = await attributeAll(baseline, target, pair, inputs, { steps, device: 'cpu', batch: 16 });
  runs.batched = await attributeAll(baseline, target, pair, inputs, { steps, device: 'cpu', batch: 16, plan: 'inputs' });
  runs.single = await attributeAll(baseline, target, pair, inputs, { steps, device: 'cpu', batch: 1, plan: 'inputs' });
}, 300_000);

describe('FAIG reference case (MSRResNet x2 pair, 3 images, 20 steps)', () => {
  it('indexes the kernels as the case does (state-dict order, offset + out * in_channels + in)', () => {
    const ref = json('kernel_index.json') as { total_kernels: number; convs: { onnx_initializer: string; bias_onnx_initializer: string; shape: number[]; offset: number; count: number }[] };
    expect(pair.index.total).toBe(ref.total_kernels);
    expect(pair.index.convs.map((c) => [c.weight, c.bias, c.shape, c.offset, c.count])).toEqual(
      ref.convs.map((c) => [c.onnx_initializer, c.bias_onnx_initializer, c.shape, c.offset, c.count]),
    );
  });

  it('per-image scores S(x) of each side within 1e-4 of the largest, path points stacked, inputs batched and one by one', () => {
    // 21 path points (20 steps and the baseline's loss) in two chunks of 11
    expect([runs.steps!.plan, runs.steps!.batch]).toEqual(['steps', 11]);
    expect([runs.batched!.plan, runs.batched!.batch]).toEqual(['inputs', 6]);
    expect(runs.single!.batch).toBe(1);
    for (const run of [runs.steps!, runs.batched!, runs.single!]) {
      for (const side of ['blur', 'noise'] as const) {
        const ref = npy(`single_${side}.npy`);
        expect(ref.shape).toEqual([names.length, pair.index.total]);
        const k = pair.index.total;
        names.forEach((_, i) => {
          const theirs = ref.data.subarray(i * k, (i + 1) * k);
          expect(maxAbsDiff(S(run, side, i), theirs)).toBeLessThan(1e-4 * maxAbs(theirs));
        });
      }
    }
  });

  it.each(['steps', 'batched'] as const)('the blur contrast summed over the images, and the noise ranking its negation (%s)', (plan) => {
    const k = pair.index.total;
    const contrast = new Float32Array(k);
    names.forEach((_, i) => {
      const b = S(runs[plan]!, 'blur', i);
      const n = S(runs[plan]!, 'noise', i);
      for (let j = 0; j < k; j++) contrast[j] = Math.fround(contrast[j]! + Math.fround(b[j]! - n[j]!));
    });
    const ref = npy('scores_blur.npy').data;
    const ref64 = npy('scores_blur_f64.npy').data;
    expect(maxAbsDiff(contrast, ref)).toBeLessThan(1e-4 * maxAbs(ref));
    // Against the float64 computation too: float32 noise is well below the tolerance.
    expect(maxAbsDiff(contrast, ref64)).toBeLessThan(1e-4 * maxAbs(ref64));

    const top = shareCount(k, 1);
    expect(top).toBe(135);
    for (const [side, scores] of [['blur', contrast], ['noise', contrast.map((v) => -v)]] as const) {
      const mine = rankScores(scores);
      const theirs = readNpyInt32(path.join(dir, `rank_${side}.npy`)).data;
      expect(new Set(mine.subarray(0, top))).toEqual(new Set(Array.from(theirs.subarray(0, top))));
      const refTop = (json(`top1_${side}.json`) as { kernels: { index: number }[] }).kernels.map((e) => e.index);
      expect(Array.from(mine.subarray(0, top)).sort((a, b) => a - b)).toEqual([...refTop].sort((a, b) => a - b));
      // Equal up to ties: wherever the orders differ, the reference's scores at the two places agree within the tolerance.
      const tol = 1e-4 * maxAbs(ref);
      const refScores = side === 'blur' ? ref : ref.map((v) => -v);
      for (let r = 0; r < k; r++) if (mine[r] !== theirs[r]) expect(Math.abs(refScores[mine[r]!]! - refScores[theirs[r]!]!)).toBeLessThan(tol);
    }
  });

  it('completeness: the attribution over every moving parameter equals the loss changes to the Riemann sum\'s error, batched or not', () => {
    for (const run of [runs.steps!, runs.batched!, runs.single!]) {
      // A left Riemann sum of 20 steps: within a few percent of the change it integrates.
      expect(Math.abs(run.completeness - 1)).toBeLessThan(0.05);
      for (const input of run.inputs) expect(input.lossChange).toBeGreaterThan(0); // the clean-trained baseline restores these inputs worse
    }
    expect(Math.abs(runs.batched!.completeness - runs.single!.completeness)).toBeLessThan(1e-4);
    expect(Math.abs(runs.steps!.completeness - runs.single!.completeness)).toBeLessThan(1e-4);
  });
});
