// docs/language.md is generated from the catalogue and must be current; the catalogue itself
// must be coherent (every default fits its type, every example parses).
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { CATALOGUE, checkStudy, parseStudy, renderLanguageReference } from '../../src/compiler/index.js';
import { writeDefault } from '../../src/compiler/docs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('docs/language.md is current (regenerate with `npm run docs`)', () => {
  const onDisk = fs.readFileSync(path.join(root, 'docs', 'language.md'), 'utf8');
  expect(onDisk).toBe(renderLanguageReference());
});

test('the reference documents every kind, parameter and diagnostic code', () => {
  const doc = renderLanguageReference();
  for (const [kind, spec] of Object.entries(CATALOGUE)) {
    expect(doc).toContain(`## ${kind}\n`);
    for (const p of Object.keys(spec.params)) expect(doc).toContain(`| \`${p}\` |`);
  }
  expect(doc).toContain('`unresolved-ref`');
});

describe('catalogue', () => {
  test.each(Object.entries(CATALOGUE))('%s: example parses and uses only known parameters', (kind, spec) => {
    const parsed = parseStudy(spec.example, 'untitled:example.lvi');
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.ast.statements[0].kind).toBe(kind);
    const codes = checkStudy(parsed).diagnostics.map((d) => d.code);
    for (const bad of ['syntax', 'unknown-kind', 'unknown-param', 'wrong-type', 'out-of-range', 'unknown-value']) expect(codes).not.toContain(bad);
    expect(spec.doc.length).toBeGreaterThan(10);
    for (const p of Object.values(spec.params)) expect(p.doc.length).toBeGreaterThan(5);
  });

  test.each(Object.entries(CATALOGUE))('%s: every default passes its own type check', (kind, spec) => {
    const params = Object.entries(spec.params)
      .filter(([, p]) => p.default !== undefined)
      .map(([k, p]) => `${k}=${writeDefault(p.default!, p.type)}`);
    if (params.length === 0) return;
    const codes = checkStudy(parseStudy(`${kind} n ${params.join(' ')}`, 'untitled:defaults.lvi')).diagnostics.map((d) => d.code);
    expect(codes.filter((c) => c !== 'missing-param' && c !== 'missing-name')).toEqual([]);
  });
});

test('hover texts come from the catalogue, with the x4 note for file models', async () => {
  const { kindHover, paramHover } = await import('../../src/compiler/index.js');
  expect(kindHover('lam')).toContain('`window` (required)');
  expect(kindHover('nope')).toBeUndefined();
  const scale = paramHover('model', 'scale')!;
  expect(scale).toContain('default: from the zoo id; 4 for a file');
  expect(scale).toContain('taken to be x4');
  expect(paramHover('lam', 'sigma')).toContain('default: 1.2 · a list sweeps it');
  expect(paramHover('lam', 'nope')).toBeUndefined();
});
