// FAIG through the language, on the reference case (test/fixtures/faig/small_3img_20steps): a
// study with the case's inputs as LR datasets paired with the HR crops, scores and rankings as
// the case's, masks whose PSNR and gradient metric are metrics.json's, a cached mask still a model
// for evaluate, and the comparators and the other kinds on the same pair.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileText } from '../../../src/compiler/compile.js';
import { executePlan } from '../../../src/runtime/executor/index.js';
import { readNpy, readNpyInt32 } from '../../../src/runtime/image/index.js';
import { removeTempStudies, tempStudy } from '../executor/helpers.js';
import { fixture } from '../../helpers/paths.js';
import { maxAbs, maxAbsDiff } from '../../helpers/tensors.js';

afterAll(removeTempStudies);

const dir = fixture('faig', 'small_3img_20steps');
const inputs = join(dir, 'inputs');
const text = `study "faig" out="out" seed=0
model clean file="${join(dir, 'baseline.onnx')}" scale=2
model blind file="${join(dir, 'target.onnx')}" scale=2
dataset gt dir="${inputs}" glob="*_hr.png"
dataset blurry dir="${inputs}" glob="*_lr_blur.png" lr=true
dataset noisy dir="${inputs}" glob="*_lr_noise.png" lr=true
faig deblur baseline=clean target=blind data=gt degradation=blurry versus=noisy steps=20
faig denoise baseline=clean target=blind data=gt degradation=noisy versus=blurry steps=20
mask top model=blind from=clean filters=deblur share=[1%, 5%]
mask ntop model=blind from=clean filters=denoise share=1%
evaluate masking models=[clean, blind, top, ntop] data=gt degradations=[blurry, noisy] reference=blind
rank change baseline=clean target=blind method=filter-change
rank ig baseline=clean target=blind method=integrated-gradients data=gt degradation=blurry steps=4
modulate knob model=blind from=clean filters=deblur share=1% lambda=0..1.5 count=4 data=blurry hr=gt
classify which model=blind from=clean filters=[deblur, denoise] thresholds=[0.5, 0.6] data=gt degradations=[blurry, noisy] steps=4
table t rows=[deblur, denoise]
report
`;


describe('a FAIG study on the reference case', () => {
  it('gives the case\'s scores, rankings and masking metrics; a rerun is cached and cached masks still feed evaluate', async () => {
    const study = tempStudy(text);
    const compile = () => {
      const { plan, diagnostics } = compileText(readFileSync(study.file, 'utf8'), study.file);
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      return plan!;
    };
    const first = await executePlan(compile(), { progress: 'none' });
    expect(first.nodes.filter((n) => n.status !== 'ran').map((n) => `${n.id}: ${n.status} ${n.error ?? ''}`)).toEqual([]);
    const out = join(study.dir, 'out');

    // Scores and ranking of the blur contrast, and the noise ranking.
    const scores = readNpy(join(out, 'deblur/default/scores.npy')).data;
    const ref = readNpy(join(dir, 'scores_blur.npy')).data;
    expect(maxAbsDiff(scores, ref)).toBeLessThan(1e-4 * maxAbs(ref));
    expect(maxAbsDiff(readNpy(join(out, 'denoise/default/scores.npy')).data, ref.map((v) => -v))).toBeLessThan(1e-4 * maxAbs(ref));
    for (const [name, side] of [['deblur', 'blur'], ['denoise', 'noise']]) {
      const top = JSON.parse(readFileSync(join(out, name!, 'default/top.json'), 'utf8')) as { count: number; kernels: { index: number; initializer: string; out: number; in: number }[] };
      const theirs = JSON.parse(readFileSync(join(dir, `top1_${side}.json`), 'utf8')) as { kernels: { index: number; conv: string; out: number; in: number }[] };
      expect(top.count).toBe(135);
      expect(new Set(top.kernels.map((k) => `${k.index} ${k.initializer} ${k.out} ${k.in}`))).toEqual(new Set(theirs.kernels.map((k) => `${k.index} ${k.conv} ${k.out} ${k.in}`)));
      const ranking = readNpyInt32(join(out, name!, 'default/ranking.npy'));
      expect(ranking.shape).toEqual([13504]);
    }
    const single = readNpy(join(out, 'deblur/default/single.npy'));
    expect(single.shape).toEqual([2, 3, 13504]);
    expect(maxAbsDiff(single.data.subarray(0, 3 * 13504), readNpy(join(dir, 'single_blur.npy')).data)).toBeLessThan(1e-4 * maxAbs(readNpy(join(dir, 'single_blur.npy')).data));
    const faig = JSON.parse(readFileSync(join(out, 'deblur/default/faig.json'), 'utf8'));
    expect(faig.kernels).toBe(13504);
    expect(faig.zeros).toBeGreaterThanOrEqual(192); // the case's three dead channels at least
    expect(Math.abs(faig.completeness.ratio - 1)).toBeLessThan(0.05);
    // 21 path points (20 steps and the baseline) stacked in two runs of 11 per input
    expect([faig.plan, faig.batch]).toEqual(['steps', 11]);
    for (const f of ['figure-layers.png', 'figure-layers.svg', 'figure-layers.vl.json', 'kernels.json']) expect(existsSync(join(out, 'deblur/default', f))).toBe(true);

    // Masking: PSNR within 0.01 dB and the authors' gradient metric of metrics.json.
    const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).models as Record<string, Record<string, { psnr_gt: number; gradient_metric?: number; psnr_to_target?: number }>>;
    const evaluation = JSON.parse(readFileSync(join(out, 'masking/default/evaluate.json'), 'utf8')) as { rows: { model: string; degradation: string; psnr: number; 'gradient-metric': number; 'psnr-to-reference': number }[] };
    const row = (model: string, degradation: string) => evaluation.rows.find((r) => r.model === model && r.degradation === degradation)!;
    const cases: [string, string][] = [['clean', 'baseline'], ['blind', 'target'], ['top/share=1pct', 'mask_blur_top1'], ['top/share=5pct', 'mask_blur_top5'], ['ntop', 'mask_noise_top1']];
    for (const [mine, theirs] of cases) {
      for (const [deg, key] of [['blurry', 'blur'], ['noisy', 'noise']] as const) {
        const m = metrics[theirs]![key]!;
        expect(Math.abs(row(mine, deg).psnr - m.psnr_gt), `${mine} ${deg}`).toBeLessThan(0.01);
        if (m.gradient_metric !== undefined) expect(Math.abs(row(mine, deg)['gradient-metric'] - m.gradient_metric), `${mine} ${deg} gradient metric`).toBeLessThan(1e-3 * m.gradient_metric + 1e-6);
        if (m.psnr_to_target !== undefined) expect(Math.abs(row(mine, deg)['psnr-to-reference'] - m.psnr_to_target)).toBeLessThan(0.01);
      }
    }

    // The other kinds wrote what they say.
    expect(readNpy(join(out, 'change/default/scores.npy')).shape).toEqual([13504]);
    expect(readNpy(join(out, 'ig/default/scores.npy')).shape).toEqual([13504]);
    const knob = JSON.parse(readFileSync(join(out, 'knob/default/modulate.json'), 'utf8'));
    expect(knob.lambdas).toEqual([0, 0.5, 1, 1.5]);
    // lambda = 1 is the target itself; lambda = 0 the top-1% blur mask.
    const target = metrics.target!.blur!.psnr_gt;
    expect(Math.abs(knob.psnr[2].psnr - target)).toBeLessThan(0.01);
    expect(Math.abs(knob.psnr[0].psnr - metrics.mask_blur_top1!.blur!.psnr_gt)).toBeLessThan(0.01);
    const which = JSON.parse(readFileSync(join(out, 'which/default/classify.json'), 'utf8'));
    expect(which.inputs).toHaveLength(6);
    expect(which.perClass.map((c: { truth: string }) => c.truth)).toEqual(['blurry', 'noisy']);
    expect(existsSync(join(out, 'report.html'))).toBe(true);

    // A rerun does nothing; a changed evaluate reruns alone, fed by the cached masks.
    const second = await executePlan(compile(), { progress: 'none' });
    expect(second.nodes.filter((n) => n.status === 'ran').map((n) => n.id)).toEqual([]);
    const changed = readFileSync(study.file, 'utf8').replace('reference=blind', 'reference=clean');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(study.file, changed);
    const third = await executePlan(compile(), { progress: 'none' });
    const ran = third.nodes.filter((n) => n.status === 'ran').map((n) => n.id);
    expect(ran).toContain('evaluate:masking');
    expect(ran.filter((id) => id.startsWith('faig:') || id.startsWith('mask:'))).toEqual([]);
    expect(third.nodes.filter((n) => n.status === 'failed')).toEqual([]);
  }, 600_000);
});
