// Per-example weight gradients (GradientRequest.perExample, what FAIG batches on): each batch
// element's gradient equals the one a batch-1 run of that element gives (the batch-1 rules are
// checked against float64 finite differences elsewhere), on the MSRResNet pair (pixel shuffle)
// and FSRCNN (ConvTranspose); weights of other nodes are refused.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../../src/runtime/autodiff/index.js';
import { createSession } from '../../../src/runtime/engine/index.js';
import type { TensorData } from '../../../src/runtime/graph/ir.js';
import { loadOnnxFile } from '../../../src/runtime/models/index.js';
import { kernelIndex } from '../../../src/runtime/methods/faig/kernels.js';
import { fixture } from '../../helpers/paths.js';
import { randArray, rng } from '../../helpers/tensors.js';

const cases = [
  { name: 'MSRResNet x2 (pixel shuffle)', file: fixture('faig', 'small_3img_20steps', 'target.onnx'), size: 12, scale: 2 },
  { name: 'FSRCNN x4 (ConvTranspose)', file: fixture('lam', 'fsrcnn_chelsea', 'model.onnx'), size: 10, scale: 4 },
];

describe('per-example weight gradients', () => {
  for (const c of cases) {
    it(`${c.name}: each element's gradient is its batch-1 gradient`, async () => {
      const model = await loadOnnxFile(c.file);
      const weights = kernelIndex(model.graph).convs.map((k) => k.weight);
      const n = 3;
      const r = rng(7);
      const lr = randArray(n * 3 * c.size * c.size, r);
      const hr = randArray(n * 3 * (c.size * c.scale) ** 2, r);
      const run = async (batch: number, perExample: boolean, offset: number) => {
        const shape: [number, number, number, number] = [batch, 3, c.size, c.size];
        const gg = buildGradientGraph(model.graph, { inputShape: shape, objective: { kind: 'sse' }, wrtInput: false, wrtWeights: weights, weightsAs: 'constants', perExample: perExample ? weights : undefined });
        const session = await createSession(gg.graph, { device: 'cpu', fresh: true });
        const lrItem = 3 * c.size * c.size;
        const hrItem = 3 * (c.size * c.scale) ** 2;
        const out = await session.run({
          [model.info.inputName]: { dtype: 'float32', dims: shape, data: lr.slice(offset * lrItem, (offset + batch) * lrItem) },
          lvi_target: { dtype: 'float32', dims: [batch, 3, c.size * c.scale, c.size * c.scale], data: hr.slice(offset * hrItem, (offset + batch) * hrItem) },
        });
        await session.release();
        return Object.fromEntries(weights.map((w) => [w, out[gg.outputs.weightGrads[w]!]!])) as Record<string, TensorData>;
      };
      const batched = await run(n, true, 0);
      for (let i = 0; i < n; i++) {
        const single = await run(1, false, i);
        for (const w of weights) {
          const b = batched[w]!;
          const s = single[w]!;
          expect(b.dims).toEqual([n, ...s.dims]);
          const size = s.data.length;
          let peak = 0;
          let err = 0;
          for (let j = 0; j < size; j++) {
            peak = Math.max(peak, Math.abs(Number(s.data[j])));
            err = Math.max(err, Math.abs(Number(b.data[i * size + j]) - Number(s.data[j])));
          }
          expect(err, `${w} element ${i}`).toBeLessThanOrEqual(1e-4 * peak + 1e-7);
        }
      }
    }, 120_000);
  }

  it('refuses a weight that feeds anything but an ungrouped convolution', async () => {
    const model = await loadOnnxFile(cases[0]!.file);
    const bias = kernelIndex(model.graph).convs[0]!.bias!;
    expect(() => buildGradientGraph(model.graph, { inputShape: [2, 3, 8, 8], objective: { kind: 'sse' }, wrtInput: false, wrtWeights: [bias], perExample: [bias] })).toThrow(/per-example gradients are made for the weights of ungrouped convolutions/);
  });
});
