// The float64 evaluator's own pieces that the operator table does not pin down exactly.
// (Every operator's forward is also compared with ONNX Runtime in ops.test.ts.)

import { describe, expect, it } from 'vitest';
import { erf, evaluate } from '../../../src/runtime/reference/index.js';

describe('reference evaluator', () => {
  it('erf to float64 accuracy (values from the Abramowitz-Stegun tables / mpmath)', () => {
    const known: [number, number][] = [
      [0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [2, 0.9953222650189527], [2.5, 0.9995930479825550], [3, 0.9999779095030014], [-2.7, -0.9998656672600594],
    ];
    for (const [x, v] of known) expect(Math.abs(erf(x) - v)).toBeLessThan(1e-15);
  });

  it('names the operator and node it cannot evaluate, and missing feeds', () => {
    const graph = {
      name: 'g', opset: 13,
      nodes: [{ name: 'odd', opType: 'HardSwish', inputs: ['x'], outputs: ['y'], attrs: {} }],
      inputs: [{ name: 'x', dtype: 'float32' as const, shape: [1] }],
      outputs: [{ name: 'y', dtype: 'float32' as const, shape: [1] }],
      initializers: new Map(),
    };
    expect(() => evaluate(graph, { x: { dtype: 'float32', dims: [1], data: Float32Array.of(1) } })).toThrow(/HardSwish.*'odd'|'odd'.*HardSwish/);
    expect(() => evaluate(graph, {})).toThrow(/no value fed for input 'x'/);
  });
});
