import { describe, expect, it } from 'vitest';
import { diffusionIndex, gini, psnr } from '../../../src/runtime/metrics/index.js';

describe('gini (LAM\'s formula: +1e-7, sorted, sum (2i-n-1) v_i / (n sum v))', () => {
  it('is 0 for a flat vector', () => {
    expect(gini([3, 3, 3, 3])).toBeCloseTo(0, 15);
  });

  it('matches hand-computed values', () => {
    // [0,0,0,1]: v = [e,e,e,1+e], e = 1e-7; weighted sum = -3e + -1e + 1e + 3(1+e) = 3
    // (with e terms cancelling: (-3 -1 +1) e + 3 e = 0), so G = 3 / (4 (1 + 4e)).
    expect(gini([0, 1, 0, 0])).toBeCloseTo(3 / (4 * (1 + 4e-7)), 14);
    // [1,2,3,4]: sum (2i-5) v_i = -3 -2 +3 +12 = 10 (+ e terms summing to 0); G = 10 / (4 * (10 + 4e))
    expect(gini([4, 1, 3, 2])).toBeCloseTo(10 / (4 * (10 + 4e-7)), 14);
  });

  it('approaches the textbook values of known distributions', () => {
    // Uniform on [0,1]: Gini 1/3. Exponential: 1/2. Deterministic quantiles, n = 100000.
    const n = 100000;
    const uniform = Array.from({ length: n }, (_, i) => (i + 0.5) / n);
    expect(gini(uniform)).toBeCloseTo(1 / 3, 4);
    const exponential = Array.from({ length: n }, (_, i) => -Math.log(1 - (i + 0.5) / n));
    expect(gini(exponential)).toBeCloseTo(1 / 2, 3);
  });

  it('shifts negative values up as LAM\'s code does', () => {
    expect(gini([-1, 0, 1])).toBeCloseTo(gini([0, 1, 2]), 15);
  });

  it('DI = (1 - G) * 100', () => {
    const { di, gini: g } = diffusionIndex([0, 1, 0, 0]);
    expect(di).toBeCloseTo((1 - g) * 100, 12);
    expect(di).toBeCloseTo(25, 4);
    expect(() => gini([])).toThrow(/empty/);
    expect(() => gini([1, NaN])).toThrow(/NaN at index 1/);
  });
});

describe('psnr (0..255 convention)', () => {
  it('matches 10 log10(255^2 / mse) on 8-bit levels', () => {
    // one level off in one of four values: mse = 1/4
    const a = [0, 10 / 255, 20 / 255, 1];
    const b = [0, 11 / 255, 20 / 255, 1];
    expect(psnr(a, b)).toBeCloseTo(10 * Math.log10((255 * 255) / 0.25), 10);
    expect(psnr(a, a)).toBe(Infinity);
    // values outside 0..1 are clamped first
    expect(psnr([1.7, -0.2], [1, 0])).toBe(Infinity);
    expect(() => psnr([1], [1, 2])).toThrow(/1 values against 2/);
  });
});
