// `<|>` marks the cursor in a test snippet: returns the text without it and the offset.
export function cursor(marked: string): { text: string; offset: number } {
  const offset = marked.indexOf('<|>');
  if (offset < 0) throw new Error('snippet has no <|> cursor marker');
  return { text: marked.slice(0, offset) + marked.slice(offset + 3), offset };
}

/** 0-based LSP position of an offset. */
export function positionAt(text: string, offset: number): { line: number; character: number } {
  // The protocol's line breaks: \r\n, \n and a lone \r.
  const before = text.slice(0, offset);
  const lines = before.split(/\r\n|\n|\r/);
  const line = lines.length - 1;
  // A \r right before the offset may be the first half of a \r\n: the offset is still on its line.
  if (before.endsWith('\r') && text[offset] === '\n') return { line: line - 1, character: lines[line - 1].length };
  return { line, character: lines[line].length };
}
