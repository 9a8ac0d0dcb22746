// The batch-axis proof (engine/batch-axis.ts): small graphs whose verdict is checked against
// ONNX Runtime itself (batch 3 of distinct items against each item run alone), and the real
// networks of the suite: the reference CNNs and every zoo model are batchable, SwinIR is not.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Graph, GraphNode, TensorData } from '../../../src/runtime/graph/ir.js';
import { batchAxisVerdict } from '../../../src/runtime/engine/index.js';
import { decodeModel } from '../../../src/runtime/onnx/index.js';
import { resolveZooModel, ZOO } from '../../../src/runtime/models/zoo.js';
import { fixture } from '../../helpers/paths.js';
import { runOnnx } from '../../helpers/ort.js';

const ints = (v: number[]): TensorData => ({ dtype: 'int64', dims: [v.length], data: BigInt64Array.from(v.map(BigInt)) });

function seeded(dims: number[], seed: number): TensorData {
  let a = seed >>> 0;
  const data = Float32Array.from({ length: dims.reduce((p, d) => p * d, 1) }, () => {
    a = (Math.imul(a ^ (a >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return (a / 2 ** 32) * 2 - 1;
  });
  return { dtype: 'float32', dims, data };
}

type Spec = [op: string, inputs: string[], output: string, attrs?: GraphNode['attrs']];

/** x [N, 3, 4, 4] -> nodes -> y; initializers by name. */
function graph(nodes: Spec[], inits: Record<string, TensorData> = {}, opset = 17): Graph {
  return {
    name: 'g', opset,
    nodes: nodes.map(([opType, inputs, out, attrs], i) => ({ name: `n${i}_${opType}`, opType, inputs, outputs: [out], attrs: attrs ?? {} })),
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 4, 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 3, 4, 4] }],
    initializers: new Map(Object.entries(inits)),
  };
}

/** Largest difference between batch 3 and the three items run alone, relative to the peak. */
async function batchedVsAlone(g: Graph): Promise<number> {
  const free: Graph = { ...g, inputs: [{ ...g.inputs[0]!, shape: ['N', 3, 4, 4] }], outputs: [{ ...g.outputs[0]!, shape: ['N', 3, 4, 4] }] };
  const items = [1, 2, 3].map((s) => seeded([1, 3, 4, 4], s));
  const stacked: TensorData = { dtype: 'float32', dims: [3, 3, 4, 4], data: Float32Array.from(items.flatMap((t) => Array.from(t.data as Float32Array))) };
  const batched = (await runOnnx(free, { x: stacked })).y!.data;
  const alone = (await Promise.all(items.map((t) => runOnnx(free, { x: t })))).flatMap((r) => Array.from(r.y!.data));
  let peak = 0;
  let diff = 0;
  alone.forEach((v, i) => {
    peak = Math.max(peak, Math.abs(v));
    diff = Math.max(diff, Math.abs(v - batched[i]!));
  });
  return diff / peak;
}

const W = seeded([3, 6], 7);
const cases: { name: string; g: Graph; independent: boolean; reason?: RegExp; sameAnyway?: boolean }[] = [
  {
    name: 'Conv, Relu, DepthToSpace (a CNN)',
    g: graph([['Conv', ['x', 'w'], 'c', { pads: [1, 1, 1, 1] }], ['Relu', ['c'], 'r'], ['DepthToSpace', ['r'], 'y', { blocksize: 2, mode: 'CRD' }]], { w: seeded([12, 3, 3, 3], 3) }),
    independent: true,
  },
  {
    name: 'attention: dynamic Reshape, qkv Transpose with the batch behind axis 0, Gather, MatMul, Softmax',
    g: graph([
      ['Reshape', ['x', 's1'], 't', {}], // [N, 3, 16]
      ['Transpose', ['t'], 'tt', { perm: [0, 2, 1] }], // [N, 16, 3]
      ['MatMul', ['tt', 'w'], 'qk'], // [N, 16, 6]
      ['Reshape', ['qk', 's2'], 'qk2'], // [N, 16, 2, 3]
      ['Transpose', ['qk2'], 'qkT', { perm: [2, 0, 1, 3] }], // [2, N, 16, 3]: items interleave
      ['Gather', ['qkT', 'i0'], 'q', { axis: 0 }],
      ['Gather', ['qkT', 'i1'], 'k', { axis: 0 }],
      ['Transpose', ['k'], 'kT', { perm: [0, 2, 1] }],
      ['MatMul', ['q', 'kT'], 'att'],
      ['Softmax', ['att'], 'p', { axis: -1 }],
      ['MatMul', ['p', 'q'], 'o'], // [N, 16, 3]
      ['Transpose', ['o'], 'oT', { perm: [0, 2, 1] }],
      ['Reshape', ['oT', 's3'], 'y'],
    ], { s1: ints([0, 3, 16]), s2: ints([0, 16, 2, 3]), s3: ints([-1, 3, 4, 4]), w: W, i0: { dtype: 'int64', dims: [], data: BigInt64Array.of(0n) }, i1: { dtype: 'int64', dims: [], data: BigInt64Array.of(1n) } }),
    independent: true,
  },
  {
    name: 'a window partition with the batch baked as 1 (SwinIR\'s window_reverse), then a Transpose',
    g: graph([
      ['Reshape', ['x', 's1'], 't'], // [1, 3, 4, 4N]
      ['Transpose', ['t'], 'tt', { perm: [0, 1, 3, 2] }],
      ['Reshape', ['tt', 's2'], 'y'],
    ], { s1: ints([1, 3, 4, -1]), s2: ints([-1, 3, 4, 4]) }),
    independent: false,
    reason: /Reshape node 'n0_Reshape' reshapes to \[1,3,4,12\] at batch 3: the batch lands in axis 3/,
  },
  {
    // Conservative: the round trip through [1, 3, 4, 4N] restores memory order exactly.
    name: 'the same Reshape undone at once (refused, although nothing mixes)',
    g: graph([['Reshape', ['x', 's1'], 't'], ['Reshape', ['t', 's2'], 'y']], { s1: ints([1, 3, 4, -1]), s2: ints([-1, 3, 4, 4]) }),
    independent: false,
    reason: /the batch lands in axis 3/,
    sameAnyway: true,
  },
  {
    name: 'Softmax over the batch axis',
    g: graph([['Softmax', ['x'], 'y', { axis: 0 }]]),
    independent: false,
    reason: /Softmax node 'n0_Softmax' works along axis 0, which holds the batch/,
  },
  {
    name: 'a mean over the batch, added back',
    g: graph([['ReduceMean', ['x'], 'm', { axes: [0], keepdims: 1 }], ['Add', ['x', 'm'], 'y']], {}, 13),
    independent: false,
    reason: /ReduceMean node 'n0_ReduceMean': its output is \[1,3,4,4\] at batch 1 and \[1,3,4,4\] at batch 3: the batch is folded into other entries/,
  },
  {
    name: 'a MatMul contracting two items\' batch axes',
    g: graph([
      ['Reshape', ['x', 's1'], 't'], // [N, 48]
      ['Transpose', ['t'], 'tT', { perm: [1, 0] }], // [48, N]
      ['MatMul', ['tT', 't'], 'g'], // [48, 48]: a Gram matrix over the batch
      ['MatMul', ['t', 'g'], 'u'],
      ['Reshape', ['u', 's2'], 'y'],
    ], { s1: ints([0, 48]), s2: ints([-1, 3, 4, 4]) }),
    independent: false,
    reason: /MatMul node 'n2_MatMul'.*(folded|contracts)/,
  },
  {
    name: 'a Slice that reverses the batch',
    g: graph([['Slice', ['x', 'st', 'en', 'ax', 'sp'], 'y']], { st: ints([-1]), en: ints([-1000]), ax: ints([0]), sp: ints([-1]) }),
    independent: false,
    reason: /Slice node 'n0_Slice' works along axis 0/,
  },
  {
    name: 'a Transpose that moves the batch inward and a Reshape that flattens it',
    g: graph([
      ['Transpose', ['x'], 't', { perm: [1, 0, 2, 3] }], // [3, N, 4, 4]
      ['Reshape', ['t', 's1'], 'f'], // [3, 16N]
      ['Softmax', ['f'], 'p', { axis: -1 }],
      ['Reshape', ['p', 's2'], 'q'],
      ['Transpose', ['q'], 'y', { perm: [1, 0, 2, 3] }],
    ], { s1: ints([3, -1]), s2: ints([3, -1, 4, 4]) }),
    independent: false,
    reason: /Reshape node 'n1_Reshape' reads entries in memory order while the items interleave \(\[3,3,4,4\], batch on axis 1\)/,
  },
  {
    name: 'an operator the proof does not know (TopK)',
    g: graph([['TopK', ['x', 'k'], 'y', { axis: 1 }]], { k: ints([3]) }),
    independent: false,
    reason: /unsupported operator TopK \(node 'n0_TopK'\)/,
  },
];

describe('batch-axis proof against ONNX Runtime', () => {
  for (const c of cases) {
    it(c.name, async () => {
      let v;
      try {
        v = batchAxisVerdict(c.g, 'x', [3, 4, 4], 3);
      } catch (e) {
        // shape inference does not know every operator the proof refuses (TopK): refused all the same
        expect(c.independent).toBe(false);
        expect((e as Error).message).toMatch(c.reason!);
        return;
      }
      expect(v.independent, v.reason).toBe(c.independent);
      if (c.reason) expect(v.reason).toMatch(c.reason);
      const diff = await batchedVsAlone(c.g);
      // float32 noise where the proof holds; where it does not, batching really changes the result
      if (c.independent || c.sameAnyway) expect(diff).toBeLessThanOrEqual(1e-6);
      else expect(diff).toBeGreaterThan(1e-3);
    });
  }
  it('batch 1 needs no proof', () => {
    expect(batchAxisVerdict(cases[4]!.g, 'x', [3, 4, 4], 1)).toEqual({ independent: true });
  });
});

describe('batch-axis proof on the networks of the suite', () => {
  it('reference CNNs and every zoo model keep path points apart', async () => {
    for (const m of ['fsrcnn_chelsea', 'carn_coffee']) {
      const g = decodeModel(readFileSync(fixture('lam', m, 'model.onnx')));
      expect(batchAxisVerdict(g, 'lr', [3, 64, 64], 4), m).toEqual({ independent: true });
    }
    for (const z of ZOO) {
      const m = await resolveZooModel(z.id);
      expect(batchAxisVerdict(m.graph, m.info.inputName, [3, 20, 20], 3), z.id).toEqual({ independent: true });
    }
  });

  it("SwinIR's export mixes them: window_reverse's Reshape holds a batch of 1", () => {
    const g = decodeModel(readFileSync(fixture('lam', 'swinir_coffee', 'model.onnx')));
    const v = batchAxisVerdict(g, 'lr', [3, 64, 64], 3);
    expect(v.independent).toBe(false);
    expect(v.reason).toBe(
      "Reshape node '/layers.0/residual_group/blocks.0/Reshape_5' reshapes to [1,8,8,8,8,180] at batch 3: the batch lands in axis 5, " +
        'behind axes that are not 1, so items interleave (as when the target shape holds a batch of 1 as a constant)',
    );
  });
});
