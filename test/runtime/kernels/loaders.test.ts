// image, derive-lr and dataset kernels, run through the executor on real files.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture } from '../../helpers/paths.js';
import { executePlan } from '../../../src/runtime/executor/index.js';
import type { NodeRunner } from '../../../src/runtime/runner.js';
import { readImage, writePng, type Image } from '../../../src/runtime/image/index.js';
import { loadRunners } from '../../../src/runtime/runners.js';

const getKernel = await loadRunners();
import type { LrPair } from '../../../src/runtime/kernels/derive-lr.js';
import type { DatasetValue } from '../../../src/runtime/kernels/dataset.js';
import { globToRegExp } from '../../../src/compiler/glob.js';
import { makePlan, removeTempStudies, tempStudy, type NodeSpec } from '../executor/helpers.js';

afterAll(removeTempStudies);

/** Captures the in-memory value a node hands to its dependents. */
function probe(): { kernel: NodeRunner; values: Map<string, unknown> } {
  const values = new Map<string, unknown>();
  return {
    values,
    kernel: {
      kind: 't-probe',
      cache: false,
      async run({ node, deps }) {
        values.set(node.id, deps.in.value);
        return { summary: {}, files: [] };
      },
    },
  };
}

function gradient(width: number, height: number): Image {
  const data = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < width * height; i++) data[c * width * height + i] = ((i * (c + 3)) % 256) / 255;
  }
  return { width, height, data };
}

describe('image and derive-lr kernels', () => {
  it('load the HR picture and derive the LR input exactly as the LAM reference did (chelsea x4)', async () => {
    const study = tempStudy('image chelsea file="chelsea_256.png"\n');
    const file = fixture('lam', 'chelsea_256.png');
    const { kernel, values } = probe();
    const plan = makePlan(study, [
      { id: 'image:chelsea', kind: 'image', statement: 'chelsea', params: { file }, files: [file], line: 1 },
      { id: 'lr:chelsea@x4', kind: 'derive-lr', params: { scale: 4 }, deps: { image: 'image:chelsea' } },
      { id: 'probe', kind: 't-probe', deps: { in: 'lr:chelsea@x4' } },
    ]);
    const summary = await executePlan(plan, { progress: 'none', kernels: (k) => (k === 't-probe' ? kernel : getKernel(k)) });
    expect(summary.exitCode).toBe(0);
    expect(summary.nodes.find((n) => n.id === 'image:chelsea')!.summary).toMatchObject({ width: 256, height: 256 });
    const pair = values.get('probe') as LrPair;
    expect(pair.scale).toBe(4);
    expect([pair.lr.width, pair.lr.height]).toEqual([64, 64]);
    // The reference LR (Pillow bicubic), within one grey level.
    const ref = readImage(fixture('lam', 'fsrcnn_chelsea/lr.png'));
    let worst = 0;
    for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(ref.data[i] - pair.lr.data[i]));
    expect(worst).toBeLessThanOrEqual(1 / 255 + 1e-6);
  });

  it('crops HR to a multiple of the scale, and checks a given LR image against it', async () => {
    const study = tempStudy('image x file="hr.png" lr="lr.png"\n');
    const hrFile = join(study.dir, 'hr.png');
    writePng(hrFile, gradient(30, 21)); // x4: crops to 28x20
    const badLr = join(study.dir, 'lr.png');
    writePng(badLr, gradient(8, 5));
    const { kernel, values } = probe();
    const kernels = (k: string) => (k === 't-probe' ? kernel : getKernel(k));
    const nodes = (params: Record<string, string>): NodeSpec[] => [
      { id: 'image:x', kind: 'image', statement: 'x', params, line: 1 },
      { id: 'lr:x@x4', kind: 'derive-lr', params: { scale: 4 }, deps: { image: 'image:x' } },
      { id: 'probe', kind: 't-probe', deps: { in: 'lr:x@x4' } },
    ];
    const derived = await executePlan(makePlan(study, nodes({ file: hrFile })), { progress: 'none', kernels, lockFile: false });
    expect(derived.exitCode).toBe(0);
    const pair = values.get('probe') as LrPair;
    expect([pair.hr!.width, pair.hr!.height, pair.lr.width, pair.lr.height]).toEqual([28, 20, 7, 5]);

    const bad = await executePlan(makePlan(study, nodes({ file: hrFile, lr: badLr })), { progress: 'none', kernels, lockFile: false });
    expect(bad.nodes.find((n) => n.id === 'lr:x@x4')!.error).toBe(
      'the LR image is 8x5, so at x4 the HR image should be 32x20 (after cropping), but it is 28x20',
    );
    // The implicit node is placed at the statement it reads.
    expect(bad.nodes.find((n) => n.id === 'lr:x@x4')!.location).toBe(`${study.file}:1:1`);
    expect(bad.nodes.find((n) => n.id === 'probe')!.status).toBe('skipped');

    const lrOnly = await executePlan(makePlan(study, nodes({ lr: badLr })), { progress: 'none', kernels, lockFile: false });
    expect(lrOnly.exitCode).toBe(0);
    expect((values.get('probe') as LrPair).hr).toBeUndefined();
  });

  it('names the path when an image is missing or not an image', async () => {
    const study = tempStudy('image x file="x.png"\n');
    const notImage = join(study.dir, 'notes.png');
    writeFileSync(notImage, 'hello');
    const run = async (file: string) =>
      (await executePlan(makePlan(study, [{ id: 'image:x', kind: 'image', statement: 'x', params: { file }, line: 1 }]), { progress: 'none', lockFile: false })).nodes[0];
    const missing = await run(join(study.dir, 'gone.png'));
    expect(missing.status).toBe('failed');
    expect(missing.error).toContain(join(study.dir, 'gone.png'));
    expect((await run(notImage)).error).toMatch(/notes\.png: not a PNG or JPEG/);
  });
});

describe('model kernel', () => {
  it('loads an ONNX file and records its facts; a missing file fails with its path', async () => {
    const study = tempStudy('model f file="model.onnx"\n');
    const file = fixture('lam', 'fsrcnn_chelsea/model.onnx');
    const run = async (f: string) =>
      (await executePlan(makePlan(study, [{ id: 'model:f', kind: 'model', statement: 'f', params: { file: f, scale: 4, range: 1 }, line: 1 }]), { progress: 'none', lockFile: false })).nodes[0];
    const ok = await run(file);
    // 24579: the sum of the initializer sizes, counted with Python's onnx.
    expect(ok.summary).toMatchObject({ file, scale: 4, range: 1, parameters: 24579, hasGlobalOps: false, inputChannels: 3 });
    const gone = await run(join(study.dir, 'gone.onnx'));
    expect(gone.status).toBe('failed');
    expect(gone.error).toContain(join(study.dir, 'gone.onnx'));
  });
});

describe('dataset kernel', () => {
  function folder(): { study: { dir: string; file: string }; dir: string } {
    const study = tempStudy('dataset set dir="set"\n');
    const dir = join(study.dir, 'set');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    for (const name of ['b.png', 'a.png', 'c.jpg', 'sub/d.png']) writePng(join(dir, name), gradient(4, 4));
    writeFileSync(join(dir, 'readme.txt'), 'not an image');
    return { study, dir };
  }

  async function listed(study: { dir: string; file: string }, params: Record<string, string>) {
    const { kernel, values } = probe();
    const plan = makePlan(study, [
      { id: 'dataset:set', kind: 'dataset', statement: 'set', params, line: 1 },
      { id: 'probe', kind: 't-probe', deps: { in: 'dataset:set' } },
    ]);
    const summary = await executePlan(plan, { progress: 'none', lockFile: false, kernels: (k) => (k === 't-probe' ? kernel : getKernel(k)) });
    return { summary, value: values.get('probe') as DatasetValue | undefined };
  }

  it('lists the images matching the glob, sorted', async () => {
    const { study, dir } = folder();
    const all = await listed(study, { dir, glob: '*' });
    expect(all.value!.files).toEqual(['a.png', 'b.png', 'c.jpg'].map((n) => join(dir, n)));
    expect(all.summary.nodes[0].summary).toMatchObject({ count: 3, files: ['a.png', 'b.png', 'c.jpg'] });
    expect((await listed(study, { dir, glob: '*.png' })).value!.files).toEqual(['a.png', 'b.png'].map((n) => join(dir, n)));
    expect((await listed(study, { dir, glob: '**/*.png' })).value!.files).toEqual(['a.png', 'b.png', 'sub/d.png'].map((n) => join(dir, n)));
  });

  it('gives one clear message, with the path, for a folder without images', async () => {
    const { study, dir } = folder();
    const txt = await listed(study, { dir, glob: '*.txt' });
    expect(txt.summary.nodes[0].error).toBe(
      `dataset folder ${dir} has no images: 1 file(s) match glob "*.txt" but none is a PNG or JPEG (e.g. readme.txt)`,
    );
    expect(txt.summary.nodes[1].status).toBe('skipped');
    const none = await listed(study, { dir, glob: '*.bmp' });
    expect(none.summary.nodes[0].error).toBe(`dataset folder ${dir} has no images: no file matches glob "*.bmp" among its 5 entries`);
    const gone = await listed(study, { dir: join(dir, 'nope') });
    expect(gone.summary.nodes[0].error).toBe(`dataset folder ${join(dir, 'nope')} does not exist`);
  });

  it('translates globs', () => {
    const cases: [string, string, boolean][] = [
      ['*.png', 'a.png', true],
      ['*.png', 'sub/a.png', false],
      ['**/*.png', 'a.png', true],
      ['**/*.png', 'x/y/a.png', true],
      ['img_??.{png,jpg}', 'img_01.jpg', true],
      ['img_??.{png,jpg}', 'img_1.jpg', false],
      ['[!a]*.png', 'a.png', false],
      ['[!a]*.png', 'b.png', true],
      ['a+b.png', 'a+b.png', true],
      ['a.png', 'aXpng', false],
    ];
    for (const [glob, name, hit] of cases) expect([glob, name, globToRegExp(glob).test(name)]).toEqual([glob, name, hit]);
    expect(() => globToRegExp('{a,b')).toThrow(/unclosed \{/);
  });
});
