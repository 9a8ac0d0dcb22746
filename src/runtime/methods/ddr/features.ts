// DDR features: the values of named layers (node outputs) of a network for a set of inputs,
// pooled per channel or flattened, one float32 row per sample. All layers of one model come
// from one pass of a graph cut down to what those layers need (the upsampler is never run).

import type { LoadedModel, Device, Session } from '../../api.js';
import type { Graph, GraphNode, ValueInfo } from '../../graph/ir.js';
import { createSession } from '../../engine/session.js';
import { specialiseModel } from '../../models/index.js';
import type { Image } from '../../image/image.js';
import { closest } from '../../../compiler/suggest.js';

export type Pool = 'mean' | 'max' | 'none';

export class FeatureError extends Error {
  override name = 'FeatureError';
}

/** Every tensor name a layer= may name: the graph's input and every node output. */
export function tensorNames(graph: Graph): string[] {
  const names: string[] = graph.inputs.map((v) => v.name);
  for (const n of graph.nodes) for (const o of n.outputs) if (o) names.push(o);
  return names;
}

/** Throws a FeatureError naming the closest tensor when `layer` is not in the graph. */
export function checkLayer(model: LoadedModel, layer: string): void {
  const names = tensorNames(model.graph);
  if (names.includes(layer)) return;
  const guess = closest(layer, names);
  const where = model.info.source.replace(/^(file|zoo):/, '');
  throw new FeatureError(
    `${where} has no tensor '${layer}'` +
      (guess ? `; did you mean '${guess}'?` : ` (${names.length} tensors; \`lvi inspect\` lists the layer names)`),
  );
}

/** The graph whose outputs are exactly `layers`, with only the nodes they depend on. */
export function layerGraph(model: LoadedModel, layers: string[], shape: [number, number, number, number]): Graph {
  for (const l of layers) checkLayer(model, l);
  // Outputs are added before specialising: it drops Identity nodes that are not graph outputs.
  const free: Graph = {
    ...model.graph,
    outputs: layers.map((name): ValueInfo => ({ name, dtype: 'float32', shape: [] })),
  };
  const g = specialiseModel({ ...model, graph: free }, shape);
  for (const o of g.outputs) {
    if (!g.nodes.some((n) => n.outputs.includes(o.name)) && !g.inputs.some((i) => i.name === o.name)) {
      throw new FeatureError(`layer '${o.name}' is a constant of the graph (it does not depend on the input)`);
    }
    if (o.dtype !== 'float32') throw new FeatureError(`layer '${o.name}' holds ${o.dtype} values; features need a float32 tensor`);
  }
  return prune(g);
}

/** Drop nodes no output depends on (walking back from the outputs). */
function prune(g: Graph): Graph {
  const need = new Set(g.outputs.map((o) => o.name));
  const kept: GraphNode[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outputs.some((o) => need.has(o))) continue;
    kept.push(n);
    for (const inp of n.inputs) if (inp) need.add(inp);
  }
  kept.reverse();
  const initializers = new Map([...g.initializers].filter(([k]) => need.has(k)));
  return { ...g, nodes: kept, initializers };
}

export interface FeatureOptions {
  layers: string[];
  pool: Pool;
  device: Device;
  threads?: number;
  /** Samples per run (inputs of one size are stacked); default 16. */
  batch?: number;
  progress?: (done: number, total: number) => void;
}

export interface LayerFeatures {
  layer: string;
  /** Per-sample shape of the layer [C, H, W] (of the first sample when sizes vary). */
  shape: number[];
  /** Row width: C for pooled features, C*H*W for pool=none. */
  dim: number;
  /** N x dim, row-major float32. */
  data: Float32Array;
}

/**
 * Features of `inputs` (images, 0..1) at each layer. Rows follow the input order. Pooled
 * values are computed in float64 and stored as float32 (the reference does the same).
 */
export async function extractFeatures(model: LoadedModel, inputs: Image[], o: FeatureOptions): Promise<LayerFeatures[]> {
  if (inputs.length === 0) throw new FeatureError('no input images: features need at least one sample');
  if (o.layers.length === 0) throw new FeatureError('no layer named');
  const n = inputs.length;
  const batch = Math.max(1, o.batch ?? 16);
  const out: (LayerFeatures | undefined)[] = o.layers.map(() => undefined);
  // Group sample indices by input size; each size gets its own graph and session.
  const bySize = new Map<string, number[]>();
  inputs.forEach((img, i) => {
    const k = `${img.height}x${img.width}`;
    bySize.set(k, [...(bySize.get(k) ?? []), i]);
  });
  let done = 0;
  for (const idx of bySize.values()) {
    const { width, height } = inputs[idx[0]];
    const ch = model.info.inputChannels;
    const plan = new Map<number, { graph: Graph; session: Session }>();
    try {
      for (let start = 0; start < idx.length; start += batch) {
        const part = idx.slice(start, start + batch);
        let s = plan.get(part.length);
        if (!s) {
          const graph = layerGraph(model, o.layers, [part.length, ch, height, width]);
          s = { graph, session: await createSession(graph, { device: o.device, threads: o.threads }) };
          plan.set(part.length, s);
        }
        const feed = new Float32Array(part.length * ch * height * width);
        part.forEach((i, b) => {
          const img = inputs[i];
          if (ch !== 3) throw new FeatureError(`the model takes ${ch} input channels; lvi feeds RGB images`);
          feed.set(img.data, b * img.data.length);
        });
        const res = await s.session.run({ [model.info.inputName]: { dtype: 'float32', dims: [part.length, ch, height, width], data: feed } });
        o.layers.forEach((layer, li) => {
          const t = res[layer];
          const per = t.dims.slice(1);
          const size = per.reduce((a, b) => a * b, 1);
          const channels = per[0] ?? 1;
          const dim = o.pool === 'none' ? size : channels;
          let f = out[li];
          if (!f) {
            f = { layer, shape: per, dim, data: new Float32Array(n * dim) };
            out[li] = f;
          } else if (o.pool === 'none' && per.join('x') !== f.shape.join('x')) {
            throw new FeatureError(
              `layer '${layer}' is ${per.join('x')} for a ${height}x${width} input but ${f.shape.join('x')} for another: ` +
                `its shape varies with the input, so pool=none rows cannot be stacked (use pool=mean or pool=max, or inputs of one size)`,
            );
          } else if (channels !== f.dim && o.pool !== 'none') {
            throw new FeatureError(`layer '${layer}' has ${channels} channels for one input and ${f.dim} for another`);
          }
          const data = t.data as Float32Array;
          part.forEach((i, b) => {
            const src = data.subarray(b * size, (b + 1) * size);
            const row = f!.data.subarray(i * dim, (i + 1) * dim);
            if (o.pool === 'none') row.set(src);
            else poolChannels(src, channels, size / channels, o.pool, row);
          });
        });
        done += part.length;
        o.progress?.(done, n);
      }
    } finally {
      for (const s of plan.values()) await s.session.release();
    }
  }
  return out as LayerFeatures[];
}

function poolChannels(src: Float32Array, channels: number, per: number, pool: 'mean' | 'max', row: Float32Array): void {
  for (let c = 0; c < channels; c++) {
    const off = c * per;
    if (pool === 'mean') {
      let s = 0;
      for (let k = 0; k < per; k++) s += src[off + k];
      row[c] = s / per;
    } else {
      let m = -Infinity;
      for (let k = 0; k < per; k++) if (src[off + k] > m) m = src[off + k];
      row[c] = m;
    }
  }
}
