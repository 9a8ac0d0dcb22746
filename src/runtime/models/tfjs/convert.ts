// TF.js / Keras layers model -> graph IR (NCHW, ONNX operators).
//
// Keras tensors are NHWC; the IR is NCHW like the ONNX SR models lvi also reads, so kernels are
// transposed (HWIO -> OIHW), channel axes remapped and per-channel constants reshaped to
// [C,1,1]. Every layer becomes a node named after the Keras layer, and the layer's output
// tensor carries the layer's name too, so a study can name layers as Keras shows them
// (`layer="LFF_3"`). Helper nodes a layer needs get `<layer>/<what>` names.

import type { Graph, GraphNode, TensorData, ValueInfo } from '../../graph/ir.js';
import { TfjsFormatError, type KerasLayer, type LayersModelArtifacts, type Weight } from './artifacts.js';

export const TFJS_OPSET = 17;

export interface ConvertOptions {
  /** Graph name; defaults to the Keras model name. */
  name?: string;
}

export interface ConvertedModel {
  graph: Graph;
  /** Keras input layer name (= graph input). */
  inputName: string;
  /** Keras output layer name (= graph output). */
  outputName: string;
  inputChannels: number;
  outputChannels: number;
  /** Output size / input size when the layers fix it exactly (e.g. 4 for an x4 SR net). */
  scale?: number;
  parameters: number;
}

/** Static facts tracked per tensor while converting. */
interface Meta {
  channels: number;
  /** Spatial size relative to the input. */
  factor: number;
  /** False once a layer makes the size depend on the input size (valid conv, stride rounding). */
  exact: boolean;
}

interface Ctx {
  layer: KerasLayer;
  name: string;
  inputs: string[];
  metas: Meta[];
  /** The name the layer's (first) output must carry. */
  out: string;
  b: Builder;
}

class Builder {
  nodes: GraphNode[] = [];
  initializers = new Map<string, TensorData>();
  weights: Map<string, Weight>;
  usedWeights = new Set<string>();

  constructor(weights: Map<string, Weight>) {
    this.weights = weights;
  }

  node(name: string, opType: string, inputs: string[], outputs: string[], attrs: GraphNode['attrs'] = {}): void {
    this.nodes.push({ name, opType, inputs, outputs, attrs });
  }

  init(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    const dtype = data instanceof Float32Array ? 'float32' : 'int64';
    this.initializers.set(name, { dtype, dims, data });
    return name;
  }

  scalar(name: string, value: number): string {
    return this.init(name, [], Float32Array.of(value));
  }

  /** Finds a layer's weight by manifest name; converters may prefix names with a scope. */
  weight(layer: string, field: string): Weight {
    const exact = `${layer}/${field}`;
    let key = this.weights.has(exact) ? exact : undefined;
    if (!key) {
      const suffix = `/${exact}`;
      const hits = [...this.weights.keys()].filter((k) => k.endsWith(suffix));
      if (hits.length === 1) key = hits[0];
    }
    if (!key) throw new TfjsFormatError(`layer ${layer}: weight '${exact}' is missing from the weights manifest`);
    this.usedWeights.add(key);
    return this.weights.get(key)!;
  }
}

// --- small helpers ---------------------------------------------------------------------------

function pair(v: unknown, what: string, layer: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0], v[1]];
  throw new TfjsFormatError(`layer ${layer}: ${what} must be a number or a pair, got ${JSON.stringify(v)}`);
}

/** Keras' 2D padding/cropping (n, [h, w] or [[top, bottom], [left, right]]) as [top, bottom, left, right]. */
function sides(v: unknown, what: string, layer: string): [number, number, number, number] {
  if (typeof v === 'number') return [v, v, v, v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return [v[0], v[0], v[1], v[1]];
  if (Array.isArray(v)) {
    const [[t, b], [l, r]] = v as [[number, number], [number, number]];
    return [t, b, l, r];
  }
  throw new TfjsFormatError(`layer ${layer}: ${what} ${JSON.stringify(v)} is not understood`);
}

/** NHWC axis (Keras, may be negative) -> NCHW axis. */
function nchwAxis(axis: number, layer: string): number {
  const a = axis < 0 ? axis + 4 : axis;
  const map = [0, 2, 3, 1];
  if (!(a >= 0 && a < 4)) throw new TfjsFormatError(`layer ${layer}: axis ${axis} is out of range for a 4-D tensor`);
  return map[a];
}

function requireChannelsLast(ctx: Ctx): void {
  const f = ctx.layer.config.data_format;
  if (f !== undefined && f !== null && f !== 'channels_last') {
    throw new TfjsFormatError(`layer ${ctx.name}: data_format '${String(f)}' is not supported (channels_last only)`);
  }
}

/** HWIO (Keras Conv2D kernel) -> OIHW (ONNX Conv weight). */
function hwioToOihw(w: Weight): { dims: number[]; data: Float32Array } {
  const [kh, kw, ci, co] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = w.data[((y * kw + x) * ci + i) * co + o];
  return { dims: [co, ci, kh, kw], data: out };
}

/** Emits the activation named by a Keras `activation` string, from `x` into `out`. */
function activation(b: Builder, fn: string, x: string, out: string, nodeName: string, layer: string): void {
  switch (fn) {
    case 'relu':
      return b.node(nodeName, 'Relu', [x], [out]);
    case 'relu6':
      return b.node(nodeName, 'Clip', [x, b.scalar(`${nodeName}/min`, 0), b.scalar(`${nodeName}/max`, 6)], [out]);
    case 'sigmoid':
      return b.node(nodeName, 'Sigmoid', [x], [out]);
    case 'tanh':
      return b.node(nodeName, 'Tanh', [x], [out]);
    case 'elu':
      return b.node(nodeName, 'Elu', [x], [out], { alpha: 1 });
    case 'selu':
      // ONNX Selu's default alpha and gamma are Keras's constants.
      return b.node(nodeName, 'Selu', [x], [out]);
    case 'softplus':
      return b.node(nodeName, 'Softplus', [x], [out]);
    case 'swish':
    case 'silu':
      b.node(`${nodeName}/sigmoid`, 'Sigmoid', [x], [`${nodeName}/sigmoid`]);
      return b.node(nodeName, 'Mul', [x, `${nodeName}/sigmoid`], [out]);
    default:
      throw new TfjsFormatError(`layer ${layer}: activation '${fn}' is not supported`);
  }
}

function same(ctx: Ctx): Meta {
  return { ...ctx.metas[0] };
}

function elementwise(op: 'Add' | 'Mul' | 'Sub', ctx: Ctx): Meta {
  if (op === 'Sub' && ctx.inputs.length !== 2) throw new TfjsFormatError(`layer ${ctx.name}: Subtract takes 2 inputs`);
  if (ctx.inputs.length < 2) throw new TfjsFormatError(`layer ${ctx.name}: needs at least 2 inputs`);
  let acc = ctx.inputs[0];
  for (let i = 1; i < ctx.inputs.length; i++) {
    const last = i === ctx.inputs.length - 1;
    const out = last ? ctx.out : `${ctx.name}/${op.toLowerCase()}${i}`;
    ctx.b.node(last ? ctx.name : out, op, [acc, ctx.inputs[i]], [out]);
    acc = out;
  }
  return broadcastMeta(ctx);
}

function broadcastMeta(ctx: Ctx): Meta {
  const exact = ctx.metas.every((m) => m.exact);
  return { channels: Math.max(...ctx.metas.map((m) => m.channels)), factor: ctx.metas[0].factor, exact };
}

// --- layers ----------------------------------------------------------------------------------

type Rule = (ctx: Ctx) => Meta;

function conv2d(ctx: Ctx, depthwise: boolean): Meta {
  requireChannelsLast(ctx);
  const { b, name, layer } = ctx;
  const cfg = layer.config;
  const [sh, sw] = pair(cfg.strides ?? 1, 'strides', name);
  const [dh, dw] = pair(cfg.dilation_rate ?? 1, 'dilation_rate', name);
  const inC = ctx.metas[0].channels;
  let weight: { dims: number[]; data: Float32Array };
  let group: number;
  if (depthwise) {
    // Depthwise kernel [kh,kw,C,M]: output channel c*M+m filters input channel c (as TF orders it).
    const k = b.weight(name, 'depthwise_kernel');
    const [kh, kw, c, m] = k.shape;
    const data = new Float32Array(k.data.length);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let ci = 0; ci < c; ci++)
          for (let mi = 0; mi < m; mi++) data[((ci * m + mi) * kh + y) * kw + x] = k.data[((y * kw + x) * c + ci) * m + mi];
    weight = { dims: [c * m, 1, kh, kw], data };
    group = c;
  } else {
    weight = hwioToOihw(b.weight(name, 'kernel'));
    group = typeof cfg.groups === 'number' ? cfg.groups : 1;
  }
  const [outC, perGroup, kh, kw] = weight.dims;
  if (perGroup * group !== inC) {
    throw new TfjsFormatError(`layer ${name}: kernel expects ${perGroup * group} input channels, gets ${inC}`);
  }
  const inputs = [ctx.inputs[0], b.init(`${name}/kernel`, weight.dims, weight.data)];
  if (cfg.use_bias !== false) {
    const bias = b.weight(name, 'bias');
    inputs.push(b.init(`${name}/bias`, [outC], bias.data));
  }
  const attrs: GraphNode['attrs'] = { kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw], group };
  const padding = cfg.padding ?? 'valid';
  const effH = (kh - 1) * dh + 1;
  const effW = (kw - 1) * dw + 1;
  let exact = ctx.metas[0].exact;
  if (padding === 'same') {
    if (sh === 1 && sw === 1) {
      // TF pads floor(total/2) before and the rest after; with stride 1 that is size-independent.
      const th = effH - 1;
      const tw = effW - 1;
      attrs.pads = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
    } else {
      // With strides TF's padding depends on the input size; SAME_UPPER is the same rule.
      attrs.auto_pad = 'SAME_UPPER';
      exact = false;
    }
  } else if (padding === 'valid') {
    attrs.pads = [0, 0, 0, 0];
    if (effH > 1 || effW > 1 || sh > 1 || sw > 1) exact = false;
  } else {
    throw new TfjsFormatError(`layer ${name}: padding '${String(padding)}' is not supported`);
  }
  const act = typeof cfg.activation === 'string' ? cfg.activation : 'linear';
  if (act === 'linear') {
    b.node(name, 'Conv', inputs, [ctx.out], attrs);
  } else {
    const pre = `${name}/conv`;
    b.node(name, 'Conv', inputs, [pre], attrs);
    activation(b, act, pre, ctx.out, `${name}/${act}`, name);
  }
  if (sh !== sw) exact = false;
  return { channels: outC, factor: ctx.metas[0].factor / sh, exact };
}

const RULES: Record<string, Rule> = {
  Conv2D: (ctx) => conv2d(ctx, false),
  DepthwiseConv2D: (ctx) => conv2d(ctx, true),

  Activation: (ctx) => {
    const fn = String(ctx.layer.config.activation ?? 'linear');
    if (fn === 'linear') {
      ctx.b.node(ctx.name, 'Identity', [ctx.inputs[0]], [ctx.out]);
    } else {
      activation(ctx.b, fn, ctx.inputs[0], ctx.out, ctx.name, ctx.name);
    }
    return same(ctx);
  },

  ReLU: (ctx) => {
    const cfg = ctx.layer.config;
    const max = cfg.max_value ?? null;
    const slope = Number(cfg.negative_slope ?? 0);
    if (Number(cfg.threshold ?? 0) !== 0) {
      throw new TfjsFormatError(`layer ${ctx.name}: ReLU with a threshold is not supported`);
    }
    if (max !== null && slope !== 0) {
      throw new TfjsFormatError(`layer ${ctx.name}: ReLU with both max_value and negative_slope is not supported`);
    }
    const { b, name } = ctx;
    if (max !== null) {
      b.node(name, 'Clip', [ctx.inputs[0], b.scalar(`${name}/min`, 0), b.scalar(`${name}/max`, Number(max))], [ctx.out]);
    } else if (slope !== 0) {
      b.node(name, 'LeakyRelu', [ctx.inputs[0]], [ctx.out], { alpha: slope });
    } else {
      b.node(name, 'Relu', [ctx.inputs[0]], [ctx.out]);
    }
    return same(ctx);
  },

  LeakyReLU: (ctx) => {
    const cfg = ctx.layer.config;
    const alpha = Number(cfg.alpha ?? cfg.negative_slope ?? 0.3);
    ctx.b.node(ctx.name, 'LeakyRelu', [ctx.inputs[0]], [ctx.out], { alpha });
    return same(ctx);
  },

  ELU: (ctx) => {
    ctx.b.node(ctx.name, 'Elu', [ctx.inputs[0]], [ctx.out], { alpha: Number(ctx.layer.config.alpha ?? 1) });
    return same(ctx);
  },

  PReLU: (ctx) => {
    // Keras alpha is [H,W,C] with shared axes set to 1; ONNX slope broadcasts as [C,H,W].
    const w = ctx.b.weight(ctx.name, 'alpha');
    if (w.shape.length !== 3) {
      throw new TfjsFormatError(`layer ${ctx.name}: PReLU alpha of shape [${w.shape}] is not supported`);
    }
    const [h, wd, c] = w.shape;
    const data = new Float32Array(w.data.length);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < wd; x++) for (let k = 0; k < c; k++) data[(k * h + y) * wd + x] = w.data[(y * wd + x) * c + k];
    const slope = ctx.b.init(`${ctx.name}/alpha`, [c, h, wd], data);
    ctx.b.node(ctx.name, 'PRelu', [ctx.inputs[0], slope], [ctx.out]);
    return same(ctx);
  },

  BatchNormalization: (ctx) => {
    // Inference-mode BN folded to one per-channel Mul and Add.
    const { b, name } = ctx;
    const cfg = ctx.layer.config;
    const axis = Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis ?? -1];
    if (axis.length !== 1 || nchwAxis(Number(axis[0]), name) !== 1) {
      throw new TfjsFormatError(`layer ${name}: BatchNormalization over axis ${JSON.stringify(cfg.axis)} is not supported`);
    }
    const eps = Number(cfg.epsilon ?? 1e-3);
    const mean = b.weight(name, 'moving_mean').data;
    const variance = b.weight(name, 'moving_variance').data;
    const gamma = cfg.scale === false ? undefined : b.weight(name, 'gamma').data;
    const beta = cfg.center === false ? undefined : b.weight(name, 'beta').data;
    const c = mean.length;
    const scale = new Float32Array(c);
    const shift = new Float32Array(c);
    for (let k = 0; k < c; k++) {
      scale[k] = (gamma ? gamma[k] : 1) / Math.sqrt(variance[k] + eps);
      shift[k] = (beta ? beta[k] : 0) - mean[k] * scale[k];
    }
    b.node(`${name}/scale`, 'Mul', [ctx.inputs[0], b.init(`${name}/scale`, [c, 1, 1], scale)], [`${name}/scaled`]);
    b.node(name, 'Add', [`${name}/scaled`, b.init(`${name}/shift`, [c, 1, 1], shift)], [ctx.out]);
    return same(ctx);
  },

  Add: (ctx) => elementwise('Add', ctx),
  Multiply: (ctx) => elementwise('Mul', ctx),
  Subtract: (ctx) => elementwise('Sub', ctx),
  Average: (ctx) => {
    const { b, name } = ctx;
    const n = ctx.inputs.length;
    let acc = ctx.inputs[0];
    for (let i = 1; i < n; i++) {
      const out = `${name}/add${i}`;
      b.node(out, 'Add', [acc, ctx.inputs[i]], [out]);
      acc = out;
    }
    b.node(name, 'Mul', [acc, b.scalar(`${name}/inv_n`, 1 / n)], [ctx.out]);
    return broadcastMeta(ctx);
  },

  Concatenate: (ctx) => {
    const axis = nchwAxis(Number(ctx.layer.config.axis ?? -1), ctx.name);
    ctx.b.node(ctx.name, 'Concat', ctx.inputs, [ctx.out], { axis });
    const meta = broadcastMeta(ctx);
    if (axis === 1) meta.channels = ctx.metas.reduce((s, m) => s + m.channels, 0);
    else meta.exact = false;
    return meta;
  },

  UpSampling2D: (ctx) => {
    requireChannelsLast(ctx);
    const cfg = ctx.layer.config;
    const [sh, sw] = pair(cfg.size ?? 2, 'size', ctx.name);
    const interp = cfg.interpolation ?? 'nearest';
    if (interp !== 'nearest') {
      throw new TfjsFormatError(`layer ${ctx.name}: UpSampling2D interpolation '${String(interp)}' is not supported (nearest only)`);
    }
    // out[y,x] = in[floor(y/s), floor(x/s)]: nearest with asymmetric coordinates and floor.
    const scales = ctx.b.init(`${ctx.name}/scales`, [4], Float32Array.of(1, 1, sh, sw));
    ctx.b.node(ctx.name, 'Resize', [ctx.inputs[0], '', scales], [ctx.out], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
    const m = same(ctx);
    return { ...m, factor: m.factor * sh, exact: m.exact && sh === sw };
  },

  ZeroPadding2D: (ctx) => {
    const [t, bo, l, r] = sides(ctx.layer.config.padding ?? 1, 'padding', ctx.name);
    const pads = ctx.b.init(`${ctx.name}/pads`, [8], BigInt64Array.from([0, 0, t, l, 0, 0, bo, r].map(BigInt)));
    ctx.b.node(ctx.name, 'Pad', [ctx.inputs[0], pads], [ctx.out], { mode: 'constant' });
    return { ...same(ctx), exact: false };
  },

  Cropping2D: (ctx) => {
    const [t, bo, l, r] = sides(ctx.layer.config.cropping ?? 0, 'cropping', ctx.name);
    const big = 2n ** 62n;
    const b = ctx.b;
    const starts = b.init(`${ctx.name}/starts`, [2], BigInt64Array.of(BigInt(t), BigInt(l)));
    const ends = b.init(`${ctx.name}/ends`, [2], BigInt64Array.of(bo ? BigInt(-bo) : big, r ? BigInt(-r) : big));
    const axes = b.init(`${ctx.name}/axes`, [2], BigInt64Array.of(2n, 3n));
    b.node(ctx.name, 'Slice', [ctx.inputs[0], starts, ends, axes], [ctx.out]);
    return { ...same(ctx), exact: false };
  },

  // Identity at inference.
  Dropout: (ctx) => passThrough(ctx),
  SpatialDropout2D: (ctx) => passThrough(ctx),
  GaussianNoise: (ctx) => passThrough(ctx),
  GaussianDropout: (ctx) => passThrough(ctx),

  // UpscalerJS / idealo ISR custom layers (their JS: tf.mul(x, beta) and tf.depthToSpace(x, s, 'NHWC')).
  MultiplyBeta: (ctx) => {
    const beta = Number(ctx.layer.config.beta ?? 0.2);
    ctx.b.node(ctx.name, 'Mul', [ctx.inputs[0], ctx.b.scalar(`${ctx.name}/beta`, beta)], [ctx.out]);
    return same(ctx);
  },
  PixelShuffle: (ctx) => {
    // NHWC depthToSpace reads depth as (row, col, channel): that is ONNX DCR in NCHW.
    const fromName = /^PixelShuffle(\d+)x$/.exec(ctx.layer.class_name)?.[1];
    const s = Number(ctx.layer.config.scale ?? fromName);
    if (!Number.isInteger(s) || s < 1) throw new TfjsFormatError(`layer ${ctx.name}: PixelShuffle has no usable scale`);
    const m = same(ctx);
    if (m.channels % (s * s) !== 0) {
      throw new TfjsFormatError(`layer ${ctx.name}: ${m.channels} channels cannot be shuffled by ${s}`);
    }
    ctx.b.node(ctx.name, 'DepthToSpace', [ctx.inputs[0]], [ctx.out], { blocksize: s, mode: 'DCR' });
    return { channels: m.channels / (s * s), factor: m.factor * s, exact: m.exact };
  },
};

function passThrough(ctx: Ctx): Meta {
  ctx.b.node(ctx.name, 'Identity', [ctx.inputs[0]], [ctx.out]);
  return same(ctx);
}

function ruleFor(layer: KerasLayer): Rule {
  const cls = /^PixelShuffle\d+x$/.test(layer.class_name) ? 'PixelShuffle' : layer.class_name;
  const rule = RULES[cls];
  if (rule) return rule;
  if (cls === 'Lambda') {
    throw new TfjsFormatError(`layer ${layerName(layer)}: Lambda layers hold Python code and cannot be imported`);
  }
  if (cls === 'Functional' || cls === 'Model' || cls === 'Sequential') {
    throw new TfjsFormatError(`layer ${layerName(layer)}: nested models are not supported; flatten the model first`);
  }
  throw new TfjsFormatError(
    `layer ${layerName(layer)}: Keras layer '${cls}' is not supported (supported: ${Object.keys(RULES).join(', ')}, PixelShuffle<n>x)`,
  );
}

function layerName(l: KerasLayer): string {
  return String(l.name ?? l.config.name ?? '?');
}

// --- topology --------------------------------------------------------------------------------

interface Call {
  layer: KerasLayer;
  /** Inbound tensors as [layer, node index, tensor index]. */
  inbound: [string, number, number][];
  nodeIndex: number;
}

/** The value name of a layer call's output; a shared layer's later calls get a suffix. */
function valueName(layer: string, nodeIndex: number, tensorIndex: number): string {
  if (tensorIndex !== 0) throw new TfjsFormatError(`layer ${layer}: layers with several outputs are not supported`);
  return nodeIndex === 0 ? layer : `${layer}_call${nodeIndex}`;
}

function parseInbound(layer: KerasLayer): [string, number, number][][] {
  const nodes = layer.inbound_nodes ?? [];
  return nodes.map((node) => {
    if (!Array.isArray(node)) {
      throw new TfjsFormatError(`layer ${layerName(layer)}: inbound_nodes in an unknown (Keras 3?) form`);
    }
    return node.map((t) => {
      if (!Array.isArray(t) || typeof t[0] !== 'string') {
        throw new TfjsFormatError(`layer ${layerName(layer)}: inbound tensor ${JSON.stringify(t)} is not understood`);
      }
      return [t[0], Number(t[1] ?? 0), Number(t[2] ?? 0)] as [string, number, number];
    });
  });
}

interface Topology {
  modelName: string;
  calls: Call[];
  input: { name: string; shape: (number | null)[] };
  output: [string, number, number];
}

function readTopology(topology: Record<string, unknown>): Topology {
  // Converted Keras models wrap the config in `model_config`; tfjs-layers saves it at the top.
  const mc = (topology.model_config ?? topology) as { class_name?: string; config?: unknown };
  const cls = mc.class_name;
  if (cls === 'Sequential') return sequential(mc.config);
  if (cls !== 'Functional' && cls !== 'Model') {
    throw new TfjsFormatError(`model class '${String(cls)}' is not supported (Functional, Model or Sequential)`);
  }
  const cfg = mc.config as { name?: string; layers: KerasLayer[]; input_layers: unknown[][]; output_layers: unknown[][] };
  if (cfg.input_layers.length !== 1 || cfg.output_layers.length !== 1) {
    throw new TfjsFormatError(
      `the model has ${cfg.input_layers.length} inputs and ${cfg.output_layers.length} outputs; one of each is supported`,
    );
  }
  const inputName = String(cfg.input_layers[0][0]);
  const inputLayer = cfg.layers.find((l) => layerName(l) === inputName);
  if (!inputLayer || inputLayer.class_name !== 'InputLayer') throw new TfjsFormatError(`input layer ${inputName} not found`);
  const calls: Call[] = [];
  for (const layer of cfg.layers) {
    if (layer.class_name === 'InputLayer') continue;
    parseInbound(layer).forEach((inbound, nodeIndex) => calls.push({ layer, inbound, nodeIndex }));
  }
  const o = cfg.output_layers[0];
  return {
    modelName: String(cfg.name ?? 'model'),
    calls: orderCalls(calls, inputName),
    input: { name: inputName, shape: inputShape(inputLayer) },
    output: [String(o[0]), Number(o[1] ?? 0), Number(o[2] ?? 0)],
  };
}

function inputShape(layer: KerasLayer): (number | null)[] {
  const s = (layer.config.batch_input_shape ?? layer.config.batch_shape) as (number | null)[] | undefined;
  if (!s) throw new TfjsFormatError(`layer ${layerName(layer)}: no batch_input_shape`);
  if (s.length !== 4) {
    throw new TfjsFormatError(`the model input has shape [${s}]; images (batch, height, width, channels) are required`);
  }
  return s;
}

function sequential(config: unknown): Topology {
  const cfg = Array.isArray(config) ? { name: 'sequential', layers: config } : (config as { name?: string; layers: KerasLayer[] });
  const layers = cfg.layers.map((l) => ({ ...l, name: layerName(l) }));
  let inputName: string;
  let shape: (number | null)[];
  let rest = layers;
  if (layers[0]?.class_name === 'InputLayer') {
    inputName = layers[0].name;
    shape = inputShape(layers[0]);
    rest = layers.slice(1);
  } else {
    if (!layers[0]) throw new TfjsFormatError('the Sequential model has no layers');
    // tfjs-layers names the implicit input `<first layer>_input`.
    inputName = `${layers[0].name}_input`;
    shape = inputShape(layers[0]);
  }
  let prev = inputName;
  const calls: Call[] = rest.map((layer) => {
    const call: Call = { layer, inbound: [[prev, 0, 0]], nodeIndex: 0 };
    prev = layer.name;
    return call;
  });
  return { modelName: String(cfg.name ?? 'sequential'), calls, input: { name: inputName, shape }, output: [prev, 0, 0] };
}

/** Keras stores layers in creation order, which is usually but not always topological. */
function orderCalls(calls: Call[], input: string): Call[] {
  const done = new Set<string>([valueName(input, 0, 0)]);
  const ordered: Call[] = [];
  let pending = calls;
  while (pending.length) {
    const next: Call[] = [];
    for (const c of pending) {
      if (c.inbound.every(([l, n, t]) => done.has(valueName(l, n, t)))) {
        ordered.push(c);
        done.add(valueName(layerName(c.layer), c.nodeIndex, 0));
      } else {
        next.push(c);
      }
    }
    if (next.length === pending.length) {
      const missing = next[0].inbound.find(([l, n, t]) => !done.has(valueName(l, n, t)));
      throw new TfjsFormatError(
        `layer ${layerName(next[0].layer)}: input ${missing?.[0]} is never produced (cycle or missing layer)`,
      );
    }
    pending = next;
  }
  return ordered;
}

// --- entry point -----------------------------------------------------------------------------

export function convertLayersModel(artifacts: LayersModelArtifacts, options: ConvertOptions = {}): ConvertedModel {
  const topo = readTopology(artifacts.topology);
  const b = new Builder(artifacts.weights);
  const inC = topo.input.shape[3];
  if (typeof inC !== 'number') throw new TfjsFormatError(`input ${topo.input.name} has no fixed channel count`);
  const metas = new Map<string, Meta>([[topo.input.name, { channels: inC, factor: 1, exact: true }]]);

  for (const call of topo.calls) {
    const name = layerName(call.layer);
    const inputs = call.inbound.map(([l, n, t]) => valueName(l, n, t));
    const ctx: Ctx = {
      layer: call.layer,
      name: call.nodeIndex === 0 ? name : `${name}_call${call.nodeIndex}`,
      inputs,
      metas: inputs.map((i) => metas.get(i)!),
      out: valueName(name, call.nodeIndex, 0),
      b,
    };
    metas.set(ctx.out, ruleFor(call.layer)(ctx));
  }

  const unused = [...artifacts.weights.keys()].filter((k) => !b.usedWeights.has(k));
  if (unused.length) {
    throw new TfjsFormatError(`weights not used by any layer: ${unused.slice(0, 5).join(', ')}${unused.length > 5 ? ', ...' : ''}`);
  }

  const outName = valueName(...topo.output);
  const outMeta = metas.get(outName);
  if (!outMeta) throw new TfjsFormatError(`output ${outName} is not produced by any layer`);
  const scale = outMeta.exact && Number.isInteger(outMeta.factor) ? outMeta.factor : undefined;
  const [, ih, iw] = topo.input.shape;
  const dim = (v: number | null, sym: string): number | string => (typeof v === 'number' ? v : sym);
  const outDim = (v: number | null, sym: string): number | string =>
    typeof v === 'number' && scale ? v * scale : scale === 1 ? sym : scale ? `${sym}*${scale}` : `${sym}_out`;
  const input: ValueInfo = { name: topo.input.name, dtype: 'float32', shape: ['N', inC, dim(ih, 'H'), dim(iw, 'W')] };
  const output: ValueInfo = {
    name: outName,
    dtype: 'float32',
    shape: ['N', outMeta.channels, outDim(ih, 'H'), outDim(iw, 'W')],
  };
  // Counted as Keras counts them: every stored weight (BN statistics included).
  let parameters = 0;
  for (const w of artifacts.weights.values()) parameters += w.data.length;
  return {
    graph: {
      name: options.name ?? topo.modelName,
      opset: TFJS_OPSET,
      nodes: b.nodes,
      inputs: [input],
      outputs: [output],
      initializers: b.initializers,
    },
    inputName: input.name,
    outputName: outName,
    inputChannels: inC,
    outputChannels: outMeta.channels,
    scale,
    parameters,
  };
}
