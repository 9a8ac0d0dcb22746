// Cluster-separation indices of labelled points, in float64, as scikit-learn defines them:
// Calinski-Harabasz, silhouette (Euclidean; overall and per class) and Davies-Bouldin.
// Distances are summed directly (sklearn uses |x|^2 - 2xy + |y|^2, which loses digits when
// points are close relative to their norms; the two agree far inside 1e-6 on real features).

export class ClusterError extends Error {
  override name = 'ClusterError';
}

export interface Points {
  /** n x d row-major. */
  data: Float32Array | Float64Array;
  n: number;
  d: number;
}

/** Labels as class indices 0..k-1 in order of first appearance, with the class names. */
export function encodeLabels(labels: readonly string[]): { index: Int32Array; classes: string[] } {
  const classes: string[] = [];
  const at = new Map<string, number>();
  const index = new Int32Array(labels.length);
  labels.forEach((l, i) => {
    let c = at.get(l);
    if (c === undefined) {
      c = classes.length;
      classes.push(l);
      at.set(l, c);
    }
    index[i] = c;
  });
  return { index, classes };
}

function check(p: Points, labels: readonly string[], what: string): { index: Int32Array; classes: string[] } {
  if (labels.length !== p.n) throw new ClusterError(`${what}: ${labels.length} labels for ${p.n} samples`);
  const enc = encodeLabels(labels);
  const k = enc.classes.length;
  if (k < 2) {
    throw new ClusterError(`${what} needs at least 2 classes, but every sample has the label '${enc.classes[0] ?? ''}' (one class only)`);
  }
  if (k > p.n - 1) throw new ClusterError(`${what} needs fewer classes than samples minus one: ${k} classes for ${p.n} samples`);
  return enc;
}

function centroids(p: Points, index: Int32Array, k: number): { c: Float64Array; count: Float64Array } {
  const c = new Float64Array(k * p.d);
  const count = new Float64Array(k);
  for (let i = 0; i < p.n; i++) {
    const l = index[i];
    count[l]++;
    for (let j = 0; j < p.d; j++) c[l * p.d + j] += p.data[i * p.d + j];
  }
  for (let l = 0; l < k; l++) for (let j = 0; j < p.d; j++) c[l * p.d + j] /= count[l];
  return { c, count };
}

/** (tr(B) / (k - 1)) / (tr(W) / (n - k)); 1 when tr(W) is 0 (sklearn's convention). */
export function calinskiHarabasz(p: Points, labels: readonly string[]): number {
  const { index, classes } = check(p, labels, 'Calinski-Harabasz');
  const k = classes.length;
  const { c, count } = centroids(p, index, k);
  const mean = new Float64Array(p.d);
  for (let i = 0; i < p.n; i++) for (let j = 0; j < p.d; j++) mean[j] += p.data[i * p.d + j];
  for (let j = 0; j < p.d; j++) mean[j] /= p.n;
  let extra = 0;
  let intra = 0;
  for (let l = 0; l < k; l++) {
    let s = 0;
    for (let j = 0; j < p.d; j++) s += (c[l * p.d + j] - mean[j]) ** 2;
    extra += count[l] * s;
  }
  for (let i = 0; i < p.n; i++) {
    const l = index[i];
    for (let j = 0; j < p.d; j++) intra += (p.data[i * p.d + j] - c[l * p.d + j]) ** 2;
  }
  return intra === 0 ? 1 : (extra * (p.n - k)) / (intra * (k - 1));
}

export interface Silhouette {
  /** Mean of the per-sample values. */
  overall: number;
  /** Mean per class (by label). */
  perClass: Record<string, number>;
  /** One value per sample. */
  samples: Float64Array;
}

/** Silhouette with Euclidean distances; 0 for samples alone in their class (sklearn). */
export function silhouette(p: Points, labels: readonly string[]): Silhouette {
  const { index, classes } = check(p, labels, 'the silhouette');
  const k = classes.length;
  const n = p.n;
  const sums = new Float64Array(n * k); // per sample: summed distance to each class
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let t = 0; t < p.d; t++) {
        const v = p.data[i * p.d + t] - p.data[j * p.d + t];
        s += v * v;
      }
      const dist = Math.sqrt(s);
      sums[i * k + index[j]] += dist;
      sums[j * k + index[i]] += dist;
    }
  }
  const count = new Float64Array(k);
  for (let i = 0; i < n; i++) count[index[i]]++;
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const own = index[i];
    if (count[own] <= 1) continue;
    const a = sums[i * k + own] / (count[own] - 1);
    let b = Infinity;
    for (let l = 0; l < k; l++) if (l !== own) b = Math.min(b, sums[i * k + l] / count[l]);
    const m = Math.max(a, b);
    samples[i] = m > 0 ? (b - a) / m : 0;
  }
  const perClass: Record<string, number> = {};
  classes.forEach((name, l) => {
    let s = 0;
    for (let i = 0; i < n; i++) if (index[i] === l) s += samples[i];
    perClass[name] = s / count[l];
  });
  return { overall: samples.reduce((a, v) => a + v, 0) / n, perClass, samples };
}

/** Mean over classes of the largest (s_i + s_j) / d(c_i, c_j); s = mean distance to the centroid. */
export function daviesBouldin(p: Points, labels: readonly string[]): number {
  const { index, classes } = check(p, labels, 'Davies-Bouldin');
  const k = classes.length;
  const { c, count } = centroids(p, index, k);
  const spread = new Float64Array(k);
  for (let i = 0; i < p.n; i++) {
    const l = index[i];
    let s = 0;
    for (let j = 0; j < p.d; j++) s += (p.data[i * p.d + j] - c[l * p.d + j]) ** 2;
    spread[l] += Math.sqrt(s);
  }
  for (let l = 0; l < k; l++) spread[l] /= count[l];
  let total = 0;
  let allSpreadZero = true;
  let allCentresSame = true;
  for (let a = 0; a < k; a++) {
    if (spread[a] !== 0) allSpreadZero = false;
    let worst = 0;
    for (let b = 0; b < k; b++) {
      if (a === b) continue;
      let s = 0;
      for (let j = 0; j < p.d; j++) s += (c[a * p.d + j] - c[b * p.d + j]) ** 2;
      const dist = Math.sqrt(s);
      if (dist !== 0) allCentresSame = false;
      // sklearn: a zero centroid distance gives inf, which it then sets to 0.
      const r = dist === 0 ? 0 : (spread[a] + spread[b]) / dist;
      if (r > worst) worst = r;
    }
    total += worst;
  }
  if (allSpreadZero || allCentresSame) return 0;
  return total / k;
}

/**
 * Trustworthiness of an embedding (Venna & Kaski; sklearn.manifold.trustworthiness): how much
 * its k nearest neighbours are also near in the input. 1 is perfect.
 */
export function trustworthiness(input: Points, embedded: Points, neighbours: number): number {
  const n = input.n;
  if (embedded.n !== n) throw new ClusterError(`trustworthiness: ${embedded.n} embedded points for ${n} inputs`);
  if (neighbours >= n / 2) throw new ClusterError(`trustworthiness: neighbours must be below n/2 = ${n / 2}, got ${neighbours}`);
  const dist = (p: Points, i: number, j: number) => {
    let s = 0;
    for (let t = 0; t < p.d; t++) s += (p.data[i * p.d + t] - p.data[j * p.d + t]) ** 2;
    return s;
  };
  let t = 0;
  const rank = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const others = [...Array(n).keys()].filter((j) => j !== i);
    const byInput = [...others].sort((a, b) => dist(input, i, a) - dist(input, i, b) || a - b);
    byInput.forEach((j, r) => (rank[j] = r + 1));
    const byEmbed = [...others].sort((a, b) => dist(embedded, i, a) - dist(embedded, i, b) || a - b);
    for (let q = 0; q < neighbours; q++) t += Math.max(0, rank[byEmbed[q]] - neighbours);
  }
  return 1 - (2 / (n * neighbours * (2 * n - 3 * neighbours - 1))) * t;
}
