// The "DI vs network" bar chart, read back as a browser would: the SVG is parsed with parse5 and
// every check works on the drawn geometry (rect heights, text positions), not on the code's
// intermediate numbers.

import { parseFragment } from 'parse5';
import { describe, expect, it } from 'vitest';
import { barChart, niceTicks, type ChartCell } from '../../../src/runtime/render/bar-chart.js';

type Node5 = { nodeName: string; tagName?: string; attrs?: { name: string; value: string }[]; childNodes?: Node5[]; value?: string };

function elements(root: Node5, tag: string, cls?: string): Node5[] {
  const out: Node5[] = [];
  const walk = (n: Node5) => {
    if (n.tagName === tag && (cls === undefined || (attr(n, 'class') ?? '').split(' ').includes(cls))) out.push(n);
    for (const c of n.childNodes ?? []) walk(c);
  };
  walk(root);
  return out;
}
const attr = (n: Node5, name: string) => n.attrs?.find((a) => a.name === name)?.value;
const num = (n: Node5, name: string) => Number(attr(n, name));
/** An element's own text, leaving out nested <title> tooltips. */
const ownText = (n: Node5): string =>
  n.nodeName === '#text' ? n.value ?? '' : (n.childNodes ?? []).filter((c) => c.tagName !== 'title').map(ownText).join('');
const fullText = (n: Node5): string => (n.nodeName === '#text' ? n.value ?? '' : (n.childNodes ?? []).map(fullText).join(''));

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

function draw(columns: string[], rows: Record<string, ChartCell>[]) {
  const chart = barChart(columns, rows, { id: 'c1' })!;
  expect(chart).toBeDefined();
  const svg = elements(parseFragment(chart.svg) as unknown as Node5, 'svg')[0];
  return { chart, svg };
}

/** The y axis as drawn: value per tick label and the y of its grid line. */
function axis(svg: Node5) {
  const g = elements(svg, 'g', 'y-axis')[0];
  const lines = elements(g, 'line').filter((l) => attr(l, 'x1') !== attr(l, 'x2'));
  const labels = elements(g, 'text').filter((t) => attr(t, 'class') !== 'axis-label');
  const ticks = labels.map((t, i) => ({ value: Number(ownText(t)), y: num(lines[i], 'y1') }));
  const zero = ticks.find((t) => t.value === 0)!;
  const topTick = ticks[ticks.length - 1];
  return { ticks, zeroY: zero.y, pxPerUnit: (zero.y - topTick.y) / (topTick.value - zero.value) };
}

describe('bar chart of DI', () => {
  it('draws one bar per row, its height proportional to DI (to 0.02 px), on a 1-2-5 axis from 0', () => {
    const { svg } = draw(COLUMNS, ROWS);
    const bars = elements(svg, 'rect', 'bar');
    expect(bars).toHaveLength(ROWS.length);
    const { ticks, zeroY, pxPerUnit } = axis(svg);
    expect(ticks[0].value).toBe(0);
    // Steps of 0.5 up to the first tick above the largest DI (1.55).
    expect(ticks.map((t) => t.value)).toEqual([0, 0.5, 1, 1.5, 2]);
    // Each row's bar, found by its row index: coordinates are written to 0.01 px, so height and
    // baseline may each be off by 0.005 and the scale (from two rounded tick lines 260 px apart)
    // by 0.01 / 260: 0.02 px covers all three.
    for (const b of bars) {
      const row = ROWS[num(b, 'data-row')];
      expect(Math.abs(num(b, 'height') - (row.di as number) * pxPerUnit)).toBeLessThanOrEqual(0.02);
      expect(Math.abs(num(b, 'y') + num(b, 'height') - zeroY)).toBeLessThanOrEqual(0.02);
    }
    expect(new Set(bars.map((b) => num(b, 'data-row')))).toEqual(new Set(ROWS.map((_, i) => i)));
  });

  it('labels every bar with its DI to three significant digits, centred over the bar and above it', () => {
    const { svg } = draw(COLUMNS, ROWS);
    const bars = elements(svg, 'rect', 'bar');
    const labels = elements(svg, 'text', 'value');
    expect(labels).toHaveLength(bars.length);
    bars.forEach((b, k) => {
      const di = ROWS[num(b, 'data-row')].di as number;
      expect(ownText(labels[k])).toBe(String(Number(di.toPrecision(3))));
      const cx = num(b, 'x') + num(b, 'width') / 2;
      expect(Math.abs(num(labels[k], 'x') - cx)).toBeLessThanOrEqual(1.02); // bars are inset 1 px
      expect(num(labels[k], 'y')).toBeLessThan(num(b, 'y'));
      // The tooltip names the run and the value.
      const row = ROWS[num(b, 'data-row')];
      expect(fullText(elements(b, 'title')[0])).toBe(`${row.model} · ${row.image} · ${row.window}: di ${Number(di.toPrecision(3))}`);
    });
  });

  it('groups by image and window, models side by side in legend order, each image under one bracket', () => {
    const { svg, chart } = draw(COLUMNS, ROWS);
    expect(chart.plan).toMatchObject({ value: 'di', series: 'model', groupBy: ['image', 'window'] });
    const groups = elements(svg, 'g', 'group');
    const expected = Object.entries(WINDOWS).flatMap(([image, ws]) => ws.map((w) => `${image} · ${w}`));
    expect(groups.map((g) => attr(g, 'data-group'))).toEqual(expected);
    let previousRight = -Infinity;
    for (const g of groups) {
      const [image, window] = attr(g, 'data-group')!.split(' · ');
      const bars = elements(g, 'rect', 'bar');
      expect(bars.map((b) => attr(b, 'data-series'))).toEqual(MODELS);
      for (const b of bars) expect(ROWS[num(b, 'data-row')]).toMatchObject({ image, window });
      // Left to right, bars of one group never overlapping the next.
      for (const b of bars) {
        expect(num(b, 'x')).toBeGreaterThan(previousRight);
        previousRight = num(b, 'x') + num(b, 'width');
      }
    }

    // One colour per model, the legend's colour.
    const legend = elements(svg, 'g', 'legend-item');
    expect(legend.map((l) => attr(l, 'data-series'))).toEqual(MODELS);
    const legendFill = new Map(legend.map((l) => [attr(l, 'data-series'), attr(elements(l, 'rect')[0], 'fill')]));
    expect(new Set(legendFill.values()).size).toBe(MODELS.length);
    for (const b of elements(svg, 'rect', 'bar')) expect(attr(b, 'fill')).toBe(legendFill.get(attr(b, 'data-series')));

    // Window labels under each group's bars; image labels once, centred under their two groups.
    const labels = elements(svg, 'text', 'group-label');
    const inner = labels.filter((t) => attr(t, 'data-level') === '1');
    const outer = labels.filter((t) => attr(t, 'data-level') === '0');
    expect(inner.map(ownText)).toEqual(Object.values(WINDOWS).flat());
    expect(outer.map(ownText)).toEqual(Object.keys(WINDOWS));
    const extent = (g: Node5) => {
      const bars = elements(g, 'rect', 'bar');
      return [num(bars[0], 'x'), num(bars[bars.length - 1], 'x') + num(bars[bars.length - 1], 'width')];
    };
    groups.forEach((g, k) => {
      const [x0, x1] = extent(g);
      expect(Math.abs(num(inner[k], 'x') - (x0 + x1) / 2)).toBeLessThanOrEqual(1.02);
    });
    outer.forEach((t, k) => {
      const [x0] = extent(groups[2 * k]);
      const [, x1] = extent(groups[2 * k + 1]);
      expect(num(t, 'x')).toBeGreaterThan(x0);
      expect(num(t, 'x')).toBeLessThan(x1);
    });
    expect(elements(svg, 'path', 'bracket')).toHaveLength(3);
    expect(elements(svg, 'text', 'level-name').map(ownText)).toEqual(['window', 'image']);
  });

  it('is accessible and self-contained: role, title and description, no scripts or links', () => {
    const { svg, chart } = draw(COLUMNS, ROWS);
    expect(attr(svg, 'role')).toBe('img');
    const ids = attr(svg, 'aria-labelledby')!.split(' ');
    const title = elements(svg, 'title').find((t) => attr(t, 'id') === ids[0])!;
    const desc = elements(svg, 'desc').find((t) => attr(t, 'id') === ids[1])!;
    expect(fullText(title)).toBe('DI (diffusion index) by model');
    expect(fullText(desc)).toBe('DI (diffusion index) of 24 runs, one bar each, coloured by model, grouped by image and window.');
    expect(chart.description).toBe(fullText(desc));
    expect(elements(svg, 'text', 'axis-label').map(ownText)).toEqual(['DI (diffusion index)']);
    for (const tag of ['script', 'image', 'use', 'a', 'foreignObject', 'style']) expect(elements(svg, tag)).toHaveLength(0);
    expect(chart.svg).not.toMatch(/href|url\(|@import/i);
    expect(`${attr(svg, 'width')}x${attr(svg, 'height')}`).toBe(`${chart.width}x${chart.height}`);
    // At most the report's width (1100 px by default) for 24 bars.
    expect(chart.width).toBeLessThanOrEqual(1100);
  });

  it('escapes names and keeps rows without a DI as labelled gaps', () => {
    const rows: Record<string, ChartCell>[] = [
      { model: 'a<b>&"c"', image: 'x', di: 2 },
      { model: 'plain', image: 'x', di: null },
      { model: 'a<b>&"c"', image: 'y', di: 0.5 },
      { model: 'plain', image: 'y', di: 1 },
    ];
    const { svg } = draw(['model', 'image', 'di'], rows);
    const bars = elements(svg, 'rect', 'bar');
    expect(bars.map((b) => num(b, 'data-row'))).toEqual([0, 2, 3]);
    expect(elements(svg, 'text', 'missing').map(ownText)).toEqual(['n/a']);
    expect(elements(svg, 'g', 'legend-item').map((l) => attr(l, 'data-series'))).toEqual(['a<b>&"c"', 'plain']);
    const { pxPerUnit } = axis(svg);
    for (const b of bars) expect(Math.abs(num(b, 'height') - (rows[num(b, 'data-row')].di as number) * pxPerUnit)).toBeLessThanOrEqual(0.02);
  });

  it('keeps the legend order in every group, whatever the row order', () => {
    const rows = [
      { model: 'A', image: 'g1', di: 1 },
      { model: 'B', image: 'g1', di: 2 },
      { model: 'B', image: 'g2', di: 3 },
      { model: 'A', image: 'g2', di: 4 },
      { model: 'C', image: 'g1', di: 5 },
    ];
    const { svg } = draw(['model', 'image', 'di'], rows);
    const groups = elements(svg, 'g', 'group');
    expect(groups.map((g) => elements(g, 'rect', 'bar').map((b) => `${attr(b, 'data-series')}${attr(b, 'data-value')}`))).toEqual([
      ['A1', 'B2', 'C5'],
      ['A4', 'B3'],
    ]);
  });

  it('with only the model varying, gives each model its own labelled bar and says the rest once', () => {
    const rows = [
      { model: 'small', image: 'chelsea', window: '(48,88,16,16)', di: 3.1, run: 'model-small' },
      { model: 'big', image: 'chelsea', window: '(48,88,16,16)', di: 12.4, run: 'model-big' },
    ];
    const { svg, chart } = draw(['model', 'image', 'window', 'di', 'run'], rows);
    expect(chart.plan).toEqual({ value: 'di', series: 'model', groupBy: [], constant: [['image', 'chelsea'], ['window', '(48,88,16,16)']] });
    expect(elements(svg, 'g', 'group')).toHaveLength(2);
    expect(elements(svg, 'text', 'group-label').map(ownText)).toEqual(['small', 'big']);
    expect(elements(svg, 'g', 'legend')).toHaveLength(0);
    expect(chart.description).toBe('DI (diffusion index) of 2 runs, one bar each, coloured by model; image chelsea, window (48,88,16,16) throughout.');
    const { ticks, pxPerUnit } = axis(svg);
    expect(ticks.map((t) => t.value)).toEqual([0, 5, 10, 15]);
    const bars = elements(svg, 'rect', 'bar');
    expect(num(bars[1], 'height') / num(bars[0], 'height')).toBeCloseTo(12.4 / 3.1, 3);
    expect(Math.abs(num(bars[1], 'height') - 12.4 * pxPerUnit)).toBeLessThanOrEqual(0.02);
  });

  it('draws negative values below the zero line', () => {
    const rows = [
      { model: 'a', di: -1.5 },
      { model: 'b', di: 3 },
    ];
    const { svg } = draw(['model', 'di'], rows);
    const { ticks, zeroY, pxPerUnit } = axis(svg);
    expect(ticks[0].value).toBeLessThanOrEqual(-1.5);
    const [neg, pos] = elements(svg, 'rect', 'bar');
    expect(Math.abs(num(neg, 'y') - zeroY)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(num(neg, 'height') - 1.5 * pxPerUnit)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(num(pos, 'y') + num(pos, 'height') - zeroY)).toBeLessThanOrEqual(0.01);
  });

  it('gives no chart when no row has a number in the column', () => {
    expect(barChart(['model', 'psnr'], [{ model: 'a', psnr: 20 }])).toBeUndefined();
    expect(barChart(['model', 'di'], [{ model: 'a', di: null }])).toBeUndefined();
  });

  it('turns value labels upright when bars are too thin for them, and still fits them under the top', () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ model: `m${i % 6}`, image: `img${Math.floor(i / 6)}`, di: 0.123456 * (i + 1) }));
    const { svg, chart } = draw(['model', 'image', 'di'], rows);
    const labels = elements(svg, 'text', 'value');
    expect(labels).toHaveLength(60);
    for (const l of labels) expect(attr(l, 'transform')).toMatch(/rotate\(-90\)/);
    expect(elements(svg, 'rect', 'bar')).toHaveLength(60);
    expect(chart.width).toBeLessThanOrEqual(1100);
  });
});

describe('bar chart layout', () => {
  it('lets long group labels take room from the bars, not widen the chart past the report', () => {
    const rows: Record<string, ChartCell>[] = [];
    for (const image of ['cat', 'coffee']) {
      for (const window of ['(1,1,16,16)', '(2,2,16,16)']) {
        for (const path of ['progressive-blur', 'linear']) for (const model of ['slim', 'rdn']) rows.push({ model, image, window, path, di: rows.length + 1 });
      }
    }
    const { svg, chart } = draw(['model', 'image', 'window', 'path', 'di'], rows);
    expect(chart.plan.groupBy).toEqual(['image', 'window', 'path']);
    expect(chart.width).toBeLessThanOrEqual(1100);
    expect(elements(svg, 'text', 'group-label').filter((t) => attr(t, 'data-level') === '0').map(ownText)).toEqual(['cat', 'coffee']);
    expect(elements(svg, 'path', 'bracket')).toHaveLength(2 + 4);
    const groups = elements(svg, 'g', 'group');
    expect(groups).toHaveLength(8);
    for (const g of groups) expect(elements(g, 'rect', 'bar').map((b) => attr(b, 'data-series'))).toEqual(['slim', 'rdn']);
  });
});

describe('niceTicks', () => {
  it('steps by 1, 2, 2.5 or 5 times a power of ten and ends at or above the maximum', () => {
    expect(niceTicks(0, 2.36)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    expect(niceTicks(0, 0.0173)).toEqual([0, 0.005, 0.01, 0.015, 0.02]);
    expect(niceTicks(0, 100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(-1.6, 3.2)).toEqual([-2, -1, 0, 1, 2, 3, 4]);
  });
});
