// Whole networks: the input gradient of LAM's window objective on the reference models (test/fixtures/lam)
// (FSRCNN with a ConvTranspose upsampler, CARN with CRD pixel shuffles), run in ONNX Runtime
// float32, against central finite differences in float64 on probed LR pixels.
//
// Tolerances: |ORT - fd| <= 2e-5 of the largest gradient magnitude (float32 through ~40 layers;
// fd with h = 1e-5 in float64; measured here: about 2e-7 on both networks). The objective at the
// input also matches the independent PyTorch value in di.json (completeness.d_input) within 1e-5
// relative.
//
// CARN in float64 is slow (a 64x64 forward takes about 20 s), and a central difference needs two.
// The window objective depends only on the window's receptive field, so its finite differences
// are taken on crops: CARN is cut at tensors everything downstream flows through (the cascading
// blocks' concatenations, the upsampler's input), and each piece is evaluated only on the region
// of its input that the rest needs (the support of ORT's gradient of the rest with respect to
// that tensor, plus a pixel). Convolution is local, so the cropped values inside each region are
// the full-image values term for term: the function differenced is the same, at a third of the cost.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { fixture } from '../../helpers/paths.js';
import type { Graph, GraphNode, TensorData, ValueInfo } from '../../../src/runtime/graph/ir.js';
import { buildGradientGraph, INPUT_GRAD, OBJECTIVE, WINDOW_INPUT } from '../../../src/runtime/autodiff/index.js';
import { decodeModel } from '../../../src/runtime/onnx/index.js';
import { evaluate, type F64 } from '../../../src/runtime/reference/index.js';
import { maxAbs, runOrt } from './helpers.js';

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
  for (let y = Math.max(0, y0!); y < Math.min(h, y0! + wh!); y++) {
    for (let x = Math.max(0, x0!); x < Math.min(w, x0! + ww!); x++) data[y * w + x] = 1;
  }
  return { dtype: 'float32', dims: [1, 1, h, w], data };
}

/** A rectangle of a [1, C, H, W] tensor's plane, in pixels: [y0, y1) x [x0, x1). */
interface Region { y0: number; y1: number; x0: number; x1: number }

/** Bounding box of the non-zero entries of a [1, C, H, W] array, grown by `margin`, within the plane. */
function support(data: ArrayLike<number>, [, c, h, w]: number[], margin: number): Region {
  let y0 = h, y1 = -1, x0 = w, x1 = -1;
  for (let ci = 0; ci < c!; ci++) {
    for (let y = 0; y < h!; y++) {
      for (let x = 0; x < w!; x++) {
        if (data[(ci * h! + y) * w! + x] === 0) continue;
        y0 = Math.min(y0, y); y1 = Math.max(y1, y); x0 = Math.min(x0, x); x1 = Math.max(x1, x);
      }
    }
  }
  if (y1 < 0) throw new Error('support: all zero');
  return {
    y0: Math.max(0, y0 - margin), y1: Math.min(h!, y1 + 1 + margin),
    x0: Math.max(0, x0 - margin), x1: Math.min(w!, x1 + 1 + margin),
  };
}

function crop(t: { dims: number[]; data: Float32Array | Float64Array }, r: Region): F64 {
  const [, c, h, w] = t.dims as [number, number, number, number];
  const ch = r.y1 - r.y0;
  const cw = r.x1 - r.x0;
  const data = new Float64Array(c * ch * cw);
  for (let ci = 0; ci < c; ci++) {
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) data[(ci * ch + y) * cw + x] = t.data[(ci * h + r.y0 + y) * w + r.x0 + x]!;
    }
  }
  return { dtype: 'float64', dims: [1, c, ch, cw], data };
}

/** `r` in the coordinates of a crop starting at `at`. */
const within = (r: Region, at: Region): Region => ({ y0: r.y0 - at.y0, y1: r.y1 - at.y0, x0: r.x0 - at.x0, x1: r.x1 - at.x0 });

/**
 * The nodes computing `to` from `from`, as a graph with `from` as its only input. Throws unless
 * `from` separates them from the rest of the graph (no other value flows in).
 */
function piece(graph: Graph, from: ValueInfo, to: ValueInfo): Graph {
  const producer = new Map<string, GraphNode>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const needed = new Set<GraphNode>();
  const stack = [to.name];
  while (stack.length) {
    const v = stack.pop()!;
    if (v === from.name || graph.initializers.has(v)) continue;
    const p = producer.get(v);
    if (!p) throw new Error(`'${v}' reaches '${to.name}' without passing through '${from.name}'`);
    if (needed.has(p)) continue;
    needed.add(p);
    for (const i of p.inputs) if (i) stack.push(i);
  }
  return { ...graph, nodes: graph.nodes.filter((n) => needed.has(n)), inputs: [from], outputs: [to] };
}

const models = [
  { folder: 'fsrcnn_chelsea', window: [48, 88, 16, 16], fullFloat64: true, cuts: [] },
  {
    folder: 'carn_coffee', window: [120, 100, 16, 16], fullFloat64: false,
    cuts: ['/Concat_output_0', '/Concat_1_output_0', '/c3/body/body.1/Relu_output_0'],
  },
];

const objective = { kind: 'window', detector: 'gradient', reduce: 'sum' } as const;

describe('reference networks: input gradient of the window objective', () => {
  for (const m of models) {
    it(`${m.folder} window (${m.window.join(',')})`, async () => {
      const dir = path.join(lamDir, m.folder);
      const graph = decodeModel(readFileSync(path.join(dir, 'model.onnx')));
      const lr = readLr(path.join(dir, 'lr.png'));
      const [, , h, w] = lr.dims as [number, number, number, number];
      const gg = buildGradientGraph(graph, { inputShape: [1, 3, h, w], objective, wrtInput: true });
      const feeds = { lr, [WINDOW_INPUT]: mask(4 * h, 4 * w, m.window) };
      const out = await runOrt(gg.graph, feeds, 2);
      const grad = out[INPUT_GRAD]!;
      const ortObjective = out[OBJECTIVE]![0]!;
      const di = JSON.parse(readFileSync(path.join(dir, 'di.json'), 'utf8'));
      expect(Math.abs(ortObjective - di.completeness.d_input)).toBeLessThanOrEqual(1e-5 * di.completeness.d_input);

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

      // The objective as a float64 function of the LR input: the whole graph, or the cut pieces on crops.
      let objectiveAt: (lrData: Float64Array) => number;
      let lrRegion: Region = { y0: 0, y1: h, x0: 0, x1: w };
      if (m.cuts.length === 0) {
        objectiveAt = (data) => evaluate(gg.graph, { ...feeds, lr: { dtype: 'float64', dims: lr.dims, data } }, [OBJECTIVE])[OBJECTIVE]!.data[0]!;
      } else {
        // Every cut tensor at full size (ORT, float32), to size the pieces and find each region.
        const cutInfo = (name: string): ValueInfo => ({ name, dtype: 'float32', shape: ['N', 'C', 'H', 'W'] });
        const withCuts: Graph = { ...graph, outputs: [...graph.outputs, ...m.cuts.map(cutInfo)] };
        const full = await runOrt(withCuts, { lr }, 2);
        const stops: ValueInfo[] = [{ ...graph.inputs[0]!, shape: ['N', 3, 'H', 'W'] }];
        for (const name of m.cuts) {
          const c = full[name]!.length / (h * w);
          expect(Number.isInteger(c), `${name} keeps the LR plane`).toBe(true);
          stops.push({ name, dtype: 'float32', shape: ['N', c, 'H', 'W'] });
        }
        // What the objective needs of each cut tensor: its gradient's support from ORT, plus a pixel.
        const regions: Region[] = [];
        for (const [k, stop] of stops.entries()) {
          if (k === 0) { regions.push(support(grad, lr.dims, 1)); continue; }
          const rest = piece(graph, stop, graph.outputs[0]!);
          const restGg = buildGradientGraph(rest, { inputShape: [1, stop.shape[1] as number, h, w], objective, wrtInput: true });
          const dims = [1, stop.shape[1] as number, h, w];
          const r = await runOrt(restGg.graph, { [stop.name]: { dtype: 'float32', dims, data: full[stop.name]! }, [WINDOW_INPUT]: feeds[WINDOW_INPUT] }, 2);
          expect(Math.abs(r[OBJECTIVE]![0]! - ortObjective)).toBeLessThanOrEqual(1e-6 * ortObjective); // the cut loses nothing
          regions.push(support(r[INPUT_GRAD]!, dims, 1));
        }
        lrRegion = regions[0]!;
        const pieces = stops.slice(1).map((stop, k) => piece(graph, stops[k]!, stop));
        const last = regions[regions.length - 1]!;
        const lastStop = stops[stops.length - 1]!;
        const tail = buildGradientGraph(piece(graph, lastStop, graph.outputs[0]!), {
          inputShape: [1, lastStop.shape[1] as number, last.y1 - last.y0, last.x1 - last.x0], objective, wrtInput: true,
        });
        const tailWindow = mask(4 * (last.y1 - last.y0), 4 * (last.x1 - last.x0),
          [m.window[0]! - 4 * last.x0, m.window[1]! - 4 * last.y0, m.window[2]!, m.window[3]!]);
        objectiveAt = (data) => {
          let x: F64 = { dtype: 'float64', dims: [1, 3, lrRegion.y1 - lrRegion.y0, lrRegion.x1 - lrRegion.x0], data };
          pieces.forEach((p, k) => {
            const y = evaluate(p, { [stops[k]!.name]: x }, [stops[k + 1]!.name])[stops[k + 1]!.name]!;
            x = crop(y, within(regions[k + 1]!, regions[k]!));
          });
          return evaluate(tail.graph, { [lastStop.name]: x, [WINDOW_INPUT]: tailWindow }, [OBJECTIVE])[OBJECTIVE]!.data[0]!;
        };
      }

      const base = crop({ dims: lr.dims, data: lr.data as Float32Array }, lrRegion).data;
      // The float64 function is the network's objective: ORT's float32 value and PyTorch's.
      expect(Math.abs(objectiveAt(base) - ortObjective)).toBeLessThanOrEqual(1e-6 * ortObjective);
      const cw = lrRegion.x1 - lrRegion.x0;
      const ch = lrRegion.y1 - lrRegion.y0;
      for (const i of probesAt) {
        const c = Math.floor(i / (h * w));
        const y = Math.floor(i / w) % h;
        const x = i % w;
        expect(y >= lrRegion.y0 && y < lrRegion.y1 && x >= lrRegion.x0 && x < lrRegion.x1, `probe ${i} inside the crop`).toBe(true);
        const at = (c * ch + y - lrRegion.y0) * cw + x - lrRegion.x0;
        const step = 1e-5;
        const plus = Float64Array.from(base); plus[at]! += step;
        const minus = Float64Array.from(base); minus[at]! -= step;
        const fd = (objectiveAt(plus) - objectiveAt(minus)) / (2 * step);
        expect(Math.abs(grad[i]! - fd), `pixel ${i}: ORT ${grad[i]} vs fd ${fd}`).toBeLessThanOrEqual(2e-5 * scale);
        expect(Math.abs(fd)).toBeGreaterThan(1e-3 * scale); // a probe that sees the window
        await new Promise((r) => setImmediate(r)); // long synchronous stretches time out vitest's worker RPC
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
