// The FAIG paper's input-space comparator, as the authors' ig.py computes it: along the straight
// path from the clean LR x0 to the degraded LR x1 (x0 + a (x1 - x0), a = s / N, s = 0..N-1), the
// gradient of the sum of the target's output with respect to its convolution weights, summed
// over the path; per kernel, the sum over its taps of |that sum| / N, summed over the images.
// (Their note: the gradients are not multiplied by x1 - x0.)

import type { LoadedModel } from '../../api.js';
import { buildGradientGraph } from '../../autodiff/index.js';
import { createSession } from '../../engine/index.js';
import type { Samples } from '../../data/samples.js';
import type { KernelIndex } from './kernels.js';

/** `samples` holds, per image, its clean LR then its degraded LR (source-major). */
export async function inputGradientScores(
  target: LoadedModel,
  index: KernelIndex,
  samples: Samples,
  steps: number,
  device: string,
  progress: (done: number, total: number) => void,
): Promise<Float32Array> {
  const scores = new Float32Array(index.total);
  const pairs = samples.images.length / 2;
  const sessions = new Map<string, { run: (x: Float32Array) => Promise<Record<string, Float32Array>>; release: () => Promise<void> }>();
  let done = 0;
  try {
    for (let i = 0; i < pairs; i++) {
      const x0 = samples.images[2 * i]!;
      const x1 = samples.images[2 * i + 1]!;
      const key = `${x0.width}x${x0.height}`;
      let s = sessions.get(key);
      if (!s) {
        const shape: [number, number, number, number] = [1, target.info.inputChannels, x0.height, x0.width];
        const gg = buildGradientGraph(target.graph, {
          inputShape: shape,
          objective: { kind: 'feature', node: target.info.outputName, reduce: 'sum' },
          wrtInput: false,
          wrtWeights: index.convs.map((c) => c.weight),
          weightsAs: 'constants',
        });
        const session = await createSession(gg.graph, { device: device as 'cpu' });
        s = {
          async run(x) {
            const out = await session.run({ [target.info.inputName]: { dtype: 'float32', dims: shape, data: x } });
            return Object.fromEntries(Object.entries(gg.outputs.weightGrads).map(([w, name]) => [w, out[name]!.data as Float32Array]));
          },
          release: () => session.release(),
        };
        sessions.set(key, s);
      }
      const sum = new Map(index.convs.map((c) => [c.weight, new Float32Array(c.count * c.taps)]));
      for (let step = 0; step < steps; step++) {
        const a = Math.fround(step / steps);
        const x = new Float32Array(x0.data.length);
        for (let j = 0; j < x.length; j++) x[j] = Math.fround(x0.data[j]! + Math.fround(a * Math.fround(x1.data[j]! - x0.data[j]!)));
        const grads = await s.run(x);
        for (const [w, g] of Object.entries(grads)) {
          const acc = sum.get(w)!;
          for (let j = 0; j < acc.length; j++) acc[j] = Math.fround(acc[j]! + g[j]!);
        }
        progress(++done, pairs * steps);
      }
      for (const c of index.convs) {
        const g = sum.get(c.weight)!;
        for (let k = 0; k < c.count; k++) {
          let t = 0;
          for (let j = k * c.taps; j < (k + 1) * c.taps; j++) t = Math.fround(t + Math.abs(g[j]!));
          scores[c.offset + k] = Math.fround(scores[c.offset + k]! + Math.fround(t / steps));
        }
      }
    }
  } finally {
    for (const s of sessions.values()) await s.release();
  }
  return scores;
}
