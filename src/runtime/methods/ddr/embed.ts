// Projections of feature rows: exact PCA (src/runtime/linalg/pca.ts), seeded t-SNE and UMAP.
// t-SNE is DruidJS 0.9's (exact gradient, Karpathy's tsnejs schedule: early exaggeration 4
// for 100 iterations, momentum 0.5 then 0.8, learning rate 10), seeded through its own
// random generator, so one seed gives the same coordinates on every run. As in the DDR
// reference (and scikit-learn practice), rows wider than 50 values are first reduced by exact
// PCA to min(50, N - 1) components.

import { TSNE, UMAP } from '@saehrimnir/druidjs';
import { pca, type PcaResult } from '../../linalg/pca.js';

export interface Rows {
  data: Float32Array | Float64Array;
  n: number;
  d: number;
}

export class EmbedError extends Error {
  override name = 'EmbedError';
}

export interface PcaEmbedding extends PcaResult {
  /** n x k coordinates, row-major. */
  coords: Float64Array;
  dims: number;
}

export function embedPca(rows: Rows, components: number): PcaEmbedding {
  const most = Math.min(rows.n, rows.d);
  if (components > most) {
    throw new EmbedError(
      `embed method=pca components=${components}: there are ${rows.n} samples of ${rows.d} values, so at most ${most} components ` +
        `(use components=${most} or fewer, or more samples)`,
    );
  }
  const r = pca(rows.data, rows.n, rows.d, components);
  return { ...r, coords: r.scores, dims: r.k };
}

export interface TsneOptions {
  perplexity: number;
  seed: number;
  iterations: number;
  dims?: number;
}

/**
 * Perplexity must stay below this for n samples: a point's neighbour distribution over the
 * n - 1 others has at most perplexity n - 1 (scikit-learn refuses perplexity >= n).
 */
export function perplexityLimit(n: number): number {
  return n - 1;
}

export interface UmapOptions {
  neighbors: number;
  minDist: number;
  seed: number;
  iterations: number;
}

/** Rows as Float64Array per sample, PCA-reduced to 50 first when wider (as for t-SNE). */
function prepared(rows: Rows): { X: Float64Array[]; pcaComponents?: number } {
  let input: Rows = rows;
  let pcaComponents: number | undefined;
  if (rows.d > 50) {
    pcaComponents = Math.min(50, rows.n - 1);
    input = { data: pca(rows.data, rows.n, rows.d, pcaComponents).scores, n: rows.n, d: pcaComponents };
  }
  const X: Float64Array[] = [];
  for (let i = 0; i < input.n; i++) X.push(Float64Array.from(input.data.subarray(i * input.d, (i + 1) * input.d)));
  return { X, pcaComponents };
}

function collect(y: Float64Array[] | number[][], n: number, dims: number, what: string): Float64Array {
  const coords = new Float64Array(n * dims);
  for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) coords[i * dims + j] = y[i][j];
  if (!coords.every(Number.isFinite)) throw new EmbedError(`${what} diverged (non-finite coordinates)`);
  return coords;
}

/** UMAP (DruidJS 0.9), seeded; the same PCA pre-reduction as t-SNE. */
export function embedUmap(rows: Rows, o: UmapOptions): { coords: Float64Array; dims: number; pcaComponents?: number } {
  if (rows.n < 4) throw new EmbedError(`UMAP needs at least 4 samples, got ${rows.n}`);
  if (o.neighbors >= rows.n) {
    throw new EmbedError(`UMAP neighbors=${o.neighbors} needs more samples: with ${rows.n} it must be below ${rows.n}`);
  }
  const { X, pcaComponents } = prepared(rows);
  const u = new UMAP(X, { n_neighbors: o.neighbors, min_dist: o.minDist, seed: o.seed, d: 2 });
  const coords = collect(u.transform(o.iterations) as Float64Array[] | number[][], rows.n, 2, 'UMAP');
  return { coords, dims: 2, pcaComponents };
}

export function embedTsne(rows: Rows, o: TsneOptions): { coords: Float64Array; dims: number; pcaComponents?: number } {
  const dims = o.dims ?? 2;
  if (rows.n < 4) throw new EmbedError(`t-SNE needs at least 4 samples, got ${rows.n}`);
  if (!(o.perplexity > 0) || o.perplexity >= perplexityLimit(rows.n)) {
    throw new EmbedError(
      `t-SNE perplexity ${o.perplexity} needs more samples: with ${rows.n} it must be below N - 1 = ${perplexityLimit(rows.n)} ` +
        `(it is about the number of neighbours each point keeps; N > 3 x perplexity is the usual advice)`,
    );
  }
  const { X, pcaComponents } = prepared(rows);
  const t = new TSNE(X, { perplexity: o.perplexity, seed: o.seed, d: dims });
  const coords = collect(t.transform(o.iterations) as Float64Array[] | number[][], rows.n, dims, 't-SNE');
  return { coords, dims, pcaComponents };
}
