// SRGA (Liu, Zhao, Gu, Qiao, Dong, TPAMI 2023), as the official calculate_SRGA_ref.py computes
// it: per set, PCA of the flattened features (fitted on that set alone), every score pooled
// into one sample, values beyond 5 std of the mean dropped, a zero-mean generalised Gaussian
// fitted by moment matching on the shape grid 0.2:0.001:10, the closed-form KL from the
// reference set's fit to a test set's, SRGA = log10(KL + 1e-5) + 5.
// Where lvi differs on purpose: the PCA is exact (float64, through the N x N Gram matrix when
// the features are wide). The official script calls scikit-learn's PCA, which turns randomized
// on large matrices; signs follow scikit-learn 1.2.1's full solver, on which the value depends.

import { pca } from '../../linalg/pca.js';
import { logGamma } from '../../stats/gamma.js';

export interface GgdFit {
  sigma: number;
  gamma: number;
  /** Values kept after the 5-std cut. */
  kept: number;
  /** Values before the cut. */
  total: number;
}

/** numpy.arange(0.2, 10.0, 0.001), value for value: start + i * ((start + step) - start). */
export function gammaGrid(): Float64Array {
  const start = 0.2;
  const stop = 10.0;
  const step = 0.001;
  const len = Math.ceil((stop - start) / step);
  const delta = start + step - start;
  const g = new Float64Array(len);
  for (let i = 0; i < len; i++) g[i] = start + i * delta;
  return g;
}

let gridRatios: { grid: Float64Array; ratio: Float64Array } | undefined;

/** Γ(1/g) Γ(3/g) / Γ(2/g)^2 on the grid, computed once. */
function ratios(): { grid: Float64Array; ratio: Float64Array } {
  if (!gridRatios) {
    const grid = gammaGrid();
    const ratio = grid.map((g) => Math.exp(logGamma(1 / g) + logGamma(3 / g) - 2 * logGamma(2 / g)));
    gridRatios = { grid, ratio };
  }
  return gridRatios;
}

/** Drop values at or beyond mean ± 5 std (population std of the whole sample). */
export function cutOutliers(x: Float64Array): Float64Array {
  const n = x.length;
  let m = 0;
  for (const v of x) m += v;
  m /= n;
  let s = 0;
  for (const v of x) s += (v - m) ** 2;
  const std = Math.sqrt(s / n);
  return x.filter((v) => v > m - 5 * std && v < m + 5 * std);
}

/** Moment-matching GGD fit of an already cut sample. */
export function fitGgd(x: Float64Array): { sigma: number; gamma: number } {
  const n = x.length;
  if (n === 0) throw new Error('GGD fit of an empty sample');
  let m = 0;
  let sq = 0;
  for (const v of x) {
    m += v;
    sq += v * v;
  }
  m /= n;
  const sigma = Math.sqrt(sq / n);
  let e = 0;
  for (const v of x) e += Math.abs(v - m);
  e /= n;
  const r = (sigma * sigma) / (e * e);
  const { grid, ratio } = ratios();
  let best = 0;
  let bestDiff = Infinity;
  for (let i = 0; i < grid.length; i++) {
    const diff = Math.abs(r - ratio[i]);
    if (diff < bestDiff) {
      bestDiff = diff;
      best = i;
    }
  }
  return { sigma, gamma: grid[best] };
}

/** Closed-form KL(P1 || P2) of two zero-mean GGDs (the official KL_GGD3). */
export function klGgd(sigma1: number, gamma1: number, sigma2: number, gamma2: number): number {
  const lg = logGamma;
  // I1..I4 of the official code, in logs.
  const lI1 = Math.log(gamma1 * sigma2) + lg(1 / gamma2) + 0.5 * (lg(1 / gamma2) + lg(3 / gamma1));
  const lI2 = Math.log(gamma2 * sigma1) + lg(1 / gamma1) + 0.5 * (lg(1 / gamma1) + lg(3 / gamma2));
  const lI3 = Math.log(sigma1) + 0.5 * (lg(1 / gamma1) + lg(3 / gamma2));
  const lI4 = Math.log(sigma2) + 0.5 * (lg(1 / gamma2) + lg(3 / gamma1));
  return lI1 - lI2 - 1 / gamma1 + Math.exp(gamma2 * (lI3 - lI4) + lg((gamma2 + 1) / gamma1) - lg(1 / gamma1));
}

export function srgaValue(kl: number): number {
  return Math.log10(kl + 1e-5) + 5;
}

/** The pooled PCA scores of one set's N x D features (PCA to min(components, N) components). */
export function pooledScores(features: Float32Array | Float64Array, n: number, d: number, components: number): Float64Array {
  return pca(features, n, d, Math.min(components, n, d)).scores;
}

/** GGD fit of one set's features: PCA, pooling, 5-std cut, moment matching. */
export function fitSet(features: Float32Array | Float64Array, n: number, d: number, components = 300): GgdFit {
  const x = pooledScores(features, n, d, components);
  const kept = cutOutliers(x);
  return { ...fitGgd(kept), kept: kept.length, total: x.length };
}

export interface SrgaEntry {
  srga: number;
  kl: number;
  fit: GgdFit;
}

/** SRGA of each test fit against the reference fit. */
export function srga(reference: GgdFit, test: GgdFit): SrgaEntry {
  const kl = klGgd(reference.sigma, reference.gamma, test.sigma, test.gamma);
  return { srga: srgaValue(kl), kl, fit: test };
}
