// Shape inference against ONNX Runtime, one operator per case: the data input is a graph
// input, the operator's shape-like inputs are initializers, and every output's inferred shape
// must equal the shape ONNX Runtime produces.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../../src/runtime/onnx/codec.js';
import { specialise } from '../../../src/runtime/onnx/specialise.js';
import type { AttrValue, Graph, TensorData } from '../../../src/runtime/graph/ir.js';

const i64 = (...v: number[]): TensorData => ({ dtype: 'int64', dims: [v.length], data: BigInt64Array.from(v.map(BigInt)) });
const f32c = (...v: number[]): TensorData => ({ dtype: 'float32', dims: [v.length], data: Float32Array.from(v) });
const scalar = (v: number): TensorData => ({ dtype: 'float32', dims: [], data: Float32Array.of(v) });
const w = (...dims: number[]): TensorData => ({ dtype: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.1) });

interface Case {
  op: string;
  /** Data inputs (graph inputs, random float32) by shape, then constant inputs; '' skips one. */
  x: number[][];
  consts?: (TensorData | '')[];
  attrs?: Record<string, AttrValue>;
  outputs?: number;
  opset?: number;
  label?: string;
}

const CASES: Case[] = [
  { op: 'Conv', x: [[1, 4, 9, 11]], consts: [w(6, 2, 3, 3)], attrs: { group: 2, strides: [2, 3], dilations: [2, 1], pads: [1, 0, 2, 1] } },
  { op: 'Conv', x: [[2, 3, 10, 7]], consts: [w(5, 3, 4, 3)], attrs: { auto_pad: 'SAME_UPPER', strides: [3, 2] }, label: 'SAME_UPPER' },
  { op: 'Conv', x: [[1, 3, 10, 7]], consts: [w(5, 3, 3, 3)], attrs: { auto_pad: 'VALID' }, label: 'VALID' },
  { op: 'ConvTranspose', x: [[1, 4, 5, 6]], consts: [w(4, 3, 3, 5)], attrs: { strides: [2, 3], pads: [1, 1, 0, 2], output_padding: [1, 2] } },
  { op: 'ConvTranspose', x: [[1, 4, 5, 6]], consts: [w(4, 1, 4, 4)], attrs: { strides: [2, 2], group: 4, dilations: [2, 1], pads: [1, 1, 1, 1] } },
  { op: 'MaxPool', x: [[1, 2, 9, 10]], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }, label: 'ceil' },
  { op: 'MaxPool', x: [[1, 2, 8, 8]], attrs: { kernel_shape: [2, 2], strides: [2, 2], dilations: [2, 2] } },
  { op: 'AveragePool', x: [[1, 2, 10, 9]], attrs: { kernel_shape: [3, 2], strides: [3, 2], ceil_mode: 1 }, label: 'ceil' },
  { op: 'GlobalMaxPool', x: [[2, 3, 5, 4]] },
  { op: 'Resize', x: [[1, 3, 5, 7]], consts: ['', f32c(1, 1, 2.5, 0.5)], attrs: { mode: 'linear' }, label: 'scales' },
  { op: 'Resize', x: [[1, 3, 5, 7]], consts: ['', '', i64(11, 3)], attrs: { mode: 'cubic', axes: [2, 3] }, opset: 18, label: 'sizes, axes' },
  { op: 'Resize', x: [[1, 3, 5, 7]], consts: ['', '', i64(1, 3, 10, 10)], attrs: { keep_aspect_ratio_policy: 'not_larger' }, opset: 18, label: 'not_larger' },
  { op: 'DepthToSpace', x: [[1, 12, 3, 4]], attrs: { blocksize: 2, mode: 'DCR' } },
  { op: 'SpaceToDepth', x: [[1, 3, 4, 6]], attrs: { blocksize: 2 } },
  { op: 'Pad', x: [[1, 3, 4, 5]], consts: [i64(0, 0, 1, 2, 0, 0, 3, 0)], attrs: { mode: 'edge' } },
  { op: 'Pad', x: [[1, 3, 4, 5]], consts: [i64(1, 2, 3, 4), '', i64(2, -1)], opset: 18, label: 'axes' },
  { op: 'Split', x: [[2, 10, 4]], attrs: { axis: 1, num_outputs: 4 }, outputs: 4, opset: 18, label: 'num_outputs, uneven' },
  { op: 'Split', x: [[2, 9, 4]], consts: [i64(2, 7)], attrs: { axis: 1 }, outputs: 2 },
  { op: 'Split', x: [[2, 6, 4]], attrs: { axis: -1 }, outputs: 2, label: 'equal' },
  { op: 'Gemm', x: [[5, 3]], consts: [w(5, 4), w(4)], attrs: { transA: 1 } },
  { op: 'MatMul', x: [[2, 1, 3, 4], [5, 4, 6]] },
  { op: 'MatMul', x: [[4], [3, 4, 2]], label: '1-D left' },
  { op: 'MatMul', x: [[3, 4], [4]], label: '1-D right' },
  { op: 'Tile', x: [[2, 3]], consts: [i64(2, 3)] },
  { op: 'Gather', x: [[3, 4, 5]], consts: [i64(0, 2)], attrs: { axis: 2 } },
  { op: 'LayerNormalization', x: [[2, 3, 4]], consts: [w(4), w(4)], attrs: { axis: -1 }, opset: 17 },
  { op: 'InstanceNormalization', x: [[2, 3, 4, 4]], consts: [w(3), w(3)] },
  { op: 'BatchNormalization', x: [[2, 3, 4, 4]], consts: [w(3), w(3), w(3), w(3)] },
  { op: 'Softmax', x: [[2, 3, 4]], attrs: { axis: 1 } },
  { op: 'ArgMax', x: [[2, 3, 4]], attrs: { axis: 1, keepdims: 0 } },
  { op: 'ReduceL2', x: [[2, 3, 4]], consts: [i64(0, 2)], attrs: { keepdims: 0 }, opset: 18 },
  { op: 'ReduceMean', x: [[2, 3, 4]], attrs: { keepdims: 1 }, label: 'all axes' },
  { op: 'ReduceSum', x: [[2, 3, 4]], consts: [i64()], attrs: { noop_with_empty_axes: 1 }, label: 'noop' },
  { op: 'Flatten', x: [[2, 3, 4]], attrs: { axis: 0 } },
  { op: 'Where', x: [[3, 1], [1, 4]], label: 'broadcast' },
  { op: 'PRelu', x: [[2, 3, 4, 4]], consts: [w(3, 1, 1)] },
  { op: 'Clip', x: [[2, 3]], consts: [scalar(0), scalar(1)] },
  { op: 'Dropout', x: [[2, 3]], outputs: 2 },
  { op: 'Transpose', x: [[2, 3, 4, 5]], attrs: { perm: [0, 2, 3, 1] } },
  { op: 'Concat', x: [[2, 3, 4], [2, 5, 4]], attrs: { axis: -2 } },
  { op: 'Slice', x: [[5, 6, 7]], consts: [i64(-1, 1), i64(-100, 5), i64(0, 2), i64(-2, 2)] },
  { op: 'Add', x: [[2, 1, 4], [3, 1]] },
  { op: 'Expand', x: [[3, 1]], consts: [i64(2, 1, 5)] },
  { op: 'Unsqueeze', x: [[3, 4]], consts: [i64(-1, 1)] },
  { op: 'Reshape', x: [[2, 3, 4]], consts: [i64(0, -1)], label: '0 and -1' },
  { op: 'Cast', x: [[2, 3]], attrs: { to: 7 } },
  { op: 'ConstantOfShape', x: [], consts: [i64(2, 3)] },
  { op: 'ConvTranspose', x: [[1, 2, 5, 5]], consts: [w(2, 3, 3, 3)], attrs: { strides: [2, 2], output_shape: [10, 10] }, label: 'output_shape' },
  { op: 'MaxPool', x: [[1, 2, 9, 10]], attrs: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }, label: 'SAME_UPPER' },
  // Parameters that older opsets give as attributes rather than inputs.
  { op: 'ReduceSum', x: [[2, 3, 4]], attrs: { axes: [0, -1], keepdims: 0 }, opset: 11, label: 'axes attribute' },
  { op: 'Squeeze', x: [[2, 1, 4, 1]], attrs: { axes: [1] }, opset: 11, label: 'axes attribute' },
  { op: 'Slice', x: [[5, 6, 7]], attrs: { starts: [1, -3], ends: [4, 100], axes: [0, 2] }, opset: 9, label: 'attributes' },
  { op: 'Pad', x: [[1, 3, 4, 5]], attrs: { pads: [0, 0, 1, 2, 0, 0, 0, 3], mode: 'constant' }, opset: 10, label: 'pads attribute' },
  { op: 'Split', x: [[2, 9, 4]], attrs: { axis: 1, split: [4, 5] }, outputs: 2, opset: 11, label: 'split attribute' },
];

async function check(c: Case): Promise<void> {
  const opset = c.opset ?? 13;
  const dataNames = c.x.map((_, i) => `x${i}`);
  const initializers = new Map<string, TensorData>();
  const constNames = (c.consts ?? []).map((t, i) => {
    if (t === '') return '';
    initializers.set(`c${i}`, t);
    return `c${i}`;
  });
  const outputs = Array.from({ length: c.outputs ?? 1 }, (_, i) => `y${i}`);
  let nodes: Graph['nodes'] = [{ name: 'n', opType: c.op, inputs: [...dataNames, ...constNames], outputs, attrs: c.attrs ?? {} }];
  if (c.op === 'Where') {
    // Where needs a bool condition: derive it from the first data input.
    initializers.set('zero', { dtype: 'float32', dims: [], data: Float32Array.of(0.5) });
    nodes = [
      { name: 'cond', opType: 'Greater', inputs: ['x0', 'zero'], outputs: ['cond'], attrs: {} },
      { name: 'n', opType: 'Where', inputs: ['cond', 'x0', 'x1'], outputs, attrs: {} },
    ];
  }
  const g: Graph = {
    name: c.op,
    opset,
    nodes,
    inputs: c.x.map((dims, i) => ({ name: dataNames[i], dtype: 'float32', shape: dims })),
    outputs: outputs.map((name) => ({ name, dtype: 'float32', shape: ['?'] })),
    initializers,
  };
  const s = specialise(g, {});
  // The inferred element types go into the model: ONNX Runtime rejects wrong ones.
  const session = await ort.InferenceSession.create(encodeModel({ ...g, outputs: s.outputs }), { executionProviders: ['cpu'] });
  const feeds: Record<string, ort.Tensor> = {};
  c.x.forEach((dims, i) => {
    const n = dims.reduce((a, b) => a * b, 1);
    feeds[dataNames[i]] = new ort.Tensor('float32', Float32Array.from({ length: n }, (_, k) => Math.sin(k + i)), dims);
  });
  const res = await session.run(feeds);
  await session.release();
  for (const o of s.outputs) expect(o.shape, o.name).toEqual([...res[o.name].dims]);
}

describe('shape inference matches ONNX Runtime', () => {
  for (const c of CASES) {
    it(`${c.op}${c.label ? ` (${c.label})` : ''}${c.opset ? `, opset ${c.opset}` : ''}`, () => check(c));
  }
});
