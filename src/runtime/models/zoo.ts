// The model zoo: short ids (`esrgan-slim/x4`, `rdn/x4`) for the pretrained SR networks that
// ship on npm as TF.js layers models, resolved from installed packages and converted to the
// graph IR. Every zoo graph takes and returns values in 0..1 (`input` -> `output`): a network
// trained on 0..255 gets a Mul on its input and a Div on its output, and where the network's
// own package clips its output (idealo ISR's predict does `clip(0, 1)`), a Clip follows.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadedModel } from '../api.js';
import type { Graph, GraphNode } from '../graph/ir.js';
import { receptiveField } from './receptive-field.js';
import { importTfjsModel, type ImportedTfjsModel } from './tfjs/index.js';
import { ZOO, type ZooEntry } from '../../../grammar/zoo-table.js';

export { ZOO, type ZooEntry } from '../../../grammar/zoo-table.js';

export interface ZooListing {
  id: string;
  package: string;
  scale: number;
  range: 1 | 255;
  installed: boolean;
  description: string;
}

export interface ZooOptions {
  /** Folders to look for node_modules/<package> in (and their parents); defaults to lvi's own
   * location and the working folder. */
  searchFrom?: string[];
}

/** Raised for an unknown zoo id or a model whose package is not installed. */
export class ZooError extends Error {
  override name = 'ZooError';
}

export function listZooModels(options: ZooOptions = {}): ZooListing[] {
  return ZOO.map((e) => ({
    id: e.id,
    package: e.package,
    scale: e.scale,
    range: e.range,
    installed: findPackage(e.package, options) !== undefined,
    description: e.description,
  }));
}

export function zooEntry(id: string): ZooEntry {
  const entry = ZOO.find((e) => e.id === id);
  if (entry) return entry;
  throw new ZooError(`unknown zoo model '${id}'${suggest(id)}`);
}

/** Finds, reads and converts a zoo model. The graph takes and returns 0..1 values. */
export async function resolveZooModel(id: string, options: ZooOptions = {}): Promise<LoadedModel> {
  const entry = zooEntry(id);
  const root = findPackage(entry.package, options);
  if (!root) {
    throw new ZooError(
      `zoo model '${id}' needs the npm package ${entry.package}, which is not installed; ` +
        `run: npm install ${entry.package}`,
    );
  }
  const file = path.join(root, entry.file);
  if (!existsSync(file)) {
    throw new ZooError(`zoo model '${id}': ${file} is missing from the installed ${entry.package}; reinstall it`);
  }
  const imported = await importTfjsModel(file, { name: id });
  if (imported.scale !== entry.scale) {
    throw new ZooError(`zoo model '${id}' should upscale x${entry.scale} but its layers give x${imported.scale ?? '?'}`);
  }
  const graph = wrapRange(imported, entry.range, entry.clip);
  return {
    info: {
      source: `zoo:${id}`,
      hash: imported.hash,
      scale: entry.scale,
      range: entry.range,
      inputName: ZOO_INPUT,
      outputName: ZOO_OUTPUT,
      inputChannels: imported.inputChannels,
      parameters: imported.parameters,
      receptiveField: receptiveField(graph),
      hasGlobalOps: false,
    },
    graph,
  };
}

export const ZOO_INPUT = 'input';
export const ZOO_OUTPUT = 'output';

/**
 * Puts a converted network between a 0..1 input and a 0..1 output: Mul by 255 / Div by 255
 * for 0..255 networks, then Clip(0, 1) where asked. Keras layer names stay as they are.
 */
export function wrapRange(model: ImportedTfjsModel, range: 1 | 255, clip: boolean): Graph {
  const g = model.graph;
  const nodes: GraphNode[] = g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] }));
  const initializers = new Map(g.initializers);
  const rename = (from: string, to: string): void => {
    for (const n of nodes) {
      n.inputs = n.inputs.map((v) => (v === from ? to : v));
      n.outputs = n.outputs.map((v) => (v === from ? to : v));
    }
  };
  const head: GraphNode[] = [];
  const tail: GraphNode[] = [];
  if (range === 255) {
    initializers.set('lvi/range', { dtype: 'float32', dims: [], data: Float32Array.of(255) });
    head.push({ name: 'input/to_255', opType: 'Mul', inputs: [ZOO_INPUT, 'lvi/range'], outputs: [model.inputName], attrs: {} });
  } else {
    rename(model.inputName, ZOO_INPUT);
  }
  let last = model.outputName;
  if (range === 255) {
    const out = clip ? 'output/unclipped' : ZOO_OUTPUT;
    tail.push({ name: 'output/to_1', opType: 'Div', inputs: [last, 'lvi/range'], outputs: [out], attrs: {} });
    last = out;
  }
  if (clip) {
    initializers.set('lvi/zero', { dtype: 'float32', dims: [], data: Float32Array.of(0) });
    initializers.set('lvi/one', { dtype: 'float32', dims: [], data: Float32Array.of(1) });
    tail.push({ name: 'output/clip', opType: 'Clip', inputs: [last, 'lvi/zero', 'lvi/one'], outputs: [ZOO_OUTPUT], attrs: {} });
    last = ZOO_OUTPUT;
  }
  if (last !== ZOO_OUTPUT) rename(last, ZOO_OUTPUT);
  return {
    ...g,
    nodes: [...head, ...nodes, ...tail],
    inputs: g.inputs.map((v) => ({ ...v, name: ZOO_INPUT })),
    outputs: g.outputs.map((v) => ({ ...v, name: ZOO_OUTPUT })),
    initializers,
  };
}

// --- package lookup --------------------------------------------------------------------------

function findPackage(pkg: string, options: ZooOptions): string | undefined {
  const starts = options.searchFrom ?? [path.dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', pkg);
      if (existsSync(path.join(candidate, 'package.json'))) return candidate;
      if (path.dirname(dir) === dir) break;
    }
  }
  return undefined;
}

// --- did you mean ----------------------------------------------------------------------------

function suggest(id: string): string {
  // UpscalerJS itself writes scales as '4x'.
  const swapped = id.toLowerCase().replace(/\/(\d+)x$/, '/x$1');
  if (swapped !== id && ZOO.some((e) => e.id === swapped)) return `; did you mean '${swapped}'?`;
  const family = ZOO.filter((e) => e.id.startsWith(`${id}/`)).map((e) => e.id);
  if (family.length) return `; did you mean ${family.map((f) => `'${f}'`).join(', ')}?`;
  const scored = ZOO.map((e) => ({ id: e.id, d: distance(id.toLowerCase(), e.id) }));
  const best = Math.min(...scored.map((s) => s.d));
  if (best <= Math.max(2, Math.floor(id.length / 3))) {
    const near = scored.filter((s) => s.d === best).map((s) => `'${s.id}'`);
    return `; did you mean ${near.join(' or ')}?`;
  }
  return `; known models: ${ZOO.map((e) => e.id).join(', ')}`;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
