// The in-memory graph form every importer produces and every consumer (shape inference,
// the gradient builder, the ONNX encoder, the float64 evaluator, `lvi inspect`) reads.
// It mirrors ONNX (NCHW tensors, ONNX operator names and attributes) so encoding is direct.

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';

export type TensorArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface TensorData {
  dtype: DType;
  dims: number[];
  data: TensorArray;
}

export type AttrValue = number | string | number[] | string[] | TensorData;

export interface GraphNode {
  name: string;
  opType: string;
  /** '' or undefined for the default ONNX domain. */
  domain?: string;
  inputs: string[]; // '' marks an omitted optional input, as in ONNX
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface ValueInfo {
  name: string;
  dtype: DType;
  /** Concrete sizes, or a symbolic name (e.g. 'N', 'H') before specialisation. */
  shape: (number | string)[];
}

export interface Graph {
  name: string;
  opset: number;
  nodes: GraphNode[]; // topologically sorted
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, TensorData>;
  /** Shapes known for intermediate values (filled by shape inference). */
  valueInfo?: Map<string, ValueInfo>;
}
