// The "DI vs network" bar chart, drawn through lvi's Vega-Lite path and read back as a browser
// would: the SVG is parsed with parse5 and every check works on what is drawn (bar rects, axis
// label positions, text), the PNG is decoded.

import { describe, expect, it } from 'vitest';
import { barChart, barLabel, type ChartCell } from '../../../src/runtime/render/bar-chart.js';
import { attr, elements, num, ownText, parseSvg, readPng, texts, translate, type Node5 } from './svg-helpers.js';

// DI of the lam-zoo example (examples/lam-zoo.lvi): 4 models x 3 images x 2 windows, in the
// table's row order (statement, then model, then window).
const MODELS = ['slim', 'medium', 'thick', 'rdn'];
const WINDOWS: Record<string, string[]> = {
  cat: ['(188,100,16,16)', '(120,200,16,16)'],
  coffee: ['(120,100,16,16)', '(40,40,16,16)'],
  astro: ['(200,100,16,16)', '(240,220,16,16)'],
};
const DI = [
  [0.6507, 0.7841, 0.8072, 0.9289, 0.7296, 0.6698, 0.9717, 1.44],
  [0.8746, 1.05, 1.03, 1.33, 0.7361, 0.8435, 1.38, 1.55],
  [0.1816, 0.3756, 0.1976, 0.5195, 0.1622, 0.2136, 0.327, 0.8199],
];
const COLUMNS = ['model', 'image', 'window', 'di', 'gini', 'params', 'seconds'];
const ROWS: Record<string, ChartCell>[] = [];
Object.keys(WINDOWS).forEach((image, i) =>
  MODELS.forEach((model, m) =>
    WINDOWS[image].forEach((window, w) => {
      const di = DI[i][m * 2 + w];
      ROWS.push({ model, image, window, di, gini: 1 - di / 100, params: 1000 * (m + 1), seconds: 0.5 });
    }),
  ),
);

async function draw(columns: string[], rows: Record<string, ChartCell>[]) {
  const chart = (await barChart(columns, rows, { id: 'c1' }))!;
  expect(chart).toBeDefined();
  return { chart, svg: parseSvg(chart.svg) };
}

/** The y axis as drawn: value per tick label and its y (label offsets cancel in differences). */
function yAxis(svg: Node5) {
  const axis = elements(svg, 'g', 'role-axis').find((g) => (attr(g, 'aria-label') ?? '').startsWith('Y-axis'))!;
  const labels = elements(elements(axis, 'g', 'role-axis-label')[0], 'text');
  const ticks = labels.map((t) => ({ value: Number(ownText(t).replace('\u2212', '-')), y: translate(t)[1] }));
  const zero = ticks.find((t) => t.value === 0)!;
  const top = ticks[ticks.length - 1];
  return { ticks, title: texts(axis, 'role-axis-title'), pxPerUnit: (zero.y - top.y) / (top.value - zero.value) };
}
const valueLabels = (svg: Node5) => elements(svg, 'g', 'mark-text role-mark').flatMap((g) => elements(g, 'text').map(ownText));
const bottom = (b: Node5) => num(b, 'y') + num(b, 'height');

describe('bar chart of DI', () => {
  it('draws one bar per row, its height DI times the y axis scale (to 1e-9 px), all from one baseline', async () => {
    const { svg } = await draw(COLUMNS, ROWS);
    const bars = elements(svg, 'rect', 'bar');
    expect(bars).toHaveLength(ROWS.length);
    expect(new Set(bars.map((b) => num(b, 'data-row')))).toEqual(new Set(ROWS.map((_, i) => i)));
    const { ticks, pxPerUnit, title } = yAxis(svg);
    expect(title).toEqual(['DI (diffusion index)']);
    expect(ticks[0].value).toBe(0);
    expect(ticks[ticks.length - 1].value).toBeGreaterThanOrEqual(1.4);
    for (const b of bars) {
      const row = ROWS[num(b, 'data-row')];
      expect(num(b, 'data-value')).toBe(row.di);
      expect(Math.abs(num(b, 'height') - (row.di as number) * pxPerUnit)).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(bottom(b) - bottom(bars[0]))).toBeLessThanOrEqual(1e-9);
    }
  });

  it('prints every DI to three significant digits and names each bar in its tooltip', async () => {
    const { svg } = await draw(COLUMNS, ROWS);
    expect(valueLabels(svg).sort()).toEqual(ROWS.map((r) => String(Number((r.di as number).toPrecision(3)))).sort());
    for (const b of elements(svg, 'rect', 'bar')) {
      const row = ROWS[num(b, 'data-row')];
      const tip = ownText(elements(b, 'title')[0].childNodes![0]);
      expect(tip).toContain(`model: ${row.model}`);
      expect(tip).toContain(`window: ${row.window}`);
    }
  });

  it('one panel per image, windows along x, models side by side in legend order and colour', async () => {
    const { svg, chart } = await draw(COLUMNS, ROWS);
    expect(chart.plan).toMatchObject({ value: 'di', series: 'model', groupBy: ['image', 'window'] });
    const panels = elements(svg, 'g', 'bars_marks');
    expect(panels).toHaveLength(3);
    expect(texts(svg, 'column_footer')).toEqual(Object.keys(WINDOWS));
    expect(texts(svg, 'column-title')).toEqual(['image']);
    Object.entries(WINDOWS).forEach(([image, windows], k) => {
      const bars = elements(panels[k], 'rect', 'bar');
      for (const b of bars) expect(ROWS[num(b, 'data-row')].image).toBe(image);
      // Left to right: window by window, the four models in order within each.
      const order = [...bars].sort((a, b) => num(a, 'x') - num(b, 'x')).map((b) => `${ROWS[num(b, 'data-row')].window} ${attr(b, 'data-series')}`);
      expect(order).toEqual(windows.flatMap((w) => MODELS.map((m) => `${w} ${m}`)));
    });
    const xLabels = elements(svg, 'g', 'role-axis').filter((g) => (attr(g, 'aria-label') ?? '').startsWith('X-axis')).map((g) => texts(g, 'role-axis-label'));
    expect(xLabels).toEqual(Object.values(WINDOWS));
    expect(texts(svg, 'role-legend-label')).toEqual(MODELS);
    const legendFill = elements(svg, 'g', 'role-legend-symbol').map((g) => attr(elements(g, 'path')[0], 'fill'));
    expect(new Set(legendFill).size).toBe(MODELS.length);
    for (const b of elements(svg, 'rect', 'bar')) expect(attr(b, 'fill')).toBe(legendFill[MODELS.indexOf(attr(b, 'data-series')!)]);
  });

  it('is accessible and self-contained: role, title and description, no scripts or links; a PNG twice its size', async () => {
    const { svg, chart } = await draw(COLUMNS, ROWS);
    expect(attr(svg, 'class')).toBe('bar-chart');
    expect(attr(svg, 'role')).toBe('img');
    const [titleId, descId] = attr(svg, 'aria-labelledby')!.split(' ');
    expect(ownText(elements(svg, 'title').find((t) => attr(t, 'id') === titleId)!)).toBe('DI (diffusion index) by model');
    const desc = elements(svg, 'desc').find((t) => attr(t, 'id') === descId)!;
    expect(ownText(desc)).toBe('DI (diffusion index) of 24 runs, one bar each, coloured by model, grouped by image and window.');
    expect(chart.description).toBe(ownText(desc));
    for (const tag of ['script', 'image', 'use', 'a', 'foreignObject', 'style']) expect(elements(svg, tag)).toHaveLength(0);
    expect(chart.svg).not.toMatch(/href=|url\(|@import/i);
    expect(`${attr(svg, 'width')}x${attr(svg, 'height')}`).toBe(`${chart.width}x${chart.height}`);
    expect(chart.width).toBeLessThanOrEqual(1100);
    const png = readPng(chart.png);
    expect([png.width, png.height]).toEqual([2 * chart.width, 2 * chart.height]);
    expect((chart.spec.config as Record<string, unknown>).font).toMatch(/^DejaVu Sans/);
  });

  it('escapes names (a <script> model stays text) and keeps rows without a DI as labelled gaps', async () => {
    const evil = '<script>alert("x")</script>&';
    const rows: Record<string, ChartCell>[] = [
      { model: evil, image: 'x', di: 2 },
      { model: 'plain', image: 'x', di: null },
      { model: evil, image: 'y', di: 0.5 },
      { model: 'plain', image: 'y', di: 1 },
    ];
    const { svg, chart } = await draw(['model', 'image', 'di'], rows);
    expect(elements(svg, 'script')).toHaveLength(0);
    expect(chart.svg).not.toContain('<script');
    expect(texts(svg, 'role-legend-label')).toEqual([evil, 'plain']);
    const bars = elements(svg, 'rect', 'bar');
    expect(bars.map((b) => num(b, 'data-row'))).toEqual([0, 2, 3]);
    expect(bars.map((b) => attr(b, 'data-series'))).toEqual([evil, evil, 'plain']);
    expect(valueLabels(svg)).toContain('n/a');
    const { pxPerUnit } = yAxis(svg);
    for (const b of bars) expect(Math.abs(num(b, 'height') - (rows[num(b, 'data-row')].di as number) * pxPerUnit)).toBeLessThanOrEqual(1e-9);
  });

  it('keeps the legend order in every group, whatever the row order', async () => {
    const rows = [
      { model: 'A', image: 'g1', di: 1 },
      { model: 'B', image: 'g1', di: 2 },
      { model: 'B', image: 'g2', di: 3 },
      { model: 'A', image: 'g2', di: 4 },
      { model: 'C', image: 'g1', di: 5 },
    ];
    const { svg } = await draw(['model', 'image', 'di'], rows);
    const bars = [...elements(svg, 'rect', 'bar')].sort((a, b) => num(a, 'x') - num(b, 'x'));
    expect(bars.map((b) => `${attr(b, 'data-series')}${attr(b, 'data-value')}`)).toEqual(['A1', 'B2', 'C5', 'A4', 'B3']);
    expect(texts(svg, 'role-legend-label')).toEqual(['A', 'B', 'C']);
  });

  it('with only the model varying, gives each model its own labelled bar and says the rest once', async () => {
    const rows = [
      { model: 'small', image: 'chelsea', window: '(48,88,16,16)', di: 3.1, run: 'model-small' },
      { model: 'big', image: 'chelsea', window: '(48,88,16,16)', di: 12.4, run: 'model-big' },
    ];
    const { svg, chart } = await draw(['model', 'image', 'window', 'di', 'run'], rows);
    expect(chart.plan).toEqual({ value: 'di', series: 'model', groupBy: [], constant: [['image', 'chelsea'], ['window', '(48,88,16,16)']] });
    expect(texts(svg, 'role-axis-label').filter((t) => !/^[\d.]+$/.test(t))).toEqual(['small', 'big']);
    expect(elements(svg, 'g', 'role-legend')).toHaveLength(0);
    expect(chart.description).toBe('DI (diffusion index) of 2 runs, one bar each, coloured by model; image chelsea, window (48,88,16,16) throughout.');
    const bars = elements(svg, 'rect', 'bar');
    expect(num(bars[1], 'height') / num(bars[0], 'height')).toBeCloseTo(12.4 / 3.1, 9);
  });

  it('draws negative values below the zero line', async () => {
    const rows = [
      { model: 'a', di: -1.5 },
      { model: 'b', di: 3 },
    ];
    const { svg } = await draw(['model', 'di'], rows);
    const { ticks, pxPerUnit } = yAxis(svg);
    expect(ticks[0].value).toBeLessThanOrEqual(-1.5);
    const [neg, pos] = elements(svg, 'rect', 'bar');
    // The negative bar hangs from the positive one's baseline.
    expect(Math.abs(num(neg, 'y') - bottom(pos))).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(num(neg, 'height') - 1.5 * pxPerUnit)).toBeLessThanOrEqual(1e-9);
    expect(valueLabels(svg).sort()).toEqual(['-1.5', '3']);
  });

  it('gives no chart when no row has a number in the column', async () => {
    expect(await barChart(['model', 'psnr'], [{ model: 'a', psnr: 20 }])).toBeUndefined();
    expect(await barChart(['model', 'di'], [{ model: 'a', di: null }])).toBeUndefined();
  });

  it('turns value labels upright when bars are too thin for them, within the report width', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ model: `m${i % 6}`, image: `img${Math.floor(i / 6)}`, di: 0.123456 * (i + 1) }));
    const { svg, chart } = await draw(['model', 'image', 'di'], rows);
    expect(elements(svg, 'rect', 'bar')).toHaveLength(60);
    const labels = elements(svg, 'g', 'mark-text role-mark').flatMap((g) => elements(g, 'text'));
    expect(labels).toHaveLength(60);
    for (const l of labels) expect(attr(l, 'transform')).toMatch(/rotate\((270|-90)\)/);
    expect(labels.map(ownText).sort()).toEqual(rows.map((r) => barLabel(r.di)).sort());
    expect(chart.width).toBeLessThanOrEqual(1100);
  });

  it('is deterministic: the same table gives the same SVG and PNG bytes', async () => {
    const a = (await barChart(COLUMNS, ROWS, { id: 'c1' }))!;
    const b = (await barChart(COLUMNS, structuredClone(ROWS), { id: 'c1' }))!;
    expect(b.svg).toBe(a.svg);
    expect(b.png.equals(a.png)).toBe(true);
  });
});

describe('barLabel', () => {
  it('gives three significant digits, whole numbers from 1000', () => {
    expect([barLabel(0.123456), barLabel(1.55), barLabel(12.345), barLabel(1234.5), barLabel(0)]).toEqual(['0.123', '1.55', '12.3', '1235', '0']);
  });
});
