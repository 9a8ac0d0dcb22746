import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, OnnxFormatError } from '../../../src/runtime/onnx/codec.js';
import type { Graph } from '../../../src/runtime/graph/ir.js';
import { readPngBytes, readPngTensor, referenceDir, referenceModels, runOrt, toBytes } from './helpers.js';

describe('ONNX decode/encode', () => {
  for (const name of referenceModels) {
    it(`round-trips ${name} and still reproduces its sr.png`, async () => {
      const file = path.join(referenceDir, name, 'model.onnx');
      const original = readFileSync(file);
      const graph = decodeModel(original);
      expect(graph.opset).toBe(13);
      expect(graph.inputs.map((i) => i.name)).toEqual(['lr']);
      expect(graph.outputs.map((o) => o.name)).toEqual(['sr']);
      expect(graph.inputs[0].shape).toEqual([1, 3, 64, 64]);

      const bytes = encodeModel(graph);
      const again = decodeModel(bytes);
      expect(again.nodes).toEqual(graph.nodes);
      expect([...again.initializers.keys()]).toEqual([...graph.initializers.keys()]);
      for (const [k, t] of graph.initializers) expect(again.initializers.get(k)).toEqual(t);

      const lr = readPngTensor(path.join(referenceDir, name, 'lr.png'));
      const [a, b] = [await runOrt(original, { lr }), await runOrt(bytes, { lr })];
      // Same graph, same runtime: identical outputs.
      expect(b.sr).toEqual(a.sr);
      const sr = readPngBytes(path.join(referenceDir, name, 'sr.png'));
      const got = toBytes(b.sr);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - sr.chw[i]));
      // Tolerance: 1 grey level (float32 differences across runtimes can flip a truncation).
      expect(worst).toBeLessThanOrEqual(1);
    });
  }

  it('keeps attribute kinds: floats stay floats, ints stay ints, strings and tensors survive', () => {
    const graph: Graph = {
      name: 'attrs',
      opset: 17,
      nodes: [
        { name: 'lrelu', opType: 'LeakyRelu', inputs: ['x'], outputs: ['y'], attrs: { alpha: 0 } },
        { name: 'd2s', opType: 'DepthToSpace', inputs: ['y'], outputs: ['z'], attrs: { blocksize: 2, mode: 'CRD' } },
        {
          name: 'c',
          opType: 'Constant',
          inputs: [],
          outputs: ['k'],
          attrs: { value: { dtype: 'int64', dims: [2], data: new BigInt64Array([-1n, 1n << 40n]) } },
        },
      ],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 4, 2, 2] }],
      outputs: [{ name: 'z', dtype: 'float32', shape: ['N', 1, 4, 4] }],
      initializers: new Map(),
    };
    const back = decodeModel(encodeModel(graph));
    expect(back.nodes).toEqual(graph.nodes);
    expect(back.inputs).toEqual(graph.inputs);
  });

  it('names the problem for bytes that are not ONNX', () => {
    expect(() => decodeModel(new Uint8Array([1, 2, 3, 250, 251]))).toThrow(OnnxFormatError);
    expect(() => decodeModel(new TextEncoder().encode('hello, not a model'))).toThrow(/not a valid ONNX file/);
  });
});
