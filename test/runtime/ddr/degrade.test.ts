// Degradation calls against the reference inputs: blur is exact (the same float32 recipe), noise
// has the stated strength and is seeded, JPEG is another encoder than Pillow's (close, not equal).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readImage } from '../../../src/runtime/image/index.js';
import { cropImage, type Image } from '../../../src/runtime/image/image.js';
import { boxMean, degrade, gaussianKernel } from '../../../src/runtime/image/degrade.js';
import { fixture } from '../../helpers/paths.js';

const crops = (JSON.parse(readFileSync(fixture('ddr', 'labels.json'), 'utf8')) as { crops: { crop: string; image: string; x: number; y: number }[] }).crops.filter((c) =>
  ['astronaut', 'chelsea', 'coffee'].includes(c.image),
);
const even = (img: Image) => cropImage(img, 0, 0, img.width - (img.width % 2), img.height - (img.height % 2));
const o = { scale: 2, down: 'mean' as const, seed: 0, index: 0 };
const levels = (a: Image, b: Image) => a.data.map((v, i) => Math.round(Math.abs(v - b.data[i]) * 255));

describe('degradations', () => {
  it('blur(sigma=2): the reference inputs exactly (whole-image blur, crop, 2x2 mean)', () => {
    for (const c of crops) {
      const hr = even(readImage(fixture('images', `${c.image}.png`)));
      const lr = degrade(hr, { x: c.x, y: c.y, w: 64, h: 64 }, { call: 'blur', args: { sigma: 2, size: 21 }, text: 'blur' }, o, new Map());
      expect(Math.max(...levels(lr, readImage(fixture('ddr', 'inputs', `${c.crop}_blur.png`)))), c.crop).toBe(0);
    }
  });

  it('blur(sigma=1): the SRGA reference inputs exactly', () => {
    const boxes = (JSON.parse(readFileSync(fixture('srga', 'labels.json'), 'utf8')) as { boxes: { image: string; x: number; y: number; size: number; index: number }[] }).boxes;
    const some = boxes.filter((b) => ['astronaut', 'chelsea', 'coffee'].includes(b.image));
    expect(some.length).toBe(9);
    for (const b of some) {
      const hr = even(readImage(fixture('images', `${b.image}.png`)));
      const lr = degrade(hr, { x: b.x, y: b.y, w: b.size, h: b.size }, { call: 'blur', args: { sigma: 1, size: 21 }, text: 'blur1' }, o, new Map());
      const want = readImage(fixture('srga', 'inputs', `c${String(b.index).padStart(3, '0')}-${b.image}_blur1.png`));
      expect(Math.max(...levels(lr, want))).toBe(0);
    }
  });

  it('the kernel is the normalised Gaussian on the integer grid', () => {
    const k = gaussianKernel(2, 21);
    expect(k.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 14);
    expect(k[10 * 21 + 10] / k[10 * 21 + 11]).toBeCloseTo(Math.exp(1 / 8), 12);
  });

  it('noise(sigma): that standard deviation on the unrounded LR, seeded and repeatable', () => {
    const hr = even(readImage(fixture('images', 'astronaut.png')));
    const box = { x: 0, y: 0, w: 256, h: 256 };
    const call = { call: 'noise', args: { sigma: 0.05 }, text: 'noise(sigma=0.05)' };
    const a = degrade(hr, box, call, o, new Map());
    expect(Array.from(degrade(hr, box, call, o, new Map()).data)).toEqual(Array.from(a.data));
    expect(Array.from(degrade(hr, box, call, { ...o, index: 1 }, new Map()).data)).not.toEqual(Array.from(a.data));
    const clean = boxMean(cropImage(hr, 0, 0, 256, 256), 2);
    const d = Array.from(a.data.map((v, i) => v - clean.data[i])).filter((_, i) => clean.data[i] > 0.2 && clean.data[i] < 0.8);
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    const std = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(Math.abs(std - 0.05)).toBeLessThan(0.002);
  });

  it('jpeg(quality): another encoder than Pillow\'s, within 30 dB of its pixels; lower quality, larger error', () => {
    for (const c of crops) {
      const hr = even(readImage(fixture('images', `${c.image}.png`)));
      const box = { x: c.x, y: c.y, w: 64, h: 64 };
      const q30 = degrade(hr, box, { call: 'jpeg', args: { quality: 30 }, text: 'jpeg' }, o, new Map());
      const mse = levels(q30, readImage(fixture('ddr', 'inputs', `${c.crop}_jpeg.png`))).reduce((s, v) => s + v * v, 0) / q30.data.length;
      expect(10 * Math.log10((255 * 255) / mse), c.crop).toBeGreaterThan(30);
      const clean = degrade(hr, box, { call: 'clean', args: {}, text: 'clean' }, o, new Map());
      const err = (q: number) => levels(degrade(hr, box, { call: 'jpeg', args: { quality: q }, text: `jpeg${q}` }, o, new Map()), clean).reduce((s, v) => s + v, 0);
      expect(err(10)).toBeGreaterThan(err(90));
    }
  });
});
