// Appends nodes to a graph under construction, keeping every new value's shape known and
// writing opset-dependent operators (Reduce*, Squeeze, Unsqueeze, Split, Slice, Pad) in the
// form the graph's opset expects.

import type { AttrValue, DType, GraphNode, TensorData } from '../graph/ir.js';
import { type ConstLookup, type TensorInfo, constantNodeValue, inferNode } from './shapes.js';

export class Emitter {
  readonly nodes: GraphNode[] = [];
  /** Weights whose gradient the rules give per batch element (GradientRequest.perExample). */
  perExample: ReadonlySet<string> = new Set();
  private counter = 0;
  private readonly intConsts = new Map<string, string>();

  constructor(
    readonly opset: number,
    readonly info: Map<string, TensorInfo>,
    readonly initializers: Map<string, TensorData>,
    private readonly prefix = 'lvi_grad/',
    /** Constant values beyond the initializers (Constant node outputs). */
    readonly constants: Map<string, TensorData> = new Map(),
  ) {}

  readonly lookup: ConstLookup = (name) => this.initializers.get(name) ?? this.constants.get(name);

  fresh(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.:/]/g, '_');
    return `${this.prefix}${clean}_${this.counter++}`;
  }

  shape(name: string): number[] {
    const i = this.info.get(name);
    if (!i) throw new Error(`gradient builder: no shape known for '${name}'`);
    return i.shape;
  }

  dtype(name: string): DType {
    return this.info.get(name)?.dtype ?? 'float32';
  }

  /** Emits a node with `nOut` outputs and returns their names. */
  opN(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, nOut = 1, hint = opType): string[] {
    const outputs = Array.from({ length: nOut }, () => this.fresh(hint));
    const node: GraphNode = { name: this.fresh(`${opType}_node`), opType, inputs, outputs, attrs };
    const infos = inferNode(node, inputs.map((n) => (n ? this.info.get(n) : undefined)), this.lookup, this.opset);
    outputs.forEach((o, i) => this.info.set(o, infos[i]!));
    if (opType === 'Constant') this.constants.set(outputs[0]!, constantNodeValue(node));
    this.nodes.push(node);
    return outputs;
  }

  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint = opType): string {
    return this.opN(opType, inputs, attrs, 1, hint)[0]!;
  }

  /** A constant tensor as an initializer. Float data is stored as float32. */
  tensor(data: Float32Array | Float64Array | number[], dims: number[], hint = 'const'): string {
    const name = this.fresh(hint);
    const t: TensorData = { dtype: 'float32', dims, data: Float32Array.from(data) };
    this.initializers.set(name, t);
    this.info.set(name, { dtype: 'float32', shape: dims });
    return name;
  }

  private readonly scalars = new Map<number, string>();

  /** A float32 scalar constant, shared between uses. */
  scalar(v: number): string {
    let name = this.scalars.get(v);
    if (!name) {
      name = this.tensor([v], [], 'scalar');
      this.scalars.set(v, name);
    }
    return name;
  }

  /** 1-D int64 constant, shared between uses. */
  ints(values: number[]): string {
    const key = values.join(',');
    const known = this.intConsts.get(key);
    if (known) return known;
    const name = this.fresh('ints');
    this.initializers.set(name, { dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    this.info.set(name, { dtype: 'int64', shape: [values.length] });
    this.intConsts.set(key, name);
    return name;
  }

  /** An int64 constant of any shape (not shared). */
  intTensor(values: number[], dims: number[], hint = 'indices'): string {
    const name = this.fresh(hint);
    this.initializers.set(name, { dtype: 'int64', dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    this.info.set(name, { dtype: 'int64', shape: dims });
    return name;
  }

  add(a: string, b: string): string { return this.op('Add', [a, b]); }
  sub(a: string, b: string): string { return this.op('Sub', [a, b]); }
  mul(a: string, b: string): string { return this.op('Mul', [a, b]); }
  div(a: string, b: string): string { return this.op('Div', [a, b]); }
  neg(a: string): string { return this.op('Neg', [a]); }

  /** Sum of a list of same-shape tensors. */
  sum(terms: string[]): string {
    if (terms.length === 1) return terms[0]!;
    if (terms.length === 2) return this.add(terms[0]!, terms[1]!);
    return this.op('Sum', terms);
  }

  reshape(x: string, dims: number[]): string {
    const s = this.shape(x);
    if (s.length === dims.length && s.every((d, i) => d === dims[i])) return x;
    return this.op('Reshape', [x, this.ints(dims)]);
  }

  transpose(x: string, perm: number[]): string {
    if (perm.every((p, i) => p === i)) return x;
    return this.op('Transpose', [x], { perm });
  }

  expand(x: string, dims: number[]): string {
    const s = this.shape(x);
    if (s.length === dims.length && s.every((d, i) => d === dims[i])) return x;
    return this.op('Expand', [x, this.ints(dims)]);
  }

  private reduce(opType: string, x: string, axes: number[], keepdims: boolean): string {
    if (axes.length === 0) return x;
    const attrs: Record<string, AttrValue> = { keepdims: keepdims ? 1 : 0 };
    const axesAsInput = opType === 'ReduceSum' ? this.opset >= 13 : this.opset >= 18;
    if (axesAsInput) return this.op(opType, [x, this.ints(axes)], attrs);
    return this.op(opType, [x], { ...attrs, axes });
  }

  reduceSum(x: string, axes: number[], keepdims = true): string { return this.reduce('ReduceSum', x, axes, keepdims); }
  reduceMean(x: string, axes: number[], keepdims = true): string { return this.reduce('ReduceMean', x, axes, keepdims); }

  unsqueeze(x: string, axes: number[]): string {
    if (this.opset >= 13) return this.op('Unsqueeze', [x, this.ints(axes)]);
    return this.op('Unsqueeze', [x], { axes });
  }

  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    const inputs = [x, this.ints(starts), this.ints(ends), this.ints(axes)];
    if (steps && steps.some((s) => s !== 1)) inputs.push(this.ints(steps));
    return this.op('Slice', inputs);
  }

  /** Constant-mode Pad with zeros (pads: begin..., end..., may be negative to crop). */
  pad(x: string, pads: number[]): string {
    if (pads.every((p) => p === 0)) return x;
    if (this.opset >= 11) return this.op('Pad', [x, this.ints(pads)], { mode: 'constant' });
    return this.op('Pad', [x], { mode: 'constant', pads, value: 0 });
  }

  /** Sums a broadcast gradient back to `target` (the operand's shape). */
  reduceTo(g: string, target: number[]): string {
    const s = this.shape(g);
    const lead = s.length - target.length;
    const axes: number[] = [];
    for (let i = 0; i < s.length; i++) {
      if (i < lead) axes.push(i);
      else if (target[i - lead] === 1 && s[i] !== 1) axes.push(i);
    }
    const r = this.reduceSum(g, axes, true);
    return this.reshape(r, target);
  }

  zerosLike(name: string): string {
    return this.expand(this.scalar(0), this.shape(name));
  }
}
