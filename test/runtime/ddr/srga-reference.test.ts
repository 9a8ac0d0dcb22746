// SRGA on the reference case of test/fixtures/srga (the MSRResNet x2 pair, 27 crops, sets
// clean / blur1 / noise0.05; the official lyh-18/SRGA script and an exact-PCA reproduction):
// lvi's features and SRGA at the tolerances of test/fixtures/srga/README.md.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readImage, readNpy } from '../../../src/runtime/image/index.js';
import { extractFeatures } from '../../../src/runtime/methods/ddr/features.js';
import { fitSet, srga, type GgdFit } from '../../../src/runtime/methods/ddr/srga.js';
import { loadOnnxFile } from '../../../src/runtime/models/index.js';
import { fixture } from '../../helpers/paths.js';
import { relDiff } from '../../helpers/tensors.js';

const LAYER = '/body/body.3/Add_output_0';
const NETS = { clean: 'msrresnet-x2-clean.onnx', blind: 'msrresnet-x2-blind.onnx' } as const;
type Net = keyof typeof NETS;
const SETS = ['clean', 'blur1', 'noise0.05'] as const;

interface Exact {
  srga: number;
  kl: number;
  sigma: number;
  gamma: number;
  kept: number;
}
const ref = JSON.parse(readFileSync(fixture('srga', 'srga.json'), 'utf8')) as {
  N: number;
  networks: Record<Net, Record<string, { exact: Exact; official: Exact; tolerance: number }>>;
};
const labels = JSON.parse(readFileSync(fixture('srga', 'labels.json'), 'utf8')) as {
  samples: { file: string; crop: number; set: string }[];
};

const fits = {} as Record<Net, Record<string, GgdFit>>;
const features = {} as Record<Net, Record<string, { pooled: Float32Array; norms: Float64Array }>>;

beforeAll(async () => {
  for (const net of Object.keys(NETS) as Net[]) {
    const model = await loadOnnxFile(fixture('models', NETS[net]));
    fits[net] = {};
    features[net] = {};
    for (const set of SETS) {
      const files = labels.samples.filter((s) => s.set === set).sort((a, b) => a.crop - b.crop);
      const inputs = files.map((s) => readImage(fixture('srga', 'inputs', s.file)));
      const [f] = await extractFeatures(model, inputs, { layers: [LAYER], pool: 'none', device: 'cpu', threads: 1 });
      fits[net][set] = fitSet(f.data, inputs.length, f.dim, 300);
      // Channel means and norms, to check the features against the stored ones.
      const n = inputs.length;
      const pooled = new Float32Array(n * 32);
      const norms = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const row = f.data.subarray(i * f.dim, (i + 1) * f.dim);
        let s = 0;
        for (let c = 0; c < 32; c++) {
          let m = 0;
          for (let k = 0; k < 1024; k++) m += row[c * 1024 + k];
          pooled[i * 32 + c] = m / 1024;
        }
        for (const v of row) s += v * v;
        norms[i] = Math.sqrt(s);
      }
      features[net][set] = { pooled, norms };
    }
  }
}, 120_000);

describe('SRGA reference (MSRResNet x2 pair, 27 crops per set)', () => {
  for (const net of Object.keys(NETS) as Net[]) {
    it(`${net}: features match the stored channel means and norms within 1e-5`, () => {
      const pooled = readNpy(fixture('srga', `pooled_${net}.npy`));
      const norms = readNpy(fixture('srga', `norms_${net}.npy`));
      expect(pooled.shape).toEqual([3, ref.N, 32]);
      SETS.forEach((set, si) => {
        expect(relDiff(features[net][set].pooled, pooled.data.subarray(si * ref.N * 32, (si + 1) * ref.N * 32))).toBeLessThan(1e-5);
        expect(relDiff(features[net][set].norms, norms.data.subarray(si * ref.N, (si + 1) * ref.N))).toBeLessThan(1e-5);
      });
    });

    for (const set of SETS) {
      it(`${net} ${set}: GGD fit and SRGA at the reference tolerance`, () => {
        const r = ref.networks[net][set];
        const fit = fits[net][set];
        const got = srga(fits[net].clean, fit);
        expect(fit.total).toBe(ref.N * ref.N);
        expect(Math.abs(fit.sigma - r.exact.sigma) / r.exact.sigma).toBeLessThan(1e-5);
        if (r.tolerance === 0 && set !== 'clean') {
          expect(fit.gamma).toBeCloseTo(r.exact.gamma, 9);
          expect(fit.kept).toBe(r.exact.kept);
        } else {
          expect(Math.abs(fit.gamma - r.exact.gamma)).toBeLessThanOrEqual(0.001 + 1e-9);
        }
        // The tolerance is 0 only for the reference set itself, whose SRGA is ~0 by construction.
        expect(Math.abs(got.srga - r.exact.srga)).toBeLessThanOrEqual(Math.max(r.tolerance, 1e-5));
        expect(Math.abs(got.srga - r.official.srga)).toBeLessThanOrEqual(Math.max(r.tolerance, 1e-5));
      });
    }
  }

  it('the blind network puts noise0.05 further from clean than the clean-trained one', () => {
    const clean = srga(fits.clean.clean, fits.clean['noise0.05']).srga;
    const blind = srga(fits.blind.clean, fits.blind['noise0.05']).srga;
    expect(blind).toBeGreaterThan(clean + 1);
  });
});
