import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { CATALOGUE } from '../../grammar/catalogue.js';
import { completion } from '../../src/lsp/completion.js';
import { at, makeStudyFolder } from './helpers/fixture.js';

const dir = makeStudyFolder();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const MODELS = 'model slim zoo="esrgan-slim/x4"\nmodel mine file="models/net.onnx"\nimage cat file="images/chelsea.png"\n';

function complete(marked: string) {
  const a = at(marked, dir);
  return completion(a.view, a.position, a.env);
}
const labels = (marked: string) => complete(marked).items.map((i) => i.label);

describe('completion', () => {
  it('offers every statement kind at the start of a line, single kinds once', () => {
    expect(labels('<|>').sort()).toEqual(Object.keys(CATALOGUE).sort());
    expect(labels('study "x"\n<|>')).not.toContain('study');
    const lam = complete('la<|>').items.find((i) => i.label === 'lam')!;
    expect(lam.textEdit).toMatchObject({ newText: expect.stringMatching(/^lam \$\{1:name\} model=\$\{2\} image=\$\{3\} window=\(\$\{4:110\},/) });
  });

  it('offers the parameters a statement does not have yet, required first, with defaults', () => {
    const items = complete(`${MODELS}lam e model=slim <|>`).items;
    const names = items.map((i) => i.label);
    expect(names).not.toContain('model');
    expect(names).toEqual(expect.arrayContaining(['image', 'window', 'steps', 'sigma', 'path']));
    const byLabel = new Map(items.map((i) => [i.label, i]));
    expect(byLabel.get('steps')?.textEdit).toMatchObject({ newText: 'steps=${1:50}' });
    expect(byLabel.get('path')?.textEdit).toMatchObject({ newText: 'path=${1|progressive-blur,linear,blur-linear|}' });
    expect(byLabel.get('steps')?.documentation).toMatchObject({ value: expect.stringContaining('default: `50`') });
    const sorted = [...items].sort((a, b) => a.sortText!.localeCompare(b.sortText!)).map((i) => i.label);
    expect(sorted.indexOf('image')).toBeLessThan(sorted.indexOf('steps'));
  });

  it('offers parameters on continuation lines and for half-typed keys', () => {
    expect(labels(`${MODELS}lam e model=slim\n    st<|>`)).toContain('steps');
    expect(labels(`${MODELS}lam e model=slim image=cat wind<|>`)).toContain('window');
  });

  it('offers the allowed values of enum parameters', () => {
    expect(labels('lam e path=<|>')).toEqual(['progressive-blur', 'linear', 'blur-linear']);
    expect(labels('lam e path=prog<|>')).toContain('progressive-blur');
    expect(labels('table t columns=[model, <|>')).toEqual(expect.arrayContaining(['di', 'psnr', 'receptive-field']));
  });

  it('offers only references of the kind a parameter expects', () => {
    expect(labels(`${MODELS}lam e model=<|>`)).toEqual(['slim', 'mine']);
    expect(labels(`${MODELS}lam e model=slim image=<|>`)).toEqual(['cat']);
    expect(labels(`${MODELS}lam e model=[slim, <|>]`)).toContain('mine');
    expect(labels(`${MODELS}lam e model=slim image=cat window=(1,1,2,2)\nlam f model=slim\ntable t rows=<|>`)).toEqual(['e', 'f']);
  });

  it('offers files relative to the study, filtered by extension, inside and outside quotes', () => {
    // Folders always show (they may hold matching files); files only with a fitting extension.
    expect(labels('image i file=<|>')).toEqual(['data/', 'images/', 'models/']);
    expect(labels('image i file="images/<|>"')).toEqual(['images/chelsea.png']);
    expect(labels('image i file="images/ch<|>')).toEqual(['images/chelsea.png']);
    expect(labels('model m file="models/<|>"')).toEqual(['models/net.onnx']);
    expect(labels('dataset d dir="<|>"')).toEqual(['data/', 'images/', 'models/']);
    const outside = complete('image i file=<|>').items.find((i) => i.label === 'images/')!;
    expect(outside.textEdit).toMatchObject({ newText: '"images/' });
  });

  // Issue 8, item 8: `file="../../../"` listed /bin, /etc ...: completion stays in the study's
  // folder and below, as a study's outputs do.
  it('offers no path outside the study folder', () => {
    expect(labels('image i file="../<|>"')).toEqual([]);
    expect(labels('image i file="../../../<|>"')).toEqual([]);
    expect(labels('image i file="/<|>"')).toEqual([]);
    expect(labels('image i file="/etc/<|>"')).toEqual([]);
    expect(labels('image i file="images/../../<|>"')).toEqual([]);
    expect(labels('dataset d dir="data/../../<|>"')).toEqual([]);
    // Going up and back down inside the study is still inside it.
    expect(labels('model m file="images/../models/<|>"')).toEqual(['images/../models/net.onnx']);
  });

  it('offers zoo ids, installed ones first', () => {
    const items = complete('model m zoo=<|>').items;
    expect(items.map((i) => i.label)).toContain('esrgan-slim/x4');
    expect(items.find((i) => i.label === 'esrgan-slim/x4')?.textEdit).toMatchObject({ newText: '"esrgan-slim/x4"' });
    expect(complete('model m zoo="rdn<|>"').items.find((i) => i.label === 'rdn/x4')?.textEdit).toMatchObject({ newText: 'rdn/x4' });
  });

  it('offers nothing in comments and never throws on broken text', () => {
    expect(labels('lam e # model=<|>')).toEqual([]);
    for (const text of ['lam e model=[slim, (<|>', 'lam e window=(1,2,"<|>', '\u0000\u0001<|>\u00ff', 'lam e model=<|>]]])))']) {
      expect(() => complete(text)).not.toThrow();
    }
  });
});
