// Batch sizing from a memory budget. Path steps run along the batch dimension; how many fit
// is estimated from the inferred shapes of the graph specialised at batch 1.

import os from 'node:os';
import type { DType, Graph } from '../graph/ir.js';
import { sizeOf } from '../onnx/tensor-util.js';

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1, bool: 1 };

export interface BatchRequest {
  /** Memory one batch element needs (see estimateMemory). */
  perItemBytes: number;
  /** Memory the batch may use. */
  budgetBytes: number;
  /** Largest batch worth running (more path steps than this gain nothing). */
  max: number;
  /** Memory needed whatever the batch (weights, runtime). Default 0. */
  fixedBytes?: number;
  /** A batch size asked for explicitly: used as it is, clamped to 1..max. */
  override?: number;
}

/** The largest batch in 1..max whose memory fits the budget (1 when even one does not fit). */
export function chooseBatch(r: BatchRequest): number {
  if (!(r.max >= 1)) throw new Error(`chooseBatch: max must be at least 1, got ${r.max}`);
  if (r.override !== undefined) {
    if (!Number.isInteger(r.override) || r.override < 1) throw new Error(`batch size must be a positive integer, got ${r.override}`);
    return Math.min(r.override, r.max);
  }
  if (!(r.perItemBytes > 0)) throw new Error(`chooseBatch: perItemBytes must be positive, got ${r.perItemBytes}`);
  const room = r.budgetBytes - (r.fixedBytes ?? 0);
  return Math.max(1, Math.min(r.max, Math.floor(room / r.perItemBytes)));
}

/** A default budget: a quarter of the machine's memory, at most 8 GiB. */
export function defaultBudgetBytes(): number {
  return Math.min(os.totalmem() / 4, 8 * 2 ** 30);
}

export interface MemoryEstimate {
  /** Initializer bytes (independent of the batch). */
  weightBytes: number;
  /** Peak bytes of live activations through one run, by liveness over the node order: a lower bound. */
  peakActivationBytes: number;
  /** Bytes of all activations together, as if none were reused: an upper bound. */
  totalActivationBytes: number;
  /** Largest transient workspace of one Conv (one image unfolded, as im2col needs; not per batch element). */
  workspaceBytes: number;
  /**
   * What one more batch element costs: totalActivationBytes divided by the graph's batch.
   * The upper bound, because ONNX Runtime's planner and arena reuse far less than liveness
   * allows (EDSR x4 gradient graph at 48x48: liveness 28 MiB, no reuse 166 MiB, measured
   * 103 MiB per batch element; `npm run bench -- engine` prints these).
   */
  perItemBytes: number;
  /** What any batch costs: weights and workspace. */
  fixedBytes: number;
}

/**
 * Estimate memory from graph.valueInfo (a graph specialised at batch 1): tensors live from
 * the node producing them to their last reader; graph inputs and outputs live throughout.
 */
export function estimateMemory(graph: Graph): MemoryEstimate {
  const info = graph.valueInfo;
  if (!info) throw new Error('estimateMemory needs a specialised graph (with inferred shapes)');
  const bytesOf = (name: string): number => {
    const v = info.get(name);
    if (!v || graph.initializers.has(name)) return 0;
    return sizeOf(v.shape.map((d) => (typeof d === 'number' ? d : 1))) * BYTES[v.dtype];
  };
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((x) => x && lastUse.set(x, i)));
  const pinned = new Set([...graph.inputs.map((v) => v.name), ...graph.outputs.map((v) => v.name)]);
  let live = 0;
  for (const p of pinned) live += bytesOf(p);
  let total = live;
  for (const n of graph.nodes) for (const o of n.outputs) if (o && !pinned.has(o)) total += bytesOf(o);
  let peak = live;
  let workspace = 0;
  graph.nodes.forEach((n, i) => {
    for (const o of n.outputs) if (o && !pinned.has(o)) live += bytesOf(o);
    peak = Math.max(peak, live);
    if (n.opType === 'Conv' || n.opType === 'ConvTranspose') {
      const w = graph.initializers.get(n.inputs[1])?.dims ?? (info.get(n.inputs[1])?.shape as number[] | undefined);
      const out = info.get(n.outputs[0])?.shape as number[] | undefined;
      const inp = info.get(n.inputs[0])?.shape as number[] | undefined;
      if (w && out && inp) {
        const kernel = sizeOf(w.slice(2));
        const spatial = sizeOf((n.opType === 'Conv' ? out : inp).slice(2));
        // ConvTranspose unfolds its output side: kernel x output channels per input pixel.
        const channels = w[1];
        if (kernel > 1) workspace = Math.max(workspace, kernel * channels * spatial * 4);
      }
    }
    for (const x of new Set(n.inputs)) if (x && !pinned.has(x) && lastUse.get(x) === i) live -= bytesOf(x);
    for (const o of n.outputs) if (o && !pinned.has(o) && !lastUse.has(o)) live -= bytesOf(o);
  });
  let weightBytes = 0;
  for (const t of graph.initializers.values()) weightBytes += t.data.byteLength;
  const batch = typeof graph.inputs[0]?.shape[0] === 'number' ? (graph.inputs[0].shape[0] as number) : 1;
  return {
    weightBytes,
    peakActivationBytes: peak,
    totalActivationBytes: total,
    workspaceBytes: workspace,
    perItemBytes: total / Math.max(1, batch),
    fixedBytes: weightBytes + workspace,
  };
}

/** Stack tensors of shape [1, ...] (or [...]) along a new/first batch axis. */
export function stackBatch(items: { dtype: DType; dims: number[]; data: Float32Array }[]): {
  dtype: DType;
  dims: number[];
  data: Float32Array;
} {
  if (items.length === 0) throw new Error('stackBatch: no items');
  const per = items[0].data.length;
  const data = new Float32Array(per * items.length);
  items.forEach((t, i) => {
    if (t.data.length !== per) throw new Error('stackBatch: items differ in size');
    data.set(t.data, i * per);
  });
  const inner = items[0].dims[0] === 1 ? items[0].dims.slice(1) : items[0].dims;
  return { dtype: items[0].dtype, dims: [items.length, ...inner], data };
}

/** Split a batched float32 tensor [N, ...] into N tensors [1, ...] (views, no copy). */
export function splitBatch(t: { dtype: DType; dims: number[]; data: Float32Array }): {
  dtype: DType;
  dims: number[];
  data: Float32Array;
}[] {
  const n = t.dims[0];
  const per = t.data.length / n;
  return Array.from({ length: n }, (_, i) => ({
    dtype: t.dtype,
    dims: [1, ...t.dims.slice(1)],
    data: t.data.subarray(i * per, (i + 1) * per),
  }));
}

export interface AutoBatchOptions {
  /** Memory the batch may use; default defaultBudgetBytes(). */
  budgetBytes?: number;
  /** Largest useful batch (e.g. the number of path steps). Default 8. */
  max?: number;
  /** Batch size asked for explicitly (a study's `batch=`), clamped to 1..max. */
  override?: number;
}

/** chooseBatch from the memory estimate of `graphAtBatch1` (a specialised graph at batch 1). */
export function autoBatch(graphAtBatch1: Graph, options: AutoBatchOptions = {}): number {
  const m = estimateMemory(graphAtBatch1);
  return chooseBatch({
    perItemBytes: m.perItemBytes,
    fixedBytes: m.fixedBytes,
    budgetBytes: options.budgetBytes ?? defaultBudgetBytes(),
    max: options.max ?? 8,
    override: options.override,
  });
}
