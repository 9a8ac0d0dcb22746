// The image value every method shares (3xHxW float32 in 0..1) and its basic pixel helpers. A
// leaf: reading/writing files (index.ts) and resizing (resize.ts) both build on it.

/** An RGB image: 3xHxW, channel-major (CHW), float32 values in 0..1. */
export interface Image {
  width: number;
  height: number;
  data: Float32Array;
}

/** HWC interleaved samples (first 3 channels used) to a CHW float image in 0..1. */
export function fromInterleaved(width: number, height: number, src: ArrayLike<number>, channels: number, max: number): Image {
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
