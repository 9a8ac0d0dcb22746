// Several windows on one image, model and path share every forward pass: one run takes a path
// point and returns the input gradient of each window's detector, a batch of seeds. The
// forward graph is the cone of the windows' joint output box; the gradient graph is built at
// batch W (one batch element per window), but fed one image: the forward nodes run on it
// once, their values broadcast against the W gradients the backward carries (element-wise
// rules, convolutions of the gradient), and window b's mask in batch element b seeds element b
// of the objective. The first run is compared with the ordinary gradient graph of each window
// before any result is used (kernel.ts); a graph where this does not hold is refused there.

import { createHash } from 'node:crypto';
import type { LoadedModel } from '../../api.js';
import { buildGradientGraph, WINDOW_INPUT } from '../../autodiff/index.js';
import { createSession } from '../../engine/index.js';
import type { Graph } from '../../graph/ir.js';
import type { PlanNode } from '../../../compiler/plan.js';
import type { RunContext } from '../../runner.js';
import type { CropPlan, ForwardFactory, ProgramFactory, StepOutputs, StepProgram, Window } from './compute.js';
import { windowMask } from './compute.js';
import { coneFor } from './plan.js';
import type { ProgramOptions } from './program.js';

/** One run: the W windows' detector values [W], input gradients [W, C, h, w] and the output box [1, C, oh, ow]. */
export interface SharedProgram {
  readonly seeds: number;
  readonly device: string;
  /** The windows' masks on the output box, W x oh x ow (the objective reads mask b for window b). */
  readonly masks: Float32Array;
  run(input: Float32Array): Promise<StepOutputs>;
  release(): Promise<void>;
}

/** The masks of `windows` on output box `out` (HR pixels), stacked. */
export function sharedMasks(windows: Window[], out: Window): Float32Array {
  const masks = new Float32Array(windows.length * out.w * out.h);
  windows.forEach((w, b) => masks.set(windowMask(out.w, out.h, { ...w, x: w.x - out.x, y: w.y - out.y }), b * out.w * out.h));
  return masks;
}

/** The batch-of-seeds gradient graph of the cone for `box` (its `output` the windows' joint box). */
export function sharedGraph(model: LoadedModel, detector: 'gradient' | 'intensity', image: { width: number; height: number }, box: CropPlan, seeds: number) {
  const c = model.info.inputChannels;
  const cone = coneFor(model, seeds, image.width, image.height, box.output!, box);
  const gg = buildGradientGraph(cone.graph, { inputShape: [seeds, c, box.h, box.w], objective: { kind: 'window', detector, reduce: 'sum' }, wrtInput: true });
  const out = box.output!;
  const graph: Graph = {
    ...gg.graph,
    name: `${gg.graph.name}_seeds${seeds}`,
    inputs: gg.graph.inputs.map((i) =>
      i.name === model.info.inputName ? { ...i, shape: [1, c, box.h, box.w] } : i.name === WINDOW_INPUT ? { ...i, shape: [seeds, 1, out.h, out.w] } : i,
    ),
    outputs: gg.graph.outputs.map((o) => (o.name === gg.outputs.output ? { ...o, shape: [1, ...o.shape.slice(1)] } : o)),
  };
  // Shapes inferred at batch W no longer hold for the forward values (batch 1).
  delete graph.valueInfo;
  return { graph, outputs: gg.outputs };
}

/** The shared program for `windows` on the LR box `box` (output: their joint box). */
export async function sharedProgram(
  model: LoadedModel,
  detector: 'gradient' | 'intensity',
  windows: Window[],
  box: CropPlan,
  options: ProgramOptions & { image: { width: number; height: number } },
): Promise<SharedProgram> {
  const seeds = windows.length;
  const { graph, outputs } = sharedGraph(model, detector, options.image, box, seeds);
  const session = await createSession(graph, { device: options.device, threads: options.threads, onWarning: options.onWarning });
  const out = box.output!;
  const masks = sharedMasks(windows, out);
  const c = model.info.inputChannels;
  return {
    seeds,
    device: session.device,
    masks,
    async run(input) {
      const r = await session.run({
        [model.info.inputName]: { dtype: 'float32', dims: [1, c, box.h, box.w], data: input },
        [WINDOW_INPUT]: { dtype: 'float32', dims: [seeds, 1, out.h, out.w], data: masks },
      });
      const objective = r[outputs.objective];
      const grad = r[outputs.inputGrad!];
      const sr = r[outputs.output];
      if (!objective || !grad || !sr) throw new Error('the shared gradient session did not return its outputs');
      if (objective.data.length !== seeds || grad.dims[0] !== seeds) {
        throw new Error(`the shared gradient session returned ${objective.data.length} detector values for ${seeds} windows`);
      }
      return { objective: objective.data as Float32Array, grad: grad.data as Float32Array, output: sr.data as Float32Array, outputDims: sr.dims };
    },
    release: () => session.release(),
  };
}

const digest = (a: Float32Array): string => createHash('sha1').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

/**
 * One ProgramFactory per window over a shared program: window b's batch-1 program returns seed
 * b of the shared run on the same path point. Runs are keyed by the point's content, so the W
 * computations of computeLam may go side by side in any order; a run is dropped once every
 * window read it. `verify` checks the first shared run before any factory hands out a result.
 */
export function seedFactories(
  seeds: number,
  build: () => Promise<SharedProgram>,
  box: CropPlan,
  verify: (p: SharedProgram, input: Float32Array, first: StepOutputs) => Promise<void>,
): ProgramFactory[] {
  let shared: Promise<SharedProgram> | undefined;
  let users = 0;
  let verified: Promise<void> | undefined;
  const runs = new Map<string, { result: Promise<StepOutputs>; left: number }>();
  const size = box.w * box.h;
  const factory = (b: number): ProgramFactory => async (shape, crop) => {
    const [batch, c, h, w] = shape;
    if (batch !== 1 || h !== box.h || w !== box.w || !crop || crop.x !== box.x || crop.y !== box.y || crop.output !== box.output) {
      throw new Error(`internal error: a shared LAM program runs one point on the LR box (${box.x},${box.y},${box.w},${box.h}), not ${shape.join('x')}`);
    }
    const p = await (shared ??= build());
    users++;
    const program: StepProgram = {
      batch: 1,
      device: p.device,
      async run(inputs) {
        const key = digest(inputs);
        let entry = runs.get(key);
        if (!entry) {
          const input = Float32Array.from(inputs);
          const result = p.run(input).then(async (r) => {
            await (verified ??= verify(p, input, r));
            return r;
          });
          entry = { result, left: seeds };
          runs.set(key, entry);
        }
        const r = await entry.result;
        if (--entry.left === 0) runs.delete(key);
        const n = c * size;
        return {
          objective: r.objective.subarray(b, b + 1),
          grad: r.grad.subarray(b * n, (b + 1) * n),
          output: r.output,
          outputDims: r.outputDims,
        };
      },
      async release() {
        if (--users === 0) await p.release();
      },
    };
    return program;
  };
  return Array.from({ length: seeds }, (_, b) => factory(b));
}

/** A forward factory whose runs on the same input share one session and one run (the W windows' SR picture). */
export function sharedForward(forward: ForwardFactory, seeds: number): ForwardFactory {
  let made: ReturnType<ForwardFactory> | undefined;
  let users = 0;
  const runs = new Map<string, { result: Promise<{ output: Float32Array; outputDims: number[] }>; left: number }>();
  return async (shape) => {
    const p = await (made ??= forward(shape));
    users++;
    return {
      async run(input) {
        const key = `${shape.join('x')}|${digest(input)}`;
        let entry = runs.get(key);
        if (!entry) runs.set(key, (entry = { result: p.run(input), left: seeds }));
        const r = await entry.result;
        if (--entry.left === 0) runs.delete(key);
        return r;
      },
      async release() {
        if (--users === 0) {
          made = undefined;
          await p.release();
        }
      },
    };
  };
}

/**
 * The other lam nodes of this run that differ from `ctx.node` only in their window (same
 * model, image and every other parameter), still to run (pending, with no result of this key
 * in the lock), so that one shared computation serves them all. None without `ctx.facts`.
 */
export function windowSiblings(ctx: Pick<RunContext, 'node' | 'plan' | 'facts'>): PlanNode[] {
  const me = ctx.node;
  const facts = ctx.facts?.() as { nodes?: Record<string, { status?: string; outs?: unknown }> } | undefined;
  if (!facts?.nodes) return [];
  const rest = (n: PlanNode) => JSON.stringify(Object.entries(n.params).filter(([k]) => k !== 'window').sort(([a], [b]) => (a < b ? -1 : 1)));
  const deps = (n: PlanNode) => JSON.stringify(Object.entries(n.deps).sort(([a], [b]) => (a < b ? -1 : 1)));
  const mine = [rest(me), deps(me)].join('|');
  return ctx.plan.nodes.filter((n) => {
    if (n.id === me.id || n.kind !== me.kind || [rest(n), deps(n)].join('|') !== mine) return false;
    const f = facts.nodes![n.id];
    return f?.status === 'pending' && f.outs === undefined;
  });
}
