// FAIG's bad input: each a clear message naming the statement and what to change, and nothing
// computed on a wrong pairing.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileText } from '../../../src/compiler/compile.js';
import { executePlan } from '../../../src/runtime/executor/index.js';
import type { Graph } from '../../../src/runtime/graph/ir.js';
import { matchPair } from '../../../src/runtime/methods/faig/kernels.js';
import { removeTempStudies, tempStudy } from '../executor/helpers.js';
import { fixture } from '../../helpers/paths.js';

afterAll(removeTempStudies);

const dir = fixture('faig', 'small_3img_20steps');
const inputs = join(dir, 'inputs');
const head = `study "bad" out="out" seed=0
model clean file="${join(dir, 'baseline.onnx')}" scale=2
model blind file="${join(dir, 'target.onnx')}" scale=2
dataset gt dir="${inputs}" glob="*_hr.png"
dataset blurry dir="${inputs}" glob="*_lr_blur.png" lr=true
`;

/** Runs a study and returns the error of its one failing node. */
async function failure(text: string, setup?: (dir: string) => void): Promise<string> {
  const study = tempStudy(text);
  setup?.(study.dir);
  const { plan, diagnostics } = compileText(readFileSync(study.file, 'utf8'), study.file);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const summary = await executePlan(plan!, { progress: 'none' });
  const failed = summary.nodes.filter((n) => n.status === 'failed');
  expect(failed.map((n) => n.id)).toHaveLength(1);
  return failed[0]!.error ?? '';
}

describe('FAIG bad input', () => {
  it('networks of different architectures', async () => {
    const e = await failure(`study "bad" out="out"
model fsrcnn file="${fixture('lam', 'fsrcnn_chelsea', 'model.onnx')}" scale=4
model carn file="${fixture('lam', 'carn_coffee', 'model.onnx')}" scale=4
dataset gt dir="${inputs}" glob="*_hr.png"
faig f baseline=fsrcnn target=carn data=gt degradation=blur(sigma=2) steps=2
`);
    expect(e).toMatch(/faig 'f': baseline=fsrcnn and target=carn are not the same architecture/);
    expect(e).toMatch(/is in target=carn only/);
  });

  it('LR and HR datasets that do not pair up, by count or by name', async () => {
    const count = await failure(`${head}dataset one dir="${inputs}" glob="astronaut_lr_noise.png" lr=true
faig f baseline=clean target=blind data=gt degradation=blurry versus=one steps=2
`);
    expect(count).toMatch(/paired by sorted file name, so they need as many files as the HR data \(data: 3, blurry: 3, one: 1\)/);
    const names = await failure(`${head}dataset renamed dir="renamed" glob="*.png" lr=true
faig f baseline=clean target=blind data=gt degradation=renamed steps=2
`, (d) => {
      mkdirSync(join(d, 'renamed'));
      for (const [from, to] of [['astronaut', 'a'], ['chelsea', 'b'], ['coffee', 'c']]) copyFileSync(join(inputs, `${from}_lr_blur.png`), join(d, 'renamed', `${to}_blur.png`));
    });
    expect(names).toMatch(/LR dataset 'renamed' does not pair with the HR data by sorted name: a_blur.png comes where astronaut_hr.png does/);
  });

  it('LR inputs whose size does not match HR / scale', async () => {
    const e = await failure(`${head}dataset small dir="${inputs}" glob="*_lr_clean.png"
faig f baseline=clean target=blind data=small degradation=blurry steps=2
`);
    expect(e).toMatch(/astronaut_lr_blur.png \(blurry\) is 32x32, but its HR image is 32x32: at x2 the LR should be 16x16/);
  });

  it('a share that selects no kernel', async () => {
    const e = await failure(`${head}rank r baseline=clean target=blind
mask m model=blind from=clean filters=r share=0.001%
`);
    expect(e).toMatch(/mask 'm': share=0.001% of 13504 kernels selects none/);
  });

  it('a network without convolution weights', () => {
    const graph: Graph = { name: 'g', opset: 13, inputs: [], outputs: [], nodes: [], initializers: new Map() } as unknown as Graph;
    expect(() => matchPair(graph, graph, { baseline: 'from=a', target: 'model=b' })).toThrow(/model=b has no convolution weights to score/);
  });
});
