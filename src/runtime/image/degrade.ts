// Degradation calls (grammar/kinds/degradations.ts), as the FAIG, DDR and SRGA reference cases
// make them: blur = 2-D Gaussian (size x size, sigma, grid -r..r, normalised) correlated with the WHOLE HR
// image per channel (reflect-101 borders, float32), then the crop, then the downscale;
// noise = the unrounded LR + sigma * N(0, 1) (seeded per sample); jpeg = the 8-bit clean LR
// through jpeg-js at that quality. Every LR is rounded to 8 bits. The samples built from them
// (images x crops x degradations, with labels) are src/runtime/data/samples.ts.

import jpeg from 'jpeg-js';
import { cropImage, type Image } from './image.js';
import { resizeBicubic } from './resize.js';
import { mulberry32 } from '../stats/random.js';
import { filter2d } from './filter.js';
import type { ResolvedValue } from '../../compiler/plan.js';

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The normalised size x size Gaussian, offsets -(size-1)/2 .. (size-1)/2, float64. */
export function gaussianKernel(sigma: number, size: number): Float64Array {
  const r = (size - 1) / 2;
  const k = new Float64Array(size * size);
  let sum = 0;
  for (let y = -r; y <= r; y++) {
    for (let x = -r; x <= r; x++) {
      const v = Math.exp(-(x * x + y * y) / (2 * sigma * sigma));
      k[(y + r) * size + x + r] = v;
      sum += v;
    }
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** The whole image blurred (per channel correlation, reflect-101), float32. */
export function blurImage(img: Image, sigma: number, size: number): Image {
  const data = Float32Array.from(filter2d(img.data, 3, img.height, img.width, gaussianKernel(sigma, size), size));
  return { width: img.width, height: img.height, data };
}

function roundHalfEven(v: number): number {
  const c = Math.min(255, Math.max(0, v));
  const f = Math.floor(c);
  const d = c - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Values rounded to 8-bit levels (half to even, clipped), back on 0..1. */
export function quantise(img: Image): Image {
  return { ...img, data: img.data.map((v) => roundHalfEven(Math.fround(v * 255)) / 255) };
}

/** s x s box mean in numpy's float32 order (sum row by row, / s^2), unrounded. */
export function boxMean(img: Image, s: number): Image {
  const w = Math.floor(img.width / s);
  const h = Math.floor(img.height / s);
  const out = new Float32Array(3 * w * h);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let sum = 0;
        for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) sum = f(sum + img.data[(c * img.height + y * s + dy) * img.width + x * s + dx]);
        out[(c * h + y) * w + x] = f(sum / (s * s));
      }
    }
  }
  return { width: w, height: h, data: out };
}

/** The unrounded LR of an HR crop: its s x s mean, or Pillow-style bicubic (8-bit already). */
function down(hr: Image, scale: number, how: 'mean' | 'bicubic'): Image {
  const w = hr.width - (hr.width % scale);
  const h = hr.height - (hr.height % scale);
  const cut = w === hr.width && h === hr.height ? hr : cropImage(hr, 0, 0, w, h);
  return how === 'mean' ? boxMean(cut, scale) : resizeBicubic(cut, w / scale, h / scale);
}

/** Deterministic standard normals (mulberry32 + Box-Muller), one stream per (seed, sample). */
function normals(seed: number, stream: number, count: number): Float32Array {
  const next = mulberry32(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - next()));
    const th = 2 * Math.PI * next();
    out[i] = r * Math.cos(th);
    if (i + 1 < count) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

export interface DegradeOptions {
  scale: number;
  down: 'mean' | 'bicubic';
  /** The study's seed, for noise(...) without seed=. */
  seed: number;
  /** The sample's number within its source image (its noise stream). */
  index: number;
}

const num = (args: Record<string, ResolvedValue>, key: string, fallback?: number): number => {
  const v = args[key];
  if (typeof v === 'number') return v;
  if (fallback !== undefined) return fallback;
  throw new Error(`degradation argument ${key}= is missing`);
};

/**
 * The LR network input for `box` of the HR image under one call. `blurred` caches the whole
 * blurred image per call text, so the crops of one image share one blur.
 */
export function degrade(
  hr: Image,
  box: Box,
  call: { call: string; args: Record<string, ResolvedValue>; text: string },
  o: DegradeOptions,
  blurred: Map<string, Image>,
): Image {
  const crop = (img: Image) => (box.x === 0 && box.y === 0 && box.w === img.width && box.h === img.height ? img : cropImage(img, box.x, box.y, box.w, box.h));
  switch (call.call) {
    case 'clean':
      return quantise(down(crop(hr), o.scale, o.down));
    case 'blur': {
      let b = blurred.get(call.text);
      if (!b) {
        b = blurImage(hr, num(call.args, 'sigma'), num(call.args, 'size', 21));
        blurred.set(call.text, b);
      }
      return quantise(down(crop(b), o.scale, o.down));
    }
    case 'noise': {
      const lr = down(crop(hr), o.scale, o.down);
      const z = normals(num(call.args, 'seed', o.seed), o.index, lr.data.length);
      const sigma = num(call.args, 'sigma');
      return quantise({ ...lr, data: lr.data.map((v, i) => Math.fround(v + Math.fround(sigma * z[i]))) });
    }
    case 'jpeg': {
      const lr = quantise(down(crop(hr), o.scale, o.down));
      const { width: w, height: h } = lr;
      const rgba = Buffer.alloc(w * h * 4);
      for (let p = 0; p < w * h; p++) {
        for (let c = 0; c < 3; c++) rgba[p * 4 + c] = Math.round(lr.data[c * w * h + p] * 255);
        rgba[p * 4 + 3] = 255;
      }
      const encoded = jpeg.encode({ data: rgba, width: w, height: h }, num(call.args, 'quality'));
      const decoded = jpeg.decode(encoded.data, { useTArray: true, formatAsRGBA: true });
      const data = new Float32Array(3 * w * h);
      for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) data[c * w * h + p] = decoded.data[p * 4 + c] / 255;
      return { width: w, height: h, data };
    }
    default:
      throw new Error(`unknown degradation ${call.text}`);
  }
}
