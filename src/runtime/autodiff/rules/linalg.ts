// Matrix products: MatMul (batched, broadcast, 1-D operands) and Gemm.

import { attrFloat, attrInt } from '../attrs.js';
import { first, mT, type Rule } from './common.js';

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
};
