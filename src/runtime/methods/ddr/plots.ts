// DDR's pictures as Vega-Lite specifications: the paper's scatter plots (coloured by content,
// marked by degradation, one panel per layer / model) and SRGA curves. Each is saved as its spec
// (<name>.vl.json, to restyle), an SVG and a PNG. Rendered here with vega + resvg until the
// shared src/runtime/render/vega.ts lands.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';

export type VlSpec = Record<string, unknown>;

/** Writes <name>.vl.json, <name>.svg and <name>.png into dir; returns the file names. */
export async function renderPlot(dir: string, name: string, spec: VlSpec): Promise<string[]> {
  writeFileSync(path.join(dir, `${name}.vl.json`), JSON.stringify(spec, null, 1) + '\n');
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  writeFileSync(path.join(dir, `${name}.svg`), svg);
  const png = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } }).render().asPng();
  writeFileSync(path.join(dir, `${name}.png`), png);
  return [`${name}.vl.json`, `${name}.svg`, `${name}.png`];
}

export interface ScatterPoint {
  panel: string;
  x: number;
  y: number;
  content: string;
  degradation: string;
  crop: string;
}

/** t-SNE/PCA scatter: colour = content, shape = degradation, one panel per set. */
export function scatterSpec(points: ScatterPoint[], title: string, axes: [string, string]): VlSpec {
  const panels = [...new Set(points.map((p) => p.panel))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: points },
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels },
    columns: Math.min(3, panels.length),
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 260,
      height: 260,
      mark: { type: 'point', filled: true, size: 60, opacity: 0.85 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: axes[0], axis: { labels: false, ticks: false } },
        y: { field: 'y', type: 'quantitative', title: axes[1], axis: { labels: false, ticks: false } },
        color: { field: 'content', type: 'nominal', title: 'content' },
        shape: { field: 'degradation', type: 'nominal', title: 'degradation' },
        tooltip: [{ field: 'crop' }, { field: 'degradation' }],
      },
    },
    config: { font: 'sans-serif' },
  };
}

export interface CurvePoint {
  series: string;
  test: string;
  order: number;
  srga: number;
  /** For degradation calls: the call (blur, noise, jpeg) and its strength (sigma, quality). */
  family?: string;
  strength?: number;
}

/**
 * SRGA against the test degradations: with calls, one panel per kind of degradation with its
 * strength on the x axis; otherwise the tests in the order given. One line per model / layer.
 */
export function srgaSpec(points: CurvePoint[], title: string): VlSpec {
  const color = { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 0, orient: 'bottom' } };
  const y = { field: 'srga', type: 'quantitative', title: 'SRGA (lower: closer to the reference)' };
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, data: { values: points }, config: { font: 'sans-serif' } };
  if (points.length > 0 && points.every((p) => p.family !== undefined && p.strength !== undefined)) {
    const families = [...new Set(points.map((p) => p.family))];
    return {
      ...base,
      facet: { column: { field: 'family', type: 'nominal', title: null, sort: families } },
      resolve: { scale: { x: 'independent' } },
      spec: {
        width: 240,
        height: 240,
        mark: { type: 'line', point: true },
        encoding: { x: { field: 'strength', type: 'quantitative', title: 'strength (sigma or quality)' }, y, color },
      },
    };
  }
  const tests = [...new Map(points.map((p) => [p.test, p.order])).entries()].sort((a, b) => a[1] - b[1]).map(([t]) => t);
  return {
    ...base,
    width: 420,
    height: 260,
    mark: { type: 'line', point: true },
    encoding: { x: { field: 'test', type: 'ordinal', sort: tests, title: 'test degradation', axis: { labelAngle: -30 } }, y, color },
  };
}
