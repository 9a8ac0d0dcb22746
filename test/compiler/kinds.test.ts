// A kind is its catalogue entry plus its method folder: what the compiler, the checker, the
// table, the report and the editor derive from an entry, and the wrong results this prevents.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { CATALOGUE, compileText, refKinds, type Catalogue } from '../../src/compiler/index.js';
import { tableColumns } from '../../grammar/catalogue.js';
import { datasetFiles } from '../../src/compiler/glob.js';
import { listDataset } from '../../src/runtime/kernels/dataset.js';
import { loadRunners } from '../../src/runtime/runners.js';
import { analysisCost } from '../../src/lsp/cost.js';
import { corpusDir } from './helpers.js';

const snippet = path.join(corpusDir, 'valid', 'snippet.lvi');

/** A test kind that makes a model from another, as `mask` does. */
const withMask: Catalogue = {
  ...CATALOGUE,
  masked: {
    doc: 'a model made from another (test entry)',
    runner: 'masked',
    name: 'required',
    produces: 'model',
    modelFrom: 'model',
    params: { model: { type: { type: 'ref', kinds: ['model'] }, doc: 'source', required: true } },
    example: 'masked m model=a',
  },
  scorer: {
    doc: 'an analysis with its own results (test entry)',
    runner: 'scorer',
    name: 'optional',
    analysis: true,
    results: { silhouette: { doc: 'a score', type: 'number' } },
    columns: ['silhouette'],
    cost: () => ({ forward: 1, backward: 0 }),
    params: { model: { type: { type: 'ref', kinds: ['model'] }, doc: 'a model', required: true } },
    example: 'scorer model=a',
  },
};

describe('every kind of the catalogue', () => {
  test('analysis kinds declare their cost, results and default columns', () => {
    const analyses = Object.entries(CATALOGUE).filter(([, s]) => s.analysis);
    expect(analyses.length).toBeGreaterThanOrEqual(1);
    for (const [name, spec] of analyses) {
      expect(spec.cost, `${name}.cost`).toBeTypeOf('function');
      expect(Object.keys(spec.results ?? {}), `${name}.results`).not.toHaveLength(0);
      for (const c of spec.columns ?? []) expect(tableColumns(CATALOGUE, [name]), `${name} column ${c}`).toContain(c);
      const cost = spec.cost!(Object.fromEntries(Object.entries(spec.params).map(([k, p]) => [k, p.default as unknown])));
      // No passes at all only where the kind says why (a mask writes a file; a filter-change ranking reads weights).
      if (cost.forward + cost.backward === 0) expect(cost.note, `${name} passes`).toMatch(/\w/);
    }
  });

  test('every kind with a runner loads one of that kind, lazily', async () => {
    const lookup = await loadRunners();
    for (const [name, spec] of Object.entries(CATALOGUE)) {
      if (!spec.runner) continue;
      expect(spec.load, `${name}.load`).toBeTypeOf('function');
      expect(lookup(spec.runner)?.kind, name).toBe(spec.runner);
    }
    expect(lookup('derive-lr')?.kind).toBe('derive-lr');
  });

  test('a kind that produces a model is accepted where a model is expected', () => {
    expect(refKinds(['model'], withMask)).toEqual(['model', 'mask', 'masked']);
    expect(refKinds(['analysis'], withMask)).toEqual([...Object.keys(CATALOGUE).filter((k) => CATALOGUE[k].analysis), 'scorer']);
  });
});

describe('a model made by another statement', () => {
  const text = (image: string) =>
    [
      'model base file="../files/nearest_x4.onnx" scale=2',
      'masked m model=base',
      `image cat file="${image}"`,
      'lam l model=m image=cat window=(0,0,8,8)',
    ].join('\n');

  test('keeps the scale of the model it is made from (it used to be taken as x4)', () => {
    const r = compileText(text('../files/hr.png'), snippet, { catalogue: withMask });
    expect(r.diagnostics).toEqual([]);
    const lam = r.plan!.nodes.find((n) => n.kind === 'lam')!;
    expect(lam.deps.image).toBe('lr:cat@x2');
  });

  test('gets the window check at that scale', () => {
    const r = compileText(text('../files/hr.png').replace('(0,0,8,8)', '(60,0,8,8)'), snippet, { catalogue: withMask });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['out-of-range']);
    expect(r.diagnostics[0].message).toMatch(/x2 model `m`/);
  });
});

describe('tables', () => {
  const study = (columns: string) => ['model a zoo="esrgan-slim/x4"', 'scorer s model=a', `table t rows=s${columns}`].join('\n');

  test("a kind's own results are columns (silhouette was rejected: the list was LAM's)", () => {
    const all = withColumns(withMask);
    const r = compileText(study(' columns=[model, silhouette]'), snippet, { catalogue: all });
    expect(r.diagnostics).toEqual([]);
  });

  test('a column the rows do not have is an error at its place', () => {
    const r = compileText(study(' columns=[silhouette, di]'), snippet, { catalogue: withColumns(withMask) });
    expect(r.diagnostics.map((d) => [d.code, d.range.start.character])).toEqual([['unknown-value', 36]]);
    expect(r.diagnostics[0].message).toMatch(/scorer runs have no column `di`/);
  });

  test('without columns=, the rows kinds default columns', () => {
    const r = compileText(study(''), snippet, { catalogue: withColumns(withMask) });
    expect(r.plan!.nodes.find((n) => n.kind === 'table')!.params.columns).toEqual(['silhouette']);
  });
});

describe('hover cost', () => {
  test('comes from the kind, so a kind without one shows no made-up zero passes', async () => {
    const { studyFromText } = await import('../../src/lsp/study.js');
    const { createEnvironment } = await import('../../src/lsp/environment.js');
    const view = studyFromText('model a zoo="esrgan-slim/x4"\nlam l model=a image=a window=(0,0,4,4) steps=7\n', 'untitled:s.lvi', CATALOGUE);
    const st = view.parsed.ast!.statements[1]!;
    expect(analysisCost(view, st, createEnvironment())).toMatchObject({ forwardPerRun: 8, backwardPerRun: 7 });
    const noCost = { ...CATALOGUE, lam: { ...CATALOGUE.lam, cost: undefined } };
    const view2 = studyFromText('model a zoo="esrgan-slim/x4"\nlam l model=a image=a window=(0,0,4,4)\n', 'untitled:s.lvi', noCost);
    expect(analysisCost(view2, view2.parsed.ast!.statements[1]!, createEnvironment())).toBeUndefined();
  });
});

describe('one glob for checking, hashing and reading', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvi-glob-'));
  const png = fs.readFileSync(path.join(corpusDir, 'files', 'hr.png'));
  fs.mkdirSync(path.join(dir, 'data', 'sub'), { recursive: true });
  for (const f of ['a.png', 'b.png', 'c.png', 'sub/d.png']) fs.writeFileSync(path.join(dir, 'data', f), png);
  const cases: [string, string[]][] = [
    ['{a,b}.png', ['a.png', 'b.png']],
    ['**/*.png', ['a.png', 'b.png', 'c.png', 'sub/d.png']],
    ['[ab].png', ['a.png', 'b.png']],
    ['*.png', ['a.png', 'b.png', 'c.png']],
  ];
  for (const [glob, expected] of cases) {
    test(`${glob}: lvi check, the content key and the dataset runner see the same files`, () => {
      const r = compileText(`dataset d dir="data" glob="${glob}"\n`, path.join(dir, 's.lvi'));
      expect(r.diagnostics).toEqual([]);
      const node = r.plan!.nodes.find((n) => n.kind === 'dataset')!;
      const hashed = Object.keys(node.files).map((f) => path.relative(path.join(dir, 'data'), f).split(path.sep).join('/'));
      expect(hashed).toEqual(expected);
      expect(datasetFiles(path.join(dir, 'data'), glob)).toEqual(expected);
      expect(listDataset(path.join(dir, 'data'), glob).files.map((f) => path.relative(path.join(dir, 'data'), f).split(path.sep).join('/'))).toEqual(expected);
    });
  }
});

/** A catalogue whose table accepts its own kinds' columns (CATALOGUE's table is filled for its own). */
function withColumns(c: Catalogue): Catalogue {
  const cols = tableColumns(c);
  const table = c.table!;
  return { ...c, table: { ...table, params: { ...table.params, columns: { ...table.params.columns!, type: { type: 'list', of: { type: 'enum', values: cols }, single: true, unique: true } } } } };
}

describe('degradations as values', () => {
  test('calls, clean and LR datasets in one list; datasets become dependencies', async () => {
    const { DEGRADATIONS } = await import('../../grammar/kinds/degradations.js');
    const catalogue: Catalogue = {
      ...CATALOGUE,
      probe: {
        doc: 'test kind',
        runner: 'probe',
        name: 'optional',
        params: {
          data: { type: { type: 'ref', kinds: ['dataset'] }, doc: 'HR images', required: true },
          degradations: { type: DEGRADATIONS, doc: 'degradations', required: true },
        },
        example: 'probe data=d degradations=[clean]',
      },
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvi-deg-'));
    const png = fs.readFileSync(path.join(corpusDir, 'files', 'hr.png'));
    fs.mkdirSync(path.join(dir, 'hr'));
    fs.mkdirSync(path.join(dir, 'lr'));
    fs.writeFileSync(path.join(dir, 'hr', 'a.png'), png);
    fs.writeFileSync(path.join(dir, 'lr', 'a.png'), png);
    const text = ['study seed=7', 'dataset gt dir="hr"', 'dataset blurry dir="lr" lr=true', 'probe data=gt degradations=[clean, blur(sigma=2), noise(sigma=0.1), blurry]'].join('\n');
    const r = compileText(text, path.join(dir, 's.lvi'), { catalogue });
    expect(r.diagnostics).toEqual([]);
    const node = r.plan!.nodes.find((n) => n.kind === 'probe')!;
    expect(node.params.degradations).toEqual([
      { call: 'clean', args: {} },
      { call: 'blur', args: { sigma: 2, size: 21 } },
      { call: 'noise', args: { sigma: 0.1, seed: 7 } },
      { ref: 'blurry', kind: 'dataset', node: 'dataset:blurry' },
    ]);
    expect(node.deps).toEqual({ data: 'dataset:gt', 'degradations[0]': 'dataset:blurry' });
    expect(r.plan!.nodes.find((n) => n.id === 'dataset:blurry')!.params.lr).toBe(true);
    const bad = compileText(text.replace('blur(sigma=2)', 'blr(sigma=2)'), path.join(dir, 's.lvi'), { catalogue });
    expect(bad.diagnostics.map((d) => d.code)).toEqual(['unknown-value']);
    expect(bad.diagnostics[0].message).toMatch(/did you mean `blur`/);
  });
});

describe("a kind's check reads a model file's tensors without running it", () => {
  test('a layer the model does not have is an error at its place, with the names it has', async () => {
    const { modelFacts } = await import('../../src/compiler/kind-check.js');
    const facts = modelFacts(path.join(corpusDir, 'files', 'nearest_x4.onnx'))!;
    expect(facts.tensors.length).toBeGreaterThan(1);
    const layer = facts.tensors[facts.tensors.length - 1];
    const catalogue: Catalogue = {
      ...CATALOGUE,
      probe: {
        doc: 'test kind',
        runner: 'probe',
        name: 'optional',
        params: {
          model: { type: { type: 'ref', kinds: ['model'] }, doc: 'a model', required: true },
          layer: { type: { type: 'string' }, doc: 'a tensor', required: true },
        },
        check(st, c) {
          const g = c.modelGraph(c.statement(st.value('model')));
          const l = st.value('layer');
          if (g && typeof l === 'string' && !g.tensors.includes(l)) c.accept('unknown-value', `no tensor ${l} (has ${g.tensors.length})`, { param: 'layer' });
        },
        example: 'probe model=m layer="x"',
      },
    };
    const ok = compileText(`model m file="../files/nearest_x4.onnx"\nprobe model=m layer="${layer}"\n`, snippet, { catalogue });
    expect(ok.diagnostics).toEqual([]);
    const bad = compileText('model m file="../files/nearest_x4.onnx"\nprobe model=m layer="nope"\n', snippet, { catalogue });
    expect(bad.diagnostics.map((d) => [d.code, d.range.start.line, d.range.start.character])).toEqual([['unknown-value', 1, 20]]);
  });
});
