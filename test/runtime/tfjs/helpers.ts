// Shared by the TF.js import tests: a TF.js reference (pure-JS CPU backend) and an ONNX
// Runtime runner for converted graphs.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { runOnnx } from '../../helpers/ort.js';
import type { Graph } from '../../../src/runtime/graph/ir.js';
import type { WeightsGroup } from '../../../src/runtime/models/tfjs/index.js';

export { tf };

export { repoRoot } from '../../helpers/paths.js';
import { repoRoot } from '../../helpers/paths.js';
let backendReady: Promise<boolean> | undefined;

/** TF.js on its pure-JS CPU backend, with the custom layers the SR packages register. */
export async function tfjsReady(): Promise<typeof tf> {
  backendReady ??= tf.setBackend('cpu');
  await backendReady;
  return tf;
}

/**
 * Registers the UpscalerJS packages' own custom layers (PixelShuffle<s>x, MultiplyBeta) by
 * running the package's shared ESRGAN definition (its ESM build; the CJS build is ES5 and
 * cannot extend TF.js 4's Layer class).
 */
export async function registerPackageLayers(pkg: string, scale: number): Promise<void> {
  const root = path.join(repoRoot, 'node_modules', pkg);
  const file = path.join(root, 'dist/esm/packages/shared/src/esrgan/esrgan.js');
  const mod = (await import(pathToFileURL(file).href)) as {
    getESRGANModelDefinition: (o: object) => { setup?: (t: typeof tf) => void };
  };
  const def = mod.getESRGANModelDefinition({ scale, name: pkg, version: '', path: '', meta: { architecture: 'rrdn' } });
  def.setup?.(tf);
}

/** idealo ISR's custom layers, written here as their Python defines them (no JS ships). */
export function registerIsrLayers(): void {
  class MultiplyBeta extends tf.layers.Layer {
    static className = 'MultiplyBeta';
    beta: number;
    constructor(config: { beta?: number; name?: string }) {
      super(config);
      this.beta = config.beta ?? 0.2;
    }
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, this.beta);
    }
    override getConfig(): tf.serialization.ConfigDict {
      return { ...super.getConfig(), beta: this.beta };
    }
  }
  class PixelShuffle extends tf.layers.Layer {
    static className = 'PixelShuffle';
    scale: number;
    constructor(config: { scale: number; name?: string }) {
      super(config);
      this.scale = config.scale;
    }
    override computeOutputShape(s: tf.Shape): tf.Shape {
      const c = s[3] as number;
      return [s[0], s[1] === null ? null : s[1] * this.scale, s[2] === null ? null : s[2] * this.scale, c / this.scale ** 2];
    }
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.depthToSpace((Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D, this.scale, 'NHWC');
    }
  }
  tf.serialization.registerClass(MultiplyBeta);
  tf.serialization.registerClass(PixelShuffle);
}

/** Loads model.json + shards into TF.js from disk (TF.js decodes and dequantizes itself). */
export async function loadTfjsFromDisk(modelJson: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await readFile(modelJson, 'utf8')) as {
    modelTopology: object;
    weightsManifest: WeightsGroup[];
  };
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const g of json.weightsManifest) {
    specs.push(...(g.weights as tf.io.WeightsManifestEntry[]));
    for (const p of g.paths) buffers.push(await readFile(path.resolve(path.dirname(modelJson), p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
}

/** Runs a graph with one float32 input and returns its (first) output. */
export async function runOrt(
  graph: Graph,
  input: Float32Array,
  dims: number[],
): Promise<{ data: Float32Array; dims: number[] }> {
  const out = await runOnnx(graph, { [graph.inputs[0].name]: { dtype: 'float32', dims, data: input } });
  return out[graph.outputs[0].name];
}

/** NHWC -> NCHW for a batch of images. */
export function nhwcToNchw(x: Float32Array | Int32Array | Uint8Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let q = 0; q < w; q++) for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + q] = x[((b * h + y) * w + q) * c + k];
  return out;
}
