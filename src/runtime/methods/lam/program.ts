// LAM's step programs over lvi's runtime API: the model's forward graph with the window
// objective and its input gradient, one ONNX Runtime session per input shape.

import type { Device, LoadedModel, Objective } from '../../api.js';
import { buildGradientGraph } from '../../autodiff/index.js';
import { batchAxisVerdict, chooseBatch as memoryBatch, createSession, defaultBudgetBytes, estimateMemory } from '../../engine/index.js';
import { specialiseModel } from '../../models/index.js';
import type { CropPlan, ForwardFactory, ProgramFactory, StepProgram } from './compute.js';
import { coneFor } from './plan.js';

export interface ProgramOptions {
  device: Device;
  threads?: number;
  onWarning?: (message: string) => void;
  /** The whole LR image's size, which a crop with an output box (a cone) is cut from. */
  image?: { width: number; height: number };
}

/** Step programs for `model` with the window objective (detector on the SR output). */
export function windowPrograms(model: LoadedModel, objective: Extract<Objective, { kind: 'window' }>, options: ProgramOptions): ProgramFactory {
  const verdicts = new Map<string, string | undefined>();
  const batchProblem = (shape: [number, number, number, number]): string | undefined => {
    const key = shape.join('x');
    if (!verdicts.has(key)) {
      let reason: string | undefined;
      try {
        const v = batchAxisVerdict(model.graph, model.info.inputName, shape.slice(1), shape[0]);
        reason = v.independent ? undefined : v.reason;
      } catch (e) {
        reason = `the graph could not be checked (${(e as Error).message})`;
      }
      verdicts.set(key, reason);
    }
    return verdicts.get(key);
  };
  return Object.assign(async (shape: [number, number, number, number], crop?: CropPlan) => {
    // A crop with an output box runs the cone graph of that box (exact), else the whole network.
    let forward = model.graph;
    if (crop?.output) {
      if (!options.image) throw new Error('internal error: a cone program needs the whole image size');
      forward = coneFor(model, shape[0], options.image.width, options.image.height, crop.output, crop).graph;
    }
    const gg = buildGradientGraph(forward, { inputShape: shape, objective, wrtInput: true });
    const inputGrad = gg.outputs.inputGrad;
    if (!inputGrad) throw new Error('the gradient graph has no input gradient');
    const session = await createSession(gg.graph, { device: options.device, threads: options.threads, onWarning: options.onWarning });
    const [batch, c, h, w] = shape;
    const program: StepProgram = {
      batch,
      device: session.device,
      async run(inputs, mask) {
        const outW = crop?.output ? crop.output.w : w * model.info.scale;
        const maskDims = [1, 1, mask.length / outW, outW];
        const out = await session.run({
          [model.info.inputName]: { dtype: 'float32', dims: [batch, c, h, w], data: inputs },
          lvi_window: { dtype: 'float32', dims: maskDims, data: mask },
        });
        const objectiveValues = out[gg.outputs.objective];
        const grad = out[inputGrad];
        const sr = out[gg.outputs.output];
        if (!objectiveValues || !grad || !sr) throw new Error('the gradient session did not return its outputs');
        return {
          objective: objectiveValues.data as Float32Array,
          grad: grad.data as Float32Array,
          output: sr.data as Float32Array,
          outputDims: sr.dims,
        };
      },
      release: () => session.release(),
    };
    return program;
  }, { batchProblem });
}

/** The whole image's forward pass (the SR picture of a cone run and its check). */
export function forwardPrograms(model: LoadedModel, options: ProgramOptions): ForwardFactory {
  return async (shape) => {
    const session = await createSession(specialiseModel(model, shape), { device: options.device, threads: options.threads, onWarning: options.onWarning });
    return {
      async run(input) {
        const out = await session.run({ [model.info.inputName]: { dtype: 'float32', dims: shape, data: input } });
        const sr = out[model.info.outputName];
        if (!sr) throw new Error(`the forward session did not return '${model.info.outputName}'`);
        return { output: sr.data as Float32Array, outputDims: sr.dims };
      },
      release: () => session.release(),
    };
  };
}

/**
 * The most path steps one run may hold for a C x h x w input: the engine's memory-budget
 * chooser, with one batch element of the gradient program taken as three forward passes'
 * activations (forward values kept for the backward sweep, plus their gradients), up to 8,
 * leaving room for the batch-1 program that batch 'auto' times beside it (see `autoBatch`).
 * Whether batching pays depends on the machine, hence that probe: on a 2-core machine (CARN
 * x4, 51x51 LR, forward + input gradient) batch 4 or 8 once took 60 ms of wall time per step
 * against 98 ms at batch 1, and later the whole 50-step path took longer at batch 4 than at 1;
 * on a 16-core CPU batch 8 was clearly faster.
 */
export function maxBatchFor(model: LoadedModel, shape: [number, number, number], cap = 8): number {
  try {
    const g = specialiseModel(model, [1, ...shape]);
    const m = estimateMemory(g);
    const perItemBytes = 3 * m.peakActivationBytes + m.workspaceBytes;
    const programBytes = 3 * m.weightBytes;
    return memoryBatch({
      perItemBytes,
      fixedBytes: programBytes + (programBytes + perItemBytes),
      budgetBytes: defaultBudgetBytes(),
      max: cap,
    });
  } catch {
    return cap; // shapes not inferable here: ONNX Runtime will say if memory runs out
  }
}
