import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, ModelError, receptiveField, specialiseModel } from '../../../src/runtime/models/index.js';
import { decodeModel, encodeModel, specialise } from '../../../src/runtime/onnx/index.js';
import type { Graph, GraphNode, TensorData } from '../../../src/runtime/graph/ir.js';
import { randTensor, rng } from '../../helpers/tensors.js';
import { randomInput } from './fixtures.js';
import { referenceDir, runOrt } from './helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lvi-models-'));
const refFile = (name: string) => path.join(referenceDir, name, 'model.onnx');

const weight = (dims: number[], seed: number): TensorData => randTensor(dims, rng(seed), -0.4, 0.4);

/** Strided conv, pooling, ConvTranspose, DepthToSpace, nearest Resize: x2 overall. */
function stridedNet(): Graph {
  const conv = (name: string, x: string, w: string, attrs: GraphNode['attrs']): GraphNode => ({
    name, opType: 'Conv', inputs: [x, w], outputs: [name], attrs,
  });
  const init = new Map<string, TensorData>([
    ['w1', weight([8, 3, 3, 3], 1)],
    ['w2', weight([8, 4, 4, 4], 2)],
    ['w3', weight([3, 2, 3, 3], 3)],
    ['scales', { dtype: 'float32', dims: [4], data: Float32Array.of(1, 1, 2, 2) }],
  ]);
  return {
    name: 'strided',
    opset: 13,
    nodes: [
      conv('c1', 'x', 'w1', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
      { name: 'r1', opType: 'Relu', inputs: ['c1'], outputs: ['r1'], attrs: {} },
      { name: 'p1', opType: 'MaxPool', inputs: ['r1'], outputs: ['p1'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { name: 'ct', opType: 'ConvTranspose', inputs: ['p1', 'w2'], outputs: ['ct'], attrs: { kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1], group: 2 } },
      { name: 'd2s', opType: 'DepthToSpace', inputs: ['ct'], outputs: ['d2s'], attrs: { blocksize: 2, mode: 'DCR' } },
      { name: 'up', opType: 'Resize', inputs: ['d2s', '', 'scales'], outputs: ['up'], attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } },
      conv('y', 'up', 'w3', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
    ],
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3, 'H', 'W'] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3, 'H2', 'W2'] }],
    initializers: init,
  };
}

function writeModel(name: string, g: Graph): string {
  const file = path.join(tmp, name);
  writeFileSync(file, encodeModel(g));
  return file;
}

/**
 * Measured receptive field along the width: perturb each pixel of the centre row, one image
 * per pixel, and find for every output pixel near the centre the span of input columns that
 * change it. The widest span over output phases is the diameter.
 */
async function measuredWidth(g: Graph, size: number, scale: number): Promise<number> {
  const input = g.inputs[0].name;
  const base = randomInput([1, 3, size, size], 5);
  for (let i = 0; i < base.data.length; i++) (base.data as Float32Array)[i] = Math.abs(base.data[i] as number);
  const batch = new Float32Array(size * base.data.length);
  const plane = size * size;
  const cy = size >> 1;
  for (let x = 0; x < size; x++) {
    batch.set(base.data as Float32Array, x * base.data.length);
    for (let c = 0; c < 3; c++) batch[x * base.data.length + c * plane + cy * size + x] += 0.5;
  }
  const specialised = specialise(g, { [input]: [size + 1, 3, size, size] });
  const out = await runOrt(encodeModel(specialised), {
    [input]: { dtype: 'float32', dims: [size + 1, 3, size, size], data: concat(base.data as Float32Array, batch) },
  });
  const y = Object.values(out)[0];
  const S = size * scale;
  const per = 3 * S * S;
  let widest = 0;
  for (let oy = cy * scale - 4 * scale; oy < (cy + 4) * scale; oy++) {
    for (let ox = (size >> 1) * scale - 8 * scale; ox < (size >> 1) * scale + 8 * scale; ox++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < 3; c++) {
          const k = c * S * S + oy * S + ox;
          if (y[(x + 1) * per + k] !== y[k]) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
          }
        }
      }
      if (hi >= lo) widest = Math.max(widest, hi - lo + 1);
    }
  }
  return widest;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

describe('loadModel (ONNX files)', () => {
  it('reads the reference FSRCNN: names, scale, parameters, hash, free sizes', async () => {
    const m = await loadModel({ file: refFile('fsrcnn_chelsea'), scale: 4 });
    expect(m.info).toMatchObject({ source: `file:${refFile('fsrcnn_chelsea')}`, scale: 4, range: 1, inputName: 'lr', outputName: 'sr', inputChannels: 3, hasGlobalOps: false });
    // Independent count: the float initializers of the file, summed with Python's onnx package.
    expect(m.info.parameters).toBe(24579);
    expect(m.info.hash).toMatch(/^[0-9a-f]{64}$/);
    // Exported at 64x64, but fully convolutional: freed to any size and batch.
    expect(m.graph.inputs[0].shape).toEqual(['N', 3, 'H', 'W']);
    const g = specialiseModel(m, [2, 3, 40, 48]);
    expect(g.outputs[0].shape).toEqual([2, 3, 160, 192]);
    const out = await runOrt(encodeModel(g), { lr: randomInput([2, 3, 40, 48]) });
    expect(out.sr.length).toBe(2 * 3 * 160 * 192);
  });

  it('reads the reference CARN', async () => {
    const m = await loadModel({ file: refFile('carn_coffee') });
    expect(m.info.parameters).toBe(1111890);
    expect(m.info.scale).toBe(4);
    expect(m.info.receptiveField).toBeGreaterThan(30);
  });

  it('receptive fields bound the measured ones tightly (reference FSRCNN, a strided net)', async () => {
    const fsrcnn = await loadModel({ file: refFile('fsrcnn_chelsea') });
    const strided = decodeModel(encodeModel(stridedNet()));
    for (const [g, size, scale, theory] of [
      [fsrcnn.graph, 32, 4, fsrcnn.info.receptiveField!],
      [strided, 32, 2, receptiveField(specialise(strided, [1, 3, 32, 32]))!],
    ] as const) {
      const measured = await measuredWidth(g, size, scale);
      expect(measured).toBeGreaterThan(1);
      // A bound: never below what is measured; rounding sub-pixel reaches costs at most 2.
      expect(theory).toBeGreaterThanOrEqual(measured);
      expect(theory - measured).toBeLessThanOrEqual(2);
    }
  });

  it('reports global operators and gives no receptive field then', async () => {
    const g = stridedNet();
    g.nodes.push(
      { name: 'gap', opType: 'GlobalAveragePool', inputs: ['y'], outputs: ['gap'], attrs: {} },
      { name: 'att', opType: 'Mul', inputs: ['y', 'gap'], outputs: ['z'], attrs: {} },
    );
    g.outputs = [{ name: 'z', dtype: 'float32', shape: ['N', 3, 'H2', 'W2'] }];
    const m = await loadModel({ file: writeModel('global.onnx', g) });
    expect(m.info.hasGlobalOps).toBe(true);
    expect(m.info.receptiveField).toBeUndefined();
  });

  it('wraps a 0..255 network so the graph is 0..1 in and out', async () => {
    const file = writeModel('strided.onnx', stridedNet());
    const m255 = await loadModel({ file, range: 255 });
    const m1 = await loadModel({ file, range: 1 });
    expect(m255.info.range).toBe(255);
    expect(m255.info.inputName).toBe('x');
    expect(m255.info.outputName).toBe('y');
    const x = randomInput([1, 3, 16, 16], 9);
    const x255 = { ...x, data: (x.data as Float32Array).map((v) => v * 255) };
    const wrapped = (await runOrt(encodeModel(specialiseModel(m255, [1, 3, 16, 16])), { x })).y;
    const raw = (await runOrt(encodeModel(specialiseModel(m1, [1, 3, 16, 16])), { x: x255 })).y;
    // Float32: x*255 inside the graph equals x*255 outside; the final /255 rounds once.
    for (let i = 0; i < raw.length; i++) expect(Math.abs(wrapped[i] - raw[i] / 255)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(raw[i] / 255)));
  });

  it('checks the declared scale against the network, naming the file', async () => {
    const file = refFile('fsrcnn_chelsea');
    await expect(loadModel({ file, scale: 2 })).rejects.toThrow(
      `${file}: the network upscales x4 (64x64 -> 256x256), but scale=2 was declared`,
    );
  });

  it('names the file for a corrupt model, a missing file and an unsupported operator', async () => {
    const corrupt = path.join(tmp, 'corrupt.onnx');
    writeFileSync(corrupt, readFileSync(refFile('fsrcnn_chelsea')).subarray(0, 5000));
    await expect(loadModel({ file: corrupt })).rejects.toThrow(new RegExp(`^${escape(corrupt)}: not a valid ONNX file`));
    await expect(loadModel({ file: path.join(tmp, 'nope.onnx') })).rejects.toThrow(/model file not found: .*nope\.onnx/);

    const g = stridedNet();
    g.nodes.splice(1, 1, { name: 'weird_act', opType: 'Swoosh', inputs: ['c1'], outputs: ['r1'], attrs: {} });
    const file = writeModel('unsupported.onnx', g);
    const err = await loadModel({ file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toBe(`${file}: unsupported operator Swoosh (node 'weird_act')`);
  });

  it('tells a study that the input size is wrong when the file fixes it', async () => {
    // A flatten-and-back Reshape with constant sizes ties the network to 16x16.
    const g = stridedNet();
    g.inputs = [{ name: 'x', dtype: 'float32', shape: [1, 3, 16, 16] }];
    g.initializers.set('flat', { dtype: 'int64', dims: [2], data: BigInt64Array.of(1n, 768n) });
    g.initializers.set('back', { dtype: 'int64', dims: [4], data: BigInt64Array.of(1n, 3n, 16n, 16n) });
    g.nodes.unshift(
      { name: 'flatten', opType: 'Reshape', inputs: ['x', 'flat'], outputs: ['xf'], attrs: {} },
      { name: 'unflatten', opType: 'Reshape', inputs: ['xf', 'back'], outputs: ['xb'], attrs: {} },
    );
    g.nodes[2] = { ...g.nodes[2], inputs: ['xb', 'w1'] };
    const file = writeModel('fixed.onnx', g);
    const m = await loadModel({ file });
    expect(m.graph.inputs[0].shape).toEqual([1, 3, 16, 16]);
    expect(() => specialiseModel(m, [1, 3, 16, 16])).not.toThrow();
    expect(() => specialiseModel(m, [1, 3, 24, 24])).toThrow(
      `${file}: wrong input size 1x3x24x24: the model's input 'x' is fixed at 1x3x16x16 (height 16); export it with dynamic axes to use other sizes`,
    );
  });
});

describe('loadModel (zoo ids)', () => {
  it('delegates to the zoo and checks the declared scale and range', async () => {
    const m = await loadModel({ zoo: 'esrgan-slim/x4' });
    expect(m.info).toMatchObject({ source: 'zoo:esrgan-slim/x4', scale: 4, range: 255 });
    expect(specialiseModel(m, [1, 3, 12, 16]).outputs[0].shape).toEqual([1, 3, 48, 64]);
    await expect(loadModel({ zoo: 'esrgan-slim/x4', scale: 2 })).rejects.toThrow(
      "zoo model 'esrgan-slim/x4' upscales x4, but scale=2 was declared",
    );
    await expect(loadModel({ zoo: 'esrgan-slim/x4', range: 1 })).rejects.toThrow(
      "zoo model 'esrgan-slim/x4' works on 0..255 values, but range=1 was declared",
    );
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
