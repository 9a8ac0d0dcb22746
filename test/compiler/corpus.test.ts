// Parser and checker corpora: valid studies are clean; each invalid study names, on every line,
// the diagnostic codes that must start there (`# expect: code, code`), and nothing else may appear.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkStudy, parseStudy } from '../../src/compiler/index.js';
import { corpusDir } from './helpers.js';

function studies(dir: string): string[] {
  return fs
    .readdirSync(path.join(corpusDir, dir))
    .filter((f) => f.endsWith('.lvi'))
    .map((f) => path.join(corpusDir, dir, f));
}

function expectations(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /# expect: (.*)$/.exec(line);
    if (m) for (const code of m[1].split(',')) out.push(`${i + 1}:${code.trim()}`);
  });
  return out.sort();
}

describe('valid corpus', () => {
  test.each(studies('valid').map((f) => [path.basename(f), f]))('%s has no diagnostics', (_name, file) => {
    const result = checkStudy(parseStudy(fs.readFileSync(file, 'utf8'), file));
    expect(result.diagnostics).toEqual([]);
    expect(result.statements.length).toBeGreaterThan(0);
  });
});

describe('syntax corpus', () => {
  test('the design examples parse without syntax errors', () => {
    const file = path.join(corpusDir, 'syntax', 'design-examples.lvi');
    const parsed = parseStudy(fs.readFileSync(file, 'utf8'), file);
    expect(parsed.diagnostics).toEqual([]);
    const st = parsed.ast.statements;
    expect(st.map((s) => s.kind)).toEqual([
      'study', 'model', 'model', 'model', 'image', 'lam', 'table', 'report',
      'dataset', 'model', 'model', 'faig', 'mask', 'features', 'embed', 'cluster', 'x',
    ]);
    // `model` is a kind at column 0 and a parameter inside statements.
    const lam = st[5];
    expect(lam.params.map((p) => p.key)).toEqual(['model', 'image', 'window', 'path', 'sigma', 'steps', 'kernel', 'detector']);
    const faig = st[11];
    expect(faig.params.map((p) => [p.key, p.value.$type])).toEqual([
      ['baseline', 'NameLit'],
      ['target', 'NameLit'],
      ['data', 'NameLit'],
      ['degradation', 'CallLit'],
      ['versus', 'CallLit'],
      ['steps', 'NumberLit'],
    ]);
    const mask = st[12].params.find((p) => p.key === 'top')!.value;
    expect(mask.$type === 'ListLit' && mask.items.map((v) => v.$type === 'NumberLit' && [v.value, v.percent])).toEqual([
      [1, true],
      [5, true],
    ]);
    const x = st[16];
    expect(x.name).toBe('y');
    const values = Object.fromEntries(x.params.map((p) => [p.key, p.value]));
    expect(values.r).toMatchObject({ $type: 'RangeLit', from: 0, to: 1 });
    expect(values.neg).toMatchObject({ $type: 'NumberLit', value: -3 });
    expect(values.exp).toMatchObject({ $type: 'NumberLit', value: 1e-5 });
    expect(values.s).toMatchObject({ $type: 'StringLit', value: 'single' });
    expect(values.empty).toMatchObject({ $type: 'ListLit', items: [] });
    expect(values.t).toMatchObject({ $type: 'TupleLit', items: [] });
    expect(values.nested.$type).toBe('ListLit');
    // The study name is a string; names with hyphens are one name.
    expect(st[0].name).toBe('lam-edges');
    expect(st[15].params.find((p) => p.key === 'index')!.value).toMatchObject({
      items: [{ name: 'calinski-harabasz' }, { name: 'silhouette' }],
    });
  });
});

describe('invalid corpus', () => {
  test.each(studies('invalid').map((f) => [path.basename(f), f]))('%s reports exactly the expected codes, each on its line', (_name, file) => {
    const text = fs.readFileSync(file, 'utf8');
    const result = checkStudy(parseStudy(text, file));
    const actual = result.diagnostics.map((d) => `${d.line}:${d.code}`).sort();
    expect(actual).toEqual(expectations(text));
  });

  test('ten mistakes: ten lines with diagnostics, one pass', () => {
    const file = path.join(corpusDir, 'invalid', 'ten-mistakes.lvi');
    const result = checkStudy(parseStudy(fs.readFileSync(file, 'utf8'), file));
    expect(new Set(result.diagnostics.map((d) => d.line)).size).toBe(8);
    expect(new Set(result.diagnostics.map((d) => d.code)).size).toBe(10);
  });
});
