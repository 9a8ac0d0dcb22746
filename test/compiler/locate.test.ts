// locate(): what the cursor is on, for hover, completion and go-to-definition.
import { expect, test } from 'vitest';
import { locate, parseStudy } from '../../src/compiler/index.js';

/** Parse a snippet with a `<|>` cursor marker and locate the cursor. */
function at(snippet: string) {
  const offset = snippet.indexOf('<|>');
  const parsed = parseStudy(snippet.replace('<|>', ''), 'untitled:x.lvi');
  return locate(parsed, offset);
}

test('kind, name, key and value', () => {
  expect(at('la<|>m e model=slim')).toMatchObject({ part: 'kind', statement: { kind: 'lam' }, kindSpec: { runner: 'lam' } });
  expect(at('lam <|>e model=slim')).toMatchObject({ part: 'name' });
  const key = at('lam e mo<|>del=slim');
  expect(key).toMatchObject({ part: 'key', param: { key: 'model' }, paramSpec: { required: true } });
  const value = at('lam e model=sl<|>im');
  expect(value).toMatchObject({ part: 'value', param: { key: 'model' }, value: { $type: 'NameLit', name: 'slim' } });
});

test('inside lists, tuples and calls: the innermost value, and the call argument', () => {
  expect(at('lam e model=[slim, r<|>dn]').value).toMatchObject({ $type: 'NameLit', name: 'rdn' });
  expect(at('lam e window=(1,2,<|>3,4)').value).toMatchObject({ $type: 'NumberLit', value: 3 });
  const call = at('faig f degradation=blur(sig<|>ma=2)');
  expect(call).toMatchObject({ part: 'key', param: { key: 'degradation' }, arg: { key: 'sigma' }, call: { name: 'blur' } });
  expect(at('faig f degradation=blur(sigma=<|>2)')).toMatchObject({ part: 'value', arg: { key: 'sigma' }, value: { $type: 'NumberLit' } });
});

test('a continuation line belongs to its statement; comments and blank space are nothing', () => {
  expect(at('lam e model=slim\n    ste<|>ps=5')).toMatchObject({ part: 'key', statement: { name: 'e' }, param: { key: 'steps' } });
  expect(at('lam e model=slim  # a co<|>mment')).toEqual({ part: 'none' });
});
