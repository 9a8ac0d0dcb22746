// table and report kernels through the executor, on real files: analyses write real PNGs, the
// table reads their summaries and their models', the report inlines every figure.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'parse5';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture } from '../../helpers/paths.js';
import { executePlan, type RunSummary } from '../../../src/runtime/executor/index.js';
import type { LoadedModel } from '../../../src/runtime/api.js';
import type { NodeRunner } from '../../../src/runtime/runner.js';
import { writePng } from '../../../src/runtime/image/index.js';
import { loadRunners } from '../../../src/runtime/runners.js';

const getKernel = await loadRunners();
import type { LrPair } from '../../../src/runtime/kernels/derive-lr.js';
import { rowRoles, toCsv } from '../../../src/runtime/kernels/table.js';
import { makePlan, removeTempStudies, tempStudy, type NodeSpec } from '../executor/helpers.js';

afterAll(removeTempStudies);

// The real model importer on the reference networks (test/fixtures/lam); a stand-in for the lam kernel (its
// own tests cover it) that computes real numbers from the real LR image.
// Parameter counts of the reference networks, from Python's onnx (sum of initializer sizes).
const PARAMETERS = { fsrcnn: 24579, carn: 1111890 };

/** Mean brightness of the window's LR area: a number the test can recompute independently. */
function windowMean(pair: LrPair, window: number[]): number {
  const [x, y, w, h] = window.map((v) => Math.floor(v / pair.scale));
  let s = 0;
  for (let r = y; r < y + Math.max(1, Math.floor(h)); r++) for (let c = x; c < x + Math.max(1, Math.floor(w)); c++) s += pair.lr.data[r * pair.lr.width + c];
  return s / (Math.max(1, Math.floor(h)) * Math.max(1, Math.floor(w)));
}

const analysisKernel: NodeRunner = {
  kind: 'lam',
  cache: true,
  async run({ node, deps, runDir }) {
    const pair = deps.image.value as LrPair;
    const width = (deps.model.value as LoadedModel).info.parameters / 1000;
    const di = 100 * windowMean(pair, node.params.window as number[]);
    writePng(join(runDir, 'figure.png'), pair.lr);
    writePng(join(runDir, 'map.png'), { width: 2, height: 2, data: new Float32Array(12).fill(width / 100) });
    return { summary: { di, gini: 1 - di / 100, psnr: 20 + width / 10, seconds: 0.5 }, files: ['figure.png', 'map.png'] };
  },
};

const kernels = (k: string) => (k === 'lam' ? analysisKernel : getKernel(k));

const STUDY = `study "tables"
model small file="fsrcnn.onnx"
model big   file="carn.onnx"
image chelsea file="chelsea_256.png"
lam edge model=[small, big] image=chelsea window=(48,88,16,16)
table di rows=edge columns=[model, image, window, di, gini, psnr, params, receptive-field, seconds, run]
report title="Edges"
`;

function planFor(study: { dir: string; file: string }) {
  const hr = fixture('lam', 'chelsea_256.png');
  const fsrcnn = fixture('lam', 'fsrcnn_chelsea/model.onnx');
  const carn = fixture('lam', 'carn_coffee/model.onnx');
  const lam = (m: string): NodeSpec => ({
    id: `lam:edge#model-${m}`,
    kind: 'lam',
    statement: 'edge',
    runId: `model-${m}`,
    sweep: { model: { ref: m, kind: 'model', node: `model:${m}` } },
    params: {
      model: { ref: m, kind: 'model', node: `model:${m}` },
      image: { ref: 'chelsea', kind: 'image', node: 'lr:chelsea@x4' },
      window: [48, 88, 16, 16],
    },
    deps: { model: `model:${m}`, image: 'lr:chelsea@x4', hr: 'image:chelsea' },
    line: 5,
  });
  const columns = ['model', 'image', 'window', 'di', 'gini', 'psnr', 'params', 'receptive-field', 'seconds', 'run'];
  return makePlan(
    study,
    [
      { id: 'model:small', kind: 'model', statement: 'small', params: { file: fsrcnn, scale: 4, range: 1 }, files: [fsrcnn], line: 2 },
      { id: 'model:big', kind: 'model', statement: 'big', params: { file: carn, scale: 4, range: 1 }, files: [carn], line: 3 },
      { id: 'image:chelsea', kind: 'image', statement: 'chelsea', params: { file: hr }, files: [hr], line: 4 },
      { id: 'lr:chelsea@x4', kind: 'derive-lr', params: { scale: 4 }, deps: { image: 'image:chelsea' } },
      lam('small'),
      lam('big'),
      {
        id: 'table:di',
        kind: 'table',
        statement: 'di',
        params: { rows: [{ ref: 'edge', kind: 'lam', node: 'lam:edge' }], columns, format: 'all' },
        deps: { 'rows[0]': 'lam:edge#model-small', 'rows[1]': 'lam:edge#model-big' },
        line: 6,
      },
      {
        id: 'report:report',
        kind: 'report',
        statement: 'report',
        params: { file: join(study.dir, 'out', 'edges.html'), title: 'Edges' },
        deps: { 'lam[0]': 'lam:edge#model-small', 'lam[1]': 'lam:edge#model-big', 'table[2]': 'table:di' },
        line: 7,
      },
    ],
    'tables',
  );
}

type Node5 = { nodeName: string; tagName?: string; attrs?: { name: string; value: string }[]; childNodes?: Node5[]; value?: string };

function elements(root: Node5, tag: string): Node5[] {
  const out: Node5[] = [];
  const walk = (n: Node5) => {
    if (n.tagName === tag) out.push(n);
    for (const c of n.childNodes ?? []) walk(c);
  };
  walk(root);
  return out;
}

const attr = (n: Node5, name: string) => n.attrs?.find((a) => a.name === name)?.value;
const text = (n: Node5): string => (n.nodeName === '#text' ? n.value ?? '' : (n.childNodes ?? []).map(text).join(''));

describe('table kernel', () => {
  it('orders rows by their index in the compiler\'s roles', () => {
    expect(rowRoles({ 'rows[10]': 'c', 'rows[2]': 'b', 'rows[0]': 'a' })).toEqual(['rows[0]', 'rows[2]', 'rows[10]']);
    expect(rowRoles({ rows: 'a' })).toEqual(['rows']);
  });

  it('quotes CSV cells that need it', () => {
    expect(toCsv({ title: 't', columns: ['a', 'b'], rows: [{ a: 'x,y', b: 'say "hi"' }, { a: 1.5, b: null }] })).toBe('a,b\r\n"x,y","say ""hi"""\r\n1.5,\r\n');
  });
});

describe('table and report through the executor', () => {
  async function run(): Promise<{ study: { dir: string; file: string }; summary: RunSummary }> {
    const study = tempStudy(STUDY);
    const summary = await executePlan(planFor(study), { progress: 'none', kernels });
    return { study, summary };
  }

  it('writes the table as Markdown, CSV and JSON with values from the runs and their models', async () => {
    const { summary } = await run();
    expect(summary.exitCode).toBe(0);
    const table = summary.nodes.find((n) => n.id === 'table:di')!;
    expect(table.outDir).toMatch(/out\/tables\/di\/default$/);
    const di = summary.nodes.filter((n) => n.kind === 'lam').map((n) => n.summary.di as number);
    const json = JSON.parse(readFileSync(join(table.outDir!, 'table.json'), 'utf8'));
    const rf = (id: string) => summary.nodes.find((n) => n.id === id)!.summary.receptiveField as number;
    expect(rf('model:small')).toBeGreaterThan(1);
    expect(json.rows).toEqual([
      { model: 'small', image: 'chelsea', window: '(48,88,16,16)', di: di[0], gini: 1 - di[0] / 100, psnr: 20 + PARAMETERS.fsrcnn / 1000 / 10, params: PARAMETERS.fsrcnn, 'receptive-field': rf('model:small'), seconds: 0.5, run: 'model-small' },
      { model: 'big', image: 'chelsea', window: '(48,88,16,16)', di: di[1], gini: 1 - di[1] / 100, psnr: 20 + PARAMETERS.carn / 1000 / 10, params: PARAMETERS.carn, 'receptive-field': rf('model:big'), seconds: 0.5, run: 'model-big' },
    ]);
    // The analysis saw the reference LR image: its red mean over the 4x4 LR window at (12,22),
    // recomputed from lr.png (the LR derivation may differ by one grey level).
    const lr = PNG.sync.read(readFileSync(fixture('lam', 'fsrcnn_chelsea/lr.png')));
    let red = 0;
    for (let r = 22; r < 26; r++) for (let c = 12; c < 16; c++) red += lr.data[(r * lr.width + c) * 4];
    expect(Math.abs(di[0] - (100 * red) / 16 / 255)).toBeLessThanOrEqual(100 / 255);
    const md = readFileSync(join(table.outDir!, 'table.md'), 'utf8').split('\n');
    expect(md[0]).toBe('| model | image | window | di | gini | psnr | params | receptive-field | seconds | run |');
    expect(md[1]).toBe('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : String(Number(v.toPrecision(4))));
    expect(md[2]).toBe(`| small | chelsea | (48,88,16,16) | ${fmt(di[0])} | ${fmt(1 - di[0] / 100)} | 22.46 | 24579 | ${rf('model:small')} | 0.5 | model-small |`);
    const csv = readFileSync(join(table.outDir!, 'table.csv'), 'utf8').split('\r\n');
    expect(csv[0]).toBe('model,image,window,di,gini,psnr,params,receptive-field,seconds,run');
    expect(csv[2]).toBe(`big,chelsea,"(48,88,16,16)",${di[1]},${1 - di[1] / 100},${20 + PARAMETERS.carn / 1000 / 10},1111890,${rf('model:big')},0.5,model-big`);
  });

  it('writes ONE self-contained HTML page with every figure inlined, the table, the study and the lock facts', async () => {
    const { study, summary } = await run();
    const report = summary.nodes.find((n) => n.kind === 'report')!;
    const file = join(study.dir, 'out', 'edges.html');
    expect(report.files).toContain(file);
    const html = readFileSync(file, 'utf8');
    // Written once, where file= says: no second copy in <out>/<statement>/<run id>/.
    expect(report.files).toEqual([file]);
    expect(report.outDir).toBeUndefined();
    const doc = parse(html) as unknown as Node5;
    expect(text(elements(doc, 'h1')[0])).toBe('Edges');

    // Every figure, byte for byte, and nothing fetched from elsewhere.
    const imgs = elements(doc, 'img');
    const figures = summary.nodes.filter((n) => n.kind === 'lam').map((n) => readFileSync(join(n.outDir!, 'figure.png')));
    expect(imgs.map((i) => Buffer.from(attr(i, 'src')!.replace(/^data:image\/png;base64,/, ''), 'base64'))).toEqual(figures);
    for (const tag of ['img', 'script', 'link', 'iframe', 'source', 'a']) {
      for (const el of elements(doc, tag)) {
        for (const name of ['src', 'href']) {
          const v = attr(el, name);
          if (v !== undefined) expect(v).toMatch(/^(data:|#)/);
        }
      }
    }

    // The table, as the table kernel wrote it.
    const tables = elements(doc, 'table');
    const di = tables.find((t) => elements(t, 'th').map(text).join(',') === 'model,image,window,di,gini,psnr,params,receptive-field,seconds,run')!;
    expect(elements(di, 'tr').slice(1).map((r) => elements(r, 'td').map(text)[0])).toEqual(['small', 'big']);

    // The study's text and the lock facts.
    expect(elements(doc, 'pre').map(text)).toContain(STUDY);
    const lockSection = elements(doc, 'section').find((s) => attr(s, 'id') === 'lock')!;
    expect(text(lockSection)).toContain(process.version.slice(1));
    expect(text(lockSection)).toContain('lam:edge#model-big');
  });

  it('draws the table\'s DI as an inline SVG bar chart above it, one bar per run', async () => {
    const { study, summary } = await run();
    const html = readFileSync(join(study.dir, 'out', 'edges.html'), 'utf8');
    const doc = parse(html) as unknown as Node5;
    const section = elements(doc, 'section').find((s) => attr(s, 'id') === 'tables')!;
    const svgs = elements(section, 'svg');
    expect(svgs).toHaveLength(1);
    expect(elements(doc, 'svg')).toHaveLength(1);
    const figure = elements(section, 'figure')[0];
    expect(elements(figure, 'svg')[0]).toBe(svgs[0]);
    expect(text(elements(figure, 'figcaption')[0])).toMatch(/^DI \(diffusion index\) of 2 runs, one bar each, coloured by model; image chelsea, window \(48,88,16,16\) throughout\./);
    // The chart comes before the table it draws.
    expect(html.indexOf('class="bar-chart"')).toBeLessThan(html.indexOf('<th>model</th>'));
    const di = summary.nodes.filter((n) => n.kind === 'lam').map((n) => n.summary.di as number);
    const bars = elements(svgs[0], 'rect').filter((r) => attr(r, 'class') === 'bar');
    expect(bars.map((b) => attr(b, 'data-series'))).toEqual(['small', 'big']);
    // Heights are written to 0.01 px: the ratio holds to 1e-3 relative for bars over 20 px.
    const h = bars.map((b) => Number(attr(b, 'height')));
    expect(Math.min(...h)).toBeGreaterThan(20);
    expect(Math.abs(h[1] / h[0] - di[1] / di[0])).toBeLessThanOrEqual(1e-3 * (di[1] / di[0]));
    expect(summary.nodes.find((n) => n.kind === 'report')!.summary.figures).toBe(3); // two PNGs and the chart
  });

  it('a new comment in the study remakes only the report', async () => {
    const study = tempStudy(STUDY);
    await executePlan(planFor(study), { progress: 'none', kernels });
    writeFileSync(study.file, STUDY + '# looked at it again\n');
    const summary = await executePlan(planFor(study), { progress: 'none', kernels });
    const ran = summary.nodes.filter((n) => n.status === 'ran').map((n) => n.id);
    expect(ran).toEqual(['report:report']);
    expect(readFileSync(join(study.dir, 'out', 'edges.html'), 'utf8')).toContain('# looked at it again');
  });
});
