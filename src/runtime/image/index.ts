// Image input/output and the image operations the methods share: reading PNG/JPEG into CHW
// float tensors, writing PNGs, Pillow-compatible bicubic resizing (LAM's LR derivation), and
// NumPy .npy files.

import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { bytesProblem } from '../../compiler/image-size.js';

export { writeNpy, readNpy, readNpyInt32, type NpyArray } from './npy.js';
export { resizeBicubic8, resizeBicubic, deriveLr, cropToScale } from './resize.js';
export { checkImage, cropImage, cropPlanes, fromRgbBytes, toByte, toRgbBytes, type Image } from './image.js';
import { checkImage, fromInterleaved, toRgbBytes, type Image } from './image.js';

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
  // A cut-short file or a header claiming a giant size is named as such, before the decoder
  // fails on it with a message about streams or buffer sizes.
  const problem = (startsWith(bytes, PNG_MAGIC) || startsWith(bytes, JPEG_MAGIC)) && bytesProblem(bytes);
  if (problem) throw new Error(`cannot read image ${path}: the ${startsWith(bytes, PNG_MAGIC) ? 'PNG' : 'JPEG'} file ${problem}`);
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

