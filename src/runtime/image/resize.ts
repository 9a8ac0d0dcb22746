// Pillow-compatible bicubic resampling (Pillow's Resample.c, 8 bits per channel): a separable
// convolution, horizontal pass first, antialiased on reduction (the kernel widens by the
// scale), Keys' cubic with a = -0.5, fixed-point coefficients with 22 fractional bits and an
// 8-bit intermediate image. LAM's reference derives its LR input this way, so matching it
// bit for bit makes the attribution maps comparable.

import { checkImage, cropImage, fromRgbBytes, toRgbBytes, type Image } from './image.js';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const SUPPORT = 2; // bicubic

function cubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coeffs {
  ksize: number;
  /** Per output pixel: first input index and count. */
  bounds: Int32Array;
  /** Fixed-point weights, ksize per output pixel. */
  kk: Int32Array;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for box [0, inSize].
function coeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = cubic((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      kk[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / ONE);
}

/**
 * Resizes one 8-bit plane (HxW, row-major) exactly as Pillow's Image.resize(BICUBIC) does on
 * an 8-bit band. Planes are independent in Pillow, so RGB is three calls.
 */
export function resizePlane8(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  let cur = src;
  let curW = width;
  if (outW !== width) {
    const { ksize, bounds, kk } = coeffs(width, outW);
    const tmp = new Uint8Array(outW * height);
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        const kb = xx * ksize;
        let s = ONE / 2;
        for (let x = 0; x < xmax; x++) s += cur[row + xmin + x] * kk[kb + x];
        tmp[y * outW + xx] = clip8(s);
      }
    }
    cur = tmp;
    curW = outW;
  }
  if (outH !== height) {
    const { ksize, bounds, kk } = coeffs(height, outH);
    const out = new Uint8Array(curW * outH);
    for (let yy = 0; yy < outH; yy++) {
      const ymin = bounds[yy * 2];
      const ymax = bounds[yy * 2 + 1];
      const kb = yy * ksize;
      for (let x = 0; x < curW; x++) {
        let s = ONE / 2;
        for (let y = 0; y < ymax; y++) s += cur[(ymin + y) * curW + x] * kk[kb + y];
        out[yy * curW + x] = clip8(s);
      }
    }
    cur = out;
  }
  return cur === src ? src.slice() : cur;
}

/** Pillow's 8-bit bicubic resize of interleaved RGB bytes. */
export function resizeBicubic8(rgb: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  const n = width * height;
  const m = outW * outH;
  const out = new Uint8Array(3 * m);
  const plane = new Uint8Array(n);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) plane[i] = rgb[i * 3 + c];
    const r = resizePlane8(plane, width, height, outW, outH);
    for (let i = 0; i < m; i++) out[i * 3 + c] = r[i];
  }
  return out;
}

/**
 * Pillow-compatible bicubic resize of a 0..1 image. Values are quantised to 8 bits first
 * (round to nearest, which is exact for images read from 8-bit files) because Pillow resizes
 * 8-bit images; the result is again k/255.
 */
export function resizeBicubic(img: Image, width: number, height: number): Image {
  checkImage(img, 'resizeBicubic');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`resizeBicubic: bad target size ${width}x${height}`);
  }
  return fromRgbBytes(width, height, resizeBicubic8(toRgbBytes(img), img.width, img.height, width, height));
}

/**
 * LAM's image preparation: the HR image cropped at the top-left to a multiple of the scale,
 * and the LR image as Pillow's bicubic downscale of it (8-bit result, then /255).
 */
export function deriveLr(hr: Image, scale: number): { hr: Image; lr: Image } {
  const cropped = cropToScale(hr, scale);
  return { hr: cropped, lr: resizeBicubic(cropped, cropped.width / scale, cropped.height / scale) };
}

/** The HR part of deriveLr alone: the image cropped at the top-left to a multiple of the scale. */
export function cropToScale(hr: Image, scale: number): Image {
  checkImage(hr, 'deriveLr');
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`deriveLr: the scale must be a positive integer, got ${scale}`);
  const w = Math.floor(hr.width / scale) * scale;
  const h = Math.floor(hr.height / scale) * scale;
  if (w === 0 || h === 0) {
    throw new Error(`deriveLr: a ${hr.width}x${hr.height} image is smaller than the scale ${scale}`);
  }
  return w === hr.width && h === hr.height ? hr : cropImage(hr, 0, 0, w, h);
}
