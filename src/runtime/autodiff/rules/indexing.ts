// Gathers and scatters. A gather's gradient is a scatter-add of the output gradient: one
// ScatterND/ScatterElements with reduction 'add' from opset 16; before it, the indices
// (constant) are split into rounds in which no target repeats, one plain ScatterND each,
// summed (HAT's nn.Unfold gathers overlapping windows: every target repeats).

import type { AttrValue, GraphNode } from '../../graph/ir.js';
import { tensorNumbers } from '../../graph/params.js';
import { elementTargets } from '../../onnx/index-ops.js';
import { attrInt, attrStr } from '../attrs.js';
import type { Emitter } from '../emitter.js';
import { normAxis } from '../shapes.js';
import { first, type Grad, type Rule, unsupported, zero } from './common.js';

/** Constant indices as numbers, negatives counted from the end of an axis of size n. */
function constIndices(e: Emitter, name: string, n: (p: number) => number): number[] | undefined {
  const t = e.lookup(name);
  if (!t) return undefined;
  return tensorNumbers(t).map((i, p) => (i < 0 ? i + n(p) : i));
}

/** Runtime indices with negatives counted from the end of an axis of size n. */
function wrapIndices(e: Emitter, name: string, n: number): string {
  const ints = e.dtype(name) === 'int64' ? name : e.op('Cast', [name], { to: 7 });
  const neg = e.op('Less', [ints, e.ints([0])]);
  return e.op('Where', [neg, e.op('Add', [ints, e.ints([n])]), ints]);
}

/** Groups positions 0..n-1 so that no two in a group share a target: its k-th use goes to group k. */
function rounds(targets: number[]): number[][] {
  const seen = new Map<number, number>();
  const out: number[][] = [];
  targets.forEach((t, p) => {
    const k = seen.get(t) ?? 0;
    seen.set(t, k + 1);
    (out[k] ??= []).push(p);
  });
  return out;
}

/**
 * Adds the rows of `rows` [n, ...rest] into zeros [size, ...rest] at `targets` (constant row
 * indices): ScatterND with reduction add, or rounds of plain ScatterND before opset 16.
 */
function scatterAddRows(e: Emitter, rows: string, targets: number[], size: number, node: GraphNode): string {
  const rest = e.shape(rows).slice(1);
  const zeros = e.expand(zero(e), [size, ...rest]);
  if (targets.length === 0) return zeros;
  if (e.opset >= 16) return e.op('ScatterND', [zeros, e.intTensor(targets, [targets.length, 1]), rows], { reduction: 'add' });
  if (e.opset < 11) unsupported(node, `needs opset 11 or later (ScatterND) for its gradient, the graph has ${e.opset}`);
  const parts = rounds(targets).map((ps) => {
    const upd = ps.length === targets.length ? rows : e.op('Gather', [rows, e.ints(ps)], { axis: 0 });
    return e.op('ScatterND', [zeros, e.intTensor(ps.map((p) => targets[p]!), [ps.length, 1]), upd]);
  });
  return e.sum(parts);
}

function gatherRule(node: GraphNode, gy: Grad[], e: Emitter, needs: boolean[]): Grad[] {
  if (!needs[0]) return [];
  const g = first(gy, node);
  const [data, indices] = node.inputs as [string, string];
  const ds = e.shape(data);
  const r = ds.length;
  const a = normAxis(attrInt(node, 'axis', 0), r);
  const n = ds[a]!;
  const is = e.shape(indices);
  const q = is.length;
  const idx = constIndices(e, indices, () => n);
  if (idx?.some((i) => i < 0 || i >= n)) unsupported(node, `an index lies outside 0..${n - 1}`);
  if (idx && q === 0) {
    // One slice (q, k, v = qkv[0..2]): put it back in place.
    const pads = new Array<number>(2 * r).fill(0);
    pads[a] = idx[0]!;
    pads[a + r] = n - 1 - idx[0]!;
    return [e.pad(e.unsqueeze(g, [a]), pads)];
  }
  // The index axes to the front, [indices..., data axes but a], scattered into [n, ...].
  const gr = e.shape(g).length;
  const perm = [...[...Array(q).keys()].map((i) => a + i), ...[...Array(a).keys()], ...[...Array(gr - a - q).keys()].map((i) => a + q + i)];
  const gT = e.transpose(g, perm);
  const rest = [...ds.slice(0, a), ...ds.slice(a + 1)];
  let s: string;
  if (idx) {
    s = scatterAddRows(e, e.reshape(gT, [idx.length, ...rest]), idx, n, node);
  } else {
    if (e.opset < 16) unsupported(node, `indices computed from data need opset 16 or later (ScatterND with reduction add), the graph has ${e.opset}`);
    const where = e.unsqueeze(wrapIndices(e, indices, n), [q]);
    s = e.op('ScatterND', [e.expand(zero(e), [n, ...rest]), where, gT], { reduction: 'add' });
  }
  // [n, ...rest] -> axis 0 back to position a.
  const back = [...[...Array(a).keys()].map((i) => i + 1), 0, ...[...Array(r - a - 1).keys()].map((i) => a + 1 + i)];
  return [e.transpose(s, back)];
}

function gatherElementsRule(node: GraphNode, gy: Grad[], e: Emitter, needs: boolean[]): Grad[] {
  if (!needs[0]) return [];
  const g = first(gy, node);
  const [data, indices] = node.inputs as [string, string];
  const ds = e.shape(data);
  const a = normAxis(attrInt(node, 'axis', 0), ds.length);
  const t = e.lookup(indices);
  if (e.opset >= 16) {
    const idx = t ? e.intTensor(constIndices(e, indices, () => ds[a]!)!, e.shape(indices)) : wrapIndices(e, indices, ds[a]!);
    return [e.op('ScatterElements', [e.expand(zero(e), ds), idx, g], { axis: a, reduction: 'add' })];
  }
  if (!t) unsupported(node, `indices computed from data need opset 16 or later (ScatterElements with reduction add), the graph has ${e.opset}`);
  const targets = elementTargets(ds, { dims: t.dims, data: tensorNumbers(t) }, a);
  const total = ds.reduce((p, d) => p * d, 1);
  const flat = scatterAddRows(e, e.reshape(g, [targets.length]), targets, total, node);
  return [e.reshape(flat, ds)];
}

/** ScatterND/ScatterElements: updates' gradient gathered from the output's; data's where not overwritten. */
function scatterRule(elements: boolean): Rule {
  return (node, gy, e, needs) => {
    const g = first(gy, node);
    const [, indices, updates] = node.inputs as [string, string, string];
    const reduction = attrStr(node, 'reduction', 'none');
    if (reduction !== 'none' && reduction !== 'add') unsupported(node, `reduction '${reduction}' is not supported`);
    const attrs: Record<string, AttrValue> = elements ? { axis: normAxis(attrInt(node, 'axis', 0), e.shape(g).length) } : {};
    const op = elements ? 'ScatterElements' : 'ScatterND';
    const gatherOp = elements ? 'GatherElements' : 'GatherND';
    return [
      needs[0] ? (reduction === 'add' ? g : e.op(op, [g, indices, e.zerosLike(updates)], attrs)) : undefined,
      undefined,
      needs[2] ? e.op(gatherOp, [g, indices], attrs) : undefined,
    ];
  };
}

export const indexingRules: Record<string, Rule> = {
  Gather: gatherRule,
  GatherElements: gatherElementsRule,
  ScatterND: scatterRule(false),
  ScatterElements: scatterRule(true),
};
