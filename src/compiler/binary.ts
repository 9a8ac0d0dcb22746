// What the parser is handed is guarded before it runs, for `lvi check` and the language server
// alike:
// - A binary file opened by mistake (an image renamed .lvi, a model) would lex into thousands of
//   one-character errors and stall the parser for seconds; it is parsed as empty, with one
//   syntax error at its first non-text byte.
// - A text past MAX_STUDY_CHARS is not read at all: parsing costs about 1.6 s per megabyte and
//   blocks the language server for every document meanwhile (a 5 MB file froze it for minutes).
//   Studies are hand-written and a few hundred lines long; such a file gets one `too-large`
//   error and is parsed as empty.
// - Brackets nested past the recursive-descent parser's stack (about 300 levels) overflowed it,
//   and an overflow also leaves Langium's shared parser unusable for every later parse. A
//   statement nested deeper than MAX_NESTING is blanked out (offsets and line breaks kept, so
//   the rest of the study parses and every position stays put) and reported as `too-deep`.
import type { ILexingError } from 'chevrotain';
import { createLangiumParser, type AstNode, type LangiumCoreServices, type LangiumParser, type ParseResult } from 'langium';

const SAMPLE = 8192;

export const BINARY_DATA_MESSAGE = 'binary data: this is not a study file';

/** Deepest bracket nesting a study may have; real studies use three or four levels. */
export const MAX_NESTING = 32;

/** Longest study text read (characters): 512 Ki, some ten thousand lines. */
export const MAX_STUDY_CHARS = 512 * 1024;

/** A lexer error that is not a syntax error of the grammar but one of the guards' findings. */
export type GuardError = ILexingError & { code: 'too-deep' | 'too-large' };

export function isGuardError(e: ILexingError): e is GuardError {
  const code = (e as Partial<GuardError>).code;
  return code === 'too-deep' || code === 'too-large';
}

const kib = (chars: number) => `${Math.round(chars / 1024).toLocaleString('en-US')} KiB`;

function tooLargeError(text: string): GuardError {
  return {
    code: 'too-large',
    offset: 0,
    length: Math.min(1, text.length),
    line: 1,
    column: 1,
    message: `this file is ${kib(text.length)}; a study may be at most ${kib(MAX_STUDY_CHARS)} (about ten thousand lines), so it is not read: is it a study file?`,
  };
}

/** The offset of the first byte that shows `text` is not a text file, or -1. */
export function binaryOffset(text: string): number {
  const head = text.slice(0, SAMPLE);
  const nul = head.indexOf('\u0000');
  if (nul >= 0) return nul;
  let control = 0;
  let first = -1;
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 0xfffd) {
      control++;
      if (first < 0) first = i;
    }
  }
  // A few stray control characters are typos; one in ten is a binary file.
  return head.length > 0 && control / head.length > 0.1 ? first : -1;
}

const isBreak = (c: number) => c === 10 || c === 13;

/** Whether a statement starts at `i`, the start of a line (the grammar's NL lookahead). */
function statementStartsAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return i < text.length && c !== 32 && c !== 9 && !isBreak(c) && c !== 35;
}

/** Start of the statement holding offset `at`: the last line start where a statement starts. */
function statementStart(text: string, at: number): number {
  for (let i = at; i > 0; i--) if (isBreak(text.charCodeAt(i - 1)) && statementStartsAt(text, i)) return i;
  return 0;
}

/** End of the statement holding `at`: the line break before the next statement, or the end. */
function statementEnd(text: string, at: number): number {
  for (let i = at; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isBreak(c)) continue;
    const next = c === 13 && text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
    if (statementStartsAt(text, next)) return i;
  }
  return text.length;
}

/** End of a string literal starting at `i` (the lexer's STRING rule), or i + 1 when unclosed. */
function stringEnd(text: string, i: number): number {
  const quote = text.charCodeAt(i);
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === quote) return j + 1;
    if (c === 92) j++;
    else if (isBreak(c)) break;
  }
  return i + 1;
}

/**
 * Offsets of the first bracket past MAX_NESTING in each statement, scanning as the lexer does
 * (brackets inside strings and comments do not count).
 */
export function tooDeepOffsets(text: string): number[] {
  const found: number[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 || c === 39) i = stringEnd(text, i) - 1;
    else if (c === 35) while (i + 1 < text.length && !isBreak(text.charCodeAt(i + 1))) i++;
    else if (c === 40 || c === 91) {
      if (++depth > MAX_NESTING) {
        found.push(i);
        i = statementEnd(text, i);
        depth = 0;
      }
    } else if (c === 41 || c === 93) depth = Math.max(0, depth - 1);
    else if (isBreak(c) && statementStartsAt(text, c === 13 && text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1)) depth = 0;
  }
  return found;
}

function tooDeepError(text: string, offset: number): GuardError {
  const before = text.slice(0, offset);
  const line = before.split(/\r\n?|\n/).length;
  const column = offset - Math.max(before.lastIndexOf('\n'), before.lastIndexOf('\r'));
  return {
    code: 'too-deep',
    offset,
    length: 1,
    line,
    column,
    message: `brackets nested deeper than ${MAX_NESTING} levels: this statement is skipped; close the brackets or flatten the value`,
  };
}

/** The text with each too-deep statement blanked (line breaks kept) and the errors for them. */
export function boundNesting(text: string): { text: string; errors: GuardError[] } {
  const offsets = tooDeepOffsets(text);
  if (offsets.length === 0) return { text, errors: [] };
  let out = '';
  let from = 0;
  for (const at of offsets) {
    const start = statementStart(text, at);
    const end = statementEnd(text, at);
    out += text.slice(from, start) + text.slice(start, end).replace(/[^\r\n]/g, ' ');
    from = end;
  }
  out += text.slice(from);
  return { text: out, errors: offsets.map((o) => tooDeepError(text, o)) };
}

/** Langium's parser behind the guards above. */
export function createBinaryGuardedParser(services: LangiumCoreServices): LangiumParser {
  const parser = createLangiumParser(services);
  const parse = parser.parse.bind(parser);
  parser.parse = (<T extends AstNode>(input: string, options?: Parameters<LangiumParser['parse']>[1]): ParseResult<T> => {
    if (input.length > MAX_STUDY_CHARS) return { ...parse<T>('', options), lexerErrors: [tooLargeError(input)] };
    const at = binaryOffset(input);
    if (at < 0) {
      const bounded = boundNesting(input);
      const result = parse<T>(bounded.text, options);
      return bounded.errors.length ? { ...result, lexerErrors: [...bounded.errors, ...result.lexerErrors] } : result;
    }
    const empty = parse<T>('', options);
    const line = input.slice(0, at).split('\n').length;
    const column = at - input.lastIndexOf('\n', at - 1);
    return {
      ...empty,
      lexerErrors: [{ offset: at, length: 1, line, column, message: BINARY_DATA_MESSAGE }],
    };
  }) as LangiumParser['parse'];
  return parser;
}
