// Feature extraction: pooling, batching, inputs of several sizes, the pruned one-pass graph,
// and the bad-input messages (unknown layer, shapes that cannot be stacked).
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../../../src/runtime/api.js';
import { readImage } from '../../../src/runtime/image/index.js';
import type { Image } from '../../../src/runtime/image/image.js';
import { extractFeatures, layerGraph } from '../../../src/runtime/methods/ddr/features.js';
import { loadOnnxFile } from '../../../src/runtime/models/index.js';
import { fixture } from '../../helpers/paths.js';

const BODY = '/body/body.3/Add_output_0';
const FIRST = '/LeakyRelu_output_0';
let model: LoadedModel;
let inputs: Image[];

/** A w x h crop of a CHW image. */
function crop(img: Image, w: number, h: number): Image {
  const data = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(c * h + y) * w + x] = img.data[(c * img.height + y) * img.width + x];
  return { width: w, height: h, data };
}

beforeAll(async () => {
  model = await loadOnnxFile(fixture('models', 'msrresnet-x2-clean.onnx'));
  inputs = ['astronaut_tl', 'camera_br', 'coffee_tl', 'rocket_br', 'chelsea_tl'].flatMap((c) =>
    ['clean', 'noise'].map((d) => readImage(fixture('ddr', 'inputs', `${c}_${d}.png`))),
  );
});

describe('features', () => {
  it('one pass serves several layers, from a graph without the upsampler', () => {
    const g = layerGraph(model, [FIRST, BODY], [1, 3, 32, 32]);
    const full = model.graph.nodes.length;
    expect(g.outputs.map((o) => o.name)).toEqual([FIRST, BODY]);
    expect(g.nodes.length).toBeLessThan(full);
    expect(g.nodes.some((n) => n.opType === 'DepthToSpace' || n.opType === 'Resize')).toBe(false);
    expect(layerGraph(model, [FIRST], [1, 3, 32, 32]).nodes.length).toBeLessThanOrEqual(3);
  });

  it('batched and one-at-a-time runs give the same rows; max pooling is the max of the map', async () => {
    const [a] = await extractFeatures(model, inputs, { layers: [BODY], pool: 'mean', device: 'cpu', threads: 1, batch: 4 });
    const [b] = await extractFeatures(model, inputs, { layers: [BODY], pool: 'mean', device: 'cpu', threads: 1, batch: 1 });
    expect(a.dim).toBe(32);
    for (let i = 0; i < a.data.length; i++) expect(a.data[i]).toBeCloseTo(b.data[i], 6);
    const [full, max] = await extractFeatures(model, inputs.slice(0, 3), { layers: [BODY], pool: 'none', device: 'cpu', threads: 1 }).then(
      async (f) => [f[0], (await extractFeatures(model, inputs.slice(0, 3), { layers: [BODY], pool: 'max', device: 'cpu', threads: 1 }))[0]],
    );
    for (let i = 0; i < 3; i++) {
      for (let c = 0; c < 32; c++) {
        const map = full.data.subarray(i * full.dim + c * 1024, i * full.dim + (c + 1) * 1024);
        expect(max.data[i * 32 + c]).toBe(map.reduce((m, v) => Math.max(m, v), -Infinity));
      }
    }
  });

  it('inputs of several sizes stack when pooled, and keep their order', async () => {
    const mixed = [inputs[0], crop(inputs[1], 24, 20), inputs[2], crop(inputs[3], 24, 20)];
    const [f] = await extractFeatures(model, mixed, { layers: [BODY], pool: 'mean', device: 'cpu', threads: 1 });
    const [small] = await extractFeatures(model, [mixed[1], mixed[3]], { layers: [BODY], pool: 'mean', device: 'cpu', threads: 1 });
    const [big] = await extractFeatures(model, [mixed[0], mixed[2]], { layers: [BODY], pool: 'mean', device: 'cpu', threads: 1 });
    expect(Array.from(f.data.subarray(32, 64))).toEqual(Array.from(small.data.subarray(0, 32)));
    expect(Array.from(f.data.subarray(64, 96))).toEqual(Array.from(big.data.subarray(32, 64)));
  });

  it('refuses to stack unpooled maps whose shape varies with the input', async () => {
    const mixed = [inputs[0], crop(inputs[1], 24, 20)];
    await expect(extractFeatures(model, mixed, { layers: [BODY], pool: 'none', device: 'cpu', threads: 1 })).rejects.toThrow(
      /layer '\/body\/body.3\/Add_output_0' is 32x20x24 for a 20x24 input but 32x32x32 for another: its shape varies with the input, so pool=none rows cannot be stacked/,
    );
  });

  it('names the closest tensor for a layer the model does not have', async () => {
    await expect(extractFeatures(model, inputs, { layers: ['/body/body.3/Add_output0'], pool: 'mean', device: 'cpu' })).rejects.toThrow(
      /has no tensor '\/body\/body.3\/Add_output0'; did you mean '\/body\/body.3\/Add_output_0'\?/,
    );
    await expect(extractFeatures(model, inputs, { layers: ['conv_last'], pool: 'mean', device: 'cpu' })).rejects.toThrow(/lvi inspect/);
    await expect(extractFeatures(model, [], { layers: [BODY], pool: 'mean', device: 'cpu' })).rejects.toThrow(/at least one sample/);
  });
});
