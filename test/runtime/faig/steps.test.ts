// FAIG's 'steps' plan: path points stacked as convolution groups (methods/faig/steps.ts). Each
// stacked point's weight gradients equal a batch-1 run of the network at that point's weights
// (the batch-1 rules are checked against float64 finite differences elsewhere); networks whose
// moving parameters are not all Conv weights and biases fall back to the 'inputs' plan and say so.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../../src/runtime/autodiff/index.js';
import { createSession } from '../../../src/runtime/engine/index.js';
import type { Graph } from '../../../src/runtime/graph/ir.js';
import { type Image } from '../../../src/runtime/image/image.js';
import { loadOnnxFile } from '../../../src/runtime/models/index.js';
import { attributeAll, pathWeights } from '../../../src/runtime/methods/faig/attribution.js';
import { matchPair } from '../../../src/runtime/methods/faig/kernels.js';
import { stepGraph, stepRefusal } from '../../../src/runtime/methods/faig/steps.js';
import { fixture } from '../../helpers/paths.js';
import { randArray, rng } from '../../helpers/tensors.js';

const dir = fixture('faig', 'small_3img_20steps');

/** The graph with every float initializer scaled by (1 + 0.1 * noise): a second state of one architecture. */
function perturbed(g: Graph, seed: number): Graph {
  const r = rng(seed);
  const initializers = new Map(g.initializers);
  for (const [name, t] of g.initializers) {
    if (t.dtype !== 'float32') continue;
    initializers.set(name, { ...t, data: (t.data as Float32Array).map((v) => v * (1 + 0.1 * (r() - 0.5))) });
  }
  return { ...g, initializers };
}

describe("FAIG 'steps' plan", () => {
  it('each stacked path point gives the weight gradients of a batch-1 run at its weights (MSRResNet x2 pair)', async () => {
    const baseline = await loadOnnxFile(path.join(dir, 'baseline.onnx'));
    const target = await loadOnnxFile(path.join(dir, 'target.onnx'));
    const pair = matchPair(baseline.graph, target.graph, { baseline: 'baseline', target: 'target' });
    expect(stepRefusal(target.graph, pair)).toBeUndefined();
    const alphas = [0, 0.37, 1];
    const size = 10;
    const r = rng(3);
    const lr = randArray(3 * size * size, r);
    const hr = randArray(3 * (2 * size) ** 2, r);
    const m = alphas.length;
    const stepped = stepGraph(baseline.graph, target.graph, pair, alphas);
    const gg = buildGradientGraph(stepped.graph, { inputShape: [m, 3, size, size], objective: { kind: 'sse' }, wrtInput: false, wrtWeights: [...stepped.stacked.values()], weightsAs: 'constants' });
    const session = await createSession(gg.graph, { device: 'cpu', fresh: true });
    const repeat = (x: Float32Array) => {
      const out = new Float32Array(m * x.length);
      for (let j = 0; j < m; j++) out.set(x, j * x.length);
      return out;
    };
    const out = await session.run({
      [target.info.inputName]: { dtype: 'float32', dims: [m, 3, size, size], data: repeat(lr) },
      lvi_target: { dtype: 'float32', dims: [m, 3, 2 * size, 2 * size], data: repeat(hr) },
    });
    await session.release();
    const single = buildGradientGraph(target.graph, { inputShape: [1, 3, size, size], objective: { kind: 'sse' }, wrtInput: false, wrtWeights: pair.moving, weightsAs: 'inputs' });
    const one = await createSession(single.graph, { device: 'cpu', fresh: true });
    for (const [j, a] of alphas.entries()) {
      const weights = pathWeights(baseline.graph, target.graph, pair, a);
      const feeds = Object.fromEntries(Object.entries(weights).map(([w, data]) => [w, { dtype: 'float32' as const, dims: target.graph.initializers.get(w)!.dims, data }]));
      const ref = await one.run({
        ...feeds,
        [target.info.inputName]: { dtype: 'float32', dims: [1, 3, size, size], data: lr },
        lvi_target: { dtype: 'float32', dims: [1, 3, 2 * size, 2 * size], data: hr },
      });
      expect((out[gg.outputs.objective]!.data as Float32Array)[j]).toBeCloseTo((ref[single.outputs.objective]!.data as Float32Array)[0]!, 2);
      for (const w of pair.moving) {
        const theirs = ref[single.outputs.weightGrads[w]!]!.data as Float32Array;
        const mine = (out[gg.outputs.weightGrads[stepped.stacked.get(w)!]!]!.data as Float32Array).subarray(j * theirs.length, (j + 1) * theirs.length);
        let peak = 0;
        let err = 0;
        for (let i = 0; i < theirs.length; i++) {
          peak = Math.max(peak, Math.abs(theirs[i]!));
          err = Math.max(err, Math.abs(mine[i]! - theirs[i]!));
        }
        expect(err, `${w} at a = ${a}`).toBeLessThanOrEqual(1e-4 * peak + 1e-7);
      }
    }
    await one.release();
  }, 120_000);

  it("moving parameters outside Convs (FSRCNN: PReLU slopes, ConvTranspose): the 'inputs' plan, with the reason; forcing 'steps' names it", async () => {
    const fsrcnn = await loadOnnxFile(fixture('lam', 'fsrcnn_chelsea', 'model.onnx'));
    const other = { info: fsrcnn.info, graph: perturbed(fsrcnn.graph, 5) };
    const pair = matchPair(other.graph, fsrcnn.graph, { baseline: 'other', target: 'fsrcnn' });
    const refusal = stepRefusal(fsrcnn.graph, pair);
    expect(refusal).toMatch(/^'.+' moves along the path and is an input of the \w+ node '.*', not a Conv's weight or bias$/);
    const r = rng(9);
    const image = (w: number, h: number): Image => ({ width: w, height: h, data: randArray(fsrcnn.info.inputChannels * w * h, r) });
    const inputs = [0, 1].map(() => ({ lr: image(8, 8), hr: image(8 * fsrcnn.info.scale, 8 * fsrcnn.info.scale) }));
    const result = await attributeAll(other, fsrcnn, pair, inputs, { steps: 4, device: 'cpu' });
    expect(result.plan).toBe('inputs');
    expect(result.batchNote).toContain(refusal!);
    await expect(attributeAll(other, fsrcnn, pair, inputs, { steps: 4, device: 'cpu', plan: 'steps' })).rejects.toThrow(/path points cannot be stacked: '.+' moves along the path/);
  }, 120_000);
});
