// A binary file opened by mistake (an image renamed .lvi, a model) would lex into thousands of
// one-character errors and stall the parser for seconds; it is parsed as empty, with one syntax
// error at its first non-text byte, by `lvi check` and the language server alike.
import { createLangiumParser, type AstNode, type LangiumCoreServices, type LangiumParser, type ParseResult } from 'langium';

const SAMPLE = 8192;

export const BINARY_DATA_MESSAGE = 'binary data: this is not a study file';

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

export function createBinaryGuardedParser(services: LangiumCoreServices): LangiumParser {
  const parser = createLangiumParser(services);
  const parse = parser.parse.bind(parser);
  parser.parse = (<T extends AstNode>(input: string, options?: Parameters<LangiumParser['parse']>[1]): ParseResult<T> => {
    const at = binaryOffset(input);
    if (at < 0) return parse<T>(input, options);
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
