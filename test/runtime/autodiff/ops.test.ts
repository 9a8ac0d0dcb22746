// Every operator's gradient rule against central finite differences in float64.
//
// Each case is a tiny graph x -> op(s) -> y; the objective is sum(y * R) for a fixed random R
// (so every output element matters with its own weight). For each case:
//  1. the gradient graph evaluated in float64 by the reference evaluator matches central
//     finite differences (h = 1e-5, float64) within 1e-6 relative to the largest gradient;
//  2. ONNX Runtime (float32) runs the same gradient graph: its forward output matches the
//     evaluator within 1e-5 and its gradients match the float64 ones within 2e-4, relative to
//     the largest value (float32 rounding through a few ops).

import { describe, expect, it } from 'vitest';
import type { TensorData } from '../../../src/runtime/graph/ir.js';
import { buildGradientGraph, rules } from '../../../src/runtime/autodiff/index.js';
import { evaluate } from '../../../src/runtime/reference/index.js';
import { buildCase, cases } from './cases.js';
import { finiteDifference, maxAbs, probes, rng, runOrt } from './helpers.js';

describe('gradient rules against float64 finite differences', () => {
  for (const [k, c] of cases.entries()) {
    it(c.name, async () => {
      const r = rng(1000 + k);
      const { graph, x } = buildCase(c, r);
      const wrt = c.wrt ?? [];
      const gg = buildGradientGraph(graph, {
        inputShape: c.x as [number, number, number, number],
        objective: { kind: 'feature', node: 'proj', reduce: 'sum' },
        wrtInput: true,
        wrtWeights: wrt,
      });
      const feeds: Record<string, TensorData> = { x };
      for (const w of wrt) feeds[w] = graph.initializers.get(w)!;
      const g64 = evaluate(gg.graph, feeds);

      // 1. float64 gradient graph against float64 central differences.
      const leaves: [string, string][] = [['x', gg.outputs.inputGrad!], ...wrt.map((w): [string, string] => [w, gg.outputs.weightGrads[w]!])];
      for (const [leaf, out] of leaves) {
        const grad = g64[out]!;
        expect(grad.dims).toEqual(feeds[leaf]!.dims);
        const scale = Math.max(1, maxAbs(grad.data));
        for (const i of probes(grad.data.length, 40, r)) {
          const fd = finiteDifference(graph, feeds, leaf, i, 'proj_out', 1e-5);
          expect(Math.abs(grad.data[i]! - fd), `${leaf}[${i}]: graph ${grad.data[i]} vs fd ${fd}`).toBeLessThanOrEqual((c.tol ?? 1e-6) * scale);
        }
      }

      // 2. ONNX Runtime float32 runs the same graph.
      const got = await runOrt(gg.graph, feeds);
      const fwd = g64['proj_out']!.data;
      const fwdScale = Math.max(1, maxAbs(fwd));
      got['proj_out']!.forEach((v, i) => expect(Math.abs(v - fwd[i]!)).toBeLessThanOrEqual(1e-5 * fwdScale));
      for (const [, out] of leaves) {
        const ref = g64[out]!.data;
        const scale = Math.max(1, maxAbs(ref));
        const o = got[out]!;
        expect(o.length).toBe(ref.length);
        let worst = 0;
        o.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - ref[i]!)); });
        expect(worst, `${out}: ORT float32 vs float64`).toBeLessThanOrEqual(2e-4 * scale);
      }
    });
  }
});

describe('the rule table', () => {
  it('every gradient rule has a finite-difference case above', () => {
    const tested = new Set(cases.flatMap((c) => c.nodes.map(([op]) => op)));
    expect(Object.keys(rules).filter((op) => !tested.has(op))).toEqual([]);
  });
});
