// Engine: ONNX Runtime sessions, devices and batch sizing.
export { createSession, defaultThreads, encodedGraph, cachedSessionCount, type EngineOptions } from './session.js';
export { resolveDevice, deviceProblem, DeviceError, resetDeviceState, AUTO_ORDER, type ConcreteDevice } from './device.js';
export {
  autoBatch, chooseBatch, defaultBudgetBytes, estimateMemory, stackBatch, splitBatch,
  type AutoBatchOptions, type BatchRequest, type MemoryEstimate,
} from './batch.js';
export { batchAxisVerdict, type BatchAxisVerdict } from './batch-axis.js';
