// Runs a graph (or encoded model bytes) once in ONNX Runtime on the CPU, straight through
// onnxruntime-node and not through lvi's engine, so tests can check the engine against it.
import * as ort from 'onnxruntime-node';
import type { Graph, TensorData } from '../../src/runtime/graph/ir.js';
import { encodeModel } from '../../src/runtime/onnx/index.js';

export interface OrtOutput {
  data: Float32Array;
  dims: number[];
}

export async function runOnnx(
  model: Graph | Uint8Array,
  feeds: Record<string, TensorData>,
  { threads = 1 }: { threads?: number } = {},
): Promise<Record<string, OrtOutput>> {
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    extra: { session: { 'intra_op.allow_spinning': '0' } },
  });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) {
      // float32 feeds may arrive as any float array (the float64 evaluator's tests): convert.
      ortFeeds[k] = t.dtype === 'float32'
        ? new ort.Tensor('float32', Float32Array.from(t.data as Float32Array), t.dims)
        : new ort.Tensor(t.dtype, t.data as BigInt64Array, t.dims);
    }
    const res = await session.run(ortFeeds);
    const out: Record<string, OrtOutput> = {};
    for (const [k, t] of Object.entries(res)) out[k] = { data: t.data as Float32Array, dims: [...t.dims] };
    return out;
  } finally {
    await session.release();
  }
}

/** Just the output arrays, by name. */
export function outputData(res: Record<string, OrtOutput>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.data]));
}
