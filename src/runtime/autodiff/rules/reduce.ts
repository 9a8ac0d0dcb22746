// Reductions and normalisations: ReduceSum/Mean, Softmax, batch/layer/instance normalisation.

import type { GraphNode } from '../../graph/ir.js';
import { attrFloat, attrInt, product } from '../attrs.js';
import type { Emitter } from '../emitter.js';
import { normAxis, reduceAxes } from '../shapes.js';
import { first, type Grad, type Rule, unsupported } from './common.js';

export const reduceRules: Record<string, Rule> = {
  BatchNormalization: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [x, scale, bias, mean, v] = node.inputs as [string, string, string, string, string];
    const c = e.shape(scale)[0]!;
    const r = e.shape(x).length;
    const col = (t: string) => e.reshape(t, [c, ...new Array(r - 2).fill(1)]);
    const rstd = e.op('Reciprocal', [e.op('Sqrt', [e.add(col(v), e.scalar(attrFloat(node, 'epsilon', 1e-5)))])]);
    const axes = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2)];
    const xhat = () => e.mul(e.sub(x, col(mean)), rstd);
    return [
      needs[0] ? e.mul(g, e.mul(col(scale), rstd)) : undefined,
      needs[1] ? e.reshape(e.reduceSum(e.mul(g, xhat()), axes), [c]) : undefined,
      needs[2] ? e.reshape(e.reduceSum(g, axes), [c]) : undefined,
      needs[3] ? unsupported(node, 'gradient with respect to the running mean is not supported') : undefined,
      needs[4] ? unsupported(node, 'gradient with respect to the running variance is not supported') : undefined,
    ];
  },
  ReduceSum: (node, gy, e, needs) => reduceRule(node, gy, e, needs, false),
  ReduceMean: (node, gy, e, needs) => reduceRule(node, gy, e, needs, true),
  Softmax: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    const g = first(gy, node);
    const y = node.outputs[0]!;
    const r = e.shape(y).length;
    const axis = normAxis(attrInt(node, 'axis', e.opset >= 13 ? -1 : 1), r);
    const axes = e.opset >= 13 ? [axis] : [...Array(r - axis).keys()].map((i) => i + axis);
    const gyy = e.mul(g, y);
    return [e.sub(gyy, e.mul(y, e.reduceSum(gyy, axes, true)))];
  },
  LayerNormalization: (node, gy, e, needs) => {
    const xs = e.shape(node.inputs[0]!);
    const axis = normAxis(attrInt(node, 'axis', -1), xs.length);
    const axes = [...Array(xs.length - axis).keys()].map((i) => i + axis);
    return normRule(node, first(gy, node), e, needs, axes, (t) => t);
  },
  InstanceNormalization: (node, gy, e, needs) => {
    const xs = e.shape(node.inputs[0]!);
    const axes = [...Array(xs.length - 2).keys()].map((i) => i + 2);
    const c = xs[1]!;
    return normRule(node, first(gy, node), e, needs, axes, (t) => e.reshape(t, [c, ...new Array(xs.length - 2).fill(1)]));
  },
};

function reduceRule(node: GraphNode, gy: Grad[], e: Emitter, needs: boolean[], mean: boolean): Grad[] {
  if (!needs[0]) return [];
  const xs = e.shape(node.inputs[0]!);
  const axes = reduceAxes(node, xs.length, e.lookup);
  let g = e.reshape(first(gy, node), xs.map((d, i) => (axes.includes(i) ? 1 : d)));
  if (mean) g = e.mul(g, e.scalar(1 / product(axes.map((a) => xs[a]!))));
  return [e.expand(g, xs)];
}

/** Layer/instance normalisation: statistics are recomputed from x (cheap next to convolutions). */
function normRule(
  node: GraphNode, g: string, e: Emitter, needs: boolean[], axes: number[], param: (t: string) => string,
): Grad[] {
  const [x, scale, bias] = node.inputs as [string, string, string | undefined];
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const mu = e.reduceMean(x, axes);
  const xc = e.sub(x, mu);
  const v = e.reduceMean(e.mul(xc, xc), axes);
  const rstd = e.op('Reciprocal', [e.op('Sqrt', [e.add(v, e.scalar(eps))])]);
  const xhat = e.mul(xc, rstd);
  let gx: string | undefined;
  if (needs[0]) {
    const dxhat = e.mul(g, param(scale));
    const m1 = e.reduceMean(dxhat, axes);
    const m2 = e.reduceMean(e.mul(dxhat, xhat), axes);
    gx = e.mul(rstd, e.sub(e.sub(dxhat, m1), e.mul(xhat, m2)));
  }
  const paramGrad = (t: string, name: string) => {
    const ps = e.shape(name);
    return e.reshape(e.reduceTo(t, e.shape(param(name))), ps);
  };
  return [
    gx,
    needs[1] ? paramGrad(e.mul(g, xhat), scale) : undefined,
    needs[2] && bias ? paramGrad(g, bias) : undefined,
  ];
}
