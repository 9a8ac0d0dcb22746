import { describe, expect, it } from 'vitest';
import { filter2d, gaussianKernel, pathPoints, pathSigma, reflect101 } from '../../../src/runtime/methods/lam/path.js';

describe('gaussianKernel (the authors\' isotropic_gaussian_kernel_np)', () => {
  it('is normalised, symmetric, and follows exp(-(x^2+y^2) / (2 (sigma+1e-5)^2))', () => {
    const k = gaussianKernel(9, 1.2);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    const s = 2 * (1.2 + 1e-5) ** 2;
    // centre (offset 0,0) at row 4, col 4; offset (x=2, y=-1) at row 3, col 6
    expect(k[3 * 9 + 6] / k[4 * 9 + 4]).toBeCloseTo(Math.exp(-(4 + 1) / s), 14);
    for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) expect(k[i * 9 + j]).toBe(k[j * 9 + i]);
  });

  it('has offsets -l//2+1 .. l//2 for even sizes (Python floor division)', () => {
    // l = 4: offsets -1, 0, 1, 2, so the largest weight sits at index 1 and index 0 equals index 2
    const k = gaussianKernel(4, 1);
    expect(k[1 * 4 + 1]).toBeGreaterThan(k[0]);
    expect(k[0 * 4 + 1]).toBeCloseTo(k[2 * 4 + 1], 15);
  });

  it('is a delta at sigma 0', () => {
    const k = gaussianKernel(9, 0);
    expect(k[40]).toBe(1);
    expect(k.reduce((a, b) => a + b, 0)).toBe(1);
  });
});

describe('filter2d (cv2.filter2D: correlation, reflect-101 borders)', () => {
  it('reflects without repeating the edge pixel', () => {
    // reflect-101 of indices -3..6 on n=4: 3 2 1 | 0 1 2 3 | 2 1 0
    expect([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6].map((i) => reflect101(i, 4))).toEqual([3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
    expect(reflect101(-5, 1)).toBe(0);
  });

  it('correlates (no kernel flip) with the anchor at the centre', () => {
    // A kernel that picks the right-hand neighbour: out[x] = in[x+1], border reflected: in[3] -> in[2].
    const k = new Float64Array(9);
    k[1 * 3 + 2] = 1;
    const img = Float32Array.from([1, 2, 3, 4]);
    expect(Array.from(filter2d(img, 1, 1, 4, k, 3))).toEqual([2, 3, 4, 3]);
    // ... and the upper neighbour on a column: out[y] = in[y-1], in[-1] -> in[1]
    const up = new Float64Array(9);
    up[0 * 3 + 1] = 1;
    expect(Array.from(filter2d(img, 1, 4, 1, up, 3))).toEqual([2, 1, 2, 3]);
  });

  it('equals a direct 2-D sum with explicitly mirrored padding on a random image', () => {
    const h = 7;
    const w = 5;
    const img = Float32Array.from({ length: 2 * h * w }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
    const k = gaussianKernel(9, 1.7); // wider than the image: reflection folds more than once
    const got = filter2d(img, 2, h, w, k, 9);
    // mirror by walking back and forth along the axis
    const mirror = (i: number, n: number) => {
      let p = i;
      for (;;) {
        if (p < 0) p = -p;
        else if (p > n - 1) p = 2 * (n - 1) - p;
        else return p;
      }
    };
    for (let c = 0; c < 2; c++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let s = 0;
          for (let i = -4; i <= 4; i++) for (let j = -4; j <= 4; j++) s += k[(i + 4) * 9 + j + 4] * img[c * h * w + mirror(y + i, h) * w + mirror(x + j, w)];
          expect(got[c * h * w + y * w + x]).toBeCloseTo(s, 13);
        }
      }
    }
  });
});

describe('pathPoints', () => {
  const h = 6;
  const w = 8;
  const img = Float32Array.from({ length: 3 * h * w }, (_, i) => ((i * 37) % 101) / 100);

  it('progressive-blur: sigma_k = np.linspace(sigma, 0, K+1), x_K is the input exactly', () => {
    expect(pathSigma(1.2, 50, 0)).toBe(1.2);
    expect(pathSigma(1.2, 50, 25)).toBeCloseTo(0.6, 15);
    expect(pathSigma(1.2, 50, 50)).toBe(0);
    const p = pathPoints(img, 3, h, w, { kind: 'progressive-blur', steps: 10, sigma: 1.2, kernel: 9 });
    expect(p.points).toHaveLength(11);
    expect(p.deltas).toHaveLength(10);
    expect(Array.from(p.points[10])).toEqual(Array.from(img));
    const x0 = filter2d(img, 3, h, w, gaussianKernel(9, 1.2), 9);
    for (let i = 0; i < img.length; i++) expect(p.points[0][i]).toBe(Math.fround(x0[i]));
    // telescoping: the deltas add up to x_K - x_0
    for (let i = 0; i < img.length; i += 7) {
      let s = 0;
      for (const d of p.deltas) s += d[i];
      expect(s).toBeCloseTo(img[i] - x0[i], 6);
    }
  });

  it('linear: from black in equal steps; blur-linear: straight from the blurred image', () => {
    const lin = pathPoints(img, 3, h, w, { kind: 'linear', steps: 4, sigma: 1.2, kernel: 9 });
    expect(lin.points[0].every((v) => v === 0)).toBe(true);
    expect(lin.points[2][5]).toBe(Math.fround(0.5 * img[5]));
    expect(lin.deltas[3][5]).toBeCloseTo(img[5] / 4, 7);
    const bl = pathPoints(img, 3, h, w, { kind: 'blur-linear', steps: 4, sigma: 1.2, kernel: 9 });
    const x0 = filter2d(img, 3, h, w, gaussianKernel(9, 1.2), 9);
    expect(bl.points[0][9]).toBe(Math.fround(x0[9]));
    expect(bl.points[1][9]).toBeCloseTo(x0[9] + 0.25 * (img[9] - x0[9]), 7);
    expect(Array.from(bl.points[4])).toEqual(Array.from(img));
    expect(() => pathPoints(img, 3, h, w, { kind: 'zigzag' as 'linear', steps: 4, sigma: 1, kernel: 9 })).toThrow(/unknown path 'zigzag'/);
    expect(() => pathPoints(img, 3, h, w, { kind: 'linear', steps: 0, sigma: 1, kernel: 9 })).toThrow(/steps must be a positive integer/);
  });
});
