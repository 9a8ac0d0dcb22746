// Small graphs in the shape of PyTorch exports (dynamic N/H/W, shape arithmetic through
// Shape/Gather/Unsqueeze/Concat, Constant and Identity nodes), built with the IR directly.
import type { Graph, GraphNode, TensorData } from '../../../src/runtime/graph/ir.js';
import { randTensor, rng, type Rng } from '../../helpers/tensors.js';

const f32 = (dims: number[], r: Rng, scale = 0.3): TensorData => randTensor(dims, r, -scale, scale);
const i64 = (values: (number | bigint)[], dims = [values.length]): TensorData => ({
  dtype: 'int64',
  dims,
  data: BigInt64Array.from(values.map((v) => BigInt(v))),
});

/** A tangled network touching every shape rule lvi cares about; input x: [N,3,H,W], H,W multiples of 4. */
export function tangledNet(opset = 13): Graph {
  const rnd = rng(7);
  const nodes: GraphNode[] = [];
  const init = new Map<string, TensorData>();
  let k = 0;
  const node = (opType: string, inputs: string[], attrs: GraphNode['attrs'] = {}, nOut = 1): string[] => {
    const name = `/${opType}_${k++}`;
    const outputs = Array.from({ length: nOut }, (_, i) => `${name}_output_${i}`);
    nodes.push({ name, opType, inputs, outputs, attrs });
    return outputs;
  };
  const constant = (t: TensorData) => node('Constant', [], { value: t })[0];
  const w = (name: string, t: TensorData) => (init.set(name, t), name);
  const unsq = (x: string) => (opset >= 13 ? node('Unsqueeze', [x, constant(i64([0]))]) : node('Unsqueeze', [x], { axes: [0] }))[0];

  const [c1] = node('Conv', ['x', w('conv1.weight', f32([8, 3, 3, 3], rnd)), w('conv1.bias', f32([8], rnd))], {
    kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group: 1,
  });
  const [r1] = node('Relu', [c1]);
  const [id] = node('Identity', [r1]);
  // Resize to twice the size via sizes computed from Shape, as F.interpolate(size=...) exports.
  const [shape] = node('Shape', [id]);
  const dims = [0, 1, 2, 3].map((i) => node('Gather', [shape, constant(i64([i], []))], { axis: 0 })[0]);
  const h2 = node('Mul', [dims[2], constant(i64([2], []))])[0];
  const w2 = node('Mul', [dims[3], constant(i64([2], []))])[0];
  const [sizes] = node('Concat', [unsq(dims[0]), unsq(dims[1]), unsq(h2), unsq(w2)], { axis: 0 });
  // Opset 11 requires roi and scales: PyTorch passes empty constants there.
  const empty = () => (opset >= 13 ? '' : constant({ dtype: 'float32', dims: [0], data: new Float32Array(0) }));
  const [up] = node('Resize', [id, empty(), empty(), sizes], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  // x.view(n, c, -1) then x.view(shape of up)
  const [flatShape] = node('Concat', [unsq(dims[0]), unsq(dims[1]), constant(i64([-1]))], { axis: 0 });
  const [flat] = node('Reshape', [up, flatShape]);
  const [back] = node('Reshape', [flat, node('Shape', [up])[0]]);
  // Cast/Div/Floor on shape values: h // 2 through float, then Slice [.., :h, 1:]
  const hf = node('Cast', [h2], { to: 1 })[0];
  const half = node('Cast', [node('Floor', [node('Div', [hf, constant({ dtype: 'float32', dims: [], data: new Float32Array([2]) })])[0]])[0]], { to: 7 })[0];
  const [sl] = node('Slice', [back, unsq(half), constant(i64([9223372036854775807n])), constant(i64([2]))]);
  const [padded] = node('Pad', [sl, constant(i64([0, 0, 0, 1, 0, 0, 0, 1]))], { mode: 'reflect' });
  const [c2] = node('Conv', [padded, w('conv2.weight', f32([8, 4, 3, 3], rnd)), w('conv2.bias', f32([8], rnd))], {
    kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], group: 2,
  });
  const [lr] = node('LeakyRelu', [c2], { alpha: 0.2 });
  const [p1] = node('MaxPool', [lr], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 });
  const [p2] = node('AveragePool', [p1], { kernel_shape: [2, 2], strides: [1, 1], count_include_pad: 0 });
  const [ct] = node('ConvTranspose', [p2, w('deconv.weight', f32([8, 4, 4, 4], rnd)), w('deconv.bias', f32([8], rnd))], {
    kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1], group: 2, output_padding: [1, 0],
  });
  const [a, b] = opset >= 13
    ? node('Split', [ct, constant(i64([3, 5]))], { axis: 1 }, 2)
    : node('Split', [ct], { axis: 1, split: [3, 5] }, 2);
  const [cat] = node('Concat', [b, a], { axis: 1 });
  const [d2s] = node('DepthToSpace', [cat], { blocksize: 2, mode: 'CRD' });
  const [s2d] = node('SpaceToDepth', [d2s], { blocksize: 2 });
  const [gap] = node('GlobalAveragePool', [s2d]);
  const [sig] = node('Sigmoid', [gap]);
  const [att] = node('Mul', [s2d, sig]);
  // ConstantOfShape + Expand: a per-channel bias broadcast to the feature's shape.
  const [ones] = node('ConstantOfShape', [node('Shape', [att])[0]], { value: { dtype: 'float32', dims: [1], data: new Float32Array([0.5]) } });
  const [sum] = node('Add', [att, ones]);
  const [tr] = node('Transpose', [sum], { perm: [0, 2, 3, 1] });
  const [mm] = node('MatMul', [tr, w('proj.weight', f32([8, 5], rnd))]);
  // Opset 18 moved ReduceMean's axes from an attribute to an input.
  const [red] = opset >= 18
    ? node('ReduceMean', [mm, constant(i64([1, 2]))], { keepdims: 0 })
    : node('ReduceMean', [mm], { axes: [1, 2], keepdims: 0 });
  const [fl] = node('Flatten', [red], { axis: 1 });
  const [gemm] = node('Gemm', [fl, w('fc.weight', f32([6, 5], rnd)), w('fc.bias', f32([6], rnd))], { transB: 1, alpha: 1, beta: 1 });
  nodes.push({ name: 'out', opType: 'Identity', inputs: [gemm], outputs: ['y'], attrs: {} });
  const [rs] = opset >= 13
    ? node('ReduceSum', [d2s, constant(i64([1]))], { keepdims: 1 })
    : node('ReduceSum', [d2s], { axes: [1], keepdims: 1 });
  const [sq] = opset >= 13 ? node('Squeeze', [rs, constant(i64([1]))]) : node('Squeeze', [rs], { axes: [1] });
  nodes.push({ name: 'out2', opType: 'Tanh', inputs: [sq], outputs: ['map'], attrs: {} });
  return {
    name: 'tangled',
    opset,
    nodes,
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3, 'H', 'W'] }],
    outputs: [
      { name: 'y', dtype: 'float32', shape: ['N', 6] },
      { name: 'map', dtype: 'float32', shape: ['N', 'H2', 'W2'] },
    ],
    initializers: init,
  };
}

export function randomInput(dims: number[], seed = 1): TensorData {
  return f32(dims, rng(seed), 1);
}
