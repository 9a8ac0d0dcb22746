// Mangled studies (characters deleted, duplicated or replaced, lines swapped) never crash the
// checker, the compiler or the formatter, and every diagnostic points inside the text.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCheck } from '../../src/cli/commands/check.js';
import { runFmt } from '../../src/cli/commands/fmt.js';
import { MAX_NESTING } from '../../src/compiler/binary.js';
import { StudySyntaxError, checkStudy, compileText, formatStudy, parseStudy } from '../../src/compiler/index.js';
import { mangle } from '../helpers/mangle.js';
import { rng } from '../helpers/tensors.js';
import { corpusDir } from './helpers.js';

/** Statements as plain data: formatting must not change it. */
function meaning(text: string) {
  return parseStudy(text).ast.statements.map((s) => s && [s.kind, s.name, s.params.map((p) => [p.key, p.value?.$cstNode?.text.replace(/\s+/g, '')])]);
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

// Issue 8, item 3: brackets nested past the parser's stack (about 300 in a recursive-descent
// parser) overflowed it: `lvi check` and `lvi fmt` printed a raw stack trace, the language
// server exited. Any text must give diagnostics: the nesting is bounded with `too-deep`.
describe('deep nesting', () => {
  const deep = [
    ['unclosed (', `model m zoo="esrgan-slim/x4"\nlam e model=m window=${'('.repeat(500)}\nreport\n`],
    ['a long (1, line', `model m zoo="esrgan-slim/x4"\nlam e model=m window=${'(1,'.repeat(2000)}\nreport\n`],
    ['closed [ ]', `model m zoo="esrgan-slim/x4"\nlam e model=m window=${'['.repeat(5000)}${']'.repeat(5000)}\nreport\n`],
  ] as const;
  for (const [what, text] of deep) {
    test(`${what}: check, compile and fmt give a too-deep diagnostic at its line`, () => {
      const parsed = parseStudy(text, 'deep.lvi');
      const tooDeep = parsed.diagnostics.filter((d) => d.code === 'too-deep');
      expect(tooDeep).toHaveLength(1);
      expect(tooDeep[0].range.start.line).toBe(1);
      expect(tooDeep[0].message).toMatch(/nested deeper than \d+/);
      // The rest of the study is still read: its other statements are there.
      expect(parsed.ast.statements.map((s) => s?.kind)).toContain('report');
      expect(checkStudy(parsed).diagnostics.some((d) => d.code === 'too-deep')).toBe(true);
      expect(compileText(text, 'deep.lvi').diagnostics.some((d) => d.code === 'too-deep')).toBe(true);
      expect(() => formatStudy(text, 'deep.lvi')).toThrow(StudySyntaxError);
    });
  }

  test('lvi check and lvi fmt in process: exit 1 with the diagnostic, no stack trace', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvi-deep-'));
    try {
      const file = path.join(dir, 'deep.lvi');
      fs.writeFileSync(file, deep[1][1]);
      const io = { lines: [] as string[], out(t: string) { this.lines.push(t); }, err(t: string) { this.lines.push(t); } };
      expect(runCheck([file], {}, io)).toBe(1);
      expect(io.lines.join('\n')).toMatch(/error\[too-deep\]/);
      io.lines = [];
      expect(runFmt([file], {}, io)).toBe(1);
      expect(io.lines.join('\n')).toMatch(/error\[too-deep\]/);
      expect(fs.readFileSync(file, 'utf8')).toBe(deep[1][1]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('nesting up to the bound parses as usual', () => {
    const text = `lam e window=${'('.repeat(MAX_NESTING)}1${')'.repeat(MAX_NESTING)}\n`;
    expect(parseStudy(text).diagnostics).toEqual([]);
    const over = `lam e window=${'('.repeat(MAX_NESTING + 1)}1${')'.repeat(MAX_NESTING + 1)}\n`;
    expect(parseStudy(over).diagnostics.map((d) => d.code)).toEqual(['too-deep']);
  });
});
