// NumPy .npy files (format 1.0 written; 1.0, 2.0 and 3.0 read), little-endian float32/float64
// (and int32, for rankings), C order: what `numpy.load` reads as is and what reference implementations write.

import { readFileSync, writeFileSync } from 'node:fs';

export interface NpyArray {
  dtype: 'float32' | 'float64';
  shape: number[];
  data: Float32Array | Float64Array;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** Writes a float32 (float64, int32) array as a version 1.0 .npy file. */
export function writeNpy(path: string, data: Float32Array | Float64Array | Int32Array, shape: number[]): void {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(`writeNpy ${path}: shape [${shape.join(', ')}] holds ${count} values, data has ${data.length}`);
  }
  const descr = data instanceof Float64Array ? '<f8' : data instanceof Int32Array ? '<i4' : '<f4';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // The whole preamble (magic 6 + version 2 + length 2 + header) is padded to 64 bytes, ending in \n.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const pre = Buffer.alloc(10);
  MAGIC.copy(pre, 0);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // Typed arrays are little-endian on every platform Node supports in practice; check anyway.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('writeNpy: big-endian hosts are not supported');
  writeFileSync(path, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

/** Reads a little-endian float32/float64 C-order .npy file. */
export function readNpy(path: string): NpyArray {
  const a = readAny(path);
  if (a.dtype === 'int32') throw new Error(`${path}: an int32 array where float32 or float64 values were expected`);
  return a as NpyArray;
}

/** Reads a little-endian int32 C-order .npy file (rankings). */
export function readNpyInt32(path: string): { shape: number[]; data: Int32Array } {
  const a = readAny(path);
  if (a.dtype !== 'int32') throw new Error(`${path}: a ${a.dtype} array where int32 values were expected`);
  return { shape: a.shape, data: a.data as Int32Array };
}

function readAny(path: string): { dtype: 'float32' | 'float64' | 'int32'; shape: number[]; data: Float32Array | Float64Array | Int32Array } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) throw new Error(`${path} is not a .npy file`);
  const major = bytes[6];
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = bytes.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    headerLen = bytes.readUInt32LE(8);
    start = 12;
  } else {
    throw new Error(`${path}: .npy format version ${major} is not supported`);
  }
  const header = bytes.subarray(start, start + headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${path}: cannot parse the .npy header ${JSON.stringify(header.trim())}`);
  }
  if (fortran === 'True') throw new Error(`${path}: Fortran-order arrays are not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  let dtype: 'float32' | 'float64' | 'int32';
  let size: number;
  if (descr === '<f4' || descr === '|f4') [dtype, size] = ['float32', 4];
  else if (descr === '<f8' || descr === '|f8') [dtype, size] = ['float64', 8];
  else if (descr === '<i4' || descr === '|i4') [dtype, size] = ['int32', 4];
  else throw new Error(`${path}: dtype '${descr}' is not supported (little-endian float32, float64 or int32 only)`);
  if (bytes.length - offset < count * size) {
    throw new Error(`${path}: truncated, ${bytes.length - offset} data bytes for shape (${shape.join(', ')})`);
  }
  // Copy so the result is aligned whatever the header length.
  const buf = new ArrayBuffer(count * size);
  new Uint8Array(buf).set(bytes.subarray(offset, offset + count * size));
  const data = dtype === 'float32' ? new Float32Array(buf) : dtype === 'int32' ? new Int32Array(buf) : new Float64Array(buf);
  return { dtype, shape, data };
}
