// Grouped bar charts as inline SVG ("DI vs network"): one bar per table row, rows grouped by the
// categories that vary (image, window, ...), coloured by model. Plain text out, no scripts, no
// fonts or files fetched, so the report stays one self-contained page.

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
  /** Width the chart should fit in, px; it grows past it (and scrolls) only when bars would be thinner than 14 px. */
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

interface Bar {
  row: number;
  value: number | undefined;
  series: string;
  x: number;
}

interface Group {
  key: string[];
  bars: Bar[];
  x0: number;
  x1: number;
}

// Paul Tol's "bright" scheme: distinct for colour-blind readers and in greyscale print.
const PALETTE = ['#4477AA', '#EE6677', '#228833', '#CCBB44', '#66CCEE', '#AA3377', '#BBBBBB'];
const FONT = `system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif`;
const TICK_FONT = 12;
const VALUE_FONT = 10.5;
const PLOT_HEIGHT = 260;
const MIN_BAR = 14;
const MAX_BAR = 44;
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
const px = (v: number) => String(Math.round(v * 100) / 100);
/** Advance width of sans-serif text, by character class: close enough to keep labels apart. */
function textWidth(s: string, size: number): number {
  let em = 0;
  for (const ch of s) {
    if (/[ijlI.,:;'|!()[\]]/.test(ch)) em += 0.3;
    else if (/[ft\- ]/.test(ch)) em += 0.36;
    else if (/[mwMW]/.test(ch)) em += 0.88;
    else if (/[0-9]/.test(ch)) em += 0.56;
    else if (/[A-Z]/.test(ch)) em += 0.68;
    else em += 0.56;
  }
  return em * size;
}
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

/** Ticks at 1, 2 or 5 times a power of ten, from `lo` to the first tick at or above `hi`. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  const first = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let t = first; t < hi + step - 1e-9 * step; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1] < hi - 1e-9 * step) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

export interface BarChart {
  /** One `<svg>` element, fit for inlining in HTML or saving as an .svg file. */
  svg: string;
  /** Its natural size in px (the SVG scales down to narrower containers). */
  width: number;
  height: number;
  plan: BarChartPlan;
  /** The sentence the SVG's `<desc>` holds, for a caption. */
  description: string;
}

/**
 * A bar chart of one column of a table, one bar per row, or undefined when no row has a number
 * in that column. Bars rise from zero, so their heights are proportional to the values.
 */
export function barChart(columns: string[], rows: Record<string, ChartCell>[], options: BarChartOptions = {}): BarChart | undefined {
  const plan = planBarChart(columns, rows, options);
  if (!hasChartValue(columns, rows, plan.value)) return undefined;
  const id = options.id ?? 'chart';
  const maxWidth = options.maxWidth ?? 1100;
  const axisLabel = options.axisLabel ?? AXIS_NAMES[plan.value] ?? plan.value;
  const values = rows.map((r) => {
    const v = r[plan.value];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  });

  // Series in order of first appearance; groups ordered level by level in that order too, so an
  // outer category's groups sit side by side under one bracket.
  const seriesOf = (i: number) => (plan.series ? cellText(rows[i][plan.series]) : '');
  const seriesNames = [...new Set(rows.map((_, i) => seriesOf(i)))];
  const firstSeen = plan.groupBy.map((c) => [...new Set(rows.map((r) => cellText(r[c])))]);
  const groups = new Map<string, Group>();
  rows.forEach((r, i) => {
    const key = plan.groupBy.map((c) => cellText(r[c]));
    // Nothing varies but (maybe) the series: each row is its own group, named by its series.
    const name = plan.groupBy.length ? JSON.stringify(key) : String(i);
    const label = plan.groupBy.length ? key : [plan.series ? seriesOf(i) : `#${i + 1}`];
    if (!groups.has(name)) groups.set(name, { key: label, bars: [], x0: 0, x1: 0 });
    groups.get(name)!.bars.push({ row: i, value: values[i], series: seriesOf(i), x: 0 });
  });
  const order = [...groups.values()];
  const rank = (g: Group) => g.key.map((k, l) => (plan.groupBy.length ? firstSeen[l].indexOf(k) : 0));
  order.sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let l = 0; l < ra.length; l++) if (ra[l] !== rb[l]) return ra[l] - rb[l];
    return 0;
  });
  for (const g of order) g.bars.sort((a, b) => seriesNames.indexOf(a.series) - seriesNames.indexOf(b.series));
  const levels = order[0].key.length;
  const legend = plan.series !== undefined && plan.groupBy.length > 0;

  const present = values.filter((v): v is number => v !== undefined);
  const lo = Math.min(0, ...present);
  const hi = Math.max(0, ...present);
  const right = 16;
  const gapUnits = 0.9; // the space between groups, in bar widths
  const levelRoom = Math.max(0, ...plan.groupBy.map((n) => textWidth(n, TICK_FONT - 1) + 10));

  // Bar width from the room left of the y labels, the y labels from the scale, the scale from
  // the room the value labels need (rotated on thin bars): settle it in a few rounds.
  let left = 40;
  let bar = 0;
  let gap = 0;
  let ticks: number[] = [];
  let labelsFit = true;
  for (let round = 0; round < 4; round++) {
    const room = maxWidth - left - right;
    bar = Math.max(MIN_BAR, Math.min(MAX_BAR, room / (rows.length + gapUnits * order.length)));
    // Groups widened by long labels take room from the bars.
    for (let k = 0; k < 8 && bar > MIN_BAR; k++) {
      const total = plotWidth(order, bar, Math.max(12, gapUnits * bar), levels);
      if (total <= room - 1) break;
      bar = Math.max(MIN_BAR, bar * ((room - 2) / total));
    }
    gap = Math.max(12, gapUnits * bar);
    labelsFit = present.every((v) => textWidth(barLabel(v), VALUE_FONT) <= bar + 1);
    const labelRoom = labelsFit ? VALUE_FONT + 6 : Math.max(...present.map((v) => textWidth(barLabel(v), VALUE_FONT))) + 8;
    const head = PLOT_HEIGHT / Math.max(1, PLOT_HEIGHT - labelRoom);
    ticks = niceTicks(lo < 0 ? lo * head : 0, hi > 0 ? hi * head : lo < 0 ? 0 : 1);
    const need = Math.ceil(Math.max(32 + Math.max(...ticks.map((t) => textWidth(barLabel(t), TICK_FONT))), levelRoom));
    if (need === left) break;
    left = need;
  }
  const yTickWidth = Math.max(...ticks.map((t) => textWidth(barLabel(t), TICK_FONT)));

  // Groups side by side, each at least as wide as its innermost label.
  let x = left + gap / 2;
  for (const g of order) {
    const width = groupWidth(g, bar, levels);
    g.x0 = x;
    g.x1 = x + width;
    const start = x + (width - g.bars.length * bar) / 2;
    g.bars.forEach((b, k) => (b.x = start + k * bar));
    x += width + gap;
  }
  const width = Math.ceil(x - gap / 2 + right);
  const top = ticks[ticks.length - 1];
  const bottom = ticks[0];
  const legendRows = legend ? legendLayout(seriesNames, plan.series!, left, width - right) : { height: 0, items: [] };
  const plotTop = 14 + legendRows.height;
  const plotBottom = plotTop + PLOT_HEIGHT;
  const y = (v: number) => plotBottom - ((v - bottom) / (top - bottom)) * PLOT_HEIGHT;
  const height = Math.ceil(plotBottom + 10 + levels * (TICK_FONT + 10) + 6);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" role="img" aria-labelledby="${xml(id)}-title ${xml(id)}-desc" ` +
      `viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="${xml(FONT)}"${width <= maxWidth ? ' style="max-width:100%;height:auto"' : ''}>`,
  );
  out.push(`<title id="${xml(id)}-title">${xml(`${axisLabel} by ${plan.series ?? 'run'}`)}</title>`);
  const description = describeBarChart(plan, rows.length);
  out.push(`<desc id="${xml(id)}-desc">${xml(description)}</desc>`);

  // Grid and y axis.
  out.push('<g class="y-axis" font-size="' + TICK_FONT + '" fill="#444" text-anchor="end">');
  for (const t of ticks) {
    const ty = px(y(t));
    out.push(`<line x1="${px(left)}" x2="${px(width - right)}" y1="${ty}" y2="${ty}" stroke="${t === 0 ? '#333' : '#e2e2e2'}" stroke-width="${t === 0 ? 1 : 0.8}"/>`);
    out.push(`<text x="${px(left - 6)}" y="${ty}" dy="0.32em">${xml(barLabel(t))}</text>`);
  }
  const midY = (plotTop + plotBottom) / 2;
  const axisX = Math.max(12, left - yTickWidth - 16);
  out.push(`<text class="axis-label" transform="translate(${px(axisX)} ${px(midY)}) rotate(-90)" text-anchor="middle" fill="#222" font-size="13">${xml(axisLabel)}</text>`);
  out.push(`<line x1="${px(left)}" x2="${px(left)}" y1="${px(plotTop)}" y2="${px(plotBottom)}" stroke="#333"/>`);
  out.push('</g>');

  // Bars with value labels, one <g> per group.
  const y0 = y(0);
  for (const g of order) {
    out.push(`<g class="group" data-group="${xml(g.key.join(' · '))}">`);
    for (const b of g.bars) {
      const color = PALETTE[seriesNames.indexOf(b.series) % PALETTE.length];
      const who = [plan.series ? b.series : '', ...(plan.groupBy.length ? g.key : [])].filter(Boolean).join(' · ') || `row ${b.row + 1}`;
      const cx = b.x + bar / 2;
      if (b.value === undefined) {
        out.push(`<text class="missing" x="${px(cx)}" y="${px(y0 - 4)}" font-size="${VALUE_FONT}" text-anchor="middle" fill="#888"><title>${xml(`${who}: no ${plan.value}`)}</title>n/a</text>`);
        continue;
      }
      const yTop = Math.min(y(b.value), y0);
      const h = Math.abs(y(b.value) - y0);
      out.push(
        `<rect class="bar" data-row="${b.row}" data-series="${xml(b.series)}" data-value="${b.value}" x="${px(b.x + 1)}" y="${px(yTop)}" width="${px(bar - 2)}" height="${px(h)}" fill="${color}">` +
          `<title>${xml(`${who}: ${plan.value} ${barLabel(b.value)}`)}</title></rect>`,
      );
      const label = barLabel(b.value);
      const above = b.value >= 0;
      const ly = above ? y(b.value) - 4 : y(b.value) + 4;
      if (labelsFit) {
        out.push(`<text class="value" x="${px(cx)}" y="${px(ly)}"${above ? '' : ' dy="0.8em"'} font-size="${VALUE_FONT}" text-anchor="middle" fill="#222">${xml(label)}</text>`);
      } else {
        // Too narrow for a level label: read it bottom to top, as y-axis text is read.
        out.push(
          `<text class="value" transform="translate(${px(cx)} ${px(ly)}) rotate(-90)" dy="0.35em" font-size="${VALUE_FONT}" text-anchor="${above ? 'start' : 'end'}" fill="#222">${xml(label)}</text>`,
        );
      }
    }
    out.push('</g>');
  }

  // Category labels: the innermost level under each group, each outer level once under the run
  // of groups it spans, with a bracket.
  out.push(`<g class="x-axis" font-size="${TICK_FONT}" fill="#222" text-anchor="middle">`);
  for (let l = levels - 1, line = 0; l >= 0; l--, line++) {
    const ly = plotBottom + 8 + TICK_FONT + line * (TICK_FONT + 10);
    const spans: { label: string; prefix: string; x0: number; x1: number }[] = [];
    for (const g of order) {
      const prefix = JSON.stringify(g.key.slice(0, l + 1));
      const last = spans[spans.length - 1];
      if (l < levels - 1 && last?.prefix === prefix) last.x1 = g.x1;
      else spans.push({ label: g.key[l], prefix, x0: g.x0, x1: g.x1 });
    }
    for (const s of spans) {
      const cx = (s.x0 + s.x1) / 2;
      if (l < levels - 1) {
        const by = ly - TICK_FONT - 1;
        out.push(`<path class="bracket" d="M${px(s.x0)} ${px(by - 4)}V${px(by)}H${px(s.x1)}V${px(by - 4)}" fill="none" stroke="#999"/>`);
      }
      out.push(`<text class="group-label" data-level="${l}" x="${px(cx)}" y="${px(ly)}"${l < levels - 1 ? ' font-weight="600"' : ''}>${xml(s.label)}</text>`);
    }
    // Which column each line of labels shows, in the margin beside it.
    if (plan.groupBy.length) {
      out.push(`<text class="level-name" x="${px(left - 6)}" y="${px(ly)}" text-anchor="end" font-size="${TICK_FONT - 1}" fill="#666" font-style="italic">${xml(plan.groupBy[l])}</text>`);
    }
  }
  out.push('</g>');

  if (legend) {
    out.push(`<g class="legend" font-size="${TICK_FONT}" fill="#222">`);
    out.push(`<text x="${px(left)}" y="${px(legendRows.items[0]?.y ?? 0)}" dy="0.35em" fill="#555">${xml(plan.series!)}</text>`);
    legendRows.items.forEach((it, k) => {
      out.push(
        `<g class="legend-item" data-series="${xml(seriesNames[k])}"><rect x="${px(it.x)}" y="${px(it.y - 6)}" width="12" height="12" fill="${PALETTE[k % PALETTE.length]}"/>` +
          `<text x="${px(it.x + 17)}" y="${px(it.y)}" dy="0.35em">${xml(seriesNames[k])}</text></g>`,
      );
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return { svg: out.join('\n'), width, height, plan, description };
}

/** A group's width: its bars, or its innermost label where that is wider. */
function groupWidth(g: Group, bar: number, levels: number): number {
  return Math.max(g.bars.length * bar, textWidth(g.key[levels - 1], TICK_FONT) + 10);
}

function plotWidth(groups: Group[], bar: number, gap: number, levels: number): number {
  return groups.reduce((s, g) => s + groupWidth(g, bar, levels) + gap, 0);
}

/** Legend entries left to right after the series column's name, wrapping to new lines. */
function legendLayout(names: string[], title: string, left: number, right: number): { height: number; items: { x: number; y: number }[] } {
  const line = TICK_FONT + 8;
  let x = left + textWidth(title, TICK_FONT) + 12;
  let y = 8 + line / 2;
  const items: { x: number; y: number }[] = [];
  for (const n of names) {
    const w = 17 + textWidth(n, TICK_FONT) + 16;
    if (x + w > right && items.length) {
      x = left + textWidth(title, TICK_FONT) + 12;
      y += line;
    }
    items.push({ x, y });
    x += w;
  }
  return { height: y + line / 2 + 4, items };
}
