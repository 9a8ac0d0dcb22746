// Specialise a graph to concrete input shapes: Constant nodes become initializers, Identity
// nodes go, shape arithmetic is folded to constants, and every tensor gets a concrete shape.

import type { Graph, GraphNode, TensorData, ValueInfo } from '../graph/ir.js';
import { canFold, FOLD_LIMIT, foldNode } from './fold.js';
import { inferNode, type TypedShape, UnsupportedOperatorError } from './shapes.js';
import { fromNumbers, sizeOf } from './tensor-util.js';

export { UnsupportedOperatorError };

/** Concrete shapes for the graph's inputs: one shape (for the first input) or by name. */
export type InputShapes = number[] | Record<string, number[]>;

function shapesByName(graph: Graph, shapes: InputShapes): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (Array.isArray(shapes)) {
    if (graph.inputs.length === 0) throw new Error('graph has no inputs');
    out.set(graph.inputs[0].name, shapes);
  } else {
    for (const [k, v] of Object.entries(shapes)) out.set(k, v);
  }
  for (const input of graph.inputs) {
    const given = out.get(input.name);
    if (!given) {
      const fixed = input.shape.every((d) => typeof d === 'number');
      if (!fixed) throw new Error(`no shape given for input '${input.name}' [${input.shape}]`);
      out.set(input.name, input.shape as number[]);
      continue;
    }
    if (given.length !== input.shape.length) {
      throw new Error(`input '${input.name}' has rank ${input.shape.length} ([${input.shape}]), got shape [${given}]`);
    }
    input.shape.forEach((d, i) => {
      if (typeof d === 'number' && d !== given[i]) {
        throw new Error(`input '${input.name}' has fixed size ${d} on axis ${i} ([${input.shape}]), got shape [${given}]`);
      }
    });
  }
  return out;
}

/**
 * Return a new graph specialised to `inputShapes`. The input graph is not modified; weight
 * initializers are shared, not copied. Throws UnsupportedOperatorError for an operator whose
 * output shape lvi cannot infer.
 */
export function specialise(graph: Graph, inputShapes: InputShapes): Graph {
  const given = shapesByName(graph, inputShapes);
  const consts = new Map<string, TensorData>(graph.initializers);
  const types = new Map<string, TypedShape>();
  for (const [name, t] of consts) types.set(name, { dtype: t.dtype, shape: t.dims });
  for (const input of graph.inputs) types.set(input.name, { dtype: input.dtype, shape: given.get(input.name)! });

  const alias = new Map<string, string>(); // dropped Identity output -> its source
  const resolve = (name: string) => alias.get(name) ?? name;
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const kept: GraphNode[] = [];

  for (const original of graph.nodes) {
    const node: GraphNode = { ...original, inputs: original.inputs.map((n) => (n ? resolve(n) : n)) };
    const inputTypes = node.inputs.map((n) => (n ? types.get(n) : undefined));
    node.inputs.forEach((n, i) => {
      if (n && !inputTypes[i]) throw new Error(`node '${node.name}' (${node.opType}) reads '${n}', which nothing produces`);
    });

    if (node.opType === 'Identity' && !graphOutputs.has(node.outputs[0])) {
      alias.set(node.outputs[0], node.inputs[0]);
      continue;
    }

    const inputValues = node.inputs.map((n) => (n ? consts.get(n) : undefined));
    let outTypes: TypedShape[];
    if (node.opType === 'Constant') {
      const [value] = foldNode(node, [], graph.opset);
      outTypes = [{ dtype: value.dtype, shape: value.dims }];
    } else {
      outTypes = inferNode({ node, inputs: inputTypes, value: (i) => inputValues[i], opset: graph.opset });
    }
    node.outputs.forEach((o, i) => {
      if (o && outTypes[i]) types.set(o, outTypes[i]);
    });

    // Fold when every input is constant (Shape and Size only need the input's shape).
    const small = outTypes.every((t) => sizeOf(t.shape) <= FOLD_LIMIT);
    const shapeOnly = node.opType === 'Shape' || node.opType === 'Size';
    const allConst = node.inputs.every((n, i) => !n || inputValues[i] !== undefined);
    const isOutput = node.outputs.some((o) => graphOutputs.has(o));
    if (!isOutput && small && (shapeOnly || (allConst && canFold(node.opType)))) {
      const values = shapeOnly ? [shapeValue(node, inputTypes[0]!.shape)] : foldNode(node, inputValues, graph.opset);
      node.outputs.forEach((o, i) => {
        if (o && values[i]) consts.set(o, values[i]);
      });
      continue;
    }
    kept.push(node);
  }

  // Keep only the constants the remaining nodes read.
  const used = new Set<string>();
  for (const n of kept) for (const i of n.inputs) if (i) used.add(i);
  const initializers = new Map<string, TensorData>();
  for (const [name, t] of consts) if (used.has(name)) initializers.set(name, t);

  const valueInfo = new Map<string, ValueInfo>();
  for (const n of kept) {
    for (const o of n.outputs) {
      const t = o ? types.get(o) : undefined;
      if (t) valueInfo.set(o, { name: o, dtype: t.dtype, shape: t.shape });
    }
  }
  const inputs = graph.inputs.map((i) => ({ ...i, shape: given.get(i.name)! }));
  for (const i of inputs) valueInfo.set(i.name, { ...i });
  const outputs = graph.outputs.map((o) => {
    const t = types.get(o.name);
    if (!t) throw new Error(`graph output '${o.name}' is not produced by any node`);
    return { name: o.name, dtype: t.dtype, shape: t.shape };
  });
  return { name: graph.name, opset: graph.opset, nodes: kept, inputs, outputs, initializers, valueInfo };
}

function shapeValue(node: GraphNode, shape: number[]): TensorData {
  if (node.opType === 'Size') return fromNumbers('int64', [], [sizeOf(shape)]);
  const rank = shape.length;
  const norm = (v: unknown, d: number) => {
    const x = typeof v === 'number' ? v : d;
    return Math.min(Math.max(x < 0 ? x + rank : x, 0), rank);
  };
  const part = shape.slice(norm(node.attrs.start, 0), norm(node.attrs.end, rank));
  return fromNumbers('int64', [part.length], part);
}

/** Shapes of every tensor of an already concrete graph (inputs fixed), without changing it. */
export function inferShapes(graph: Graph, inputShapes?: InputShapes): Map<string, ValueInfo> {
  const g = specialise(graph, inputShapes ?? {});
  return g.valueInfo!;
}
