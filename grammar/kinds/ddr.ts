// DDR (Liu et al. 2021, "Discovering 'Semantics' in Super-Resolution Networks") and SRGA (Liu,
// Zhao, Gu, Qiao, Dong, TPAMI 2023): the catalogue entries of `features`, `embed`, `cluster` and
// `srga`. Their runners are src/runtime/methods/ddr/runner.ts.

import type { Catalogue, CheckedLike, KindCheck, ParamSpec } from '../spec.js';
import { DEGRADATION, DEGRADATIONS, SAMPLE_PARAMS } from './degradations.js';

const load = () => import('../../src/runtime/methods/ddr/runner.js');

const LABELS = ['degradation', 'content', 'crop'];
const INDICES = ['calinski-harabasz', 'silhouette', 'davies-bouldin'];

/** Where the inputs come from: HR images degraded, or LR datasets given as degradations. */
const INPUT_PARAMS: Record<string, ParamSpec> = {
  data: {
    type: { type: 'ref', kinds: ['dataset'] },
    doc: 'HR images to degrade and downscale; not needed when every degradation is an LR dataset (lr=true).',
  },
  ...SAMPLE_PARAMS,
  batch: {
    type: { type: 'int', min: 1, max: 1024 },
    doc: 'Inputs per network run (inputs of one size are stacked).',
    default: 16,
  },
};

/** `layer=` names tensors of the model file (read without running it); zoo models are checked at run time. */
function checkLayers(st: CheckedLike, c: KindCheck): void {
  const models = c.values('model').map((v) => c.statement(v));
  const layers = c.values('layer').flatMap((v) => (Array.isArray(v) ? v : [v]));
  for (const model of models) {
    const facts = c.modelGraph(model);
    if (!facts) continue;
    const known = new Set(facts.tensors);
    layers.forEach((layer, index) => {
      if (typeof layer !== 'string' || known.has(layer)) return;
      const guess = nearest(layer, facts.tensors);
      c.accept(
        'unknown-value',
        `${st.kind} layer: model \`${model!.name}\` (${facts.file}) has no tensor "${layer}"${guess ? `; did you mean "${guess}"?` : ' (`lvi inspect` lists its layers)'}`,
        { param: 'layer', index: Array.isArray(st.value('layer')) ? index : undefined },
        guess ? { suggestion: guess } : undefined,
      );
    });
  }
  const data = st.value('data');
  const degradations = c.values(st.kind === 'srga' ? 'tests' : 'degradations').flatMap((v) => (Array.isArray(v) ? v : [v]));
  const all = st.kind === 'srga' ? [st.value('reference'), ...degradations] : degradations;
  const needsHr = all.some((d) => d !== undefined && !isDatasetRef(d));
  if (needsHr && data === undefined) {
    c.accept(
      'missing-param',
      `${st.kind}: degradations other than LR datasets need HR images: add data=<dataset>`,
      { param: st.kind === 'srga' ? 'tests' : 'degradations' },
    );
  }
}

function isDatasetRef(v: unknown): boolean {
  return typeof v === 'object' && v !== null && 'ref' in v;
}

/** Closest by edit distance within a third of the length (a typo), else undefined. */
function nearest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return bestDist <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

const listLength = (v: unknown): number => (Array.isArray(v) ? v.length : v === undefined ? 0 : 1);

export const DDR_KINDS: Catalogue = {
  features: {
    doc: 'Deep features (DDR): the values of named layers for every input under every degradation, pooled per channel or flattened; one row per sample, with its labels.',
    runner: 'features',
    load,
    produces: 'features',
    name: 'required',
    analysis: true,
    results: {
      samples: { doc: 'Rows: inputs x degradations (x crops).', type: 'int' },
      dim: { doc: 'Values per row of the first layer (channels when pooled; C x H x W with pool=none).', type: 'int' },
    },
    columns: ['model', 'layer', 'pool', 'samples', 'dim'],
    cost: (p) => ({ forward: Math.max(1, listLength(p.degradations)), backward: 0, note: 'per input image or crop: one pass per degradation, every layer from that pass' }),
    check: checkLayers,
    params: {
      model: { type: { type: 'ref', kinds: ['model'] }, doc: 'The network whose features are taken.', required: true, sweep: true },
      layer: {
        type: { type: 'list', of: { type: 'string' }, single: true, unique: true },
        doc: 'Tensor(s) of the graph (node outputs, as `lvi inspect` lists them); several layers come from one pass.',
        required: true,
      },
      degradations: { type: DEGRADATIONS, doc: 'What the inputs go through: clean, blur(...), noise(...), jpeg(...), or LR datasets.', default: ['clean'] },
      pool: {
        type: { type: 'enum', values: ['mean', 'max', 'none'] },
        doc: 'Per channel mean or max over the positions, or none (the whole C x H x W map flattened, C-major).',
        default: 'mean',
      },
      ...INPUT_PARAMS,
    },
    example:
      'features f model=clean layer="/body/body.3/Add_output_0" data=crops\n    degradations=[clean, blur(sigma=2), noise(sigma=0.1), jpeg(quality=30)] pool=mean',
  },

  embed: {
    doc: 'A projection of features (DDR): exact PCA, or seeded t-SNE or UMAP (DruidJS; rows wider than 50 values go through PCA to 50 first). Scatter plots coloured by content, marked by degradation.',
    runner: 'embed',
    load,
    produces: 'embedding',
    name: 'required',
    params: {
      of: {
        type: { type: 'list', of: { type: 'ref', kinds: ['features'] }, single: true, unique: true },
        doc: 'The features to project: every run and layer of each statement, one scatter panel each.',
        required: true,
      },
      method: {
        type: { type: 'enum', values: ['pca', 'tsne', 'umap'] },
        doc: 'pca: exact, float64 (Gram matrix when rows are wider than the sample count); tsne, umap: seeded (DruidJS).',
        default: 'pca',
      },
      components: {
        type: { type: 'int', min: 1, max: 10000 },
        doc: 'PCA components kept (t-SNE always gives 2); more than the samples or values allow is an error.',
        defaultDoc: 'min(50, N - 1, D), as the DDR reference',
      },
      perplexity: { type: { type: 'number', min: 1, max: 1000 }, doc: 't-SNE perplexity (about the neighbours each point keeps; below the sample count minus one).', default: 30 },
      neighbors: { type: { type: 'int', min: 2, max: 1000 }, doc: 'UMAP neighbourhood size (below the sample count).', default: 15 },
      'min-dist': { type: { type: 'number', min: 0, max: 10 }, doc: 'UMAP: how tightly points may pack.', default: 0.1 },
      iterations: { type: { type: 'int', min: 10, max: 100000 }, doc: 't-SNE / UMAP optimisation steps.', default: 1000 },
      seed: { type: { type: 'int', min: 0 }, doc: 't-SNE / UMAP seed.', defaultDoc: 'the study\'s seed', studyDefault: 'seed' },
    },
    example: 'embed t of=f method=tsne perplexity=10 seed=0',
  },

  cluster: {
    doc: 'How features group (DDR): cluster-separation indices by each label, on raw features and embeddings, as a table.',
    runner: 'cluster',
    load,
    produces: 'table',
    name: 'optional',
    params: {
      of: {
        type: { type: 'list', of: { type: 'ref', kinds: ['features', 'embedding'] }, single: true, unique: true },
        doc: 'Features and embeddings to score (every run and layer of each).',
        required: true,
      },
      by: { type: { type: 'list', of: { type: 'enum', values: LABELS }, single: true, unique: true }, doc: 'Labels whose classes are scored.', default: ['degradation', 'content'] },
      index: {
        type: { type: 'list', of: { type: 'enum', values: INDICES }, single: true, unique: true },
        doc: 'Calinski-Harabasz (higher: tighter, further apart), silhouette (-1..1, overall and per class), Davies-Bouldin (lower is better).',
        default: ['calinski-harabasz', 'silhouette'],
      },
    },
    example: 'cluster c of=[f, p, t] by=[degradation, content] index=[calinski-harabasz, silhouette]',
  },

  srga: {
    doc: 'SRGA (Liu et al., TPAMI 2023): how far a network\'s deep features for each test degradation are from those of the reference, as the official code computes it (with exact PCA).',
    runner: 'srga',
    load,
    produces: 'results',
    name: 'required',
    analysis: true,
    results: {
      srga: { doc: 'SRGA of the first test set: log10(KL + 1e-5) + 5 (0: the same distribution as the reference; lower generalises better).', type: 'number', chart: 'bar', reading: 'Lower means the network treats the test degradation more like the reference.' },
      'srga-max': { doc: 'Largest SRGA over the test sets.', type: 'number' },
    },
    columns: ['model', 'layer', 'srga', 'srga-max'],
    cost: (p) => ({ forward: 1 + Math.max(1, listLength(p.tests)), backward: 0, note: 'per input image or crop: one pass for the reference and one per test set' }),
    check: checkLayers,
    params: {
      model: { type: { type: 'ref', kinds: ['model'] }, doc: 'The network to evaluate.', required: true, sweep: true },
      layer: { type: { type: 'string' }, doc: 'The tensor whose flattened values are the features (SRGA uses the deepest features).', required: true, sweep: true },
      reference: { type: DEGRADATION, doc: 'The reference set\'s degradation (or LR dataset).', default: 'clean' },
      tests: { type: DEGRADATIONS, doc: 'Test degradations (or LR datasets); one SRGA each.', required: true },
      components: { type: { type: 'int', min: 1, max: 10000 }, doc: 'PCA components per set (the official 300; at most the set\'s sample count).', default: 300 },
      ...INPUT_PARAMS,
    },
    example: 'srga g model=clean layer="/body/body.3/Add_output_0" reference=clean\n    tests=[blur(sigma=1), blur(sigma=2), noise(sigma=0.05)] data=crops',
  },
};
