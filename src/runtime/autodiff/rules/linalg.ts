// Matrix products: MatMul (batched, broadcast, 1-D operands), Gemm and Einsum.

import type { GraphNode } from '../../graph/ir.js';
import { einsumSizes, parseEinsum } from '../../onnx/index-ops.js';
import { attrFloat, attrInt, attrStr } from '../attrs.js';
import type { Emitter } from '../emitter.js';
import { first, type Grad, mT, type Rule, unsupported } from './common.js';

export const linalgRules: Record<string, Rule> = {
  MatMul: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b] = node.inputs as [string, string];
    const as = e.shape(a);
    const bs = e.shape(b);
    const a2 = as.length === 1 ? e.reshape(a, [1, as[0]!]) : a;
    const b2 = bs.length === 1 ? e.reshape(b, [bs[0]!, 1]) : b;
    const gShape = [...e.shape(g)];
    if (as.length === 1) gShape.splice(gShape.length - (bs.length === 1 ? 0 : 1), 0, 1);
    if (bs.length === 1) gShape.push(1);
    const g2 = e.reshape(g, gShape);
    return [
      needs[0] ? e.reshape(e.reduceTo(e.op('MatMul', [g2, mT(e, b2)]), e.shape(a2)), as) : undefined,
      needs[1] ? e.reshape(e.reduceTo(e.op('MatMul', [mT(e, a2), g2]), e.shape(b2)), bs) : undefined,
    ];
  },
  Gemm: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b, c] = node.inputs as [string, string, string | undefined];
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    const tA = attrInt(node, 'transA', 0);
    const tB = attrInt(node, 'transB', 0);
    const ga = !needs[0] ? undefined
      : tA ? e.op('Gemm', [b, g], { alpha, transA: tB, transB: 1 })
      : e.op('Gemm', [g, b], { alpha, transB: tB ? 0 : 1 });
    const gb = !needs[1] ? undefined
      : tB ? e.op('Gemm', [g, a], { alpha, transA: 1, transB: tA })
      : e.op('Gemm', [a, g], { alpha, transA: tA ? 0 : 1 });
    const gc = needs[2] && c ? e.reduceTo(beta === 1 ? g : e.mul(g, e.scalar(beta)), e.shape(c)) : undefined;
    return [ga, gb, gc];
  },
  Einsum: einsumRule,
};

/**
 * Einsum: operand i's gradient is the Einsum of the output gradient with the other operands
 * onto i's letters. Letters only operand i holds (summed in the forward) come back by
 * broadcasting, and size-1 axes that the forward broadcast are summed back.
 */
function einsumRule(node: GraphNode, gy: Grad[], e: Emitter, needs: boolean[]): Grad[] {
  const g = first(gy, node);
  const dims = node.inputs.map((i) => e.shape(i));
  const spec = parseEinsum(attrStr(node, 'equation', ''), dims.map((d) => d.length));
  const size = einsumSizes(spec, dims);
  return node.inputs.map((x, i) => {
    if (!needs[i]) return undefined;
    const term = spec.inputs[i]!;
    if (new Set(term).size !== term.length) unsupported(node, `operand ${i} repeats a letter ('${term}'): diagonals are not supported`);
    const others = spec.inputs.filter((_, j) => j !== i);
    const kept = [...term].filter((c) => spec.output.includes(c) || others.some((t) => t.includes(c))).join('');
    const terms = [spec.output, ...others];
    const equation = `${terms.join(',')}->${kept}`;
    let r = e.op('Einsum', [g, ...node.inputs.filter((_, j) => j !== i)], { equation });
    // Letters of operand i alone: unsqueeze, then expand to their sizes.
    const missing = [...term].flatMap((c, d) => (kept.includes(c) ? [] : [d]));
    if (missing.length) r = e.unsqueeze(r, missing);
    const full = [...term].map((c) => size.get(c)!);
    r = e.expand(r, full);
    const axes = dims[i]!.flatMap((d, k) => (d === 1 && full[k] !== 1 ? [k] : []));
    return axes.length ? e.reduceSum(r, axes, true) : r;
  });
}

