// Image dimensions from a PNG or JPEG header, so the checker can tell a window that falls off
// the image before anything runs. Reads a few bytes; no decoding.
import fs from 'node:fs';

export interface Size {
  width: number;
  height: number;
}

const cache = new Map<string, { mtimeMs: number; size: Size | undefined }>();

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
    size = parse(fs.readFileSync(file));
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
