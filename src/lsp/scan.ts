// A forgiving scanner for the statement around the cursor. Completion and signature help run
// while a line is half typed (`lam e model=`, `blur(sig`, an unclosed string), where the parser's
// tree is missing the very node the user is writing; so they read the tokens themselves. The
// token shapes are the grammar's own terminals (ID, NUMBER, STRING, comment), taken from the
// generated grammar rather than written a second time.
import { GrammarAST, GrammarUtils } from 'langium';
import { LviGrammar } from '../compiler/generated/grammar.js';

export type TokenType = 'id' | 'number' | 'string' | 'punct' | 'comment' | 'other';

export interface Token {
  type: TokenType;
  text: string;
  start: number;
  end: number;
  /** A string that reaches the end of the line without its closing quote. */
  unclosed?: boolean;
}

/** A grammar terminal as a sticky regex (`ID`, `NUMBER`, `STRING`, `SL_COMMENT`). */
export function terminalRegex(name: string): RegExp {
  const rule = LviGrammar().rules.find((r) => GrammarAST.isTerminalRule(r) && r.name === name);
  if (!rule || !GrammarAST.isTerminalRule(rule)) throw new Error(`grammar has no terminal ${name}`);
  return new RegExp(GrammarUtils.terminalRegex(rule).source, 'y');
}

let regexes: { id: RegExp; number: RegExp; string: RegExp; comment: RegExp } | undefined;
function terminals() {
  regexes ??= {
    id: terminalRegex('ID'),
    number: terminalRegex('NUMBER'),
    string: terminalRegex('STRING'),
    comment: terminalRegex('SL_COMMENT'),
  };
  return regexes;
}

function matchAt(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(text)?.[0];
}

/** Tokens of `text[from, to)`; whitespace and newlines are dropped. */
export function tokenize(text: string, from = 0, to = text.length): Token[] {
  const t = terminals();
  const out: Token[] = [];
  let i = from;
  while (i < to) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    let m: string | undefined;
    if (c === '#') {
      m = matchAt(t.comment, text, i) ?? '#';
      out.push({ type: 'comment', text: m, start: i, end: i + m.length });
    } else if (c === '"' || c === "'") {
      m = matchAt(t.string, text, i);
      if (m) {
        out.push({ type: 'string', text: m, start: i, end: i + m.length });
      } else {
        m = text.slice(i, lineBreakAfter(text, i));
        out.push({ type: 'string', text: m, start: i, end: i + m.length, unclosed: true });
      }
    } else if (text.startsWith('..', i)) {
      m = '..';
      out.push({ type: 'punct', text: m, start: i, end: i + 2 });
    } else if ((m = matchAt(t.number, text, i)) !== undefined && !/[A-Za-z_]/.test(text[i + m.length] ?? '')) {
      out.push({ type: 'number', text: m, start: i, end: i + m.length });
    } else if ((m = matchAt(t.id, text, i)) !== undefined) {
      out.push({ type: 'id', text: m, start: i, end: i + m.length });
    } else if ('=()[],%'.includes(c)) {
      m = c;
      out.push({ type: 'punct', text: m, start: i, end: i + 1 });
    } else {
      m = c;
      out.push({ type: 'other', text: m, start: i, end: i + 1 });
    }
    i += m.length;
  }
  return out;
}

/**
 * Offset where the statement holding `offset` starts. A statement begins on a line whose first
 * character is neither blank nor `#`; indented, blank and comment lines continue it. A cursor on
 * an empty line starts a new statement there.
 */
export function statementStart(text: string, offset: number): number {
  let line = lineStartBefore(text, offset);
  const c = text[line];
  if (c !== ' ' && c !== '\t') return line;
  while (line > 0) {
    line = lineStartBefore(text, line - 1);
    if (opensStatement(text[line])) return line;
    if (line === 0) break;
  }
  return 0;
}

/** Offset of the first line break (\r or \n) at or after `from`, or the text's end. */
export function lineBreakAfter(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return i;
  }
  return text.length;
}

/** Start of the line holding `offset` (line breaks: \r\n, \n, \r); a break belongs to the line it ends. */
function lineStartBefore(text: string, offset: number): number {
  for (let i = offset; i > 0; i--) {
    const c = text.charCodeAt(i - 1);
    if (c === 10 || (c === 13 && text.charCodeAt(i) !== 10)) return i;
  }
  return 0;
}

function opensStatement(c: string | undefined): boolean {
  return c !== undefined && c !== ' ' && c !== '\t' && c !== '\r' && c !== '\n' && c !== '#';
}

/** Offset just past the statement starting at `start` (before the next column-0 line). */
export function statementEnd(text: string, start: number): number {
  let i = lineBreakAfter(text, start);
  while (i < text.length) {
    const next = text[i] === '\r' && text[i + 1] === '\n' ? i + 2 : i + 1;
    if (opensStatement(text[next])) return i;
    i = lineBreakAfter(text, next);
  }
  return text.length;
}

interface Frame {
  type: 'statement' | 'list' | 'tuple' | 'call';
  /** The statement parameter this frame is the value of (lists, tuples, calls). */
  key?: string;
  call?: string;
  /** Index of the current item / argument. */
  index: number;
  /** Where the frame's opening bracket is. */
  open: number;
  /** Argument keys already given (calls) or parameter keys (statement). */
  keys: string[];
  /** Key waiting for its value: set after `key=`. */
  pendingKey?: string;
  state: 'head' | 'afterKind' | 'key' | 'eq' | 'value' | 'afterValue';
}

export type CursorContext =
  | { type: 'none' }
  /** Typing the statement's kind at the start of a line. */
  | { type: 'kind'; prefix: string; from: number; to: number }
  /** Where a `key=` may start. */
  | { type: 'key'; kind: string; present: string[]; prefix: string; from: number; to: number }
  /** Typing a value of `key` (inside a list: one item of it). */
  | {
      type: 'value';
      kind: string;
      key: string;
      prefix: string;
      from: number;
      to: number;
      inList: boolean;
      inTuple: boolean;
      /** The cursor is inside a string: `prefix` is the text after the quote. */
      inString?: { quote: string; closed: boolean };
    }
  /** Typing an argument name inside `call(...)`. */
  | { type: 'call-key'; kind: string; key: string; call: string; present: string[]; prefix: string; from: number; to: number }
  /** Typing an argument value inside `call(arg=...)`. */
  | { type: 'call-value'; kind: string; key: string; call: string; arg: string; prefix: string; from: number; to: number };

export interface CallSite {
  kind: string;
  key: string;
  call: string;
  /** Index of the argument the cursor is in, and the argument's key when already typed. */
  index: number;
  arg?: string;
  present: string[];
  open: number;
}

interface ScanResult {
  context: CursorContext;
  /** The innermost call the cursor is inside, for signature help. */
  call?: CallSite;
  kind?: string;
  name?: string;
}

/** What the cursor at `offset` is writing. Never throws, whatever the text. */
export function scanCursor(text: string, offset: number): ScanResult {
  const start = statementStart(text, offset);
  const tokens = tokenize(text, start, Math.min(text.length, statementEnd(text, start)));
  let kind: string | undefined;
  let name: string | undefined;
  const stack: Frame[] = [{ type: 'statement', index: 0, open: start, keys: [], state: 'head' }];
  const top = () => stack[stack.length - 1]!;

  // The token the cursor touches (an identifier being typed, or a string it is inside).
  let partial: Token | undefined;
  let i = 0;
  for (; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok.start >= offset) break;
    if (tok.end >= offset && (tok.type === 'id' || tok.type === 'number')) {
      partial = tok;
      break;
    }
    if (tok.type === 'string' && offset <= tok.end && (offset < tok.end || tok.unclosed)) {
      partial = tok;
      break;
    }
    if (tok.type === 'comment' && offset <= tok.end) return { context: { type: 'none' }, kind, name };
    const next = tokens[i + 1];
    const f = top();
    switch (f.type) {
      case 'statement':
        if (f.state === 'head') {
          if (tok.type === 'id') kind = tok.text;
          f.state = 'afterKind';
        } else if (f.state === 'afterKind' && next?.text !== '=' && (tok.type === 'id' || tok.type === 'string')) {
          name = tok.type === 'string' ? tok.text.slice(1, -1) : tok.text;
          f.state = 'key';
        } else {
          stepParam(f, tok, next, stack);
        }
        break;
      case 'call':
        stepParam(f, tok, next, stack);
        break;
      case 'list':
      case 'tuple':
        stepItem(f, tok, next, stack);
        break;
    }
  }

  const prefix = partial ? text.slice(partial.start, offset) : '';
  const from = partial ? partial.start : offset;
  const to = partial ? partial.end : offset;
  const f = top();
  const result: ScanResult = { context: { type: 'none' }, kind, name };
  const call = [...stack].reverse().find((s) => s.type === 'call');
  if (call && kind) {
    result.call = {
      kind,
      key: call.key ?? '',
      call: call.call ?? '',
      index: call.index,
      arg: call === f && (f.state === 'value' || f.state === 'eq') ? f.pendingKey : undefined,
      present: call.keys,
      open: call.open,
    };
  }

  if (partial?.type === 'string') {
    const key = f.type === 'statement' || f.type === 'call' ? f.pendingKey : f.key;
    if (kind && key && (f.state === 'value' || f.type === 'list' || f.type === 'tuple')) {
      const quote = partial.text[0]!;
      result.context = {
        type: 'value',
        kind,
        key,
        prefix: text.slice(partial.start + 1, offset),
        from: partial.start + 1,
        to: partial.unclosed ? partial.end : partial.end - 1,
        inList: f.type === 'list',
        inTuple: f.type === 'tuple',
        inString: { quote, closed: !partial.unclosed },
      };
    }
    return result;
  }

  if (f.type === 'statement') {
    if (f.state === 'head') {
      // Only at column 0: an indented line continues the previous statement.
      result.context = { type: 'kind', prefix, from, to };
    } else if (!kind) {
      result.context = { type: 'none' };
    } else if (f.state === 'afterKind' && partial) {
      // `model sl|`: a name or a key; offer keys, the user may also be naming.
      result.context = { type: 'key', kind, present: f.keys, prefix, from, to };
    } else if (f.state === 'afterKind' || f.state === 'key' || f.state === 'afterValue') {
      if (f.state === 'afterValue' && partial === undefined && offset > 0 && !/\s/.test(text[offset - 1] ?? '')) {
        result.context = { type: 'none' };
      } else {
        result.context = { type: 'key', kind, present: f.keys, prefix, from, to };
      }
    } else if (f.state === 'value' && f.pendingKey) {
      result.context = { type: 'value', kind, key: f.pendingKey, prefix, from, to, inList: false, inTuple: false };
    }
  } else if (f.type === 'call' && kind) {
    if ((f.state === 'key' || f.state === 'afterKind') && f.call) {
      result.context = { type: 'call-key', kind, key: f.key ?? '', call: f.call, present: f.keys, prefix, from, to };
    } else if (f.state === 'value' && f.pendingKey && f.call) {
      result.context = { type: 'call-value', kind, key: f.key ?? '', call: f.call, arg: f.pendingKey, prefix, from, to };
    }
  } else if ((f.type === 'list' || f.type === 'tuple') && kind && f.key && f.state !== 'afterValue') {
    result.context = { type: 'value', kind, key: f.key, prefix, from, to, inList: f.type === 'list', inTuple: f.type === 'tuple' };
  }
  return result;
}

/** One token inside a statement or call: `key`, `=`, then a value. */
function stepParam(f: Frame, tok: Token, next: Token | undefined, stack: Frame[]): void {
  if (f.type === 'call' && tok.start === f.open) return; // the call's own `(`
  if (f.state === 'value') {
    openValue(f, f.pendingKey, tok, next, stack);
    return;
  }
  if (tok.text === ',' && f.type === 'call') {
    f.index++;
    f.pendingKey = undefined;
    f.state = 'key';
    return;
  }
  if (tok.text === ')' && f.type === 'call') {
    stack.pop();
    valueDone(stack);
    return;
  }
  if (tok.type === 'id' && next?.text === '=') {
    f.pendingKey = tok.text;
    f.keys.push(tok.text);
    f.state = 'eq';
    return;
  }
  if (tok.text === '=' && f.state === 'eq') {
    f.state = 'value';
    return;
  }
  f.state = 'afterValue';
}

/** One token inside a list or tuple: values separated by commas. */
function stepItem(f: Frame, tok: Token, next: Token | undefined, stack: Frame[]): void {
  if (tok.text === ',') {
    f.index++;
    f.state = 'value';
    return;
  }
  if (tok.text === ']' || tok.text === ')') {
    stack.pop();
    valueDone(stack);
    return;
  }
  openValue(f, f.key, tok, next, stack);
}

function openValue(f: Frame, key: string | undefined, tok: Token, next: Token | undefined, stack: Frame[]): void {
  if (tok.text === '[') {
    f.state = 'afterValue';
    stack.push({ type: 'list', key, index: 0, open: tok.start, keys: [], state: 'value' });
  } else if (tok.text === '(') {
    f.state = 'afterValue';
    stack.push({ type: 'tuple', key, index: 0, open: tok.start, keys: [], state: 'value' });
  } else if (tok.type === 'id' && next?.text === '(') {
    f.state = 'afterValue';
    stack.push({ type: 'call', key, call: tok.text, index: 0, open: next.start, keys: [], state: 'key' });
  } else {
    // A scalar; a following `%` or `..` belongs to it and changes nothing here.
    f.state = 'afterValue';
  }
}

/** A nested value closed: the frame below it continues after that value. */
function valueDone(stack: Frame[]): void {
  const f = stack[stack.length - 1];
  if (f) f.state = 'afterValue';
}
