// Loading models for studies: ONNX files and zoo ids, into a graph that takes and returns
// 0..1 images with free batch and spatial sizes, plus what lvi needs to know about it.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { LoadedModel, ModelInfo, ModelSpec } from '../api.js';
import type { Graph, GraphNode, ValueInfo } from '../graph/ir.js';
import { decodeModel, OnnxFormatError } from '../onnx/codec.js';
import { specialise, UnsupportedOperatorError } from '../onnx/specialise.js';
import { globalOperators, receptiveField } from './receptive-field.js';
import { resolveZooModel } from './zoo.js';

export { countFlops, type FlopCount } from './flops.js';
export { globalOperators, receptiveField, receptiveReach, type ReceptiveReach } from './receptive-field.js';

/** A model that cannot be used as asked; the message names the file (or zoo id) and the problem. */
export class ModelError extends Error {
  override name = 'ModelError';
}

/** Spatial size the scale is measured at when the file leaves it free. */
const PROBE_SIZE = 64;

export async function loadModel(spec: ModelSpec): Promise<LoadedModel> {
  if (spec.zoo !== undefined && spec.file !== undefined) throw new ModelError('a model is either a file or a zoo id, not both');
  if (spec.zoo !== undefined) return loadZoo(spec.zoo, spec);
  if (spec.file !== undefined) return loadOnnxFile(spec.file, spec);
  throw new ModelError('a model needs a file or a zoo id');
}

async function loadZoo(id: string, spec: ModelSpec): Promise<LoadedModel> {
  const model = await resolveZooModel(id);
  if (spec.scale !== undefined && spec.scale !== model.info.scale) {
    throw new ModelError(`zoo model '${id}' upscales x${model.info.scale}, but scale=${spec.scale} was declared`);
  }
  if (spec.range !== undefined && spec.range !== model.info.range) {
    throw new ModelError(`zoo model '${id}' works on 0..${model.info.range} values, but range=${spec.range} was declared`);
  }
  return model;
}

/** Read, decode and check an ONNX file; see loadModel. */
export async function loadOnnxFile(file: string, spec: ModelSpec = {}): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelError(code === 'ENOENT' ? `model file not found: ${file}` : `cannot read model file ${file}: ${(e as Error).message}`);
  }
  const hash = createHash('sha256').update(bytes).digest('hex');
  let graph: Graph;
  try {
    graph = decodeModel(bytes);
  } catch (e) {
    if (e instanceof OnnxFormatError) throw new ModelError(`${file}: ${e.message}`);
    throw e;
  }
  return prepareGraph(graph, { ...spec, source: `file:${file}`, label: file, hash });
}

interface PrepareOptions extends ModelSpec {
  source: string;
  /** How messages name the model (a path). */
  label: string;
  hash: string;
}

/** Find image input/output, free the batch and spatial sizes, measure the scale, wrap the range. */
export function prepareGraph(decoded: Graph, o: PrepareOptions): LoadedModel {
  const where = o.label;
  const input = pickImage(decoded.inputs, 'input', where);
  const output = pickImage(decoded.outputs, 'output', where);
  const channels = input.shape[1];
  if (typeof channels !== 'number') throw new ModelError(`${where}: input '${input.name}' has no fixed channel count`);

  // Measure the scale at the file's own size when it fixes one, else at a probe size.
  const fixedH = typeof input.shape[2] === 'number' ? (input.shape[2] as number) : undefined;
  const fixedW = typeof input.shape[3] === 'number' ? (input.shape[3] as number) : undefined;
  const probe = [1, channels, fixedH ?? PROBE_SIZE, fixedW ?? PROBE_SIZE];
  const atProbe = specialiseAt(decoded, input.name, probe, where, `cannot infer the network's shapes at input size ${probe.join('x')}`);
  const outShape = atProbe.outputs.find((v) => v.name === output.name)!.shape as number[];
  const scale = outShape[2] / probe[2];
  if (outShape[3] / probe[3] !== scale || !Number.isInteger(scale) || scale < 1) {
    throw new ModelError(
      `${where}: output '${output.name}' is ${outShape[2]}x${outShape[3]} for a ${probe[2]}x${probe[3]} input: not a whole-number upscaling`,
    );
  }
  if (outShape[1] !== channels) {
    throw new ModelError(`${where}: output '${output.name}' has ${outShape[1]} channels, the input ${channels}`);
  }
  if (o.scale !== undefined && o.scale !== scale) {
    throw new ModelError(
      `${where}: the network upscales x${scale} (${probe[2]}x${probe[3]} -> ${outShape[2]}x${outShape[3]}), but scale=${o.scale} was declared`,
    );
  }

  // Sizes fixed in the file (exports without dynamic axes) are freed when the graph works at
  // another size as well; otherwise they stay and a study at another size is told so.
  let graph = decoded;
  const other = [2, channels, (fixedH ?? PROBE_SIZE) + 8, (fixedW ?? PROBE_SIZE) + 8];
  if (input.shape.some((d, i) => i !== 1 && typeof d === 'number')) {
    const freed = withInputShape(decoded, input.name, ['N', channels, 'H', 'W']);
    let works = true;
    try {
      specialise(freed, { [input.name]: other });
    } catch {
      works = false;
    }
    if (works) graph = freed;
  }
  graph = { ...graph, outputs: graph.outputs.map((v) => ({ ...v, shape: ['N', channels, 'H_out', 'W_out'] })) };
  delete graph.valueInfo; // sizes recorded in the file no longer hold

  const range = o.range ?? 1;
  if (range === 255) graph = wrapRange255(graph, input.name, output.name);

  const hasGlobalOps = globalOperators(atProbe).length > 0;
  let parameters = 0;
  for (const t of atProbe.initializers.values()) if (t.dtype === 'float32' || t.dtype === 'float64') parameters += t.data.length;
  const info: ModelInfo = {
    source: o.source,
    hash: o.hash,
    scale,
    range,
    inputName: input.name,
    outputName: output.name,
    inputChannels: channels,
    parameters,
    hasGlobalOps,
  };
  const rf = hasGlobalOps ? undefined : receptiveField(atProbe);
  if (rf !== undefined) info.receptiveField = rf;
  return { info, graph };
}

function pickImage(values: ValueInfo[], what: 'input' | 'output', where: string): ValueInfo {
  const images = values.filter((v) => v.shape.length === 4 && (v.dtype === 'float32' || v.dtype === 'float64'));
  if (images.length === 0) {
    const list = values.map((v) => `${v.name} [${v.shape.join(',')}] ${v.dtype}`).join(', ');
    throw new ModelError(`${where}: no image ${what} (a float tensor N x C x H x W); the model has: ${list || 'none'}`);
  }
  if (what === 'input' && values.length > 1) {
    throw new ModelError(`${where}: the model has ${values.length} inputs (${values.map((v) => v.name).join(', ')}); lvi feeds one image`);
  }
  return images[0];
}

function withInputShape(g: Graph, name: string, shape: (number | string)[]): Graph {
  return { ...g, inputs: g.inputs.map((v) => (v.name === name ? { ...v, shape } : v)) };
}

/** `g` specialised to `shape`, failures as ModelErrors naming `where` (`failure`: what a shape error means). */
function specialiseAt(g: Graph, inputName: string, shape: number[], where: string, failure: string): Graph {
  try {
    return specialise(g, { [inputName]: shape });
  } catch (e) {
    if (e instanceof UnsupportedOperatorError) throw new ModelError(`${where}: ${e.message}`);
    throw new ModelError(`${where}: ${failure}: ${(e as Error).message}`);
  }
}

/**
 * The model's graph specialised to `shape` ([N, C, H, W]), with errors that name the model
 * and say which input sizes it accepts.
 */
export function specialiseModel(model: LoadedModel, shape: [number, number, number, number]): Graph {
  const input = model.graph.inputs.find((v) => v.name === model.info.inputName)!;
  const where = model.info.source.replace(/^(file|zoo):/, '');
  input.shape.forEach((d, i) => {
    if (typeof d === 'number' && d !== shape[i]) {
      const axis = ['batch', 'channels', 'height', 'width'][i];
      throw new ModelError(
        `${where}: wrong input size ${shape.join('x')}: the model's input '${input.name}' is fixed at ` +
          `${input.shape.join('x')} (${axis} ${d}); export it with dynamic axes to use other sizes`,
      );
    }
  });
  return specialiseAt(model.graph, input.name, shape, where, `wrong input size ${shape.join('x')} for this network`);
}

/** Mul by 255 after the input and Div by 255 before the output, keeping both names. */
function wrapRange255(g: Graph, inputName: string, outputName: string): Graph {
  const scaledIn = `${inputName}/x255`;
  const rawOut = `${outputName}/x255`;
  const nodes: GraphNode[] = g.nodes.map((n) => ({
    ...n,
    inputs: n.inputs.map((v) => (v === inputName ? scaledIn : v === outputName ? rawOut : v)),
    outputs: n.outputs.map((v) => (v === outputName ? rawOut : v)),
  }));
  const initializers = new Map(g.initializers);
  initializers.set('lvi/255', { dtype: 'float32', dims: [], data: Float32Array.of(255) });
  return {
    ...g,
    nodes: [
      { name: 'lvi/input_x255', opType: 'Mul', inputs: [inputName, 'lvi/255'], outputs: [scaledIn], attrs: {} },
      ...nodes,
      { name: 'lvi/output_div255', opType: 'Div', inputs: [rawOut, 'lvi/255'], outputs: [outputName], attrs: {} },
    ],
    initializers,
  };
}
