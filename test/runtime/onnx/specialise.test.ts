import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, specialise, UnsupportedOperatorError } from '../../../src/runtime/onnx/index.js';
import type { Graph } from '../../../src/runtime/graph/ir.js';
import { randomInput, tangledNet } from './fixtures.js';
import { readPngBytes, readPngTensor, referenceDir, referenceModels, runOrt, toBytes } from './helpers.js';

/** The graph with every intermediate tensor exposed as an output, so ONNX Runtime reports its shape. */
function exposeAll(g: Graph): Graph {
  const outputs = [...g.valueInfo!.values()].filter((v) => !g.inputs.some((i) => i.name === v.name));
  return { ...g, outputs };
}

describe('specialise', () => {
  for (const opset of [11, 13, 17, 18, 20]) {
    for (const [h, w] of [[8, 12], [16, 8]]) {
      it(`folds shape arithmetic and infers every shape (opset ${opset}, ${h}x${w})`, async () => {
        const graph = tangledNet(opset);
        // Checked the fixture's round trip too: the dynamic graph runs as it is.
        const x = randomInput([2, 3, h, w]);
        const before = await runOrt(encodeModel(graph), { x });

        const g = specialise(graph, [2, 3, h, w]);
        const ops = new Set(g.nodes.map((n) => n.opType));
        for (const op of ['Constant', 'Identity', 'Shape', 'Gather', 'Unsqueeze', 'Concat', 'Cast', 'Floor', 'ConstantOfShape']) {
          if (op === 'Concat' || op === 'Identity') continue; // a real Concat of features and the output Identity stay
          expect(ops.has(op), op).toBe(false);
        }
        expect(g.nodes.filter((n) => n.opType === 'Identity').map((n) => n.outputs[0])).toEqual(['y']);
        expect(g.nodes.filter((n) => n.opType === 'Concat')).toHaveLength(1);
        expect(g.inputs[0].shape).toEqual([2, 3, h, w]);

        // Outputs unchanged by specialisation (exactly: same kernels, same order).
        const after = await runOrt(encodeModel(g), { x });
        expect(after.y).toEqual(before.y);
        expect(after.map).toEqual(before.map);

        // Every inferred shape equals what ONNX Runtime produces for that tensor.
        const exposed = exposeAll(g);
        const session = await import('onnxruntime-node').then((ort) =>
          ort.InferenceSession.create(encodeModel(exposed), { executionProviders: ['cpu'] }),
        );
        const ort = await import('onnxruntime-node');
        const res = await session.run({ x: new ort.Tensor('float32', x.data as Float32Array, x.dims) });
        for (const v of exposed.outputs) expect(res[v.name].dims, v.name).toEqual(v.shape);
        await session.release();
        expect(g.outputs.find((o) => o.name === 'y')!.shape).toEqual([2, 6]);
      });
    }
  }

  it('rejects an input shape that contradicts fixed sizes, naming the input', () => {
    const g = decodeModel(readFileSync(path.join(referenceDir, 'fsrcnn_chelsea', 'model.onnx')));
    expect(() => specialise(g, [1, 1, 64, 64])).toThrow(/input 'lr' has fixed size 3 on axis 1/);
  });

  it('names an operator it cannot handle', () => {
    const g = tangledNet(13);
    g.nodes.splice(1, 0, { name: 'weird', opType: 'FancyOp', domain: 'com.example', inputs: ['x'], outputs: ['q'], attrs: {} });
    expect(() => specialise(g, [1, 3, 8, 8])).toThrow(UnsupportedOperatorError);
    expect(() => specialise(g, [1, 3, 8, 8])).toThrow(/FancyOp.*weird/);
  });

  for (const name of referenceModels) {
    it(`specialised ${name} reproduces sr.png within 1 grey level`, async () => {
      const g = specialise(decodeModel(readFileSync(path.join(referenceDir, name, 'model.onnx'))), [1, 3, 64, 64]);
      expect(g.nodes.some((n) => n.opType === 'Identity')).toBe(false);
      expect(g.outputs[0].shape).toEqual([1, 3, 256, 256]);
      const lr = readPngTensor(path.join(referenceDir, name, 'lr.png'));
      const out = toBytes((await runOrt(encodeModel(g), { lr })).sr);
      const ref = readPngBytes(path.join(referenceDir, name, 'sr.png')).chw;
      let worst = 0;
      for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - ref[i]));
      expect(worst).toBeLessThanOrEqual(1);
    });
  }
});
