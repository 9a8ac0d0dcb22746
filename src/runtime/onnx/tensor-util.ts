// Small helpers over TensorData used by constant folding and shape inference.

import type { DType, TensorData } from '../graph/ir.js';
import { allocate } from './codec.js';

export { normAxis, sizeOf, tensorNumbers as toNumbers } from '../graph/params.js';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Build a tensor of `dtype` from numbers (int types truncate; int64 saturates). */
export function fromNumbers(dtype: DType, dims: number[], values: ArrayLike<number>): TensorData {
  const data = allocate(dtype, values.length);
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      data[i] = v >= 9.2e18 ? INT64_MAX : v <= -9.2e18 ? INT64_MIN : BigInt(Math.trunc(v));
    }
  } else if (dtype === 'bool') {
    for (let i = 0; i < values.length; i++) data[i] = values[i] ? 1 : 0;
  } else if (dtype === 'int32' || dtype === 'uint8') {
    for (let i = 0; i < values.length; i++) data[i] = Math.trunc(values[i]);
  } else {
    for (let i = 0; i < values.length; i++) data[i] = values[i];
  }
  return { dtype, dims, data };
}

export const isInt = (d: DType): boolean => d === 'int64' || d === 'int32' || d === 'uint8';

/** Numpy broadcasting of two shapes; throws when they do not broadcast. */
export function broadcast(a: readonly number[], b: readonly number[], where: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`${where}: shapes [${a}] and [${b}] do not broadcast`);
    out[i] = x === 1 ? y : x;
  }
  return out;
}

/** Row-major strides for `dims`, with 0 where a broadcast dimension is 1 (aligned to `rank`). */
export function broadcastStrides(dims: readonly number[], rank: number): number[] {
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    strides[rank - dims.length + i] = dims[i] === 1 ? 0 : s;
    s *= dims[i];
  }
  return strides;
}
