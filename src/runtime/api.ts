// The small surface that method kernels (lam, faig, ddr) use to reach models and engines.
// Kernels never see ONNX Runtime sessions, devices or protobuf: they load a model, build a
// gradient program for an objective, and run it on batches.
//
// Implementations live in: src/runtime/models/ (loadModel, zoo), src/runtime/autodiff/
// (buildGradientGraph), src/runtime/engine/ (createSession, devices, batching).

import type { Graph, TensorData } from './graph/ir.js';

export type Device = 'auto' | 'cpu' | 'webgpu' | 'cuda';

export interface ModelSpec {
  /** Path to an .onnx file (absolute, already resolved against the study file). */
  file?: string;
  /** Zoo id such as 'esrgan-slim/x4' or 'rdn/x4'. */
  zoo?: string;
  /** Declared scale / value range; checked against what the model shows where possible. */
  scale?: number;
  range?: 1 | 255;
}

export interface ModelInfo {
  /** 'file:<path>' or 'zoo:<id>'. */
  source: string;
  /** sha256 of the model's bytes (all files for a TF.js model). */
  hash: string;
  scale: number;
  /** The value range the network was trained on; the graph below is always 0..1 in and out. */
  range: 1 | 255;
  inputName: string;
  outputName: string;
  inputChannels: number;
  parameters: number;
  /** Theoretical receptive field in LR pixels (diameter), when the graph allows computing it. */
  receptiveField?: number;
  /** True when the graph has global operators (global pooling, attention): no cropping. */
  hasGlobalOps: boolean;
}

export interface LoadedModel {
  info: ModelInfo;
  /** Forward graph, input 1x3xHxW (or symbolic), float32, values 0..1 in and out. */
  graph: Graph;
}

/**
 * Scalar objectives appended to the forward graph. Inputs they need are fed per run:
 * - window: `lvi_window` float32 [1,1,Hout,Wout] mask of the window (1 inside, 0 outside).
 *   detector=gradient: per channel g = sqrt((S[r,q]-S[r+1,q])^2 + (S[r,q]-S[r,q+1])^2) on the
 *   (H-1)x(W-1) grid, weighted by the mask, summed over channels; sqrt gets gradient 0 where its
 *   argument is exactly 0 (no NaN). detector=intensity: sum of the output inside the mask.
 *   reduce=mean divides by the mask's sum.
 * - sse: `lvi_target` float32 like the output; sum of squared errors.
 * - feature: the value at graph node output `node`, reduced by sum or mean.
 * The objective output `lvi_objective` is float32 [N], one value per batch element; gradients
 * are of the sum over the batch, so each element's input gradient is its own.
 */
export type Objective =
  | { kind: 'window'; detector: 'gradient' | 'intensity'; reduce: 'sum' | 'mean' }
  | { kind: 'sse' }
  | { kind: 'feature'; node: string; reduce: 'sum' | 'mean' };

export interface GradientRequest {
  /** Concrete input shape [N, C, H, W] the graph is specialised to. */
  inputShape: [number, number, number, number];
  objective: Objective;
  /** Gradient with respect to the input image (LAM). */
  wrtInput: boolean;
  /** Initializer names to differentiate (FAIG); they become graph inputs when listed here. */
  wrtWeights?: string[];
  /**
   * How the differentiated weights appear in the graph. 'inputs' (default): graph inputs fed
   * on every run, so one session serves a whole FAIG path, but ONNX Runtime cannot pre-pack
   * them (EDSR x4 weight gradients, CPU: 3.4-3.8x the forward). 'constants': they stay
   * initializers holding the forward graph's values, pre-packed (3.0-3.3x); each set of weight
   * values needs its own graph and session (~0.1 s to create), e.g. one per FAIG path step,
   * shared by all images at that step.
   */
  weightsAs?: 'inputs' | 'constants';
  /**
   * Weights (among wrtWeights) whose gradient comes per batch element, [N, ...weight dims],
   * instead of summed over the batch (FAIG scores each input's own gradient). Each must be the
   * weight of ungrouped Conv or ConvTranspose nodes and nothing else.
   */
  perExample?: string[];
}

export interface GradientGraph {
  graph: Graph;
  /** Output names in `graph`. */
  outputs: {
    output: string;
    objective: 'lvi_objective';
    inputGrad?: string;
    weightGrads: Record<string, string>;
  };
}

export interface Session {
  readonly device: Exclude<Device, 'auto'>;
  run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>>;
  release(): Promise<void>;
}

export interface SessionOptions {
  device: Device;
  /** Defaults to the machine's cores. */
  threads?: number;
  /** Called once when `auto` falls back to CPU, with the reason. */
  onWarning?: (message: string) => void;
}
