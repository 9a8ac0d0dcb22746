// The compiler: defaults, references, sweeps, implicit nodes, order and content keys.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { compileStudy, compileText, formatStudy, type Catalogue, type Plan } from '../../src/compiler/index.js';
import { corpusDir, filesDir } from './helpers.js';

const validDir = path.join(corpusDir, 'valid');
const read = (name: string) => fs.readFileSync(path.join(validDir, name), 'utf8');

function plan(text: string, file = path.join(validDir, 'snippet.lvi'), options = {}): Plan {
  const r = compileText(text, file, { lviVersion: '9.9.9', ...options });
  expect(r.diagnostics).toEqual([]);
  return r.plan!;
}

const keys = (p: Plan) => Object.fromEntries(p.nodes.map((n) => [n.id, n.key]));

function expectTopological(p: Plan) {
  const seen = new Set<string>();
  for (const n of p.nodes) {
    for (const dep of Object.values(n.deps)) expect(seen.has(dep), `${n.id} after ${dep}`).toBe(true);
    seen.add(n.id);
  }
}

describe('plan of the design example', () => {
  const p = compileStudy(path.join(validDir, 'lam-edges.lvi')).plan!;

  test('nodes, kinds and order', () => {
    expect(p.nodes.map((n) => [n.id, n.kind])).toEqual([
      ['model:slim', 'model'],
      ['model:rdn', 'model'],
      ['model:mine', 'model'],
      ['image:chelsea', 'image'],
      ['lr:chelsea@x4', 'derive-lr'],
      ['lam:edge#model=slim', 'lam'],
      ['lam:edge#model=rdn', 'lam'],
      ['lam:edge#model=mine', 'lam'],
      ['table:di', 'table'],
      ['report:report', 'report'],
    ]);
    expectTopological(p);
    expect(p.nodes.filter((n) => n.implicit).map((n) => n.id)).toEqual(['model:slim', 'model:rdn', 'model:mine', 'image:chelsea', 'lr:chelsea@x4']);
  });

  test('study settings and paths relative to the study file', () => {
    expect(p.study).toMatchObject({ name: 'lam-edges', device: 'auto', seed: 0 });
    expect(p.studyDir).toBe(validDir);
    expect(p.outDir).toBe(path.join(validDir, 'out', 'lam-edges'));
    const report = p.nodes.find((n) => n.kind === 'report')!;
    expect(report.params).toEqual({ file: path.join(validDir, 'out', 'lam-edges', 'report.html'), title: 'lam-edges' });
    const mine = p.nodes.find((n) => n.id === 'model:mine')!;
    const onnx = path.join(filesDir, 'nearest_x4.onnx');
    expect(mine.params).toEqual({ file: onnx, scale: 4, range: 1 });
    expect(Object.keys(mine.files)).toEqual([onnx]);
    expect(mine.files[onnx]).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a lam run: defaults filled, refs resolved, LR derived at the model scale', () => {
    const lam = p.nodes.find((n) => n.id === 'lam:edge#model=rdn')!;
    expect(lam.statement).toBe('edge');
    expect(lam.runId).toBe('model=rdn');
    expect(lam.sweep).toEqual({ model: { ref: 'rdn', kind: 'model', node: 'model:rdn' } });
    expect(lam.params).toEqual({
      model: { ref: 'rdn', kind: 'model', node: 'model:rdn' },
      image: { ref: 'chelsea', kind: 'image', node: 'lr:chelsea@x4' },
      window: [8, 8, 16, 16],
      path: 'progressive-blur',
      sigma: 1.2,
      steps: 50,
      kernel: 9,
      detector: 'gradient',
      reduce: 'sum',
      crop: 'auto',
      batch: 'auto',
    });
    expect(lam.deps).toEqual({ model: 'model:rdn', image: 'lr:chelsea@x4' });
    expect(p.nodes.find((n) => n.id === 'lr:chelsea@x4')).toMatchObject({ params: { scale: 4 }, deps: { image: 'image:chelsea' }, implicit: true });
    expect(lam.source).toEqual({ file: path.join(validDir, 'lam-edges.lvi'), line: 10, column: 1 });
  });

  test('a table depends on every run of the family it names; the report on all results', () => {
    const table = p.nodes.find((n) => n.id === 'table:di')!;
    expect(table.deps).toEqual({ 'rows[0]': 'lam:edge#model=slim', 'rows[1]': 'lam:edge#model=rdn', 'rows[2]': 'lam:edge#model=mine' });
    expect(table.params.rows).toEqual([{ ref: 'edge', kind: 'lam', node: 'lam:edge' }]);
    expect(table.params.columns).toEqual(['model', 'di', 'psnr']);
    const report = p.nodes.find((n) => n.kind === 'report')!;
    expect(Object.values(report.deps)).toEqual(['lam:edge#model=slim', 'lam:edge#model=rdn', 'lam:edge#model=mine', 'table:di']);
  });

  test('every key is a distinct sha256', () => {
    const ks = p.nodes.map((n) => n.key);
    for (const k of ks) expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(ks).size).toBe(ks.length);
  });
});

describe('sweeps', () => {
  const p = plan(read('sweeps.lvi'), path.join(validDir, 'sweeps.lvi'));
  const grid = p.nodes.filter((n) => n.statement === 'grid');

  test('the cartesian product, in catalogue parameter order, with stable run ids', () => {
    expect(grid).toHaveLength(12);
    expect(grid.map((n) => n.runId).slice(0, 4)).toEqual([
      'model=near_image=a_window=0-0-8-8',
      'model=near_image=a_window=8-8-8-8',
      'model=near_image=b_window=0-0-8-8',
      'model=near_image=b_window=8-8-8-8',
    ]);
    expect(new Set(grid.map((n) => n.runId)).size).toBe(12);
    for (const n of grid) {
      expect(n.id).toBe(`lam:grid#${n.runId}`);
      expect(n.runId).toMatch(/^[A-Za-z0-9.=_+-]+$/);
      expect(Object.keys(n.sweep)).toEqual(['model', 'image', 'window']);
      expect(n.params).toMatchObject({ steps: 10, batch: 4, sigma: 1.2 });
    }
    expectTopological(p);
  });

  test('LR is derived once per (image, scale); an LR image passes through the same kind of node', () => {
    const lr = p.nodes.filter((n) => n.kind === 'derive-lr').map((n) => n.id);
    expect(lr.sort()).toEqual(['lr:a@x2', 'lr:a@x4', 'lr:b@x2', 'lr:b@x4', 'lr:small@x4']);
    const x2 = grid.find((n) => n.runId === 'model=x2_image=b_window=0-0-8-8')!;
    expect(x2.deps).toEqual({ model: 'model:x2', image: 'lr:b@x2' });
    const direct = p.nodes.find((n) => n.id === 'lam:direct')!;
    expect(direct.runId).toBe('default');
    expect(direct.sweep).toEqual({});
    expect(direct.deps).toEqual({ model: 'model:near', image: 'lr:small@x4' });
    expect(p.nodes.find((n) => n.id === 'lr:small@x4')!.deps).toEqual({ image: 'image:small' });
    expect(direct.params).toMatchObject({ sigma: 0.5, kernel: 5, path: 'linear', detector: 'intensity', reduce: 'mean', steps: 50 });
  });

  test('model scale: from the zoo id, 4 for a file without scale=', () => {
    const model = (id: string) => p.nodes.find((n) => n.id === id)!.params;
    expect(model('model:near')).toMatchObject({ scale: 4, range: 1 });
    expect(model('model:slim')).toEqual({ zoo: 'esrgan-slim/x4', scale: 4 });
    expect(model('model:x2')).toEqual({ zoo: 'esrgan-slim/x2', scale: 2 });
  });

  test('a dataset hashes every matching file', () => {
    const set = p.nodes.find((n) => n.id === 'dataset:set')!;
    expect(Object.keys(set.files).map((f) => path.relative(filesDir, f))).toEqual([path.join('set', 'img0.png'), path.join('set', 'img1.png')]);
    expect(set.params).toEqual({ dir: path.join(filesDir, 'set'), glob: '*.png', lr: false });
  });

  test('tables list the runs of every family they name, in order', () => {
    const all = p.nodes.find((n) => n.id === 'table:all')!;
    expect(Object.keys(all.deps)).toHaveLength(13);
    expect(all.deps['rows[12]']).toBe('lam:direct');
    expect(all.params.format).toBe('all');
    expect(p.nodes.find((n) => n.id === 'table:one')!.params.columns).toEqual(['model', 'image', 'window', 'di']);
  });

  test('values that slug alike still get distinct run ids', () => {
    const catalogue: Catalogue = {
      probe: {
        doc: 'test kind',
        runner: 'probe',
        name: 'optional',
        params: { label: { type: { type: 'string' }, doc: 'a label', sweep: true } },
        example: 'probe label=["a b", "a-b"]',
      },
    };
    const q = plan('probe label=["a b", "a-b", "c"]', undefined, { catalogue });
    const ids = q.nodes.map((n) => n.runId);
    expect(new Set(ids).size).toBe(3);
    expect(ids[2]).toBe('label=c');
    for (const id of ids.slice(0, 2)) expect(id).toMatch(/^label=a-b~[0-9a-f]{8}$/);
  });
});

describe('content keys', () => {
  const text = read('sweeps.lvi');
  const file = path.join(validDir, 'sweeps.lvi');
  const base = keys(plan(text, file));

  test('formatting, reordering statements and parameters, and comments change no key', () => {
    const formatted = formatStudy(text);
    expect(keys(plan(formatted, file))).toEqual(base);
    const shuffled = [
      '# the same study, written differently',
      'table one    rows=direct',
      'lam grid window=[(0,0,8,8),(8,8,8,8)]   # windows first',
      '  batch=4   image=[a,b]',
      '      model=[near, slim, x2] steps=10',
      '',
      '',
      'dataset set dir="../files/set" glob="*.png"',
      'table all columns=[model,image,window,di,seconds] format=all rows=[grid,direct]',
      'image small lr="../files/lr.png"',
      'image b file="../files/hr2.png"',
      'lam direct kernel=5 sigma=0.5 model=near image=small window=(0,0,4,4) path=linear detector=intensity reduce=mean',
      'model x2 zoo="esrgan-slim/x2"',
      'image a file="../files/hr.png"',
      'model slim zoo="esrgan-slim/x4"',
      'model near file="../files/nearest_x4.onnx" scale=4 range=1   # defaults written out',
      'study name="sweeps" device=auto seed=0',
    ].join('\n');
    expect(keys(plan(shuffled, file))).toEqual(base);
  });

  test('renaming a statement keeps the keys of what it computes', () => {
    const renamed = text.replace(/\bnear\b/g, 'nearest');
    const after = plan(renamed, file);
    const k = keys(after);
    expect(k['model:nearest']).toBe(base['model:near']);
    expect(k['lam:grid#model=nearest_image=a_window=0-0-8-8']).toBe(base['lam:grid#model=near_image=a_window=0-0-8-8']);
  });

  test('a changed parameter changes that node and what depends on it, nothing else', () => {
    const after = keys(plan(text.replace('sigma=0.5', 'sigma=0.6'), file));
    const changed = Object.keys(base).filter((id) => after[id] !== base[id]).sort();
    expect(changed).toEqual(['lam:direct', 'table:all', 'table:one']);
  });

  test('the lvi version is part of every key', () => {
    const other = keys(plan(text, file, { lviVersion: '9.9.10' }));
    for (const id of Object.keys(base)) expect(other[id]).not.toBe(base[id]);
  });

  describe('input file contents', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lvi-keys-'));
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    test('changing a model file changes its node and its dependents only; moving the study folder changes nothing', () => {
      const copy = (dir: string) => {
        fs.cpSync(filesDir, path.join(dir, 'files'), { recursive: true });
        fs.mkdirSync(path.join(dir, 'valid'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'valid', 'sweeps.lvi'), text);
        return path.join(dir, 'valid', 'sweeps.lvi');
      };
      const a = copy(path.join(tmp, 'a'));
      const moved = keys(plan(text, a));
      expect(moved).toEqual(base);
      fs.appendFileSync(path.join(tmp, 'a', 'files', 'nearest_x4.onnx'), Buffer.from([0]));
      const after = keys(plan(text, a));
      const changed = Object.keys(base).filter((id) => after[id] !== base[id]);
      expect(changed).toContain('model:near');
      expect(changed).toContain('lam:direct');
      expect(changed.filter((id) => id.startsWith('lam:grid#model=near'))).toHaveLength(4);
      expect(changed.filter((id) => id.startsWith('lam:grid#model=slim'))).toHaveLength(0);
      expect(changed).not.toContain('model:slim');
      expect(changed).not.toContain('image:a');
      expect(changed).not.toContain('lr:a@x4');
    });
  });
});

describe('compile errors', () => {
  test('a missing study file is one clear diagnostic and no plan', () => {
    const r = compileStudy(path.join(validDir, 'does-not-exist.lvi'));
    expect(r.plan).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['file-not-found']);
    expect(r.diagnostics[0].message).toContain('does-not-exist.lvi');
  });

  test('a dataset whose glob matches nothing is reported with its folder', () => {
    const r = compileText('dataset d dir="../files/set" glob="*.jpg"', path.join(validDir, 'snippet.lvi'));
    expect(r.plan).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['file-not-found']);
    expect(r.diagnostics[0].message).toContain(path.join(filesDir, 'set'));
  });

  test('errors give no plan', () => {
    const r = compileText('lam e model=nothing', path.join(validDir, 'snippet.lvi'));
    expect(r.plan).toBeUndefined();
    expect(r.diagnostics.length).toBeGreaterThan(0);
  });

  test('without a study statement: name from the file, out/<name> beside it', () => {
    const p = plan(read('minimal.lvi'), path.join(validDir, 'minimal.lvi'));
    expect(p.study).toMatchObject({ name: 'minimal', device: 'auto', seed: 0 });
    expect(p.outDir).toBe(path.join(validDir, 'out', 'minimal'));
    expect(p.nodes.map((n) => n.id)).toEqual(['model:m', 'image:i', 'lr:i@x4', 'lam:lam']);
  });
});

test('a new kind is one catalogue entry: refs, sweeps and calls compile without compiler changes', async () => {
  const { CATALOGUE } = await import('../../src/compiler/index.js');
  const catalogue: Catalogue = {
    ...CATALOGUE,
    faig: {
      doc: 'Filter attribution (test entry)',
      runner: 'faig',
      name: 'required',
      analysis: true,
      params: {
        baseline: { type: { type: 'ref', kinds: ['model'] }, doc: 'baseline network', required: true },
        target: { type: { type: 'ref', kinds: ['model'] }, doc: 'target network', required: true },
        data: { type: { type: 'ref', kinds: ['dataset'] }, doc: 'images', required: true },
        degradation: {
          type: { type: 'call', functions: { blur: { doc: 'blur', args: { sigma: { type: { type: 'number', min: 0 }, doc: 'sigma', required: true } } } } },
          doc: 'degradation',
          sweep: true,
        },
        steps: { type: { type: 'int', min: 1 }, doc: 'steps', default: 100 },
      },
      example: 'faig f baseline=a target=b data=d degradation=blur(sigma=2)',
    },
  };
  const text = [
    'model base file="../files/nearest_x4.onnx"',
    'model target zoo="esrgan-slim/x4"',
    'dataset set dir="../files/set"',
    'faig deblur baseline=base target=target data=set degradation=[blur(sigma=1), blur(sigma=2)]',
    'table t rows=deblur columns=[steps, run]',
  ].join('\n');
  const p = plan(text, undefined, { catalogue });
  const runs = p.nodes.filter((n) => n.kind === 'faig');
  expect(runs.map((n) => n.runId)).toEqual(['degradation=blur-sigma-1', 'degradation=blur-sigma-2']);
  expect(runs[0].deps).toEqual({ baseline: 'model:base', target: 'model:target', data: 'dataset:set' });
  expect(runs[1].params).toMatchObject({ degradation: { call: 'blur', args: { sigma: 2 } }, steps: 100 });
  expect(p.nodes.find((n) => n.id === 'table:t')!.deps).toEqual({ 'rows[0]': runs[0].id, 'rows[1]': runs[1].id });
});

test('slug: short, filesystem-safe pieces of run ids', async () => {
  const { slug } = await import('../../src/compiler/index.js');
  expect(slug(-1)).toBe('-1');
  expect(slug(1.2)).toBe('1.2');
  expect(slug({ percent: 5 })).toBe('5pct');
  expect(slug([110, 150, 16, 16])).toBe('110-150-16-16');
  expect(slug({ call: 'noise', args: { sigma: 25.5 } })).toBe('noise-sigma-25.5');
  expect(slug({ ref: 'slim', kind: 'model', node: 'model:slim' })).toBe('slim');
  expect(slug('a/b c')).toBe('a-b-c');
  expect(slug('x'.repeat(60))).toHaveLength(40);
});

describe('a swept model-producing statement used as a model', () => {
  // A mask swept over shares is a family of models: a statement that takes one model runs once
  // per member, each run depending on its own mask (before: one run with no model at all).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvi-pinned-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = path.resolve(validDir, '../../../..');
  fs.copyFileSync(path.join(root, 'test/fixtures/models/msrresnet-x2-clean.onnx'), path.join(dir, 'a.onnx'));
  fs.copyFileSync(path.join(root, 'test/fixtures/models/msrresnet-x2-blind.onnx'), path.join(dir, 'b.onnx'));
  fs.copyFileSync(path.join(root, 'test/fixtures/lam/chelsea_256.png'), path.join(dir, 'cat.png'));
  const p = plan(
    `study "s" out="out"
model a file="a.onnx" scale=2
model b file="b.onnx" scale=2
image cat file="cat.png"
rank r baseline=a target=b
mask m model=b from=a filters=r share=[1%, 5%]
lam l model=m image=cat window=(0,0,4,4)
lam both model=[m, a] image=cat window=(0,0,4,4)
evaluate e models=[m, a] data=d degradations=[blur(sigma=1)]
dataset d dir="." glob="*.png"
`,
    path.join(dir, 'study.lvi'),
  );
  const node = (id: string) => p.nodes.find((n) => n.id === id)!;

  test('each run of the consumer depends on one run of the family', () => {
    expect(p.nodes.filter((n) => n.statement === 'l').map((n) => [n.id, n.deps.model])).toEqual([
      ['lam:l#model=m.share-1pct', 'mask:m#share=1pct'],
      ['lam:l#model=m.share-5pct', 'mask:m#share=5pct'],
    ]);
    expect(p.nodes.filter((n) => n.statement === 'both').map((n) => n.deps.model)).toEqual(['mask:m#share=1pct', 'mask:m#share=5pct', 'model:a']);
  });

  test('the runs get their scale from the mask\'s model, and a list that is not a sweep keeps every member', () => {
    expect(node('lam:l#model=m.share-1pct').deps.image).toBe('lr:cat@x2');
    expect(Object.entries(node('evaluate:e').deps).filter(([k]) => k.startsWith('models[')).map(([, v]) => v)).toEqual(['mask:m#share=1pct', 'mask:m#share=5pct', 'model:a']);
  });
});
