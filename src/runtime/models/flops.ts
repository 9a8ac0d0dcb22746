// Floating-point operations of one forward pass, from a specialised graph's inferred shapes.
// Convolutions and matrix products count 2 per multiply-add; other operators one per output
// element (pooling: one per window tap). Bias additions are counted with their convolution.

import type { Graph, GraphNode } from '../graph/ir.js';
import { sizeOf } from '../onnx/tensor-util.js';

export interface FlopCount {
  total: number;
  /** Conv, ConvTranspose, MatMul and Gemm: the part hardware peak figures describe. */
  matrix: number;
  byOperator: Record<string, number>;
}

export function countFlops(graph: Graph): FlopCount {
  const info = graph.valueInfo;
  if (!info) throw new Error('countFlops needs a specialised graph (with inferred shapes)');
  // Weights fed as graph inputs (gradient graphs) have their shape on the input only.
  const inputShapes = new Map(graph.inputs.map((i) => [i.name, i.shape]));
  const shape = (v: string): number[] => {
    const s = graph.initializers.get(v)?.dims ?? info.get(v)?.shape ?? inputShapes.get(v);
    if (!s || s.some((d) => typeof d !== 'number')) throw new Error(`no shape known for '${v}'`);
    return s as number[];
  };
  const byOperator: Record<string, number> = {};
  let total = 0;
  let matrix = 0;
  for (const n of graph.nodes) {
    const f = nodeFlops(n, shape);
    byOperator[n.opType] = (byOperator[n.opType] ?? 0) + f;
    total += f;
    if (['Conv', 'ConvTranspose', 'MatMul', 'Gemm'].includes(n.opType)) matrix += f;
  }
  return { total, matrix, byOperator };
}

function nodeFlops(n: GraphNode, shape: (v: string) => number[]): number {
  const out = n.outputs[0] ? sizeOf(shape(n.outputs[0])) : 0;
  switch (n.opType) {
    case 'Conv': {
      const w = shape(n.inputs[1]); // [Cout, Cin/g, k...]
      return 2 * out * sizeOf(w.slice(1)) + (n.inputs[2] ? out : 0);
    }
    case 'ConvTranspose': {
      const w = shape(n.inputs[1]); // [Cin, Cout/g, k...]
      const x = sizeOf(shape(n.inputs[0]));
      return 2 * x * sizeOf(w.slice(1)) + (n.inputs[2] ? out : 0);
    }
    case 'MatMul': {
      const a = shape(n.inputs[0]);
      return 2 * out * a[a.length - 1];
    }
    case 'Gemm': {
      const a = shape(n.inputs[0]);
      const k = n.attrs.transA ? a[0] : a[1];
      return 2 * out * k + (n.inputs[2] ? out : 0);
    }
    case 'MaxPool':
    case 'AveragePool': {
      const k = Array.isArray(n.attrs.kernel_shape) ? sizeOf(n.attrs.kernel_shape as number[]) : 1;
      return out * k;
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return sizeOf(shape(n.inputs[0]));
    case 'Reshape': case 'Transpose': case 'DepthToSpace': case 'SpaceToDepth': case 'Concat': case 'Split':
    case 'Slice': case 'Pad': case 'Squeeze': case 'Unsqueeze': case 'Flatten': case 'Identity': case 'Expand':
    case 'Gather': case 'Cast': case 'Shape':
      return 0; // data movement
    default:
      return out;
  }
}
