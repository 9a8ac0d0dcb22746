// countFlops on gradient graphs, whose differentiated weights may be graph inputs (no initializer).

import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../../src/runtime/autodiff/index.js';
import type { Graph } from '../../../src/runtime/graph/ir.js';
import { countFlops } from '../../../src/runtime/models/flops.js';
import { specialise } from '../../../src/runtime/onnx/specialise.js';

function oneConv(): Graph {
  return {
    name: 'one-conv', opset: 13,
    nodes: [{ name: 'conv', opType: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } }],
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 16, 6, 5] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4, 6, 5] }],
    initializers: new Map([
      ['w', { dtype: 'float32', dims: [4, 16, 3, 3], data: new Float32Array(4 * 16 * 9).fill(0.1) }],
      ['b', { dtype: 'float32', dims: [4], data: new Float32Array(4) }],
    ]),
  };
}

describe('countFlops', () => {
  it('reads the shape of a weight that is a graph input from the input (ONNX value_info never lists inputs)', () => {
    const g = oneConv();
    const w = g.initializers.get('w')!;
    const graph: Graph = {
      ...g,
      inputs: [...g.inputs, { name: 'w', dtype: 'float32', shape: w.dims }],
      initializers: new Map([['b', g.initializers.get('b')!]]),
      valueInfo: new Map([['y', { name: 'y', dtype: 'float32', shape: [1, 4, 6, 5] }]]),
    };
    expect(countFlops(graph).matrix).toBe(2 * 120 * 144 + 120);
  });

  it('counts a gradient graph whose weight is a graph input like one whose weight is an initializer', () => {
    const request = { inputShape: [1, 16, 6, 5] as [number, number, number, number], objective: { kind: 'sse' as const }, wrtInput: false, wrtWeights: ['w'] };
    // specialise() as the engine bench runs it: value infos are re-inferred, graph inputs keep theirs.
    const asInput = specialise(buildGradientGraph(oneConv(), request).graph, {});
    expect(asInput.initializers.has('w')).toBe(false);
    const asConstant = specialise(buildGradientGraph(oneConv(), { ...request, weightsAs: 'constants' }).graph, {});
    // Forward Conv: 2 per multiply-add over 4x6x5 outputs of 16x3x3 taps, plus the bias.
    // Weight gradient (4 output channels <= 16/4: one Gemm [16, 30] x [9*4, 30]^T): 2 x 16 x 36 x 30.
    const expected = 2 * 120 * 144 + 120 + 2 * 16 * 36 * 30;
    expect(countFlops(asInput).matrix).toBe(expected);
    expect(countFlops(asConstant).matrix).toBe(expected);
  });
});
