// Vega-Lite spec builders for lvi's plots: pure functions from rows to a spec, drawn by
// renderSpec/writePlot (vega.ts). Categories keep the order they first appear in (sort: null),
// since lvi's rows come in the study's order (models, layers, strengths as written).

import type { VegaLiteSpec } from './vega.js';

export type Row = Record<string, string | number | boolean | null>;

const nominal = (field: string, title?: string) => ({ field, type: 'nominal', sort: null, ...(title !== undefined ? { title } : {}) });

/** A field's values in order of first appearance: facets ignore `sort: null`, so they get the list. */
const appearance = (rows: Row[], field: string) => [...new Set(rows.map((r) => r[field]))];

function need(rows: Row[], fields: (string | undefined)[], what: string): void {
  if (rows.length === 0) throw new Error(`${what}: no rows to plot`);
  for (const f of fields) if (f !== undefined && !rows.some((r) => f in r)) throw new Error(`${what}: no row has a '${f}' field`);
}

export interface GroupedBarOptions {
  /** Numeric field drawn as bar heights. */
  value: string;
  /** Field whose categories sit side by side in a group and pick the colour. */
  series?: string;
  /** Field of the groups along x (default: one group per row). */
  group?: string;
  /** Field of the panels the groups are split into (one column each, labelled once above). */
  panel?: string;
  /** Field with each bar's printed value (default: the value itself). */
  label?: string;
  /** Name of the bar layer; its marks are `<name>_marks` in Vega. */
  name?: string;
  valueTitle?: string;
  groupTitle?: string;
  title?: string;
  /** Width of one bar, px. */
  barWidth?: number;
  height?: number;
  /** Turn value labels upright (for bars thinner than their labels). */
  uprightLabels?: boolean;
}

/** Bars from zero, grouped along x, series side by side (xOffset) and coloured, values printed on top. */
export function groupedBarSpec(rows: Row[], o: GroupedBarOptions): VegaLiteSpec {
  need(rows, [o.value, o.series, o.group, o.panel, o.label], 'grouped bar chart');
  const group = o.group ?? '__group';
  const data = o.group ? rows : rows.map((r, i) => ({ ...r, __group: o.series ? String(r[o.series]) : `#${i + 1}` }));
  const label = o.label ?? o.value;
  const x = { ...nominal(group, o.groupTitle ?? (o.group ? o.group : '')), axis: { labelAngle: 0, labelLimit: 160 } };
  const y = { field: o.value, type: 'quantitative', title: o.valueTitle ?? o.value };
  const offset = o.series ? { xOffset: nominal(o.series) } : {};
  const color = o.series ? { color: { ...nominal(o.series), legend: o.group ? { orient: 'top' } : null } } : {};
  const valueText = (filter: string, above: boolean) => ({
    transform: [{ filter }],
    mark: o.uprightLabels
      ? { type: 'text', angle: 270, align: above ? 'left' : 'right', baseline: 'middle', dx: above ? 3 : -3, fontSize: 10 }
      : { type: 'text', baseline: above ? 'bottom' : 'top', dy: above ? -3 : 3, fontSize: 10 },
    encoding: { x, ...offset, y, text: { field: label } },
  });
  const layer = {
    width: { step: o.barWidth ?? 30, for: 'offset' },
    height: o.height ?? 260,
    layer: [
      { name: o.name ?? 'bars', mark: { type: 'bar' }, encoding: { x, ...offset, y, ...color } },
      valueText(`isValid(datum[${JSON.stringify(o.value)}]) && datum[${JSON.stringify(o.value)}] >= 0`, true),
      valueText(`isValid(datum[${JSON.stringify(o.value)}]) && datum[${JSON.stringify(o.value)}] < 0`, false),
      {
        // Rows without a value stay visible as an "n/a" at the baseline, not a silent gap.
        transform: [{ filter: `!isValid(datum[${JSON.stringify(o.value)}])` }],
        mark: { type: 'text', baseline: 'bottom', dy: -3, fontSize: 10, color: '#888' },
        encoding: { x, ...offset, y: { datum: 0, type: 'quantitative' }, text: { value: 'n/a' } },
      },
    ],
  };
  const spec: VegaLiteSpec = o.panel
    ? {
        data: { values: data },
        facet: { column: { ...nominal(o.panel), sort: appearance(rows, o.panel), header: { labelOrient: 'bottom', titleOrient: 'bottom' } } },
        spec: layer,
        resolve: { scale: { x: 'independent' } },
      }
    : { data: { values: data }, ...layer };
  if (o.title) spec.title = o.title;
  return spec;
}

export interface ScatterOptions {
  x: string;
  y: string;
  /** Field picking the colour (DDR: content). */
  color?: string;
  /** Field picking the marker (DDR: degradation). */
  shape?: string;
  /** Field of the panels, one small plot each (DDR: layer or model). */
  panel?: string;
  /** Panels per row (default 3). */
  columns?: number;
  xTitle?: string;
  yTitle?: string;
  title?: string;
  /** Size of one panel, px (default 220). */
  size?: number;
  /** Each panel its own axes (t-SNE coordinates of different layers are not comparable). */
  independent?: boolean;
}

/** Points coloured and shaped by two labels, one panel per value of a third. */
export function scatterSpec(rows: Row[], o: ScatterOptions): VegaLiteSpec {
  need(rows, [o.x, o.y, o.color, o.shape, o.panel], 'scatter plot');
  const size = o.size ?? 220;
  const unit = {
    width: size,
    height: size,
    mark: { type: 'point', filled: true, size: 36, opacity: 0.85 },
    encoding: {
      x: { field: o.x, type: 'quantitative', title: o.xTitle ?? o.x, scale: { zero: false } },
      y: { field: o.y, type: 'quantitative', title: o.yTitle ?? o.y, scale: { zero: false } },
      ...(o.color ? { color: nominal(o.color) } : {}),
      ...(o.shape ? { shape: nominal(o.shape) } : {}),
    },
  };
  const spec: VegaLiteSpec = o.panel
    ? {
        data: { values: rows },
        facet: { ...nominal(o.panel), sort: appearance(rows, o.panel) },
        columns: o.columns ?? 3,
        spec: { ...unit, name: 'points' },
        ...(o.independent ?? true ? { resolve: { scale: { x: 'independent', y: 'independent' } } } : {}),
      }
    : { data: { values: rows }, name: 'points', ...unit };
  if (o.title) spec.title = o.title;
  return spec;
}

export interface LineOptions {
  x: string;
  y: string;
  /** Field naming each line (SRGA: network; FAIG: which kernels). */
  series?: string;
  xTitle?: string;
  yTitle?: string;
  title?: string;
  /** x scale: 'linear' (default) or 'log' (e.g. lambda). */
  xScale?: 'linear' | 'log';
  width?: number;
  height?: number;
}

/** One line per series with a point at each measurement (y against degradation strength, lambda, ...). */
export function lineSpec(rows: Row[], o: LineOptions): VegaLiteSpec {
  need(rows, [o.x, o.y, o.series], 'line chart');
  const spec: VegaLiteSpec = {
    data: { values: rows },
    width: o.width ?? 420,
    height: o.height ?? 260,
    name: 'lines',
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: o.x, type: 'quantitative', title: o.xTitle ?? o.x, scale: { type: o.xScale ?? 'linear', zero: false } },
      y: { field: o.y, type: 'quantitative', title: o.yTitle ?? o.y, scale: { zero: false } },
      ...(o.series ? { color: nominal(o.series) } : {}),
    },
  };
  if (o.title) spec.title = o.title;
  return spec;
}

export interface LayerBarOptions {
  /** Field of the layer name, in network order along x. */
  layer: string;
  value: string;
  /** Field of the category within a layer (FAIG: "top 1%", "top 5%"). */
  group: string;
  /** Stack the groups in one bar per layer instead of side by side. */
  stacked?: boolean;
  valueTitle?: string;
  layerTitle?: string;
  title?: string;
  height?: number;
}

/** Per-layer bars split by a category: grouped (side by side) or stacked. */
export function layerBarSpec(rows: Row[], o: LayerBarOptions): VegaLiteSpec {
  need(rows, [o.layer, o.value, o.group], 'per-layer bar chart');
  const spec: VegaLiteSpec = {
    data: { values: rows },
    width: { step: o.stacked ? 22 : 12, ...(o.stacked ? {} : { for: 'offset' }) },
    height: o.height ?? 240,
    name: 'bars',
    mark: { type: 'bar' },
    encoding: {
      x: { ...nominal(o.layer, o.layerTitle ?? o.layer), axis: { labelAngle: -45, labelLimit: 160 } },
      y: { field: o.value, type: 'quantitative', title: o.valueTitle ?? o.value, ...(o.stacked ? { stack: 'zero' } : { stack: null }) },
      color: { ...nominal(o.group), legend: { orient: 'top' } },
      ...(o.stacked ? { order: { field: '__order' } } : { xOffset: nominal(o.group) }),
    },
  };
  if (o.stacked) {
    // Stack in the order the groups first appear, not alphabetically.
    const order = [...new Set(rows.map((r) => String(r[o.group])))];
    spec.transform = [{ calculate: `indexof(${JSON.stringify(order)}, datum[${JSON.stringify(o.group)}])`, as: '__order' }];
  }
  if (o.title) spec.title = o.title;
  return spec;
}
