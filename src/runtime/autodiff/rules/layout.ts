// Operators that move entries without arithmetic: joins, splits, slices, pads, reshapes,
// transposes and pixel shuffles. Their gradients move the output gradient back.

import { attrInt, attrInts, attrStr } from '../attrs.js';
import { normAxis, padSpec, sliceLength, sliceSpec, splitSizes } from '../shapes.js';
import { first, type Rule, unsupported, zero } from './common.js';

export const layoutRules: Record<string, Rule> = {
  Concat: (node, gy, e, needs) => {
    const g = first(gy, node);
    const rank = e.shape(g).length;
    const axis = normAxis(attrInt(node, 'axis', 0), rank);
    let at = 0;
    return node.inputs.map((i, k) => {
      const len = e.shape(i)[axis]!;
      const s = at;
      at += len;
      return needs[k] ? e.slice(g, [s], [s + len], [axis]) : undefined;
    });
  },
  Split: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    const x = node.inputs[0]!;
    const xs = e.shape(x);
    const axis = normAxis(attrInt(node, 'axis', 0), xs.length);
    const sizes = splitSizes(node, xs[axis]!, e.lookup);
    const parts = sizes.map((sz, i) => {
      const gi = gy[i];
      if (gi) return gi;
      const shape = [...xs];
      shape[axis] = sz;
      return e.expand(zero(e), shape);
    });
    return [parts.length === 1 ? parts[0] : e.op('Concat', parts, { axis })];
  },
  Slice: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    let g = first(gy, node);
    const xs = e.shape(node.inputs[0]!);
    const spec = sliceSpec(node, xs, e.lookup);
    spec.axes.forEach((axis, i) => {
      const step = spec.steps[i]!;
      const len = sliceLength(spec.starts[i]!, spec.ends[i]!, step);
      let start = spec.starts[i]!;
      if (len === 0) unsupported(node, 'empty slice');
      if (step < 0) {
        g = e.slice(g, [-1], [-len - 1], [axis], [-1]);
        start = start + (len - 1) * step;
      }
      const k = Math.abs(step);
      let span = len;
      if (k > 1) {
        // Interleave k-1 zeros after every element: unsqueeze, pad the new axis, merge.
        const gs = e.shape(g);
        const u = e.unsqueeze(g, [axis + 1]);
        const pads = new Array(2 * (gs.length + 1)).fill(0);
        pads[gs.length + 1 + axis + 1] = k - 1;
        const merged = [...gs];
        merged[axis] = gs[axis]! * k;
        g = e.reshape(e.pad(u, pads), merged);
        span = len * k;
      }
      const end = xs[axis]! - start - span;
      if (end < 0) {
        g = e.slice(g, [0], [span + end], [axis]);
      }
      const pads = new Array(2 * xs.length).fill(0);
      pads[axis] = start;
      pads[axis + xs.length] = Math.max(0, end);
      g = e.pad(g, pads);
    });
    return [g];
  },
  Pad: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    let g = first(gy, node);
    const xs = e.shape(node.inputs[0]!);
    const r = xs.length;
    const { pads, mode } = padSpec(node, r, e.lookup);
    if (mode === 'constant') {
      g = e.pad(g, pads.map((p) => Math.max(0, -p)));
      const gs = e.shape(g);
      const axes = [...Array(r).keys()].filter((a) => pads[a]! > 0 || pads[a + r]! > 0);
      if (axes.length === 0) return [g];
      return [e.slice(g, axes.map((a) => Math.max(0, pads[a]!)), axes.map((a) => gs[a]! - Math.max(0, pads[a + r]!)), axes)];
    }
    if (mode !== 'reflect' && mode !== 'edge') unsupported(node, `pad mode '${mode}' is not supported`);
    if (pads.some((p) => p < 0)) unsupported(node, 'negative pads with reflect/edge mode');
    for (let a = 0; a < r; a++) {
      const b = pads[a]!;
      const en = pads[a + r]!;
      if (b === 0 && en === 0) continue;
      const len = xs[a]!;
      const terms = [e.slice(g, [b], [b + len], [a])];
      const place = (t: string, before: number, after: number) => {
        const p = new Array(2 * r).fill(0);
        p[a] = before;
        p[a + r] = after;
        terms.push(e.pad(t, p));
      };
      if (b > 0) {
        const part = e.slice(g, [0], [b], [a]);
        if (mode === 'reflect') place(e.slice(part, [-1], [-b - 1], [a], [-1]), 1, len - 1 - b);
        else place(e.reduceSum(part, [a]), 0, len - 1);
      }
      if (en > 0) {
        const part = e.slice(g, [b + len], [b + len + en], [a]);
        if (mode === 'reflect') place(e.slice(part, [-1], [-en - 1], [a], [-1]), len - 1 - en, 1);
        else place(e.reduceSum(part, [a]), len - 1, 0);
      }
      g = e.sum(terms);
    }
    return [g];
  },
  Reshape: (node, gy, e, needs) => [needs[0] ? e.reshape(first(gy, node), e.shape(node.inputs[0]!)) : undefined],
  Flatten: (node, gy, e, needs) => [needs[0] ? e.reshape(first(gy, node), e.shape(node.inputs[0]!)) : undefined],
  Squeeze: (node, gy, e, needs) => [needs[0] ? e.reshape(first(gy, node), e.shape(node.inputs[0]!)) : undefined],
  Unsqueeze: (node, gy, e, needs) => [needs[0] ? e.reshape(first(gy, node), e.shape(node.inputs[0]!)) : undefined],
  Expand: (node, gy, e, needs) => [needs[0] ? e.reduceTo(first(gy, node), e.shape(node.inputs[0]!)) : undefined],
  Transpose: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    const r = e.shape(node.inputs[0]!).length;
    const perm = attrInts(node, 'perm') ?? [...Array(r).keys()].reverse();
    const inv = new Array(r);
    perm.forEach((p, i) => { inv[p] = i; });
    return [e.transpose(first(gy, node), inv)];
  },
  DepthToSpace: (node, gy, e, needs) => {
    if (!needs[0]) return [];
    const g = first(gy, node);
    const b = attrInt(node, 'blocksize', 1);
    if (attrStr(node, 'mode', 'DCR') === 'DCR') return [e.op('SpaceToDepth', [g], { blocksize: b })];
    // CRD: y[n, c, h*b+i, w*b+j] = x[n, c*b*b + i*b + j, h, w]
    const [n, c, hb, wb] = e.shape(g) as [number, number, number, number];
    const h = hb / b;
    const w = wb / b;
    const t = e.transpose(e.reshape(g, [n, c, h, b, w, b]), [0, 1, 3, 5, 2, 4]);
    return [e.reshape(t, [n, c * b * b, h, w])];
  },
  SpaceToDepth: (node, gy, e, needs) =>
    [needs[0] ? e.op('DepthToSpace', [first(gy, node)], { blocksize: attrInt(node, 'blocksize', 1), mode: 'DCR' }) : undefined],
};
