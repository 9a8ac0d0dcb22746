import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../../helpers/paths.js';
import { readImage, readNpy, resizeBicubic, toRgbBytes } from '../../../src/runtime/image/index.js';
import { blend, outline, seismic, seismicTable, sideBySide, upscaleNearest, type Rgb } from '../../../src/runtime/render/index.js';

const lamRef = fixture('lam');

describe('seismic colormap', () => {
  it('has matplotlib\'s end points and midpoint', () => {
    // matplotlib: seismic(0.0) = (0, 0, 0.3), seismic(1.0) = (0.5, 0, 0); entries 127/128 straddle white.
    const lut = seismicTable();
    expect(Array.from(lut.subarray(0, 3))).toEqual([0, 0, 0.3]);
    expect(Array.from(lut.subarray(255 * 3, 256 * 3))).toEqual([0.5, 0, 0]);
    // entry 64 lies at x = 64/255 just past the 0.25 stop (pure blue), into blue -> white
    expect(lut[64 * 3 + 2]).toBe(1);
    expect(lut[64 * 3]).toBeCloseTo((64 / 255 - 0.25) / 0.25, 12);
    // entry 128 is just past white towards red: red stays 1, green and blue fall
    expect(lut[128 * 3]).toBe(1);
    expect(lut[128 * 3 + 1]).toBeCloseTo(1 - (128 / 255 - 0.5) / 0.25, 12);
  });

  it('indexes as matplotlib does: floor(v * 256), 1.0 -> last entry, clipped outside 0..1', () => {
    const px = seismic([-1, 0, 1, 5, -5], 5, 1).data;
    // map -1 -> 0.0 -> entry 0; map 0 -> 0.5 -> entry 128; map 1 -> 1.0 -> entry 255
    expect(Array.from(px.subarray(0, 3))).toEqual([0, 0, 76]);
    expect(Array.from(px.subarray(3, 6))).toEqual([255, 253, 253]);
    expect(Array.from(px.subarray(6, 9))).toEqual([127, 0, 0]);
    expect(Array.from(px.subarray(9, 12))).toEqual([127, 0, 0]);
    expect(Array.from(px.subarray(12, 15))).toEqual([0, 0, 76]);
  });
});

describe('LAM pictures against the reference lam.png (map | blend, window outlined)', () => {
  // lam.png was drawn by the reference implementation: seismic map at map*0.5+0.5, nearest x4,
  // and its 50/50 blend with the bicubic-upscaled LR, both with the window outlined in red.
  const cases: [string, [number, number, number, number]][] = [
    ['carn_coffee', [120, 100, 16, 16]],
    ['fsrcnn_chelsea', [48, 88, 16, 16]],
  ];
  for (const [name, win] of cases) {
    it(`${name}: every pixel matches`, () => {
      const a = readNpy(path.join(lamRef, name, 'attribution.npy'));
      const [h, w] = a.shape;
      let max = 0;
      for (const v of a.data) max = Math.max(max, v);
      const normed = Float32Array.from(a.data, (v) => v / max);
      const map = upscaleNearest(seismic(normed, w, h), 4);
      const lr = readImage(path.join(lamRef, name, 'lr.png'));
      const up = resizeBicubic(lr, 4 * w, 4 * h);
      const upRgb: Rgb = { width: up.width, height: up.height, data: toRgbBytes(up) };
      const blended = outline(blend(map, upRgb), ...win);
      const pair = sideBySide([outline({ ...map, data: map.data.slice() }, ...win), blended]);
      const ref = readImage(path.join(lamRef, name, 'lam.png'));
      expect([pair.width, pair.height]).toEqual([ref.width, ref.height]);
      const refRgb = toRgbBytes(ref);
      let worst = 0;
      for (let i = 0; i < refRgb.length; i++) worst = Math.max(worst, Math.abs(refRgb[i] - pair.data[i]));
      expect(worst).toBe(0);
    });
  }
});

describe('picture helpers', () => {
  it('outline draws the cv2 thickness-2 ring and clips at the edge', () => {
    const img: Rgb = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) };
    outline(img, 2, 2, 3, 3);
    const red = (x: number, y: number) => img.data[(y * 8 + x) * 3] === 255;
    // ring covers columns/rows 1, 2, 5, 6 between 1 and 6; the inside (3..4) stays
    expect(red(1, 1) && red(6, 6) && red(2, 4) && red(5, 3)).toBe(true);
    expect(red(3, 3) || red(4, 4) || red(0, 0) || red(7, 7)).toBe(false);
    let count = 0;
    for (let i = 0; i < 64; i++) if (img.data[i * 3] === 255) count++;
    expect(count).toBe(36 - 4);
    const edge: Rgb = { width: 4, height: 4, data: new Uint8Array(48) };
    expect(() => outline(edge, 0, 0, 4, 4)).not.toThrow();
  });

  it('blend truncates, nearest upscaling replicates, sideBySide lays out left to right', () => {
    const a: Rgb = { width: 1, height: 1, data: new Uint8Array([255, 0, 3]) };
    const b: Rgb = { width: 1, height: 1, data: new Uint8Array([0, 0, 4]) };
    expect(Array.from(blend(a, b).data)).toEqual([127, 0, 3]);
    const up = upscaleNearest({ width: 2, height: 1, data: new Uint8Array([1, 2, 3, 4, 5, 6]) }, 2);
    expect([up.width, up.height]).toEqual([4, 2]);
    expect(Array.from(up.data.subarray(12, 24))).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
    const s = sideBySide([a, { width: 1, height: 2, data: new Uint8Array([9, 9, 9, 8, 8, 8]) }], 1, 0);
    expect([s.width, s.height]).toEqual([3, 2]);
    expect(Array.from(s.data)).toEqual([255, 0, 3, 0, 0, 0, 9, 9, 9, 0, 0, 0, 0, 0, 0, 8, 8, 8]);
  });
});
