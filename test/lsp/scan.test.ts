import { describe, expect, it } from 'vitest';
import { scanCursor, statementStart, tokenize } from '../../src/lsp/scan.js';
import { cursor } from './helpers/cursor.js';

function ctx(marked: string) {
  const { text, offset } = cursor(marked);
  return scanCursor(text, offset);
}

describe('tokenize', () => {
  it('reads the grammar terminals, hyphenated names and unclosed strings', () => {
    const toks = tokenize('lam e path=progressive-blur top=[1%, 5%] file="a b # c" x=0..1 # note\nimage i file="open');
    expect(toks.map((t) => t.text)).toEqual([
      'lam', 'e', 'path', '=', 'progressive-blur', 'top', '=', '[', '1', '%', ',', '5', '%', ']',
      'file', '=', '"a b # c"', 'x', '=', '0', '..', '1', '# note', 'image', 'i', 'file', '=', '"open',
    ]);
    expect(toks.at(-1)?.unclosed).toBe(true);
  });
});

describe('statementStart', () => {
  it('walks back over indented, blank and comment lines to the statement head', () => {
    const { text, offset } = cursor('model a zoo="x"\nlam e model=a\n\n# c\n    steps=<|>');
    expect(statementStart(text, offset)).toBe(text.indexOf('lam'));
  });
  it('starts a new statement on an empty line', () => {
    const { text, offset } = cursor('model a zoo="x"\n<|>\nlam e');
    expect(statementStart(text, offset)).toBe(offset);
  });
});

describe('scanCursor', () => {
  it('finds a kind being typed at column 0', () => {
    expect(ctx('model a zoo="x"\nla<|>').context).toMatchObject({ type: 'kind', prefix: 'la' });
    expect(ctx('<|>').context).toMatchObject({ type: 'kind', prefix: '' });
  });
  it('finds a key position after the name, after a value and on a continuation line', () => {
    expect(ctx('lam e <|>').context).toMatchObject({ type: 'key', kind: 'lam', present: [] });
    expect(ctx('lam e model=a st<|>').context).toMatchObject({ type: 'key', kind: 'lam', present: ['model'], prefix: 'st' });
    expect(ctx('lam e model=a\n    <|>').context).toMatchObject({ type: 'key', kind: 'lam' });
    expect(ctx('lam e model=a<|>').context).toMatchObject({ type: 'value', key: 'model', prefix: 'a' });
  });
  it('finds values, list items, strings and call arguments', () => {
    expect(ctx('lam e model=<|>').context).toMatchObject({ type: 'value', kind: 'lam', key: 'model', prefix: '' });
    expect(ctx('lam e model=[a, b<|>').context).toMatchObject({ type: 'value', key: 'model', prefix: 'b', inList: true });
    expect(ctx('image i file="ima<|>').context).toMatchObject({
      type: 'value', key: 'file', prefix: 'ima', inString: { quote: '"', closed: false },
    });
    expect(ctx('image i file="im<|>g.png" x=1').context).toMatchObject({ type: 'value', key: 'file', prefix: 'im' });
    const call = ctx('faig f degradation=blur(sigma=2, <|>');
    expect(call.context).toMatchObject({ type: 'call-key', call: 'blur', key: 'degradation', present: ['sigma'] });
    expect(call.call).toMatchObject({ call: 'blur', index: 1 });
    expect(ctx('faig f degradation=blur(sigma=<|>').context).toMatchObject({ type: 'call-value', call: 'blur', arg: 'sigma' });
    expect(ctx('lam e window=(1, 2<|>').context).toMatchObject({ type: 'value', key: 'window', inTuple: true });
  });
  it('offers nothing inside comments or right after a closed value', () => {
    expect(ctx('lam e # mod<|>').context.type).toBe('none');
    expect(ctx('lam e top=[1%]<|>').context.type).toBe('none');
    expect(ctx('lam e file="x"<|>').context.type).toBe('none');
  });
  it('survives unbalanced brackets and stray characters', () => {
    expect(ctx('lam e model=[a, (b]] ) $ @ steps=<|>').context).toMatchObject({ type: 'value', key: 'steps' });
  });
});
