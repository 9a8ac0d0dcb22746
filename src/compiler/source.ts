// A parsed study as every reader sees it (checker, compiler, language server), and how it is
// assembled from a parse result. A leaf module: it knows nothing of the Langium services, so the
// validator the services register can use it without a cycle through parse.ts.
import path from 'node:path';
import { URI, type LangiumDocument, type ParseResult } from 'langium';
import type { Study } from './generated/ast.js';
import { LineIndex, type LviDiagnostic } from './diagnostics.js';
import { syntaxDiagnostics } from './syntax.js';

export interface ParsedStudy {
  /** Absolute file path of the study (from the URI); relative paths in the study start here. */
  file: string;
  uri: string;
  text: string;
  ast: Study;
  lines: LineIndex;
  /** Lexer and parser errors (code `syntax`); recovery keeps parsing after each one. */
  diagnostics: LviDiagnostic[];
}

/** A `file:` URI or a plain path (relative paths resolve against the working folder). */
export function toUri(uriOrPath: string): URI {
  return /^[a-z][a-z0-9+.-]+:/i.test(uriOrPath) ? URI.parse(uriOrPath) : URI.file(path.resolve(uriOrPath));
}

/** Folder that relative paths in the study start from (none for an unsaved study). */
export function studyFolder(parsed: Pick<ParsedStudy, 'uri' | 'file'>): string | undefined {
  return parsed.uri.startsWith('file:') ? path.dirname(parsed.file) : undefined;
}

/** A byte-order mark becomes a space: offsets stay put and the lexer does not trip on it. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? ` ${text.slice(1)}` : text;
}

/**
 * The same view of a document the language server already parsed (no second parse). `text` is
 * the text that parse read, when the editor's has moved on since.
 */
export function parsedFromDocument(document: LangiumDocument, text = document.textDocument.getText()): ParsedStudy {
  return assemble(document.uri, text, document.parseResult as ParseResult<Study>);
}

export function assemble(u: URI, text: string, result: ParseResult<Study>): ParsedStudy {
  const file = u.scheme === 'file' ? u.fsPath : u.path;
  return {
    file,
    uri: u.toString(),
    text,
    ast: result.value,
    lines: new LineIndex(text),
    diagnostics: syntaxDiagnostics(file, text, result.lexerErrors, result.parserErrors),
  };
}
