// Where commands write, so tests can call them directly and read what they printed.
import fs from 'node:fs';
import path from 'node:path';
import { renderDiagnostic, type LviDiagnostic } from '../compiler/index.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** A path as the user would type it from the working folder. */
export function shownPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** A study's text for quoting source lines in diagnostics; '' when it cannot be read. */
export function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** A study's diagnostics compiler-style (location, source line, caret), one block each. */
export function printDiagnostics(write: (text: string) => void, file: string, diagnostics: LviDiagnostic[], text = readText(file)): void {
  for (const d of diagnostics) write(`${renderDiagnostic(d, text, shownPath(file))}\n`);
}
