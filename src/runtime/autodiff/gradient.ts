// Reverse-mode autodiff over the graph IR: forward graph + objective + backward nodes in one
// ONNX graph, so ONNX Runtime runs forward and backward in a single session.

import type { GradientGraph, GradientRequest } from '../api.js';
import type { DType, Graph, GraphNode, TensorData, ValueInfo } from '../graph/ir.js';
import { specialise } from '../onnx/specialise.js';
import { Emitter } from './emitter.js';
import { OBJECTIVE, emitObjective } from './objective.js';
import { GradientRuleError, rules } from './rules.js';
import { constantNodeValue, inferShapes } from './shapes.js';

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
  const freed: Graph = {
    ...forward,
    inputs: forward.inputs.map((i) => (i.name === input.name && i.shape.length > 0 ? { ...i, shape: ['N', ...i.shape.slice(1)] } : i)),
    outputs: forward.outputs.map((o) => (o.shape.length > 0 ? { ...o, shape: ['N', ...o.shape.slice(1)] } : o)),
  };
  const specialised = specialise(freed, { [input.name]: shape });
  // Nodes are copied so that rewrites below never touch the caller's graph.
  const spec: Graph = { ...specialised, nodes: specialised.nodes.map((n) => ({ ...n })) };
  const info = inferShapes(spec, { [input.name]: shape });
  const initializers = new Map<string, TensorData>(spec.initializers);
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
    // Differentiated weights become graph inputs so they can change between runs (FAIG paths).
    initializers.delete(w);
    inputs.push({ name: w, dtype: t.dtype, shape: t.dims });
    leaves.add(w);
  }
  if (leaves.size === 0) throw new Error('gradient request: nothing to differentiate (wrtInput false, no wrtWeights)');

  crdToDcr(spec.nodes, initializers, new Set([...leaves, ...spec.outputs.map((o) => o.name)]));
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
  const grads = new Map<string, string[]>();
  const accumulate = (name: string): string | undefined => {
    const terms = grads.get(name);
    if (!terms || terms.length === 0) return undefined;
    const total = e.sum(terms);
    grads.set(name, [total]);
    return total;
  };
  const objShape = info.get(OBJECTIVE)!.shape;
  grads.set(OBJECTIVE, [e.tensor(new Float32Array(objShape.reduce((a, b) => a * b, 1)).fill(1), objShape, 'seed')]);

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
    const g = accumulate(leaf) ?? e.expand(e.scalar(0), info.get(leaf)!.shape);
    e.nodes.push({ name: `${name}_node`, opType: 'Identity', inputs: [g], outputs: [name], attrs: {} });
    const li = info.get(leaf)!;
    info.set(name, { dtype: li.dtype, shape: li.shape });
    return { name, dtype: li.dtype, shape: li.shape };
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
 * Where the shuffled value comes from a Conv with constant weights (through element-wise
 * activations only), permuting that Conv's output channels turns the node into DCR mode, whose
 * backward is one SpaceToDepth. The forward result is unchanged (a permutation of constants).
 */
function crdToDcr(nodes: GraphNode[], initializers: Map<string, TensorData>, keep: Set<string>): void {
  const producer = new Map<string, GraphNode>();
  const uses = new Map<string, number>();
  for (const n of nodes) {
    for (const o of n.outputs) if (o) producer.set(o, n);
    for (const i of n.inputs) if (i) uses.set(i, (uses.get(i) ?? 0) + 1);
  }
  const private1 = (v: string) => uses.get(v) === 1 && !keep.has(v);
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
    const w = initializers.get(wName!);
    const b = bName ? initializers.get(bName) : undefined;
    if (!w || (bName && !b) || keep.has(wName!) || (bName && keep.has(bName))) continue;
    const bs = Number(d2s.attrs.blocksize);
    const m = w.dims[0]!;
    const c = m / (bs * bs);
    const per = w.data.length / m;
    // DCR channel (i*bs + j)*c + ch holds what CRD reads from ch*bs*bs + i*bs + j.
    const from = new Array<number>(m);
    for (let ch = 0; ch < c; ch++) for (let t = 0; t < bs * bs; t++) from[t * c + ch] = ch * bs * bs + t;
    const permute = (t: TensorData, stride: number): TensorData => {
      const data = new Float32Array(t.data.length);
      for (let k = 0; k < m; k++) for (let q = 0; q < stride; q++) data[k * stride + q] = Number(t.data[from[k]! * stride + q]);
      return { dtype: 'float32', dims: t.dims, data };
    };
    if (w.dtype !== 'float32' || (b && b.dtype !== 'float32')) continue;
    const wNew = `${wName}::dcr`;
    initializers.set(wNew, permute(w, per));
    const inputs = [p.inputs[0]!, wNew];
    if (b) {
      initializers.set(`${bName}::dcr`, permute(b, 1));
      inputs.push(`${bName}::dcr`);
    }
    if (uses.get(wName!) === 1) initializers.delete(wName!);
    if (bName && uses.get(bName) === 1) initializers.delete(bName);
    p.inputs = inputs;
    d2s.attrs = { ...d2s.attrs, mode: 'DCR' };
  }
}
