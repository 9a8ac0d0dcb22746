// Where LAM's path runs: the whole image, or the cone of the window (models/cone.ts), chosen by
// the FLOPs of one forward + input-gradient run of each; the receptive-field LR crop that
// lvi ran before the cone is counted too, for the record.

import type { LoadedModel } from '../../api.js';
import { buildGradientGraph } from '../../autodiff/index.js';
import type { Graph } from '../../graph/ir.js';
import { countFlops, specialiseModel } from '../../models/index.js';
import { specialise } from '../../onnx/specialise.js';
import { type Cone, coneGraph } from '../../models/cone.js';
import type { CropPlan, Window } from './compute.js';

/** FLOPs of one forward + input-gradient run at batch 1 (null where that plan does not exist). */
export interface PlanFlops {
  whole: number;
  /** The whole network on the LR crop that holds the window's receptive field. */
  crop: number | null;
  cone: number | null;
  /** The whole image's forward pass alone (the cone plan's SR picture). */
  forward: number;
  /** Plan 'shared': one run for all its windows (forward once, a backward per window). */
  shared?: number;
}

export interface LamPlan {
  /** 'shared': with the other windows of `shared` in one run per path point (shared.ts). */
  plan: 'cone' | 'whole' | 'shared';
  /** Plan 'shared': the windows that ran together, this one first. */
  shared?: Window[];
  /** The cone's LR box and the HR box it computes (whichever plan was chosen). */
  cone?: CropPlan;
  flops: PlanFlops;
  /** Why the cone does not run, when it was considered. */
  reason?: string;
}

/**
 * The HR box the window's detector reads: the window, and for the gradient detector one more
 * pixel right and down (its neighbours), where the image has one.
 */
export function outputBoxFor(win: Window, detector: 'gradient' | 'intensity', width: number, height: number): Window {
  const more = detector === 'gradient' ? 1 : 0;
  const x1 = Math.min(width, win.x + win.w + more);
  const y1 = Math.min(height, win.y + win.h + more);
  return { x: win.x, y: win.y, w: x1 - win.x, h: y1 - win.y };
}

const cones = new WeakMap<Graph, Map<string, Cone>>();

/**
 * The cone of `model` at batch `batch` for HR box `out` of a width x height LR image (memoised
 * per model graph); `expect`: the LR box it must read (the one the plan chose).
 */
export function coneFor(model: LoadedModel, batch: number, width: number, height: number, out: Window, expect?: CropPlan): Cone {
  let byKey = cones.get(model.graph);
  if (!byKey) cones.set(model.graph, (byKey = new Map()));
  const key = [batch, width, height, out.x, out.y, out.w, out.h].join(',');
  let cone = byKey.get(key);
  if (!cone) {
    const spec = specialiseModel(model, [batch, model.info.inputChannels, height, width]);
    cone = coneGraph(spec, { y0: out.y, y1: out.y + out.h, x0: out.x, x1: out.x + out.w });
    if (byKey.size > 16) byKey.clear();
    byKey.set(key, cone);
  }
  const b = cone.input;
  if (expect && (b.x0 !== expect.x || b.y0 !== expect.y || b.x1 - b.x0 !== expect.w || b.y1 - b.y0 !== expect.h)) {
    throw new Error(`internal error: the cone at batch ${batch} reads LR box (${b.x0},${b.y0})..(${b.x1},${b.y1}), the plan's is (${expect.x},${expect.y},${expect.w},${expect.h})`);
  }
  return cone;
}

/**
 * The LR box that holds everything the window's detector depends on by the receptive field:
 * the window (one more HR pixel right and down for the gradient detector's neighbours) mapped
 * to LR pixels, widened by the field's radius plus 1 pixel of slack. Undefined when the network
 * has global operators or no known receptive field.
 */
export function receptiveBox(model: LoadedModel, lrWidth: number, lrHeight: number, win: Window): CropPlan | undefined {
  const rf = model.info.receptiveField;
  if (model.info.hasGlobalOps || rf === undefined || !Number.isFinite(rf) || rf < 1) return undefined;
  const s = model.info.scale;
  const margin = Math.ceil(rf / 2) + 1;
  const x0 = Math.max(0, Math.floor(win.x / s) - margin);
  const y0 = Math.max(0, Math.floor(win.y / s) - margin);
  const x1 = Math.min(lrWidth, Math.floor((win.x + win.w) / s) + margin + 1);
  const y1 = Math.min(lrHeight, Math.floor((win.y + win.h) / s) + margin + 1);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

function gradFlops(graph: Graph, shape: [number, number, number, number], detector: 'gradient' | 'intensity', reduce: 'sum' | 'mean'): number {
  const gg = buildGradientGraph(graph, { inputShape: shape, objective: { kind: 'window', detector, reduce }, wrtInput: true });
  return countFlops(gg.graph).total;
}

/**
 * The plan for a LAM of `steps` path steps: the cone when it computes less than the whole image
 * by more than its extra forward pass of the whole image (for the SR picture) and 5% for the
 * slices it adds; `crop: 'off'` asks for the whole image.
 */
export function planLam(
  model: LoadedModel,
  lr: { width: number; height: number },
  p: { window: Window; detector: 'gradient' | 'intensity'; reduce: 'sum' | 'mean'; steps: number; crop: 'auto' | 'off' },
): LamPlan {
  const c = model.info.inputChannels;
  const { width: w, height: h } = lr;
  const s = model.info.scale;
  const whole = gradFlops(model.graph, [1, c, h, w], p.detector, p.reduce);
  const forward = countFlops(specialiseModel(model, [1, c, h, w])).total;
  const rf = receptiveBox(model, w, h, p.window);
  const flops: PlanFlops = {
    whole,
    crop: rf ? gradFlops(model.graph, [1, c, rf.h, rf.w], p.detector, p.reduce) : null,
    cone: null,
    forward,
  };
  const out = outputBoxFor(p.window, p.detector, w * s, h * s);
  let cone: Cone;
  try {
    cone = coneFor(model, 1, w, h, out);
  } catch (e) {
    return { plan: 'whole', flops, reason: `no cone: ${(e as Error).message}` };
  }
  const b = cone.input;
  const box: CropPlan = { x: b.x0, y: b.y0, w: b.x1 - b.x0, h: b.y1 - b.y0, output: out };
  flops.cone = gradFlops(cone.graph, [1, c, box.h, box.w], p.detector, p.reduce);
  if (p.crop === 'off') return { plan: 'whole', cone: box, flops, reason: 'crop=off' };
  const runs = p.steps + 1;
  if (runs * flops.cone + forward < 0.95 * runs * whole) return { plan: 'cone', cone: box, flops };
  return { plan: 'whole', cone: box, flops, reason: `the cone computes ${((100 * flops.cone) / whole).toFixed(0)}% of the whole image per step` };
}

/** What a plan costs for the whole path: its runs (K + 1 points) and the cone's whole-image forward. */
export function planCost(p: LamPlan, steps: number): number {
  const f = p.flops;
  if (p.plan === 'shared') return ((steps + 1) * f.shared! + f.forward) / p.shared!.length;
  if (p.plan === 'cone') return (steps + 1) * f.cone! + f.forward;
  return (steps + 1) * f.whole;
}

/**
 * The shared plan of several windows (same image, model, path): the cone of their joint output
 * box, its FLOPs per path point for all of them (one forward, one backward per window), and the
 * whole path's; undefined where the cone cannot be built.
 */
export function sharedPlan(
  model: LoadedModel,
  lr: { width: number; height: number },
  windows: Window[],
  detector: 'gradient' | 'intensity',
): { box: CropPlan; perPoint: number } | undefined {
  const s = model.info.scale;
  const c = model.info.inputChannels;
  const outs = windows.map((w) => outputBoxFor(w, detector, lr.width * s, lr.height * s));
  const x0 = Math.min(...outs.map((o) => o.x));
  const y0 = Math.min(...outs.map((o) => o.y));
  const out: Window = { x: x0, y: y0, w: Math.max(...outs.map((o) => o.x + o.w)) - x0, h: Math.max(...outs.map((o) => o.y + o.h)) - y0 };
  let cone: Cone;
  try {
    cone = coneFor(model, 1, lr.width, lr.height, out);
  } catch {
    return undefined;
  }
  const b = cone.input;
  const box: CropPlan = { x: b.x0, y: b.y0, w: b.x1 - b.x0, h: b.y1 - b.y0, output: out };
  const forward = countFlops(specialise(cone.graph, {})).total;
  const grad = gradFlops(cone.graph, [1, c, box.h, box.w], detector, 'sum');
  return { box, perPoint: forward + windows.length * (grad - forward) };
}

/** "20.8 GFLOP" (3 significant digits, M/G/T). */
export function formatFlops(n: number): string {
  const [d, u] = n >= 1e12 ? [1e12, 'T'] : n >= 1e9 ? [1e9, 'G'] : n >= 1e6 ? [1e6, 'M'] : [1, ''];
  return `${(n / d).toPrecision(3)} ${u}FLOP`;
}

/**
 * A plan for people (`lvi graph --flops`, hover): the FLOPs of one step of each plan and what
 * the path costs on the one chosen, against the whole image.
 */
export function describePlan(p: LamPlan, steps: number): string[] {
  const f = p.flops;
  const share = (n: number) => `${((100 * n) / f.whole).toFixed(0)}%`;
  const crop = f.crop === null ? 'no receptive-field crop (global operators or no known field)' : `receptive-field crop ${formatFlops(f.crop)} (${share(f.crop)})`;
  const cone = f.cone === null ? 'no cone' : `cone ${formatFlops(f.cone)} (${share(f.cone)})`;
  const total = planCost(p, steps);
  const whole = (steps + 1) * f.whole;
  return [
    `FLOPs per step (forward + input gradient): whole image ${formatFlops(f.whole)}, ${crop}, ${cone}`,
    `plan: ${p.plan}${p.reason ? ` (${p.reason})` : ''}; the path of ${steps + 1} steps ${formatFlops(total)}, ${share(total / (steps + 1))} of the whole image's ${formatFlops(whole)}`,
  ];
}
