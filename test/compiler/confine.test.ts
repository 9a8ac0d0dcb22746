// Issue 8.2: a study writes only inside its own folder. `lvi check` reports an escaping output
// path (out=, report file=, absolute paths) as an error at the value; a study's name used as a
// folder name cannot climb out of it.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileText } from '../../src/compiler/compile.js';
import { isInside, safeSegment } from '../../src/compiler/confine.js';
import { check, corpusDir, covered } from './helpers.js';

const studyDir = path.join(corpusDir, 'valid');
const escapes = (text: string) => check(text).diagnostics.filter((d) => d.code === 'path-escapes');

describe('output paths stay inside the study folder', () => {
  it.each([
    ['study "s" out="../../x"', '"../../x"'],
    ['study "s" out="/tmp/x"', '"/tmp/x"'],
    ['study "s"\nreport file="/abs/report.html"', '"/abs/report.html"'],
    ['study "s"\nreport file="../report.html"', '"../report.html"'],
    ['study "s" out="out/../../x"', '"out/../../x"'],
  ])('%s is an error at the value', (text, value) => {
    const found = escapes(text);
    expect(found).toHaveLength(1);
    expect(found[0].severity).toBe('error');
    expect(covered(text, found[0])).toBe(value);
    expect(found[0].message).toMatch(/--allow-out/);
  });

  it('paths inside the folder are fine', () => {
    expect(escapes('study "s" out="out/s"\nreport file="out/s/r.html"')).toEqual([]);
    expect(escapes('study "s" out="."')).toEqual([]);
    expect(escapes('study "s" out="a/../b"')).toEqual([]);
  });

  it('a study name used as a folder name is made safe: study "../../../x" writes to out/x', () => {
    const { plan, diagnostics } = compileText('study "../../../x"\n', path.join(studyDir, 'snippet.lvi'));
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(plan!.outDir).toBe(path.join(studyDir, 'out', 'x'));
    expect(isInside(studyDir, plan!.outDir)).toBe(true);
  });

  it('safeSegment keeps ordinary names and defuses separators and dots', () => {
    expect(safeSegment('lam-zoo_2.v1')).toBe('lam-zoo_2.v1');
    expect(safeSegment('../../../x')).toBe('x');
    expect(safeSegment('a/b\\c')).toBe('a-b-c');
    expect(safeSegment('..')).toBe('study');
    expect(safeSegment('/')).toBe('study');
  });

  it('isInside', () => {
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a/b/c')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(false);
  });
});
