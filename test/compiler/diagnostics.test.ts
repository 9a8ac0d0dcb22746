// One test per diagnostic code, matched by code and by the exact source text its range covers
// (never by wording). A last test makes sure no code is left without one.
import { describe, expect, test } from 'vitest';
import { DIAGNOSTIC_CODES, renderDiagnostic, type Catalogue, type Severity } from '../../src/compiler/index.js';
import { check, covered } from './helpers.js';

const decl = `model slim zoo="esrgan-slim/x4"\nmodel near file="../files/nearest_x4.onnx"\nimage chelsea file="../files/hr.png"\n`;

interface Case {
  code: keyof typeof DIAGNOSTIC_CODES;
  study: string;
  /** The text the (only) diagnostic's range must cover. */
  at: string;
  suggestion?: string;
  severity?: Severity;
}

const cases: Case[] = [
  { code: 'syntax', study: `${decl}lam e model=slim image=chelsea window=(1,2,3,4 steps=5`, at: 'steps' },
  { code: 'unknown-kind', study: `${decl}lamm e model=slim`, at: 'lamm', suggestion: 'lam' },
  { code: 'unknown-param', study: `${decl}lam e model=slim image=chelsea window=(1,2,3,4) sigmma=1`, at: 'sigmma', suggestion: 'sigma' },
  { code: 'duplicate-param', study: `${decl}lam e model=slim image=chelsea window=(1,2,3,4) steps=5 steps=6`, at: 'steps' },
  { code: 'wrong-type', study: `${decl}lam e model=slim image=chelsea window=(1,2,3,4) steps="ten"`, at: '"ten"' },
  { code: 'out-of-range', study: `${decl}lam e model=slim image=chelsea window=(1,2,3,4) kernel=8`, at: '8' },
  { code: 'unknown-value', study: `${decl}lam e model=slim image=chelsea window=(1,2,3,4) path=progresive-blur`, at: 'progresive-blur', suggestion: 'progressive-blur' },
  { code: 'bad-format', study: 'model m zoo="ESRGAN slim"', at: '"ESRGAN slim"' },
  { code: 'missing-param', study: `${decl}lam e model=slim image=chelsea`, at: 'lam e' },
  { code: 'missing-name', study: 'image file="../files/hr.png"', at: 'image' },
  { code: 'duplicate-name', study: `${decl}image slim file="../files/hr2.png"`, at: 'slim' },
  { code: 'duplicate-statement', study: 'report\nreport title="again"', at: 'report' },
  { code: 'unresolved-ref', study: `${decl}lam e model=slimm image=chelsea window=(1,2,3,4)`, at: 'slimm', suggestion: 'slim' },
  { code: 'wrong-ref-kind', study: `${decl}lam e model=chelsea image=chelsea window=(1,2,3,4)`, at: 'chelsea' },
  { code: 'file-not-found', study: 'image a file="../files/nope.png"', at: '"../files/nope.png"' },
  { code: 'wrong-file-type', study: 'model m file="../files/hr.png"', at: '"../files/hr.png"' },
  { code: 'not-an-image', study: 'image a file="../files/not-an-image.png"', at: '"../files/not-an-image.png"' },
  { code: 'conflicting-params', study: 'model m file="../files/nearest_x4.onnx" zoo="rdn/x4"', at: 'zoo' },
  { code: 'not-sweepable', study: `${decl}lam e model=slim image=chelsea window=(1,2,3,4) batch=[1, 2]`, at: '[1, 2]' },
  { code: 'duplicate-value', study: `${decl}lam e model=[slim, near, slim] image=chelsea window=(1,2,3,4)`, at: 'slim' },
  { code: 'empty-list', study: `${decl}lam e model=[] image=chelsea window=(1,2,3,4)`, at: '[]' },
  { code: 'too-deep', study: `${decl}lam e model=slim image=chelsea window=${'('.repeat(40)}`, at: '(' },
  { code: 'path-escapes', study: 'study "s" out="../elsewhere"', at: '"../elsewhere"' },
  {
    code: 'shadowed-name',
    study: `${decl}dataset clean dir="../files/set" glob="*.png" lr=true\nfeatures f model=near layer="output" degradations=[clean] data=clean`,
    at: 'clean',
    severity: 'warning',
  },
  { code: 'too-large', study: `${decl}${'# a long comment line to make the study too large\n'.repeat(12_000)}`, at: 'm' },
];

describe('one diagnostic per code', () => {
  test.each(cases.map((c) => [c.code, c]))('%s', (_code, c) => {
    const { diagnostics } = check(c.study);
    expect(diagnostics.map((d) => d.code)).toEqual([c.code]);
    const d = diagnostics[0];
    expect(covered(c.study, d)).toBe(c.at);
    expect(d.severity).toBe(c.severity ?? 'error');
    expect(d.line).toBe(d.range.start.line + 1);
    expect(d.column).toBe(d.range.start.character + 1);
    expect(d.suggestion?.text).toBe(c.suggestion);
    if (d.suggestion) expect(d.suggestion.range).toEqual(d.range);
    expect(d.message.length).toBeGreaterThan(10);
  });

  test('every code has a case', () => {
    expect(new Set(cases.map((c) => c.code))).toEqual(new Set(Object.keys(DIAGNOSTIC_CODES)));
  });
});

describe('details', () => {
  test('paths resolve from the study file\'s folder', () => {
    expect(check('image a file="../files/hr.png"').diagnostics).toEqual([]);
    expect(check('image a file="files/hr.png"').diagnostics.map((d) => d.code)).toEqual(['file-not-found']);
  });

  test('sweep items are checked one by one, each at its place', () => {
    const text = `${decl}lam e model=[slim, imag, chelsea] image=chelsea window=[(1,2,3,4), (1,2,0,4)]`;
    const { diagnostics } = check(text);
    expect(diagnostics.map((d) => [d.code, covered(text, d)])).toEqual([
      ['unresolved-ref', 'imag'],
      ['wrong-ref-kind', 'chelsea'],
      ['out-of-range', '0'],
    ]);
  });

  test('zoo scale contradicting scale= is a conflict; an agreeing one is fine', () => {
    expect(check('model m zoo="rdn/x4" scale=4').diagnostics).toEqual([]);
    expect(check('model m zoo="rdn/x4" scale=2').diagnostics.map((d) => d.code)).toEqual(['conflicting-params']);
  });

  test('missing-param names what is missing in data', () => {
    const { diagnostics } = check('lam');
    expect(diagnostics.map((d) => d.data?.param)).toEqual(['model', 'image', 'window']);
  });

  test('enum given as a string suggests the bare word', () => {
    const text = 'study device="cpu"';
    const [d] = check(text).diagnostics;
    expect(d.code).toBe('wrong-type');
    expect(d.suggestion?.text).toBe('cpu');
  });

  test('table rows accept one analysis or a list; columns come from the allowed set', () => {
    const base = `${decl}lam e model=slim image=chelsea window=(1,2,3,4)\n`;
    expect(check(`${base}table t rows=e`).diagnostics).toEqual([]);
    expect(check(`${base}table t rows=[e] columns=[model, di]`).diagnostics).toEqual([]);
    const text = `${base}table t rows=slim columns=[model, dii]`;
    expect(check(text).diagnostics.map((d) => [d.code, covered(text, d), d.suggestion?.text])).toEqual([
      ['wrong-ref-kind', 'slim', undefined],
      ['unknown-value', 'dii', 'di'],
    ]);
  });

  test('zoo ids come from the zoo: unknown ones get a did-you-mean, ids without /xN are fine', () => {
    expect(check('model d zoo="default-model"').diagnostics).toEqual([]);
    const text = 'model m zoo="esrgan-slim/x5"';
    expect(check(text).diagnostics.map((d) => [d.code, covered(text, d), d.suggestion?.text])).toEqual([
      ['unknown-value', '"esrgan-slim/x5"', '"esrgan-slim/x2"'],
    ]);
  });

  test('a list that needs distinct values names the repeated one', () => {
    const text = `${decl}lam e model=slim image=chelsea window=(1,2,3,4)\ntable t rows=e columns=[di, model, di]`;
    const d = check(text).diagnostics;
    expect(d.map((x) => [x.code, x.range.start.line, x.range.start.character])).toEqual([['duplicate-value', 4, text.split('\n')[4].lastIndexOf('di')]]);
  });

  test('a LAM window must fit the HR image at each model\'s scale', () => {
    // hr.png is 32x32; lr.png is 8x8 (32x32 at x4, 16x16 at x2).
    const models = 'model x4 zoo="esrgan-slim/x4"\nmodel x2 zoo="esrgan-slim/x2"\nmodel f file="../files/nearest_x4.onnx"\n';
    const images = 'image hr file="../files/hr.png"\nimage lr lr="../files/lr.png"\n';
    const ok = `${models}${images}lam e model=[x4, x2, f] image=[hr, lr] window=[(0,0,16,16), (8,8,8,8)]\n`;
    expect(check(ok).diagnostics).toEqual([]);
    const text = `lam e model=[x4, x2] image=[hr, lr] window=[(0,0,16,16), (17,0,16,16), (0,0,4,20)]\n${models}${images}`;
    const d = check(text).diagnostics;
    expect(d.map((x) => [x.code, covered(text, x), x.data?.image, x.data?.model])).toEqual([
      ['out-of-range', '(17,0,16,16)', 'hr', 'x4'],
      ['out-of-range', '(0,0,4,20)', 'lr', 'x2'],
    ]);
  });

  test('a statement that does not start its own line is a syntax error at its kind', () => {
    for (const text of ['model a zoo="rdn/x4" model b zoo="rdn/x2"', 'model a zoo="rdn/x4"\n  model b zoo="rdn/x2"']) {
      const d = check(text).diagnostics;
      expect(d.map((x) => [x.code, covered(text, x)])).toEqual([['syntax', 'b']]);
      expect(d[0].message).toContain('own line');
    }
  });

  test('forward references resolve', () => {
    expect(check('lam e model=m image=i window=(0,0,4,4)\nmodel m zoo="rdn/x4"\nimage i file="../files/hr.png"').diagnostics).toEqual([]);
  });

  test('renderDiagnostic prints file:line:col, the line and a caret underline', () => {
    const text = `${decl}lam e model=slim image=chelsea window=(1,2,3,4) sigmma=1`;
    const [d] = check(text).diagnostics;
    expect(renderDiagnostic(d, text, 'study.lvi')).toBe(
      [
        `study.lvi:4:49: error[unknown-param]: ${d.message}`,
        '4 | lam e model=slim image=chelsea window=(1,2,3,4) sigmma=1',
        '  |                                                 ^^^^^^',
        '  = help: did you mean `sigma`?',
      ].join('\n'),
    );
  });
});

describe('types the current kinds do not use yet (a test catalogue)', () => {
  const catalogue: Catalogue = {
    probe: {
      doc: 'test kind',
      runner: 'probe',
      name: 'optional',
      params: {
        share: { type: { type: 'percent', max: 50 }, doc: 'a share' },
        flag: { type: { type: 'bool' }, doc: 'a flag' },
        span: { type: { type: 'range', min: 0, max: 255 }, doc: 'a value range' },
        degradation: {
          type: {
            type: 'call',
            functions: {
              blur: { doc: 'Gaussian blur', args: { sigma: { type: { type: 'number', min: 0 }, doc: 'sigma', required: true } } },
              noise: { doc: 'Gaussian noise', args: { sigma: { type: { type: 'number', min: 0 }, doc: 'sigma', default: 10 } } },
            },
          },
          doc: 'a degradation',
          sweep: true,
        },
      },
      example: 'probe share=5% flag=true span=0..1 degradation=blur(sigma=2)',
    },
  };
  const run = (text: string) => check(text, { catalogue }).diagnostics.map((d) => [d.code, covered(text, d), d.suggestion?.text]);

  test('valid values pass', () => {
    expect(run('probe share=5% flag=true span=0..1 degradation=[blur(sigma=2), noise, noise(sigma=3)]')).toEqual([]);
  });

  test('each wrong value is reported at its place', () => {
    expect(run('probe share=5 flag=yes span=1..0 degradation=blurr(sigma=2)')).toEqual([
      ['wrong-type', '5', '5%'],
      ['wrong-type', 'yes', undefined],
      ['out-of-range', '1..0', undefined],
      ['unknown-value', 'blurr', 'blur'],
    ]);
    expect(run('probe share=60% span=0..300 degradation=blur(sigmaa=2)')).toEqual([
      ['out-of-range', '60%', undefined],
      ['out-of-range', '0..300', undefined],
      ['unknown-param', 'sigmaa', 'sigma'],
    ]);
    expect(run('probe degradation=blur()')).toEqual([['missing-param', 'blur()', undefined]]);
  });
});

test('a misspelt required parameter is reported once, as the misspelling', () => {
  const text = `${decl}lam e modle=slim image=chelsea window=(1,2,3,4)`;
  expect(check(text).diagnostics.map((d) => [d.code, covered(text, d), d.suggestion?.text])).toEqual([['unknown-param', 'modle', 'model']]);
});

test('a study that is not a file on disk skips file checks', async () => {
  const { parseStudy, checkStudy } = await import('../../src/compiler/index.js');
  const parsed = parseStudy('image a file="nowhere.png"', 'untitled:Untitled-1');
  expect(checkStudy(parsed).diagnostics).toEqual([]);
});
