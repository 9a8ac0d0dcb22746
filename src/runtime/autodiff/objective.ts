// Scalar objectives (one value per batch element) appended to the forward graph as ordinary
// nodes, so the reverse sweep differentiates them like the rest of the network.

import type { ValueInfo } from '../graph/ir.js';
import type { Objective } from '../api.js';
import type { Emitter } from './emitter.js';

export const OBJECTIVE = 'lvi_objective';
export const WINDOW_INPUT = 'lvi_window';
export const TARGET_INPUT = 'lvi_target';

export interface ObjectiveFragment {
  /** Value holding the objective [N] before it is renamed to lvi_objective. */
  value: string;
  /** Graph inputs the objective reads (mask or target). */
  inputs: ValueInfo[];
}

/**
 * Emits the objective on `output` (the network output, [N, C, H, W]) or on a named feature.
 * `featureValue` resolves a node name or value name to a value.
 */
export function emitObjective(
  e: Emitter, objective: Objective, output: string, featureValue: (node: string) => string,
): ObjectiveFragment {
  const perElement = (t: string) => {
    const r = e.shape(t).length;
    return e.reduceSum(t, [...Array(r - 1).keys()].map((i) => i + 1), false);
  };
  switch (objective.kind) {
    case 'window': {
      const [n, c, h, w] = e.shape(output) as [number, number, number, number];
      void n;
      void c;
      const mask: ValueInfo = { name: WINDOW_INPUT, dtype: 'float32', shape: [1, 1, h, w] };
      e.info.set(WINDOW_INPUT, { dtype: 'float32', shape: [1, 1, h, w] });
      let weighted: string;
      if (objective.detector === 'intensity') {
        weighted = e.mul(output, WINDOW_INPUT);
      } else {
        // LAM gradient detector on the (H-1)x(W-1) grid, cropped to the window before the sqrt.
        const a = e.slice(output, [0, 0], [h - 1, w - 1], [2, 3]);
        const down = e.slice(output, [1, 0], [h, w - 1], [2, 3]);
        const right = e.slice(output, [0, 1], [h - 1, w], [2, 3]);
        const dx = e.sub(a, down);
        const dy = e.sub(a, right);
        const mag = e.op('Sqrt', [e.add(e.mul(dx, dx), e.mul(dy, dy))]);
        weighted = e.mul(mag, e.slice(WINDOW_INPUT, [0, 0], [h - 1, w - 1], [2, 3]));
      }
      let value = perElement(weighted);
      if (objective.reduce === 'mean') value = e.div(value, e.reduceSum(WINDOW_INPUT, [0, 1, 2, 3], false));
      return { value, inputs: [mask] };
    }
    case 'sse': {
      const shape = e.shape(output);
      e.info.set(TARGET_INPUT, { dtype: 'float32', shape });
      const d = e.sub(output, TARGET_INPUT);
      return { value: perElement(e.mul(d, d)), inputs: [{ name: TARGET_INPUT, dtype: 'float32', shape }] };
    }
    case 'feature': {
      const f = featureValue(objective.node);
      const r = e.shape(f).length;
      const axes = [...Array(r - 1).keys()].map((i) => i + 1);
      const value = objective.reduce === 'mean' ? e.reduceMean(f, axes, false) : e.reduceSum(f, axes, false);
      return { value, inputs: [] };
    }
  }
}
