// lvi's plotting path: Vega-Lite spec -> vega SVG -> resvg PNG, with the bundled font. Checked
// on what is drawn: SVG read back with parse5, PNG decoded and its pixels looked at.

import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import { groupedBarSpec, layerBarSpec, lineSpec, scatterSpec } from '../../../src/runtime/render/charts.js';
import { readFontMetrics } from '../../../src/runtime/render/font-metrics.js';
import { FONT_FILE, PLOT_FONT, renderSpec, writePlot } from '../../../src/runtime/render/vega.js';
import { attr, darkPixels, elements, num, ownText, parseSvg, readPng, texts, translate } from './svg-helpers.js';

const ink = (text: string, size: number) => {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="200"><text x="10" y="150" font-family="${PLOT_FONT}" font-size="${size}">${text}</text></svg>`;
  const b = new Resvg(svg, { font: { fontFiles: [FONT_FILE], loadSystemFonts: false, defaultFontFamily: PLOT_FONT } }).getBBox()!;
  return b.width;
};

describe('font metrics', () => {
  it('give the advance resvg draws: one more glyph widens the ink by its advance (to 0.05 px at 100 px)', () => {
    const m = readFontMetrics(FONT_FILE);
    for (const ch of ['H', 'i', 'W', 'm', '0', 'é', '·']) {
      const drawn = ink(ch.repeat(5), 100) - ink(ch.repeat(4), 100);
      expect(Math.abs(m.width(ch, 100) - drawn)).toBeLessThanOrEqual(0.05);
    }
    expect(m.width('HHHH', 10)).toBeCloseTo(4 * m.width('H', 10), 12);
  });
});

const SIMPLE = {
  data: { values: [{ k: 'a', v: 1 }, { k: 'b', v: 3 }] },
  title: 'Two bars',
  mark: 'bar',
  encoding: { x: { field: 'k', type: 'nominal' }, y: { field: 'v', type: 'quantitative' } },
};

describe('renderSpec', () => {
  it('draws an SVG in the bundled font and a PNG of twice its size with the text in it', async () => {
    const r = await renderSpec(SIMPLE);
    const svg = parseSvg(r.svg);
    expect(`${attr(svg, 'width')}x${attr(svg, 'height')}`).toBe(`${r.width}x${r.height}`);
    const all = elements(svg, 'text');
    expect(all.length).toBeGreaterThan(5);
    for (const t of all) expect(attr(t, 'font-family')).toBe(`${PLOT_FONT}, sans-serif`);
    expect(texts(svg, 'role-title-text')).toEqual(['Two bars']);
    const png = readPng(r.png);
    expect([png.width, png.height]).toEqual([2 * r.width, 2 * r.height]);
    // The title is drawn: with system fonts off, a missing font would leave its band blank.
    const [tx, ty] = translate(elements(elements(svg, 'g', 'role-title-text')[0], 'text')[0]);
    const band = darkPixels(png, 100, 0, Math.max(0, 2 * (ty - 16)), png.width, 2 * (ty + 4));
    expect(band).toBeGreaterThan(100);
    expect(Number.isFinite(tx)).toBe(true);
  });

  it('is deterministic: the same spec gives the same SVG and PNG bytes', async () => {
    const a = await renderSpec(SIMPLE);
    const b = await renderSpec(structuredClone(SIMPLE));
    expect(b.svg).toBe(a.svg);
    expect(b.png.equals(a.png)).toBe(true);
  });

  it('lays out text with the bundled font\'s widths: a long legend label moves the legend as far as its width', async () => {
    // The legend sits right of the plot; the chart's width grows with its widest label.
    const spec = (label: string) => ({
      data: { values: [{ k: label, v: 1 }] },
      mark: 'bar',
      width: 100,
      encoding: { x: { field: 'k', type: 'nominal', axis: null }, y: { field: 'v', type: 'quantitative' }, color: { field: 'k' } },
    });
    const m = readFontMetrics(FONT_FILE);
    const narrow = await renderSpec(spec('iiii'));
    const wide = await renderSpec(spec('WWWW'));
    const expected = m.width('WWWW', 11) - m.width('iiii', 11);
    expect(Math.abs(wide.width - narrow.width - expected)).toBeLessThanOrEqual(1); // SVG sizes are whole px
  });

  it('takes width and height, and says what is wrong with a spec that does not compile', async () => {
    const r = await renderSpec(SIMPLE, { width: 300, height: 120 });
    expect(r.spec.width).toBe(300);
    const bg = elements(parseSvg(r.svg), 'path', 'background').find((p) => /h300v120h-300Z/.test(attr(p, 'd') ?? ''));
    expect(bg).toBeDefined();
    await expect(renderSpec({ data: { values: [] }, mark: 'nope' })).rejects.toThrow(/^Vega-Lite spec does not compile: /);
    await expect(renderSpec([] as unknown as Record<string, unknown>)).rejects.toThrow(/must be a JSON object/);
  });
});

describe('writePlot', () => {
  it('writes <name>.png, .svg and .vl.json; the saved spec re-renders to the same SVG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvi-plot-'));
    const r = await writePlot(dir, 'two-bars', SIMPLE);
    expect(r.files).toEqual(['two-bars.png', 'two-bars.svg', 'two-bars.vl.json']);
    expect(readdirSync(dir).sort()).toEqual(['two-bars.png', 'two-bars.svg', 'two-bars.vl.json']);
    expect(readFileSync(join(dir, 'two-bars.png')).equals(r.png)).toBe(true);
    expect(readFileSync(join(dir, 'two-bars.svg'), 'utf8')).toBe(r.svg + '\n');
    const saved = JSON.parse(readFileSync(join(dir, 'two-bars.vl.json'), 'utf8'));
    expect(saved.$schema).toMatch(/vega-lite\/v6/);
    expect(saved.config.font).toBe(`${PLOT_FONT}, sans-serif`);
    // A user restyles the saved spec: unchanged, it draws the same picture.
    expect((await renderSpec(saved)).svg).toBe(r.svg);
    const restyled = await renderSpec({ ...saved, config: { ...saved.config, mark: { color: '#ff0000' } } });
    expect(restyled.svg).toMatch(/fill="#ff0000"/);
    await expect(writePlot(dir, '../escape', SIMPLE)).rejects.toThrow(/not a plot name/);
  });
});

const bars = (svg: string) => elements(parseSvg(svg), 'rect', 'bar');
const withRects = { rects: [{ mark: 'bars_marks', className: 'bar', data: (d: Record<string, unknown>) => ({ layer: String(d.layer), group: String(d.top), value: Number(d.share) }) }] };

describe('spec builders', () => {
  it('grouped bars: one bar per row, heights proportional to values, value labels printed', async () => {
    const rows = [
      { net: 'a', img: 'x', di: 2 },
      { net: 'b', img: 'x', di: 0.5 },
      { net: 'a', img: 'y', di: 1 },
      { net: 'b', img: 'y', di: 4 },
    ];
    const r = await renderSpec(groupedBarSpec(rows, { value: 'di', series: 'net', group: 'img' }), {
      rects: [{ mark: 'bars_marks', className: 'bar', data: (d) => ({ value: Number(d.di), net: String(d.net) }) }],
    });
    const b = bars(r.svg);
    expect(b.map((x) => `${attr(x, 'data-net')}${attr(x, 'data-value')}`)).toEqual(['a2', 'b0.5', 'a1', 'b4']);
    const scale = num(b[0], 'height') / 2;
    for (const x of b) expect(num(x, 'height')).toBeCloseTo(num(x, 'data-value') * scale, 9);
    const svg = parseSvg(r.svg);
    expect(elements(svg, 'g', 'role-mark').flatMap((g) => elements(g, 'text').map(ownText)).sort()).toEqual(['0.5', '1', '2', '4']);
    expect(texts(svg, 'role-legend-label')).toEqual(['a', 'b']);
    expect(() => groupedBarSpec([], { value: 'di' })).toThrow(/no rows/);
    expect(() => groupedBarSpec(rows, { value: 'psnr' })).toThrow(/no row has a 'psnr' field/);
  });

  it('scatter: a point per row, coloured by one label, shaped by another, a panel per layer', async () => {
    const rows = [];
    for (const layer of ['body.3', 'body.7']) {
      for (const content of ['cat', 'coffee', 'astro']) {
        for (const [d, degradation] of ['clean', 'blur', 'noise'].entries()) rows.push({ layer, content, degradation, x: d * 10 + content.length, y: d - content.length });
      }
    }
    const r = await renderSpec(scatterSpec(rows, { x: 'x', y: 'y', color: 'content', shape: 'degradation', panel: 'layer', xTitle: 't-SNE 1' }));
    const svg = parseSvg(r.svg);
    const points = elements(svg, 'g', 'mark-symbol role-mark').flatMap((g) => elements(g, 'path'));
    expect(points).toHaveLength(rows.length);
    // Three colours and three shapes (path outlines) among the points.
    expect(new Set(points.map((p) => attr(p, 'fill'))).size).toBe(3);
    expect(new Set(points.map((p) => attr(p, 'd'))).size).toBe(3);
    // A wrapped facet labels each panel with a title over it.
    expect(texts(svg, 'role-title-text')).toEqual(expect.arrayContaining(['body.3', 'body.7']));
    expect(elements(svg, 'g', 'points_marks').map((g) => elements(g, 'path').length)).toEqual([9, 9]);
    expect(texts(svg, 'role-legend-title')).toEqual(['content', 'degradation']);
    expect(texts(svg, 'role-legend-label')).toEqual(['cat', 'coffee', 'astro', 'clean', 'blur', 'noise']);
    expect(texts(svg, 'role-axis-title')).toContain('t-SNE 1');
  });

  it('lines: one line per series through its points, on a log x scale when asked', async () => {
    const rows = [0.1, 1, 10].flatMap((lambda) => ['faig', 'random'].map((kernels) => ({ lambda, kernels, psnr: 30 - Math.log10(lambda) * (kernels === 'faig' ? 3 : 1) })));
    const r = await renderSpec(lineSpec(rows, { x: 'lambda', y: 'psnr', series: 'kernels', xScale: 'log' }));
    const svg = parseSvg(r.svg);
    const lines = elements(svg, 'g', 'mark-line role-mark').flatMap((g) => elements(g, 'path'));
    expect(lines).toHaveLength(2);
    expect(elements(svg, 'g', 'mark-symbol role-mark').flatMap((g) => elements(g, 'path'))).toHaveLength(6);
    // Log scale: the three lambdas, a decade apart, are evenly spaced along x.
    const xs = (attr(lines[0], 'd') ?? '').match(/[ML]([-\d.e]+),/g)!.map((s) => Number(s.slice(1, -1)));
    expect(xs).toHaveLength(3);
    expect(xs[2] - xs[1]).toBeCloseTo(xs[1] - xs[0], 6);
    expect(texts(svg, 'role-legend-label')).toEqual(['faig', 'random']);
  });

  it('per-layer bars: grouped side by side, or stacked with each group on top of the one before', async () => {
    const rows = ['conv1', 'body.0', 'body.1', 'upconv'].flatMap((layer, i) => [
      { layer, top: 'top 1%', share: 0.1 * (i + 1) },
      { layer, top: 'top 5%', share: 0.05 * (4 - i) },
    ]);
    const grouped = bars((await renderSpec(layerBarSpec(rows, { layer: 'layer', group: 'top', value: 'share' }), withRects)).svg);
    expect(grouped).toHaveLength(8);
    for (let i = 0; i < 8; i += 2) {
      expect(num(grouped[i + 1], 'x')).toBeCloseTo(num(grouped[i], 'x') + num(grouped[i], 'width'), 6);
      expect(num(grouped[i], 'y') + num(grouped[i], 'height')).toBeCloseTo(num(grouped[i + 1], 'y') + num(grouped[i + 1], 'height'), 6);
    }
    const stacked = bars((await renderSpec(layerBarSpec(rows, { layer: 'layer', group: 'top', value: 'share', stacked: true }), withRects)).svg);
    expect(stacked).toHaveLength(8);
    for (const layer of ['conv1', 'body.0', 'body.1', 'upconv']) {
      const [one, five] = ['top 1%', 'top 5%'].map((g) => stacked.find((b) => attr(b, 'data-layer') === layer && attr(b, 'data-group') === g)!);
      expect(num(one, 'x')).toBe(num(five, 'x'));
      // "top 1%" first, at the bottom; "top 5%" on top of it.
      expect(num(five, 'y') + num(five, 'height')).toBeCloseTo(num(one, 'y'), 6);
      expect(num(five, 'height') / num(one, 'height')).toBeCloseTo(Number(attr(five, 'data-value')) / Number(attr(one, 'data-value')), 9);
    }
    expect(texts(parseSvg((await renderSpec(layerBarSpec(rows, { layer: 'layer', group: 'top', value: 'share' }))).svg), 'role-axis-label')).toEqual(
      expect.arrayContaining(['conv1', 'body.0', 'body.1', 'upconv']),
    );
  });
});
