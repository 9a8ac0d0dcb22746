// The `lam` plan node: runs LAM for one (model, image, window, path...) combination and writes
// the attribution arrays, di.json and the pictures into the run folder.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { LAM_KINDS } from '../../../../grammar/kinds/lam.js';
import type { PlanNode } from '../../../compiler/plan.js';
import { numberParam, wordParam } from '../../kernels/params.js';
import type { LoadedModel } from '../../api.js';
import { resolveDevice } from '../../engine/index.js';
import type { NodeRunner, RunContext, NodeResult } from '../../runner.js';
import { resizeBicubic8, toRgbBytes, writeNpy, writeRgbPng, type Image } from '../../image/index.js';
import type { LrPair } from '../../kernels/derive-lr.js';
import { psnr } from '../../metrics/index.js';
import { specialiseModel } from '../../models/index.js';
import { blend, clonePicture, outline, seismic, sideBySide, upscaleNearest, type Rgb } from '../../render/index.js';
import { BATCH_CHECK_TOLERANCE, checkWindow, computeLam, CropMismatch, type CropPlan, type LamResult, type StepOutputs, type Window } from './compute.js';
import type { PathKind } from './path.js';
import { type LamPlan, planCost, planLam, sharedPlan } from './plan.js';
import { seedFactories, sharedForward, sharedProgram, windowSiblings, type SharedProgram } from './shared.js';
import { forwardPrograms, maxBatchFor, windowPrograms } from './program.js';

export interface LamParams {
  window: Window;
  path: PathKind;
  sigma: number;
  steps: number;
  kernel: number;
  detector: 'gradient' | 'intensity';
  reduce: 'sum' | 'mean';
  batch: 'auto' | number;
  /** auto: the window's cone where it costs fewer FLOPs than the whole image (plan.ts; checked at x_K), off: the whole image. */
  crop: 'auto' | 'off';
  /** See LamOptions.probeMinRemainingMs (not a study parameter: tests and benchmarks set it). */
  probeMinRemainingMs?: number;
}

/** The words a lam enum parameter accepts, from the catalogue. */
function enumOf<T extends string>(key: string): readonly T[] {
  const t = LAM_KINDS.lam.params[key]?.type;
  if (t?.type !== 'enum') throw new Error(`internal error: lam parameter ${key} is not an enum in the catalogue`);
  return t.values as T[];
}

/** The runner's parameters from a plan node (the compiler filled the catalogue's defaults). */
export function lamParams(node: PlanNode): LamParams {
  const win = node.params.window;
  if (!Array.isArray(win) || win.length !== 4 || !win.every((v) => typeof v === 'number' && Number.isInteger(v))) {
    throw new Error(`lam parameter window=${JSON.stringify(win)}: expected (x,y,w,h) in whole HR pixels`);
  }
  const [x, y, w, h] = win as number[];
  const batch = node.params.batch;
  let b: 'auto' | number = 'auto';
  if (typeof batch === 'number') {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`lam parameter batch=${batch}: expected auto or a whole number >= 1`);
    b = batch;
  } else if (batch !== 'auto') {
    throw new Error(`lam parameter batch=${JSON.stringify(batch)}: expected auto or a whole number >= 1`);
  }
  return {
    window: { x, y, w, h },
    path: wordParam(node, 'path', enumOf<PathKind>('path')),
    sigma: numberParam(node, 'sigma'),
    steps: numberParam(node, 'steps'),
    kernel: numberParam(node, 'kernel'),
    detector: wordParam(node, 'detector', enumOf<'gradient' | 'intensity'>('detector')),
    reduce: wordParam(node, 'reduce', enumOf<'sum' | 'mean'>('reduce')),
    batch: b,
    crop: wordParam(node, 'crop', enumOf<'auto' | 'off'>('crop')),
  };
}

/** Checks that the model maps an h x w input to (scale h) x (scale w), naming what disagrees. */
export function checkOutputSize(model: LoadedModel, width: number, height: number): void {
  const s = model.info.scale;
  let g;
  try {
    g = specialiseModel(model, [1, model.info.inputChannels, height, width]);
  } catch (e) {
    throw new Error(`model ${model.info.source} cannot take a ${width}x${height} LR image: ${(e as Error).message}`, { cause: e });
  }
  const out = g.outputs.find((o) => o.name === model.info.outputName) ?? g.outputs[0];
  const dims = out?.shape;
  if (!dims || dims.length !== 4 || dims.some((d) => typeof d !== 'number')) return; // unknown: the run checks
  const [, c, oh, ow] = dims as number[];
  if (oh !== height * s || ow !== width * s || c !== 3) {
    throw new Error(
      `model ${model.info.source} turns a ${width}x${height} LR image into ${ow}x${oh} with ${c} channels, ` +
        `but its scale ${s} means ${width * s}x${height * s} RGB`,
    );
  }
}

export interface LamRun {
  result: LamResult;
  params: LamParams;
  seconds: number;
  psnr: number | null;
  /** Which plan ran (a mismatch falls back to the whole image) and the FLOPs of each. */
  plan: LamPlan;
}

/** Runs LAM for a loaded model and an image pair (the kernel without the files). */
export async function runLam(
  model: LoadedModel,
  images: { hr?: Image; lr: Image },
  params: LamParams,
  ctx: Pick<RunContext, 'device' | 'progress' | 'warn' | 'signal'> & { threads?: number },
): Promise<LamRun> {
  const started = performance.now();
  const { lr } = images;
  const s = model.info.scale;
  if (model.info.inputChannels !== 3) throw new Error(`LAM needs an RGB model; ${model.info.source} takes ${model.info.inputChannels} channels`);
  checkWindow(params.window, lr.width * s, lr.height * s);
  checkOutputSize(model, lr.width, lr.height);
  const device = await resolveDevice(ctx.device, ctx.warn);
  const factory = windowPrograms(
    model,
    { kind: 'window', detector: params.detector, reduce: params.reduce },
    { device, threads: ctx.threads, onWarning: ctx.warn, image: lr },
  );
  const plan = planLam(model, lr, params);
  const run = (c: CropPlan | undefined) =>
    computeLam(factory, lr, s, {
      window: params.window,
      path: { kind: params.path, steps: params.steps, sigma: params.sigma, kernel: params.kernel },
      detector: params.detector,
      batch: params.batch,
      maxBatch: params.batch === 'auto' ? maxBatchFor(model, [3, c ? c.h : lr.height, c ? c.w : lr.width]) : undefined,
      probeMinRemainingMs: params.probeMinRemainingMs,
      crop: c,
      forward: forwardPrograms(model, { device, threads: ctx.threads, onWarning: ctx.warn }),
      progress: ctx.progress,
      warn: ctx.warn,
      signal: ctx.signal,
    });
  let result: LamResult;
  try {
    result = await run(plan.plan === 'cone' ? plan.cone : undefined);
  } catch (e) {
    if (!(e instanceof CropMismatch)) throw e;
    ctx.warn(`${e.message}; running on the whole image instead`);
    plan.plan = 'whole';
    plan.reason = e.message;
    result = await run(undefined);
  }
  const seconds = (performance.now() - started) / 1000;
  const hr = images.hr;
  const value = hr && hr.width === result.srWidth && hr.height === result.srHeight ? psnr(result.sr, hr.data) : null;
  return { result, params, seconds, psnr: value, plan };
}

/** Raised when the shared run of several windows does not reproduce each window's own gradient graph. */
class SharedMismatch extends Error {
  override name = 'SharedMismatch';
}

/** max |a - b| / max |b|. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let peak = 0;
  let diff = 0;
  for (let i = 0; i < b.length; i++) {
    peak = Math.max(peak, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  return peak > 0 ? diff / peak : diff;
}

/**
 * LAM of several windows of one image, model and path (`list`: parameters equal but for the
 * window) with shared forward passes (shared.ts), when that computes fewer FLOPs than each
 * window's own plan by 10%; undefined when it does not pay or cannot run (the caller runs them
 * one by one). The first shared run is checked against each window's own gradient graph.
 */
export async function runLamShared(
  model: LoadedModel,
  images: { hr?: Image; lr: Image },
  list: LamParams[],
  ctx: Pick<RunContext, 'device' | 'progress' | 'warn' | 'signal'> & { threads?: number; warnFor?: (i: number) => (m: string) => void },
): Promise<LamRun[] | undefined> {
  const started = performance.now();
  const { lr } = images;
  const s = model.info.scale;
  const first = list[0]!;
  if (list.length < 2 || first.reduce !== 'sum' || first.crop === 'off' || model.info.inputChannels !== 3) return undefined;
  for (const p of list) checkWindow(p.window, lr.width * s, lr.height * s);
  checkOutputSize(model, lr.width, lr.height);
  const own = list.map((p) => planLam(model, lr, p));
  const shared = sharedPlan(model, lr, list.map((p) => p.window), first.detector);
  if (!shared) return undefined;
  const steps = first.steps;
  const separate = own.reduce((a, p) => a + planCost(p, steps), 0);
  const together = (steps + 1) * shared.perPoint + own[0]!.flops.forward;
  if (!(together < 0.9 * separate)) return undefined;
  const box = shared.box;
  // The seeds are batch elements of the backward: the graph's batch axis must be proved
  // independent (engine/batch-axis.ts), and W of them must fit in memory.
  const device = await resolveDevice(ctx.device, ctx.warn);
  const options = { device, threads: ctx.threads, onWarning: ctx.warn, image: lr };
  const ordinary = windowPrograms(model, { kind: 'window', detector: first.detector, reduce: 'sum' }, options);
  if (ordinary.batchProblem?.([list.length, 3, box.h, box.w]) !== undefined) return undefined;
  if (list.length > maxBatchFor(model, [3, box.h, box.w])) return undefined;
  const windows = list.map((p) => p.window);
  // The first shared run against each window's own gradient graph on the same box and point.
  const verify = async (sp: SharedProgram, input: Float32Array, r: StepOutputs): Promise<void> => {
    const p = await ordinary([1, 3, box.h, box.w], box);
    try {
      const n = box.w * box.h * 3;
      const m = box.output!.w * box.output!.h;
      for (let b = 0; b < windows.length; b++) {
        const o = await p.run(input, sp.masks.subarray(b * m, (b + 1) * m));
        const g = relDiff(r.grad.subarray(b * n, (b + 1) * n), o.grad);
        const d = relDiff([r.objective[b]!], [o.objective[0]!]);
        if (!(g <= BATCH_CHECK_TOLERANCE && d <= BATCH_CHECK_TOLERANCE)) {
          throw new SharedMismatch(`the shared run of ${windows.length} windows did not reproduce window ${JSON.stringify(windows[b])}'s own gradient (${g.toExponential(2)} of its peak apart, detector ${d.toExponential(2)})`);
        }
      }
    } finally {
      await p.release();
    }
  };
  const factories = seedFactories(windows.length, () => sharedProgram(model, first.detector, windows, box, options), box, verify);
  const forward = sharedForward(forwardPrograms(model, { device, threads: ctx.threads, onWarning: ctx.warn }), windows.length);
  const settled = await Promise.allSettled(
    list.map((p, i) =>
      computeLam(factories[i]!, lr, s, {
        window: p.window,
        path: { kind: p.path, steps: p.steps, sigma: p.sigma, kernel: p.kernel },
        detector: p.detector,
        batch: 1,
        crop: box,
        forward,
        progress: i === 0 ? ctx.progress : undefined,
        warn: ctx.warnFor?.(i) ?? ctx.warn,
        signal: ctx.signal,
      }),
    ),
  );
  const failed = settled.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failed) {
    // Any failure of the shared graph (one that bakes the batch into a shape fails in ONNX
    // Runtime) leaves each window to its own plan; only a stop request ends the node.
    ctx.signal?.throwIfAborted();
    const why = failed.reason instanceof SharedMismatch ? failed.reason.message : `the shared run of ${list.length} windows failed: ${(failed.reason as Error).message}`;
    ctx.warn(`${why}; running the windows one by one`);
    return undefined;
  }
  const seconds = (performance.now() - started) / 1000 / list.length;
  return settled.map((r, i) => {
    const result = (r as PromiseFulfilledResult<LamResult>).value;
    const others = [windows[i]!, ...windows.filter((_, j) => j !== i)];
    const plan: LamPlan = { ...own[i]!, plan: 'shared', shared: others, flops: { ...own[i]!.flops, shared: shared.perPoint } };
    plan.cone = box;
    const hr = images.hr;
    const value = hr && hr.width === result.srWidth && hr.height === result.srHeight ? psnr(result.sr, hr.data) : null;
    return { result, params: list[i]!, seconds, psnr: value, plan };
  });
}

/** FLOPs the run computed: its path runs (K + 1 points, a last batch padded), plus the whole image's forward for a cone. */
export function computedFlops(lam: LamRun): number {
  const { plan, result } = lam;
  // Its share of the shared runs, plus that of the first run's check (each window's own graph once).
  if (plan.plan === 'shared') return planCost(plan, result.steps + 1);
  // The first batched run repeats points batch 1 ran, to check them.
  const runs = Math.ceil((result.steps + 1) / result.batch) * result.batch + (result.batchCheck?.batch ?? 0);
  if (plan.plan === 'cone' && plan.flops.cone !== null) return runs * plan.flops.cone + plan.flops.forward;
  return runs * plan.flops.whole;
}

/** The pictures of a run, as interleaved RGB. */
export function lamPictures(run: LamRun, images: { hr?: Image; lr: Image }, scale: number): Record<'map' | 'blend' | 'sr' | 'figure', Rgb> {
  const { result, params } = run;
  const { lr } = images;
  const { x, y, w, h } = params.window;
  const normed = result.mapMax > 0 ? result.map.map((v) => v / result.mapMax) : result.map;
  const map = upscaleNearest(seismic(normed, lr.width, lr.height), scale);
  // Bicubic upscale of the LR picture in 8 bits, as resizeBicubic does before it divides by 255.
  const upRgb: Rgb = {
    width: result.srWidth,
    height: result.srHeight,
    data: resizeBicubic8(toRgbBytes(lr), lr.width, lr.height, result.srWidth, result.srHeight),
  };
  const blended = outline(blend(map, upRgb, 0.5), x, y, w, h);
  const sr: Rgb = { width: result.srWidth, height: result.srHeight, data: toRgbBytes({ width: result.srWidth, height: result.srHeight, data: result.sr }) };
  const base = images.hr ? { width: images.hr.width, height: images.hr.height, data: toRgbBytes(images.hr) } : clonePicture(upRgb);
  const figure = sideBySide([outline(base, x, y, w, h), map, blended, sr], 4);
  return { map, blend: blended, sr, figure };
}

/** Results of sibling windows computed with an earlier node's shared runs, by node key, with their warnings. */
const stash = new Map<string, { run: LamRun; warnings: string[] }>();

/**
 * This node's LAM: computed already with a sibling window's (see runLamShared), or together with
 * the siblings still to run where that pays, or on its own.
 */
async function sharedOrOwn(ctx: RunContext, model: LoadedModel, images: LrPair, params: LamParams): Promise<LamRun> {
  const key = `${ctx.plan.studyFile}|${ctx.node.id}|${ctx.node.key}`;
  const done = stash.get(key);
  if (done) {
    stash.delete(key);
    for (const m of done.warnings) ctx.warn(m);
    ctx.progress(done.run.result.steps, done.run.result.steps, 'LAM steps (shared with another window)');
    return done.run;
  }
  const siblings = windowSiblings(ctx).slice(0, 7);
  if (siblings.length > 0) {
    const warnings = siblings.map(() => [] as string[]);
    const runs = await runLamShared(model, images, [params, ...siblings.map(lamParams)], {
      ...ctx,
      warnFor: (i) => (i === 0 ? ctx.warn : (m) => warnings[i - 1]!.push(m)),
    });
    if (runs) {
      siblings.forEach((n, i) => stash.set(`${ctx.plan.studyFile}|${n.id}|${n.key}`, { run: runs[i + 1]!, warnings: warnings[i]! }));
      return runs[0]!;
    }
  }
  return runLam(model, images, params, ctx);
}

export const lamKernel: NodeRunner = {
  kind: 'lam',
  cache: true,
  async run(ctx: RunContext): Promise<NodeResult> {
    const { node, deps, runDir } = ctx;
    const model = deps.model?.value as LoadedModel | undefined;
    const images = deps.image?.value as LrPair | undefined;
    if (!model) throw new Error(`lam node '${node.id}' has no loaded model (dependency 'model')`);
    if (!images?.lr) throw new Error(`lam node '${node.id}' has no LR image (dependency 'image')`);
    const params = lamParams(node);
    const lam = await sharedOrOwn(ctx, model, images, params);
    const { result } = lam;
    const s = model.info.scale;
    const H = images.lr.height;
    const W = images.lr.width;

    writeNpy(path.join(runDir, 'attribution_chw.npy'), result.attribution, [3, H, W]);
    writeNpy(path.join(runDir, 'attribution.npy'), result.map, [H, W]);
    const pictures = lamPictures(lam, images, s);
    for (const [name, p] of Object.entries(pictures)) writeRgbPng(path.join(runDir, `${name}.png`), p.width, p.height, p.data);
    let mapSum = 0;
    for (const v of result.map) mapSum += result.mapMax > 0 ? v / result.mapMax : 0;
    const facts = {
      di: result.di,
      gini: result.gini,
      map_max: result.mapMax,
      map_sum: mapSum,
      completeness: result.completeness,
      nan_steps: result.nanSteps,
      nan_entries: result.nanEntries,
      nan_steps_authors: result.nanStepsAuthors,
      nan_steps_authors_scope: result.nanStepsAuthorsScope,
      psnr: lam.psnr,
      psnr_convention: 'RGB, 8-bit levels (SR clamped and rounded), peak 255, no border shave',
      steps: result.steps,
      batch: result.batch,
      // Why the path ran one point at a time: the graph mixes points along the batch axis, or
      // the first batched run differed from runs of one (its numbers: batchCheck in the summary).
      batch_reason: result.batchReason ?? null,
      // Timings (seconds, batch=auto's probe) are in the node's summary, not here: di.json is
      // an output whose hash must not change when the same result is computed again.
      device: result.device,
      model: model.info.source,
      scale: s,
      window: params.window,
      path: params.path,
      sigma: params.sigma,
      kernel: params.kernel,
      detector: params.detector,
      reduce: params.reduce,
      lr_shape: [3, H, W],
      sr_shape: [3, result.srHeight, result.srWidth],
      // The plan that ran: 'cone' computes only what the window depends on (exact, checked at
      // x_K against the whole image); FLOPs of one forward + input-gradient run of each plan.
      plan: lam.plan.plan,
      // plan 'shared': the windows whose runs this one shared (its own first)
      shared_windows: lam.plan.shared ?? null,
      crop: result.crop ? { x: result.crop.x, y: result.crop.y, w: result.crop.w, h: result.crop.h, output: result.crop.output, checked_max_diff: result.crop.checkedMaxDiff } : null,
      flops: { ...lam.plan.flops, computed: computedFlops(lam) },
    };
    writeFileSync(path.join(runDir, 'di.json'), JSON.stringify(facts, null, 1) + '\n');
    const gap = result.completeness.d_input - result.completeness.d_baseline;
    return {
      summary: {
        di: result.di,
        gini: result.gini,
        psnr: lam.psnr,
        completeness: gap !== 0 ? result.completeness.sum_attribution / gap : null,
        seconds: lam.seconds,
        device: result.device,
        nanSteps: result.nanSteps,
        nanStepsAuthors: result.nanStepsAuthors,
        steps: result.steps,
        batch: result.batch,
        // ms per path point of batch 1 and of the largest batch that fits, when batch=auto timed them
        batchProbe: result.batchProbe ?? null,
        batchCheck: result.batchCheck ?? null,
      },
      files: ['attribution_chw.npy', 'attribution.npy', 'di.json', 'map.png', 'blend.png', 'sr.png', 'figure.png'],
    };
  },
};

/** The runners of this method (grammar/kinds/lam.ts loads this module lazily). */
export const runners = [lamKernel];
