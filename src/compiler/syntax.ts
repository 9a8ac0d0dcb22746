// Syntax errors in words a newcomer understands, and their conversion to LviDiagnostics.
import type { ILexingError, IRecognitionException, IToken, TokenType } from 'chevrotain';
import { LangiumParserErrorMessageProvider } from 'langium';
import { CATALOGUE } from '../../grammar/catalogue.js';
import { LineIndex, makeDiagnostic, type LviDiagnostic } from './diagnostics.js';
import { BINARY_DATA_MESSAGE, isGuardError } from './binary.js';

const TOKEN_WORDS: Record<string, string> = {
  NL: 'the start of a new statement',
  ID: 'a name',
  NUMBER: 'a number',
  STRING: 'a string',
  EOF: 'the end of the file',
};

function describeType(t: TokenType): string {
  return TOKEN_WORDS[t.name] ?? `\`${t.name}\``;
}

function describeToken(t: IToken | undefined): string {
  if (!t || t.tokenType.name === 'EOF') return 'end of file';
  if (t.tokenType.name === 'NL') return 'end of line';
  return `\`${t.image}\``;
}

const RULE_HINTS: Record<string, string> = {
  Value: 'a value (number, 5%, "string", name, (tuple), [list], call(arg=value) or range 0..1)',
  NumberLit: 'a number',
  RangeLit: 'a range such as 0..1',
  Statement: 'a statement: kind [name] key=value ...',
  Param: 'a parameter: key=value',
};

function stray(actual: IToken): string {
  // Chevrotain columns are 1-based: column 1 is the start of a line, where statements begin.
  return actual.startColumn === 1
    ? `unexpected ${describeToken(actual)}: a statement starts with its kind, e.g. \`model m file="m.onnx"\``
    : `unexpected ${describeToken(actual)}: each parameter is written key=value`;
}

/** `unexpected X: expected Y`, Y from the rule being parsed (Langium may mark rule names with U+200B). */
function expectedHere(ruleName: string, actual: IToken | undefined, fallback: string): string {
  const hint = RULE_HINTS[ruleName.replace(/\u200b/g, '')] ?? fallback;
  return `unexpected ${describeToken(actual)}: expected ${hint}`;
}

export class LviParserErrorMessageProvider extends LangiumParserErrorMessageProvider {
  override buildMismatchTokenMessage(options: { expected: TokenType; actual: IToken; previous: IToken; ruleName: string }): string {
    const { expected, actual, previous } = options;
    if (expected.name === 'EOF' || expected.name === 'NL') return stray(actual);
    if (expected.name === '=' && previous?.tokenType.name === 'ID' && CATALOGUE[previous.image] && actual.tokenType.name === 'ID') {
      return `\`${previous.image} ${actual.image}\` looks like a new statement: start it at the beginning of its own line (indented lines continue the statement above)`;
    }
    if (expected.name === '=' && previous?.tokenType.name === 'ID') {
      return `expected \`=\` after \`${previous.image}\` but found ${describeToken(actual)}: each parameter is written key=value`;
    }
    if (expected.name === ']' || expected.name === ')') {
      return `expected \`,\` between items or \`${expected.name}\` to close the ${expected.name === ']' ? 'list' : 'tuple'}, but found ${describeToken(actual)}`;
    }
    return `expected ${describeType(expected)} but found ${describeToken(actual)}`;
  }

  override buildNotAllInputParsedMessage(options: { firstRedundant: IToken; ruleName: string }): string {
    return stray(options.firstRedundant);
  }

  override buildNoViableAltMessage(options: {
    expectedPathsPerAlt: TokenType[][][];
    actual: IToken[];
    previous: IToken;
    customUserDescription: string;
    ruleName: string;
  }): string {
    return expectedHere(options.ruleName, options.actual[0], 'something else');
  }

  override buildEarlyExitMessage(options: {
    expectedIterationPaths: TokenType[][];
    actual: IToken[];
    previous: IToken;
    customUserDescription: string;
    ruleName: string;
  }): string {
    return expectedHere(options.ruleName, options.actual[0], 'at least one more item');
  }
}

/** Lexer and parser errors as diagnostics with code `syntax`, one per error, in source order. */
export function syntaxDiagnostics(
  file: string,
  text: string,
  lexerErrors: ILexingError[],
  parserErrors: IRecognitionException[],
): LviDiagnostic[] {
  const lines = new LineIndex(text);
  const out: LviDiagnostic[] = [];
  for (const e of lexerErrors) {
    const ch = text.slice(e.offset, e.offset + Math.max(1, e.length));
    if (isGuardError(e)) {
      out.push(makeDiagnostic(file, e.code, e.message, lines.range(e.offset, e.offset + e.length)));
      continue;
    }
    const message = e.message === BINARY_DATA_MESSAGE ? e.message : `unexpected character \`${ch}\``;
    out.push(
      makeDiagnostic(file, 'syntax', message, lines.range(e.offset, e.offset + Math.max(1, e.length)), {
        data: { lexer: true },
      }),
    );
  }
  for (const e of parserErrors) {
    let start = e.token.startOffset;
    let end = (e.token.endOffset ?? start) + 1;
    if (Number.isNaN(start) || e.token.tokenType.name === 'EOF' || e.token.tokenType.name === 'NL') {
      // A newline or the end of input is invisible: point just after the last token before it.
      const prev = (e as { previousToken?: IToken }).previousToken;
      const at = prev && Number.isFinite(prev.endOffset ?? NaN) ? (prev.endOffset ?? 0) + 1 : Number.isNaN(start) ? text.trimEnd().length : start;
      start = at;
      end = at;
    }
    out.push(makeDiagnostic(file, 'syntax', e.message, lines.range(start, end)));
  }
  // Recovery can trip again right after an error; a second error on the same line is almost
  // always that echo, so each line reports its first syntax error only.
  const seen = new Set<number>();
  return out
    .sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character)
    .filter((d) => !seen.has(d.range.start.line) && seen.add(d.range.start.line));
}
