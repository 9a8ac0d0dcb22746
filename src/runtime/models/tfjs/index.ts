// TF.js layers-model import: model.json + shards on disk -> graph IR (NCHW), no TF.js needed.

import { readLayersModel } from './artifacts.js';
import { convertLayersModel, type ConvertOptions, type ConvertedModel } from './convert.js';

export { readLayersModel, decodeGroup, TfjsFormatError } from './artifacts.js';
export type { LayersModelArtifacts, Weight, WeightSpec, WeightsGroup, KerasLayer } from './artifacts.js';
export { convertLayersModel, TFJS_OPSET } from './convert.js';
export type { ConvertedModel, ConvertOptions } from './convert.js';

export interface ImportedTfjsModel extends ConvertedModel {
  /** sha256 over model.json and every shard. */
  hash: string;
}

/** Reads and converts a TF.js layers model (`model.json` with its shards beside it). */
export async function importTfjsModel(modelJsonPath: string, options: ConvertOptions = {}): Promise<ImportedTfjsModel> {
  const artifacts = await readLayersModel(modelJsonPath);
  return { ...convertLayersModel(artifacts, options), hash: artifacts.hash };
}
