// Scalar metrics the methods report: the Gini coefficient and LAM's Diffusion Index, PSNR.

/**
 * Gini coefficient as LAM's code computes it: values shifted to be non-negative, 1e-7 added,
 * sorted ascending, G = sum_i (2i - n - 1) v_i / (n sum v), i = 1..n. 0 for a flat map, near 1
 * when one entry holds everything.
 */
export function gini(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) throw new Error('gini: empty input');
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new Error(`gini: value ${v} at index ${i}`);
    if (v < min) min = v;
  }
  const shift = min < 0 ? -min : 0;
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = values[i] + shift + 1e-7;
  v.sort();
  let weighted = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    weighted += (2 * (i + 1) - n - 1) * v[i];
    sum += v[i];
  }
  return weighted / (n * sum);
}

/** LAM's Diffusion Index: (1 - Gini) * 100 of the attribution map. */
export function diffusionIndex(map: ArrayLike<number>): { di: number; gini: number } {
  const g = gini(map);
  return { di: (1 - g) * 100, gini: g };
}

/**
 * PSNR in dB between two images in 0..1, in the 0..255 convention: both clamped and rounded
 * to 8-bit levels, MSE over every channel and pixel (no border shave), peak 255.
 * Identical images give Infinity.
 */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`psnr: ${a.length} values against ${b.length}`);
  if (a.length === 0) throw new Error('psnr: empty input');
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = level(a[i]) - level(b[i]);
    se += d * d;
  }
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

function level(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 1) return 255;
  return Math.round(v * 255);
}
