// The pieces of SRGA on their own: the gamma function, the moment-matching GGD fit on its grid,
// the 5-std cut, and the closed-form KL, each against float64 values from the formulas (and the
// KL against a direct numerical integration of the two densities).
import { describe, expect, it } from 'vitest';
import { cutOutliers, fitGgd, gammaGrid, klGgd, srgaValue } from '../../../src/runtime/methods/ddr/srga.js';
import { gamma, logGamma } from '../../../src/runtime/stats/gamma.js';

describe('gamma function', () => {
  it('matches exact values to 1e-13 relative', () => {
    const cases: [number, number][] = [
      [0.5, Math.sqrt(Math.PI)],
      [1, 1],
      [1.5, Math.sqrt(Math.PI) / 2],
      [5, 24],
      [10, 362880],
      [0.1, 9.513507698668731836], // Γ(1/10)
      [0.25, 3.625609908221908311], // Γ(1/4)
      [30, 8.841761993739701954e30], // 29!
      [55.5, Math.exp(logGamma(55.5))],
    ];
    for (const [x, v] of cases) expect(Math.abs(gamma(x) - v) / v, `Γ(${x})`).toBeLessThan(1e-13);
    // Recurrence Γ(x+1) = x Γ(x) across the reflection boundary and far out.
    for (const x of [0.05, 0.3, 0.49, 0.51, 2.7, 17.3, 40.1]) {
      expect(Math.abs(gamma(x + 1) / (x * gamma(x)) - 1)).toBeLessThan(1e-13);
    }
  });
});

describe('GGD fit (moment matching on numpy.arange(0.2, 10, 0.001))', () => {
  it('has numpy arange\'s 9,800 values', () => {
    const g = gammaGrid();
    expect(g.length).toBe(9800);
    expect(g[0]).toBe(0.2);
    // numpy: start + i * ((start + step) - start), hence 0.5500000000000003 in the reference.
    expect(g[350]).toBe(0.2 + 350 * (0.2 + 0.001 - 0.2));
    expect(g[350]).toBeCloseTo(0.55, 12);
    expect(g[9799]).toBeCloseTo(9.999, 9);
  });

  it('recovers the shape when r = Γ(1/g)Γ(3/g)/Γ(2/g)² is met exactly', () => {
    // Symmetric sample of k pairs ±1 and z zeros: sigma² = E = 2k/n, so r = n / 2k.
    const sample = (k: number, z: number) => Float64Array.from([...Array(k).fill(1), ...Array(k).fill(-1), ...Array(z).fill(0)]);
    // g = 1 (Laplace): r = Γ(1)Γ(3)/Γ(2)² = 2 -> n = 4k.
    let fit = fitGgd(sample(5, 10));
    expect(fit.sigma).toBeCloseTo(Math.sqrt(10 / 20), 14);
    expect(fit.gamma).toBeCloseTo(1, 9);
    // g = 0.5: r = Γ(2)Γ(6)/Γ(4)² = 120/36 = 10/3 -> k = 3, n = 20.
    fit = fitGgd(sample(3, 14));
    expect(fit.gamma).toBeCloseTo(0.5, 9);
    // g = 2 (Gaussian): r = Γ(1/2)Γ(3/2)/Γ(1)² = π/2; the nearest rational sample picks the
    // grid value whose ratio is closest, computed here by brute force over the grid.
    fit = fitGgd(sample(7, 8)); // r = 22/14
    const r = 22 / 14;
    let best = 0;
    const g = gammaGrid();
    const ratio = (x: number) => (gamma(1 / x) * gamma(3 / x)) / gamma(2 / x) ** 2;
    for (let i = 1; i < g.length; i++) if (Math.abs(r - ratio(g[i])) < Math.abs(r - ratio(g[best]))) best = i;
    expect(fit.gamma).toBe(g[best]);
    expect(Math.abs(fit.gamma - 2)).toBeLessThan(0.05);
  });

  it('recovers a Laplace distribution from its quantiles (shape 1 within 0.01)', () => {
    const n = 200_000;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = (i + 0.5) / n - 0.5;
      x[i] = -3 * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
    }
    const fit = fitGgd(x);
    expect(Math.abs(fit.gamma - 1)).toBeLessThan(0.01);
    expect(Math.abs(fit.sigma - 3 * Math.SQRT2) / (3 * Math.SQRT2)).toBeLessThan(1e-3); // Laplace std = b√2
  });

  it('uses the uncentred second moment and the centred absolute moment, as the official code', () => {
    const x = Float64Array.from([1, 2, 3, 4, 10]);
    const mean = 4;
    const sigma = Math.sqrt((1 + 4 + 9 + 16 + 100) / 5);
    const e = (3 + 2 + 1 + 0 + 6) / 5;
    const fit = fitGgd(x);
    expect(fit.sigma).toBeCloseTo(sigma, 14);
    const r = sigma ** 2 / e ** 2;
    const g = gammaGrid();
    const ratio = (v: number) => (gamma(1 / v) * gamma(3 / v)) / gamma(2 / v) ** 2;
    let best = 0;
    for (let i = 1; i < g.length; i++) if (Math.abs(r - ratio(g[i])) < Math.abs(r - ratio(g[best]))) best = i;
    expect(fit.gamma).toBe(g[best]);
    expect(mean).toBe(4);
  });
});

describe('5-std cut', () => {
  it('drops values at or beyond mean ± 5 population std, keeps the rest in order', () => {
    const x = new Float64Array(1000).map((_, i) => (i % 2 ? 1 : -1));
    x[0] = 1000; // mean ~1, std ~31.6: 1000 is beyond 5 std
    const kept = cutOutliers(x);
    expect(kept.length).toBe(999);
    expect(kept[0]).toBe(1);
    expect(cutOutliers(Float64Array.from([-1, 1, -1, 1])).length).toBe(4);
    // 26 zeros and one 1: mean 1/27, population std sqrt(26)/27, so 1 lies 5.099 std out: dropped;
    // with 24 zeros it lies 4.899 std out: kept (the bounds are strict, as in the official code).
    expect(cutOutliers(Float64Array.from([...Array(26).fill(0), 1])).length).toBe(26);
    expect(cutOutliers(Float64Array.from([...Array(24).fill(0), 1])).length).toBe(25);
  });
});

/** Log-density of the GGD with standard deviation sigma and shape g (logs: the tails underflow). */
function logDensity(sigma: number, g: number): (x: number) => number {
  const alpha = sigma * Math.sqrt(gamma(1 / g) / gamma(3 / g));
  const c = Math.log(g / (2 * alpha * gamma(1 / g)));
  return (x) => c - (Math.abs(x) / alpha) ** g;
}

/** KL by Simpson's rule on [-L, L]. */
function klNumeric(s1: number, g1: number, s2: number, g2: number): number {
  const lp = logDensity(s1, g1);
  const lq = logDensity(s2, g2);
  const L = 400 * Math.max(s1, s2);
  const n = 2_000_000;
  const h = (2 * L) / n;
  let s = 0;
  for (let i = 0; i <= n; i++) {
    const x = -L + i * h;
    const l = lp(x);
    const v = Math.exp(l) * (l - lq(x));
    s += v * (i === 0 || i === n ? 1 : i % 2 ? 4 : 2);
  }
  return (s * h) / 3;
}

/** The official KL_GGD3, term by term with plain gamma values (no logs). */
function klFormula(s1: number, g1: number, s2: number, g2: number): number {
  const G = gamma;
  const i1 = g1 * s2 * G(1 / g2) * Math.sqrt(G(1 / g2) * G(3 / g1));
  const i2 = g2 * s1 * G(1 / g1) * Math.sqrt(G(1 / g1) * G(3 / g2));
  const i3 = s1 * Math.sqrt(G(1 / g1) * G(3 / g2));
  const i4 = s2 * Math.sqrt(G(1 / g2) * G(3 / g1));
  return Math.log(i1 / i2) - 1 / g1 + (i3 / i4) ** g2 * (G((g2 + 1) / g1) / G(1 / g1));
}

describe('KL between two GGDs (closed form)', () => {
  const pairs: [number, number, number, number][] = [
    [1, 2, 1.5, 2],
    [6.5, 0.55, 4.39, 0.58],
    [6.72, 0.629, 10.33, 0.955],
    [1, 1, 2, 0.8],
    [2, 1.7, 1, 3.2],
  ];
  it('equals the official formula evaluated term by term (1e-12 relative)', () => {
    for (const [a, b, c, d] of pairs) {
      const want = klFormula(a, b, c, d);
      expect(Math.abs(klGgd(a, b, c, d) - want) / want).toBeLessThan(1e-12);
    }
  });
  it('is the KL divergence of the two densities (numerical integration, 1e-6 relative)', () => {
    for (const [a, b, c, d] of pairs.filter(([, g1, , g2]) => g1 >= 0.8 && g2 >= 0.8)) {
      const want = klNumeric(a, b, c, d);
      expect(Math.abs(klGgd(a, b, c, d) - want) / want).toBeLessThan(1e-6);
    }
    // Gaussians: KL = ln(s2/s1) + s1²/(2 s2²) - 1/2.
    expect(klGgd(1, 2, 1.5, 2)).toBeCloseTo(Math.log(1.5) + 1 / (2 * 2.25) - 0.5, 13);
  });
  it('is 0 for one fit against itself, asymmetric otherwise; SRGA = log10(KL + 1e-5) + 5', () => {
    expect(Math.abs(klGgd(6.5, 0.55, 6.5, 0.55))).toBeLessThan(1e-14);
    expect(klGgd(1, 1, 2, 0.8)).not.toBeCloseTo(klGgd(2, 0.8, 1, 1), 3);
    expect(srgaValue(0)).toBeCloseTo(0, 14);
    expect(srgaValue(0.04011720958762721)).toBeCloseTo(3.6034389603111965, 12);
  });
});
