// The operator cases of the gradient tests (ops.test.ts): tiny graphs x -> op(s) -> y, each
// checked against float64 finite differences, and the builder of their graphs.

import type { AttrValue, Graph, GraphNode, TensorData } from '../../../src/runtime/graph/ir.js';
import { inferShapes } from '../../../src/runtime/autodiff/shapes.js';
import { floats, ints, randTensor, rng } from './helpers.js';

/** An int64 tensor of any shape. */
export function intAt(values: number[], dims: number[]): TensorData {
  return { dtype: 'int64', dims, data: BigInt64Array.from(values.map(BigInt)) };
}

export type NodeSpec = [op: string, inputs: string[], attrs?: Record<string, AttrValue>, outputs?: string[]];

export interface Case {
  name: string;
  x: number[];
  nodes: NodeSpec[];
  /** Random float initializers by shape, or given tensors. */
  inits?: Record<string, number[] | TensorData>;
  wrt?: string[];
  opset?: number;
  /** Input value range (positive for Sqrt, Log, Pow). */
  range?: [number, number];
  /** Tolerance of the float64 check (default 1e-6). */
  tol?: number;
}

export const cases: Case[] = [
  // Conv: stride, padding (incl. auto_pad and asymmetric), dilation, groups, weight/bias gradients.
  { name: 'Conv 3x3 pad 1', x: [2, 3, 6, 5], nodes: [['Conv', ['x', 'w', 'b'], { pads: [1, 1, 1, 1] }]], inits: { w: [4, 3, 3, 3], b: [4] }, wrt: ['b'] },
  { name: 'Conv weights differentiated (graph-input weights)', x: [2, 3, 6, 5], nodes: [['Conv', ['x', 'w', 'b'], { pads: [1, 1, 1, 1] }]], inits: { w: [4, 3, 3, 3], b: [4] }, wrt: ['w', 'b'] },
  { name: 'Conv stride 2', x: [1, 2, 7, 8], nodes: [['Conv', ['x', 'w'], { strides: [2, 2], pads: [1, 1, 1, 1] }]], inits: { w: [3, 2, 3, 3] }, wrt: ['w'] },
  { name: 'Conv stride (2,3) asymmetric pads', x: [2, 2, 9, 10], nodes: [['Conv', ['x', 'w'], { strides: [2, 3], pads: [0, 2, 1, 1] }]], inits: { w: [3, 2, 3, 4] }, wrt: ['w'] },
  { name: 'Conv dilation 2', x: [1, 2, 9, 9], nodes: [['Conv', ['x', 'w'], { dilations: [2, 2], pads: [2, 2, 2, 2] }]], inits: { w: [3, 2, 3, 3] }, wrt: ['w'] },
  { name: 'Conv dilation 2 stride 2', x: [1, 2, 10, 9], nodes: [['Conv', ['x', 'w'], { dilations: [2, 1], strides: [2, 2], pads: [1, 1, 2, 0] }]], inits: { w: [2, 2, 3, 3] }, wrt: ['w'] },
  { name: 'Conv groups 2', x: [2, 4, 6, 6], nodes: [['Conv', ['x', 'w', 'b'], { group: 2, pads: [1, 1, 1, 1] }]], inits: { w: [6, 2, 3, 3], b: [6] }, wrt: ['w', 'b'] },
  { name: 'Conv groups 2, constant weight', x: [2, 4, 6, 6], nodes: [['Conv', ['x', 'w'], { group: 2, pads: [1, 1, 1, 1] }]], inits: { w: [6, 2, 3, 3] } },
  // batch 1 grouped weight gradients: shifted gradient (dilated, uneven pads) and patches (more outputs per group)
  { name: 'Conv groups 3 batch 1, dilation 2, uneven pads', x: [1, 6, 7, 6], nodes: [['Conv', ['x', 'w', 'b'], { group: 3, dilations: [2, 2], pads: [2, 1, 0, 2] }]], inits: { w: [3, 2, 3, 3], b: [3] }, wrt: ['w', 'b'] },
  { name: 'Conv groups 2 batch 1, 3 -> 5 per group', x: [1, 6, 5, 5], nodes: [['Conv', ['x', 'w'], { group: 2, pads: [1, 1, 1, 1] }]], inits: { w: [10, 3, 3, 3] }, wrt: ['w'] },
  { name: 'Conv depthwise stride 2', x: [1, 3, 7, 7], nodes: [['Conv', ['x', 'w'], { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] }]], inits: { w: [3, 1, 3, 3] }, wrt: ['w'] },
  { name: 'Conv auto_pad SAME_UPPER stride 2', x: [1, 2, 7, 8], nodes: [['Conv', ['x', 'w'], { auto_pad: 'SAME_UPPER', strides: [2, 2] }]], inits: { w: [3, 2, 4, 4] }, wrt: ['w'] },
  { name: 'Conv auto_pad SAME_LOWER', x: [1, 2, 6, 6], nodes: [['Conv', ['x', 'w'], { auto_pad: 'SAME_LOWER' }]], inits: { w: [2, 2, 2, 2] } },
  // 16+ input channels: the input gradient is a Conv with flipped, channel-swapped weights.
  { name: 'Conv 3x3, 16 channels (flipped-weight Conv)', x: [2, 16, 5, 4], nodes: [['Conv', ['x', 'w', 'b'], { pads: [1, 1, 1, 1] }]], inits: { w: [3, 16, 3, 3], b: [3] }, wrt: ['w'] },
  { name: 'Conv dilation 2, asymmetric pads, 16 channels (flipped)', x: [1, 16, 7, 6], nodes: [['Conv', ['x', 'w'], { dilations: [2, 2], pads: [2, 1, 0, 2] }]], inits: { w: [2, 16, 3, 2] } },
  { name: 'Conv groups 2, 32 channels (flipped)', x: [1, 32, 4, 4], nodes: [['Conv', ['x', 'w'], { group: 2, pads: [1, 1, 1, 1] }]], inits: { w: [6, 16, 3, 3] } },
  { name: 'Conv groups 2, 32 channels, graph-input weight (flipped at run time)', x: [1, 32, 4, 4], nodes: [['Conv', ['x', 'w'], { group: 2, pads: [1, 1, 1, 1] }]], inits: { w: [6, 16, 3, 3] }, wrt: ['w'] },
  // Batch 1, at least 4x fewer output than input channels: the weight gradient shifts the output gradient.
  { name: 'Conv 8->2, batch 1 (shifted-gradient weight gradient)', x: [1, 8, 6, 5], nodes: [['Conv', ['x', 'w', 'b'], { pads: [1, 1, 1, 1] }]], inits: { w: [2, 8, 3, 3], b: [2] }, wrt: ['w', 'b'] },
  { name: 'Conv 8->2 dilation 2, asymmetric pads, batch 1 (shifted gradient)', x: [1, 8, 7, 6], nodes: [['Conv', ['x', 'w'], { dilations: [2, 2], pads: [2, 1, 0, 2] }]], inits: { w: [2, 8, 3, 2] }, wrt: ['w'] },
  { name: 'Conv 8->1 pads beyond the kernel, batch 1 (shifted gradient, cropped)', x: [1, 8, 4, 5], nodes: [['Conv', ['x', 'w'], { pads: [3, 2, 1, 4] }]], inits: { w: [1, 8, 3, 3] }, wrt: ['w'] },
  { name: 'Conv 4->1 1x1 pad 1, batch 1 (shifted gradient)', x: [1, 4, 4, 5], nodes: [['Conv', ['x', 'w'], { pads: [1, 1, 1, 1] }]], inits: { w: [1, 4, 1, 1] }, wrt: ['w'] },
  // Batch 1, one Gemm over one-hot-Conv patches, with stride and dilation.
  { name: 'Conv 3->4 stride 2 dilation 2, batch 1 (im2col Gemm)', x: [1, 3, 9, 8], nodes: [['Conv', ['x', 'w'], { strides: [2, 2], dilations: [2, 2], pads: [2, 1, 1, 2] }]], inits: { w: [4, 3, 3, 3] }, wrt: ['w'] },
  { name: 'Conv 1x1 with pad 1 (negative backward pad)', x: [1, 2, 4, 5], nodes: [['Conv', ['x', 'w'], { pads: [1, 1, 1, 1] }]], inits: { w: [3, 2, 1, 1] }, wrt: ['w'] },
  // ConvTranspose (the FSRCNN upsampler is stride 4, kernel 9, pad 4, output_padding 3).
  { name: 'ConvTranspose stride 2 output_padding 1', x: [2, 3, 4, 5], nodes: [['ConvTranspose', ['x', 'w', 'b'], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }]], inits: { w: [3, 2, 3, 3], b: [2] }, wrt: ['w', 'b'] },
  { name: 'ConvTranspose stride 4 k9 (FSRCNN)', x: [1, 2, 3, 3], nodes: [['ConvTranspose', ['x', 'w'], { strides: [4, 4], pads: [4, 4, 4, 4], output_padding: [3, 3], kernel_shape: [9, 9] }]], inits: { w: [2, 3, 9, 9] }, wrt: ['w'] },
  { name: 'ConvTranspose groups 2 dilation 2', x: [1, 4, 4, 4], nodes: [['ConvTranspose', ['x', 'w'], { group: 2, dilations: [2, 2], pads: [1, 0, 1, 2] }]], inits: { w: [4, 1, 3, 2] }, wrt: ['w'] },
  // Activations.
  { name: 'Relu', x: [2, 3, 4, 4], nodes: [['Relu', ['x']]] },
  { name: 'LeakyRelu', x: [2, 3, 4, 4], nodes: [['LeakyRelu', ['x'], { alpha: 0.2 }]] },
  { name: 'PRelu per channel', x: [2, 3, 4, 4], nodes: [['PRelu', ['x', 's']]], inits: { s: [3, 1, 1] }, wrt: ['s'] },
  { name: 'PRelu scalar slope', x: [1, 3, 4, 4], nodes: [['PRelu', ['x', 's']]], inits: { s: [1] }, wrt: ['s'] },
  { name: 'Sigmoid', x: [2, 3, 3, 4], nodes: [['Sigmoid', ['x']]] },
  { name: 'Tanh', x: [2, 3, 3, 4], nodes: [['Tanh', ['x']]] },
  { name: 'Sqrt', x: [2, 3, 3, 4], nodes: [['Sqrt', ['x']]], range: [0.2, 2] },
  { name: 'Exp', x: [2, 3, 3, 4], nodes: [['Exp', ['x']]] },
  { name: 'Neg', x: [2, 3, 3, 4], nodes: [['Neg', ['x']]] },
  { name: 'Abs', x: [2, 3, 3, 4], nodes: [['Abs', ['x']]] },
  { name: 'Erf', x: [2, 3, 3, 4], nodes: [['Erf', ['x']]], range: [-2, 2] },
  { name: 'Clip (min/max inputs)', x: [2, 3, 3, 4], nodes: [['Clip', ['x', 'lo', 'hi']]], inits: { lo: floats([-0.5], []), hi: floats([0.6], []) } },
  // Arithmetic with broadcasting (gradients reduce back to each operand's shape).
  { name: 'Add broadcast [C,1,1]', x: [2, 3, 4, 5], nodes: [['Add', ['x', 'b']]], inits: { b: [3, 1, 1] }, wrt: ['b'] },
  { name: 'Add broadcast operand first', x: [1, 3, 1, 5], nodes: [['Add', ['b', 'x']]], inits: { b: [2, 3, 4, 1] }, wrt: ['b'] },
  { name: 'Sub broadcast [W]', x: [2, 3, 4, 5], nodes: [['Sub', ['b', 'x']]], inits: { b: [5] }, wrt: ['b'] },
  { name: 'Mul broadcast [1,C,1,W]', x: [2, 3, 4, 5], nodes: [['Mul', ['x', 'b']]], inits: { b: [1, 3, 1, 5] }, wrt: ['b'] },
  { name: 'Mul x by itself', x: [2, 3, 4, 5], nodes: [['Mul', ['x', 'x']]] },
  { name: 'Div broadcast', x: [2, 3, 4, 5], nodes: [['Div', ['x', 'b']]], inits: { b: randTensor([3, 1, 5], rng(7), 0.5, 2) }, wrt: ['b'] },
  { name: 'Pow constant exponent 3', x: [2, 3, 4, 5], nodes: [['Pow', ['x', 'p']]], inits: { p: floats([3], []) }, range: [0.3, 1.5] },
  { name: 'Pow tensor exponent', x: [2, 3, 4, 5], nodes: [['Pow', ['x', 'p']]], inits: { p: randTensor([5], rng(9), 0.5, 2.5) }, wrt: ['p'], range: [0.3, 1.5] },
  // Linear algebra.
  { name: 'MatMul batched broadcast', x: [2, 3, 4, 5], nodes: [['MatMul', ['x', 'w']]], inits: { w: [5, 6] }, wrt: ['w'] },
  { name: 'MatMul weight first, batch broadcast', x: [2, 1, 5, 4], nodes: [['MatMul', ['w', 'x']]], inits: { w: [3, 6, 5] }, wrt: ['w'] },
  { name: 'MatMul vector', x: [1, 1, 2, 5], nodes: [['MatMul', ['x', 'v']]], inits: { v: [5] }, wrt: ['v'] },
  { name: 'Gemm transB with bias', x: [1, 1, 4, 5], nodes: [['Reshape', ['x', 'shp']], ['Gemm', ['r', 'w', 'c'], { transB: 1, alpha: 0.7, beta: 1.3 }]], inits: { shp: ints([4, 5]), w: [6, 5], c: [6] }, wrt: ['w', 'c'] },
  { name: 'Gemm transA', x: [1, 1, 5, 4], nodes: [['Reshape', ['x', 'shp']], ['Gemm', ['r', 'w', 'c'], { transA: 1 }]], inits: { shp: ints([5, 4]), w: [5, 3], c: [4, 3] }, wrt: ['w', 'c'] },
  // Structure.
  { name: 'Concat', x: [2, 3, 4, 4], nodes: [['Relu', ['x']], ['Concat', ['x', 'r', 'c'], { axis: 1 }]], inits: { c: [2, 2, 4, 4] }, wrt: ['c'] },
  { name: 'Split (one output unused)', x: [2, 5, 4, 4], nodes: [['Split', ['x', 'sp'], { axis: 1 }, ['a', 'b', 'c']], ['Mul', ['a', 'c']]], inits: { sp: ints([2, 1, 2]) } },
  { name: 'Slice with steps and negative axes', x: [2, 3, 7, 8], nodes: [['Slice', ['x', 'st', 'en', 'ax', 'sp']]], inits: { st: ints([1, 0]), en: ints([7, 7]), ax: ints([-2, 3]), sp: ints([2, 3]) } },
  { name: 'Slice reversed', x: [1, 3, 6, 6], nodes: [['Slice', ['x', 'st', 'en', 'ax', 'sp']]], inits: { st: ints([4, -1]), en: ints([0, -100]), ax: ints([2, 3]), sp: ints([-1, -2]) } },
  { name: 'Pad constant', x: [2, 3, 4, 5], nodes: [['Pad', ['x', 'p']]], inits: { p: ints([0, 0, 1, 2, 0, 0, 2, 1]) } },
  { name: 'Pad reflect', x: [1, 2, 5, 6], nodes: [['Pad', ['x', 'p'], { mode: 'reflect' }]], inits: { p: ints([0, 0, 2, 1, 0, 0, 1, 3]) } },
  { name: 'Pad edge', x: [1, 2, 5, 6], nodes: [['Pad', ['x', 'p'], { mode: 'edge' }]], inits: { p: ints([0, 0, 2, 1, 0, 0, 1, 3]) } },
  { name: 'Reshape, Transpose', x: [2, 3, 4, 4], nodes: [['Reshape', ['x', 'shp']], ['Transpose', ['r'], { perm: [0, 2, 1] }]], inits: { shp: ints([2, 12, 4]) } },
  { name: 'Flatten, Unsqueeze, Squeeze', x: [2, 3, 2, 2], nodes: [['Flatten', ['x'], { axis: 2 }], ['Unsqueeze', ['f', 'ax']], ['Squeeze', ['u', 'ax2']], ['Sigmoid', ['s']]], inits: { ax: ints([0, 3]), ax2: ints([0]) } },
  // a grouped Conv feeding a pixel shuffle keeps CRD (the DCR rewrite would move channels between groups)
  { name: 'Conv groups 2 -> LeakyRelu -> DepthToSpace CRD', x: [1, 4, 3, 3], nodes: [['Conv', ['x', 'w', 'b'], { group: 2, pads: [1, 1, 1, 1] }, ['c']], ['LeakyRelu', ['c'], { alpha: 0.1 }, ['a']], ['DepthToSpace', ['a'], { blocksize: 2, mode: 'CRD' }]], inits: { w: [16, 2, 3, 3], b: [16] }, wrt: ['w', 'b'] },
  { name: 'DepthToSpace DCR', x: [2, 8, 3, 2], nodes: [['DepthToSpace', ['x'], { blocksize: 2, mode: 'DCR' }]] },
  { name: 'DepthToSpace CRD', x: [2, 8, 3, 2], nodes: [['DepthToSpace', ['x'], { blocksize: 2, mode: 'CRD' }]] },
  { name: 'SpaceToDepth', x: [2, 2, 4, 6], nodes: [['SpaceToDepth', ['x'], { blocksize: 2 }]] },
  { name: 'Resize nearest x2 (asymmetric, floor)', x: [2, 2, 3, 4], nodes: [['Resize', ['x', '', 'sc'], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }]], inits: { sc: floats([1, 1, 2, 2]) } },
  { name: 'Resize nearest x3 (half_pixel)', x: [1, 2, 3, 4], nodes: [['Resize', ['x', '', 'sc'], { mode: 'nearest' }]], inits: { sc: floats([1, 1, 3, 3]) } },
  { name: 'Resize linear x2 (half_pixel)', x: [2, 2, 3, 4], nodes: [['Resize', ['x', '', 'sc'], { mode: 'linear' }]], inits: { sc: floats([1, 1, 2, 2]) } },
  { name: 'Resize linear to sizes (align_corners)', x: [1, 2, 4, 5], nodes: [['Resize', ['x', '', '', 'sz'], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }]], inits: { sz: ints([1, 2, 7, 8]) } },
  { name: 'Resize linear downscale (pytorch_half_pixel)', x: [1, 2, 6, 6], nodes: [['Resize', ['x', '', '', 'sz'], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }]], inits: { sz: ints([1, 2, 4, 3]) } },
  // Pooling and reductions.
  { name: 'GlobalAveragePool', x: [2, 3, 4, 5], nodes: [['GlobalAveragePool', ['x']]] },
  { name: 'AveragePool pads, exclude pad', x: [2, 2, 6, 7], nodes: [['AveragePool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }]] },
  { name: 'AveragePool include pad', x: [1, 2, 6, 7], nodes: [['AveragePool', ['x'], { kernel_shape: [3, 2], strides: [1, 2], pads: [1, 0, 1, 1], count_include_pad: 1 }]] },
  { name: 'MaxPool k3 s2 pad 1', x: [2, 2, 7, 6], nodes: [['MaxPool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }]] },
  { name: 'MaxPool k2 s2', x: [1, 3, 6, 6], nodes: [['MaxPool', ['x'], { kernel_shape: [2, 2], strides: [2, 2] }]] },
  { name: 'ReduceMean axes [2,3]', x: [2, 3, 4, 5], nodes: [['ReduceMean', ['x'], { axes: [2, 3], keepdims: 0 }]] },
  { name: 'ReduceSum axes input', x: [2, 3, 4, 5], nodes: [['ReduceSum', ['x', 'ax'], { keepdims: 1 }]], inits: { ax: ints([1, -1]) } },
  { name: 'Softmax axis 1', x: [2, 4, 3, 3], nodes: [['Softmax', ['x'], { axis: 1 }]] },
  { name: 'Softmax last axis (opset 11 coerced 2-D)', x: [2, 3, 2, 4], nodes: [['Softmax', ['x'], { axis: 2 }]], opset: 11 },
  { name: 'LayerNormalization', x: [2, 3, 4, 5], nodes: [['LayerNormalization', ['x', 'g', 'b'], { axis: -2, epsilon: 1e-5 }]], inits: { g: [4, 5], b: [4, 5] }, wrt: ['g', 'b'], opset: 17 },
  { name: 'InstanceNormalization', x: [2, 3, 4, 5], nodes: [['InstanceNormalization', ['x', 'g', 'b'], { epsilon: 1e-5 }]], inits: { g: [3], b: [3] }, wrt: ['g', 'b'] },
  { name: 'Identity and Constant', x: [2, 3, 2, 2], nodes: [['Constant', [], { value: floats([0.5, -2, 3], [3, 1, 1]) }, ['k']], ['Identity', ['x'], {}, ['i']], ['Mul', ['i', 'k']]] },
  // Rules that had no case of their own (new cases go last: each case's seed is its index).
  { name: 'Dropout (inference: identity)', x: [2, 3, 3, 4], nodes: [['Dropout', ['x'], {}, ['d']], ['Mul', ['d', 'd']]] },
  { name: 'Cast to float64 and back', x: [2, 3, 3, 4], nodes: [['Cast', ['x'], { to: 11 }, ['c']], ['Mul', ['c', 'c'], {}, ['m']], ['Cast', ['m'], { to: 1 }]] },
  { name: 'Log', x: [2, 3, 3, 4], nodes: [['Log', ['x']]], range: [0.3, 2] },
  { name: 'Reciprocal', x: [2, 3, 3, 4], nodes: [['Reciprocal', ['x']]], range: [0.4, 2] },
  { name: 'Softplus', x: [2, 3, 3, 4], nodes: [['Softplus', ['x']]], range: [-3, 3] },
  { name: 'Where on a mask of x, both branches differentiated', x: [2, 3, 3, 4], nodes: [['Greater', ['x', 't'], {}, ['m']], ['Exp', ['x'], {}, ['ex']], ['Where', ['m', 'ex', 'b']]], inits: { t: floats([0.1], []), b: [3, 1, 4] }, wrt: ['b'] },
  { name: 'Max and Min with a broadcast operand', x: [2, 3, 3, 4], nodes: [['Max', ['x', 'a'], {}, ['mx']], ['Min', ['mx', 'b']]], inits: { a: [3, 1, 1], b: [4] }, wrt: ['a', 'b'] },
  { name: 'Sum of three, one broadcast', x: [2, 3, 3, 4], nodes: [['Exp', ['x'], {}, ['ex']], ['Sum', ['x', 'ex', 'b']]], inits: { b: [1, 3, 1, 4] }, wrt: ['b'] },
  { name: 'Expand to a larger rank and size', x: [1, 3, 1, 4], nodes: [['Expand', ['x', 's'], {}, ['e']], ['Mul', ['e', 'e']]], inits: { s: ints([2, 2, 3, 5, 4]) } },
  { name: 'Upsample nearest x2 (opset 9)', x: [1, 2, 3, 4], nodes: [['Upsample', ['x', 'sc'], { mode: 'nearest' }]], inits: { sc: floats([1, 1, 2, 2]) }, opset: 9 },
  { name: 'BatchNormalization (inference), scale and bias differentiated', x: [2, 3, 3, 4], nodes: [['BatchNormalization', ['x', 'g', 'b', 'mu', 'v'], { epsilon: 1e-3 }]], inits: { g: [3], b: [3], mu: [3], v: randTensor([3], rng(11), 0.5, 2) }, wrt: ['g', 'b'] },
  // Transformer exports: gathers and scatters (gradients by scatter-add), Einsum, Mod, GELU.
  { name: 'Gather scalar indices (q, k, v = qkv[0..2])', x: [3, 2, 4, 5], nodes: [['Gather', ['x', 'i0'], { axis: 0 }, ['q']], ['Gather', ['x', 'i2'], { axis: 0 }, ['k']], ['Gather', ['x', 'm1'], { axis: 0 }, ['v']], ['Mul', ['q', 'k'], {}, ['qk']], ['Add', ['qk', 'v']]], inits: { i0: intAt([0], []), i2: intAt([2], []), m1: intAt([-2], []) }, opset: 17 },
  { name: 'Gather 2-D overlapping indices (nn.Unfold), ScatterND add (opset 17)', x: [1, 2, 7, 5], nodes: [['Gather', ['x', 'ix'], { axis: 2 }]], inits: { ix: intAt([0, 1, 2, 2, 3, 4, 4, 5, 6], [3, 3]) }, opset: 17 },
  { name: 'Gather 2-D overlapping indices (nn.Unfold), rounds of ScatterND (opset 13)', x: [1, 2, 7, 5], nodes: [['Gather', ['x', 'ix'], { axis: 2 }]], inits: { ix: intAt([0, 1, 2, 2, 3, 4, 4, 5, 6], [3, 3]) } },
  { name: 'Gather negative and repeated indices on the last axis (opset 13)', x: [2, 3, 2, 5], nodes: [['Gather', ['x', 'ix'], { axis: -1 }]], inits: { ix: intAt([-1, 0, 0, 2, -1], [5]) } },
  { name: 'Gather of a weight table by constant indices (relative position bias)', x: [1, 2, 4, 4], nodes: [['Gather', ['t', 'ix'], { axis: 0 }, ['b']], ['Transpose', ['b'], { perm: [2, 0, 1] }, ['bt']], ['Unsqueeze', ['bt', 'ax'], {}, ['bu']], ['Add', ['x', 'bu']]], inits: { t: [7, 2], ix: intAt([3, 2, 1, 0, 4, 3, 2, 1, 5, 4, 3, 2, 6, 5, 4, 3], [4, 4]), ax: ints([0]) }, wrt: ['t'], opset: 17 },
  { name: 'Gather with indices computed from data (ArgMax), ScatterND add', x: [2, 3, 2, 5], nodes: [['ArgMax', ['x'], { axis: 3, keepdims: 0 }, ['am']], ['Gather', ['x', 'am'], { axis: 3 }]], opset: 17 },
  { name: 'GatherElements with repeated indices (opset 17)', x: [2, 3, 4, 3], nodes: [['GatherElements', ['x', 'ix'], { axis: 1 }]], inits: { ix: intAt(Array.from({ length: 2 * 5 * 4 * 3 }, (_, i) => (i * 7) % 3 - (i % 4 === 0 ? 3 : 0)), [2, 5, 4, 3]) }, opset: 17 },
  { name: 'GatherElements with repeated indices (opset 13, rounds)', x: [2, 3, 4, 3], nodes: [['GatherElements', ['x', 'ix'], { axis: 1 }]], inits: { ix: intAt(Array.from({ length: 2 * 5 * 4 * 3 }, (_, i) => (i * 7) % 3), [2, 5, 4, 3]) } },
  { name: 'ScatterND into x, updates differentiated', x: [2, 3, 4, 5], nodes: [['ScatterND', ['x', 'ix', 'u']]], inits: { ix: intAt([0, 1, 1, 2], [2, 2]), u: [2, 4, 5] }, wrt: ['u'], opset: 17 },
  { name: 'ScatterND with reduction add, repeated targets', x: [2, 3, 4, 5], nodes: [['ScatterND', ['x', 'ix', 'u'], { reduction: 'add' }]], inits: { ix: intAt([1, 0, 1, 0, 0, 2], [3, 2]), u: [3, 4, 5] }, wrt: ['u'], opset: 17 },
  { name: 'ScatterElements along axis 2, updates differentiated', x: [2, 3, 4, 5], nodes: [['ScatterElements', ['x', 'ix', 'u'], { axis: 2 }]], inits: { ix: intAt(Array.from({ length: 2 * 3 * 2 * 5 }, (_, i) => (i % 2) * 2 + ((i >> 3) % 2)), [2, 3, 2, 5]), u: [2, 3, 2, 5] }, wrt: ['u'], opset: 17 },
  { name: 'Einsum 1x1 convolution nchw,dc->ndhw', x: [2, 3, 4, 5], nodes: [['Einsum', ['x', 'w'], { equation: 'nchw,dc->ndhw' }]], inits: { w: [4, 3] }, wrt: ['w'], opset: 17 },
  { name: 'Einsum batched attention bij,bkj->bik of x with itself', x: [2, 3, 4, 4], nodes: [['Reshape', ['x', 's'], {}, ['r']], ['Einsum', ['r', 'r'], { equation: 'bij,bkj->bik' }]], inits: { s: ints([6, 4, 4]) }, opset: 17 },
  { name: 'Einsum summing a letter only one operand holds, implicit output', x: [2, 3, 4, 5], nodes: [['Einsum', ['x', 'w'], { equation: 'nchw,wd' }]], inits: { w: [5, 2] }, wrt: ['w'], opset: 17 },
  { name: 'Einsum with an ellipsis', x: [2, 3, 4, 5], nodes: [['Einsum', ['x', 'w'], { equation: '...ij,jk->...ik' }]], inits: { w: [5, 3] }, wrt: ['w'], opset: 17 },
  { name: 'Mod (fmod) with a broadcast divisor', x: [2, 3, 4, 5], nodes: [['Mod', ['x', 'b'], { fmod: 1 }]], inits: { b: randTensor([5], rng(13), 0.6, 1.4) }, wrt: ['b'], range: [-3, 3], opset: 17 },
  { name: 'Gelu (opset 20)', x: [2, 3, 4, 5], nodes: [['Gelu', ['x']]], range: [-3, 3], opset: 20 },
  { name: 'Gelu tanh approximation (opset 20)', x: [2, 3, 4, 5], nodes: [['Gelu', ['x'], { approximate: 'tanh' }]], range: [-3, 3], opset: 20 },
  // A whole Swin transformer block as torch.onnx.export writes it at opset 17 (SwinIR, HAT):
  // torch.roll as Slice + Concat, LayerNormalization, window partition and reverse
  // (Reshape/Transpose), qkv by Gather, scaled MatMul attention with a relative-position bias
  // gathered from a differentiated table and a shifted-window mask (Equal + Where), Softmax,
  // and an MLP with GELU in its Erf form. 4x4 tokens, 2x2 windows, 2 heads of 3 channels.
  {
    name: 'Swin transformer block (roll, LayerNorm, windows, Gather qkv, bias table, mask, Softmax, Erf GELU)',
    x: [1, 6, 4, 4],
    nodes: [
      ['Transpose', ['x'], { perm: [0, 2, 3, 1] }, ['xh']],
      ['LayerNormalization', ['xh', 'g1', 'b1'], { axis: -1, epsilon: 1e-5 }, ['ln1']],
      ['Slice', ['ln1', 'one', 'four', 'one'], {}, ['r1a']], ['Slice', ['ln1', 'zero', 'one', 'one'], {}, ['r1b']],
      ['Concat', ['r1a', 'r1b'], { axis: 1 }, ['rh']],
      ['Slice', ['rh', 'one', 'four', 'two'], {}, ['r2a']], ['Slice', ['rh', 'zero', 'one', 'two'], {}, ['r2b']],
      ['Concat', ['r2a', 'r2b'], { axis: 2 }, ['rs']],
      ['Reshape', ['rs', 'sPart'], {}, ['wp']], ['Transpose', ['wp'], { perm: [0, 1, 3, 2, 4, 5] }, ['wt']], ['Reshape', ['wt', 'sWin'], {}, ['win']],
      ['MatMul', ['win', 'wqkv'], {}, ['qkv0']], ['Add', ['qkv0', 'bqkv'], {}, ['qkv']],
      ['Reshape', ['qkv', 'sQkv'], {}, ['q5']], ['Transpose', ['q5'], { perm: [2, 0, 3, 1, 4] }, ['qt']],
      ['Gather', ['qt', 'i0'], { axis: 0 }, ['q']], ['Gather', ['qt', 'i1'], { axis: 0 }, ['k']], ['Gather', ['qt', 'i2'], { axis: 0 }, ['v']],
      ['Mul', ['q', 'scale'], {}, ['qs']], ['Transpose', ['k'], { perm: [0, 1, 3, 2] }, ['kT']], ['MatMul', ['qs', 'kT'], {}, ['att']],
      ['Gather', ['table', 'rpi'], { axis: 0 }, ['rb']], ['Reshape', ['rb', 'sBias'], {}, ['rb2']], ['Transpose', ['rb2'], { perm: [2, 0, 1] }, ['rb3']],
      ['Add', ['att', 'rb3'], {}, ['att2']],
      ['Equal', ['mask', 'fzero'], {}, ['keep']], ['Where', ['keep', 'att2', 'fill'], {}, ['att3']],
      ['Softmax', ['att3'], { axis: -1 }, ['p']], ['MatMul', ['p', 'v'], {}, ['o']],
      ['Transpose', ['o'], { perm: [0, 2, 1, 3] }, ['ot']], ['Reshape', ['ot', 'sWin'], {}, ['o2']], ['MatMul', ['o2', 'wp2'], {}, ['pr']],
      ['Reshape', ['pr', 'sPart'], {}, ['rv']], ['Transpose', ['rv'], { perm: [0, 1, 3, 2, 4, 5] }, ['rvt']], ['Reshape', ['rvt', 'sImg'], {}, ['rr']],
      ['Slice', ['rr', 'three', 'four', 'one'], {}, ['u1a']], ['Slice', ['rr', 'zero', 'three', 'one'], {}, ['u1b']],
      ['Concat', ['u1a', 'u1b'], { axis: 1 }, ['uh']],
      ['Slice', ['uh', 'three', 'four', 'two'], {}, ['u2a']], ['Slice', ['uh', 'zero', 'three', 'two'], {}, ['u2b']],
      ['Concat', ['u2a', 'u2b'], { axis: 2 }, ['back']],
      ['Add', ['xh', 'back'], {}, ['h1']],
      ['LayerNormalization', ['h1', 'g2', 'b2'], { axis: -1, epsilon: 1e-5 }, ['ln2']],
      ['MatMul', ['ln2', 'w1'], {}, ['m1']], ['Div', ['m1', 'sqrt2'], {}, ['md']], ['Erf', ['md'], {}, ['er']],
      ['Add', ['er', 'fone'], {}, ['ep']], ['Mul', ['m1', 'ep'], {}, ['mm']], ['Mul', ['mm', 'half'], {}, ['ge']],
      ['MatMul', ['ge', 'w2'], {}, ['m2']], ['Add', ['h1', 'm2'], {}, ['h2']],
      ['Transpose', ['h2'], { perm: [0, 3, 1, 2] }, ['y']],
    ],
    inits: {
      g1: [6], b1: [6], g2: [6], b2: [6], wqkv: [6, 18], bqkv: [18], wp2: [6, 6], w1: [6, 12], w2: [12, 6], table: [9, 2],
      zero: ints([0]), one: ints([1]), two: ints([2]), three: ints([3]), four: ints([4]),
      sPart: ints([1, 2, 2, 2, 2, 6]), sWin: ints([4, 4, 6]), sQkv: ints([4, 4, 3, 2, 3]), sBias: ints([4, 4, 2]), sImg: ints([1, 4, 4, 6]),
      i0: intAt([0], []), i1: intAt([1], []), i2: intAt([2], []), scale: floats([1 / Math.sqrt(3)], []),
      rpi: intAt([4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4], [16]),
      mask: floats(Array.from({ length: 64 }, (_, i) => ((i >> 4) === 3 && ((i >> 2) & 3) !== (i & 3) ? -100 : 0)), [4, 1, 4, 4]),
      fzero: floats([0], []), fill: floats([-100], []), sqrt2: floats([Math.SQRT2], []), fone: floats([1], []), half: floats([0.5], []),
    },
    wrt: ['table', 'wqkv', 'g1', 'w1'],
    opset: 17,
  },
];

/** Builds the case's graph: x -> nodes -> y, then proj_out = y * R (node 'proj'). */
export function buildCase(c: Case, r: () => number): { graph: Graph; x: TensorData } {
  const initializers = new Map<string, TensorData>();
  for (const [name, v] of Object.entries(c.inits ?? {})) {
    initializers.set(name, Array.isArray(v) ? randTensor(v, r, -1, 1) : v);
  }
  let last = 'x';
  const nodes: GraphNode[] = c.nodes.map(([op, inputs, attrs, outputs], i) => {
    const outs = outputs ?? [i === c.nodes.length - 1 ? 'y' : op[0]!.toLowerCase()];
    last = outs[0]!;
    return { name: `n${i}_${op}`, opType: op, inputs, outputs: outs, attrs: attrs ?? {} };
  });
  const graph: Graph = {
    name: c.name, opset: c.opset ?? 13, nodes,
    inputs: [{ name: 'x', dtype: 'float32', shape: c.x }],
    outputs: [{ name: last, dtype: 'float32', shape: [] }],
    initializers,
  };
  const yShape = inferShapes(graph, { x: c.x }).get(last)!.shape;
  initializers.set('R', randTensor(yShape, r, -1, 1));
  nodes.push({ name: 'proj', opType: 'Mul', inputs: [last, 'R'], outputs: ['proj_out'], attrs: {} });
  graph.outputs = [{ name: 'proj_out', dtype: 'float32', shape: yShape }];
  const [lo, hi] = c.range ?? [-1, 1];
  return { graph, x: randTensor(c.x, r, lo, hi) };
}

