// Reading a TF.js layers model from disk: model.json plus its binary weight shards, without
// TF.js. Weights are decoded exactly as tfjs-core's io.decodeWeights does, including the
// uint8/uint16 affine quantization (value = q * scale + min, rounded to float32) and float16.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sizeOf } from '../../graph/params.js';

/** A Keras layer as the layers-model JSON stores it. */
export interface KerasLayer {
  class_name: string;
  name?: string;
  config: Record<string, unknown>;
  /** Functional models only: one entry per call, each a list of [layer, node, tensor, kwargs]. */
  inbound_nodes?: unknown[];
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number; original_dtype?: string };
}

export interface WeightsGroup {
  paths: string[];
  weights: WeightSpec[];
}

export interface Weight {
  shape: number[];
  data: Float32Array;
}

/** What a layers model is made of, independent of where it was read from. */
export interface LayersModelArtifacts {
  /** The `modelTopology` object of model.json. */
  topology: Record<string, unknown>;
  /** Weights by their manifest name (e.g. 'F_0/kernel'), dequantized to float32. */
  weights: Map<string, Weight>;
  /** sha256 over model.json and every shard, in manifest order. */
  hash: string;
}

/** Raised for a model.json or shard that cannot be used; `message` names the file and problem. */
export class TfjsFormatError extends Error {
  override name = 'TfjsFormatError';
}

export async function readLayersModel(modelJsonPath: string): Promise<LayersModelArtifacts> {
  const hash = createHash('sha256');
  let text: Buffer;
  try {
    text = await readFile(modelJsonPath);
  } catch (err) {
    throw new TfjsFormatError(`cannot read ${modelJsonPath}: ${(err as Error).message}`);
  }
  hash.update(text);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new TfjsFormatError(`${modelJsonPath} is not valid JSON: ${(err as Error).message}`);
  }
  const topology = json.modelTopology as Record<string, unknown> | undefined;
  if (!topology || typeof topology !== 'object') {
    throw new TfjsFormatError(`${modelJsonPath} has no modelTopology (not a TF.js layers model)`);
  }
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new TfjsFormatError(
      `${modelJsonPath} is a TF.js '${String(json.format)}', only 'layers-model' can be imported`,
    );
  }
  const manifest = (json.weightsManifest ?? []) as WeightsGroup[];
  const dir = path.dirname(modelJsonPath);
  const weights = new Map<string, Weight>();
  for (const group of manifest) {
    const shards: Buffer[] = [];
    for (const p of group.paths) {
      const file = path.resolve(dir, p);
      try {
        shards.push(await readFile(file));
      } catch (err) {
        throw new TfjsFormatError(`cannot read weight shard ${file}: ${(err as Error).message}`);
      }
      hash.update(shards[shards.length - 1]);
    }
    const bytes = Buffer.concat(shards);
    decodeGroup(group.weights, bytes, weights, modelJsonPath);
  }
  return { topology, weights, hash: hash.digest('hex') };
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/** Decodes one group's concatenated shards into `out`; specs are laid out back to back. */
export function decodeGroup(
  specs: WeightSpec[],
  bytes: Uint8Array,
  out: Map<string, Weight>,
  where: string,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (const spec of specs) {
    const size = sizeOf(spec.shape);
    const stored = spec.quantization?.dtype ?? spec.dtype;
    const width = BYTES[stored];
    if (width === undefined) {
      throw new TfjsFormatError(`weight ${spec.name} in ${where}: unsupported dtype '${stored}'`);
    }
    if (offset + size * width > bytes.byteLength) {
      throw new TfjsFormatError(
        `weight ${spec.name} in ${where}: shards hold ${bytes.byteLength} bytes, ` +
          `need ${offset + size * width} (truncated or mismatched shard)`,
      );
    }
    const data = new Float32Array(size);
    const q = spec.quantization;
    if (q && (stored === 'uint8' || stored === 'uint16')) {
      const scale = q.scale ?? 1;
      const min = q.min ?? 0;
      for (let i = 0; i < size; i++) {
        const v = stored === 'uint8' ? view.getUint8(offset + i) : view.getUint16(offset + 2 * i, true);
        data[i] = v * scale + min;
      }
    } else if (stored === 'float16') {
      for (let i = 0; i < size; i++) data[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
    } else if (stored === 'int32') {
      for (let i = 0; i < size; i++) data[i] = view.getInt32(offset + 4 * i, true);
    } else {
      for (let i = 0; i < size; i++) data[i] = view.getFloat32(offset + 4 * i, true);
    }
    offset += size * width;
    out.set(spec.name, { shape: spec.shape, data });
  }
  if (offset !== bytes.byteLength) {
    throw new TfjsFormatError(
      `${where}: weight shards hold ${bytes.byteLength} bytes but the manifest describes ${offset}`,
    );
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
