// Model summaries for hover and layer completion: read off the request path, cached, bounded.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { completion } from '../../src/lsp/completion.js';
import { createEnvironment } from '../../src/lsp/environment.js';
import { hover } from '../../src/lsp/hover.js';
import { readModelSummary, type ModelRef, type PlanQuery } from '../../src/lsp/model-summary.js';
import { ModelInspector } from '../../src/lsp/models.js';
import { listZooModels } from '../../src/runtime/models/zoo.js';
import { at, CATALOGUE_WITH_CALLS, makeStudyFolder, tinyPng } from './helpers/fixture.js';
import { describePlan, planLam } from '../../src/runtime/methods/lam/plan.js';
import { resolveZooModel } from '../../src/runtime/models/zoo.js';
import { buildServer, repoRoot } from './helpers/server-process.js';

const dir = makeStudyFolder({ 'models/big.onnx': Buffer.alloc(4096), 'images/big.png': tinyPng(256, 256) });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A lam plan of esrgan-slim/x4 on a 64x64 LR image (HR 256x256), window (96,120,16,16), 20 steps. */
const PLAN_QUERY: PlanQuery = { lr: [64, 64], window: [96, 120, 16, 16], detector: 'gradient', reduce: 'sum', steps: 20, crop: 'auto' };

const slimInstalled = listZooModels().find((z) => z.id === 'esrgan-slim/x4')?.installed;

// @upscalerjs/esrgan-slim is a dependency: a clone without it fails here rather than skipping.
describe('with the esrgan-slim/x4 zoo model', () => {
  it('is installed', () => expect(slimInstalled).toBe(true));
  const env = createEnvironment();
  const STUDY = 'model slim zoo="esrgan-slim/x4"\nfeatures f model=slim layer=';

  it('completes layer names once the model is read, and says so while it is not', async () => {
    const first = at(`${STUDY}<|>`, dir, env, CATALOGUE_WITH_CALLS);
    const pending = completion(first.view, first.position, env);
    expect(pending).toEqual({ isIncomplete: true, items: [] });
    const state = await env.models.get({ zoo: 'esrgan-slim/x4' });
    expect(state.status).toBe('ready');
    const ready = completion(first.view, first.position, env);
    const labels = ready.items.map((i) => i.label);
    // The convolutions' output tensors, in graph order, as `lvi inspect` lists them.
    expect(labels).toEqual(state.status === 'ready' ? state.summary.layers.map((l) => l.name) : []);
    expect(ready.items[0]?.detail).toMatch(/^Conv /);
    expect(ready.items[0]?.textEdit).toMatchObject({ newText: JSON.stringify(labels[0]) });
    const inString = at(`${STUDY}"conv<|>"`, dir, env, CATALOGUE_WITH_CALLS);
    expect(completion(inString.view, inString.position, env).items[0]?.textEdit).toMatchObject({ newText: labels[0] });
  });

  it('completes the layers of every model of a sweep model=[a, b]: those all have first, then the others, saying which', async () => {
    const medium = { zoo: 'esrgan-medium/x4' };
    const marked = `model slim zoo="esrgan-slim/x4"\nmodel medium zoo="esrgan-medium/x4"\nfeatures f model=[slim, medium] layer=<|>`;
    const first = at(marked, dir, env, CATALOGUE_WITH_CALLS);
    const [a, b] = [await env.models.get({ zoo: 'esrgan-slim/x4' }), env.models.peek(medium)];
    if (a.status !== 'ready') throw new Error('slim not read');
    if (b.status !== 'ready') expect(completion(first.view, first.position, env).isIncomplete).toBe(true); // medium still loading
    const m = await env.models.get(medium);
    if (m.status !== 'ready') throw new Error('medium not read');
    const list = completion(first.view, first.position, env);
    expect(list.isIncomplete).toBe(false);
    const inSlim = new Set(a.summary.layers.map((l) => l.name));
    const inMedium = new Set(m.summary.layers.map((l) => l.name));
    const both = [...inSlim].filter((n) => inMedium.has(n));
    const some = [...new Set([...inSlim, ...inMedium])].filter((n) => !both.includes(n));
    expect(both.length).toBeGreaterThan(0);
    expect(some.length).toBeGreaterThan(0); // the deeper network has layers the slim one lacks
    const sorted = [...list.items].sort((x, y) => x.sortText!.localeCompare(y.sortText!));
    expect(sorted.map((i) => i.label)).toEqual([...both, ...some]);
    for (const item of sorted) {
      const where = inSlim.has(item.label) && inMedium.has(item.label) ? '' : ` — only in ${inSlim.has(item.label) ? 'slim' : 'medium'}`;
      expect(item.detail!.endsWith(where) && (where !== '' || !item.detail!.includes('only in')), `${item.label}: ${item.detail}`).toBe(true);
    }
  });

  it('hovers a model with its inputs, outputs, parameters and scale', async () => {
    await env.models.get({ zoo: 'esrgan-slim/x4' });
    const a = at('model sl<|>im zoo="esrgan-slim/x4"', dir, env);
    const text = (hover(a.view, a.position, env)!.contents as { value: string }).value;
    expect(text).toContain('scale: x4, values 0..255');
    expect(text).toMatch(/inputs: `input` \[/);
    expect(text).toMatch(/outputs: `output` \[/);
    expect(text).toMatch(/parameters: [0-9,]+/);
    expect(text).toContain('receptive field');
  });

  it('estimates an analysis\'s time once the model is read', async () => {
    await env.models.get({ zoo: 'esrgan-slim/x4' });
    const a = at('model slim zoo="esrgan-slim/x4"\nimage cat file="images/chelsea.png"\nla<|>m e model=slim image=cat window=(0,0,4,4)', dir, env);
    expect((hover(a.view, a.position, env)!.contents as { value: string }).value).toMatch(/time on cpu: (under a second|about)/);
  });

  it('hovers a lam statement with its plan: FLOPs per step on the whole image, the crop and the cone, counted off the request path', async () => {
    await env.models.get({ zoo: 'esrgan-slim/x4' });
    const a = at('model slim zoo="esrgan-slim/x4"\nimage big file="images/big.png"\nla<|>m e model=slim image=big window=(96,120,16,16) steps=20', dir, env);
    const text = () => (hover(a.view, a.position, env)!.contents as { value: string }).value;
    expect(text()).toContain('- slim on big, window (96,120,16,16): counting FLOPs…');
    // HR 256x256 at x4: a 64x64 LR image; the catalogue's defaults for the rest
    const state = await env.models.getPlan({ zoo: 'esrgan-slim/x4' }, PLAN_QUERY);
    expect(state.status).toBe('ready');
    // the plan counted on the model read here, in this thread
    const model = await resolveZooModel('esrgan-slim/x4');
    const p = planLam(model, { width: 64, height: 64 }, { window: { x: 96, y: 120, w: 16, h: 16 }, detector: 'gradient', reduce: 'sum', steps: 20, crop: 'auto' });
    expect(p.plan).toBe('cone');
    expect(p.flops.cone!).toBeLessThan(0.5 * p.flops.whole);
    const shown = text();
    for (const line of describePlan(p, 20)) expect(shown).toContain(`  - ${line}`);
    expect(shown).toMatch(/whole image [\d.]+ GFLOP, receptive-field crop [\d.]+ [MG]FLOP \(\d+%\), cone [\d.]+ [MG]FLOP \(\d+%\)/);
    expect(shown).toMatch(/plan: cone; the path of 21 steps/);
  }, 120_000);
});

describe('ModelInspector', () => {
  it('reports a model that cannot be read, and one that is too large, without throwing', async () => {
    const models = new ModelInspector({ maxFileBytes: 1024 });
    expect(models.peek({ file: path.join(dir, 'models/big.onnx') })).toMatchObject({ status: 'error', message: expect.stringContaining('up to') });
    expect(models.peek({ file: path.join(dir, 'models/missing.onnx') })).toMatchObject({ status: 'error', message: expect.stringContaining('does not exist') });
    const bad = await models.get({ file: path.join(dir, 'models/net.onnx') });
    expect(bad.status).toBe('error');
    expect((await models.get({ zoo: 'no-such/x4' })).status).toBe('error');
  });

  it('reads each model once and keeps a bounded number', async () => {
    const reads: string[] = [];
    const models = new ModelInspector({
      maxEntries: 2,
      load: (ref: ModelRef) => {
        reads.push(JSON.stringify(ref));
        return readModelSummary(ref);
      },
    });
    const refs = ['a', 'b', 'c'].map((n) => ({ file: path.join(dir, `models/${n}.onnx`) }));
    for (const r of refs) fs.writeFileSync(r.file, 'x');
    for (const r of refs) await models.get(r);
    await models.get(refs[2]!);
    expect(reads.length).toBe(3);
    await models.get(refs[0]!); // evicted: read again
    expect(reads.length).toBe(4);
    fs.writeFileSync(refs[0]!.file, 'changed'); // a changed file is read again
    await models.get(refs[0]!);
    expect(reads.length).toBe(5);
  });

  it('stops a read at its deadline in the worker thread of the built server', async () => {
    await buildServer();
    const built = (await import(path.join(repoRoot, 'dist/src/lsp/models.js'))) as typeof import('../../src/lsp/models.js');
    const models = new built.ModelInspector({ timeoutMs: 1 });
    const state = await models.get({ zoo: 'esrgan-slim/x4' });
    expect(state).toMatchObject({ status: 'error', message: expect.stringContaining('longer than') });
  });

  it('counts a lam plan in the worker thread of the built server, as in this thread', async () => {
    await buildServer();
    const built = (await import(path.join(repoRoot, 'dist/src/lsp/models.js'))) as typeof import('../../src/lsp/models.js');
    const state = await new built.ModelInspector().getPlan({ zoo: 'esrgan-slim/x4' }, PLAN_QUERY);
    const model = await resolveZooModel('esrgan-slim/x4');
    const [x, y, w, h] = PLAN_QUERY.window;
    expect(state).toEqual({ status: 'ready', plan: planLam(model, { width: 64, height: 64 }, { window: { x, y, w, h }, detector: 'gradient', reduce: 'sum', steps: 20, crop: 'auto' }) });
  }, 120_000);
});
