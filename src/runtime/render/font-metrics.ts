// Advance widths of a TrueType font, read from its own tables (cmap format 4, hmtx), so Vega lays
// out text with the widths of the font resvg draws it in: no canvas, no system fonts, and the same
// layout on every machine. Kerning is left out (a fraction of a pixel per label).

import { readFileSync } from 'node:fs';

export interface FontMetrics {
  /** Width in px of `text` at `size` px (sum of advances; unknown characters take the .notdef advance). */
  width(text: string, size: number): number;
}

export function readFontMetrics(file: string): FontMetrics {
  const buf = readFileSync(file);
  const tables = new Map<string, number>();
  const count = buf.readUInt16BE(4);
  for (let i = 0; i < count; i++) {
    const rec = 12 + 16 * i;
    tables.set(buf.toString('latin1', rec, rec + 4), buf.readUInt32BE(rec + 8));
  }
  const table = (tag: string) => {
    const at = tables.get(tag);
    if (at === undefined) throw new Error(`font ${file}: no '${tag}' table (a TrueType font is needed)`);
    return at;
  };
  const unitsPerEm = buf.readUInt16BE(table('head') + 18);
  const metrics = buf.readUInt16BE(table('hhea') + 34);
  const hmtx = table('hmtx');
  const advance = (glyph: number) => buf.readUInt16BE(hmtx + 4 * Math.min(glyph, metrics - 1));

  // The Unicode BMP subtable (platform 3 encoding 1, or platform 0), format 4.
  const cmap = table('cmap');
  let sub = -1;
  for (let i = 0; i < buf.readUInt16BE(cmap + 2); i++) {
    const rec = cmap + 4 + 8 * i;
    const platform = buf.readUInt16BE(rec);
    const encoding = buf.readUInt16BE(rec + 2);
    const at = cmap + buf.readUInt32BE(rec + 4);
    if (buf.readUInt16BE(at) === 4 && ((platform === 3 && encoding === 1) || platform === 0)) sub = at;
  }
  if (sub < 0) throw new Error(`font ${file}: no Unicode format-4 cmap`);
  const segs = buf.readUInt16BE(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + 2 * segs + 2;
  const deltas = starts + 2 * segs;
  const offsets = deltas + 2 * segs;
  const glyphOf = (code: number): number => {
    if (code > 0xffff) return 0;
    for (let s = 0; s < segs; s++) {
      if (code > buf.readUInt16BE(ends + 2 * s)) continue;
      const start = buf.readUInt16BE(starts + 2 * s);
      if (code < start) return 0;
      const delta = buf.readUInt16BE(deltas + 2 * s);
      const ro = buf.readUInt16BE(offsets + 2 * s);
      if (ro === 0) return (code + delta) & 0xffff;
      const g = buf.readUInt16BE(offsets + 2 * s + ro + 2 * (code - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
  const cache = new Map<number, number>();
  return {
    width(text: string, size: number): number {
      let units = 0;
      for (const ch of text) {
        const code = ch.codePointAt(0)!;
        let w = cache.get(code);
        if (w === undefined) cache.set(code, (w = advance(glyphOf(code))));
        units += w;
      }
      return (units / unitsPerEm) * size;
    },
  };
}
