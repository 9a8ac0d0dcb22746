// "DI vs network": one bar per table row, rows grouped by the categories that vary (image,
// window, ...), coloured by model. The split is decided here from the rows; the drawing is a
// Vega-Lite spec (charts.ts) on lvi's one plotting path (vega.ts): an SVG with no scripts, fonts
// or files fetched, so the report stays one self-contained page.

import { groupedBarSpec, type Row } from './charts.js';
import { renderSpec, type VegaLiteSpec } from './vega.js';

export type ChartCell = string | number | boolean | null;

export interface BarChartOptions {
  /** The numeric column drawn as bar heights (default `di`). */
  value?: string;
  /** The column that picks the bar colour (default `model` when it varies). */
  series?: string;
  /** Axis title; defaults to a readable name of the value column. */
  axisLabel?: string;
  /** Prefix for element ids, unique within the page (the SVG's title and description). */
  id?: string;
  /** Width the chart should fit in, px; it grows past it (and scrolls) only when bars would be thinner than 12 px. */
  maxWidth?: number;
}

/** How a chart splits the rows, decided from the rows alone. */
export interface BarChartPlan {
  value: string;
  series?: string;
  /** Columns that vary across rows and define the groups, outermost first. */
  groupBy: string[];
  /** Categorical columns with one value across all rows (said once, in the description). */
  constant: [string, string][];
}

/** Columns that identify a run rather than describe it: grouping by them gives one bar per group. */
const IDENTITY = new Set(['run']);

const AXIS_NAMES: Record<string, string> = {
  di: 'DI (diffusion index)',
  gini: 'Gini coefficient',
  psnr: 'PSNR (dB)',
  seconds: 'time (s)',
};

/** Text as XML/HTML character data or a double-quoted attribute value. */
export const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const cellText = (v: ChartCell | undefined) => (v === null || v === undefined ? '–' : String(v));

/** Whether a table can be charted by `value`: the column exists and some row has a finite number in it. */
export function hasChartValue(columns: string[], rows: Record<string, ChartCell>[], value = 'di'): boolean {
  return columns.includes(value) && rows.some((r) => typeof r[value] === 'number' && Number.isFinite(r[value]));
}

/** The split of rows into series and groups: categorical columns that vary group, `model` colours. */
export function planBarChart(columns: string[], rows: Record<string, ChartCell>[], options: BarChartOptions = {}): BarChartPlan {
  const value = options.value ?? 'di';
  const categorical = columns.filter((c) => {
    if (c === value || IDENTITY.has(c)) return false;
    const present = rows.map((r) => r[c]).filter((v) => v !== null && v !== undefined);
    return present.length > 0 && present.every((v) => typeof v === 'string' || typeof v === 'boolean');
  });
  const distinct = (c: string) => new Set(rows.map((r) => cellText(r[c]))).size;
  const varying = categorical.filter((c) => distinct(c) > 1);
  const series = options.series ?? (varying.includes('model') ? 'model' : undefined);
  return {
    value,
    series,
    groupBy: varying.filter((c) => c !== series),
    constant: categorical.filter((c) => distinct(c) === 1).map((c) => [c, cellText(rows[0][c])]),
  };
}

/** A one-sentence description of the chart, for captions and screen readers. */
export function describeBarChart(plan: BarChartPlan, rows: number): string {
  const axis = AXIS_NAMES[plan.value] ?? plan.value;
  const parts = [`${axis} of ${rows} run${rows === 1 ? '' : 's'}, one bar each`];
  if (plan.series) parts.push(`coloured by ${plan.series}`);
  if (plan.groupBy.length) parts.push(`grouped by ${plan.groupBy.join(' and ')}`);
  let text = parts.join(', ');
  if (plan.constant.length) text += `; ${plan.constant.map(([c, v]) => `${c} ${v}`).join(', ')} throughout`;
  return text + '.';
}

/** Value labels: three significant digits, as a reader compares bars. */
export function barLabel(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}


export interface BarChart {
  /** One `<svg>` element, fit for inlining in HTML or saving as an .svg file. */
  svg: string;
  /** The same chart as PNG (2 pixels per SVG px). */
  png: Buffer;
  /** The Vega-Lite spec drawn, for `<name>.vl.json`. */
  spec: VegaLiteSpec;
  /** Its natural size in px. */
  width: number;
  height: number;
  plan: BarChartPlan;
  /** The sentence the SVG's `<desc>` holds, for a caption. */
  description: string;
}

/** The rows as the spec reads them: fixed field names, so any column name (dots, brackets) is safe. */
function chartRows(rows: Record<string, ChartCell>[], plan: BarChartPlan): Row[] {
  const inner = plan.groupBy.length > 1 ? plan.groupBy.slice(1) : plan.groupBy;
  return rows.map((r, i) => {
    const v = r[plan.value];
    const value = typeof v === 'number' && Number.isFinite(v) ? v : null;
    return {
      row: i,
      value,
      label: value === null ? null : barLabel(value),
      series: plan.series ? cellText(r[plan.series]) : null,
      // Nothing varies but (maybe) the series: each row is its own group, named by its series.
      group: inner.length ? inner.map((c) => cellText(r[c])).join(' · ') : plan.series ? cellText(r[plan.series]) : `#${i + 1}`,
      panel: plan.groupBy.length > 1 ? cellText(r[plan.groupBy[0]]) : null,
    };
  });
}

/**
 * A bar chart of one column of a table, one bar per row, or undefined when no row has a number
 * in that column. Bars rise from zero, so their heights are proportional to the values. With two
 * or more varying categories the outermost one splits the chart into labelled panels.
 */
export async function barChart(columns: string[], rows: Record<string, ChartCell>[], options: BarChartOptions = {}): Promise<BarChart | undefined> {
  const plan = planBarChart(columns, rows, options);
  if (!hasChartValue(columns, rows, plan.value)) return undefined;
  const id = options.id ?? 'chart';
  const maxWidth = options.maxWidth ?? 1100;
  const axisLabel = options.axisLabel ?? AXIS_NAMES[plan.value] ?? plan.value;
  const data = chartRows(rows, plan);
  const groups = new Set(data.map((d) => `${d.panel}\u0000${d.group}`)).size;
  const perGroup = plan.series && plan.groupBy.length ? new Set(data.map((d) => d.series)).size : 1;
  // Bars share the width left of the axis and legend; under 12 px they stop shrinking (the figure scrolls).
  let barWidth = Math.max(12, Math.min(44, Math.floor((maxWidth - 160) / (groups * perGroup * 1.25))));
  const longest = Math.max(...data.map((d) => String(d.label ?? '').length));
  const inner = plan.groupBy.length > 1 ? plan.groupBy.slice(1) : plan.groupBy;
  const specFor = (barWidth: number) => {
  const spec = groupedBarSpec(data, {
    value: 'value',
    label: 'label',
    series: plan.series && plan.groupBy.length ? 'series' : undefined,
    group: 'group',
    panel: plan.groupBy.length > 1 ? 'panel' : undefined,
    valueTitle: axisLabel,
    groupTitle: inner.join(' · '),
    barWidth,
    // 10 px digits are ~6.4 px wide in DejaVu Sans: labels wider than the bar turn upright.
    uprightLabels: longest * 6.4 > barWidth,
  });
  const seriesTitle = plan.series && plan.groupBy.length ? plan.series : '';
  // Name the axes, legend and panels by their columns, not by the spec's fixed field names.
  const layer = (spec.spec ?? spec) as { layer: { encoding: Record<string, { title?: string }> }[] };
  for (const l of layer.layer) {
    if (l.encoding.xOffset) l.encoding.xOffset.title = seriesTitle;
    if (l.encoding.color) l.encoding.color.title = seriesTitle;
  }
  if (spec.facet) (spec.facet as { column: { title?: string } }).column.title = plan.groupBy[0];
  return spec;
  };
  const description = describeBarChart(plan, rows.length);
  const render = (w: number) =>
    renderSpec(specFor(w), {
      className: 'bar-chart',
      id,
      title: `${axisLabel} by ${plan.series ?? 'run'}`,
      description,
      rects: [{ mark: 'bars_marks', className: 'bar', data: (d) => ({ row: Number(d.row), series: String(d.series ?? ''), value: Number(d.value) }) }],
    });
  let r = await render(barWidth);
  if (r.width > maxWidth && barWidth > 12) {
    // The width is linear in the bar width (axes, legend and gaps fixed): two renders give the line.
    const half = Math.max(1, Math.floor(barWidth / 2));
    const perPx = (r.width - (await render(half)).width) / (barWidth - half);
    barWidth = Math.max(12, Math.floor(barWidth - (r.width - maxWidth) / perPx));
    r = await render(barWidth);
  }
  return { svg: r.svg, png: r.png, spec: r.spec, width: r.width, height: r.height, plan, description };
}
