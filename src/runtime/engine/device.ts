// Which ONNX Runtime execution provider a device name means, and whether it can start here.
// A device is probed once per process by creating a session for a one-node model.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Device } from '../api.js';
import { encodeModel } from '../onnx/codec.js';

export type ConcreteDevice = Exclude<Device, 'auto'>;

/** A device that was asked for explicitly and cannot run here. */
export class DeviceError extends Error {
  override name = 'DeviceError';
  constructor(
    readonly device: ConcreteDevice,
    readonly reason: string,
  ) {
    super(`device=${device} cannot start: ${reason}`);
  }
}

/** The order `auto` tries devices in. */
export const AUTO_ORDER: ConcreteDevice[] = ['cuda', 'webgpu', 'cpu'];

export function executionProviders(device: ConcreteDevice): ort.InferenceSession.ExecutionProviderConfig[] {
  switch (device) {
    case 'cpu': return ['cpu'];
    case 'cuda': return [{ name: 'cuda' }, 'cpu'];
    case 'webgpu': return [{ name: 'webgpu' }, 'cpu'];
  }
}

/** onnxruntime-node loads CUDA from files its install script downloads beside the binding. */
function cudaFilesPresent(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const root = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const dir = path.join(root, 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/**
 * Dawn loads libvulkan.so.1 on Linux and prints its own error to stderr when it is missing;
 * looking first keeps `auto` quiet on machines without a GPU stack.
 */
function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
    '/lib/x86_64-linux-gnu',
  ];
  return dirs.some((d) => existsSync(path.join(d, 'libvulkan.so.1')));
}

let probeModel: Uint8Array | undefined;
function tinyModel(): Uint8Array {
  probeModel ??= encodeModel({
    name: 'probe',
    opset: 13,
    nodes: [{ name: 'relu', opType: 'Relu', inputs: ['x'], outputs: ['y'], attrs: {} }],
    inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
    initializers: new Map(),
  });
  return probeModel;
}

const probes = new Map<ConcreteDevice, Promise<string | undefined>>();

/** Why `device` cannot start, or undefined when it can. Probed once per process. */
export function deviceProblem(device: ConcreteDevice): Promise<string | undefined> {
  let p = probes.get(device);
  if (!p) {
    p = probe(device);
    probes.set(device, p);
  }
  return p;
}

async function probe(device: ConcreteDevice): Promise<string | undefined> {
  if (device === 'cpu') return undefined;
  if (device === 'cuda' && !cudaFilesPresent()) {
    return "onnxruntime-node's CUDA files are not installed (its install script downloads them and lvi's install " +
      'skips it; on a machine with CUDA 12 run `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js`)';
  }
  if (device === 'webgpu' && !vulkanLoaderPresent()) {
    return 'no Vulkan loader (libvulkan.so.1) on this machine: WebGPU runs over Vulkan here and needs a GPU with its Vulkan driver';
  }
  const model = tinyModel(); // outside the try: a failure here is lvi's, not the device's
  try {
    // Only the provider under test: a silent CPU fallback would hide that it cannot start.
    const providers = device === 'cuda' ? [{ name: 'cuda' }] : [{ name: 'webgpu' }];
    const session = await ort.InferenceSession.create(model, { executionProviders: providers, logSeverityLevel: 4 });
    await session.release();
    return undefined;
  } catch (e) {
    const reason = firstLine((e as Error).message);
    // Dawn runs WebGPU over Vulkan on Linux: say what is missing.
    return device === 'webgpu' && /adapter/i.test(reason)
      ? `${reason} (WebGPU runs over Vulkan here: it needs a GPU with its Vulkan driver and libvulkan)`
      : reason;
  }
}

function firstLine(message: string): string {
  // ORT prefixes errors with source locations; keep the readable part.
  const line = message.split('\n').find((l) => l.trim()) ?? message;
  const m = /(Failed to get a WebGPU adapter[^\n]*|Failed to load[^\n]*)/.exec(line);
  return (m ? m[1] : line).trim();
}

let warned = false;

/** What `auto` says, once per process, when it runs on the CPU (the reasons: `lvi doctor`). */
export const AUTO_CPU_NOTE = 'device: cpu (no GPU provider available; see lvi doctor)';

/**
 * The concrete device for `device`. `auto` takes the first of cuda, webgpu, cpu that starts
 * and says so once per process in one line (through `onWarning`, else stderr) when it falls back to CPU.
 * An explicit device that cannot start throws DeviceError.
 */
export async function resolveDevice(device: Device, onWarning?: (message: string) => void): Promise<ConcreteDevice> {
  if (device !== 'auto') {
    const problem = await deviceProblem(device);
    if (problem) throw new DeviceError(device, problem);
    return device;
  }
  for (const d of AUTO_ORDER) {
    const problem = await deviceProblem(d);
    if (!problem) {
      if (d === 'cpu' && !warned) {
        warned = true;
        // CPU is the normal case on a laptop: one short line; `lvi doctor` says why each GPU provider did not start.
        (onWarning ?? ((m: string) => process.stderr.write(`${m}\n`)))(AUTO_CPU_NOTE);
      }
      return d;
    }
  }
  throw new Error('unreachable: the CPU device always starts');
}

/** Forget probes and the fallback warning (tests). */
export function resetDeviceState(): void {
  probes.clear();
  warned = false;
}
