// ONNX import: decode/encode model bytes, specialise a graph to concrete input shapes.
export { decodeModel, encodeModel, OnnxFormatError, type EncodeOptions } from './codec.js';
export { specialise, inferShapes, UnsupportedOperatorError, type InputShapes } from './specialise.js';
export { knowsOperator } from './shapes.js';
