// LAM, Local Attribution Maps (Gu & Dong, CVPR 2021): the catalogue entry of the `lam` kind.
// Its runner is src/runtime/methods/lam/kernel.ts.

import type { Catalogue, CheckedLike, KindCheck } from '../spec.js';

export const LAM_KINDS: Catalogue = {
  lam: {
    doc: 'Local Attribution Map (Gu & Dong, CVPR 2021): which input pixels a model uses to restore a window.',
    runner: 'lam',
    load: () => import('../../src/runtime/methods/lam/kernel.js'),
    produces: 'results',
    name: 'optional',
    analysis: true,
    results: {
      di: { doc: 'Diffusion Index: (1 - Gini of the map) x 100; how widely the attribution spreads.', type: 'number', chart: 'bar', reading: 'A higher DI means the model draws on a wider area of the input.' },
      gini: { doc: 'Gini coefficient of the attribution map (1: one pixel, 0: uniform).', type: 'number' },
      psnr: { doc: 'PSNR of the model\'s output against the HR image (dB, RGB, 8-bit).', type: 'number' },
      completeness: { doc: 'Sum of the attribution over D(F(input)) - D(F(baseline)); 1 when the path integral is exact.', type: 'number' },
    },
    columns: ['model', 'image', 'window', 'di'],
    // One forward and one backward pass per path step, plus the forward of the baseline for the
    // completeness check.
    cost: (p) => {
      const steps = typeof p.steps === 'number' ? p.steps : 50;
      return { forward: steps + 1, backward: steps };
    },
    check: checkWindowsFit,
    params: {
      model: {
        type: { type: 'ref', kinds: ['model'] },
        doc: 'The model to explain.',
        required: true,
        sweep: true,
      },
      image: {
        type: { type: 'ref', kinds: ['image'] },
        doc: 'The image to explain it on.',
        required: true,
        lowResFor: 'model',
        sweep: true,
      },
      window: {
        type: { type: 'tuple', length: 4, element: 'int', names: ['x', 'y', 'w', 'h'], min: [0, 0, 1, 1] },
        doc: 'Output window (x,y,w,h) in HR pixels, as in the LAM paper.',
        required: true,
        sweep: true,
      },
      path: {
        type: { type: 'enum', values: ['progressive-blur', 'linear', 'blur-linear'] },
        doc: 'Integration path from the baseline to the input.',
        default: 'progressive-blur',
        sweep: true,
      },
      sigma: {
        type: { type: 'number', min: 0, exclusiveMin: true, max: 100 },
        doc: 'Blur sigma of the baseline (start of the path).',
        default: 1.2,
        sweep: true,
      },
      steps: {
        type: { type: 'int', min: 1, max: 10000 },
        doc: 'Path steps (fold); more steps, closer integral.',
        default: 50,
        sweep: true,
      },
      kernel: {
        type: { type: 'int', min: 1, max: 101, odd: true },
        doc: 'Size of the square Gaussian blur kernel (odd).',
        default: 9,
        sweep: true,
      },
      detector: {
        type: { type: 'enum', values: ['gradient', 'intensity'] },
        doc: 'What is attributed in the window: edge strength (gradient) or summed intensity.',
        default: 'gradient',
        sweep: true,
      },
      reduce: {
        type: { type: 'enum', values: ['sum', 'mean'] },
        doc: 'How the detector combines the window\'s pixels.',
        default: 'sum',
      },
      crop: {
        type: { type: 'enum', values: ['auto', 'off'] },
        doc: "auto: each step computes only the window's cone, every layer cut exactly to the region the window's detector depends on, when that costs fewer FLOPs than the whole image (counted before anything runs, the whole image's one forward pass for the SR picture included; windows on one image, model and path may share their forward passes); else the whole image. The map equals the whole image's within float32 rounding; di.json records the plan that ran and the FLOPs of each, `lvi graph --flops` and hover show them before running. off: every step runs on the whole image.",
        default: 'auto',
      },
      batch: {
        type: { type: 'union', of: [{ type: 'enum', values: ['auto'] }, { type: 'int', min: 1, max: 1024 }] },
        doc: 'Path steps per model run; auto times batch 1 against the largest batch that fits the device memory on the first steps and keeps the faster (the probe timings go to the run record). A batch above 1 runs only where the graph provably keeps path steps apart, and after its first run matched runs of one on the same steps; otherwise steps run one at a time and di.json says why (batch_reason).',
        default: 'auto',
      },
    },
    example:
      'lam edge model=[slim, rdn] image=chelsea window=(110,150,16,16)\n    path=progressive-blur sigma=1.2 steps=50 kernel=9 detector=gradient',
  },
};

/**
 * A LAM window must lie inside the HR image as the model sees it: cropped at the top-left to a
 * multiple of the scale (for an LR-only image: the LR size times the scale).
 */
function checkWindowsFit(st: CheckedLike, c: KindCheck): void {
  const windows = c.values('window');
  const images = c.values('image').map((v) => c.statement(v));
  const models = c.values('model').map((v) => c.statement(v));
  windows.forEach((w, index) => {
    if (!Array.isArray(w) || w.length !== 4) return;
    const [x, y, ww, wh] = w as number[];
    for (const image of images) {
      for (const model of models) {
        const scale = c.modelScale(model);
        const hr = image && scale ? hrSize(image, scale, c) : undefined;
        if (!hr || (x + ww <= hr.width && y + wh <= hr.height)) continue;
        c.accept(
          'out-of-range',
          `lam window: (${w.join(',')}) reaches x=${x + ww}, y=${y + wh}, but image \`${image!.name}\` is ${hr.width}x${hr.height} HR pixels for the x${scale} model \`${model!.name}\``,
          { param: 'window', index },
          { image: image!.name, model: model!.name, width: hr.width, height: hr.height },
        );
        return; // one report per window is enough
      }
    }
  });
}

/** The HR size an image statement gives a model of this scale. */
function hrSize(image: CheckedLike, scale: number, c: KindCheck): { width: number; height: number } | undefined {
  const file = image.value('file');
  const lr = image.value('lr');
  if (typeof file === 'string') {
    const size = c.imageSize(file);
    return size && { width: size.width - (size.width % scale), height: size.height - (size.height % scale) };
  }
  if (typeof lr === 'string') {
    const size = c.imageSize(lr);
    return size && { width: size.width * scale, height: size.height * scale };
  }
  return undefined;
}
