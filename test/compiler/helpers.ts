// Shared helpers for the compiler tests.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { checkStudy, parseStudy, type CheckOptions, type CheckResult, type LviDiagnostic } from '../../src/compiler/index.js';

export const corpusDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'corpus');
export const filesDir = path.join(corpusDir, 'files');

/** Check study text as if it were a file in corpus/valid/ (so ../files/... resolves). */
export function check(text: string, options: CheckOptions = {}): CheckResult {
  return checkStudy(parseStudy(text, path.join(corpusDir, 'valid', 'snippet.lvi')), options);
}

export function codes(diags: LviDiagnostic[]): string[] {
  return diags.map((d) => d.code);
}

/** The source text a diagnostic's range covers (single-line ranges). */
export function covered(text: string, d: LviDiagnostic): string {
  const line = text.split('\n')[d.range.start.line];
  return line.slice(d.range.start.character, d.range.end.line === d.range.start.line ? d.range.end.character : undefined);
}
