// `lvi inspect MODEL`: what lvi sees in a model (an .onnx file or a zoo id).

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { LoadedModel } from '../../runtime/api.js';
import { describeModel, type ModelDescription } from '../../runtime/models/describe.js';
import { loadModel } from '../../runtime/models/index.js';
import { processIo, type Io } from '../io.js';

export interface InspectOptions {
  size?: string;
  range?: string;
  json?: boolean;
}

/** Returns the exit code: 0, or 1 when the model cannot be loaded (the message says why). */
export async function runInspect(model: string, options: InspectOptions = {}, io: Io = processIo): Promise<number> {
  try {
    const size = parseSize(options.size ?? '64x64');
    const loaded = await loadCliModel(model, options.range);
    const d = describeModel(loaded, size);
    io.out(options.json ? JSON.stringify(d, null, 2) : formatDescription(d));
    return 0;
  } catch (e) {
    io.err(`lvi inspect: ${(e as Error).message}`);
    return 1;
  }
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description('show a model: inputs and outputs, operators, parameters, layers, scale, FLOPs, receptive field, operators without a gradient, batching')
    .argument('<model>', 'an .onnx file or a zoo id (e.g. esrgan-slim/x4)')
    .option('--size <HxW>', 'LR input size for shapes and FLOPs', '64x64')
    .option('--range <range>', 'value range the network was trained on (1 or 255), for ONNX files')
    .option('--json', 'print the description as JSON')
    .action(async (model: string, opts: InspectOptions) => {
      process.exitCode = await runInspect(model, opts);
    });
}

export function parseSize(text: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(text.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new Error(`--size must look like 64x64 (height x width), got '${text}'`);
  return [Number(m[1]), Number(m[2])];
}

/** A path when it names an existing file or ends in .onnx, else a zoo id. */
export async function loadCliModel(model: string, range?: string): Promise<LoadedModel> {
  const r = range === undefined ? undefined : range === '1' ? 1 : range === '255' ? 255 : undefined;
  if (range !== undefined && r === undefined) throw new Error(`--range must be 1 or 255, got '${range}'`);
  if (existsSync(model) || model.endsWith('.onnx')) return loadModel({ file: path.resolve(model), range: r });
  return loadModel({ zoo: model, range: r });
}

const fmtShape = (s: (number | string)[]) => `[${s.join(', ')}]`;

function fmtCount(n: number): string {
  if (n >= 1e12) return `${(n / 1e12).toFixed(2)} T`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function formatDescription(d: ModelDescription): string {
  const { info } = d;
  const lines: string[] = [];
  lines.push(`model        ${info.source}`);
  lines.push(`sha256       ${info.hash}`);
  lines.push(`opset        ${d.opset}`);
  for (const v of d.inputs) lines.push(`input        ${v.name} ${v.dtype} ${fmtShape(v.shape)}${v.name === info.inputName ? '  (image)' : ''}`);
  for (const v of d.outputs) lines.push(`output       ${v.name} ${v.dtype} ${fmtShape(v.shape)}${v.name === info.outputName ? '  (image)' : ''}`);
  lines.push(`scale        x${info.scale}`);
  lines.push(`range        0..${info.range} (the graph lvi runs takes and returns 0..1)`);
  lines.push(`parameters   ${info.parameters.toLocaleString('en-US')} (${fmtCount(info.parameters)})`);
  lines.push(
    `receptive    ${
      info.receptiveField !== undefined
        ? `${info.receptiveField} LR pixels (diameter)`
        : info.hasGlobalOps
          ? `unbounded: global operators (${d.globalOps.join(', ')})`
          : 'not computable for this graph'
    }`,
  );
  const [h, w] = d.size;
  lines.push(`FLOPs        ${fmtCount(d.flops.total)}FLOP per forward at ${h}x${w} (convolutions and matrix products ${fmtCount(d.flops.matrix)}FLOP)`);
  lines.push(
    d.noGradient.length === 0
      ? 'gradient     every operator between input and output has a gradient rule (LAM and FAIG can run)'
      : `gradient     no gradient rule for ${d.noGradient.map((m) => `${m.opType} (${m.nodes.length} node${m.nodes.length > 1 ? 's' : ''}, e.g. '${m.nodes[0]}')`).join(', ')}: LAM and FAIG refuse this model`,
  );
  lines.push(d.batch.independent ? 'batch        path points can share a run (the batch axis stays apart)' : `batch        one path point per run: ${d.batch.reason}`);
  lines.push('');
  lines.push('operators');
  for (const [op, n] of d.operators) lines.push(`  ${op.padEnd(22)} ${n}`);
  lines.push('');
  lines.push(`layers (usable as layer= in a study; output shape at ${h}x${w})`);
  const width = Math.max(4, ...d.layers.map((l) => l.output.length));
  for (const l of d.layers) {
    const node = l.node === l.output ? '' : `  node ${l.node}`;
    lines.push(`  ${l.output.padEnd(width)}  ${l.opType.padEnd(13)} ${fmtShape(l.shape)}${node}`);
  }
  return lines.join('\n');
}
