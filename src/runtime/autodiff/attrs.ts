// The attribute readers and window geometry moved to graph/attrs.ts (onnx/shapes.ts uses them too).
export * from '../graph/attrs.js';
