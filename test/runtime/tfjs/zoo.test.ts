// The zoo's lookup, listing and errors, the 0..1 wrapping, and the receptive field it reports
// (checked by perturbing one LR pixel and watching which HR pixels move, in ONNX Runtime).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZOO, ZooError, listZooModels, resolveZooModel, zooEntry } from '../../../src/runtime/models/zoo.js';
import { randArray, rng } from '../../helpers/tensors.js';
import { runOrt } from './helpers.js';

describe('zoo ids', () => {
  it('lists every entry as installed here, with scale and range', () => {
    const list = listZooModels();
    expect(list.map((e) => e.id)).toEqual(ZOO.map((e) => e.id));
    expect(list.every((e) => e.installed)).toBe(true);
    expect(list.find((e) => e.id === 'rdn/x3')).toMatchObject({ package: '@upscalerjs/models', scale: 3, range: 1 });
    expect(list.find((e) => e.id === 'esrgan-slim/x8')).toMatchObject({ scale: 8, range: 255 });
  });

  it('reports packages that are not installed, and names the npm install command', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'lvi-zoo-'));
    expect(listZooModels({ searchFrom: [empty] }).some((e) => e.installed)).toBe(false);
    await expect(resolveZooModel('esrgan-medium/x4', { searchFrom: [empty] })).rejects.toThrow(
      /needs the npm package @upscalerjs\/esrgan-medium, which is not installed; run: npm install @upscalerjs\/esrgan-medium/,
    );
  });

  it('suggests near ids for an unknown one', async () => {
    expect(() => zooEntry('rdn/4x')).toThrow(/unknown zoo model 'rdn\/4x'; did you mean 'rdn\/x4'\?/);
    expect(() => zooEntry('esrgan-slim')).toThrow(/did you mean 'esrgan-slim\/x2', 'esrgan-slim\/x3', 'esrgan-slim\/x4', 'esrgan-slim\/x8'\?/);
    expect(() => zooEntry('esrgan-thick/x5')).toThrow(/did you mean 'esrgan-thick\/x2' or 'esrgan-thick\/x3' or 'esrgan-thick\/x4' or 'esrgan-thick\/x8'\?/);
    expect(() => zooEntry('swinir')).toThrow(/known models: esrgan-slim\/x2, /);
    await expect(resolveZooModel('rrdn/x2')).rejects.toThrow(ZooError);
  });
});

describe('zoo models', () => {
  it('esrgan-slim/x4: 0..1 graph around a 0..255 network, Keras layer names kept', async () => {
    const m = await resolveZooModel('esrgan-slim/x4');
    expect(m.info).toMatchObject({ source: 'zoo:esrgan-slim/x4', scale: 4, range: 255, inputName: 'input', outputName: 'output' });
    expect(m.info.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.info.parameters).toBe(233451);
    expect(m.graph.inputs[0]).toMatchObject({ name: 'input', shape: ['N', 3, 'H', 'W'] });
    expect(m.graph.outputs[0]).toMatchObject({ name: 'output', shape: ['N', 3, 'H*4', 'W*4'] });
    const first = m.graph.nodes[0];
    expect(first).toMatchObject({ opType: 'Mul', inputs: ['input', 'lvi/range'] });
    expect(m.graph.nodes.at(-1)).toMatchObject({ opType: 'Div', outputs: ['output'] });
    const names = new Set(m.graph.nodes.map((n) => n.name));
    for (const layer of ['F_m1', 'F_0', 'LFF_1', 'LRL_1', 'GFF_1', 'UPN1_Relu', 'UPsample', 'SR']) expect(names).toContain(layer);
    // A layer's output tensor carries the layer's name.
    expect(m.graph.nodes.find((n) => n.name === 'LFF_2')!.outputs).toEqual(['LFF_2']);
    // Keras HWIO kernels are now OIHW.
    expect(m.graph.initializers.get('UPN3/kernel')!.dims).toEqual([48, 32, 3, 3]);
  });

  it('rrdn/x4: PixelShuffle is DepthToSpace DCR, MultiplyBeta a Mul by its beta, output clipped', async () => {
    const m = await resolveZooModel('rrdn/x4');
    expect(m.info).toMatchObject({ scale: 4, range: 1, parameters: 4176100 });
    const shuffle = m.graph.nodes.find((n) => n.opType === 'DepthToSpace')!;
    expect(shuffle.attrs).toEqual({ blocksize: 4, mode: 'DCR' });
    const beta = m.graph.nodes.find((n) => n.name === 'multiply_beta_401')!;
    expect(beta.opType).toBe('Mul');
    expect(Array.from(m.graph.initializers.get(beta.inputs[1])!.data as Float32Array)).toEqual([Math.fround(0.2)]);
    expect(m.graph.nodes.at(-1)).toMatchObject({ opType: 'Clip', outputs: ['output'] });
    expect(m.graph.nodes[0].inputs[0]).toBe('input');
  });

  // Perturb the LR pixel at the centre; every HR pixel that moves must lie in an LR cell at
  // most (rf-1)/2 away, and the farthest moving cell must be exactly that far (tight bound).
  for (const id of ['esrgan-slim/x3', 'esrgan-medium/x4']) {
    it(`${id}: the reported receptive field is exact`, async () => {
      const m = await resolveZooModel(id);
      const rf = m.info.receptiveField!;
      const s = m.info.scale;
      const n = rf + 8;
      const c = Math.floor(n / 2);
      const x = randArray(3 * n * n, rng(17));
      const base = await runOrt(m.graph, x, [1, 3, n, n]);
      const moved = x.slice();
      for (let ch = 0; ch < 3; ch++) moved[(ch * n + c) * n + c] += 0.25;
      const after = await runOrt(m.graph, moved, [1, 3, n, n]);
      let reach = 0;
      const N = n * s;
      for (let ch = 0; ch < 3; ch++)
        for (let y = 0; y < N; y++)
          for (let q = 0; q < N; q++) {
            const i = (ch * N + y) * N + q;
            if (after.data[i] !== base.data[i]) {
              reach = Math.max(reach, Math.abs(Math.floor(y / s) - c), Math.abs(Math.floor(q / s) - c));
            }
          }
      expect(rf % 2).toBe(1);
      expect(reach).toBe((rf - 1) / 2);
    });
  }
});
