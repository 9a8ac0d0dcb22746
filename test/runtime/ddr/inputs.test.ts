// DDR samples: the clean LR equals the reference's exact inputs, crops and labels are as
// documented, and LR datasets that cannot be paired are refused.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readImage } from '../../../src/runtime/image/index.js';
import { cropImage } from '../../../src/runtime/image/image.js';
import { buildSamples, cleanLr, downMean, toDegradation } from '../../../src/runtime/data/samples.js';
import { fixture } from '../../helpers/paths.js';

const labels = JSON.parse(readFileSync(fixture('ddr', 'labels.json'), 'utf8')) as {
  crops: { crop: string; image: string; x: number; y: number; size: number }[];
};

describe('DDR inputs', () => {
  it('the 2x2 mean LR of each reference crop is its clean input, pixel for pixel', () => {
    const crops = labels.crops.filter((c) => ['astronaut', 'chelsea', 'coffee'].includes(c.image));
    expect(crops).toHaveLength(6);
    for (const c of crops) {
      const hr = readImage(fixture('images', `${c.image}.png`));
      const even = cropImage(hr, 0, 0, hr.width - (hr.width % 2), hr.height - (hr.height % 2));
      const lr = downMean(cropImage(even, c.x, c.y, c.size, c.size), 2);
      const want = readImage(fixture('ddr', 'inputs', `${c.crop}_clean.png`));
      expect([lr.width, lr.height]).toEqual([32, 32]);
      let worst = 0;
      for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(lr.data[i] - want.data[i]));
      expect(worst, c.crop).toBe(0);
    }
  });

  it('cuts patches on the grid, spread evenly, with content and crop labels', () => {
    const dir = fixture('images');
    const data = { dir, files: [`${dir}/chelsea.png`], lr: false };
    const s = buildSamples([toDegradation('clean', () => undefined)], { data, scale: 2, down: 'mean', patch: 64, patches: 3, seed: 0, studyDir: dir });
    // chelsea is 451x300: a 7 x 4 grid of 64-pixel cells; three spread over the 28 cells: 0, 14, 27.
    expect(s.labels.map((l) => l.crop)).toEqual(['chelsea@0,0', 'chelsea@0,128', 'chelsea@384,192']);
    expect(s.labels.every((l) => l.content === 'chelsea' && l.degradation === 'clean' && l.file === 'chelsea.png')).toBe(true);
    expect(s.images.map((i) => [i.width, i.height])).toEqual([[32, 32], [32, 32], [32, 32]]);
    expect(Array.from(s.images[2].data)).toEqual(Array.from(cleanLr(cropImage(readImage(data.files[0]), 384, 192, 64, 64), 2, 'mean').data));
  });

  it('refuses LR datasets of different sizes, a non-LR dataset as a degradation, and calls without HR data', () => {
    const a = { dir: '/a', files: ['/a/x_clean.png', '/a/y_clean.png'], lr: true };
    const b = { dir: '/b', files: ['/b/x_noise.png'], lr: true };
    const sets = new Map([['a', a], ['b', b], ['hr', { ...a, lr: false }]]);
    const d = (name: string) => toDegradation({ ref: name, kind: 'dataset', node: `dataset:${name}` }, (r) => sets.get(r));
    const o = { scale: 2, down: 'mean' as const, patch: 0, patches: 1, seed: 0, studyDir: '/' };
    expect(() => buildSamples([d('a'), d('b')], o)).toThrow(/need as many files as the HR data \(a: 2, b: 1\)/);
    expect(() => d('hr')).toThrow(/is not lr=true/);
    expect(() => buildSamples([toDegradation('clean', () => undefined)], o)).toThrow(/need HR images: add data=<dataset>/);
  });
});
