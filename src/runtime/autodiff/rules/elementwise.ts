// Element-wise operators: activations and broadcasting arithmetic. A broadcast operand's
// gradient is summed back to its own shape (Emitter.reduceTo).

import type { GraphNode } from '../../graph/ir.js';
import { attrFloat, attrStr } from '../attrs.js';
import type { Emitter } from '../emitter.js';
import { castMask, first, type Grad, maskMul, type Rule, unary, zero } from './common.js';

export const elementwiseRules: Record<string, Rule> = {
  Identity: (node, gy) => [gy[0]],
  Dropout: (node, gy) => [gy[0]],
  Constant: () => [],
  Cast: unary((x, _y, g, e) => (e.dtype(x) === e.dtype(g) ? g : e.op('Cast', [g], { to: e.dtype(x) === 'float64' ? 11 : 1 }))),
  // The mask is read from the ReLU's output, so the Conv+ReLU fusion of the forward stays intact.
  Relu: unary((_x, y, g, e) => maskMul(e, g, e.op('Greater', [y, zero(e)]))),
  LeakyRelu: unary((x, y, g, e, node) => {
    const alpha = attrFloat(node, 'alpha', 0.01);
    // With alpha >= 0 the output has the input's sign: reading the output keeps Conv fusion.
    const ref = alpha >= 0 ? y : x;
    const pos = castMask(e, e.op('Greater', [ref, zero(e)]), g);
    return e.mul(g, e.add(e.mul(pos, e.scalar(1 - alpha)), e.scalar(alpha)));
  }),
  Sigmoid: unary((_x, y, g, e) => e.mul(g, e.mul(y, e.sub(e.scalar(1), y)))),
  Tanh: unary((_x, y, g, e) => e.mul(g, e.sub(e.scalar(1), e.mul(y, y)))),
  Exp: unary((_x, y, g, e) => e.mul(g, y)),
  Log: unary((x, _y, g, e) => e.div(g, x)),
  Neg: unary((_x, _y, g, e) => e.neg(g)),
  Abs: unary((x, _y, g, e) => e.mul(g, e.op('Sign', [x]))),
  Reciprocal: unary((_x, y, g, e) => e.neg(e.mul(g, e.mul(y, y)))),
  // d sqrt(x) = 1 / (2 sqrt(x)); taken as 0 where sqrt(x) = 0, so an exact zero never gives 0 * inf.
  Sqrt: unary((_x, y, g, e) =>
    e.op('Where', [e.op('Equal', [y, zero(e)]), zero(e), e.div(e.mul(g, e.scalar(0.5)), y)])),
  Erf: unary((x, _y, g, e) =>
    e.mul(g, e.mul(e.scalar(2 / Math.sqrt(Math.PI)), e.op('Exp', [e.neg(e.mul(x, x))])))),
  // GELU (opset 20): d/dx x Phi(x) = Phi(x) + x phi(x); the tanh form by its own formula.
  Gelu: unary((x, _y, g, e, node) => {
    if (attrStr(node, 'approximate', 'none') === 'tanh') {
      const c = Math.sqrt(2 / Math.PI);
      const x2 = e.mul(x, x);
      const t = e.op('Tanh', [e.mul(e.scalar(c), e.add(x, e.mul(e.scalar(0.044715), e.mul(x2, x))))]);
      const du = e.mul(e.scalar(c), e.add(e.scalar(1), e.mul(e.scalar(3 * 0.044715), x2)));
      const half = e.mul(e.scalar(0.5), e.add(e.scalar(1), t));
      const dt = e.mul(e.mul(e.scalar(0.5), x), e.mul(e.sub(e.scalar(1), e.mul(t, t)), du));
      return e.mul(g, e.add(half, dt));
    }
    const cdf = e.mul(e.scalar(0.5), e.add(e.scalar(1), e.op('Erf', [e.mul(x, e.scalar(Math.SQRT1_2))])));
    const pdf = e.mul(e.scalar(1 / Math.sqrt(2 * Math.PI)), e.op('Exp', [e.mul(e.mul(x, x), e.scalar(-0.5))]));
    return e.mul(g, e.add(cdf, e.mul(x, pdf)));
  }),
  Softplus: unary((x, _y, g, e) => e.mul(g, e.op('Sigmoid', [x]))),
  // Gradient passes where the value was not clipped (x == clip(x), bounds included).
  Clip: (node, gy, e, needs) => [needs[0] ? maskMul(e, first(gy, node), e.op('Equal', [node.inputs[0]!, node.outputs[0]!])) : undefined],
  PRelu: (node, gy, e, needs) => {
    const [x, slope] = node.inputs as [string, string];
    const g = first(gy, node);
    const neg = castMask(e, e.op('Less', [x, zero(e)]), g);
    // dy/dx = 1 + [x < 0] (slope - 1); the slope term is tiny, the mask is one multiply.
    return [
      needs[0] ? e.mul(g, e.add(e.mul(neg, e.sub(slope, e.scalar(1))), e.scalar(1))) : undefined,
      needs[1] ? e.reduceTo(e.mul(g, e.op('Min', [x, zero(e)])), e.shape(slope)) : undefined,
    ];
  },
  Where: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [c, a, b] = node.inputs as [string, string, string];
    return [
      undefined,
      needs[1] ? e.reduceTo(e.op('Where', [c, g, zero(e)]), e.shape(a)) : undefined,
      needs[2] ? e.reduceTo(e.op('Where', [c, zero(e), g]), e.shape(b)) : undefined,
    ];
  },
  // Max/Min: the gradient goes to the operand(s) equal to the result.
  Max: (node, gy, e, needs) => selectRule(node, first(gy, node), e, needs),
  Min: (node, gy, e, needs) => selectRule(node, first(gy, node), e, needs),
  Add: (node, gy, e, needs) => {
    const g = first(gy, node);
    return node.inputs.map((i, k) => (needs[k] ? e.reduceTo(g, e.shape(i)) : undefined));
  },
  Sum: (node, gy, e, needs) => {
    const g = first(gy, node);
    return node.inputs.map((i, k) => (needs[k] ? e.reduceTo(g, e.shape(i)) : undefined));
  },
  Sub: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b] = node.inputs as [string, string];
    return [needs[0] ? e.reduceTo(g, e.shape(a)) : undefined, needs[1] ? e.reduceTo(e.neg(g), e.shape(b)) : undefined];
  },
  Mul: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b] = node.inputs as [string, string];
    return [
      needs[0] ? e.reduceTo(e.mul(g, b), e.shape(a)) : undefined,
      needs[1] ? e.reduceTo(e.mul(g, a), e.shape(b)) : undefined,
    ];
  },
  Div: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b] = node.inputs as [string, string];
    const y = node.outputs[0]!;
    return [
      needs[0] ? e.reduceTo(e.div(g, b), e.shape(a)) : undefined,
      needs[1] ? e.reduceTo(e.neg(e.div(e.mul(g, y), b)), e.shape(b)) : undefined,
    ];
  },
  // Float Mod: y = a - b q with q = trunc(a / b) (fmod=1) or floor (fmod=0), constant almost everywhere.
  Mod: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b] = node.inputs as [string, string];
    const q = e.div(e.sub(a, node.outputs[0]!), b);
    return [
      needs[0] ? e.reduceTo(g, e.shape(a)) : undefined,
      needs[1] ? e.reduceTo(e.neg(e.mul(g, q)), e.shape(b)) : undefined,
    ];
  },
  Pow: (node, gy, e, needs) => {
    const g = first(gy, node);
    const [a, b] = node.inputs as [string, string];
    const y = node.outputs[0]!;
    let ga: string | undefined;
    if (needs[0]) {
      const bc = e.lookup(b);
      const bv = bc && bc.data.length === 1 ? Number(bc.data[0]) : undefined;
      const dpow = bv === 2 ? e.mul(a, e.scalar(2))
        : bv === 1 ? undefined
        : e.mul(b, e.op('Pow', [a, e.sub(b, e.scalar(1))]));
      ga = e.reduceTo(dpow ? e.mul(g, dpow) : g, e.shape(a));
    }
    return [ga, needs[1] ? e.reduceTo(e.mul(g, e.mul(y, e.op('Log', [a]))), e.shape(b)) : undefined];
  },
};

function selectRule(node: GraphNode, g: string, e: Emitter, needs: boolean[]): Grad[] {
  const y = node.outputs[0]!;
  return node.inputs.map((i, k) => (needs[k] ? e.reduceTo(e.op('Where', [e.op('Equal', [i, y]), g, zero(e)]), e.shape(i)) : undefined));
}
