// DDR's pictures as Vega-Lite specifications, drawn by lvi's plotting path
// (src/runtime/render/vega.ts: <name>.png, .svg and the spec as <name>.vl.json): the paper's
// scatter plots (coloured by content, marked by degradation, one panel per layer / model; the
// shared scatter builder) and SRGA curves (one panel per kind of degradation).

import { scatterSpec as sharedScatter } from '../../render/charts.js';
import { writePlot, type VegaLiteSpec } from '../../render/vega.js';

export type VlSpec = VegaLiteSpec;

/** Writes <name>.png, <name>.svg and <name>.vl.json into dir; returns the file names. */
export async function renderPlot(dir: string, name: string, spec: VlSpec): Promise<string[]> {
  return (await writePlot(dir, name, spec)).files;
}

export interface ScatterPoint {
  panel: string;
  x: number;
  y: number;
  content: string;
  degradation: string;
  crop: string;
}

/** Embedding scatter: colour = content, shape = degradation, one panel per set, own axes each. */
export function scatterSpec(points: ScatterPoint[], title: string, axes: [string, string]): VlSpec {
  return sharedScatter(points as unknown as Record<string, string | number>[], {
    x: 'x',
    y: 'y',
    color: 'content',
    shape: 'degradation',
    panel: 'panel',
    columns: 3,
    xTitle: axes[0],
    yTitle: axes[1],
    title,
    independent: true,
  });
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
  const base = { title, data: { values: points } };
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
