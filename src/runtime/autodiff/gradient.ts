// Reverse-mode autodiff over the graph IR: forward graph + objective + backward nodes in one
// ONNX graph, so ONNX Runtime runs forward and backward in a single session.

import type { GradientGraph, GradientRequest } from '../api.js';
import type { DType, Graph, GraphNode, TensorData, ValueInfo } from '../graph/ir.js';
import { sizeOf } from '../graph/params.js';
import { specialise } from '../onnx/specialise.js';
import { Emitter } from './emitter.js';
import { OBJECTIVE, emitObjective } from './objective.js';
import { GradientRuleError, rules } from './rules/index.js';
import { type TensorInfo, constantNodeValue, inferShapes } from './shapes.js';

export const INPUT_GRAD = 'lvi_grad_input';
export const weightGradName = (w: string): string => `lvi_grad/${w}`;

const isFloat = (d: DType | undefined): boolean => d === 'float32' || d === 'float64';

/** The image input: the first graph input that is not also an initializer. */
export function imageInput(graph: Graph): ValueInfo {
  const input = graph.inputs.find((i) => !graph.initializers.has(i.name));
  if (!input) throw new Error(`graph '${graph.name}' has no input`);
  return input;
}

export function buildGradientGraph(forward: Graph, request: GradientRequest): GradientGraph {
  const input = imageInput(forward);
  const shape = [...request.inputShape];
  // Exporters often pin the batch to 1; path steps are batched, so the batch axis is freed here
  // (a graph that really depends on batch 1, e.g. a Reshape to a constant shape, fails shape inference).
  // Differentiated weights are inputs while the graph is specialised, so that constant folding
  // (a Gather of a relative-position table, a Transpose of a weight) does not fold them away.
  const held = new Map<string, TensorData>();
  for (const w of request.wrtWeights ?? []) {
    const t = forward.initializers.get(w);
    if (t) held.set(w, t);
  }
  const freed: Graph = {
    ...forward,
    inputs: [
      ...forward.inputs.map((i) => (i.name === input.name && i.shape.length > 0 ? { ...i, shape: ['N', ...i.shape.slice(1)] } : i)),
      ...[...held].filter(([w]) => !forward.inputs.some((i) => i.name === w)).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.dims })),
    ],
    outputs: forward.outputs.map((o) => (o.shape.length > 0 ? { ...o, shape: ['N', ...o.shape.slice(1)] } : o)),
    initializers: new Map([...forward.initializers].filter(([name]) => !held.has(name))),
  };
  const specialised = specialise(freed, { [input.name]: shape, ...Object.fromEntries([...held].map(([w, t]) => [w, t.dims])) });
  // Nodes are copied so that rewrites below never touch the caller's graph.
  const spec: Graph = { ...specialised, nodes: specialised.nodes.map((n) => ({ ...n })) };
  const initializers = new Map<string, TensorData>([...spec.initializers, ...held]);
  const info = inferShapes({ ...spec, inputs: spec.inputs.filter((i) => !held.has(i.name)), initializers }, { [input.name]: shape });
  const constants = new Map<string, TensorData>();
  for (const n of spec.nodes) if (n.opType === 'Constant') constants.set(n.outputs[0]!, constantNodeValue(n));

  const inputs: ValueInfo[] = spec.inputs
    .filter((i) => !initializers.has(i.name))
    .map((i) => (i.name === input.name ? { ...i, shape } : { ...i, shape: info.get(i.name)?.shape ?? i.shape }));
  const leaves = new Set<string>();
  if (request.wrtInput) leaves.add(input.name);
  for (const w of request.wrtWeights ?? []) {
    const t = initializers.get(w);
    if (!t) throw new Error(`gradient request: '${w}' is not an initializer of graph '${forward.name}'`);
    if (!isFloat(t.dtype)) throw new Error(`gradient request: initializer '${w}' is ${t.dtype}, not a float tensor`);
    // By default differentiated weights become graph inputs so they can change between runs.
    if (request.weightsAs !== 'constants') {
      initializers.delete(w);
      inputs.push({ name: w, dtype: t.dtype, shape: t.dims });
    }
    leaves.add(w);
  }
  if (leaves.size === 0) throw new Error('gradient request: nothing to differentiate (wrtInput false, no wrtWeights)');
  const perExample = new Set(request.perExample ?? []);
  for (const w of perExample) {
    if (!leaves.has(w)) throw new Error(`gradient request: per-example weight '${w}' is not among wrtWeights`);
    for (const n of spec.nodes) {
      const at = n.inputs.indexOf(w);
      if (at < 0) continue;
      const conv = (n.opType === 'Conv' || n.opType === 'ConvTranspose') && at === 1 && n.inputs.lastIndexOf(w) === 1;
      if (!conv || Number(n.attrs.group ?? 1) !== 1) {
        throw new Error(`gradient request: per-example gradients are made for the weights of ungrouped convolutions; '${w}' feeds ${n.opType} node '${n.name}'`);
      }
    }
  }

  crdToDcr(spec.nodes, initializers, info, new Set(spec.outputs.map((o) => o.name)), leaves, perExample);
  for (const [name, t] of initializers) if (!info.has(name)) info.set(name, { dtype: t.dtype, shape: t.dims });

  const output = spec.outputs[0]!.name;
  const objEmit = new Emitter(spec.opset, info, initializers, 'lvi_obj/', constants);
  const featureValue = (name: string): string => {
    const node = spec.nodes.find((n) => n.name === name);
    if (node) return node.outputs[0]!;
    if (info.has(name)) return name;
    throw new Error(`feature objective: no node or value named '${name}' in graph '${forward.name}'`);
  };
  const fragment = emitObjective(objEmit, request.objective, output, featureValue);
  objEmit.op('Identity', [fragment.value]);
  const last = objEmit.nodes[objEmit.nodes.length - 1]!;
  info.set(OBJECTIVE, info.get(last.outputs[0]!)!);
  last.outputs = [OBJECTIVE];
  inputs.push(...fragment.inputs);

  const fwdNodes: GraphNode[] = [...spec.nodes, ...objEmit.nodes];

  // Values that depend on a leaf through float tensors.
  const requires = new Set(leaves);
  for (const n of fwdNodes) {
    if (!n.inputs.some((i) => i && requires.has(i))) continue;
    for (const o of n.outputs) if (o && isFloat(info.get(o)?.dtype)) requires.add(o);
  }
  // Values the objective depends on.
  const producer = new Map<string, GraphNode>();
  for (const n of fwdNodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const relevant = new Set<GraphNode>();
  const stack = [OBJECTIVE];
  const seen = new Set<string>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const p = producer.get(v);
    if (!p || relevant.has(p)) continue;
    relevant.add(p);
    for (const i of p.inputs) if (i && requires.has(i)) stack.push(i);
  }

  const e = new Emitter(spec.opset, info, initializers, 'lvi_grad/', constants);
  e.perExample = perExample;
  const grads = new Map<string, string[]>();
  const accumulate = (name: string): string | undefined => {
    const terms = grads.get(name);
    if (!terms || terms.length === 0) return undefined;
    const total = e.sum(terms);
    grads.set(name, [total]);
    return total;
  };
  const objShape = info.get(OBJECTIVE)!.shape;
  grads.set(OBJECTIVE, [e.tensor(new Float32Array(sizeOf(objShape)).fill(1), objShape, 'seed')]);

  for (let k = fwdNodes.length - 1; k >= 0; k--) {
    const node = fwdNodes[k]!;
    if (!relevant.has(node)) continue;
    const needs = node.inputs.map((i) => !!i && requires.has(i));
    if (!needs.some(Boolean)) continue;
    const gy = node.outputs.map((o) => (o ? accumulate(o) : undefined));
    if (gy.every((g) => g === undefined)) continue;
    const rule = rules[node.domain ? `${node.domain}:${node.opType}` : node.opType];
    if (!rule) {
      throw new GradientRuleError(
        `no gradient rule for operator ${node.opType} (node '${node.name}'); it lies between the differentiated inputs and the objective`,
      );
    }
    const gx = rule(node, gy, e, needs);
    node.inputs.forEach((i, j) => {
      const g = gx[j];
      if (!needs[j] || !g) return;
      const list = grads.get(i) ?? [];
      list.push(g);
      grads.set(i, list);
    });
  }

  const gradOut = (leaf: string, name: string): ValueInfo => {
    const li = info.get(leaf)!;
    const dims = perExample.has(leaf) ? [shape[0]!, ...li.shape] : li.shape;
    const g = accumulate(leaf) ?? e.expand(e.scalar(0), dims);
    e.nodes.push({ name: `${name}_node`, opType: 'Identity', inputs: [g], outputs: [name], attrs: {} });
    info.set(name, { dtype: li.dtype, shape: dims });
    return { name, dtype: li.dtype, shape: dims };
  };
  const outputs: ValueInfo[] = [
    ...spec.outputs.map((o) => ({ ...o, shape: info.get(o.name)?.shape ?? o.shape })),
    { name: OBJECTIVE, dtype: 'float32', shape: objShape },
  ];
  const result: GradientGraph['outputs'] = { output, objective: OBJECTIVE, weightGrads: {} };
  if (request.wrtInput) {
    outputs.push(gradOut(input.name, INPUT_GRAD));
    result.inputGrad = INPUT_GRAD;
  }
  for (const w of request.wrtWeights ?? []) {
    const name = weightGradName(w);
    outputs.push(gradOut(w, name));
    result.weightGrads[w] = name;
  }

  const nodes = [...fwdNodes, ...e.nodes];
  const valueInfo = new Map<string, ValueInfo>();
  for (const [name, t] of info) {
    if (!initializers.has(name)) valueInfo.set(name, { name, dtype: t.dtype, shape: t.shape });
  }
  const graph: Graph = {
    name: `${forward.name}_grad`,
    opset: spec.opset,
    nodes,
    inputs,
    outputs,
    initializers,
    valueInfo,
  };
  return { graph, outputs: result };
}

const channelwise = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Identity', 'Elu', 'Softplus']);

/**
 * PyTorch's pixel shuffle is DepthToSpace in CRD mode, whose backward needs a 6-D Transpose.
 * Where the shuffled value comes from a Conv (through element-wise activations only), permuting
 * that Conv's output channels turns the node into DCR mode, whose backward is one SpaceToDepth.
 * The forward result is unchanged. Constant weights are permuted here; differentiated weights
 * (`leaves`) through Reshape/Transpose nodes, so their gradients come back in their own layout
 * (and ONNX Runtime folds the nodes where the weights are initializers).
 */
function crdToDcr(
  nodes: GraphNode[], initializers: Map<string, TensorData>, info: Map<string, TensorInfo>, keep: Set<string>, leaves: Set<string>,
  /** Weights with per-example gradients: their convs keep CRD (a permutation node would mix the batch axis in). */
  perExample: ReadonlySet<string> = new Set(),
): void {
  const producer = new Map<string, GraphNode>();
  const uses = new Map<string, number>();
  for (const n of nodes) {
    for (const o of n.outputs) if (o) producer.set(o, n);
    for (const i of n.inputs) if (i) uses.set(i, (uses.get(i) ?? 0) + 1);
  }
  const private1 = (v: string) => uses.get(v) === 1 && !keep.has(v) && !leaves.has(v);
  const inserted = new Map<GraphNode, GraphNode[]>();
  for (const d2s of nodes) {
    if (d2s.opType !== 'DepthToSpace' || d2s.attrs.mode !== 'CRD') continue;
    let v = d2s.inputs[0]!;
    let p = producer.get(v);
    let ok = private1(v);
    while (ok && p && channelwise.has(p.opType)) {
      v = p.inputs[0]!;
      ok = private1(v);
      p = producer.get(v);
    }
    if (!ok || !p || p.opType !== 'Conv') continue;
    const [, wName, bName] = p.inputs;
    if (perExample.has(wName!)) continue;
    // Grouped: a permutation over all output channels would move them between groups.
    if (Number(p.attrs.group ?? 1) !== 1) continue;
    const w = initializers.get(wName!);
    const b = bName ? initializers.get(bName) : undefined;
    const known = (name: string | undefined, t: TensorData | undefined) => !!t || (!!name && leaves.has(name) && !!info.get(name));
    if (!known(wName, w) || (bName && !known(bName, b))) continue;
    const dims = (name: string, t: TensorData | undefined) => t?.dims ?? info.get(name)!.shape;
    if (![wName!, bName].every((n) => !n || isFloat32(n, initializers, info))) continue;
    const bs = Number(d2s.attrs.blocksize);
    const m = dims(wName!, w)[0]!;
    const c = m / (bs * bs);
    // DCR channel (i*bs + j)*c + ch holds what CRD reads from ch*bs*bs + i*bs + j.
    const from = new Array<number>(m);
    for (let ch = 0; ch < c; ch++) for (let t = 0; t < bs * bs; t++) from[t * c + ch] = ch * bs * bs + t;
    const permute = (t: TensorData): TensorData => {
      const stride = t.data.length / m;
      const data = new Float32Array(t.data.length);
      for (let k = 0; k < m; k++) for (let q = 0; q < stride; q++) data[k * stride + q] = Number(t.data[from[k]! * stride + q]);
      return { dtype: 'float32', dims: t.dims, data };
    };
    const extra: GraphNode[] = [];
    // [c*bs*bs, ...] -> [c, bs*bs, rest] -> [bs*bs, c, rest] -> [c*bs*bs, ...]: the same permutation as nodes.
    const permuteNodes = (name: string, shape: number[]): string => {
      const rest = shape.slice(1).reduce((a, q) => a * q, 1);
      const ints = (suffix: string, values: number[]) => {
        const n = `${name}::dcr_${suffix}`;
        initializers.set(n, { dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
        return n;
      };
      const out = `${name}::dcr`;
      const split = `${name}::dcr_split`;
      const swapped = `${name}::dcr_swapped`;
      extra.push(
        { name: `${name}::dcr_reshape`, opType: 'Reshape', inputs: [name, ints('split_shape', [c, bs * bs, rest])], outputs: [split], attrs: {} },
        { name: `${name}::dcr_transpose`, opType: 'Transpose', inputs: [split], outputs: [swapped], attrs: { perm: [1, 0, 2] } },
        { name: `${name}::dcr_merge`, opType: 'Reshape', inputs: [swapped, ints('shape', shape)], outputs: [out], attrs: {} },
      );
      info.set(split, { dtype: 'float32', shape: [c, bs * bs, rest] });
      info.set(swapped, { dtype: 'float32', shape: [bs * bs, c, rest] });
      info.set(out, { dtype: 'float32', shape });
      return out;
    };
    const rewrite = (name: string, t: TensorData | undefined): string => {
      if (leaves.has(name)) return permuteNodes(name, dims(name, t));
      const n = `${name}::dcr`;
      initializers.set(n, permute(t!));
      if (uses.get(name) === 1) initializers.delete(name);
      return n;
    };
    const inputs = [p.inputs[0]!, rewrite(wName!, w)];
    if (bName) inputs.push(rewrite(bName, b));
    p.inputs = inputs;
    if (extra.length) inserted.set(p, extra);
    d2s.attrs = { ...d2s.attrs, mode: 'DCR' };
  }
  for (const [conv, extra] of inserted) nodes.splice(nodes.indexOf(conv), 0, ...extra);
}

function isFloat32(name: string, initializers: Map<string, TensorData>, info: Map<string, TensorInfo>): boolean {
  return (initializers.get(name)?.dtype ?? info.get(name)?.dtype) === 'float32';
}
