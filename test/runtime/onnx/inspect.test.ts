import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { formatDescription, parseSize, register, runInspect } from '../../../src/cli/commands/inspect.js';
import { describeModel } from '../../../src/runtime/models/describe.js';
import { loadModel } from '../../../src/runtime/models/index.js';
import { referenceDir } from './helpers.js';

const fsrcnn = path.join(referenceDir, 'fsrcnn_chelsea', 'model.onnx');

describe('lvi inspect', () => {
  it('counts FSRCNN FLOPs as the architecture gives them', async () => {
    const d = describeModel(await loadModel({ file: fsrcnn }), [64, 64]);
    const px = 64 * 64;
    // FSRCNN(d56, s12, m4), x4, 64x64 LR: 2 x MACs per layer, written out by hand.
    const macs = 56 * 3 * 25 * px + 12 * 56 * px + 4 * 12 * 12 * 9 * px + 56 * 12 * px + 56 * 3 * 81 * px;
    const biases = (56 + 12 + 4 * 12 + 56) * px + 3 * 256 * 256;
    expect(d.flops.matrix).toBe(2 * macs + biases);
    expect(d.operators).toEqual([['Conv', 7], ['PRelu', 7], ['Identity', 5], ['ConvTranspose', 1]]);
    expect(d.layers.map((l) => l.opType)).toEqual([...Array(7).fill('Conv'), 'ConvTranspose']);
    expect(d.layers.at(-1)).toMatchObject({ output: 'sr', shape: [1, 3, 256, 256] });
    expect(d.layers[0].shape).toEqual([1, 56, 64, 64]);
  });

  it('prints the description through the command', async () => {
    const program = new Command().exitOverride();
    register(program);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    try {
      await program.parseAsync(['node', 'lvi', 'inspect', fsrcnn, '--size', '32x48']);
    } finally {
      spy.mockRestore();
    }
    const text = out.join('');
    expect(text).toMatch(/^scale +x4$/m);
    expect(text).toMatch(/^parameters +24,579 /m);
    expect(text).toMatch(/^receptive +15 LR pixels/m);
    expect(text).toMatch(/FLOP per forward at 32x48/);
    expect(text).toMatch(/^ {2}sr +ConvTranspose +\[1, 3, 128, 192\]/m);
  });

  it('says what is wrong with a model it cannot load, exit code 1', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    expect(await runInspect('/nowhere/model.onnx', {}, io)).toBe(1);
    expect(err).toEqual(['lvi inspect: model file not found: /nowhere/model.onnx']);
    expect(await runInspect(fsrcnn, { size: '4' }, io)).toBe(1);
    expect(err[1]).toMatch(/--size must look like 64x64/);
    expect(out).toEqual([]);
  });

  it('rejects a malformed size', () => {
    expect(parseSize('48x64')).toEqual([48, 64]);
    expect(() => parseSize('48')).toThrow(/--size must look like 64x64/);
  });
});

describe('lvi inspect: gradients and batching, before a run', () => {
  it('says every operator of FSRCNN has a gradient rule and that path points can share a run', async () => {
    const d = describeModel(await loadModel({ file: fsrcnn }), [32, 32]);
    expect(d.noGradient).toEqual([]);
    expect(d.batch).toEqual({ independent: true });
  });

  it('lists the operators it cannot differentiate, with their nodes', async () => {
    const model = await loadModel({ file: fsrcnn });
    // FSRCNN with its first PRelu replaced by Floor and the next by Round: no gradient rules
    let k = 0;
    const nodes = model.graph.nodes.map((n) => (n.opType === 'PRelu' && k++ < 3 ? { ...n, opType: k === 1 ? 'Round' : 'Floor', inputs: [n.inputs[0]!] } : n));
    const d = describeModel({ ...model, graph: { ...model.graph, nodes } }, [16, 16]);
    expect(d.noGradient.map((m) => [m.opType, m.nodes.length])).toEqual([['Floor', 2], ['Round', 1]]);
    const text = formatDescription(d);
    expect(text).toMatch(/^gradient +no gradient rule for Floor \(2 nodes, e\.g\. '[^']+'\), Round \(1 node, e\.g\. '[^']+'\): LAM and FAIG refuse this model$/m);
  });

  it("says why SwinIR's path points run one at a time", async () => {
    const d = describeModel(await loadModel({ file: path.join(referenceDir, 'swinir_coffee', 'model.onnx') }), [64, 64]);
    expect(d.noGradient).toEqual([]);
    expect(formatDescription(d)).toMatch(/^batch +one path point per run: Reshape node '\/layers\.0\/residual_group\/blocks\.0\/Reshape_5' reshapes to \[1,8,8,8,8,120\] at batch 2/m);
  });
});
