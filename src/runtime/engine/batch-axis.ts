// Whether a graph keeps the items of a batch apart: batch B must equal B runs of batch 1, item
// by item. Exports often bake the batch into shapes (SwinIR's window_reverse views its windows as
// [1, 8, 8, 8, 8, -1], so at batch 3 the batch lands in the channel axis); shape inference then
// still succeeds and the batched result is silently wrong. This decides it from the graph.
//
// Method: the graph is specialised at batch 1 and at batch B. A value that depends on the input
// is "stacked" on axis k when its shape equals the batch-1 shape except axis k, B times larger,
// and index b*s + i of that axis holds index i of item b's batch-1 value. Each node's outputs
// must be stacked again, and the node must not mix entries along k (a reduction, softmax,
// contraction, slice or gather along it); Reshape and Flatten, which read memory order, need
// each item to be one block (every axis before k of size 1) on both sides. Operators not
// listed here are refused: the proof is conservative.

import type { Graph, GraphNode, TensorData } from '../graph/ir.js';
import { attrInt, attrStr } from '../graph/attrs.js';
import { padSpec, reduceAxes, sliceSpec, splitSizes, tensorNumbers, type ConstInput } from '../graph/params.js';
import { specialise } from '../onnx/specialise.js';

export interface BatchAxisVerdict {
  /** True when batch B provably computes each item as batch 1 does. */
  independent: boolean;
  /** Why not, naming the node. */
  reason?: string;
}

const ELEMENTWISE = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Exp', 'Log', 'Sqrt', 'Neg', 'Abs', 'Erf',
  'Gelu', 'Clip', 'Softplus', 'Softsign', 'Elu', 'Selu', 'Celu', 'Mish', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'Reciprocal',
  'Sign', 'ThresholdedRelu', 'Shrink', 'Identity', 'Dropout', 'Cast', 'CastLike', 'Not', 'IsNaN', 'IsInf',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Mod',
  'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Where', 'Expand',
]);
/** Operators over [N, C, spatial...] that treat axis 0 as the batch. */
const BATCH_FIRST = new Set([
  'Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool',
  'InstanceNormalization', 'BatchNormalization', 'GroupNormalization', 'LRN', 'DepthToSpace', 'SpaceToDepth', 'Resize', 'Upsample',
]);
/** Operators that move whole axes or add and drop axes of size 1. */
const LAYOUT = new Set(['Squeeze', 'Unsqueeze', 'Transpose']);

/**
 * Decides whether `graph` (image input `input`, item shape `item` = the input shape without its
 * batch axis) computes every item of a batch of `batch` as batch 1 computes it alone.
 */
export function batchAxisVerdict(graph: Graph, input: string, item: number[], batch: number): BatchAxisVerdict {
  if (batch <= 1) return { independent: true };
  const freed: Graph = {
    ...graph,
    inputs: graph.inputs.map((i) => (i.name === input ? { ...i, shape: ['N', ...i.shape.slice(1)] } : i)),
  };
  const g1 = specialise(freed, { [input]: [1, ...item] });
  let gb: Graph;
  try {
    gb = specialise(freed, { [input]: [batch, ...item] });
  } catch (e) {
    return { independent: false, reason: `the graph does not take batch ${batch}: ${(e as Error).message}` };
  }
  const shape1 = (v: string) => g1.valueInfo?.get(v)?.shape as number[] | undefined;
  const shapeB = (v: string) => gb.valueInfo?.get(v)?.shape as number[] | undefined;

  // Only nodes the outputs depend on matter.
  const producer = new Map<string, GraphNode>();
  for (const n of gb.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const needed = new Set<GraphNode>();
  const stack = gb.outputs.map((o) => o.name);
  while (stack.length) {
    const p = producer.get(stack.pop()!);
    if (!p || needed.has(p)) continue;
    needed.add(p);
    for (const i of p.inputs) if (i) stack.push(i);
  }

  const axis = new Map<string, number>([[input, 0]]);
  for (const node of gb.nodes) {
    if (!needed.has(node)) continue;
    const ins = node.inputs.map((n) => (n ? axis.get(n) : undefined));
    if (ins.every((a) => a === undefined)) continue;
    const where = `${node.opType} node '${node.name}'`;
    const outs: number[] = [];
    for (const o of node.outputs) {
      if (!o) continue;
      const k = stackedAxis(shape1(o), shapeB(o), batch);
      if (typeof k === 'string') return { independent: false, reason: `${where}: its output ${k}` };
      outs.push(k);
    }
    const problem = nodeProblem(node, ins, outs, (v) => shapeB(v) ?? gb.initializers.get(v)?.dims, (v) => gb.initializers.get(v), gb.opset, batch);
    if (problem) return { independent: false, reason: `${where} ${problem}` };
    node.outputs.forEach((o, i) => o && axis.set(o, outs[i]!));
  }
  for (const o of gb.outputs) {
    const k = axis.get(o.name);
    if (k !== 0) {
      return { independent: false, reason: `output '${o.name}' ${k === undefined ? 'does not depend on the input' : `holds the batch on axis ${k}, not 0`}` };
    }
  }
  return { independent: true };
}

/** The stacked axis of a value from its shapes at batch 1 and batch B, or what is wrong. */
function stackedAxis(s1: number[] | undefined, sb: number[] | undefined, batch: number): number | string {
  if (!s1 || !sb) return 'has no known shape';
  const show = `is [${s1}] at batch 1 and [${sb}] at batch ${batch}`;
  if (s1.length !== sb.length) return `${show}: the batch changes its rank`;
  const differ = sb.flatMap((d, i) => (d !== s1[i] ? [i] : []));
  if (differ.length === 0) return `${show}: the batch is folded into other entries (a reduction over it)`;
  const k = differ[0]!;
  if (differ.length > 1 || sb[k] !== batch * s1[k]!) return `${show}: the batch is spread over several axes`;
  return k;
}

/**
 * Why `node` mixes items along the stacked axis, or undefined. `ins[i]`: input i's stacked
 * axis (undefined for values that do not depend on the input); `outs`: the outputs' axes.
 */
function nodeProblem(
  node: GraphNode,
  ins: (number | undefined)[],
  outs: number[],
  dims: (v: string) => number[] | undefined,
  value: (v: string) => TensorData | undefined,
  opset: number,
  batch: number,
): string | undefined {
  const op = node.opType;
  const rank = (i: number) => dims(node.inputs[i]!)?.length ?? 0;
  const k = ins[0];
  const out = outs[0]!;
  const constInput: ConstInput = (i, what) => {
    const name = node.inputs[i];
    if (!name) return undefined;
    const t = value(name);
    if (!t) throw new Error(`${what} is computed from data`);
    return tensorNumbers(t);
  };
  const onlyFirst = (): string | undefined =>
    ins.slice(1).some((a) => a !== undefined) ? 'takes the input in a parameter (weights, scales) too' : undefined;
  const along = (axes: number[]) => (k !== undefined && axes.includes(k) ? `works along axis ${k}, which holds the batch` : undefined);
  try {
    if (ELEMENTWISE.has(op)) {
      const outRank = dims(node.outputs[0]!)?.length ?? 0;
      const outShape = dims(node.outputs[0]!) ?? [];
      for (let i = 0; i < node.inputs.length; i++) {
        if (!node.inputs[i] || (op === 'Expand' && i === 1)) continue;
        const shift = outRank - rank(i);
        const a = ins[i];
        if (a !== undefined) {
          if (a + shift !== out) return `broadcasts input ${i} so that its batch axis ${a} becomes axis ${a + shift}`;
        } else {
          const p = out - shift;
          const d = p >= 0 ? dims(node.inputs[i]!)?.[p] : 1;
          if (d !== 1 && d !== undefined && outShape[out] !== d) return `broadcasts input ${i} along the batch axis`;
        }
      }
      return undefined;
    }
    if (op === 'Reshape' || op === 'Flatten') {
      // These read entries in memory order: each item must be one block before and after.
      const before = (v: string, a: number) => dims(v)!.slice(0, a).some((d) => d !== 1);
      if (before(node.inputs[0]!, k!)) {
        return `reads entries in memory order while the items interleave ([${dims(node.inputs[0]!)}], batch on axis ${k})`;
      }
      if (before(node.outputs[0]!, out)) {
        return `reshapes to [${dims(node.outputs[0]!)}] at batch ${batch}: the batch lands in axis ${out}, behind axes that are not 1, ` +
          'so items interleave (as when the target shape holds a batch of 1 as a constant)';
      }
      return onlyFirst();
    }
    if (LAYOUT.has(op)) return onlyFirst(); // whole axes move or size-1 axes come and go
    if (BATCH_FIRST.has(op)) {
      if (k !== 0 || out !== 0) return `needs the batch on axis 0 (it is on axis ${k})`;
      if (op === 'MaxPool' && node.outputs[1]) return 'returns flat indices, which count across the batch';
      if (op === 'BatchNormalization' && attrInt(node, 'training_mode', 0) === 1) return 'computes statistics over the batch (training mode)';
      if (op === 'Resize' || op === 'Upsample') {
        const a = dims(node.inputs[0]!)!;
        const b = dims(node.outputs[0]!)!;
        if (a[0] !== b[0]) return 'resizes the batch axis';
      }
      return onlyFirst();
    }
    switch (op) {
      case 'Softmax': case 'LogSoftmax': case 'Hardmax': {
        const r = rank(0);
        const a = attrInt(node, 'axis', opset >= 13 ? -1 : 1);
        const ax = a < 0 ? a + r : a;
        return opset >= 13 ? along([ax]) : along([...Array(r - ax).keys()].map((i) => i + ax));
      }
      case 'LayerNormalization': {
        const r = rank(0);
        const a = attrInt(node, 'axis', -1);
        const ax = a < 0 ? a + r : a;
        return along([...Array(r - ax).keys()].map((i) => i + ax)) ?? onlyFirst();
      }
      case 'ReduceSum': case 'ReduceMean': case 'ReduceMax': case 'ReduceMin': case 'ReduceProd': case 'ReduceL1': case 'ReduceL2':
      case 'ReduceSumSquare': case 'ReduceLogSumExp':
        return along(reduceAxes(node, rank(0), constInput));
      case 'ArgMax': case 'ArgMin': case 'LpNormalization': {
        const a = attrInt(node, 'axis', op === 'LpNormalization' ? -1 : 0);
        return along([a < 0 ? a + rank(0) : a]);
      }
      case 'CumSum': {
        const a = constInput(1, 'axis')![0]!;
        return along([a < 0 ? a + rank(0) : a]);
      }
      case 'Split': {
        const a = attrInt(node, 'axis', 0);
        const ax = a < 0 ? a + rank(0) : a;
        splitSizes(node, dims(node.inputs[0]!)![ax]!, constInput);
        return along([ax]) ?? onlyFirst();
      }
      case 'Concat': {
        const a = attrInt(node, 'axis', 0);
        const ax = a < 0 ? a + rank(0) : a;
        if (ins.some((x, i) => node.inputs[i] && x === undefined)) return 'joins the input with values that do not depend on it';
        if (ins.some((x) => x !== ins[0])) return 'joins inputs whose batch sits on different axes';
        return along([ax]);
      }
      case 'Slice': {
        const shape = dims(node.inputs[0]!)!;
        const spec = sliceSpec(node, shape, constInput);
        const i = spec.axes.indexOf(k!);
        if (i >= 0 && !(spec.starts[i] === 0 && spec.steps[i] === 1 && spec.ends[i]! >= shape[k!]!)) return along([k!]);
        return onlyFirst();
      }
      case 'Pad': {
        const r = rank(0);
        const { pads } = padSpec(node, r, constInput);
        if (pads[k!] !== 0 || pads[k! + r] !== 0) return along([k!]);
        return onlyFirst();
      }
      case 'Tile': {
        const reps = constInput(1, 'repeats')!;
        return reps[k!] !== 1 ? along([k!]) : onlyFirst();
      }
      case 'Gather': {
        if (ins[1] !== undefined) return 'gathers with indices computed from the input';
        const a = attrInt(node, 'axis', 0);
        return along([a < 0 ? a + rank(0) : a]);
      }
      case 'GatherElements': {
        const a = attrInt(node, 'axis', 0);
        if (ins[1] !== k) return 'gathers with indices whose batch is not the data\'s';
        return along([a < 0 ? a + rank(0) : a]);
      }
      case 'Trilu':
        return along([rank(0) - 2, rank(0) - 1]);
      case 'MatMul':
        return matmulProblem(ins, out, rank(0), rank(1), dims(node.outputs[0]!)!.length);
      case 'Gemm': {
        // A [M, K] (or [K, M] with transA), B [K, N] (or [N, K] with transB): rows of A and
        // columns of B stay apart, the contracted K does not.
        const tA = attrInt(node, 'transA', 0) === 1;
        const tB = attrInt(node, 'transB', 0) === 1;
        if (ins[0] !== undefined && ins[0] !== (tA ? 1 : 0)) return 'contracts the batch axis of A';
        if (ins[1] !== undefined && ins[1] !== (tB ? 0 : 1)) return 'contracts the batch axis of B';
        if (ins[0] !== undefined && out !== 0) return 'moves the batch of A';
        if (ins[1] !== undefined && out !== 1) return 'moves the batch of B';
        if (ins[2] !== undefined && ins[2] + (2 - rank(2)) !== out) return 'broadcasts C across the batch';
        return undefined;
      }
      case 'Einsum':
        return einsumProblem(attrStr(node, 'equation', ''), ins, out);
    }
  } catch (e) {
    return `cannot be checked: ${(e as Error).message}`;
  }
  return `(operator ${op}) is not known to keep batch items apart`;
}

/** MatMul over [..., M, K] x [..., K, N]: the batch must be a broadcast batch axis, M of A or N of B. */
function matmulProblem(ins: (number | undefined)[], out: number, ra: number, rb: number, ro: number): string | undefined {
  const sides: [number | undefined, number, number, number][] = [
    [ins[0], ra, ra - 1, ra === 1 ? -1 : ro - 2], // contracted axis, where M lands
    [ins[1], rb, rb - 2, rb === 1 ? -1 : ro - 1],
  ];
  for (const [a, r, contracted, lands] of sides) {
    if (a === undefined) continue;
    if (r === 1 || a === contracted) return 'contracts the batch axis';
    const at = a >= r - 2 ? lands : a + (ro - r);
    if (at !== out) return `moves the batch from axis ${a} to axis ${at}`;
  }
  return undefined;
}

/** Einsum: every stacked operand holds the batch under one letter, kept in the output once. */
function einsumProblem(equation: string, ins: (number | undefined)[], out: number): string | undefined {
  const eq = equation.replace(/\s/g, '');
  if (eq.includes('.')) return 'uses an ellipsis (not checked)';
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  let letter: string | undefined;
  for (let i = 0; i < terms.length; i++) {
    const a = ins[i];
    if (a === undefined) continue;
    const l = terms[i]![a];
    if (!l || [...terms[i]!].filter((c) => c === l).length !== 1) return 'repeats the batch axis\'s letter';
    if (letter !== undefined && l !== letter) return 'holds the batch under different letters';
    letter = l;
  }
  if (!letter) return undefined;
  if (terms.some((t, i) => ins[i] === undefined && t.includes(letter!))) return `indexes a constant operand by the batch letter '${letter}'`;
  const output = rhs ?? [...new Set(lhs.replace(/,/g, ''))].filter((c) => lhs.split(c).length === 2).sort().join('');
  if (output.indexOf(letter) !== out) return `sums over the batch letter '${letter}'`;
  return undefined;
}
