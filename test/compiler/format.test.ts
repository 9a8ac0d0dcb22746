// The formatter: canonical layout, idempotent, comments kept, meaning unchanged.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { StudySyntaxError, formatStudy, parseStudy } from '../../src/compiler/index.js';
import { corpusDir } from './helpers.js';

/** Statements as plain data, for "the meaning did not change". */
function meaning(text: string) {
  return parseStudy(text).ast.statements.map((s) => ({
    kind: s.kind,
    name: s.name,
    params: s.params.map((p) => [p.key, p.value.$cstNode?.text.replace(/\s+/g, '')]),
  }));
}

const studies = ['valid', 'syntax'].flatMap((dir) =>
  fs.readdirSync(path.join(corpusDir, dir)).filter((f) => f.endsWith('.lvi')).map((f) => path.join(corpusDir, dir, f)),
);

describe('every corpus study', () => {
  test.each(studies.map((f) => [path.relative(corpusDir, f), f]))('%s: idempotent, same meaning, comments kept', (_n, file) => {
    const text = fs.readFileSync(file, 'utf8');
    const once = formatStudy(text);
    expect(formatStudy(once)).toBe(once);
    expect(meaning(once)).toEqual(meaning(text));
    const comments = (t: string) => t.match(/#[^\n]*/g)?.map((c) => c.trimEnd()) ?? [];
    expect(comments(once)).toEqual(comments(text));
  });
});

test('canonical layout', () => {
  const messy = [
    '',
    '  # leading comment',
    'study   "s"    seed = 3',
    '',
    '',
    '',
    'model m   file = "a.onnx"     # trailing comment   ',
    'lam e model = [ m , m2 ] window = ( 1 , 2 , 3 , 4 )',
    '        sigma=1.20   top=[ 1 % , 5% ]  d = blur ( sigma = 2 , k=1 ) r = 0 .. 1',
    '# between continuation lines',
    '  steps=5',
    '',
  ].join('\r\n');
  expect(formatStudy(messy)).toBe(
    [
      '    # leading comment',
      'study "s" seed=3',
      '',
      'model m file="a.onnx"  # trailing comment',
      'lam e model=[m, m2] window=(1,2,3,4)',
      '    sigma=1.20 top=[1%, 5%] d=blur(sigma=2, k=1) r=0..1',
      '# between continuation lines',
      '    steps=5',
      '',
    ].join('\n'),
  );
});

test('an empty study formats to nothing', () => {
  expect(formatStudy('')).toBe('');
  expect(formatStudy('\n\n# only a comment\n')).toBe('# only a comment\n');
});

test('a study with syntax errors is not formatted', () => {
  expect(() => formatStudy('model m file=(\n')).toThrow(StudySyntaxError);
  try {
    formatStudy('model m file=(\nlam = 3\n');
  } catch (e) {
    expect((e as StudySyntaxError).diagnostics.map((d) => d.code)).toEqual(['syntax', 'syntax']);
  }
});

test('a byte-order mark is dropped, not an error', () => {
  expect(formatStudy('\ufeffmodel m zoo="rdn/x4"\n')).toBe('model m zoo="rdn/x4"\n');
});
