// Exact PCA of N row vectors (float32 or float64, row-major), in float64.
// D <= N: eigendecomposition of the D x D covariance; D > N: of the N x N Gram matrix of the
// centred rows, which gives the same scores (up to sign) at N^2 D cost and never holds the
// centred data as a dense N x D float64 matrix (it is centred block by block).
// Signs follow scikit-learn 1.2.1's full solver (svd_flip, u-based): in each component the
// score of largest |value| is positive (the first such sample on ties).

import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

export interface PcaResult {
  /** N x k scores, row-major float64. */
  scores: Float64Array;
  n: number;
  k: number;
  /** Variance of each kept component (eigenvalue / (N - 1)). */
  explainedVariance: number[];
  /** explainedVariance / total variance of the data. */
  explainedVarianceRatio: number[];
  /** Which route computed it. */
  route: 'covariance' | 'gram';
}

export class PcaError extends Error {
  override name = 'PcaError';
}

/** Rows per centred block of the Gram route (~32 MB of float64 at D = 32,768). */
const BLOCK_BYTES = 32 * 1024 * 1024;

export function pca(data: Float32Array | Float64Array, n: number, d: number, components: number): PcaResult {
  if (data.length !== n * d) throw new PcaError(`pca: ${data.length} values are not ${n} rows of ${d}`);
  if (n < 2) throw new PcaError(`PCA needs at least 2 samples, got ${n}`);
  const maxK = Math.min(n, d);
  if (!Number.isInteger(components) || components < 1) throw new PcaError(`components must be a whole number >= 1, got ${components}`);
  if (components > maxK) {
    throw new PcaError(`PCA to ${components} components needs at least ${components} samples and dimensions; there are ${n} samples of ${d} values (at most ${maxK})`);
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const off = i * d;
    for (let j = 0; j < d; j++) mean[j] += data[off + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= n;

  let eigen: { values: number[]; vectors: Matrix };
  let scores: Float64Array;
  const k = components;
  if (d <= n) {
    const c = new Float64Array(n * d);
    for (let i = 0; i < n * d; i++) c[i] = data[i] - mean[i % d];
    const cov = new Matrix(d, d);
    for (let a = 0; a < d; a++) {
      for (let b = a; b < d; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += c[i * d + a] * c[i * d + b];
        cov.set(a, b, s);
        cov.set(b, a, s);
      }
    }
    eigen = sortedEigen(cov);
    scores = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let q = 0; q < k; q++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += c[i * d + j] * eigen.vectors.get(j, q);
        scores[i * k + q] = s;
      }
    }
  } else {
    const gram = gramCentred(data, n, d, mean);
    eigen = sortedEigen(gram);
    scores = new Float64Array(n * k);
    for (let q = 0; q < k; q++) {
      const sv = Math.sqrt(Math.max(eigen.values[q], 0));
      for (let i = 0; i < n; i++) scores[i * k + q] = eigen.vectors.get(i, q) * sv;
    }
  }
  flipSigns(scores, n, k);
  const total = eigen.values.reduce((a, v) => a + Math.max(v, 0), 0);
  const explainedVariance = eigen.values.slice(0, k).map((v) => Math.max(v, 0) / (n - 1));
  const explainedVarianceRatio = eigen.values.slice(0, k).map((v) => (total > 0 ? Math.max(v, 0) / total : 0));
  return { scores, n, k, explainedVariance, explainedVarianceRatio, route: d <= n ? 'covariance' : 'gram' };
}

/** The N x N Gram matrix of the centred rows, float64, with the centring done per row block. */
export function gramCentred(data: Float32Array | Float64Array, n: number, d: number, mean: Float64Array): Matrix {
  const rows = Math.max(1, Math.min(n, Math.floor(BLOCK_BYTES / (8 * d))));
  const g = new Matrix(n, n);
  const centre = (start: number, count: number): Float64Array => {
    const b = new Float64Array(count * d);
    for (let i = 0; i < count; i++) {
      const off = (start + i) * d;
      for (let j = 0; j < d; j++) b[i * d + j] = data[off + j] - mean[j];
    }
    return b;
  };
  for (let a0 = 0; a0 < n; a0 += rows) {
    const na = Math.min(rows, n - a0);
    const A = centre(a0, na);
    for (let b0 = a0; b0 < n; b0 += rows) {
      const nb = Math.min(rows, n - b0);
      const B = b0 === a0 ? A : centre(b0, nb);
      // Two rows of A against two rows of B per pass: each loaded value serves two products.
      const same = b0 === a0;
      for (let i = 0; i < na; i += 2) {
        const i2 = Math.min(i + 1, na - 1);
        for (let j = same ? i : 0; j < nb; j += 2) {
          const j2 = Math.min(j + 1, nb - 1);
          const [s00, s01, s10, s11] = dot2x2(A, i * d, i2 * d, B, j * d, j2 * d, d);
          const put = (r: number, c: number, v: number) => {
            g.set(a0 + r, b0 + c, v);
            g.set(b0 + c, a0 + r, v);
          };
          put(i, j, s00);
          put(i, j2, s01);
          put(i2, j, s10);
          put(i2, j2, s11);
        }
      }
    }
  }
  return g;
}

/** The four dot products of rows a1, a2 with rows b1, b2 (offsets into a and b), length d. */
function dot2x2(a: Float64Array, a1: number, a2: number, b: Float64Array, b1: number, b2: number, d: number): [number, number, number, number] {
  let s00 = 0;
  let s01 = 0;
  let s10 = 0;
  let s11 = 0;
  for (let t = 0; t < d; t++) {
    const x = a[a1 + t];
    const y = a[a2 + t];
    const u = b[b1 + t];
    const v = b[b2 + t];
    s00 += x * u;
    s01 += x * v;
    s10 += y * u;
    s11 += y * v;
  }
  return [s00, s01, s10, s11];
}

function sortedEigen(sym: Matrix): { values: number[]; vectors: Matrix } {
  const e = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
  const values = e.realEigenvalues;
  const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a]);
  const v = e.eigenvectorMatrix;
  const vectors = new Matrix(v.rows, order.length);
  order.forEach((src, dst) => {
    for (let r = 0; r < v.rows; r++) vectors.set(r, dst, v.get(r, src));
  });
  return { values: order.map((i) => values[i]), vectors };
}

/** svd_flip (u-based): each column's entry of largest |value| made positive. */
function flipSigns(scores: Float64Array, n: number, k: number): void {
  for (let q = 0; q < k; q++) {
    let best = 0;
    let at = 0;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(scores[i * k + q]);
      if (a > best) {
        best = a;
        at = i;
      }
    }
    if (scores[at * k + q] < 0) for (let i = 0; i < n; i++) scores[i * k + q] = -scores[i * k + q];
  }
}
