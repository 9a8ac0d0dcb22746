// The node runners of `faig`, `rank`, `mask`, `evaluate`, `modulate` and `classify`
// (grammar/kinds/faig.ts loads this module lazily). Values between them: a `faig` or `rank`
// node's value is its Ranking (scores, order, kernel index); a `mask` node's is a LoadedModel,
// read back from its ONNX file when cached, so it feeds lam, evaluate or another faig as any model.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ResolvedValue } from '../../../compiler/plan.js';
import type { LoadedModel } from '../../api.js';
import { buildSamples, toDegradation, type Degradation, type SampleLabel, type Samples } from '../../data/samples.js';
import { resolveDevice } from '../../engine/device.js';
import { createSession } from '../../engine/index.js';
import type { Image } from '../../image/image.js';
import { readNpy, readNpyInt32, writeNpy, writePng } from '../../image/index.js';
import type { DatasetValue } from '../../kernels/dataset.js';
import type { TableData } from '../../kernels/table.js';
import { numberParam, wordParam } from '../../kernels/params.js';
import { gradientMetric, psnrBorder, ssim } from '../../metrics/quality.js';
import { encodeModel } from '../../onnx/index.js';
import { loadOnnxFile, specialiseModel } from '../../models/index.js';
import { layerBarSpec, lineSpec } from '../../render/charts.js';
import { writePlot } from '../../render/vega.js';
import { sideBySide, type Rgb } from '../../render/index.js';
import type { NodeResult, NodeRunner, RunContext } from '../../runner.js';
import { asList, datasets, depsOf, markdownTable, runLabel, samplesFor as sharedSamples, statementOf, writeJson } from '../run-context.js';
import { attributeAll, type Attribution } from './attribution.js';
import { matchPair, PairError, replaceKernels, type KernelIndex, type Pair } from './kernels.js';
import { filterChange, perLayer, rankScores, seededPermutation, shareCount, topEntries } from './ranking.js';
import { inputGradientScores } from './input-gradients.js';

/** What a faig or rank node hands on: the scores, their order and the kernels they index. */
export interface Ranking {
  scores: Float32Array;
  ranking: Int32Array;
  index: KernelIndex;
  /** The degradation the scores are about (faig: its degradation=), for classify. */
  degradation?: string;
}


// --- dependencies -------------------------------------------------------------------------------

function model(ctx: RunContext, key: string): { model: LoadedModel; name: string } {
  const m = ctx.deps[key]?.value as LoadedModel | undefined;
  if (!m?.graph) throw new Error(`${ctx.node.kind} '${ctx.node.statement}': ${key}= has no loaded model`);
  return { model: m, name: statementOf(ctx, ctx.node.deps[key]) };
}

function ranking(ctx: RunContext, key = 'filters'): Ranking {
  const r = ctx.deps[key]?.value as Ranking | undefined;
  if (!r?.ranking) throw new Error(`${ctx.node.kind} '${ctx.node.statement}': ${key}= has no kernel ranking`);
  return r;
}

const degradationText = (d: Degradation) => (d.kind === 'call' ? d.text : d.name);

/** Samples of the degradations from the node's HR data (`dataKey`), with each sample's HR image. */
function samplesFor(ctx: RunContext, degradations: ResolvedValue[], scale: number, dataKey = 'data'): { samples: Samples; degradations: Degradation[] } {
  const data = ctx.deps[dataKey]?.value as DatasetValue | undefined;
  if (data?.lr) throw new Error(`${ctx.node.kind} '${ctx.node.statement}': data= is an LR dataset (lr=true), but this needs the HR images (give LR files as a degradation, e.g. degradation=${statementOf(ctx, ctx.node.deps[dataKey])})`);
  const { samples, degradations: ds } = sharedSamples(ctx, degradations, scale, { dataKey, withHr: true });
  samples.images.forEach((lr, i) => {
    const hr = samples.hr[i];
    if (hr && (hr.width !== lr.width * scale || hr.height !== lr.height * scale)) {
      throw new Error(
        `${ctx.node.kind} '${ctx.node.statement}': ${samples.labels[i]!.file} (${samples.labels[i]!.degradation}) is ${lr.width}x${lr.height}, but its HR image is ${hr.width}x${hr.height}: at x${scale} the LR should be ${hr.width / scale}x${hr.height / scale}`,
      );
    }
  });
  return { samples, degradations: ds };
}

function pairOf(ctx: RunContext, baselineKey: string, targetKey: string): { baseline: LoadedModel; target: LoadedModel; pair: Pair; names: { baseline: string; target: string } } {
  const b = model(ctx, baselineKey);
  const t = model(ctx, targetKey);
  const names = { baseline: `${baselineKey}=${b.name}`, target: `${targetKey}=${t.name}` };
  try {
    return { baseline: b.model, target: t.model, pair: matchPair(b.model.graph, t.model.graph, names), names };
  } catch (e) {
    if (e instanceof PairError) throw new Error(`${ctx.node.kind} '${ctx.node.statement}': ${e.message}`);
    throw e;
  }
}

/** A share of the kernels as a count; zero kernels is an error naming the statement. */
function countOf(ctx: RunContext, total: number): { count: number; percent: number } {
  const share = ctx.node.params.share as { percent: number } | undefined;
  const percent = share?.percent ?? 1;
  const count = shareCount(total, percent);
  if (count === 0) throw new Error(`${ctx.node.kind} '${ctx.node.statement}': share=${percent}% of ${total} kernels selects none (at least ${Math.ceil(100 / total * 1000) / 1000}% is needed)`);
  return { count, percent };
}

// --- rankings' files ----------------------------------------------------------------------------

const RANKING_FILES = ['scores.npy', 'ranking.npy', 'kernels.json', 'top.json'];

/** scores.npy, ranking.npy, kernels.json, top.json and the per-layer figure; returns the files and the top layer. */
async function writeRanking(dir: string, r: Ranking, title: string): Promise<{ files: string[]; topLayer: string }> {
  writeNpy(path.join(dir, 'scores.npy'), r.scores, [r.scores.length]);
  writeNpy(path.join(dir, 'ranking.npy'), r.ranking, [r.ranking.length]);
  writeJson(dir, 'kernels.json', {
    total: r.index.total,
    order: 'convolution weights in the order the graph applies them; kernel index = offset + out * in_channels + in (ConvTranspose: in * out_channels + out)',
    convs: r.index.convs.map((c) => ({ initializer: c.weight, bias: c.bias ?? null, op: c.op, shape: c.shape, offset: c.offset, count: c.count })),
    ...(r.degradation ? { degradation: r.degradation } : {}),
  });
  const top1 = shareCount(r.index.total, 1);
  writeJson(dir, 'top.json', { share: '1%', count: top1, total: r.index.total, kernels: topEntries(r.index, r.ranking, r.scores, top1) });
  const counts = perLayer(r.index, r.ranking.subarray(0, top1));
  const counts5 = perLayer(r.index, r.ranking.subarray(0, shareCount(r.index.total, 5)));
  const rows = r.index.convs.flatMap((c, i) => [
    { layer: c.weight.replace(/\.weight$/, ''), set: 'top 1%', kernels: counts[i]!, share: counts[i]! / c.count },
    { layer: c.weight.replace(/\.weight$/, ''), set: 'top 5%', kernels: counts5[i]!, share: counts5[i]! / c.count },
  ]);
  const plot = await writePlot(dir, 'figure-layers', layerBarSpec(rows, { layer: 'layer', value: 'kernels', group: 'set', valueTitle: 'kernels in the set', layerTitle: 'convolution', title }));
  const topAt = counts.indexOf(Math.max(...counts));
  return { files: [...RANKING_FILES, ...plot.files], topLayer: r.index.convs[topAt]!.weight };
}

function readRanking(dir: string): Ranking {
  const kernels = JSON.parse(readFileSync(path.join(dir, 'kernels.json'), 'utf8')) as { total: number; degradation?: string; convs: { initializer: string; bias: string | null; op: 'Conv' | 'ConvTranspose'; shape: number[]; offset: number; count: number }[] };
  const index: KernelIndex = {
    total: kernels.total,
    convs: kernels.convs.map((c) => ({ weight: c.initializer, ...(c.bias ? { bias: c.bias } : {}), op: c.op, shape: c.shape, offset: c.offset, count: c.count, taps: c.shape.slice(2).reduce((a, d) => a * d, 1) })),
  };
  return {
    scores: readNpy(path.join(dir, 'scores.npy')).data as Float32Array,
    ranking: readNpyInt32(path.join(dir, 'ranking.npy')).data,
    index,
    ...(kernels.degradation ? { degradation: kernels.degradation } : {}),
  };
}

const restoreRanking = async (result: NodeResult) => readRanking(result.dir!);

// --- faig ---------------------------------------------------------------------------------------

/**
 * Per-input FAIG scores of every sample: [samples, K], with the completeness check. The loss
 * target of each sample is its HR image, or (`selfTarget`) the target network's own output.
 */
async function attributeSamples(
  ctx: RunContext,
  baseline: LoadedModel,
  target: LoadedModel,
  pair: Pair,
  samples: Samples,
  steps: number,
  selfTarget = false,
): Promise<Attribution> {
  const device = await resolveDevice(ctx.device, ctx.warn);
  const inputs: { lr: Image; hr: Image }[] = [];
  for (let i = 0; i < samples.images.length; i++) {
    const lr = samples.images[i]!;
    const hr = selfTarget ? await forwardImage(target, lr, device) : samples.hr[i];
    if (!hr) throw new Error(`${ctx.node.kind} '${ctx.node.statement}': ${samples.labels[i]!.file} has no HR image for the loss`);
    inputs.push({ lr, hr });
  }
  const total = inputs.length * steps;
  let done = 0;
  return attributeAll(baseline, target, pair, inputs, {
    steps,
    device,
    batch: numberParam(ctx.node, 'batch'),
    onWarning: ctx.warn,
    signal: ctx.signal,
    onStep: (n) => ctx.progress((done += n), total, 'path steps'),
  });
}

const mean = (xs: number[]) => {
  const ok = xs.filter(Number.isFinite);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
};

export const faigRunner: NodeRunner = {
  kind: 'faig',
  cache: true,
  async run(ctx) {
    const started = performance.now();
    const { baseline, target, pair } = pairOf(ctx, 'baseline', 'target');
    const steps = numberParam(ctx.node, 'steps');
    const sides = [ctx.node.params.degradation!, ...(ctx.node.params.versus !== undefined ? [ctx.node.params.versus] : [])];
    const { samples, degradations } = samplesFor(ctx, sides, target.info.scale);
    const { single, inputs: perInput, completeness, device, plan, batch, batchNote } = await attributeSamples(ctx, baseline, target, pair, samples, steps);
    const k = pair.index.total;
    const inputs = samples.images.length / sides.length;
    // Samples are source-major (each image: its degradation, then its versus input).
    const scores = new Float32Array(k);
    const perSide = new Float32Array(single.length);
    for (let i = 0; i < inputs; i++) {
      for (let s = 0; s < sides.length; s++) perSide.set(single.subarray((i * sides.length + s) * k, (i * sides.length + s + 1) * k), (s * inputs + i) * k);
      const d = single.subarray(i * sides.length * k, (i * sides.length + 1) * k);
      const v = sides.length > 1 ? single.subarray((i * sides.length + 1) * k, (i * sides.length + 2) * k) : undefined;
      for (let j = 0; j < k; j++) scores[j] = Math.fround(scores[j]! + (v ? Math.fround(d[j]! - v[j]!) : d[j]!));
    }
    const r: Ranking = { scores, ranking: rankScores(scores), index: pair.index, degradation: degradationText(degradations[0]!) };
    writeNpy(path.join(ctx.runDir, 'single.npy'), perSide, [sides.length, inputs, k]);
    const title = `${ctx.node.statement}: where the top kernels for ${r.degradation}${sides.length > 1 ? ` (vs ${degradationText(degradations[1]!)})` : ''} sit`;
    const { files, topLayer } = await writeRanking(ctx.runDir, r, title);
    let zeros = 0;
    for (const v of scores) if (v === 0) zeros++;
    const labels = samples.labels.filter((_, i) => i % sides.length === 0).map((l) => l.crop);
    writeJson(ctx.runDir, 'faig.json', {
      kernels: k,
      zeros,
      steps,
      sides: degradations.map(degradationText),
      inputs: labels,
      moving: pair.moving,
      completeness: {
        what: 'sum over the inputs and every moving parameter of G * (baseline - target) / N, over the sum of L(baseline) - L(target) (a left Riemann sum of N steps: 1 when exact)',
        ratio: completeness,
        inputs: samples.labels.map((l, i) => ({ input: l.crop, degradation: l.degradation, 'loss-change': perInput[i]!.lossChange, 'attributed-kernels': perInput[i]!.attributedKernels })),
      },
      device,
      plan,
      batch,
      ...(batchNote ? { 'batch-note': batchNote } : {}),
    });
    return {
      value: r,
      summary: { kernels: k, zeros, 'top-layer': topLayer, completeness, inputs, device, plan, batch, seconds: (performance.now() - started) / 1000 },
      files: [...files, 'single.npy', 'faig.json'],
    };
  },
  restore: restoreRanking,
};

// --- rank ---------------------------------------------------------------------------------------

export const rankRunner: NodeRunner = {
  kind: 'rank',
  cache: true,
  async run(ctx) {
    const started = performance.now();
    const { baseline, target, pair } = pairOf(ctx, 'baseline', 'target');
    const method = wordParam(ctx.node, 'method', ['filter-change', 'integrated-gradients', 'random'] as const);
    let scores: Float32Array;
    let ranking: Int32Array;
    if (method === 'random') {
      ranking = seededPermutation(pair.index.total, numberParam(ctx.node, 'seed'));
      scores = new Float32Array(pair.index.total);
      ranking.forEach((k, r) => (scores[k] = pair.index.total - r));
    } else {
      if (method === 'filter-change') scores = filterChange(pair.index, baseline.graph, target.graph);
      else {
        const { samples } = samplesFor(ctx, ['clean', ctx.node.params.degradation!], target.info.scale);
        const device = await resolveDevice(ctx.device, ctx.warn);
        scores = await inputGradientScores(target, pair.index, samples, numberParam(ctx.node, 'steps'), device, (d, t) => ctx.progress(d, t, 'path steps'));
      }
      ranking = rankScores(scores);
    }
    const r: Ranking = { scores, ranking, index: pair.index };
    const { files, topLayer } = await writeRanking(ctx.runDir, r, `${ctx.node.statement}: where the top kernels by ${method} sit`);
    return { value: r, summary: { kernels: pair.index.total, 'top-layer': topLayer, method, seconds: (performance.now() - started) / 1000 }, files };
  },
  restore: restoreRanking,
};

// --- mask ---------------------------------------------------------------------------------------

export const maskRunner: NodeRunner = {
  kind: 'mask',
  cache: true,
  async run(ctx) {
    const { baseline, target, pair } = pairOf(ctx, 'from', 'model');
    const r = ranking(ctx);
    if (r.index.total !== pair.index.total || r.index.convs.some((c, i) => c.weight !== pair.index.convs[i]?.weight)) {
      throw new Error(`mask '${ctx.node.statement}': filters=${statementOf(ctx, ctx.node.deps.filters)} ranks the kernels of other networks than model= and from= (${r.index.total} kernels against ${pair.index.total})`);
    }
    const { count, percent } = countOf(ctx, pair.index.total);
    const select = wordParam(ctx.node, 'select', ['top', 'random'] as const);
    const kernels = select === 'top' ? r.ranking.subarray(0, count) : seededPermutation(pair.index.total, numberParam(ctx.node, 'seed')).subarray(0, count);
    const graph = replaceKernels(target.graph, baseline.graph, pair.index, kernels);
    writeFileSync(path.join(ctx.runDir, 'model.onnx'), encodeModel(graph));
    writeNpy(path.join(ctx.runDir, 'kernels.npy'), Int32Array.from(kernels), [count]);
    let weights = 0;
    for (const c of pair.index.convs) weights += c.count * c.taps;
    const taps = Array.from(kernels, (k) => pair.index.convs.find((c) => k >= c.offset && k < c.offset + c.count)!.taps).reduce((a, b) => a + b, 0);
    const value = await loadOnnxFile(path.join(ctx.runDir, 'model.onnx'), { scale: target.info.scale });
    return {
      value,
      summary: { masked: count, share: `${percent}%`, select, 'masked-weights': taps / weights, scale: target.info.scale, parameters: value.info.parameters },
      files: ['model.onnx', 'kernels.npy'],
    };
  },
  async restore(result) {
    return loadOnnxFile(path.join(result.dir!, 'model.onnx'), { scale: Number(result.summary.scale) });
  },
};

// --- evaluate -----------------------------------------------------------------------------------

/** The network's output for one LR image (batch 1), 0..1 planar. */
async function forwardImage(m: LoadedModel, lr: Image, device: string): Promise<Image> {
  const shape: [number, number, number, number] = [1, m.info.inputChannels, lr.height, lr.width];
  const session = await createSession(specialiseModel(m, shape), { device: device as 'cpu' });
  try {
    const out = await session.run({ [m.info.inputName]: { dtype: 'float32', dims: shape, data: lr.data } });
    const sr = out[m.info.outputName]!;
    return { width: sr.dims[3]!, height: sr.dims[2]!, data: sr.data as Float32Array };
  } finally {
    await session.release();
  }
}

interface EvalRow {
  model: string;
  degradation: string;
  psnr: number;
  ssim: number;
  'psnr-to-reference'?: number;
  'gradient-metric'?: number;
  images: { input: string; psnr: number; ssim: number; 'psnr-to-reference'?: number; 'gradient-metric'?: number }[];
}

const fmt = (v: number | undefined) => (v === undefined ? '' : !Number.isFinite(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4));

/** table.json, what a report shows of a table-producing run (the table kernel's TableData). */
function tableJson(ctx: RunContext, head: string[], body: (string | number)[][]): string {
  const table: TableData = { title: `${ctx.node.kind} ${ctx.node.statement ?? ''}`.trim(), columns: head, rows: body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? null]))) };
  return writeJson(ctx.runDir, 'table.json', table);
}

export const evaluateRunner: NodeRunner = {
  kind: 'evaluate',
  cache: true,
  async run(ctx) {
    const started = performance.now();
    const models = depsOf(ctx, 'models').map((d) => ({ name: runLabel(ctx, d.nodeId), model: d.result.value as LoadedModel }));
    const reference = ctx.node.deps.reference ? model(ctx, 'reference') : undefined;
    const scales = new Set(models.map((m) => m.model.info.scale));
    if (scales.size > 1) throw new Error(`evaluate '${ctx.node.statement}': the models upscale by different factors (${[...scales].map((s) => `x${s}`).join(', ')}); evaluate them in separate statements`);
    const scale = models[0]!.model.info.scale;
    const border = ctx.node.params.border !== undefined ? numberParam(ctx.node, 'border') : scale;
    const degradations = asList(ctx.node.params.degradations);
    const { samples, degradations: ds } = samplesFor(ctx, degradations, scale);
    const device = await resolveDevice(ctx.device, ctx.warn);
    const rows: EvalRow[] = [];
    const total = models.length * samples.images.length;
    let done = 0;
    const referenceOut = new Map<number, Image>();
    if (reference) for (let i = 0; i < samples.images.length; i++) referenceOut.set(i, await forwardImage(reference.model, samples.images[i]!, device));
    for (const m of models) {
      for (const d of ds) {
        const row: EvalRow = { model: m.name, degradation: degradationText(d), psnr: 0, ssim: 0, images: [] };
        for (let i = 0; i < samples.images.length; i++) {
          if (samples.labels[i]!.degradation !== row.degradation) continue;
          const sr = await forwardImage(m.model, samples.images[i]!, device);
          const hr = samples.hr[i]!;
          const img: EvalRow['images'][number] = { input: samples.labels[i]!.crop, psnr: psnrBorder(sr, hr, border), ssim: ssim(sr, hr, border) };
          const ref = referenceOut.get(i);
          if (ref) {
            img['psnr-to-reference'] = psnrBorder(sr, ref, border);
            img['gradient-metric'] = gradientMetric(sr, ref);
          }
          row.images.push(img);
          ctx.progress(++done, total, 'images');
        }
        const avg = (key: 'psnr' | 'ssim' | 'psnr-to-reference' | 'gradient-metric') => mean(row.images.map((x) => x[key] ?? NaN));
        row.psnr = avg('psnr');
        row.ssim = avg('ssim');
        if (reference) {
          row['psnr-to-reference'] = avg('psnr-to-reference');
          row['gradient-metric'] = avg('gradient-metric');
        }
        rows.push(row);
      }
    }
    const head = ['model', ...ds.map((d) => `PSNR ${degradationText(d)}`), ...ds.map((d) => `SSIM ${degradationText(d)}`), ...(reference ? ds.map((d) => `gradient metric ${degradationText(d)}`) : [])];
    const body = models.map((m) => {
      const of = (d: Degradation) => rows.find((r) => r.model === m.name && r.degradation === degradationText(d))!;
      return [m.name, ...ds.map((d) => fmt(of(d).psnr)), ...ds.map((d) => fmt(of(d).ssim)), ...(reference ? ds.map((d) => fmt(of(d)['gradient-metric'])) : [])];
    });
    const note = `\nPSNR and SSIM (dB; 0..1) against the HR images, ${border} pixels cut from each side, mean over ${samples.images.length / ds.length} inputs.` +
      (reference ? ` Gradient metric (the FAIG authors', x1000, lower is closer) against ${reference.name}'s output.` : '') + '\n';
    writeFileSync(path.join(ctx.runDir, 'table.md'), markdownTable([head, ...body]) + note);
    const files = ['table.md', writeJson(ctx.runDir, 'evaluate.json', { border, reference: reference?.name ?? null, rows }), tableJson(ctx, head, body)];
    // PSNR per model and degradation: the masking table as a picture.
    const plot = await writePlot(ctx.runDir, 'figure-psnr', layerBarSpec(rows.map((r) => ({ model: r.model, degradation: r.degradation, psnr: r.psnr })), { layer: 'model', value: 'psnr', group: 'degradation', valueTitle: 'PSNR (dB)', layerTitle: 'model', title: `${ctx.node.statement ?? 'evaluate'}: PSNR per model and degradation` }));
    return {
      value: { rows },
      summary: { psnr: rows[0]!.psnr, rows: rows.length, seconds: (performance.now() - started) / 1000 },
      files: [...files, ...plot.files],
    };
  },
};

// --- modulate -----------------------------------------------------------------------------------

function toRgb(img: Image): Rgb {
  const { width: w, height: h } = img;
  const data = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.round(Math.min(1, Math.max(0, img.data[c * w * h + p]!)) * 255);
  return { width: w, height: h, data };
}

export const modulateRunner: NodeRunner = {
  kind: 'modulate',
  cache: true,
  async run(ctx) {
    const started = performance.now();
    const { baseline, target, pair } = pairOf(ctx, 'from', 'model');
    const r = ranking(ctx);
    const { count, percent } = countOf(ctx, pair.index.total);
    const [lo, hi] = (ctx.node.params.lambda as { range: [number, number] }).range;
    const n = numberParam(ctx.node, 'count');
    const lambdas = Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
    const data = ctx.deps.data?.value as DatasetValue;
    let samples: Samples;
    if (data.lr) {
      const sets = datasets(ctx);
      const lrName = statementOf(ctx, ctx.node.deps.data);
      const hr = ctx.deps.hr?.value as DatasetValue | undefined;
      samples = buildSamples([toDegradation({ ref: lrName, kind: 'dataset', node: ctx.node.deps.data! }, (ref) => sets.get(ref))], {
        data: hr, scale: target.info.scale, down: 'mean', patch: 0, patches: 1, seed: ctx.plan.study.seed, studyDir: ctx.plan.studyDir, withHr: true,
      });
    } else {
      samples = samplesFor(ctx, [ctx.node.params.degradation!], target.info.scale).samples;
    }
    const kernels = r.ranking.subarray(0, count);
    const device = await resolveDevice(ctx.device, ctx.warn);
    const strips: Rgb[][] = samples.images.map(() => []);
    const points: { lambda: number; psnr: number; input: string }[] = [];
    const files: string[] = [];
    for (let li = 0; li < lambdas.length; li++) {
      const lambda = lambdas[li]!;
      const m: LoadedModel = { ...target, graph: replaceKernels(target.graph, baseline.graph, pair.index, kernels, lambda) };
      for (let i = 0; i < samples.images.length; i++) {
        const sr = await forwardImage(m, samples.images[i]!, device);
        strips[i]!.push(toRgb(sr));
        const hr = samples.hr[i];
        if (hr) points.push({ lambda, psnr: psnrBorder(sr, hr, target.info.scale), input: samples.labels[i]!.crop });
        if (i === 0) {
          const file = `sr_${String(li).padStart(2, '0')}_lambda=${lambda.toFixed(3)}.png`;
          writePng(path.join(ctx.runDir, file), sr);
          files.push(file);
        }
        ctx.progress(li * samples.images.length + i + 1, lambdas.length * samples.images.length, 'outputs');
      }
    }
    // The strip: every lambda's output of each input, left to right, one row per input (up to 4).
    const rows = strips.slice(0, 4).map((s) => sideBySide(s, 2));
    const strip = rows.length === 1 ? rows[0]! : stackRows(rows, 2);
    writeRgbPng(path.join(ctx.runDir, 'figure-strip.png'), strip);
    files.push('figure-strip.png');
    const byLambda = lambdas.map((lambda) => ({ lambda, psnr: mean(points.filter((p) => p.lambda === lambda).map((p) => p.psnr)) }));
    let best = byLambda[0]!;
    for (const b of byLambda) if (b.psnr > best.psnr) best = b;
    if (points.length) {
      const plot = await writePlot(ctx.runDir, 'figure-psnr', lineSpec(byLambda.map((b) => ({ ...b, kernels: `top ${percent}% of ${statementOf(ctx, ctx.node.deps.filters)}` })), {
        x: 'lambda', y: 'psnr', series: 'kernels', xTitle: 'lambda (0: baseline kernels, 1: target)', yTitle: 'mean PSNR (dB)', title: `${ctx.node.statement}: restoration against lambda`,
      }));
      files.push(...plot.files);
    }
    files.push(writeJson(ctx.runDir, 'modulate.json', { kernels: count, share: `${percent}%`, lambdas, psnr: byLambda, perImage: points }));
    return {
      summary: { kernels: count, ...(points.length ? { 'best-lambda': best.lambda, 'best-psnr': best.psnr } : {}), seconds: (performance.now() - started) / 1000 },
      files,
    };
  },
};

function stackRows(rows: Rgb[], gap: number): Rgb {
  const width = Math.max(...rows.map((r) => r.width));
  const height = rows.reduce((a, r) => a + r.height, 0) + gap * (rows.length - 1);
  const data = new Uint8Array(width * height * 3).fill(255);
  let y0 = 0;
  for (const r of rows) {
    for (let y = 0; y < r.height; y++) data.set(r.data.subarray(y * r.width * 3, (y + 1) * r.width * 3), ((y0 + y) * width) * 3);
    y0 += r.height + gap;
  }
  return { width, height, data };
}

function writeRgbPng(file: string, img: Rgb): void {
  const planes = new Float32Array(img.width * img.height * 3);
  for (let p = 0; p < img.width * img.height; p++) for (let c = 0; c < 3; c++) planes[c * img.width * img.height + p] = img.data[p * 3 + c]! / 255;
  writePng(file, { width: img.width, height: img.height, data: planes });
}

// --- classify -----------------------------------------------------------------------------------

export const classifyRunner: NodeRunner = {
  kind: 'classify',
  cache: true,
  async run(ctx) {
    const started = performance.now();
    const { baseline, target, pair } = pairOf(ctx, 'from', 'model');
    const classes = depsOf(ctx, 'filters').map((d) => ({ name: statementOf(ctx, d.nodeId), ranking: d.result.value as Ranking }));
    const { count, percent } = countOf(ctx, pair.index.total);
    const thresholds = ctx.node.params.thresholds !== undefined ? asList(ctx.node.params.thresholds).map(Number) : classes.map(() => 0.5);
    const tops = classes.map((c) => new Set(c.ranking.ranking.subarray(0, count)));
    const { samples } = samplesFor(ctx, asList(ctx.node.params.degradations), target.info.scale);
    const steps = numberParam(ctx.node, 'steps');
    const selfTarget = wordParam(ctx.node, 'loss', ['hr', 'self'] as const) === 'self';
    const { single } = await attributeSamples(ctx, baseline, target, pair, samples, steps, selfTarget);
    const k = pair.index.total;
    const results = samples.labels.map((label: SampleLabel, i) => {
      const own = rankScores(single.subarray(i * k, (i + 1) * k)).subarray(0, count);
      const overlap = tops.map((t) => own.reduce((a, x) => a + (t.has(x) ? 1 : 0), 0) / count);
      const predicted = classes.filter((_, j) => overlap[j]! >= thresholds[j]!).map((c) => c.ranking.degradation ?? c.name);
      return { input: label.crop, truth: label.degradation, overlap: Object.fromEntries(classes.map((c, j) => [c.name, overlap[j]])), predicted };
    });
    const known = new Set(classes.map((c) => c.ranking.degradation ?? c.name));
    const perClass = [...new Set(results.map((r) => r.truth))].map((truth) => {
      const of = results.filter((r) => r.truth === truth);
      // Right: exactly the true class when it is one of the filters' classes, else no class at all.
      const right = of.filter((r) => (known.has(truth) ? r.predicted.length === 1 && r.predicted[0] === truth : r.predicted.length === 0)).length;
      return { truth, inputs: of.length, accuracy: right / of.length };
    });
    const accuracy = perClass.reduce((a, c) => a + c.accuracy * c.inputs, 0) / results.length;
    const head = ['input', 'true degradation', ...classes.map((c) => `OS ${c.name} (>= ${thresholds[classes.indexOf(c)]})`), 'predicted'];
    const md = markdownTable([head, ...results.map((r) => [r.input, r.truth, ...classes.map((c) => fmt(r.overlap[c.name])), r.predicted.join(', ') || 'none'])]) +
      '\n' + markdownTable([['true degradation', 'inputs', 'accuracy'], ...perClass.map((c) => [c.truth, c.inputs, fmt(c.accuracy)])]) +
      `\nOS(x, D) = |top(D) & top(x)| / |top(x)|, top = the ${percent}% best kernels (${count}); per-image FAIG of ${steps} steps, loss against ${selfTarget ? "the target's own output" : 'the HR image'}.\n`;
    writeFileSync(path.join(ctx.runDir, 'table.md'), md);
    const files = ['table.md', tableJson(ctx, ['true degradation', 'inputs', 'accuracy'], perClass.map((c) => [c.truth, c.inputs, c.accuracy])), writeJson(ctx.runDir, 'classify.json', { share: `${percent}%`, count, thresholds: Object.fromEntries(classes.map((c, j) => [c.name, thresholds[j]])), loss: selfTarget ? 'self' : 'hr', inputs: results, perClass, accuracy })];
    writeNpy(path.join(ctx.runDir, 'single.npy'), single, [samples.images.length, k]);
    files.push('single.npy');
    return { summary: { accuracy, inputs: results.length, seconds: (performance.now() - started) / 1000 }, files };
  },
};

export const runners = [faigRunner, rankRunner, maskRunner, evaluateRunner, modulateRunner, classifyRunner] as const;

