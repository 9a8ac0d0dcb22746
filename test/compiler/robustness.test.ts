// Mangled studies (characters deleted, duplicated or replaced, lines swapped) never crash the
// checker, the compiler or the formatter, and every diagnostic points inside the text.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { StudySyntaxError, checkStudy, compileText, formatStudy, parseStudy } from '../../src/compiler/index.js';
import { corpusDir } from './helpers.js';

/** mulberry32: a small seeded generator, so failures reproduce. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Statements as plain data: formatting must not change it. */
function meaning(text: string) {
  return parseStudy(text).ast.statements.map((s) => s && [s.kind, s.name, s.params.map((p) => [p.key, p.value?.$cstNode?.text.replace(/\s+/g, '')])]);
}

const pieces = ['=', '(', ')', '[', ']', ',', '%', '..', '"', '#', '\n', '\n    ', ' ', 'model', 'x', '-', '1.5', '@'];

function mangle(text: string, rand: () => number): string {
  let t = text;
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (t.length + 1));
    const op = rand();
    if (op < 0.35) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(rand() * 3));
    else if (op < 0.8) t = t.slice(0, at) + pieces[Math.floor(rand() * pieces.length)] + t.slice(at);
    else {
      const lines = t.split('\n');
      const a = Math.floor(rand() * lines.length);
      const b = Math.floor(rand() * lines.length);
      [lines[a], lines[b]] = [lines[b], lines[a]];
      t = lines.join('\n');
    }
  }
  return t;
}

test('300 mangled corpus studies: no crash, every range inside the text, formatting idempotent', () => {
  const files = ['valid/lam-edges.lvi', 'valid/sweeps.lvi', 'syntax/design-examples.lvi'].map((f) => path.join(corpusDir, f));
  const rand = rng(42);
  let withErrors = 0;
  let formatted = 0;
  for (let i = 0; i < 300; i++) {
    const file = files[i % files.length];
    const text = mangle(fs.readFileSync(file, 'utf8'), rand);
    const result = checkStudy(parseStudy(text, file));
    const lines = text.split('\n');
    for (const d of result.diagnostics) {
      expect(d.range.start.line, `${d.code} in:\n${text}`).toBeLessThan(lines.length);
      expect(d.range.start.character).toBeLessThanOrEqual(lines[d.range.start.line].length);
      expect(d.range.end.line * 1e6 + d.range.end.character).toBeGreaterThanOrEqual(d.range.start.line * 1e6 + d.range.start.character);
    }
    if (result.diagnostics.some((d) => d.code === 'syntax')) withErrors++;
    compileText(text, file);
    try {
      const once = formatStudy(text, file);
      expect(formatStudy(once, file)).toBe(once);
      expect(meaning(once)).toEqual(meaning(text));
      formatted++;
    } catch (e) {
      expect(e).toBeInstanceOf(StudySyntaxError);
    }
  }
  // The mangling must actually break things often, or this test proves little.
  expect(withErrors).toBeGreaterThan(100);
  expect(formatted).toBeGreaterThan(30);
});
