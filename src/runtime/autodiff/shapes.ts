// Shapes and parameters for the gradient builder and the float64 evaluator, which look constants
// up by name. Shape inference itself is onnx/shapes.ts (checked against ONNX Runtime); the
// parameter readers are graph/params.ts. This file adapts both to name lookups.

import type { Graph, GraphNode, TensorData } from '../graph/ir.js';
import * as params from '../graph/params.js';
import { type TypedShape, inferNode as inferOnnxNode } from '../onnx/shapes.js';
import { broadcast } from '../onnx/tensor-util.js';

export { constantNodeValue, normAxis, sliceLength, type SliceSpec } from '../graph/params.js';

export type TensorInfo = TypedShape;

/** Looks up the value of a constant tensor (initializer or Constant output), if any. */
export type ConstLookup = (name: string) => TensorData | undefined;

/** Numpy broadcast of any number of shapes. */
export function broadcastShapes(...shapes: number[][]): number[] {
  return shapes.reduce((out, s) => broadcast(out, s, 'broadcast'), []);
}

/** A node's constant inputs read through `lookup`; a given input it does not know is an error. */
function byName(node: GraphNode, lookup: ConstLookup): params.ConstInput {
  return (i, what) => {
    const name = node.inputs[i];
    if (!name) return undefined;
    const t = lookup(name);
    if (!t) throw new Error(`${node.opType} node '${node.name}': ${what} must be constant`);
    return params.tensorNumbers(t);
  };
}

/** Axes of a Reduce* node, from its attribute (old opsets) or second input (ReduceSum 13+, others 18+). */
export function reduceAxes(node: GraphNode, rank: number, lookup: ConstLookup): number[] {
  return params.reduceAxes(node, rank, byName(node, lookup));
}

export function sliceSpec(node: GraphNode, shape: number[], lookup: ConstLookup): params.SliceSpec {
  return params.sliceSpec(node, shape, byName(node, lookup));
}

/** Pads of a Pad node (begin..., end...) and its mode. */
export function padSpec(node: GraphNode, rank: number, lookup: ConstLookup): { pads: number[]; mode: string; value: number } {
  return params.padSpec(node, rank, byName(node, lookup));
}

/** Split sizes of a Split node along its axis. */
export function splitSizes(node: GraphNode, dim: number, lookup: ConstLookup): number[] {
  return params.splitSizes(node, dim, byName(node, lookup));
}

/** Output infos of one node, from its input infos, by onnx/shapes.ts's rules for `opset`. */
export function inferNode(node: GraphNode, ins: (TensorInfo | undefined)[], lookup: ConstLookup, opset: number): TensorInfo[] {
  return inferOnnxNode({ node, inputs: ins, value: (i) => (node.inputs[i] ? lookup(node.inputs[i]!) : undefined), opset });
}

/**
 * Infers every value's shape in a graph whose inputs have concrete shapes. Known shapes in
 * `graph.valueInfo` are not trusted over inference but fill gaps for unsupported operators.
 */
export function inferShapes(graph: Graph, inputShapes: Record<string, number[]>): Map<string, TensorInfo> {
  const info = new Map<string, TensorInfo>();
  const constants = new Map<string, TensorData>();
  for (const [name, t] of graph.initializers) {
    info.set(name, { dtype: t.dtype, shape: t.dims });
    constants.set(name, t);
  }
  for (const i of graph.inputs) {
    if (info.has(i.name)) continue;
    const s = inputShapes[i.name] ?? i.shape;
    if (s.some((d) => typeof d !== 'number')) throw new Error(`input '${i.name}' has no concrete shape`);
    info.set(i.name, { dtype: i.dtype, shape: s as number[] });
  }
  const lookup: ConstLookup = (n) => constants.get(n);
  for (const node of graph.nodes) {
    let outs: TensorInfo[];
    try {
      outs = inferNode(node, node.inputs.map((n) => (n ? info.get(n) : undefined)), lookup, graph.opset);
    } catch (err) {
      const known = node.outputs.map((o) => graph.valueInfo?.get(o));
      if (known.every((k) => k && k.shape.every((d) => typeof d === 'number'))) {
        outs = known.map((k) => ({ dtype: k!.dtype, shape: k!.shape as number[] }));
      } else throw err;
    }
    node.outputs.forEach((o, i) => {
      if (o && outs[i]) info.set(o, outs[i]!);
    });
    if (node.opType === 'Constant') constants.set(node.outputs[0]!, params.constantNodeValue(node));
  }
  return info;
}
