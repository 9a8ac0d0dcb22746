// Every zoo model, converted to the graph IR and run in ONNX Runtime, against the same
// model.json run by TF.js itself (@tensorflow/tfjs 4.11, pure-JS CPU backend; custom layers
// from the UpscalerJS package's own code, or ISR's definitions for @upscalerjs/models).
// Input: 1x12x12 RGB, seeded values in 0..1 (TF.js gets them times the model's range).
// Tolerance: max |ONNX - TF.js| <= 1e-4 on the 0..1 output scale, i.e. 1e-4 of the output
// range (0.0255 in raw units for the 0..255 networks).

import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZOO, resolveZooModel } from '../../../src/runtime/models/zoo.js';
import { maxAbsDiff, randArray, rng } from '../../helpers/tensors.js';
import {
  loadTfjsFromDisk,
  nhwcToNchw,
  registerIsrLayers,
  registerPackageLayers,
  repoRoot,
  runOrt,
  tfjsReady,
} from './helpers.js';

const SIZE = 12;
const TOLERANCE = 1e-4;
const figures: string[] = [];

describe('TF.js parity of every zoo model', () => {
  afterAll(() => {
    console.log(`max |ONNX Runtime - TF.js| on 0..1 output, ${SIZE}x${SIZE} input:\n${figures.join('\n')}`);
  });

  for (const entry of ZOO) {
    it(`${entry.id} matches TF.js within ${TOLERANCE}`, async () => {
      const tf = await tfjsReady();
      if (entry.package === '@upscalerjs/models') registerIsrLayers();
      else await registerPackageLayers(entry.package, entry.scale);

      const nhwc = randArray(SIZE * SIZE * 3, rng(1234 + entry.scale));
      const model = await loadTfjsFromDisk(path.join(repoRoot, 'node_modules', entry.package, entry.file));
      // Unclipped reference too: where the zoo clips, saturated pixels would hide differences.
      const raw = tf.tidy(() => {
        const x = tf.tensor4d(nhwc, [1, SIZE, SIZE, 3]).mul(entry.range);
        return (model.predict(x) as import('@tensorflow/tfjs').Tensor).div(entry.range);
      });
      const refShape = raw.shape;
      const expectedRaw = nhwcToNchw((await raw.data()) as Float32Array, refShape);
      const expected = entry.clip ? expectedRaw.map((v) => Math.min(1, Math.max(0, v))) : expectedRaw;
      raw.dispose();
      model.dispose();

      const loaded = await resolveZooModel(entry.id);
      const got = await runOrt(loaded.graph, nhwcToNchw(nhwc, [1, SIZE, SIZE, 3]), [1, 3, SIZE, SIZE]);
      expect(got.dims).toEqual([1, 3, SIZE * entry.scale, SIZE * entry.scale]);
      expect(refShape).toEqual([1, SIZE * entry.scale, SIZE * entry.scale, 3]);
      const diff = maxAbsDiff(got.data, expected);
      let rawDiff = diff;
      if (entry.clip) {
        const clip = loaded.graph.nodes.find((n) => n.opType === 'Clip' && n.outputs[0] === loaded.info.outputName)!;
        const pre = { ...loaded.graph, outputs: [{ ...loaded.graph.outputs[0], name: clip.inputs[0] }] };
        rawDiff = maxAbsDiff((await runOrt(pre, nhwcToNchw(nhwc, [1, SIZE, SIZE, 3]), [1, 3, SIZE, SIZE])).data, expectedRaw);
      }
      figures.push(`  ${entry.id.padEnd(20)} ${diff.toExponential(2)}${entry.clip ? `  (before the clip: ${rawDiff.toExponential(2)})` : ''}`);
      expect(diff).toBeLessThanOrEqual(TOLERANCE);
      expect(rawDiff).toBeLessThanOrEqual(TOLERANCE);
    });
  }
});
