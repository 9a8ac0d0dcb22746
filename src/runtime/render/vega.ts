// lvi's one plotting path: a Vega-Lite spec, compiled by vega-lite, laid out and drawn headless by
// vega (SVG), rasterised by resvg (PNG). Text is measured and drawn with the bundled DejaVu Sans
// (fonts/), never a system font, so the same spec gives the same bytes on every machine.

import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { readFontMetrics } from './font-metrics.js';

/** A Vega-Lite specification (https://vega.github.io/vega-lite/docs/spec.html), as plain JSON. */
export type VegaLiteSpec = Record<string, unknown>;

/** The family every plot's text is set in: the bundled face first, then whatever a browser has. */
export const PLOT_FONT = 'DejaVu Sans';
const FONT_FAMILY = `${PLOT_FONT}, sans-serif`;

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'lvi') return dir;
    if (path.dirname(dir) === dir) throw new Error(`lvi's package.json not found above ${start}`);
  }
}

/** The bundled font file (fonts/DejaVuSans.ttf, Bitstream Vera licence: fonts/LICENSE-DejaVu.txt). */
export const FONT_FILE = path.join(findRepoRoot(path.dirname(fileURLToPath(import.meta.url))), 'fonts', 'DejaVuSans.ttf');

const metrics = readFontMetrics(FONT_FILE);

// Vega measures text for layout (axis offsets, legend columns, label limits) with a canvas when
// one is installed and a crude estimate otherwise; both differ between machines and from what resvg
// draws. A user-defined width is Vega's documented hook for this (vl-convert uses it too).
type TextItem = { text?: unknown; fontSize?: number; limit?: number; ellipsis?: string };
const sizeOf = (item: TextItem) => (item.fontSize != null ? +item.fontSize || 0 : 11);
function textWidth(item: TextItem, line: unknown): number {
  const text = line == null ? '' : String(line).trim();
  const size = sizeOf(item);
  const w = metrics.width(text, size);
  const limit = Number(item.limit);
  if (!(limit > 0) || w < limit) return w;
  // Vega draws a truncated label: measure what it draws (its own rule: longest prefix + ellipsis).
  const ellipsis = item.ellipsis ?? '\u2026';
  const room = limit - metrics.width(ellipsis, size);
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = 1 + ((lo + hi) >>> 1);
    if (metrics.width(text.slice(0, mid), size) < room) lo = mid;
    else hi = mid - 1;
  }
  return metrics.width(text.slice(0, lo) + ellipsis, size);
}
// vega's typings leave textMetrics out; the object is exported by vega-scenegraph and re-exported.
(vega as unknown as { textMetrics: { width: typeof textWidth } }).textMetrics.width = textWidth;

/**
 * lvi's look, under every spec (a spec's own `config` wins key by key). Weights stay normal: only
 * the regular face is bundled, and a synthetic bold would differ between resvg and browsers.
 */
export const BASE_CONFIG: Record<string, unknown> = {
  font: FONT_FAMILY,
  background: 'white',
  padding: 8,
  // Paul Tol's "bright" scheme: distinct for colour-blind readers and in greyscale print.
  range: { category: ['#4477AA', '#EE6677', '#228833', '#CCBB44', '#66CCEE', '#AA3377', '#BBBBBB'] },
  title: { fontWeight: 'normal', fontSize: 14 },
  axis: { titleFontWeight: 'normal', titleFontSize: 12, labelFontSize: 11, labelLimit: 220 },
  legend: { titleFontWeight: 'normal', titleFontSize: 12, labelFontSize: 11, labelLimit: 220 },
  header: { titleFontWeight: 'normal', labelFontSize: 12, titleFontSize: 12 },
  view: { stroke: '#ddd' },
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? merge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/** Marks to redraw as `<rect class=...>` carrying their data, for readers (and tests) of the SVG. */
export interface RectAnnotation {
  /** The Vega mark name: a Vega-Lite unit's `name` plus `_marks` (e.g. `bars_marks`). */
  mark: string;
  className: string;
  /** `data-*` attributes of one bar, from its datum (keys without the `data-` prefix). */
  data?: (datum: Record<string, unknown>) => Record<string, string | number>;
}

export interface RenderOptions {
  /** Overrides the spec's top-level width/height (px of the plotting area, as Vega-Lite reads them). */
  width?: number;
  height?: number;
  /** PNG pixels per SVG px (default 2: sharp on high-density screens and in print). */
  scale?: number;
  /** The root `<svg>`'s class (Vega writes `marks`). */
  className?: string;
  /** `<title>` and `<desc>` for the root `<svg>`, with `role="img"` and aria-labelledby; ids need `id`. */
  title?: string;
  description?: string;
  id?: string;
  rects?: RectAnnotation[];
}

export interface Rendered {
  /** One `<svg>` element, fit to inline in HTML or save as an .svg file. */
  svg: string;
  png: Buffer;
  /** The spec as drawn: the input with lvi's config and the options' size filled in. */
  spec: VegaLiteSpec;
  /** The SVG's size in px. */
  width: number;
  height: number;
}

/** The spec with lvi's config and size under it: what `.vl.json` files hold. */
export function completeSpec(spec: VegaLiteSpec, options: Pick<RenderOptions, 'width' | 'height'> = {}): VegaLiteSpec {
  if (!isObject(spec)) throw new Error('renderSpec: a Vega-Lite spec must be a JSON object');
  const out: VegaLiteSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...spec,
    config: merge(BASE_CONFIG, isObject(spec.config) ? spec.config : {}),
  };
  if (options.width !== undefined) out.width = options.width;
  if (options.height !== undefined) out.height = options.height;
  return out;
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

// Warnings (an empty layer's infinite extent, facet scale notes) would print on every run of a
// study; errors still throw.
const quiet = () => vega.logger(vega.Error);

/** Renders a Vega-Lite spec to SVG and PNG. Throws with vega-lite's message on an invalid spec. */
export async function renderSpec(spec: VegaLiteSpec, options: RenderOptions = {}): Promise<Rendered> {
  const full = completeSpec(spec, options);
  let compiled: vega.Spec;
  try {
    compiled = vl.compile(full as unknown as vl.TopLevelSpec, { logger: quiet() }).spec as vega.Spec;
  } catch (e) {
    throw new Error(`Vega-Lite spec does not compile: ${(e as Error).message}`);
  }
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger: quiet() });
  let svg = await view.toSVG();
  const size = /<svg[^>]* width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  if (!size) throw new Error('vega produced no <svg> with a size');
  for (const a of options.rects ?? []) svg = annotateRects(svg, view, a);
  svg = decorateRoot(svg, options);
  view.finalize();
  const png = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: options.scale ?? 2 },
    font: { fontFiles: [FONT_FILE], loadSystemFonts: false, defaultFontFamily: PLOT_FONT, sansSerifFamily: PLOT_FONT },
    background: 'white',
  })
    .render()
    .asPng();
  return { svg, png, spec: full, width: Number(size[1]), height: Number(size[2]) };
}

function decorateRoot(svg: string, o: RenderOptions): string {
  const open = /^<svg[^>]*>/.exec(svg)![0];
  let tag = open;
  if (o.className) tag = tag.replace(/ class="marks"/, ` class="${xml(o.className)}"`);
  const children: string[] = [];
  if (o.title !== undefined || o.description !== undefined) {
    const id = o.id ?? 'plot';
    const ids = [o.title !== undefined ? `${id}-title` : '', o.description !== undefined ? `${id}-desc` : ''].filter(Boolean);
    tag = tag.replace(/>$/, ` role="img" aria-labelledby="${xml(ids.join(' '))}">`);
    if (o.title !== undefined) children.push(`<title id="${xml(id)}-title">${xml(o.title)}</title>`);
    if (o.description !== undefined) children.push(`<desc id="${xml(id)}-desc">${xml(o.description)}</desc>`);
  }
  return tag + children.join('') + svg.slice(open.length);
}

interface SceneMark {
  marktype: string;
  name?: string;
  items: SceneItem[];
}
interface SceneItem {
  datum?: Record<string, unknown>;
  items?: SceneMark[];
}

/** Every instance of a named mark, in the depth-first order the SVG renderer writes them. */
function markInstances(root: SceneMark, name: string): SceneMark[] {
  const out: SceneMark[] = [];
  const visit = (m: SceneMark) => {
    if (m.name === name) out.push(m);
    if (m.marktype === 'group') for (const g of m.items) for (const child of g.items ?? []) visit(child);
  };
  visit(root);
  return out;
}

const NUM = String.raw`(-?\d*\.?\d+(?:e[-+]?\d+)?)`;
const RECT_PATH = new RegExp(`^M${NUM},${NUM}h${NUM}v${NUM}h-?[\\d.e+-]+Z$`);

/**
 * Vega writes a rect mark's items as `<path d="Mx,yhWvHh-WZ">`; redraw those of one mark as
 * `<rect>` with the same geometry, a class and `data-*` attributes from each item's datum.
 */
function annotateRects(svg: string, view: vega.View, a: RectAnnotation): string {
  const marks = markInstances((view.scenegraph() as unknown as { root: SceneMark }).root, a.mark);
  if (marks.length === 0) throw new Error(`renderSpec: no mark named '${a.mark}' in the spec`);
  const esc = a.mark.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const group = new RegExp(`(<g class="mark-rect role-mark ${esc}"[^>]*>)((?:<path [^>]*/>)*)</g>`, 'g');
  let k = 0;
  const out = svg.replace(group, (_, open: string, paths: string) => {
    const mark = marks[k++];
    const tags = paths.match(/<path [^>]*\/>/g) ?? [];
    if (!mark || tags.length !== mark.items.length) throw new Error(`renderSpec: mark '${a.mark}' drew ${tags.length} paths for ${mark?.items.length} items`);
    const rects = tags.map((tag, i) => {
      const d = /\sd="([^"]*)"/.exec(tag)?.[1] ?? '';
      const m = RECT_PATH.exec(d);
      if (!m) throw new Error(`renderSpec: mark '${a.mark}' is not drawn as plain rectangles (d="${d}")`);
      let [x, y, w, h] = m.slice(1, 5).map(Number);
      if (w < 0) [x, w] = [x + w, -w];
      if (h < 0) [y, h] = [y + h, -h];
      const label = /\saria-label="([^"]*)"/.exec(tag)?.[1];
      const rest = tag.slice('<path '.length, -2).replace(/\sd="[^"]*"/, '').trim();
      const data = Object.entries(a.data?.(mark.items[i].datum ?? {}) ?? {})
        .map(([key, v]) => ` data-${key}="${xml(String(v))}"`)
        .join('');
      // The aria-label (Vega's description of the bar) doubles as the hover tooltip.
      return `<rect class="${xml(a.className)}"${data} x="${x}" y="${y}" width="${w}" height="${h}" ${rest}>${label ? `<title>${label}</title>` : ''}</rect>`;
    });
    return open + rects.join('') + '</g>';
  });
  if (k !== marks.length) throw new Error(`renderSpec: found ${k} of ${marks.length} groups of mark '${a.mark}' in the SVG`);
  return out;
}

const PLOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Renders `spec` and writes `<name>.png`, `<name>.svg` and `<name>.vl.json` (the spec as drawn,
 * to restyle and re-render with any Vega-Lite tool) into `dir`. Returns the file names written.
 */
export async function writePlot(
  dir: string,
  name: string,
  spec: VegaLiteSpec,
  options: RenderOptions = {},
): Promise<Rendered & { files: string[] }> {
  if (!PLOT_NAME.test(name) || name.endsWith('.')) throw new Error(`writePlot: '${name}' is not a plot name (letters, digits, '.', '_', '-'; no folders)`);
  const r = await renderSpec(spec, options);
  mkdirSync(dir, { recursive: true });
  const files = [`${name}.png`, `${name}.svg`, `${name}.vl.json`];
  writeFileSync(path.join(dir, files[0]), r.png);
  writeFileSync(path.join(dir, files[1]), r.svg + '\n');
  writeFileSync(path.join(dir, files[2]), JSON.stringify(r.spec, null, 2) + '\n');
  return { ...r, files };
}
