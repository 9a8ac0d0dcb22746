// Image dimensions from a PNG or JPEG header, so the checker can tell a window that falls off
// the image before anything runs, and what makes a file undecodable (cut short, absurd size).
// Walks the header and the PNG chunk list; no decoding.
import fs from 'node:fs';

export interface Size {
  width: number;
  height: number;
}

const cache = new Map<string, { mtimeMs: number; size: Size | undefined }>();

/**
 * Images lvi decodes hold at most this many pixels: a header can claim any size (100000x100000
 * is 30 GB of RGB), and the decoder would allocate it before reading a pixel.
 */
export const MAX_IMAGE_PIXELS = 2 ** 28; // 268 megapixels, e.g. 16384x16384

const problems = new Map<string, { mtimeMs: number; problem: string | undefined }>();

/**
 * What is wrong with an image file whose header lvi can read, in words for a message: a PNG
 * cut short (its chunks run past the end, or no IEND), or a size past MAX_IMAGE_PIXELS.
 * Undefined when the header and structure are sound (or the file is no PNG/JPEG at all).
 */
export function imageProblem(file: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return undefined;
  }
  const hit = problems.get(file);
  if (hit && hit.mtimeMs === stat.mtimeMs) return hit.problem;
  let problem: string | undefined;
  try {
    problem = bytesProblem(fs.readFileSync(file));
  } catch {
    problem = undefined;
  }
  problems.set(file, { mtimeMs: stat.mtimeMs, problem });
  return problem;
}

/** imageProblem over bytes already read (the decoder's check before it allocates). */
export function bytesProblem(b: Uint8Array): string | undefined {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const size = parse(buf);
  if (!size) return undefined;
  if (size.width === 0 || size.height === 0) return `has an empty size (${size.width}x${size.height}) in its header`;
  if (size.width * size.height > MAX_IMAGE_PIXELS) {
    return `claims ${size.width}x${size.height} pixels in its header (${Math.round((size.width * size.height) / 1e6)} megapixels); lvi reads images up to ${Math.round(MAX_IMAGE_PIXELS / 1e6)} megapixels`;
  }
  if (buf.readUInt32BE(0) === 0x89504e47) {
    // Walk the chunks: each is length, type, data, CRC; the last is IEND.
    let i = 8;
    while (i + 8 <= buf.length) {
      const length = buf.readUInt32BE(i);
      const type = buf.toString('latin1', i + 4, i + 8);
      if (i + 12 + length > buf.length) return `is truncated: its ${type} chunk needs ${length} bytes, the file ends ${buf.length - i - 12} bytes into it (${buf.length} bytes in all)`;
      if (type === 'IEND') return undefined;
      i += 12 + length;
    }
    return `is truncated: it ends after ${buf.length} bytes without the IEND chunk that closes a PNG`;
  }
  return undefined;
}

/** Width and height of a PNG or JPEG file; undefined when unreadable or another format. */
export function imageSize(file: string): Size | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return undefined;
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === stat.mtimeMs) return hit.size;
  let size: Size | undefined;
  try {
    const bytes = fs.readFileSync(file);
    // A header lvi could not decode (cut short, absurd size) is no usable size either.
    size = bytesProblem(bytes) ? undefined : parse(bytes);
  } catch {
    size = undefined;
  }
  cache.set(file, { mtimeMs: stat.mtimeMs, size });
  return size;
}

function parse(b: Buffer): Size | undefined {
  // PNG: 8-byte signature, then the IHDR chunk whose data starts with width and height.
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString('latin1', 12, 16) === 'IHDR') {
    return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  }
  // JPEG: walk the segments to the first start-of-frame marker (C0-CF except C4, C8, CC).
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return undefined;
      const marker = b[i + 1];
      if (marker === 0xff) {
        i++;
        continue;
      }
      const length = b.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
      }
      i += 2 + length;
    }
  }
  return undefined;
}
