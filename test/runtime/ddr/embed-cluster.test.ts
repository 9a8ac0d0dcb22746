// Contracts of DDR's projections and indices beyond the reference case: the Gram route of PCA
// against an SVD, t-SNE (seeded reruns identical, neighbourhoods kept, separated sets
// separated), Davies-Bouldin from its formula, and the bad-input messages.
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../../src/runtime/image/index.js';
import { pca } from '../../../src/runtime/linalg/pca.js';
import { embedPca, embedTsne, embedUmap } from '../../../src/runtime/methods/ddr/embed.js';
import { calinskiHarabasz, daviesBouldin, silhouette, trustworthiness } from '../../../src/runtime/stats/cluster.js';
import { fixture } from '../../helpers/paths.js';
import { gauss, rng } from '../../helpers/tensors.js';

/** k blobs of m points in d dimensions, centres `spread` apart, unit noise. */
function blobs(k: number, m: number, d: number, spread: number, seed: number): { data: Float64Array; n: number; d: number; labels: string[] } {
  const r = rng(seed);
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => spread * gauss(r)));
  const data = new Float64Array(k * m * d);
  const labels: string[] = [];
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < m; i++) {
      const row = c * m + i;
      for (let j = 0; j < d; j++) data[row * d + j] = centres[c][j] + gauss(r);
      labels.push(`class${c}`);
    }
  }
  return { data, n: k * m, d, labels };
}

describe('PCA', () => {
  it('the Gram route (D > N) gives the SVD scores, variance ratios and sklearn signs', () => {
    const n = 30;
    const d = 200;
    const r = rng(7);
    const data = new Float32Array(n * d).map(() => gauss(r) * 3 + 1);
    const got = pca(data, n, d, 10);
    expect(got.route).toBe('gram');
    // Independent: ml-matrix's SVD of the centred data, with svd_flip (u-based) applied here.
    const x = new Matrix(n, d);
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += data[i * d + j];
      m /= n;
      for (let i = 0; i < n; i++) x.set(i, j, data[i * d + j] - m);
    }
    const svd = new SingularValueDecomposition(x, { autoTranspose: true });
    const s = svd.diagonal;
    const total = s.reduce((a, v) => a + v * v, 0);
    for (let q = 0; q < 10; q++) {
      const col = svd.leftSingularVectors.getColumn(q).map((u) => u * s[q]);
      let at = 0;
      col.forEach((v, i) => (Math.abs(v) > Math.abs(col[at]) ? (at = i) : 0));
      const sign = Math.sign(col[at]);
      for (let i = 0; i < n; i++) expect(got.scores[i * 10 + q]).toBeCloseTo(sign * col[i], 9);
      expect(got.explainedVarianceRatio[q]).toBeCloseTo((s[q] * s[q]) / total, 12);
      expect(got.explainedVariance[q]).toBeCloseTo((s[q] * s[q]) / (n - 1), 9);
    }
  });

  it('both routes agree where both apply', () => {
    const n = 40;
    const d = 40;
    const r = rng(3);
    const data = new Float64Array(n * d).map(() => gauss(r));
    const a = pca(data, n, d, 5); // covariance (d <= n)
    // The same data with one zero column appended is wider than tall: Gram route.
    const wide = new Float64Array(n * (d + 1));
    for (let i = 0; i < n; i++) wide.set(data.subarray(i * d, (i + 1) * d), i * (d + 1));
    const b = pca(wide, n, d + 1, 5);
    expect([a.route, b.route]).toEqual(['covariance', 'gram']);
    for (let i = 0; i < a.scores.length; i++) expect(b.scores[i]).toBeCloseTo(a.scores[i], 9);
  });

  it('says how many components the samples allow', () => {
    expect(() => embedPca({ data: new Float64Array(10 * 4), n: 10, d: 4 }, 5)).toThrow(/10 samples of 4 values, so at most 4 components/);
    expect(() => embedPca({ data: new Float64Array(3 * 100), n: 3, d: 100 }, 50)).toThrow(/at most 3 components/);
    expect(() => pca(new Float64Array(100), 1, 100, 1)).toThrow(/at least 2 samples/);
  });
});

describe('t-SNE (DruidJS, seeded)', () => {
  const ref = readNpy(fixture('ddr', 'features_target_body_pooled.npy'));
  const rows = { data: ref.data, n: 48, d: 32 };

  it('reruns with one seed give identical coordinates; another seed gives others', () => {
    const a = embedTsne(rows, { perplexity: 10, seed: 0, iterations: 300 });
    const b = embedTsne(rows, { perplexity: 10, seed: 0, iterations: 300 });
    const c = embedTsne(rows, { perplexity: 10, seed: 1, iterations: 300 });
    expect(Array.from(a.coords)).toEqual(Array.from(b.coords));
    expect(Array.from(a.coords)).not.toEqual(Array.from(c.coords));
  });

  it('keeps neighbourhoods: trustworthiness (k = 5) above 0.95 on the reference features', () => {
    for (const net of ['baseline', 'target']) {
      const f = readNpy(fixture('ddr', `features_${net}_body_pooled.npy`));
      const p = { data: f.data, n: 48, d: 32 };
      const t = embedTsne(p, { perplexity: 10, seed: 0, iterations: 1000 });
      expect(trustworthiness(p, { data: t.coords, n: 48, d: 2 }, 5)).toBeGreaterThan(0.95);
    }
  });

  it('separates clearly separated sets (silhouette > 0.8 in 2-D), and reduces wide rows by PCA first', () => {
    const set = blobs(3, 20, 80, 10, 11);
    const t = embedTsne(set, { perplexity: 10, seed: 0, iterations: 1000 });
    expect(t.pcaComponents).toBe(50);
    const e = { data: t.coords, n: set.n, d: 2 };
    expect(silhouette(e, set.labels).overall).toBeGreaterThan(0.8);
    expect(calinskiHarabasz(e, set.labels)).toBeGreaterThan(100);
    expect(daviesBouldin(e, set.labels)).toBeLessThan(0.5);
  });

  it('refuses a perplexity the samples cannot support', () => {
    expect(() => embedTsne({ data: new Float64Array(12 * 2), n: 12, d: 2 }, { perplexity: 30, seed: 0, iterations: 10 })).toThrow(
      /perplexity 30 needs more samples: with 12 it must be below N - 1 = 11/,
    );
    expect(() => embedTsne({ data: new Float64Array(3 * 2), n: 3, d: 2 }, { perplexity: 1, seed: 0, iterations: 10 })).toThrow(/at least 4 samples/);
  });
});

describe('UMAP (DruidJS, seeded)', () => {
  it('reruns identical, separates separated sets, refuses too many neighbours', () => {
    const set = blobs(3, 20, 80, 10, 11);
    const o = { neighbors: 10, minDist: 0.1, seed: 0, iterations: 300 };
    const a = embedUmap(set, o);
    expect(Array.from(a.coords)).toEqual(Array.from(embedUmap(set, o).coords));
    expect(silhouette({ data: a.coords, n: set.n, d: 2 }, set.labels).overall).toBeGreaterThan(0.8);
    expect(trustworthiness(set, { data: a.coords, n: set.n, d: 2 }, 5)).toBeGreaterThan(0.9);
    expect(() => embedUmap({ data: new Float64Array(10 * 2), n: 10, d: 2 }, { ...o, neighbors: 10 })).toThrow(/neighbors=10 needs more samples: with 10 it must be below 10/);
  });
});

describe('cluster indices', () => {
  it('Davies-Bouldin equals its formula on a small hand-made set', () => {
    // Class a: (0,0), (2,0) -> centre (1,0), spread 1; class b: (10,0), (10,4) -> centre (10,2), spread 2.
    const p = { data: Float64Array.from([0, 0, 2, 0, 10, 0, 10, 4]), n: 4, d: 2 };
    const labels = ['a', 'a', 'b', 'b'];
    // With two classes both maxima are (1 + 2) / |(1,0) - (10,2)|.
    expect(daviesBouldin(p, labels)).toBeCloseTo(3 / Math.hypot(9, 2), 14);
    // CH: tr(B) = 2 (|c_a - m|^2 + |c_b - m|^2), m = (5.5, 1); tr(W) = 1 + 1 + 4 + 4.
    const trB = 2 * ((1 - 5.5) ** 2 + 1 + (10 - 5.5) ** 2 + 1);
    expect(calinskiHarabasz(p, labels)).toBeCloseTo((trB / 1) / (10 / 2), 12);
  });

  it('silhouette per class averages the per-sample values of that class', () => {
    const set = blobs(3, 8, 4, 3, 5);
    const s = silhouette(set, set.labels);
    for (const cls of ['class0', 'class1', 'class2']) {
      const own = set.labels.map((l, i) => (l === cls ? s.samples[i] : NaN)).filter((v) => !Number.isNaN(v));
      expect(s.perClass[cls]).toBeCloseTo(own.reduce((a, v) => a + v, 0) / own.length, 14);
    }
    expect(s.overall).toBeCloseTo(s.samples.reduce((a, v) => a + v, 0) / set.n, 14);
  });

  it('names a label with one class only, and too many classes', () => {
    const p = { data: new Float64Array(8), n: 4, d: 2 };
    expect(() => calinskiHarabasz(p, ['clean', 'clean', 'clean', 'clean'])).toThrow(/every sample has the label 'clean' \(one class only\)/);
    expect(() => silhouette(p, ['a', 'b', 'c', 'd'])).toThrow(/4 classes for 4 samples/);
    expect(() => daviesBouldin(p, ['a', 'b'])).toThrow(/2 labels for 4 samples/);
  });
});

describe('trustworthiness', () => {
  it('is 1 for an embedding that keeps every rank, lower for a shuffled one', () => {
    const set = blobs(2, 15, 3, 4, 2);
    expect(trustworthiness(set, set, 5)).toBeCloseTo(1, 14);
    const r = rng(9);
    const shuffled = new Float64Array(set.n * 2).map(() => r());
    expect(trustworthiness(set, { data: shuffled, n: set.n, d: 2 }, 5)).toBeLessThan(0.8);
  });
});

