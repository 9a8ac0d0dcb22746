// ONNX Runtime sessions behind the small Session contract of api.ts, cached per
// (graph content, input shapes, device, threads, spinning).

import { createHash } from 'node:crypto';
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Session, SessionOptions } from '../api.js';
import type { DType, Graph, TensorArray, TensorData } from '../graph/ir.js';
import { encodeModel } from '../onnx/codec.js';
import { type ConcreteDevice, executionProviders, resolveDevice } from './device.js';

export interface EngineOptions extends SessionOptions {
  /**
   * Let ONNX Runtime's intra-op threads spin while waiting for work. Off by default, from
   * `npm run bench -- engine` (EDSR x4, 48x48, 2 threads): on 2 idle cores spinning changed
   * nothing (forward 53.7 vs 55.2 ms, fwd+grad 115.8 vs 118.1 ms), on the shared 2-core
   * machine it made them 1.39x and 1.50x slower.
   */
  spinning?: boolean;
  /** Keep the session out of the cache (benchmarks comparing settings). */
  fresh?: boolean;
}

/** The machine's cores, the default thread count. */
export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

const graphHashes = new WeakMap<Graph, { bytes: Uint8Array; hash: string }>();

/** The encoded model and its sha256, computed once per graph object. */
export function encodedGraph(graph: Graph): { bytes: Uint8Array; hash: string } {
  let e = graphHashes.get(graph);
  if (!e) {
    const bytes = encodeModel(graph);
    e = { bytes, hash: createHash('sha256').update(bytes).digest('hex') };
    graphHashes.set(graph, e);
  }
  return e;
}

const ORT_TYPES: Record<string, DType> = {
  float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', uint8: 'uint8', bool: 'bool',
};

function toOrt(t: TensorData): ort.Tensor {
  return new ort.Tensor(t.dtype, t.data as Float32Array, t.dims);
}

function fromOrt(name: string, t: ort.Tensor): TensorData {
  const dtype = ORT_TYPES[t.type];
  if (!dtype) throw new Error(`output '${name}' has element type ${t.type}, which lvi does not read`);
  return { dtype, dims: [...t.dims], data: t.data as TensorArray };
}

class OrtSession implements Session {
  private users = 1;
  constructor(
    readonly device: ConcreteDevice,
    private readonly inner: ort.InferenceSession,
    private readonly key: string | undefined,
    private readonly label: string,
  ) {}

  retain(): this {
    this.users++;
    return this;
  }

  async run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = toOrt(t);
    let res: ort.InferenceSession.ReturnType;
    try {
      res = await this.inner.run(ortFeeds);
    } catch (e) {
      throw new Error(`running ${this.label} on ${this.device} failed: ${(e as Error).message}`);
    }
    const out: Record<string, TensorData> = {};
    for (const [k, t] of Object.entries(res)) out[k] = fromOrt(k, t);
    return out;
  }

  /** Release this user's hold; the ONNX Runtime session goes when the last one releases. */
  async release(): Promise<void> {
    if (this.users <= 0) return; // released already
    if (--this.users > 0) return;
    if (this.key) cache.delete(this.key);
    await this.inner.release();
  }
}

const cache = new Map<string, Promise<OrtSession>>();

/**
 * A session for `graph` (concrete input shapes) on the device asked for. Sessions are shared
 * while any caller holds one: each createSession needs its own release().
 */
export async function createSession(graph: Graph, options: EngineOptions): Promise<Session> {
  const device = await resolveDevice(options.device, options.onWarning);
  const threads = options.threads ?? defaultThreads();
  const spinning = options.spinning ?? false;
  const { bytes, hash } = encodedGraph(graph);
  const shapes = graph.inputs.map((i) => `${i.name}:${i.shape.join('x')}`).join(',');
  const key = `${hash}|${shapes}|${device}|${threads}|${spinning ? 1 : 0}`;
  if (!options.fresh) {
    const hit = cache.get(key);
    if (hit) return (await hit).retain();
  }
  const made = (async () => {
    const inner = await ort.InferenceSession.create(bytes, {
      executionProviders: executionProviders(device),
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      extra: { 'session.intra_op.allow_spinning': spinning ? '1' : '0' },
    }).catch((e: unknown) => {
      throw new Error(`ONNX Runtime cannot load graph '${graph.name}' on ${device}: ${(e as Error).message}`);
    });
    return new OrtSession(device, inner, options.fresh ? undefined : key, `graph '${graph.name}'`);
  })();
  if (!options.fresh) {
    cache.set(key, made);
    made.catch(() => cache.delete(key));
  }
  return made;
}

/** Sessions currently cached (for tests and diagnostics). */
export function cachedSessionCount(): number {
  return cache.size;
}
