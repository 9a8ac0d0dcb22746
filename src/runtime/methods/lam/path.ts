// LAM's integration paths: the points x_0 (baseline) .. x_K (the input) at which the
// network's gradient is taken. Computed in float64 and stored as float32, as the authors do.

import { filter2d, reflect101 } from '../../image/filter.js';

export type PathKind = 'progressive-blur' | 'linear' | 'blur-linear';

export interface PathSpec {
  kind: PathKind;
  /** K, the number of steps (the authors' `fold`). */
  steps: number;
  /** Gaussian sigma of the baseline blur (progressive-blur, blur-linear). */
  sigma: number;
  /** Side l of the l x l Gaussian kernel. */
  kernel: number;
}

/**
 * The l x l isotropic Gaussian of the authors' `isotropic_gaussian_kernel_np`: coordinates
 * -l//2+1 .. l//2 (Python floor division), exp(-(x^2+y^2) / (2 (sigma + 1e-5)^2)), normalised
 * to sum 1. Row-major, float64. Sigma 0 gives a delta (the other taps underflow to 0).
 */
export function gaussianKernel(l: number, sigma: number): Float64Array {
  if (!Number.isInteger(l) || l < 1) throw new Error(`gaussian kernel size must be a positive integer, got ${l}`);
  if (!(sigma >= 0)) throw new Error(`gaussian sigma must be >= 0, got ${sigma}`);
  const first = Math.floor(-l / 2) + 1;
  const s = 2 * (sigma + 1e-5) ** 2;
  const k = new Float64Array(l * l);
  let sum = 0;
  for (let i = 0; i < l; i++) {
    for (let j = 0; j < l; j++) {
      const yy = first + i;
      const xx = first + j;
      const v = Math.exp(-(xx * xx + yy * yy) / s);
      k[i * l + j] = v;
      sum += v;
    }
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

export { filter2d, reflect101 };

/** np.linspace(sigma, 0, steps + 1)[k]: the blur of path point k. */
export function pathSigma(sigma: number, steps: number, k: number): number {
  if (k === steps) return 0;
  return sigma + k * ((0 - sigma) / steps);
}

export interface PathPoints {
  steps: number;
  /** Points x_0 .. x_K, each CHW float32 (x_K equals the input exactly). */
  points: Float32Array[];
  /** x_k - x_{k-1} for k = 1..K (index k-1), float32, computed in float64 before rounding. */
  deltas: Float32Array[];
}

/**
 * The path points for an image (CHW, 0..1). progressive-blur: x_k = G(sigma_k) * x with
 * sigma_k = sigma (1 - k/K); linear: x_k = (k/K) x from black; blur-linear: the straight line
 * from the sigma-blurred image to the input.
 */
export function pathPoints(image: Float32Array, channels: number, height: number, width: number, spec: PathSpec): PathPoints {
  const { kind, steps, sigma, kernel } = spec;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  if (image.length !== channels * height * width) {
    throw new Error(`path: ${image.length} values for a ${channels}x${height}x${width} image`);
  }
  let point: (k: number) => Float64Array;
  if (kind === 'progressive-blur') {
    point = (k) =>
      k === steps ? Float64Array.from(image) : filter2d(image, channels, height, width, gaussianKernel(kernel, pathSigma(sigma, steps, k)), kernel);
  } else if (kind === 'linear') {
    point = (k) => (k === steps ? Float64Array.from(image) : Float64Array.from(image, (v) => (k / steps) * v));
  } else if (kind === 'blur-linear') {
    const base = filter2d(image, channels, height, width, gaussianKernel(kernel, sigma), kernel);
    point = (k) => (k === steps ? Float64Array.from(image) : base.map((b, i) => b + (k / steps) * (image[i] - b)));
  } else {
    throw new Error(`unknown path '${kind as string}' (progressive-blur, linear or blur-linear)`);
  }
  // Only two float64 points live at a time: large images stay affordable.
  const points: Float32Array[] = [];
  const deltas: Float32Array[] = [];
  let prev = point(0);
  points.push(Float32Array.from(prev));
  for (let k = 1; k <= steps; k++) {
    const cur = point(k);
    points.push(Float32Array.from(cur));
    deltas.push(Float32Array.from(cur, (v, i) => v - prev[i]));
    prev = cur;
  }
  return { steps, points, deltas };
}
