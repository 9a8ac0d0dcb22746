// Diagnostics shared by the CLI and the language server. Codes live in one namespace so that
// tests, quick fixes and documentation refer to them by name, never by wording.

export const DIAGNOSTIC_CODES = {
  syntax: 'the text does not follow the statement grammar',
  'too-deep': 'brackets nested deeper than the parser allows (the statement is skipped)',
  'too-large': 'a file too large to be a study (it is not read)',
  'unknown-kind': 'a statement kind the catalogue does not know',
  'unknown-param': 'a parameter the statement kind does not have',
  'duplicate-param': 'the same parameter given twice in one statement',
  'wrong-type': 'a value of the wrong type (e.g. a string where a number is expected)',
  'out-of-range': 'a number outside the parameter\'s allowed range',
  'unknown-value': 'a word that is not one of the parameter\'s allowed values',
  'bad-format': 'a string that does not have the expected form (e.g. a zoo id)',
  'missing-param': 'a required parameter is absent',
  'missing-name': 'a statement that must be named has no name',
  'duplicate-name': 'two statements with the same name',
  'duplicate-statement': 'a statement kind that may appear once appears again',
  'unresolved-ref': 'a name that no statement declares',
  'wrong-ref-kind': 'a reference to a statement of the wrong kind',
  'file-not-found': 'an input file or folder that does not exist (relative to the study file)',
  'wrong-file-type': 'an input file with an unexpected extension, or a file where a folder is expected',
  'not-an-image': 'an image file whose bytes are not a PNG or JPEG image',
  'conflicting-params': 'parameters that exclude each other (e.g. model file= and zoo=)',
  'not-sweepable': 'a list given to a parameter that takes one value',
  'empty-list': 'an empty list where values are expected',
  'duplicate-value': 'the same value twice in a sweep or a list that needs distinct values',
  'path-escapes': 'an output path that is absolute or leaves the study\'s folder (lvi run --allow-out PATH allows it)',
  'shadowed-name': 'a statement named like a word of the language where both fit (e.g. a dataset `clean` in degradations=): the word is used (a warning)',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;
export type Severity = 'error' | 'warning' | 'info';

/** 0-based position, as in the Language Server Protocol. */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** A replacement a quick fix can apply: put `text` in place of `range`. */
export interface Suggestion {
  text: string;
  range: Range;
}

export interface LviDiagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  /** Absolute path (or the URI's path) of the study file. */
  file: string;
  /** 0-based LSP range; `line`/`column` below are the 1-based start for people. */
  range: Range;
  line: number;
  column: number;
  /** The did-you-mean replacement, where one is close enough to guess. */
  suggestion?: Suggestion;
  /** Extra structured facts (e.g. the expected kinds of a reference). */
  data?: Record<string, unknown>;
}

/** Line starts of a text, to turn offsets into positions. Line breaks are the protocol's: \r\n, \n and a lone \r. */
export class LineIndex {
  readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) this.starts.push(i + 1);
    }
  }
  position(offset: number): Position {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - this.starts[lo] };
  }
  /** Offset where a line's text ends, before its line break. */
  lineEnd(line: number): number {
    if (line + 1 >= this.starts.length) return this.text.length;
    const next = this.starts[line + 1]!;
    return next - (next >= 2 && this.text.charCodeAt(next - 2) === 13 && this.text.charCodeAt(next - 1) === 10 ? 2 : 1);
  }
  /** The offset of an LSP position, kept within the text and within its line (as editors expect). */
  offset(p: Position): number {
    if (p.line >= this.starts.length) return this.text.length;
    return Math.min(this.starts[p.line]! + Math.max(0, p.character), this.lineEnd(p.line));
  }
  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(Math.max(start, end)) };
  }
  lineText(line: number): string {
    if (line >= this.starts.length) return '';
    return this.text.slice(this.starts[line], this.lineEnd(line));
  }
}

export function makeDiagnostic(
  file: string,
  code: DiagnosticCode,
  message: string,
  range: Range,
  extra: { severity?: Severity; suggestion?: Suggestion; data?: Record<string, unknown> } = {},
): LviDiagnostic {
  const d: LviDiagnostic = {
    code,
    severity: extra.severity ?? 'error',
    message,
    file,
    range,
    line: range.start.line + 1,
    column: range.start.character + 1,
  };
  if (extra.suggestion) d.suggestion = extra.suggestion;
  if (extra.data) d.data = extra.data;
  return d;
}

export function sortDiagnostics(diags: LviDiagnostic[]): LviDiagnostic[] {
  return [...diags].sort(
    (a, b) =>
      a.range.start.line - b.range.start.line ||
      a.range.start.character - b.range.start.character ||
      a.code.localeCompare(b.code),
  );
}

/**
 * `file:line:col: error[code]: message`, then the source line and a caret underline, the way
 * compilers print it. `displayFile` is the path to show (often relative to the working folder).
 */
export function renderDiagnostic(d: LviDiagnostic, text: string, displayFile = d.file): string {
  const lines = new LineIndex(text);
  const head = `${displayFile}:${d.line}:${d.column}: ${d.severity}[${d.code}]: ${d.message}`;
  const src = lines.lineText(d.range.start.line);
  const gutter = String(d.line);
  const startCol = d.range.start.character;
  const endCol = d.range.end.line === d.range.start.line ? d.range.end.character : src.length;
  const width = Math.max(1, endCol - startCol);
  const out = [head, `${gutter} | ${src}`, `${' '.repeat(gutter.length)} | ${' '.repeat(startCol)}${'^'.repeat(width)}`];
  if (d.suggestion) out.push(`${' '.repeat(gutter.length)} = help: did you mean \`${d.suggestion.text}\`?`);
  return out.join('\n');
}
