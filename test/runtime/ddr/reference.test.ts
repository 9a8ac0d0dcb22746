// DDR on the reference case of test/fixtures/ddr (the trained MSRResNet x2 pair; features,
// PCA and indices from PyTorch + scikit-learn 1.2.1): lvi's features, PCA and indices must
// match at the tolerances of test/fixtures/ddr/README.md.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../../../src/runtime/api.js';
import { readImage, readNpy } from '../../../src/runtime/image/index.js';
import { pca } from '../../../src/runtime/linalg/pca.js';
import { extractFeatures, type LayerFeatures } from '../../../src/runtime/methods/ddr/features.js';
import { loadOnnxFile } from '../../../src/runtime/models/index.js';
import { calinskiHarabasz, silhouette, type Points } from '../../../src/runtime/stats/cluster.js';
import { fixture } from '../../helpers/paths.js';
import { relDiff } from '../../helpers/tensors.js';

const LAYERS = { conv_first: '/LeakyRelu_output_0', body1: '/body/body.1/Add_output_0', body: '/body/body.3/Add_output_0' } as const;
type LayerKey = keyof typeof LAYERS;
const NETS = { baseline: 'msrresnet-x2-clean.onnx', target: 'msrresnet-x2-blind.onnx' } as const;
type Net = keyof typeof NETS;

interface Labels {
  samples: { file: string; degradation: string; content: string; crop: string }[];
}
interface IndexSet {
  calinski_harabasz: number;
  silhouette: number;
  silhouette_per_class?: Record<string, number>;
}
type ByLabel = Record<'degradation' | 'content' | 'crop', IndexSet>;
interface KindResult {
  explained_variance_ratio: number[];
  raw: ByLabel;
  pca2: ByLabel;
}

const labels = JSON.parse(readFileSync(fixture('ddr', 'labels.json'), 'utf8')) as Labels;
const metrics = JSON.parse(readFileSync(fixture('ddr', 'metrics.json'), 'utf8')) as {
  results: Record<Net, Record<LayerKey, Record<'pooled' | 'full', KindResult>>>;
};
const fullStats = JSON.parse(readFileSync(fixture('ddr', 'full_stats.json'), 'utf8')) as {
  stats: Record<string, { l2_norm: number[]; max_abs: number[] }>;
};
const N = labels.samples.length;
const labelOf = (key: 'degradation' | 'content' | 'crop') => labels.samples.map((s) => s[key]);

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** The reference's PCA projections are Fortran-order float32 .npy (sklearn's output): read to row-major. */
function readProjection(file: string): { data: Float32Array; shape: number[] } {
  const bytes = readFileSync(file);
  const headerLen = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLen).toString('latin1');
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header)!.slice(1).map(Number);
  expect(header).toContain("'descr': '<f4'");
  const raw = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 10 + headerLen, bytes.byteOffset + bytes.length));
  if (!header.includes("'fortran_order': True")) return { data: raw, shape };
  const [n, m] = shape;
  const data = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) data[i * m + j] = raw[j * n + i];
  return { data, shape };
}

/** The first k columns of an n x m row-major array, as an n x k float64 array. */
function columns(data: ArrayLike<number>, n: number, m: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[i * k + j] = data[i * m + j];
  return out;
}

function expectIndices(p: Points, ref: ByLabel, tol: number): void {
  for (const key of ['degradation', 'content', 'crop'] as const) {
    expect(rel(calinskiHarabasz(p, labelOf(key)), ref[key].calinski_harabasz), `${key} CH`).toBeLessThan(tol);
    const s = silhouette(p, labelOf(key));
    expect(rel(s.overall, ref[key].silhouette), `${key} silhouette`).toBeLessThan(tol);
    for (const [cls, v] of Object.entries(ref[key].silhouette_per_class ?? {})) {
      expect(rel(s.perClass[cls], v), `${key} silhouette of ${cls}`).toBeLessThan(tol);
    }
  }
}

const models = {} as Record<Net, LoadedModel>;
const ours = {} as Record<Net, { pooled: LayerFeatures[]; full: LayerFeatures[] }>;

beforeAll(async () => {
  const inputs = labels.samples.map((s) => readImage(fixture('ddr', s.file)));
  for (const net of Object.keys(NETS) as Net[]) {
    models[net] = await loadOnnxFile(fixture('models', NETS[net]));
    const layers = Object.values(LAYERS);
    ours[net] = {
      pooled: await extractFeatures(models[net], inputs, { layers, pool: 'mean', device: 'cpu', threads: 1 }),
      full: await extractFeatures(models[net], inputs, { layers, pool: 'none', device: 'cpu', threads: 1 }),
    };
  }
}, 120_000);

describe('DDR reference (MSRResNet x2 pair, 48 inputs)', () => {
  for (const net of Object.keys(NETS) as Net[]) {
    for (const layer of Object.keys(LAYERS) as LayerKey[]) {
      const li = Object.keys(LAYERS).indexOf(layer);

      it(`${net} ${layer}: pooled features within 1e-5 relative`, () => {
        const ref = readNpy(fixture('ddr', `features_${net}_${layer}_pooled.npy`));
        const f = ours[net].pooled[li];
        expect(f.shape).toEqual([32, 32, 32]);
        expect(ref.shape).toEqual([N, f.dim]);
        expect(relDiff(f.data, ref.data)).toBeLessThan(1e-5);
      });

      it(`${net} ${layer}: full maps match the per-sample norms and maxima within 1e-5`, () => {
        const f = ours[net].full[li];
        expect(f.dim).toBe(32 * 32 * 32);
        const stats = fullStats.stats[`${net}_${layer}`];
        const norms: number[] = [];
        const maxima: number[] = [];
        for (let i = 0; i < N; i++) {
          const row = f.data.subarray(i * f.dim, (i + 1) * f.dim);
          let s = 0;
          let m = 0;
          for (const v of row) {
            s += v * v;
            m = Math.max(m, Math.abs(v));
          }
          norms.push(Math.sqrt(s));
          maxima.push(m);
        }
        expect(relDiff(norms, stats.l2_norm)).toBeLessThan(1e-5);
        expect(relDiff(maxima, stats.max_abs)).toBeLessThan(1e-5);
      });

      it(`${net} ${layer} pooled: indices on the reference features within 1e-6, PCA within 1e-6`, () => {
        const ref = readNpy(fixture('ddr', `features_${net}_${layer}_pooled.npy`));
        const r = metrics.results[net][layer].pooled;
        const raw: Points = { data: Float64Array.from(ref.data), n: N, d: 32 };
        expectIndices(raw, r.raw, 1e-6);
        const p = pca(ref.data, N, 32, 32);
        expect(p.route).toBe('covariance');
        p.explainedVarianceRatio.forEach((v, i) => expect(Math.abs(v - r.explained_variance_ratio[i])).toBeLessThan(1e-6));
        expectIndices({ data: columns(p.scores, N, 32, 2), n: N, d: 2 }, r.pca2, 1e-6);
        // Leading components: sklearn's svd_flip signs, so no sign freedom left.
        const proj = readProjection(fixture('ddr', `pca_${net}_${layer}_pooled.npy`));
        expect(relDiff(columns(p.scores, N, 32, 2), columns(proj.data, N, 32, 2))).toBeLessThan(1e-5);
      });

      it(`${net} ${layer} full (32,768 wide, Gram route): indices and PCA from lvi's features`, () => {
        const f = ours[net].full[li];
        const r = metrics.results[net][layer].full;
        // Independently computed features: the README allows 1e-5 relative for the indices.
        expectIndices({ data: f.data, n: N, d: f.dim }, r.raw, 1e-5);
        const p = pca(f.data, N, f.dim, 47);
        expect(p.route).toBe('gram');
        p.explainedVarianceRatio.forEach((v, i) => expect(Math.abs(v - r.explained_variance_ratio[i])).toBeLessThan(1e-6));
        expectIndices({ data: columns(p.scores, N, 47, 2), n: N, d: 2 }, r.pca2, 1e-5);
        const proj = readProjection(fixture('ddr', `pca_${net}_${layer}_full.npy`));
        expect(relDiff(columns(p.scores, N, 47, 2), columns(proj.data, N, 47, 2))).toBeLessThan(1e-5);
      });
    }
  }
});
