// A DDR + SRGA study compiled and run end to end on the reference cases' exact inputs (given
// as LR datasets): the runners' numbers are the reference's, the files are written, a rerun is
// cached and the cached features still feed a changed embedding.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileText } from '../../../src/compiler/compile.js';
import { executePlan } from '../../../src/runtime/executor/index.js';
import { readNpy } from '../../../src/runtime/image/index.js';
import { removeTempStudies, tempStudy } from '../executor/helpers.js';
import { fixture } from '../../helpers/paths.js';

afterAll(removeTempStudies);

const ddr = fixture('ddr', 'inputs');
const srga = fixture('srga', 'inputs');
const BODY = '/body/body.3/Add_output_0';

// Datasets are not named like degradation calls: `clean` in degradations= is the call.
const text = (tsne: string) => `study "ddr" out="out" seed=0
model base file="${fixture('models', 'msrresnet-x2-clean.onnx')}" scale=2
model target file="${fixture('models', 'msrresnet-x2-blind.onnx')}" scale=2
dataset lr_clean dir="${ddr}" glob="*_clean.png" lr=true
dataset lr_blur dir="${ddr}" glob="*_blur.png" lr=true
dataset lr_noise dir="${ddr}" glob="*_noise.png" lr=true
dataset lr_jpeg dir="${ddr}" glob="*_jpeg.png" lr=true
dataset sclean dir="${srga}" glob="*_clean.png" lr=true
dataset sblur dir="${srga}" glob="*_blur1.png" lr=true
dataset snoise dir="${srga}" glob="*_noise0.05.png" lr=true
features f model=[base, target] layer=["/body/body.1/Add_output_0", "${BODY}"]
    degradations=[lr_clean, lr_blur, lr_noise, lr_jpeg] pool=mean
embed p of=f method=pca components=2
embed q of=f method=pca
embed t of=f method=tsne ${tsne}
cluster c of=[f, p, t] by=[degradation, content, crop] index=[calinski-harabasz, silhouette, davies-bouldin]
srga g model=[base, target] layer="${BODY}" reference=sclean tests=[sblur, snoise]
report
`;

interface Row {
  set: string;
  space: string;
  by: string;
  'calinski-harabasz': number;
  silhouette: number;
  'silhouette-per-class': Record<string, number>;
}

describe('a DDR study on the reference inputs', () => {
  it('runs features, embeddings, indices and SRGA with the reference numbers; reruns from the cache', async () => {
    const study = tempStudy(text('perplexity=10'));
    const compile = () => {
      const { plan, diagnostics } = compileText(readFileSync(study.file, 'utf8'), study.file);
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      return plan!;
    };
    const first = await executePlan(compile(), { progress: 'none' });
    expect(first.nodes.filter((n) => n.status !== 'ran').map((n) => `${n.id}: ${n.status} ${n.error ?? ''}`)).toEqual([]);

    const metrics = JSON.parse(readFileSync(fixture('ddr', 'metrics.json'), 'utf8'));
    const f = first.nodes.find((n) => n.kind === 'features' && n.id.includes('base'))!;
    expect(f.summary).toMatchObject({ samples: 48, dim: 32, layers: 2 });
    const labels = JSON.parse(readFileSync(join(f.outDir!, 'labels.json'), 'utf8'));
    expect(labels[0]).toEqual({ file: expect.stringMatching(/astronaut_br_clean\.png$/), degradation: 'lr_clean', content: 'astronaut', crop: 'astronaut_br' });
    expect(readNpy(join(f.outDir!, 'features_1.npy')).shape).toEqual([48, 32]);

    const c = first.nodes.find((n) => n.kind === 'cluster')!;
    const rows = (JSON.parse(readFileSync(join(c.outDir!, 'cluster.json'), 'utf8')) as { rows: Row[] }).rows;
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    for (const [net, run] of [['baseline', 'base'], ['target', 'target']]) {
      for (const by of ['degradation', 'content', 'crop']) {
        const ref = metrics.results[net].body.pooled;
        const raw = rows.find((r) => r.space === 'raw' && r.by === by && r.set.includes(`model=${run}`) && r.set.endsWith(BODY))!;
        // lvi's own (ONNX Runtime) features: 1e-5 relative, as the reference README allows.
        expect(rel(raw['calinski-harabasz'], ref.raw[by].calinski_harabasz)).toBeLessThan(1e-5);
        expect(rel(raw.silhouette, ref.raw[by].silhouette)).toBeLessThan(1e-5);
        const pca2 = rows.find((r) => r.space === 'pca' && r.by === by && r.set.includes(`model=${run}`) && r.set.includes(BODY))!;
        expect(rel(pca2['calinski-harabasz'], ref.pca2[by].calinski_harabasz)).toBeLessThan(1e-5);
      }
    }
    // The paper's finding on t-SNE of the body output: the target separates degradations, noise best.
    const tsne = rows.find((r) => r.space === 'tsne' && r.by === 'degradation' && r.set.includes('model=target') && r.set.includes(BODY))!;
    const tsneContent = rows.find((r) => r.space === 'tsne' && r.by === 'content' && r.set.includes('model=target') && r.set.includes(BODY))!;
    expect(tsne.silhouette).toBeGreaterThan(tsneContent.silhouette);
    expect(tsne['silhouette-per-class'].lr_noise).toBeGreaterThan(0.5);

    const t = first.nodes.find((n) => n.kind === 'embed' && n.id.includes(':t'))!;
    for (const file of ['figure-scatter.png', 'figure-scatter.svg', 'figure-scatter.vl.json', 'embedding_0.npy', 'embedding.json']) expect(existsSync(join(t.outDir!, file)), file).toBe(true);

    const sref = JSON.parse(readFileSync(fixture('srga', 'srga.json'), 'utf8'));
    for (const [net, run] of [['clean', 'base'], ['blind', 'target']]) {
      const g = first.nodes.find((n) => n.kind === 'srga' && n.id.includes(`model=${run}`))!;
      const res = JSON.parse(readFileSync(join(g.outDir!, 'srga.json'), 'utf8'));
      expect(res.rows.map((r: { set: string }) => r.set)).toEqual(['sclean', 'sblur', 'snoise']);
      expect(Math.abs(res.rows[1].srga - sref.networks[net].blur1.exact.srga)).toBeLessThan(sref.networks[net].blur1.tolerance);
      expect(Math.abs(res.rows[2].srga - sref.networks[net]['noise0.05'].exact.srga)).toBeLessThan(sref.networks[net]['noise0.05'].tolerance);
      expect(existsSync(join(g.outDir!, 'figure-srga.png'))).toBe(true);
    }

    // The report shows what people look at: every embedding's scatter plot, the cluster table
    // (with its per-class silhouettes) and the SRGA curves.
    const report = first.nodes.find((n) => n.kind === 'report')!;
    const html = readFileSync(report.summary.file as string, 'utf8');
    for (const e of ['p', 'q', 't']) expect(html, `embed ${e}`).toMatch(new RegExp(`<h3>embed ${e}</h3><div class="grid">\\s*<figure[^>]*><img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="${e} default figure-scatter.png"`));
    const clusterTable = /<h3>cluster c<\/h3>\s*(?:<figure[\s\S]*?<\/figure>)?\s*<table><thead><tr>(.*?)<\/tr><\/thead><tbody>(.*?)<\/tbody><\/table>/.exec(html);
    expect(clusterTable, 'the cluster table').not.toBeNull();
    expect([...clusterTable![1]!.matchAll(/<th[^>]*>(.*?)<\/th>/g)].map((m) => m[1])).toEqual(
      ['features', 'space', 'by', 'classes', 'calinski-harabasz', 'silhouette', 'davies-bouldin', 'silhouette per class'],
    );
    expect(clusterTable![2]!.match(/<tr>/g)).toHaveLength(rows.length);
    expect(clusterTable![2]).toContain('lr_noise ');
    expect(html.match(/alt="g model=(base|target) figure-srga.png"/g)).toHaveLength(2);
    expect(html).not.toContain('<h3>cluster c</h3><div class="grid">'); // a table, not an empty figure box

    // PCA without components=: min(50, N - 1, D) = 32 for pooled features, all the variance kept.
    const q = first.nodes.find((n) => n.kind === 'embed' && n.id.includes(':q'))!;
    const qsets = JSON.parse(readFileSync(join(q.outDir!, 'embedding.json'), 'utf8')).sets as { dim: number; explained_variance_ratio: number[] }[];
    expect(qsets.map((x) => x.dim)).toEqual([32, 32, 32, 32]);
    for (const x of qsets) expect(x.explained_variance_ratio.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 12);

    const again = await executePlan(compile(), { progress: 'none' });
    expect(again.counts.ran).toBe(0);

    // A changed t-SNE reruns from the cached features (restored from features.npy / labels.json).
    writeFileSync(study.file, text('perplexity=12'));
    const changed = await executePlan(compile(), { progress: 'none' });
    const ran = changed.nodes.filter((n) => n.status === 'ran').map((n) => n.kind).sort();
    expect(ran).toEqual(['cluster', 'embed', 'report']);
  }, 300_000);
});
