import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  autoBatch, cachedSessionCount, chooseBatch, splitBatch, stackBatch, createSession, DeviceError, deviceProblem, estimateMemory, resetDeviceState, resolveDevice,
} from '../../../src/runtime/engine/index.js';
import { decodeModel, encodeModel, specialise } from '../../../src/runtime/onnx/index.js';
import type { Graph } from '../../../src/runtime/graph/ir.js';
import { referenceDir, runOrt } from '../onnx/helpers.js';
import { randomInput } from '../onnx/fixtures.js';

const fsrcnn = () => decodeModel(readFileSync(path.join(referenceDir, 'fsrcnn_chelsea', 'model.onnx')));

describe('devices', () => {
  beforeEach(() => resetDeviceState());

  it('auto falls back to CPU with one short line pointing to lvi doctor', async () => {
    const gpu = (await deviceProblem('cuda')) === undefined || (await deviceProblem('webgpu')) === undefined;
    const warnings: string[] = [];
    const d1 = await resolveDevice('auto', (m) => warnings.push(m));
    const d2 = await resolveDevice('auto', (m) => warnings.push(m));
    expect(d2).toBe(d1);
    if (gpu) {
      expect(d1).not.toBe('cpu');
      expect(warnings).toEqual([]);
    } else {
      expect(d1).toBe('cpu');
      expect(warnings).toHaveLength(1);
      expect(warnings).toEqual(['device: cpu (no GPU provider available; see lvi doctor)']);
    }
  });

  for (const device of ['webgpu', 'cuda'] as const) {
    it(`device=${device} either starts or is a clear error`, async () => {
      const problem = await deviceProblem(device);
      if (problem === undefined) {
        expect(await resolveDevice(device)).toBe(device);
      } else {
        const err = await resolveDevice(device).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DeviceError);
        expect((err as Error).message).toBe(`device=${device} cannot start: ${problem}`);
      }
    });
  }

  it('cpu always starts', async () => {
    expect(await resolveDevice('cpu')).toBe('cpu');
  });
});

describe('sessions', () => {
  it('runs a graph like ONNX Runtime itself and caches per graph, shape and device', async () => {
    const g = specialise(fsrcnn(), [1, 3, 64, 64]);
    const before = cachedSessionCount();
    const a = await createSession(g, { device: 'cpu', threads: 2 });
    const b = await createSession(g, { device: 'cpu', threads: 2 });
    expect(cachedSessionCount()).toBe(before + 1);
    const lr = randomInput([1, 3, 64, 64], 3);
    for (let i = 0; i < lr.data.length; i++) (lr.data as Float32Array)[i] = Math.abs(lr.data[i] as number);
    const got = await a.run({ lr });
    expect(got.sr.dims).toEqual([1, 3, 256, 256]);
    expect(got.sr.dtype).toBe('float32');
    const want = await runOrt(encodeModel(g), { lr });
    // Same runtime, same graph and thread count: equal to float32 rounding of kernel order.
    let worst = 0;
    for (let i = 0; i < want.sr.length; i++) worst = Math.max(worst, Math.abs((got.sr.data[i] as number) - want.sr[i]));
    expect(worst).toBeLessThan(1e-5);
    // A different input shape is a different session.
    const c = await createSession(specialise(fsrcnn().nodes.length ? withFreeInput(fsrcnn()) : fsrcnn(), [1, 3, 32, 32]), { device: 'cpu', threads: 2 });
    expect(cachedSessionCount()).toBe(before + 2);
    await a.release();
    expect(cachedSessionCount()).toBe(before + 2); // b still holds it
    await b.release();
    await c.release();
    expect(cachedSessionCount()).toBe(before);
  });

  it('names the graph when ONNX Runtime cannot load it; a second release is harmless', async () => {
    const bad: Graph = {
      name: 'odd',
      opset: 13,
      nodes: [{ name: 'n', opType: 'Swoosh', inputs: ['x'], outputs: ['y'], attrs: {} }],
      inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
      initializers: new Map(),
    };
    await expect(createSession(bad, { device: 'cpu' })).rejects.toThrow(/^ONNX Runtime cannot load graph 'odd' on cpu: .*Swoosh/);
    const s = await createSession(specialise(fsrcnn(), [1, 3, 64, 64]), { device: 'cpu', fresh: true });
    await s.release();
    await expect(s.release()).resolves.toBeUndefined();
  });

  it('creates sessions with spinning on and off', async () => {
    const g = specialise(fsrcnn(), [1, 3, 64, 64]);
    for (const spinning of [true, false]) {
      const s = await createSession(g, { device: 'cpu', threads: 1, spinning, fresh: true });
      const out = await s.run({ lr: randomInput([1, 3, 64, 64]) });
      expect(out.sr.dims).toEqual([1, 3, 256, 256]);
      await s.release();
    }
  });
});

/** The reference model with its spatial input sizes made symbolic. */
function withFreeInput(g: Graph): Graph {
  return { ...g, inputs: g.inputs.map((i) => ({ ...i, shape: [1, 3, 'H', 'W'] })) };
}

describe('batch sizing', () => {
  it('chooses the largest batch inside the budget', () => {
    expect(chooseBatch({ perItemBytes: 100, budgetBytes: 1000, max: 8 })).toBe(8);
    expect(chooseBatch({ perItemBytes: 100, budgetBytes: 550, max: 8 })).toBe(5);
    expect(chooseBatch({ perItemBytes: 100, budgetBytes: 550, max: 8, fixedBytes: 300 })).toBe(2);
    expect(chooseBatch({ perItemBytes: 100, budgetBytes: 50, max: 8 })).toBe(1);
    expect(chooseBatch({ perItemBytes: 100, budgetBytes: 50, max: 8, override: 6 })).toBe(6);
    expect(chooseBatch({ perItemBytes: 100, budgetBytes: 5000, max: 8, override: 20 })).toBe(8);
    expect(() => chooseBatch({ perItemBytes: 100, budgetBytes: 50, max: 8, override: 0 })).toThrow(/positive integer/);
  });

  it('estimates memory by liveness and without reuse: a hand-counted chain', () => {
    // x[1,2,4,4] -> Relu a -> Relu b -> Relu c -> Add(c, b) -> y; every tensor 128 B.
    const relu = (name: string, x: string) => ({ name, opType: 'Relu', inputs: [x], outputs: [name], attrs: {} });
    const g: Graph = {
      name: 'chain',
      opset: 13,
      nodes: [relu('a', 'x'), relu('b', 'a'), relu('c', 'b'), { name: 'add', opType: 'Add', inputs: ['c', 'b'], outputs: ['y'], attrs: {} }],
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 4, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2, 4, 4] }],
      initializers: new Map(),
    };
    const m = estimateMemory(specialise(g, [1, 2, 4, 4]));
    // x and y pinned; a dies at b; b and c live together until the Add: peak x+y+b+c.
    expect(m.peakActivationBytes).toBe(4 * 128);
    expect(m.totalActivationBytes).toBe(5 * 128);
    expect(m.perItemBytes).toBe(5 * 128);
    expect(m.workspaceBytes).toBe(0);
  });

  it('sizes a batch from a graph: the budget over its per-item estimate', () => {
    const g = specialise(withFreeInput(fsrcnn()), [1, 3, 32, 32]);
    const m = estimateMemory(g);
    expect(autoBatch(g, { budgetBytes: m.fixedBytes + 3.5 * m.perItemBytes, max: 8 })).toBe(3);
    expect(autoBatch(g, { budgetBytes: 1e12, max: 5 })).toBe(5);
    expect(autoBatch(g, { budgetBytes: 0, max: 5 })).toBe(1);
    expect(autoBatch(g, { budgetBytes: 0, max: 5, override: 4 })).toBe(4);
  });

  it('stacks path steps along the batch and splits them back', () => {
    const a = { dtype: 'float32' as const, dims: [1, 2, 2], data: Float32Array.of(1, 2, 3, 4) };
    const b = { dtype: 'float32' as const, dims: [1, 2, 2], data: Float32Array.of(5, 6, 7, 8) };
    const s = stackBatch([a, b]);
    expect(s.dims).toEqual([2, 2, 2]);
    expect(Array.from(s.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(splitBatch(s).map((t) => Array.from(t.data))).toEqual([[1, 2, 3, 4], [5, 6, 7, 8]]);
    expect(splitBatch(s)[1].dims).toEqual([1, 2, 2]);
  });

  it('per-item memory grows linearly with the batch', () => {
    const g = withFreeInput(fsrcnn());
    const withBatch = (n: number) => ({ ...g, inputs: g.inputs.map((i) => ({ ...i, shape: [n, 3, 'H', 'W'] })) });
    const one = estimateMemory(specialise(withBatch(1), [1, 3, 32, 32]));
    const four = estimateMemory(specialise(withBatch(4), [4, 3, 32, 32]));
    expect(four.peakActivationBytes).toBe(4 * one.peakActivationBytes);
    expect(four.perItemBytes).toBe(one.perItemBytes);
    expect(four.fixedBytes).toBe(one.fixedBytes);
  });
});
