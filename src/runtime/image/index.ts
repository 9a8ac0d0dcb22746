// Image input/output and the image operations the methods share: reading PNG/JPEG into CHW
// float tensors, writing PNGs, Pillow-compatible bicubic resizing (LAM's LR derivation), and
// NumPy .npy files.

import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';

export { writeNpy, readNpy, type NpyArray } from './npy.js';
export { resizeBicubic8, resizeBicubic, deriveLr, cropToScale } from './resize.js';

/** An RGB image: 3xHxW, channel-major (CHW), float32 values in 0..1. */
export interface Image {
  width: number;
  height: number;
  data: Float32Array;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

/**
 * Reads a PNG (8 or 16 bit, grey, grey+alpha, RGB, RGBA, palette) or a baseline/progressive
 * JPEG. Alpha is dropped (as Pillow's convert('RGB') does) and grey becomes RGB.
 * The format is taken from the file's bytes, not its extension.
 */
export function readImage(path: string): Image {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : String((e as Error).message);
    throw new Error(`cannot read image ${path}: ${why}`);
  }
  if (startsWith(bytes, PNG_MAGIC)) return decodePng(path, bytes);
  if (startsWith(bytes, JPEG_MAGIC)) return decodeJpeg(path, bytes);
  const ext = extname(path).toLowerCase();
  throw new Error(
    `cannot read image ${path}: not a PNG or JPEG file` +
      (ext && !['.png', '.jpg', '.jpeg'].includes(ext) ? ` (extension '${ext}'; lvi reads PNG and JPEG)` : ' (its bytes do not start like one)'),
  );
}

function decodePng(path: string, bytes: Buffer): Image {
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    // skipRescale keeps 16-bit samples (Uint16Array); 1/2/4-bit samples are still expanded.
    png = PNG.sync.read(bytes, { skipRescale: true });
  } catch (e) {
    throw new Error(`cannot read image ${path}: broken PNG (${(e as Error).message})`);
  }
  const { width, height } = png;
  const raw = png.data as unknown as Uint8Array | Uint16Array;
  const max = raw instanceof Uint16Array ? 65535 : png.depth < 8 && !png.palette ? (1 << png.depth) - 1 : 255;
  return fromInterleaved(width, height, raw, 4, max);
}

function decodeJpeg(path: string, bytes: Buffer): Image {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
  } catch (e) {
    throw new Error(`cannot read image ${path}: broken JPEG (${(e as Error).message})`);
  }
  return fromInterleaved(img.width, img.height, img.data, 4, 255);
}

/** HWC interleaved samples (first 3 channels used) to a CHW float image in 0..1. */
function fromInterleaved(width: number, height: number, src: ArrayLike<number>, channels: number, max: number): Image {
  const n = width * height;
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) data[c * n + i] = src[i * channels + c] / max;
  }
  return { width, height, data };
}

/** An 8-bit value from 0..1: clamped and rounded to the nearest level. */
export function toByte(v: number): number {
  if (!(v > 0)) return 0; // also NaN
  if (v >= 1) return 255;
  return Math.round(v * 255);
}

/** CHW float image to interleaved 8-bit RGB (rounded, clamped). */
export function toRgbBytes(img: Image): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = toByte(img.data[c * n + i]);
  }
  return out;
}

/** Interleaved 8-bit RGB to a CHW float image in 0..1. */
export function fromRgbBytes(width: number, height: number, rgb: Uint8Array): Image {
  return fromInterleaved(width, height, rgb, 3, 255);
}

/** Writes an 8-bit RGB PNG (values clamped to 0..1, rounded to the nearest level). */
export function writePng(path: string, img: Image): void {
  checkImage(img, 'writePng');
  writeRgbPng(path, img.width, img.height, toRgbBytes(img));
}

/** Writes interleaved 8-bit RGB as an RGB PNG. */
export function writeRgbPng(path: string, width: number, height: number, rgb: Uint8Array): void {
  if (rgb.length !== width * height * 3) {
    throw new Error(`writeRgbPng ${path}: ${rgb.length} bytes for ${width}x${height} RGB (expected ${width * height * 3})`);
  }
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  writeFileSync(path, PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
}

/** Writes interleaved 8-bit RGBA as an RGBA PNG. */
export function writeRgbaPng(path: string, width: number, height: number, rgba: Uint8Array): void {
  if (rgba.length !== width * height * 4) {
    throw new Error(`writeRgbaPng ${path}: ${rgba.length} bytes for ${width}x${height} RGBA (expected ${width * height * 4})`);
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  writeFileSync(path, PNG.sync.write(png, { colorType: 6 }));
}

export function checkImage(img: Image, where: string): void {
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    throw new Error(`${where}: bad image size ${img.width}x${img.height}`);
  }
  if (img.data.length !== 3 * img.width * img.height) {
    throw new Error(`${where}: ${img.data.length} values for a 3x${img.height}x${img.width} image`);
  }
}

/** The top-left w x h part of an image. */
export function cropImage(img: Image, x: number, y: number, w: number, h: number): Image {
  if (x < 0 || y < 0 || x + w > img.width || y + h > img.height) {
    throw new Error(`crop (${x},${y},${w},${h}) is outside the ${img.width}x${img.height} image`);
  }
  return { width: w, height: h, data: cropPlanes(img.data, 3, img.height, img.width, { x, y, w, h }) };
}

/** The box's part of each of `channels` height x width planes (CHW), unchecked. */
export function cropPlanes(
  src: Float32Array,
  channels: number,
  height: number,
  width: number,
  box: { x: number; y: number; w: number; h: number },
): Float32Array {
  const { x, y, w, h } = box;
  const data = new Float32Array(channels * w * h);
  for (let c = 0; c < channels; c++) {
    for (let r = 0; r < h; r++) {
      const from = c * height * width + (y + r) * width + x;
      data.set(src.subarray(from, from + w), c * w * h + r * w);
    }
  }
  return data;
}
