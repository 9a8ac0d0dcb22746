// Formatting is `lvi fmt`: the compiler's formatStudy. A study that does not parse is left as it
// is (formatting must never lose text).
import type { Range, TextEdit } from 'vscode-languageserver';
import { formatStudy } from '../compiler/index.js';
import type { StudyView } from './study.js';

export function formatting(view: StudyView): TextEdit[] {
  const text = view.parsed.text;
  if (view.parsed.diagnostics.length > 0) return [];
  let formatted: string;
  try {
    formatted = formatStudy(text, view.parsed.uri);
  } catch {
    return [];
  }
  // `lvi fmt` writes \n; the editor's document keeps the line ending it has.
  const eol = /\r\n?|\n/.exec(text)?.[0] ?? '\n';
  if (eol !== '\n') formatted = formatted.replace(/\n/g, eol);
  if (formatted === text) return [];
  return [minimalEdit(view, text, formatted)];
}

/** One edit covering only the lines that changed, so the cursor and folds elsewhere stay put. */
function minimalEdit(view: StudyView, before: string, after: string): TextEdit {
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before[start] === after[start]) start++;
  let endB = before.length;
  let endA = after.length;
  while (endB > start && endA > start && before[endB - 1] === after[endA - 1]) {
    endB--;
    endA--;
  }
  // Widen to whole lines of the original (any line ending: the index knows them).
  const lines = view.parsed.lines;
  start = lines.starts[lines.position(start).line]!;
  const lineEndB = Math.max(endB, lines.lineEnd(lines.position(endB).line));
  const startA = start; // the text before `start` is identical in both
  const tailLen = before.length - lineEndB;
  const range: Range = view.parsed.lines.range(start, lineEndB);
  return { range, newText: after.slice(startA, after.length - tailLen) };
}
