// `model` statements: import the network (ONNX file or zoo id). Loading is cheap next to the
// analyses, so the loaded graph is kept in memory only; its facts go to the lock file.

import type { ModelSpec } from '../api.js';
import type { NodeRunner } from '../runner.js';
import { loadModel } from '../models/index.js';
import { optionalNumber, optionalString } from './params.js';

export const modelKernel: NodeRunner = {
  kind: 'model',
  cache: false,
  async run({ node }) {
    const spec: ModelSpec = {};
    const file = optionalString(node, 'file');
    const zoo = optionalString(node, 'zoo');
    const scale = optionalNumber(node, 'scale');
    const range = optionalNumber(node, 'range');
    if (file) spec.file = file;
    if (zoo) spec.zoo = zoo;
    if (scale !== undefined) spec.scale = scale;
    if (range !== undefined) {
      if (range !== 1 && range !== 255) throw new Error(`range must be 1 or 255, got ${range}`);
      spec.range = range;
    }
    if (!spec.file && !spec.zoo) throw new Error(`model '${node.statement ?? node.id}' needs file="..." or zoo="..."`);
    const model = await loadModel(spec);
    const { info } = model;
    const summary: Record<string, unknown> = {
      // A file source as a plain path, so the lock file shows it relative to the study.
      ...(info.source.startsWith('file:') ? { file: info.source.slice(5) } : { source: info.source }),
      hash: info.hash,
      scale: info.scale,
      range: info.range,
      parameters: info.parameters,
      receptiveField: info.receptiveField,
      hasGlobalOps: info.hasGlobalOps,
      inputChannels: info.inputChannels,
    };
    return { value: model, summary, files: [] };
  },
};
