// What `lvi check` says about DDR statements before anything runs, and the runtime messages for
// inputs that cannot work (t-SNE perplexity, one class only).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, afterAll } from 'vitest';
import { compileText } from '../../../src/compiler/compile.js';
import { executePlan } from '../../../src/runtime/executor/index.js';
import { removeTempStudies, tempStudy } from '../executor/helpers.js';
import { fixture } from '../../helpers/paths.js';

afterAll(removeTempStudies);

const head = `study "x" out="out"
model m file="${fixture('models', 'msrresnet-x2-clean.onnx')}" scale=2
dataset lr_clean dir="${fixture('ddr', 'inputs')}" glob="*_clean.png" lr=true
dataset lr_noise dir="${fixture('ddr', 'inputs')}" glob="*_noise.png" lr=true
`;

function errors(text: string) {
  const study = tempStudy(text);
  return compileText(text, study.file).diagnostics.filter((d) => d.severity === 'error');
}

describe('lvi check on DDR statements', () => {
  it('names the closest tensor for a layer the model file does not have', () => {
    const e = errors(`${head}features f model=m layer="/body/body.3/Add_output0" degradations=[lr_clean, lr_noise]\n`);
    expect(e.map((d) => d.message)).toEqual([expect.stringContaining('has no tensor "/body/body.3/Add_output0"; did you mean "/body/body.3/Add_output_0"?')]);
    expect(e[0].line).toBe(5);
  });

  it('asks for data= when a degradation is a call on HR images', () => {
    const e = errors(`${head}features f model=m layer="/LeakyRelu_output_0" degradations=[clean, lr_noise]\n`);
    expect(e.map((d) => d.message)).toEqual([expect.stringContaining('need HR images: add data=<dataset>')]);
  });

  it('warns where the word clean in degradations= shadows a dataset named clean, and uses the word', () => {
    const text = `${head}dataset clean dir="${fixture('ddr', 'inputs')}" glob="*_clean.png" lr=true
features f model=m layer="/LeakyRelu_output_0" degradations=[clean, lr_noise] data=lr_clean
srga g model=m layer="/LeakyRelu_output_0" reference=clean tests=lr_noise data=lr_clean
`;
    const study = tempStudy(text);
    const { diagnostics, plan } = compileText(text, study.file);
    const shadowed = diagnostics.filter((d) => d.code === 'shadowed-name');
    const lines = text.split('\n');
    const at = (line: number, word: string) => ['warning', line, lines[line - 1]!.indexOf(word) + word.indexOf('clean') + 1];
    expect(shadowed.map((d) => [d.severity, d.line, d.column])).toEqual([at(6, '[clean,'), at(7, '=clean ')]);
    expect(shadowed[0]!.message).toMatch(/`clean` here is the word clean \(no degradation: .*\), not the dataset `clean` \(line 5\); rename the dataset to use it here/);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    // What runs is the word: the features node reads no `clean` dataset.
    const features = plan!.nodes.find((n) => n.kind === 'features')!;
    expect(JSON.stringify(features.params.degradations)).toContain('"call":"clean"');
    // A dataset of another name is no warning.
    expect(compileText(`${head}features f model=m layer="/LeakyRelu_output_0" degradations=[clean, lr_noise] data=lr_clean\n`, study.file).diagnostics.map((d) => d.code)).not.toContain('shadowed-name');
  });

  it('accepts a study of LR datasets only', () => {
    expect(errors(`${head}features f model=m layer="/LeakyRelu_output_0" degradations=[lr_clean, lr_noise]\nembed t of=f method=tsne perplexity=5\n`)).toEqual([]);
  });
});

describe('DDR runs that cannot work say why', () => {
  it('a perplexity too large for the samples, and a label with one class only', async () => {
    const text = `${head}features f model=m layer="/LeakyRelu_output_0" degradations=[lr_clean, lr_noise]
embed t of=f method=tsne perplexity=30
features one model=m layer="/LeakyRelu_output_0" degradations=[lr_clean]
cluster c of=one by=degradation
`;
    const study = tempStudy(text);
    const { plan } = compileText(text, study.file);
    const run = await executePlan(plan!, { progress: 'none' });
    const failed = Object.fromEntries(run.nodes.filter((n) => n.status === 'failed').map((n) => [n.kind, n.error]));
    expect(failed.embed).toMatch(/perplexity 30 needs more samples: with 24 it must be below N - 1 = 23/);
    expect(failed.cluster).toMatch(/by=degradation .*every sample has the label 'lr_clean' \(one class only\)/);
  }, 60_000);
});

describe('a DDR study on HR images with degradation calls', () => {
  it('cuts crops, degrades them and labels every row', async () => {
    const text = `study "hr" out="out" seed=3
model m file="${fixture('models', 'msrresnet-x2-clean.onnx')}" scale=2
dataset hr dir="${fixture('images')}" glob="*.png"
features f model=m layer="/body/body.3/Add_output_0" data=hr patch=64 patches=2
    degradations=[clean, blur(sigma=2), noise(sigma=0.1), jpeg(quality=30)]
cluster c of=f by=[degradation, content, crop]
`;
    const study = tempStudy(text);
    const { plan, diagnostics } = compileText(text, study.file);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const run = await executePlan(plan!, { progress: 'none' });
    expect(run.nodes.filter((n) => n.status !== 'ran').map((n) => n.error)).toEqual([]);
    const f = run.nodes.find((n) => n.kind === 'features')!;
    expect(f.summary).toMatchObject({ samples: 3 * 2 * 4, dim: 32 });
    const labels = JSON.parse(readFileSync(join(f.outDir!, 'labels.json'), 'utf8')) as { degradation: string; content: string; crop: string }[];
    expect([...new Set(labels.map((l) => l.degradation))]).toEqual(['clean', 'blur(sigma=2)', 'noise(sigma=0.1,seed=3)', 'jpeg(quality=30)']);
    expect([...new Set(labels.map((l) => l.content))]).toEqual(['astronaut', 'chelsea', 'coffee']);
    expect(labels.slice(0, 4).every((l) => l.crop === 'astronaut@0,0')).toBe(true);
    expect(new Set(labels.map((l) => l.crop)).size).toBe(6);
  }, 60_000);
});
