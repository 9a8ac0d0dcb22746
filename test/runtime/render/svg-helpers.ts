// Reading rendered SVG back as a browser would (parse5), for the plot tests.
import { parseFragment } from 'parse5';
import { PNG } from 'pngjs';

export type Node5 = { nodeName: string; tagName?: string; attrs?: { name: string; value: string }[]; childNodes?: Node5[]; value?: string };

export const parseSvg = (svg: string): Node5 => {
  const root = parseFragment(svg) as unknown as Node5;
  return elements(root, 'svg')[0];
};

/** Elements by tag whose class list holds every class in `cls` (space-separated). */
export function elements(root: Node5, tag: string, cls?: string): Node5[] {
  const want = cls ? cls.split(' ') : [];
  const out: Node5[] = [];
  const walk = (n: Node5) => {
    const have = (attr(n, 'class') ?? '').split(' ');
    if (n.tagName === tag && want.every((c) => have.includes(c))) out.push(n);
    for (const c of n.childNodes ?? []) walk(c);
  };
  walk(root);
  return out;
}
export const attr = (n: Node5, name: string) => n.attrs?.find((a) => a.name === name)?.value;
export const num = (n: Node5, name: string) => Number(attr(n, name));
/** An element's own text, leaving out nested <title> tooltips. */
export const ownText = (n: Node5): string =>
  n.nodeName === '#text' ? n.value ?? '' : (n.childNodes ?? []).filter((c) => c.tagName !== 'title').map(ownText).join('');
/** The texts of Vega's text marks of one role (e.g. `role-axis-label`, `role-legend-label`). */
export const texts = (root: Node5, role: string) => elements(root, 'g', role).flatMap((g) => elements(g, 'text').map(ownText));
/** x, y of a `translate(x,y)` at the start of a transform. */
export function translate(n: Node5): [number, number] {
  const m = /^translate\(([-\d.e]+),([-\d.e]+)\)/.exec(attr(n, 'transform') ?? '');
  if (!m) throw new Error(`no translate in ${attr(n, 'transform')}`);
  return [Number(m[1]), Number(m[2])];
}

/** Decoded PNG, checked to start with the PNG signature. */
export function readPng(png: Buffer): PNG {
  if (!png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error('not a PNG');
  return PNG.sync.read(png);
}

/** Count of pixels darker than `level` in every channel, in the rectangle (x0, y0)-(x1, y1). */
export function darkPixels(img: PNG, level = 100, x0 = 0, y0 = 0, x1 = img.width, y1 = img.height): number {
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * img.width + x) * 4;
      if (img.data[i] < level && img.data[i + 1] < level && img.data[i + 2] < level) n++;
    }
  }
  return n;
}
