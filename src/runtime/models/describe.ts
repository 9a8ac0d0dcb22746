// What `lvi inspect` shows about a loaded model, as data (the CLI formats it).

import type { LoadedModel, ModelInfo } from '../api.js';
import { missingGradientRules, type MissingRule } from '../autodiff/index.js';
import { batchAxisVerdict, type BatchAxisVerdict } from '../engine/batch-axis.js';
import type { ValueInfo } from '../graph/ir.js';
import { countFlops, type FlopCount } from './flops.js';
import { specialiseModel } from './index.js';
import { globalOperators } from './receptive-field.js';

export interface LayerEntry {
  /** Node name, and the output tensor a study names as `layer=`. */
  node: string;
  output: string;
  opType: string;
  /** Output shape at the inspected size. */
  shape: number[];
}

export interface ModelDescription {
  info: ModelInfo;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  opset: number;
  /** Operator -> node count, most frequent first. */
  operators: [string, number][];
  /** Convolution layers in graph order. */
  layers: LayerEntry[];
  /** Global operators found (why there is no receptive field). */
  globalOps: string[];
  size: [number, number];
  flops: FlopCount;
  /** Operators between the input and the output without a gradient rule (LAM and FAIG refuse the model). */
  noGradient: MissingRule[];
  /** Whether path points can share a run (batch 2 against runs of one, proved from the graph). */
  batch: BatchAxisVerdict;
}

const LAYER_OPS = new Set(['Conv', 'ConvTranspose']);

export function describeModel(model: LoadedModel, size: [number, number]): ModelDescription {
  const g = specialiseModel(model, [1, model.info.inputChannels, size[0], size[1]]);
  const counts = new Map<string, number>();
  for (const n of model.graph.nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
  const layers: LayerEntry[] = g.nodes
    .filter((n) => LAYER_OPS.has(n.opType))
    .map((n) => ({ node: n.name, output: n.outputs[0], opType: n.opType, shape: g.valueInfo!.get(n.outputs[0])!.shape as number[] }));
  return {
    info: model.info,
    inputs: model.graph.inputs,
    outputs: model.graph.outputs,
    opset: model.graph.opset,
    operators: [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    layers,
    globalOps: globalOperators(g),
    size,
    flops: countFlops(g),
    noGradient: missingGradientRules(model.graph, [1, model.info.inputChannels, size[0], size[1]]),
    batch: batchAxisVerdict(model.graph, model.info.inputName, [model.info.inputChannels, size[0], size[1]], 2),
  };
}
