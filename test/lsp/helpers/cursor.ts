// `<|>` marks the cursor in a test snippet: returns the text without it and the offset.
export function cursor(marked: string): { text: string; offset: number } {
  const offset = marked.indexOf('<|>');
  if (offset < 0) throw new Error('snippet has no <|> cursor marker');
  return { text: marked.slice(0, offset) + marked.slice(offset + 3), offset };
}

/** 0-based LSP position of an offset. */
export function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}
