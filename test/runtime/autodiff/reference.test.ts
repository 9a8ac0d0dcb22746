// The float64 evaluator's own pieces that the operator table does not pin down exactly.
// (Every operator's forward is also compared with ONNX Runtime in ops.test.ts.)

import { describe, expect, it } from 'vitest';
import type { AttrValue, Graph, TensorData } from '../../../src/runtime/graph/ir.js';
import { specialise } from '../../../src/runtime/onnx/specialise.js';
import { erf, evaluate } from '../../../src/runtime/reference/index.js';
import { runOnnx } from '../../helpers/ort.js';

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

describe('reference evaluator and constant folding on the index operators of transformer exports', () => {
  // A graph whose index arithmetic depends on the input x [2, 5] (int64), so nothing folds:
  // Range, integer Mod, ConstantOfShape, Equal, Not, Where, Expand, GatherND, ScatterND,
  // ScatterElements (with reduction add) and GatherElements, against ONNX Runtime.
  const i64 = (v: number[], dims = [v.length]): TensorData => ({ dtype: 'int64', dims, data: BigInt64Array.from(v.map(BigInt)) });
  const nodes: [string, string[], string, Record<string, AttrValue>?][] = [
    ['Reshape', ['x', 'flat'], 'xf'],
    ['Gather', ['xf', 'two'], 'top'], // x[0, 2] = 9
    ['Range', ['zero', 'top', 'one'], 'rng'],
    ['Mod', ['rng', 'three'], 'mod'],
    ['Shape', ['x'], 'shp'],
    ['ConstantOfShape', ['shp'], 'cos', { value: i64([2], [1]) }],
    ['Equal', ['x', 'cos'], 'eq'],
    ['Not', ['eq'], 'ne'],
    ['Where', ['ne', 'x', 'cos'], 'wh'],
    ['Expand', ['wh', 'shp3'], 'ex'],
    ['GatherND', ['ex', 'ndIdx'], 'gnd'],
    ['ScatterND', ['ex', 'ndIdx', 'gnd2'], 'snd'],
    ['Mul', ['gnd', 'two'], 'gnd2'],
    ['GatherElements', ['wh', 'elIdx'], 'upd', { axis: 1 }],
    ['ScatterElements', ['wh', 'elIdx', 'upd'], 'sel', { axis: 1, reduction: 'add' }],
    ['GatherElements', ['sel', 'elIdx'], 'gel', { axis: 1 }],
    // outputs through a Cast, so that folding has to compute the values above
    ['Cast', ['mod'], 'mod_out', { to: 7 }], ['Cast', ['snd'], 'snd_out', { to: 7 }], ['Cast', ['gel'], 'gel_out', { to: 7 }],
  ];
  // ScatterND reads gnd2, listed after it: order the nodes topologically.
  const order = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 11, 13, 14, 15, 16, 17, 18];
  const graph: Graph = {
    name: 'index-ops', opset: 17,
    nodes: order.map((k) => {
      const [opType, inputs, out, attrs] = nodes[k]!;
      return { name: `n${k}`, opType, inputs, outputs: [out], attrs: attrs ?? {} };
    }),
    inputs: [{ name: 'x', dtype: 'int64', shape: [2, 5] }],
    outputs: ['mod_out', 'snd_out', 'gel_out'].map((name) => ({ name, dtype: 'int64' as const, shape: [] })),
    initializers: new Map<string, TensorData>([
      ['zero', i64([0], [])], ['one', i64([1], [])], ['two', i64([2], [])], ['three', i64([3], [])], ['shp3', i64([3, 1, 1])],
      ['ndIdx', i64([0, 1, 2, 0, 1, 1], [3, 2])], ['flat', i64([-1])], ['elIdx', i64([0, 4, 4, -1, 2, 1, 1, 0], [2, 4])],
    ]),
  };
  const x = i64([7, 2, 9, 2, 4, 1, 0, 2, 8, 3], [2, 5]);

  it('evaluates them as ONNX Runtime does', async () => {
    const mine = evaluate(graph, { x });
    const ort = await runOnnx({ ...graph, outputs: graph.outputs.map((o) => ({ ...o, shape: o.name === 'mod_out' ? ['n'] : o.name === 'snd_out' ? [3, 2, 5] : [2, 4] })) }, { x });
    for (const o of ['mod_out', 'snd_out', 'gel_out']) {
      expect(Array.from(mine[o]!.data), o).toEqual(Array.from(ort[o]!.data as unknown as BigInt64Array, Number));
      expect(mine[o]!.dims, o).toEqual(ort[o]!.dims);
    }
    expect(Array.from(mine.mod_out!.data)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
  });

  it('folds them when the input is constant, to the same values', () => {
    const folded = specialise({ ...graph, inputs: [], initializers: new Map([...graph.initializers, ['x', x]]) }, {});
    expect(folded.nodes.map((n) => n.opType)).toEqual(['Cast', 'Cast', 'Cast']); // graph outputs stay nodes
    const direct = evaluate(graph, { x }, ['mod', 'snd', 'gel']);
    for (const o of ['mod', 'snd', 'gel']) expect(Array.from(folded.initializers.get(o)!.data, Number), o).toEqual(Array.from(direct[o]!.data));
  });
});
