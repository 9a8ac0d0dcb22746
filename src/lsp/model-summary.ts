// What the editor shows about a model (hover) and offers from it (layer names for `layer=`).
// Reading a model means converting it to the graph IR, which can take seconds and a lot of
// memory, so the language server does it in a worker (model-worker.ts) with a deadline; this
// file is the part that runs there. It reads the same description `lvi inspect` prints.
import type { LoadedModel } from '../runtime/api.js';
import { describeModel, type ModelDescription } from '../runtime/models/describe.js';
import { planLam, type LamPlan } from '../runtime/methods/lam/plan.js';
import { loadModel } from '../runtime/models/index.js';

export type ModelRef = { zoo: string } | { file: string };

export interface LayerSummary {
  /** The output tensor's name: what `layer=` takes. */
  name: string;
  node: string;
  opType: string;
  /** Output shape at the probe size. */
  shape: number[];
}

export interface ModelSummary {
  source: string;
  scale: number;
  range: 1 | 255;
  parameters: number;
  inputs: { name: string; shape: (number | string)[] }[];
  outputs: { name: string; shape: (number | string)[] }[];
  /** Convolution layers in graph order, at most MAX_LAYERS. */
  layers: LayerSummary[];
  /** Operator counts, most frequent first. */
  operators: [string, number][];
  receptiveField?: number;
  hasGlobalOps: boolean;
  /** Forward-pass FLOPs per input (LR) pixel, measured at the probe size. */
  flopsPerPixel?: number;
  /** Input size the layers and FLOPs were measured at. */
  probe?: [number, number];
}

export const MAX_LAYERS = 5000;
/** LR size the model is measured at when its input size is free. */
const PROBE = 64;

export function summarize(model: LoadedModel): ModelSummary {
  const s: ModelSummary = {
    source: model.info.source,
    scale: model.info.scale,
    range: model.info.range,
    parameters: model.info.parameters,
    inputs: model.graph.inputs.map((v) => ({ name: v.name, shape: v.shape })),
    outputs: model.graph.outputs.map((v) => ({ name: v.name, shape: v.shape })),
    layers: [],
    operators: [],
    hasGlobalOps: model.info.hasGlobalOps,
  };
  if (model.info.receptiveField !== undefined) s.receptiveField = model.info.receptiveField;
  const input = model.graph.inputs.find((v) => v.name === model.info.inputName);
  const fixed = (i: number) => (typeof input?.shape[i] === 'number' ? (input.shape[i] as number) : PROBE);
  const size: [number, number] = [fixed(2), fixed(3)];
  let d: ModelDescription | undefined;
  try {
    d = describeModel(model, size);
  } catch {
    d = undefined; // shapes do not resolve at this size: no layers or FLOPs, the rest stands
  }
  const counts = new Map<string, number>();
  for (const n of model.graph.nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
  s.operators = d?.operators ?? [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (d) {
    s.layers = d.layers.slice(0, MAX_LAYERS).map((l) => ({ name: l.output, node: l.node, opType: l.opType, shape: l.shape }));
    s.flopsPerPixel = d.flops.total / (size[0] * size[1]);
    s.probe = size;
  }
  return s;
}

/** Reads and summarises a model. Throws with a message for people when it cannot. */
export async function readModelSummary(ref: ModelRef): Promise<ModelSummary> {
  return summarize(await loadModel(ref));
}

/** What a lam plan depends on beside the model (hover counts one per model, image and window). */
export interface PlanQuery {
  /** LR width and height. */
  lr: [number, number];
  /** HR window x, y, w, h. */
  window: [number, number, number, number];
  detector: 'gradient' | 'intensity';
  reduce: 'sum' | 'mean';
  steps: number;
  crop: 'auto' | 'off';
}

/** A message to the model worker: a model's summary, or with `plan`, a lam plan on it. */
export interface WorkerRequest {
  ref: ModelRef;
  plan?: PlanQuery;
}

/** Reads a model and counts a lam plan's FLOPs on it (whole image, crop, cone). */
export async function readLamPlan(ref: ModelRef, q: PlanQuery): Promise<LamPlan> {
  const model = await loadModel(ref);
  const [x, y, w, h] = q.window;
  return planLam(model, { width: q.lr[0], height: q.lr[1] }, { window: { x, y, w, h }, detector: q.detector, reduce: q.reduce, steps: q.steps, crop: q.crop });
}
