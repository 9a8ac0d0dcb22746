// Seeded mangling of study text for the fuzz tests: characters deleted, pieces of lvi syntax
// inserted, lines swapped. The same seed gives the same texts, so a failure names its case.
import type { Rng } from './tensors.js';

/** Pieces inserted at random places: brackets, quotes, operators, keywords, line breaks. */
export const PIECES = ['=', '(', ')', '[', ']', ',', '%', '..', '"', '#', '\n', '\n    ', ' ', 'model', 'x', '-', '1.5', '@'];

/** Pieces that reach the newer syntax too: calls, lists of calls, layer names, odd line breaks and numbers. */
export const MORE_PIECES = [...PIECES, 'blur(sigma=', 'degradations=[', 'layer="', 'clean', '\r', '\r\n', '\t', 'é', '1e309', '-0', '{'];

/** 1 to 4 edits of `text`. */
export function mangle(text: string, r: Rng, pieces: readonly string[] = PIECES): string {
  let t = text;
  const edits = 1 + Math.floor(r() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(r() * (t.length + 1));
    const op = r();
    if (op < 0.35) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(r() * 3));
    else if (op < 0.8) t = t.slice(0, at) + pieces[Math.floor(r() * pieces.length)] + t.slice(at);
    else {
      const lines = t.split('\n');
      const a = Math.floor(r() * lines.length);
      const b = Math.floor(r() * lines.length);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      t = lines.join('\n');
    }
  }
  return t;
}
