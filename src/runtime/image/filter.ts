// Correlation with a square kernel on planar float images, reflect-101 borders: what
// cv2.filter2D computes, used by LAM's blurred baselines and the blur degradation.

/** Reflect-101 index (cv2.BORDER_REFLECT_101: mirror without repeating the edge pixel). */
export function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

/**
 * cv2.filter2D on a CHW float image: correlation (no flip) with an l x l kernel anchored at
 * (l//2, l//2), reflect-101 borders, float64 arithmetic.
 */
export function filter2d(src: ArrayLike<number>, channels: number, height: number, width: number, kernel: Float64Array, l: number): Float64Array {
  const anchor = Math.floor(l / 2);
  const out = new Float64Array(channels * height * width);
  // Precompute reflected column and row indices for every tap.
  const colIdx = new Int32Array(width * l);
  for (let x = 0; x < width; x++) for (let j = 0; j < l; j++) colIdx[x * l + j] = reflect101(x + j - anchor, width);
  const rowIdx = new Int32Array(height * l);
  for (let y = 0; y < height; y++) for (let i = 0; i < l; i++) rowIdx[y * l + i] = reflect101(y + i - anchor, height);
  const plane = height * width;
  for (let c = 0; c < channels; c++) {
    const base = c * plane;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let s = 0;
        for (let i = 0; i < l; i++) {
          const row = base + rowIdx[y * l + i] * width;
          const kr = i * l;
          for (let j = 0; j < l; j++) {
            const w = kernel[kr + j];
            if (w !== 0) s += w * src[row + colIdx[x * l + j]];
          }
        }
        out[base + y * width + x] = s;
      }
    }
  }
  return out;
}
