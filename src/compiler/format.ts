// Canonical layout: statements at column 0, continuation lines indented four spaces, one space
// between items, none around `=` or inside brackets, `, ` in lists and calls, `,` in tuples,
// at most one blank line, two spaces before a trailing comment. The user's line breaks inside
// a statement are kept (like gofmt), so comments stay where they were. Idempotent.
import type { IToken } from 'chevrotain';
import type { LviDiagnostic } from './diagnostics.js';
import { lviServices, parseStudy } from './parse.js';
import { withoutBom } from './source.js';

export class StudySyntaxError extends Error {
  constructor(readonly diagnostics: LviDiagnostic[]) {
    super(`cannot format a study with syntax errors (${diagnostics.length})`);
  }
}

const INDENT = '    ';

/** The study in canonical layout. Throws StudySyntaxError when the text does not parse. */
export function formatStudy(text: string, uri?: string): string {
  const parsed = parseStudy(text, uri);
  if (parsed.diagnostics.length) throw new StudySyntaxError(parsed.diagnostics);
  const starts = new Set(parsed.ast.statements.filter((s) => s?.$cstNode).map((s) => s.$cstNode!.offset));
  const lexed = lviServices().Lvi.parser.Lexer.tokenize(withoutBom(text));
  const tokens = [...lexed.tokens, ...lexed.hidden]
    .filter((t) => t.tokenType.name !== 'NL' && t.image.length > 0)
    .sort((a, b) => a.startOffset - b.startOffset);

  const out: string[] = [];
  const stack: ('call' | 'tuple' | 'list')[] = [];
  let prevLine: number | undefined;
  let i = 0;
  while (i < tokens.length) {
    const line = tokens[i].startLine!;
    const onLine: IToken[] = [];
    while (i < tokens.length && tokens[i].startLine === line) onLine.push(tokens[i++]);
    if (prevLine !== undefined && line - prevLine > 1) out.push('');
    prevLine = line;
    const first = onLine[0];
    const atStart = starts.has(first.startOffset) || (isComment(first) && first.startColumn === 1);
    let s = atStart ? '' : INDENT;
    let prev: IToken | undefined;
    for (const t of onLine) {
      if (prev) s += space(prev, t, stack);
      s += t.image.trimEnd();
      if (t.image === '(') stack.push(prev?.tokenType.name === 'ID' ? 'call' : 'tuple');
      else if (t.image === '[') stack.push('list');
      else if (t.image === ')' || t.image === ']') stack.pop();
      prev = t;
    }
    out.push(s);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

function isComment(t: IToken): boolean {
  return t.tokenType.name === 'SL_COMMENT';
}

function space(a: IToken, b: IToken, stack: string[]): string {
  if (isComment(b)) return '  ';
  const x = a.image;
  const y = b.image;
  if (x === '(' || x === '[' || x === '=' || x === '..') return '';
  if (y === ')' || y === ']' || y === ',' || y === '%' || y === '=' || y === '..') return '';
  if (y === '(' && a.tokenType.name === 'ID') return '';
  if (x === ',') return stack[stack.length - 1] === 'tuple' ? '' : ' ';
  return ' ';
}
