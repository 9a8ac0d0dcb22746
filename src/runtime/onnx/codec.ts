// ONNX <-> graph IR, through protobufjs and the vendored onnx.proto (loaded once, at first use).
// Tensors are always written as raw_data (little-endian, as ONNX requires and Node is).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { AttrValue, DType, Graph, GraphNode, TensorArray, TensorData, ValueInfo } from '../graph/ir.js';
import { sizeOf } from '../graph/params.js';

/** Raised for bytes that are not a usable ONNX model; `message` names the problem. */
export class OnnxFormatError extends Error {
  override name = 'OnnxFormatError';
}

// --- schema -------------------------------------------------------------------------------

let modelType: protobuf.Type | undefined;

/** The proto sits beside this file in src/; from dist/ walk up to the package root. */
function protoPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'onnx.proto');
  if (existsSync(beside)) return beside;
  for (let dir = here; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'src', 'runtime', 'onnx', 'onnx.proto');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`onnx.proto not found near ${here}`);
}

function schema(): protobuf.Type {
  if (!modelType) {
    const root = new protobuf.Root().loadSync(protoPath(), { keepCase: true });
    modelType = root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

// --- element types ------------------------------------------------------------------------

// TensorProto.DataType numbers for the element types the IR carries.
const ONNX_TYPE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
};
const ONNX_TYPE_NAMES: Record<number, string> = {
  1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 16: 'BFLOAT16',
};

export function dtypeFromOnnx(code: number, where: string): DType {
  for (const [name, value] of Object.entries(ONNX_TYPE)) if (value === code) return name as DType;
  throw new OnnxFormatError(`unsupported element type ${ONNX_TYPE_NAMES[code] ?? code} in ${where}`);
}

export function dtypeToOnnx(dtype: DType): number {
  return ONNX_TYPE[dtype];
}

export function allocate(dtype: DType, length: number): TensorArray {
  switch (dtype) {
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
    case 'int64': return new BigInt64Array(length);
    case 'int32': return new Int32Array(length);
    case 'uint8':
    case 'bool': return new Uint8Array(length);
  }
}

function fromBytes(dtype: DType, raw: Uint8Array): TensorArray {
  // Copy: protobuf buffers are shared and may not be aligned for typed-array views.
  const bytes = new Uint8Array(raw.byteLength);
  bytes.set(raw);
  switch (dtype) {
    case 'float32': return new Float32Array(bytes.buffer);
    case 'float64': return new Float64Array(bytes.buffer);
    case 'int64': return new BigInt64Array(bytes.buffer);
    case 'int32': return new Int32Array(bytes.buffer);
    case 'uint8':
    case 'bool': return bytes;
  }
}

// --- small protobuf helpers ------------------------------------------------------------------

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const has = (m: Msg, key: string): boolean => Object.prototype.hasOwnProperty.call(m, key);

/** int64 fields arrive as Long objects (or numbers when small). */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

function big(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (v && typeof v === 'object' && 'high' in v && 'low' in v) {
    const l = v as { high: number; low: number };
    return (BigInt(l.high) << 32n) | BigInt(l.low >>> 0);
  }
  return BigInt(String(v));
}

const utf8 = new TextDecoder();
const str = (v: unknown): string => (typeof v === 'string' ? v : utf8.decode(v as Uint8Array));

// --- decode -----------------------------------------------------------------------------------

export function decodeTensor(t: Msg, where: string): TensorData {
  const name = t.name ? `${where} '${t.name}'` : where;
  if (has(t, 'data_location') && t.data_location === 1) {
    throw new OnnxFormatError(`${name} uses external data, which lvi does not read; save the model with its weights inside`);
  }
  const dtype = dtypeFromOnnx(t.data_type, name);
  const dims = (t.dims as unknown[]).map(num);
  const count = sizeOf(dims);
  let data: TensorArray;
  if (t.raw_data && t.raw_data.length > 0) {
    data = fromBytes(dtype, t.raw_data);
  } else {
    data = allocate(dtype, count);
    const src: unknown[] =
      dtype === 'float32' ? t.float_data
      : dtype === 'float64' ? t.double_data
      : dtype === 'int64' ? t.int64_data
      : t.int32_data; // int32, uint8 and bool are all stored in int32_data
    if (src.length !== count) {
      throw new OnnxFormatError(`${name}: ${src.length} values for shape [${dims.join(',')}]`);
    }
    if (data instanceof BigInt64Array) for (let i = 0; i < count; i++) data[i] = big(src[i]);
    else for (let i = 0; i < count; i++) (data as Float32Array)[i] = num(src[i]);
  }
  if (data.length !== count) {
    throw new OnnxFormatError(`${name}: ${data.length} values for shape [${dims.join(',')}]`);
  }
  return { dtype, dims, data };
}

function decodeValueInfo(v: Msg, where: string): ValueInfo {
  const tensor = v.type?.tensor_type;
  if (!tensor) throw new OnnxFormatError(`${where} '${v.name}' is not a tensor`);
  const dtype = dtypeFromOnnx(tensor.elem_type, `${where} '${v.name}'`);
  const dims: Msg[] = tensor.shape?.dim ?? [];
  const shape = dims.map((d, i) =>
    has(d, 'dim_value') ? num(d.dim_value) : has(d, 'dim_param') && d.dim_param ? String(d.dim_param) : `?${i}`,
  );
  return { name: v.name, dtype, shape };
}

// AttributeProto.AttributeType
const A = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

function decodeAttr(a: Msg, node: string): AttrValue {
  switch (a.type) {
    case A.FLOAT:
      FLOAT_ATTRS.add(a.name); // so that re-encoding keeps it a float even when it is whole
      return a.f;
    case A.INT: return num(a.i);
    case A.STRING: return str(a.s);
    case A.TENSOR: return decodeTensor(a.t, `attribute ${a.name} of node ${node}`);
    case A.FLOATS:
      FLOAT_ATTRS.add(a.name);
      return [...a.floats];
    case A.INTS: return (a.ints as unknown[]).map(num);
    case A.STRINGS: return (a.strings as unknown[]).map(str);
    default:
      throw new OnnxFormatError(
        `node '${node}' has attribute '${a.name}' of a kind lvi does not support (subgraphs, sparse tensors)`,
      );
  }
}

/** Decode an ONNX model file's bytes into the graph IR. */
export function decodeModel(bytes: Uint8Array): Graph {
  let m: Msg;
  try {
    m = schema().decode(bytes) as unknown as Msg;
  } catch (e) {
    throw new OnnxFormatError(`not a valid ONNX file (protobuf decoding failed: ${(e as Error).message})`);
  }
  const g: Msg | undefined = m.graph;
  if (!g || !g.node || g.node.length === 0) throw new OnnxFormatError('not a valid ONNX file (no graph nodes)');
  let opset = 0;
  for (const o of m.opset_import ?? []) if (!o.domain || o.domain === 'ai.onnx') opset = num(o.version);
  if (!opset) throw new OnnxFormatError('ONNX file has no opset for the default domain');

  const initializers = new Map<string, TensorData>();
  for (const t of g.initializer ?? []) initializers.set(t.name, decodeTensor(t, 'initializer'));
  if ((g.sparse_initializer ?? []).length > 0) throw new OnnxFormatError('sparse initializers are not supported');

  const nodes: GraphNode[] = (g.node as Msg[]).map((n, i) => {
    const name = n.name || `${n.op_type}_${i}`;
    const attrs: Record<string, AttrValue> = {};
    for (const a of n.attribute ?? []) attrs[a.name] = decodeAttr(a, name);
    const node: GraphNode = { name, opType: n.op_type, inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
    if (n.domain && n.domain !== 'ai.onnx') node.domain = n.domain;
    return node;
  });

  // Older exporters list initializers among the inputs too; the IR keeps only real inputs.
  const inputs = (g.input as Msg[]).filter((v) => !initializers.has(v.name)).map((v) => decodeValueInfo(v, 'input'));
  const outputs = (g.output as Msg[]).map((v) => decodeValueInfo(v, 'output'));
  const valueInfo = new Map<string, ValueInfo>();
  for (const v of g.value_info ?? []) {
    if (v.type?.tensor_type) {
      try {
        valueInfo.set(v.name, decodeValueInfo(v, 'value'));
      } catch {
        // value_info is advisory; an odd element type there does not make the model unusable
      }
    }
  }
  const graph: Graph = { name: g.name || 'graph', opset, nodes, inputs, outputs, initializers };
  if (valueInfo.size > 0) graph.valueInfo = valueInfo;
  return graph;
}

// --- encode -----------------------------------------------------------------------------------

// The IR stores attribute numbers untyped; these names are FLOAT(S) in the ONNX operators lvi meets.
const FLOAT_ATTRS = new Set([
  'alpha', 'beta', 'gamma', 'epsilon', 'bias', 'lambd', 'value_float', 'value_floats', 'scales',
  'extrapolation_value', 'cubic_coeff_a', 'momentum', 'ratio', 'spatial_scale', 'threshold',
  'mean', 'scale', 'seed', 'high', 'low', 'min', 'max',
]);

function isTensor(v: AttrValue): v is TensorData {
  return typeof v === 'object' && !Array.isArray(v);
}

export function encodeTensor(name: string, t: TensorData): Msg {
  const d = t.data;
  return {
    name,
    data_type: dtypeToOnnx(t.dtype),
    dims: t.dims,
    raw_data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
  };
}

function encodeAttr(name: string, v: AttrValue): Msg {
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    return FLOAT_ATTRS.has(name) || !Number.isInteger(v) ? { name, type: A.FLOAT, f: v } : { name, type: A.INT, i: v };
  }
  if (isTensor(v)) return { name, type: A.TENSOR, t: encodeTensor('', v) };
  if (v.length > 0 && typeof v[0] === 'string') {
    return { name, type: A.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
  }
  const nums = v as number[];
  return FLOAT_ATTRS.has(name) || nums.some((x) => !Number.isInteger(x))
    ? { name, type: A.FLOATS, floats: nums }
    : { name, type: A.INTS, ints: nums };
}

function encodeValueInfo(v: ValueInfo): Msg {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: dtypeToOnnx(v.dtype),
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

export interface EncodeOptions {
  /** Also write graph.valueInfo (inferred shapes) into the file. Default false. */
  valueInfo?: boolean;
}

/** The IR version ONNX pairs with an opset (8 up to opset 18, 9 for 19-20, 10 from 21). */
export function irVersionFor(opset: number): number {
  return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

/** Encode the graph IR as ONNX model bytes (the graph's opset and its IR version). */
export function encodeModel(graph: Graph, options: EncodeOptions = {}): Uint8Array {
  const domains = new Set<string>();
  for (const n of graph.nodes) if (n.domain) domains.add(n.domain);
  const model = {
    ir_version: irVersionFor(graph.opset),
    producer_name: 'lvi',
    opset_import: [{ domain: '', version: graph.opset }, ...[...domains].map((domain) => ({ domain, version: 1 }))],
    graph: {
      name: graph.name,
      node: graph.nodes.map((n) => ({
        name: n.name,
        op_type: n.opType,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs).map(([k, v]) => encodeAttr(k, v)),
      })),
      initializer: [...graph.initializers].map(([name, t]) => encodeTensor(name, t)),
      input: graph.inputs.map(encodeValueInfo),
      output: graph.outputs.map(encodeValueInfo),
      value_info: options.valueInfo && graph.valueInfo ? [...graph.valueInfo.values()].map(encodeValueInfo) : [],
    },
  };
  const type = schema();
  return type.encode(type.fromObject(model)).finish();
}
