// Shared test helpers: reference-model paths, PNG to tensor, and a plain ONNX Runtime run.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { outputData, runOnnx } from '../../helpers/ort.js';
import { fixture } from '../../helpers/paths.js';
import { PNG } from 'pngjs';
import type { TensorData } from '../../../src/runtime/graph/ir.js';

export { repoRoot } from '../../helpers/paths.js';
export const referenceDir = fixture('lam');
export const referenceModels = ['fsrcnn_chelsea', 'carn_coffee'];

/** RGB png as float32 1x3xHxW in 0..1 (the reference's `png / 255`). */
export function readPngTensor(file: string): TensorData {
  const png = PNG.sync.read(readFileSync(file));
  const { width, height, data } = png;
  const out = new Float32Array(3 * width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) out[c * width * height + y * width + x] = data[p + c] / 255;
    }
  }
  return { dtype: 'float32', dims: [1, 3, height, width], data: out };
}

/** Raw 8-bit RGB planes of a png, CHW. */
export function readPngBytes(file: string): { width: number; height: number; chw: Uint8Array } {
  const png = PNG.sync.read(readFileSync(file));
  const { width, height, data } = png;
  const chw = new Uint8Array(3 * width * height);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) chw[c * width * height + i] = data[i * 4 + c];
  return { width, height, chw };
}

/** Run model bytes once in ONNX Runtime (CPU), returning the float32 outputs. */
export async function runOrt(bytes: Uint8Array, feeds: Record<string, TensorData>): Promise<Record<string, Float32Array>> {
  return outputData(await runOnnx(bytes, feeds, { threads: 2 }));
}

/** The reference's conversion: clamp to 0..1, x255, truncate. */
export function toBytes(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.trunc(Math.min(1, Math.max(0, x[i])) * 255);
  return out;
}
