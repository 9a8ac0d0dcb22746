// FAIG, Filter Attribution based on Integrated Gradients (Xie, Wang, Dong, Shan, NeurIPS 2021,
// "Finding Discriminative Filters for Specific Degradations in Blind Super-Resolution"): the
// catalogue entries of `faig`, `rank`, `mask`, `evaluate`, `modulate` and `classify`. Their
// runners are src/runtime/methods/faig/runner.ts.

import type { Catalogue, CheckedLike, KindCheck, ParamSpec } from '../spec.js';
import { DEGRADATION, DEGRADATIONS, SAMPLE_PARAMS } from './degradations.js';

const load = () => import('../../src/runtime/methods/faig/runner.js');

const MODEL = (doc: string, extra: Partial<ParamSpec> = {}): ParamSpec => ({ type: { type: 'ref', kinds: ['model'] }, doc, required: true, ...extra });
const SCORES: ParamSpec = {
  type: { type: 'ref', kinds: ['faig', 'rank'] },
  doc: 'The kernel ranking to take the kernels from: a faig or rank statement.',
  required: true,
};
const SHARE: ParamSpec = {
  type: { type: 'percent', min: 0, max: 100 },
  doc: 'Share of all kernels taken from the top of the ranking, as the authors count it: int(K x share).',
  default: { percent: 1 },
  sweep: true,
};
const HR_DATA: ParamSpec = {
  type: { type: 'ref', kinds: ['dataset'] },
  doc: 'HR images (the loss target and, for degradation calls, what is degraded and downscaled).',
  required: true,
};
const PATCH = SAMPLE_PARAMS;
const BATCH: ParamSpec = {
  type: { type: 'int', min: 1, max: 1024 },
  doc: 'Network evaluations per run: path points of one input, stacked as convolution groups with the weights as constants (where every moving parameter is a Conv weight or bias), otherwise inputs of one LR size at one path point, each with its own weight gradients; graphs whose batch items mix run one at a time.',
  default: 16,
};
const STEPS: ParamSpec = {
  type: { type: 'int', min: 1, max: 10000 },
  doc: 'Path steps N from the target to the baseline (the authors use 100).',
  default: 100,
};

const listLength = (v: unknown): number => (Array.isArray(v) ? v.length : v === undefined ? 0 : 1);
const num = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);

export const FAIG_KINDS: Catalogue = {
  faig: {
    doc: 'FAIG (Xie et al., NeurIPS 2021): integrated gradients in parameter space from a blind target network to its clean-trained baseline; one score per convolution kernel, the contrast of a degradation against another summed over the images.',
    runner: 'faig',
    load,
    produces: 'scores',
    name: 'required',
    analysis: true,
    results: {
      kernels: { doc: 'Kernels scored (K): every 2-D kernel of every convolution weight.', type: 'int' },
      zeros: { doc: 'Kernels whose score is exactly 0 (dead channels or unchanged weights).', type: 'int' },
      'top-layer': { doc: 'The convolution holding most of the top 1 % kernels.', type: 'string' },
      completeness: { doc: 'The attribution summed over all inputs and parameters, over the sum of L(baseline) - L(target); 1 when the path integral is exact.', type: 'number', chart: 'bar', reading: 'Near 1: the path has enough steps for the scores to account for the loss change.' },
    },
    columns: ['target', 'degradation', 'versus', 'steps', 'kernels', 'top-layer'],
    cost: (p) => {
      const steps = num(p.steps, 100);
      const sides = p.versus === undefined ? 1 : 2;
      return { forward: sides * (steps + 1), backward: sides * steps, note: 'per HR image or crop: a path of steps for each side (degradation, versus), plus one pass at the baseline' };
    },
    params: {
      baseline: MODEL('The clean-trained network (the path\'s end; never evaluated itself).'),
      target: MODEL('The blind network whose filters are scored (the path\'s start).'),
      data: HR_DATA,
      degradation: { type: DEGRADATION, doc: 'The degradation whose removal is attributed: a call on the HR images or an LR dataset (lr=true) paired with data= by sorted name.', required: true },
      versus: { type: DEGRADATION, doc: 'The degradation contrasted against: scores are S(degradation) - S(versus) per image, summed. Unset: S(degradation) alone.' },
      steps: STEPS,
      batch: BATCH,
      ...PATCH,
    },
    example: 'faig deblur baseline=clean target=blind data=gt degradation=blur(sigma=2) versus=noise(sigma=0.1) steps=100',
  },

  rank: {
    doc: 'Kernel rankings the FAIG paper compares against: the filter change |W_target - W_baseline| / |W_baseline| per kernel, integrated gradients in input space (clean LR to degraded LR, gradient of the output\'s sum with respect to the weights), or random (seeded). Same files as faig.',
    runner: 'rank',
    load,
    produces: 'scores',
    name: 'required',
    analysis: true,
    results: {
      kernels: { doc: 'Kernels scored (K).', type: 'int' },
      'top-layer': { doc: 'The convolution holding most of the top 1 % kernels.', type: 'string' },
    },
    columns: ['method', 'target', 'kernels', 'top-layer'],
    cost: (p) => (p.method === 'integrated-gradients' ? { forward: num(p.steps, 100), backward: num(p.steps, 100), note: 'per HR image or crop: one path in input space' } : { forward: 0, backward: 0, note: 'from the weights alone' }),
    check: checkRankInputs,
    params: {
      baseline: MODEL('The clean-trained network.'),
      target: MODEL('The blind network whose filters are ranked.'),
      method: {
        type: { type: 'enum', values: ['filter-change', 'integrated-gradients', 'random'] },
        doc: 'filter-change: sum |W_t - W_b| / sum |W_b| per kernel; integrated-gradients: input-space IG of the target as the authors\' ig.py, per kernel the sum over its taps of |sum over the path of d sum(F) / dW| / N; random: a seeded permutation.',
        default: 'filter-change',
      },
      data: { type: { type: 'ref', kinds: ['dataset'] }, doc: 'HR images (integrated-gradients only).' },
      degradation: { type: DEGRADATION, doc: 'The degraded end of the input path (integrated-gradients only); the clean LR is the other end.' },
      steps: STEPS,
      seed: { type: { type: 'int', min: 0 }, doc: 'Seed of the random ranking.', defaultDoc: 'the study\'s seed', studyDefault: 'seed' },
      ...PATCH,
    },
    example: 'rank absdiff baseline=clean target=blind method=filter-change',
  },

  mask: {
    doc: 'The target network with the chosen kernels put back to the baseline\'s values (biases kept): the FAIG paper\'s masking. A model: usable wherever one is (lam, evaluate, features, another faig); written as an ONNX file.',
    runner: 'mask',
    load,
    produces: 'model',
    modelFrom: 'model',
    name: 'required',
    analysis: true,
    results: {
      masked: { doc: 'Kernels replaced by the baseline\'s.', type: 'int' },
      'masked-weights': { doc: 'Share of the network\'s convolution weight values replaced.', type: 'number' },
    },
    columns: ['filters', 'share', 'select', 'masked'],
    cost: () => ({ forward: 0, backward: 0, note: 'writes a model file; no network runs' }),
    params: {
      model: MODEL('The network to mask (the faig target).'),
      from: MODEL('The network whose kernel values are put in (the faig baseline).'),
      filters: SCORES,
      share: SHARE,
      select: {
        type: { type: 'enum', values: ['top', 'random'] },
        doc: 'top: the best-ranked kernels; random: as many kernels drawn with the seed (the paper\'s contrast).',
        default: 'top',
        sweep: true,
      },
      seed: { type: { type: 'int', min: 0 }, doc: 'Seed of select=random.', defaultDoc: 'the study\'s seed', studyDefault: 'seed' },
    },
    example: 'mask top model=blind from=clean filters=deblur share=[1%, 5%]',
  },

  evaluate: {
    doc: 'Restoration quality of each model on each degradation (the FAIG paper\'s masking table): PSNR and SSIM against the HR images per image and mean, and the authors\' gradient metric against a reference model\'s output.',
    runner: 'evaluate',
    load,
    produces: 'table',
    name: 'optional',
    analysis: true,
    results: {
      psnr: { doc: 'Mean PSNR (dB) of the first model on the first degradation.', type: 'number' },
    },
    columns: ['models', 'degradations', 'psnr'],
    cost: (p) => ({ forward: Math.max(1, listLength(p.models)) * Math.max(1, listLength(p.degradations)), backward: 0, note: 'per HR image or crop: one pass per model and degradation' }),
    params: {
      models: { type: { type: 'list', of: { type: 'ref', kinds: ['model'] }, single: true, unique: true }, doc: 'The models to compare (masks included).', required: true },
      data: HR_DATA,
      degradations: { type: DEGRADATIONS, doc: 'What the inputs go through: calls on the HR images or LR datasets paired with data= by sorted name.', required: true },
      reference: { type: { type: 'ref', kinds: ['model'] }, doc: 'The model the gradient metric and psnr-to-reference compare against (the authors: the unmasked target).' },
      border: { type: { type: 'int', min: 0, max: 64 }, doc: 'HR pixels cut from each side before PSNR and SSIM.', defaultDoc: 'the scale (2 at x2, as the reference)' },
      ...PATCH,
    },
    example: 'evaluate masking models=[clean, blind, top, rand] data=gt degradations=[blur(sigma=2), noise(sigma=0.1)] reference=blind',
  },

  modulate: {
    doc: 'Controllable restoration (FAIG paper): only the chosen kernels interpolated, lambda x target + (1 - lambda) x baseline, over a lambda sweep past the target; one SR image per lambda, a strip figure and PSNR against lambda.',
    runner: 'modulate',
    load,
    produces: 'results',
    name: 'required',
    analysis: true,
    results: {
      'best-lambda': { doc: 'The lambda with the highest mean PSNR (when HR images are given).', type: 'number' },
      'best-psnr': { doc: 'That PSNR (dB).', type: 'number', chart: 'bar', reading: 'Higher: the chosen kernels alone tune the restoration better.' },
    },
    columns: ['filters', 'share', 'best-lambda', 'best-psnr'],
    cost: (p) => ({ forward: num(p.count, 16), backward: 0, note: 'per input: one pass per lambda' }),
    params: {
      model: MODEL('The target network.'),
      from: MODEL('The baseline network.'),
      filters: SCORES,
      share: { ...SHARE, sweep: false },
      lambda: { type: { type: 'range', min: -10, max: 10 }, doc: 'Lambda from..to (0: the baseline\'s kernels, 1: the target\'s).', default: { range: [0, 1.5] } },
      count: { type: { type: 'int', min: 2, max: 256 }, doc: 'Lambda values, evenly spaced over the range (ends included).', default: 16 },
      data: { type: { type: 'ref', kinds: ['dataset'] }, doc: 'The inputs: an LR dataset (lr=true), or HR images degraded by degradation=.', required: true },
      degradation: { type: DEGRADATION, doc: 'With HR data: what the inputs go through (PSNR against the HR images).', default: 'clean' },
      hr: { type: { type: 'ref', kinds: ['dataset'] }, doc: 'With LR data: HR images paired by sorted name, for PSNR.' },
      ...PATCH,
    },
    example: 'modulate knob model=blind from=clean filters=deblur share=1% lambda=0..1.5 count=16 data=blurry hr=gt',
  },

  classify: {
    doc: 'Degradation classification without labels (FAIG paper): each input\'s own top kernels by a per-image FAIG, and their overlap OS(x, D) = |top(D) & top(x)| / |top(x)| with each faig result\'s top set; an input is said to carry D when OS reaches D\'s threshold.',
    runner: 'classify',
    load,
    produces: 'results',
    name: 'required',
    analysis: true,
    results: {
      accuracy: { doc: 'Share of inputs whose predicted degradations are exactly their true one.', type: 'number', chart: 'bar', reading: 'Higher: the filters found by faig identify the degradation an input carries.' },
    },
    columns: ['filters', 'thresholds', 'accuracy'],
    cost: (p) => ({ forward: num(p.steps, 100) + 1, backward: num(p.steps, 100), note: 'per input: a per-image FAIG path' }),
    check: checkClassify,
    params: {
      model: MODEL('The target network.'),
      from: MODEL('The baseline network.'),
      filters: { type: { type: 'list', of: { type: 'ref', kinds: ['faig'] }, single: true, unique: true }, doc: 'faig results, one per degradation class (the class is each one\'s degradation=).', required: true },
      thresholds: {
        type: { type: 'list', of: { type: 'number', min: 0, max: 1 }, single: true },
        doc: 'OS threshold per filters= entry (the paper: 0.5 blur, 0.6 noise).',
        defaultDoc: '0.5 for each',
      },
      share: { ...SHARE, sweep: false },
      data: HR_DATA,
      degradations: { type: DEGRADATIONS, doc: 'What the inputs go through (their true labels): calls on the HR images or LR datasets paired with data=.', required: true },
      loss: {
        type: { type: 'enum', values: ['hr', 'self'] },
        doc: 'The per-image FAIG\'s loss: against the HR image (hr), or against the target\'s own output on the input (self, for data without ground truth).',
        default: 'hr',
      },
      steps: STEPS,
      batch: BATCH,
      ...PATCH,
    },
    example: 'classify which model=blind from=clean filters=[deblur, denoise] thresholds=[0.5, 0.6] data=gt degradations=[blur(sigma=2), noise(sigma=0.1)]',
  },
};

function checkRankInputs(st: CheckedLike, c: KindCheck): void {
  if (st.value('method') !== 'integrated-gradients') return;
  for (const key of ['data', 'degradation']) {
    if (st.value(key) === undefined) c.accept('missing-param', `rank method=integrated-gradients needs ${key}=`, { param: 'method' });
  }
}

function checkClassify(st: CheckedLike, c: KindCheck): void {
  const filters = listLength(st.value('filters'));
  const thresholds = st.value('thresholds');
  if (thresholds !== undefined && listLength(thresholds) !== filters) {
    c.accept('conflicting-params', `classify: ${listLength(thresholds)} thresholds for ${filters} filters (one threshold per filters= entry)`, { param: 'thresholds' });
  }
}
