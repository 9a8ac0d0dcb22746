// Issue 8.9: a PNG cut short and a PNG whose header claims 100000x100000 pixels get messages that
// say what is wrong with the file (naming it), from the decoder and from `lvi check`, which
// reads headers. The files are made here from a fixture image (a real PNG cut in half) and by
// hand (a valid IHDR with an absurd size, CRCs right).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { checkStudy, parseStudy } from '../../../src/compiler/index.js';
import { MAX_IMAGE_PIXELS, imageSize } from '../../../src/compiler/image-size.js';
import { readImage } from '../../../src/runtime/image/index.js';
import { fixture } from '../../helpers/paths.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lvi-badimg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(100))), chunk('IEND', Buffer.alloc(0))]);
}

const whole = readFileSync(fixture('lam', 'chelsea_256.png'));
const truncated = path.join(dir, 'truncated.png');
writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
const huge = path.join(dir, 'huge.png');
writeFileSync(huge, pngClaiming(100000, 100000));
const noEnd = path.join(dir, 'no-iend.png');
writeFileSync(noEnd, pngClaiming(4, 4).subarray(0, -12)); // every chunk whole, IEND gone

describe('broken PNG files', () => {
  it('a truncated PNG: the decoder says it is truncated and names the file', () => {
    expect(() => readImage(truncated)).toThrow(`cannot read image ${truncated}: the PNG file is truncated: its IDAT chunk needs`);
    expect(() => readImage(noEnd)).toThrow(/the PNG file is truncated: it ends after \d+ bytes without the IEND chunk/);
  });

  it('a header claiming 100000x100000: the decoder refuses before allocating, with the size', () => {
    expect(() => readImage(huge)).toThrow(`cannot read image ${huge}: the PNG file claims 100000x100000 pixels in its header (10000 megapixels); lvi reads images up to 268 megapixels`);
    expect(MAX_IMAGE_PIXELS).toBe(16384 * 16384);
  });

  it('lvi check catches both (it reads headers), at the file= value', () => {
    for (const [name, why] of [['truncated.png', /is truncated: its IDAT chunk/], ['huge.png', /claims 100000x100000 pixels/]] as const) {
      const text = `image i file="${name}"\n`;
      const { diagnostics } = checkStudy(parseStudy(text, path.join(dir, 'study.lvi')));
      expect(diagnostics.map((d) => d.code)).toEqual(['not-an-image']);
      expect(diagnostics[0].message).toMatch(why);
      expect(diagnostics[0].message).toContain(path.join(dir, name));
      expect(text.slice(diagnostics[0].range.start.character, diagnostics[0].range.end.character)).toBe(`"${name}"`);
      expect(imageSize(path.join(dir, name))).toBeUndefined();
    }
  });

  it('a sound PNG still reads, and its size comes from the header', () => {
    expect(imageSize(fixture('lam', 'chelsea_256.png'))).toEqual({ width: 256, height: 256 });
    expect(readImage(fixture('lam', 'chelsea_256.png')).width).toBe(256);
  });
});
