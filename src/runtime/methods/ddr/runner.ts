// The node runners of `features`, `embed`, `cluster` and `srga` (grammar/kinds/ddr.ts loads this
// module lazily). Values passed between them: a FeatureSets ({ sets }) per node, one set per
// model run and layer, so `embed of=f` and `cluster of=[f, t]` see every run of a sweep.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ResolvedValue } from '../../../compiler/plan.js';
import type { LoadedModel } from '../../api.js';
import { resolveDevice } from '../../engine/device.js';
import { readNpy, writeNpy } from '../../image/index.js';
import type { TableData } from '../../kernels/table.js';
import { numberParam, optionalNumber, wordParam } from '../../kernels/params.js';
import type { NodeRunner, RunContext } from '../../runner.js';
import { asList, datasets, depsOf, formatNumber, markdownTable, samplesFor, statementOf, writeJson } from '../run-context.js';
import { calinskiHarabasz, daviesBouldin, silhouette } from '../../stats/cluster.js';
import { embedPca, embedTsne, embedUmap } from './embed.js';
import { extractFeatures, type Pool } from './features.js';
import { toDegradation, type Degradation, type SampleLabel, type Samples } from '../../data/samples.js';
import { renderPlot, scatterSpec, srgaSpec, type CurvePoint, type ScatterPoint } from './plots.js';
import { fitSet, srga, type GgdFit } from './srga.js';

/** One matrix of rows with their labels: a layer of one features run, or its embedding. */
export interface FeatureSet {
  /** Short name for tables and panels: `<statement>[/<run>]:<layer>`, plus `>pca`/`>tsne`. */
  name: string;
  model: string;
  layer: string;
  n: number;
  dim: number;
  data: Float32Array | Float64Array;
  labels: SampleLabel[];
}

export interface FeatureSets {
  sets: FeatureSet[];
}

const POOLS = ['mean', 'max', 'none'] as const;

// --- dependencies -------------------------------------------------------------------------------

function modelOf(ctx: RunContext): LoadedModel {
  const m = ctx.deps.model?.value as LoadedModel | undefined;
  if (!m) throw new Error(`${ctx.node.kind} '${ctx.node.statement}': no loaded model (dependency 'model')`);
  return m;
}

function label(ctx: RunContext): string {
  const st = ctx.node.statement ?? ctx.node.id;
  return ctx.node.runId === 'default' ? st : `${st}/${ctx.node.runId}`;
}

const samplesOf = (ctx: RunContext, degradations: ResolvedValue[], scale: number): Samples => samplesFor(ctx, degradations, scale).samples;

const degradationText = (d: Degradation) => (d.kind === 'call' ? d.text : d.name);

// --- files --------------------------------------------------------------------------------------

const matrixFile = (base: string, i: number, count: number) => (count === 1 ? `${base}.npy` : `${base}_${i}.npy`);

/** Writes the sets as <base>.npy (or <base>_<i>.npy) plus <base>.json naming them; returns the files. */
function writeSets(dir: string, base: string, sets: FeatureSet[], extra: Record<string, unknown>[] = []): string[] {
  const files: string[] = [];
  const index = sets.map((s, i) => {
    const file = matrixFile(base, i, sets.length);
    writeNpy(path.join(dir, file), s.data instanceof Float32Array ? s.data : Float32Array.from(s.data), [s.n, s.dim]);
    files.push(file);
    return { file, name: s.name, model: s.model, layer: s.layer, rows: s.n, dim: s.dim, ...(extra[i] ?? {}) };
  });
  writeFileSync(path.join(dir, `${base}.json`), JSON.stringify({ sets: index }, null, 1) + '\n');
  return [...files, `${base}.json`];
}

/** Reads what writeSets wrote (labels from labels.json beside them). */
function readSets(dir: string, base: string): FeatureSets {
  const index = JSON.parse(readFileSync(path.join(dir, `${base}.json`), 'utf8')) as { sets: { file: string; name: string; model: string; layer: string }[] };
  const labels = JSON.parse(readFileSync(path.join(dir, 'labels.json'), 'utf8')) as SampleLabel[];
  return {
    sets: index.sets.map((s) => {
      const a = readNpy(path.join(dir, s.file));
      return { name: s.name, model: s.model, layer: s.layer, n: a.shape[0], dim: a.shape[1], data: a.data, labels };
    }),
  };
}

// --- features -----------------------------------------------------------------------------------

export const featuresRunner: NodeRunner = {
  kind: 'features',
  cache: true,
  async run(ctx) {
    const started = performance.now();
    const model = modelOf(ctx);
    const layers = asList(ctx.node.params.layer).map(String);
    const pool = wordParam(ctx.node, 'pool', POOLS) as Pool;
    const samples = samplesOf(ctx, asList(ctx.node.params.degradations), model.info.scale);
    const device = await resolveDevice(ctx.device, ctx.warn);
    const feats = await extractFeatures(model, samples.images, {
      layers,
      pool,
      device,
      batch: numberParam(ctx.node, 'batch'),
      progress: (d, t) => ctx.progress(d, t, 'samples'),
    });
    const modelName = statementOf(ctx, ctx.node.deps.model);
    const sets: FeatureSet[] = feats.map((f) => ({
      name: `${label(ctx)}:${f.layer}`,
      model: modelName,
      layer: f.layer,
      n: samples.images.length,
      dim: f.dim,
      data: f.data,
      labels: samples.labels,
    }));
    const files = writeSets(ctx.runDir, 'features', sets, feats.map((f) => ({ shape: f.shape, pool })));
    files.push(writeJson(ctx.runDir, 'labels.json', samples.labels));
    return {
      value: { sets } satisfies FeatureSets,
      summary: { samples: samples.images.length, dim: sets[0].dim, layers: layers.length, device, seconds: (performance.now() - started) / 1000 },
      files,
    };
  },
  async restore(result) {
    return readSets(result.dir!, 'features');
  },
};

// --- embed --------------------------------------------------------------------------------------

/** Every set of the features (or embeddings) named by `key`. */
function inputSets(ctx: RunContext, key: string): FeatureSet[] {
  const sets = depsOf(ctx, key).flatMap((d) => (d.result?.value as FeatureSets | undefined)?.sets ?? []);
  if (sets.length === 0) throw new Error(`${ctx.node.kind} '${ctx.node.statement}': ${key}= gave no features`);
  return sets;
}

export const embedRunner: NodeRunner = {
  kind: 'embed',
  cache: true,
  async run(ctx) {
    const started = performance.now();
    const method = wordParam(ctx.node, 'method', ['pca', 'tsne', 'umap'] as const);
    const sources = inputSets(ctx, 'of');
    const out: FeatureSet[] = [];
    const extra: Record<string, unknown>[] = [];
    sources.forEach((s, i) => {
      ctx.progress(i, sources.length, 'sets');
      const rows = { data: s.data, n: s.n, d: s.dim };
      if (method === 'pca') {
        const r = embedPca(rows, optionalNumber(ctx.node, 'components') ?? Math.min(50, s.n - 1, s.dim));
        out.push({ ...s, name: `${s.name}>pca`, dim: r.dims, data: r.coords });
        extra.push({ route: r.route, explained_variance_ratio: r.explainedVarianceRatio, explained_variance: r.explainedVariance });
      } else if (method === 'umap') {
        const r = embedUmap(rows, {
          neighbors: numberParam(ctx.node, 'neighbors'),
          minDist: numberParam(ctx.node, 'min-dist'),
          seed: numberParam(ctx.node, 'seed'),
          iterations: numberParam(ctx.node, 'iterations'),
        });
        out.push({ ...s, name: `${s.name}>umap`, dim: r.dims, data: r.coords });
        extra.push({ pca_components_before: r.pcaComponents ?? null });
      } else {
        const r = embedTsne(rows, {
          perplexity: numberParam(ctx.node, 'perplexity'),
          seed: numberParam(ctx.node, 'seed'),
          iterations: numberParam(ctx.node, 'iterations'),
        });
        out.push({ ...s, name: `${s.name}>tsne`, dim: r.dims, data: r.coords });
        extra.push({ pca_components_before: r.pcaComponents ?? null });
      }
    });
    const files = writeSets(ctx.runDir, 'embedding', out, extra);
    files.push(writeJson(ctx.runDir, 'labels.json', sources[0].labels));
    // The scatter plot of the first two coordinates, one panel per set.
    const points: ScatterPoint[] = out.flatMap((s) =>
      s.labels.map((l, i) => ({ panel: s.name.replace(/>(pca|tsne|umap)$/, ''), x: s.data[i * s.dim], y: s.dim > 1 ? s.data[i * s.dim + 1] : 0, content: l.content, degradation: l.degradation, crop: l.crop })),
    );
    const title = { pca: 'PCA', tsne: 't-SNE', umap: 'UMAP' }[method];
    const axes: [string, string] = method === 'pca' ? ['PC 1', 'PC 2'] : [`${title} 1`, `${title} 2`];
    files.push(...(await renderPlot(ctx.runDir, 'figure-scatter', scatterSpec(points, `${ctx.node.statement}: ${title} of the features`, axes))));
    ctx.progress(sources.length, sources.length, 'sets');
    return {
      value: { sets: out } satisfies FeatureSets,
      summary: { sets: out.length, method, dims: out[0].dim, seconds: (performance.now() - started) / 1000 },
      files,
    };
  },
  async restore(result) {
    return readSets(result.dir!, 'embedding');
  },
};

// --- cluster ------------------------------------------------------------------------------------

export interface ClusterRow {
  set: string;
  model: string;
  layer: string;
  space: string;
  by: string;
  classes: number;
  'calinski-harabasz'?: number;
  silhouette?: number;
  'silhouette-per-class'?: Record<string, number>;
  'davies-bouldin'?: number;
}

export const clusterRunner: NodeRunner = {
  kind: 'cluster',
  cache: true,
  // Entries made before cluster wrote table.json (what the report shows) are not reused.
  keyInputs: () => 'files: table.md, cluster.json, table.json',
  async run(ctx) {
    const by = asList(ctx.node.params.by).map(String) as (keyof SampleLabel)[];
    const indices = asList(ctx.node.params.index).map(String);
    const sets = inputSets(ctx, 'of');
    const rows: ClusterRow[] = [];
    sets.forEach((s, i) => {
      ctx.progress(i, sets.length, 'sets');
      const points = { data: s.data, n: s.n, d: s.dim };
      const space = /\>(pca|tsne|umap)$/.exec(s.name)?.[1] ?? 'raw';
      for (const key of by) {
        const labels = s.labels.map((l) => l[key]);
        const row: ClusterRow = { set: s.name, model: s.model, layer: s.layer, space, by: key, classes: new Set(labels).size };
        try {
          if (indices.includes('calinski-harabasz')) row['calinski-harabasz'] = calinskiHarabasz(points, labels);
          if (indices.includes('silhouette')) {
            const sil = silhouette(points, labels);
            row.silhouette = sil.overall;
            row['silhouette-per-class'] = sil.perClass;
          }
          if (indices.includes('davies-bouldin')) row['davies-bouldin'] = daviesBouldin(points, labels);
        } catch (e) {
          throw new Error(`cluster '${ctx.node.statement}' by=${key} on ${s.name}: ${(e as Error).message}`);
        }
        rows.push(row);
      }
    });
    const header = ['features', 'space', 'by', 'classes', ...indices];
    const md = markdownTable([header, ...rows.map((r) => [r.set.replace(/>(pca|tsne|umap)$/, ''), r.space, r.by, r.classes, ...indices.map((k) => (r[k as keyof ClusterRow] as number | undefined) ?? '')])]);
    // Per-class silhouettes, one row per set and label.
    const perClass = rows.filter((r) => r['silhouette-per-class']);
    const classMd = perClass
      .map((r) => markdownTable([['class', 'silhouette'], ...Object.entries(r['silhouette-per-class']!).map(([k, v]) => [k, v])]).replace(/^/, `\n**${r.set}** by ${r.by}\n\n`))
      .join('');
    writeFileSync(path.join(ctx.runDir, 'table.md'), md + (classMd ? `\nSilhouette per class\n${classMd}` : ''));
    // table.json is what a report shows of a table-producing run (the kernels' TableData).
    const perClassColumn = indices.includes('silhouette') ? ['silhouette per class'] : [];
    const table: TableData = {
      title: `cluster ${ctx.node.statement}`,
      columns: [...header, ...perClassColumn],
      rows: rows.map((r) => ({
        features: r.set.replace(/>(pca|tsne|umap)$/, ''),
        space: r.space,
        by: r.by,
        classes: r.classes,
        ...Object.fromEntries(indices.map((k) => [k, (r[k as keyof ClusterRow] as number | undefined) ?? null])),
        ...(perClassColumn.length
          ? { 'silhouette per class': Object.entries(r['silhouette-per-class'] ?? {}).map(([k, v]) => `${k} ${formatNumber(v)}`).join(' · ') }
          : {}),
      })),
    };
    const files = ['table.md', writeJson(ctx.runDir, 'cluster.json', { rows }), writeJson(ctx.runDir, 'table.json', table)];
    ctx.progress(sets.length, sets.length, 'sets');
    return { summary: { rows: rows.length }, files, value: { rows } };
  },
};

// --- srga ---------------------------------------------------------------------------------------

export const srgaRunner: NodeRunner = {
  kind: 'srga',
  cache: true,
  async run(ctx) {
    const started = performance.now();
    const model = modelOf(ctx);
    const layer = String(ctx.node.params.layer);
    const components = numberParam(ctx.node, 'components');
    const device = await resolveDevice(ctx.device, ctx.warn);
    const all = [ctx.node.params.reference, ...asList(ctx.node.params.tests)];
    const sets = datasets(ctx);
    const names = all.map((d) => degradationText(toDegradation(d, (ref) => sets.get(ref))));
    const fits: GgdFit[] = [];
    for (let i = 0; i < all.length; i++) {
      ctx.progress(i, all.length, 'sets');
      const samples = samplesOf(ctx, [all[i]], model.info.scale);
      const [f] = await extractFeatures(model, samples.images, { layers: [layer], pool: 'none', device, batch: numberParam(ctx.node, 'batch') });
      fits.push(fitSet(f.data, samples.images.length, f.dim, components));
    }
    const rows = fits.map((fit, i) => {
      const r = srga(fits[0], fit);
      return { set: names[i], role: i === 0 ? 'reference' : 'test', srga: r.srga, kl: r.kl, sigma: fit.sigma, gamma: fit.gamma, kept: fit.kept, values: fit.total };
    });
    const md = markdownTable([['set', 'SRGA', 'KL', 'GGD sigma', 'GGD gamma', 'kept / values'], ...rows.map((r) => [r.role === 'reference' ? `${r.set} (reference)` : r.set, r.srga, r.kl, r.sigma, r.gamma, `${r.kept} / ${r.values}`])]);
    writeFileSync(path.join(ctx.runDir, 'table.md'), md);
    const files = [
      'table.md',
      writeJson(ctx.runDir, 'srga.json', {
        model: statementOf(ctx, ctx.node.deps.model),
        layer,
        components,
        pca: 'exact (float64; N x N Gram matrix of the centred features), signs as scikit-learn 1.2.1\'s full solver',
        rows,
      }),
    ];
    const tests = rows.slice(1);
    const curve: CurvePoint[] = tests.map((r, i) => {
      const d = toDegradation(all[i + 1], (ref) => sets.get(ref));
      const strength = d.kind === 'call' ? d.args.sigma ?? d.args.quality : undefined;
      return {
        series: `${statementOf(ctx, ctx.node.deps.model)} ${layer}`,
        test: r.set,
        order: i,
        srga: r.srga,
        ...(d.kind === 'call' && typeof strength === 'number' ? { family: d.call, strength } : {}),
      };
    });
    files.push(...(await renderPlot(ctx.runDir, 'figure-srga', srgaSpec(curve, `SRGA against ${names[0]}: ${label(ctx)}`))));
    ctx.progress(all.length, all.length, 'sets');
    return {
      summary: {
        srga: tests[0]?.srga ?? null,
        'srga-max': Math.max(...tests.map((t) => t.srga)),
        tests: Object.fromEntries(tests.map((t) => [t.set, t.srga])),
        device,
        seconds: (performance.now() - started) / 1000,
      },
      files,
    };
  },
};

/** The runners of this method (grammar/kinds/ddr.ts loads this module lazily). */
export const runners: NodeRunner[] = [featuresRunner, embedRunner, clusterRunner, srgaRunner];
