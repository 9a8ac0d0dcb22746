// Whole networks: the input gradient of LAM's window objective on the reference models (test/fixtures/lam)
// (FSRCNN with a ConvTranspose upsampler, CARN with CRD pixel shuffles), run in ONNX Runtime
// float32, against central finite differences in float64 on probed LR pixels.
//
// Tolerances: |ORT - fd| <= 2e-5 of the largest gradient magnitude (float32 through ~40 layers;
// fd with h = 1e-5 in float64; measured here: about 2e-7 on both networks). The objective at the
// input also matches the independent PyTorch value in di.json (completeness.d_input) within 1e-5
// relative.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { fixture } from '../../helpers/paths.js';
import type { TensorData } from '../../../src/runtime/graph/ir.js';
import { buildGradientGraph, INPUT_GRAD, OBJECTIVE } from '../../../src/runtime/autodiff/index.js';
import { decodeModel } from '../../../src/runtime/onnx/index.js';
import { evaluate } from '../../../src/runtime/reference/index.js';
import { finiteDifference, maxAbs, runOrt } from './helpers.js';

const lamDir = fixture('lam');

function readLr(file: string): TensorData {
  const png = PNG.sync.read(readFileSync(file));
  const { width: w, height: h } = png;
  const data = new Float32Array(3 * h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) data[(c * h + y) * w + x] = png.data[(y * w + x) * 4 + c]! / 255;
    }
  }
  return { dtype: 'float32', dims: [1, 3, h, w], data };
}

function mask(h: number, w: number, [x0, y0, ww, wh]: number[]): TensorData {
  const data = new Float32Array(h * w);
  for (let y = y0!; y < y0! + wh!; y++) for (let x = x0!; x < x0! + ww!; x++) data[y * w + x] = 1;
  return { dtype: 'float32', dims: [1, 1, h, w], data };
}

const models = [
  { folder: 'fsrcnn_chelsea', window: [48, 88, 16, 16], fullFloat64: true },
  { folder: 'carn_coffee', window: [120, 100, 16, 16], fullFloat64: false },
];

describe('reference networks: input gradient of the window objective', () => {
  for (const m of models) {
    it(`${m.folder} window (${m.window.join(',')})`, async () => {
      const dir = path.join(lamDir, m.folder);
      const graph = decodeModel(readFileSync(path.join(dir, 'model.onnx')));
      const lr = readLr(path.join(dir, 'lr.png'));
      const [, , h, w] = lr.dims as [number, number, number, number];
      const gg = buildGradientGraph(graph, {
        inputShape: [1, 3, h, w],
        objective: { kind: 'window', detector: 'gradient', reduce: 'sum' },
        wrtInput: true,
      });
      const feeds = { lr, lvi_window: mask(4 * h, 4 * w, m.window) };
      const out = await runOrt(gg.graph, feeds, 2);
      const grad = out[INPUT_GRAD]!;
      const di = JSON.parse(readFileSync(path.join(dir, 'di.json'), 'utf8'));
      expect(Math.abs(out[OBJECTIVE]![0]! - di.completeness.d_input)).toBeLessThanOrEqual(1e-5 * di.completeness.d_input);

      const scale = maxAbs(grad);
      expect(scale).toBeGreaterThan(0);
      // Probes: the largest gradient, the LR pixel under the window centre, and (on the small
      // network, where float64 forwards are cheap) one beside the window.
      let arg = 0;
      grad.forEach((v, i) => { if (Math.abs(v) > Math.abs(grad[arg]!)) arg = i; });
      const cx = Math.floor((m.window[0]! + m.window[2]! / 2) / 4);
      const cy = Math.floor((m.window[1]! + m.window[3]! / 2) / 4);
      const probesAt = [arg, (1 * h + cy) * w + cx];
      if (m.fullFloat64) probesAt.push((2 * h + cy - 3) * w + cx + 3);
      for (const i of probesAt) {
        const fd = finiteDifference(gg.graph, feeds, 'lr', i, OBJECTIVE, 1e-5);
        expect(Math.abs(grad[i]! - fd), `pixel ${i}: ORT ${grad[i]} vs fd ${fd}`).toBeLessThanOrEqual(2e-5 * scale);
        expect(Math.abs(fd)).toBeGreaterThan(1e-3 * scale); // a probe that sees the window
      }

      if (m.fullFloat64) {
        // The whole gradient graph in float64 against ONNX Runtime's float32, every pixel.
        const g64 = evaluate(gg.graph, feeds, [INPUT_GRAD])[INPUT_GRAD]!.data;
        let worst = 0;
        grad.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - g64[i]!)); });
        expect(worst).toBeLessThanOrEqual(1e-4 * scale);
      }
    }, 600_000);
  }
});
