// Constant folding against ONNX Runtime: each case runs one node both ways on the same values.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../../src/runtime/onnx/codec.js';
import { foldNode } from '../../../src/runtime/onnx/fold.js';
import type { AttrValue, Graph, TensorData } from '../../../src/runtime/graph/ir.js';

const i64 = (dims: number[], v: (number | bigint)[]): TensorData => ({ dtype: 'int64', dims, data: BigInt64Array.from(v.map(BigInt)) });
const f32 = (dims: number[], v: number[]): TensorData => ({ dtype: 'float32', dims, data: Float32Array.from(v) });
const bool = (dims: number[], v: number[]): TensorData => ({ dtype: 'bool', dims, data: Uint8Array.from(v) });
const range = (n: number, f = (i: number) => i) => Array.from({ length: n }, (_, i) => f(i));

interface Case {
  op: string;
  inputs: (TensorData | undefined)[];
  attrs?: Record<string, AttrValue>;
  opset?: number;
  label?: string;
}

const INT64_MAX = 9223372036854775807n;
const CASES: Case[] = [
  { op: 'Gather', inputs: [i64([4], [5, 6, 7, 8]), i64([], [-1])] },
  { op: 'Gather', inputs: [f32([2, 3, 2], range(12)), i64([2, 2], [2, 0, -1, 1])], attrs: { axis: 1 } },
  { op: 'Slice', inputs: [i64([6], range(6)), i64([1], [-2]), i64([1], [-7]), i64([1], [0]), i64([1], [-2])], label: 'negative step' },
  { op: 'Slice', inputs: [f32([3, 4], range(12)), i64([2], [1, 1]), i64([2], [INT64_MAX, 3]), i64([2], [0, 1]), undefined] },
  { op: 'Concat', inputs: [i64([1], [1]), i64([2], [3, 4]), i64([0], [])], attrs: { axis: 0 } },
  { op: 'Concat', inputs: [f32([2, 1], [1, 2]), f32([2, 2], [3, 4, 5, 6])], attrs: { axis: -1 } },
  { op: 'Unsqueeze', inputs: [i64([], [7]), i64([1], [0])] },
  { op: 'Unsqueeze', inputs: [f32([2, 3], range(6)), i64([2], [0, -1])] },
  { op: 'Squeeze', inputs: [f32([1, 3, 1], range(3)), i64([1], [2])] },
  { op: 'Squeeze', inputs: [f32([1, 3, 1], range(3)), undefined] },
  { op: 'Reshape', inputs: [f32([2, 3, 4], range(24)), i64([3], [0, -1, 2])] },
  { op: 'Flatten', inputs: [f32([2, 3, 4], range(24))], attrs: { axis: 2 } },
  { op: 'Cast', inputs: [f32([4], [-2.7, -0.5, 0.5, 2.7])], attrs: { to: 7 }, label: 'float to int64 truncates' },
  { op: 'Cast', inputs: [i64([2], [3, -4])], attrs: { to: 1 } },
  { op: 'ConstantOfShape', inputs: [i64([2], [2, 3])], attrs: { value: i64([1], [-1]) } },
  { op: 'ConstantOfShape', inputs: [i64([1], [3])] },
  { op: 'Range', inputs: [i64([], [10]), i64([], [1]), i64([], [-3])] },
  { op: 'Range', inputs: [f32([], [0]), f32([], [1]), f32([], [0.25])] },
  { op: 'Expand', inputs: [f32([3, 1], [1, 2, 3]), i64([3], [2, 1, 4])] },
  { op: 'Add', inputs: [i64([2, 1], [1, 2]), i64([3], [10, 20, 30])] },
  { op: 'Sub', inputs: [f32([2], [1, 2]), f32([], [0.5])] },
  { op: 'Mul', inputs: [i64([3], [1, -2, 3]), i64([], [4])] },
  { op: 'Div', inputs: [i64([4], [7, -7, 7, -7]), i64([4], [2, 2, -2, -2])], label: 'int division truncates' },
  { op: 'Div', inputs: [f32([2], [1, 3]), f32([2], [4, 2])] },
  { op: 'Mod', inputs: [i64([4], [7, -7, 7, -7]), i64([4], [3, 3, -3, -3])] },
  { op: 'Pow', inputs: [f32([3], [2, 3, 0.5]), f32([], [2])] },
  { op: 'Floor', inputs: [f32([3], [-1.5, 0.2, 2.7])] },
  { op: 'Ceil', inputs: [f32([3], [-1.5, 0.2, 2.7])] },
  { op: 'Round', inputs: [f32([6], [-2.5, -1.5, 0.5, 1.5, 2.5, 2.6])] },
  { op: 'Sqrt', inputs: [f32([2], [4, 2])] },
  { op: 'Neg', inputs: [i64([2], [3, -1])] },
  { op: 'Abs', inputs: [i64([2], [3, -1])] },
  { op: 'Min', inputs: [i64([3], [1, 5, 3]), i64([3], [4, 2, 3])] },
  { op: 'Max', inputs: [f32([3], [1, 5, 3]), f32([], [2])] },
  { op: 'Equal', inputs: [i64([3], [1, -1, 3]), i64([], [-1])] },
  { op: 'Less', inputs: [i64([3], [1, -1, 3]), i64([], [1])] },
  { op: 'Greater', inputs: [f32([3], [1, -1, 3]), f32([], [1])] },
  { op: 'Not', inputs: [bool([3], [1, 0, 1])] },
  { op: 'And', inputs: [bool([3], [1, 0, 1]), bool([3], [1, 1, 0])] },
  { op: 'Or', inputs: [bool([3], [1, 0, 0]), bool([3], [0, 0, 1])] },
  { op: 'Where', inputs: [bool([3], [1, 0, 1]), i64([3], [1, 2, 3]), i64([], [-9])] },
  { op: 'Transpose', inputs: [f32([2, 3, 4], range(24))], attrs: { perm: [2, 0, 1] } },
  { op: 'Transpose', inputs: [f32([2, 3], range(6))] },
  { op: 'ReduceProd', inputs: [i64([2, 3], [1, 2, 3, 4, 5, 6])], attrs: { axes: [1], keepdims: 0 } },
  { op: 'ReduceSum', inputs: [f32([2, 3], range(6)), i64([1], [0])], attrs: { keepdims: 1 } },
  { op: 'ReduceMax', inputs: [f32([2, 3], [1, 9, 3, 4, 5, 6])], attrs: { keepdims: 0 } },
  { op: 'ReduceMin', inputs: [f32([2, 3], [1, 9, 3, 4, 5, 6])], attrs: { axes: [-1] } },
  { op: 'ReduceMean', inputs: [f32([2, 3], range(6))], attrs: { axes: [1] } },
  { op: 'Identity', inputs: [i64([2], [1, 2])] },
];

/** The node alone in a graph whose inputs are graph inputs, run by ONNX Runtime. */
async function ortRun(c: Case, outType: TensorData['dtype']): Promise<{ dims: number[]; data: number[] }> {
  const names = c.inputs.map((t, i) => (t ? `in${i}` : ''));
  while (names.at(-1) === '') names.pop(); // a trailing '' reads as a null input in ORT
  const g: Graph = {
    name: 'one',
    opset: c.opset ?? 13,
    nodes: [{ name: 'n', opType: c.op, inputs: names, outputs: ['y'], attrs: c.attrs ?? {} }],
    inputs: c.inputs.flatMap((t, i) => (t ? [{ name: `in${i}`, dtype: t.dtype, shape: t.dims }] : [])),
    // The folded type: ONNX Runtime rejects the model if it is not the operator's.
    outputs: [{ name: 'y', dtype: outType, shape: ['?'] }],
    initializers: new Map(),
  };
  const session = await ort.InferenceSession.create(encodeModel(g), { executionProviders: ['cpu'] });
  const feeds: Record<string, ort.Tensor> = {};
  c.inputs.forEach((t, i) => {
    if (t) feeds[`in${i}`] = new ort.Tensor(t.dtype, t.data as Float32Array, t.dims);
  });
  const res = (await session.run(feeds)).y;
  await session.release();
  return { dims: [...res.dims], data: Array.from(res.data as ArrayLike<number | bigint>, Number) };
}

describe('constant folding matches ONNX Runtime', () => {
  for (const c of CASES) {
    it(`${c.op}${c.label ? ` (${c.label})` : ''} [${c.inputs.map((t) => (t ? `${t.dtype}[${t.dims}]` : '-')).join(', ')}]`, async () => {
      const folded = foldNode({ name: 'n', opType: c.op, inputs: c.inputs.map((t, i) => (t ? `in${i}` : '')), outputs: ['y'], attrs: c.attrs ?? {} }, c.inputs, c.opset ?? 13)[0];
      const want = await ortRun(c, folded.dtype);
      expect(folded.dims).toEqual(want.dims);
      const got = Array.from(folded.data as ArrayLike<number | bigint>, Number);
      // Exact for integers and booleans; float32 rounding of one operation otherwise.
      want.data.forEach((w, i) => expect(Math.abs(got[i] - w), `element ${i}`).toBeLessThanOrEqual(Math.abs(w) * 1e-6));
    });
  }
});
