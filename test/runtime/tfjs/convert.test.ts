// The TF.js layers importer on its own: synthetic Keras models built and saved by TF.js itself
// (covering the layers and options the zoo does not use), weight decoding against TF.js's own
// decoder, and the errors a broken or unsupported model gets.
// Reference: TF.js 4.11 on its pure-JS CPU backend. Tolerance: max |ONNX Runtime - TF.js|
// <= 1e-5 (outputs are O(1)), stated per test.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  convertLayersModel,
  decodeGroup,
  readLayersModel,
  TfjsFormatError,
  type LayersModelArtifacts,
  type Weight,
  type WeightSpec,
} from '../../../src/runtime/models/tfjs/index.js';
import { maxAbsDiff, randArray, rng } from '../../helpers/tensors.js';
import { nhwcToNchw, repoRoot, runOrt, tf, tfjsReady } from './helpers.js';

/** Saves a TF.js model to memory and returns it as the importer's input. */
async function artifactsOf(model: import('@tensorflow/tfjs').LayersModel): Promise<LayersModelArtifacts> {
  let saved: import('@tensorflow/tfjs').io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const weights = new Map<string, Weight>();
  const data = saved!.weightData as ArrayBuffer;
  decodeGroup(saved!.weightSpecs as WeightSpec[], new Uint8Array(data), weights, 'memory');
  return { topology: saved!.modelTopology as Record<string, unknown>, weights, hash: '' };
}

/** Gives every weight of a model seeded random values (BN variances kept positive). */
function randomizeWeights(model: import('@tensorflow/tfjs').LayersModel, seed: number): void {
  model.layers.forEach((layer, li) => {
    const ws = layer.getWeights().map((w, wi) => {
      const v = randArray(w.size, rng(seed + 31 * li + wi));
      const positive = layer.weights[wi].name.includes('variance');
      return tf.tensor(v.map((x) => (positive ? 0.5 + x : (x - 0.5) * 0.6)), w.shape);
    });
    layer.setWeights(ws);
  });
}

async function compare(
  model: import('@tensorflow/tfjs').LayersModel,
  h: number,
  w: number,
  seed: number,
): Promise<{ diff: number; dims: number[] }> {
  const x = randArray(h * w * 3, rng(seed));
  const ref = model.predict(tf.tensor4d(x, [1, h, w, 3])) as import('@tensorflow/tfjs').Tensor;
  const expected = nhwcToNchw((await ref.data()) as Float32Array, ref.shape);
  const converted = convertLayersModel(await artifactsOf(model));
  const got = await runOrt(converted.graph, nhwcToNchw(x, [1, h, w, 3]), [1, 3, h, w]);
  expect(got.dims).toEqual([ref.shape[0], ref.shape[3], ref.shape[1], ref.shape[2]]);
  ref.dispose();
  return { diff: maxAbsDiff(got.data, expected), dims: got.dims };
}

describe('TF.js layers import against TF.js', () => {
  it('a functional model using every supported layer kind matches TF.js within 1e-5', async () => {
    await tfjsReady();
    const L = tf.layers;
    const x = tf.input({ shape: [null, null, 3] });
    const a = L.conv2d({ filters: 6, kernelSize: 3, padding: 'same', dilationRate: 2, activation: 'relu' }).apply(x) as never;
    const b = L.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid' }).apply(a) as never;
    const c = L.upSampling2d({ size: [2, 2] }).apply(b) as never;
    const d = L.batchNormalization({ epsilon: 0.01 }).apply(a) as never;
    const e = L.leakyReLU({ alpha: 0.1 }).apply(d) as never;
    const f = L.prelu({ sharedAxes: [1, 2] }).apply(c) as never;
    const g = L.add().apply([e, f]) as never;
    const h = L.concatenate({ axis: -1 }).apply([g, a]) as never;
    const i = L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'tanh' }).apply(h) as never;
    const j = L.conv2d({ filters: 4, kernelSize: [3, 2], padding: 'valid', useBias: false }).apply(i) as never;
    const k = L.zeroPadding2d({ padding: [[1, 1], [0, 1]] }).apply(j) as never;
    const l = L.reLU({ maxValue: 0.5 }).apply(k) as never;
    const m = L.multiply().apply([l, L.conv2d({ filters: 4, kernelSize: 1 }).apply(x) as never]) as never;
    const n = L.add().apply([m, L.dropout({ rate: 0.5 }).apply(l) as never, k]) as never;
    const o = L.average().apply([n, l, m]) as never;
    const p = L.cropping2D({ cropping: [[1, 0], [0, 2]] }).apply(o) as never;
    let q = p as import('@tensorflow/tfjs').SymbolicTensor;
    for (const act of ['elu', 'selu', 'softplus', 'relu6', 'swish'] as const) {
      q = L.activation({ activation: act }).apply(q) as import('@tensorflow/tfjs').SymbolicTensor;
    }
    q = L.elu().apply(q) as import('@tensorflow/tfjs').SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: q });
    randomizeWeights(model, 7);
    const { diff, dims } = await compare(model, 12, 10, 3);
    expect(dims).toEqual([1, 4, 11, 8]);
    expect(diff).toBeLessThanOrEqual(1e-5);
  });

  it('a Sequential model (implicit input) matches TF.js within 1e-5', async () => {
    await tfjsReady();
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [null, null, 3], filters: 12, kernelSize: 5, padding: 'same' }),
        tf.layers.reLU(),
        tf.layers.conv2d({ filters: 12, kernelSize: 3, padding: 'same' }),
        tf.layers.upSampling2d({ size: [3, 3] }),
        tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }),
      ],
    });
    randomizeWeights(model, 11);
    const { diff, dims } = await compare(model, 7, 9, 5);
    expect(dims).toEqual([1, 3, 21, 27]);
    expect(diff).toBeLessThanOrEqual(1e-5);
    const converted = convertLayersModel(await artifactsOf(model));
    expect(converted.scale).toBe(3);
  });

  it("reads @upscalerjs/models' pixelator (tfjs-layers Sequential, empty shard) like TF.js", async () => {
    const file = path.join(repoRoot, 'node_modules/@upscalerjs/models/models/pixelator/model.json');
    const converted = convertLayersModel(await readLayersModel(file));
    expect(converted.scale).toBe(4);
    expect(converted.parameters).toBe(0);
    const x = randArray(3 * 5 * 6, rng(9));
    const got = await runOrt(converted.graph, x, [1, 3, 5, 6]);
    // Nearest x4: out[c, y, x] = in[c, floor(y/4), floor(x/4)], checked directly.
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 20; y++)
        for (let q = 0; q < 24; q++) {
          expect(got.data[(c * 20 + y) * 24 + q]).toBe(x[(c * 5 + Math.floor(y / 4)) * 6 + Math.floor(q / 4)]);
        }
  });
});

describe('weight decoding', () => {
  it('dequantizes uint8, uint16 and float16 shards exactly as tf.io.decodeWeights does', async () => {
    await tfjsReady();
    const specs: WeightSpec[] = [
      { name: 'a/kernel', shape: [3, 5], dtype: 'float32', quantization: { dtype: 'uint8', min: -0.37, scale: 0.0031 } },
      { name: 'b/kernel', shape: [7], dtype: 'float32', quantization: { dtype: 'uint16', min: 1.5, scale: 1.7e-5 } },
      { name: 'c/kernel', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'd/bias', shape: [3], dtype: 'float32' },
      { name: 'e/count', shape: [2], dtype: 'int32' },
    ];
    const bytes = new Uint8Array(15 + 14 + 8 + 12 + 8);
    const raw = randArray(bytes.length, rng(21));
    raw.forEach((v, i) => (bytes[i] = Math.floor(v * 256)));
    // float16 words chosen to include a subnormal, a negative and one; float32/int32 set plainly.
    const view = new DataView(bytes.buffer);
    [0x0001, 0xc500, 0x3c00, 0x7bff].forEach((h, i) => view.setUint16(29 + 2 * i, h, true));
    [0.25, -3, 1e-3].forEach((v, i) => view.setFloat32(37 + 4 * i, v, true));
    [-5, 123456].forEach((v, i) => view.setInt32(49 + 4 * i, v, true));

    const ours = new Map<string, Weight>();
    decodeGroup(specs, bytes, ours, 'test');
    const theirs = tf.io.decodeWeights(bytes.buffer, specs as import('@tensorflow/tfjs').io.WeightsManifestEntry[]);
    for (const s of specs) {
      const want = Float32Array.from(theirs[s.name].dataSync());
      expect(Array.from(ours.get(s.name)!.data), s.name).toEqual(Array.from(want));
    }
  });

  it('names a truncated shard and an unsupported dtype', () => {
    const out = new Map<string, Weight>();
    expect(() => decodeGroup([{ name: 'k', shape: [4], dtype: 'float32' }], new Uint8Array(8), out, 'm.json')).toThrow(
      /weight k in m.json: .*truncated/,
    );
    expect(() => decodeGroup([{ name: 'k', shape: [1], dtype: 'complex64' }], new Uint8Array(8), out, 'm.json')).toThrow(
      /unsupported dtype 'complex64'/,
    );
    expect(() => decodeGroup([{ name: 'k', shape: [1], dtype: 'float32' }], new Uint8Array(8), out, 'm.json')).toThrow(
      /hold 8 bytes but the manifest describes 4/,
    );
  });
});

describe('import errors', () => {
  const input = { class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_input_shape: [null, null, null, 3] }, inbound_nodes: [] };
  const model = (layer: object): LayersModelArtifacts => ({
    topology: {
      model_config: {
        class_name: 'Functional',
        config: { name: 'm', layers: [input, layer], input_layers: [['in', 0, 0]], output_layers: [['x', 0, 0]] },
      },
    },
    weights: new Map(),
    hash: '',
  });

  it('converts Subtract (no TF.js layer exists for it): x - relu(x) = min(x, 0)', async () => {
    const relu = { class_name: 'Activation', name: 'r', config: { name: 'r', activation: 'relu' }, inbound_nodes: [[['in', 0, 0, {}]]] };
    const sub = { class_name: 'Subtract', name: 'x', config: { name: 'x' }, inbound_nodes: [[['in', 0, 0, {}], ['r', 0, 0, {}]]] };
    const m = model(sub);
    const cfg = (m.topology.model_config as { config: { layers: object[] } }).config;
    cfg.layers.splice(1, 0, relu);
    const x = randArray(3 * 4 * 4, rng(2)).map((v) => v - 0.5);
    const got = await runOrt(convertLayersModel(m).graph, x, [1, 3, 4, 4]);
    expect(Array.from(got.data)).toEqual(Array.from(x.map((v) => Math.min(v, 0))));
  });

  it('refuses a Lambda layer by name', () => {
    const lambda = { class_name: 'Lambda', name: 'x', config: { name: 'x' }, inbound_nodes: [[['in', 0, 0, {}]]] };
    expect(() => convertLayersModel(model(lambda))).toThrow(/layer x: Lambda layers hold Python code/);
  });

  it('names an unsupported layer kind and what is supported', () => {
    const dense = { class_name: 'Dense', name: 'x', config: { name: 'x', units: 3 }, inbound_nodes: [[['in', 0, 0, {}]]] };
    expect(() => convertLayersModel(model(dense))).toThrow(/layer x: Keras layer 'Dense' is not supported \(supported: Conv2D/);
  });

  it('names bilinear upsampling as unsupported', () => {
    const up = { class_name: 'UpSampling2D', name: 'x', config: { name: 'x', size: [2, 2], interpolation: 'bilinear' }, inbound_nodes: [[['in', 0, 0, {}]]] };
    expect(() => convertLayersModel(model(up))).toThrow(/UpSampling2D interpolation 'bilinear' is not supported/);
  });

  it('names a missing weight', () => {
    const conv = {
      class_name: 'Conv2D',
      name: 'x',
      config: { name: 'x', filters: 2, kernel_size: [3, 3], padding: 'same' },
      inbound_nodes: [[['in', 0, 0, {}]]],
    };
    expect(() => convertLayersModel(model(conv))).toThrow(/layer x: weight 'x\/kernel' is missing/);
  });

  it('names a file that is not a layers model', async () => {
    const file = path.join(repoRoot, 'package.json');
    await expect(readLayersModel(file)).rejects.toThrow(TfjsFormatError);
    await expect(readLayersModel(file)).rejects.toThrow(/has no modelTopology/);
    await expect(readLayersModel(path.join(repoRoot, 'nope/model.json'))).rejects.toThrow(/cannot read .*nope\/model.json/);
  });
});
