// Go to definition, find references, document highlights and rename, over the names statements
// declare (models, images, datasets, analyses) and the parameters that refer to them.
import {
  DocumentHighlightKind,
  type DocumentHighlight,
  type Location,
  type LocationLink,
  type Position,
  type Range,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import { catalogueWords } from './textmate.js';
import { terminalRegex } from './scan.js';
import { declarationOf, offsetAt, propertySpan, rangeOf, useAt, type NameUse, type StudyView } from './study.js';

export function definition(view: StudyView, position: Position): LocationLink[] {
  const use = useAt(view, offsetAt(view.parsed, position));
  const decl = use && declarationOf(view, use.name);
  if (!use || !decl) return [];
  const whole = propertySpan(decl.statement)!;
  return [
    {
      originSelectionRange: use.range,
      targetUri: view.parsed.uri,
      targetRange: rangeOf(view.parsed, whole.start, whole.end),
      targetSelectionRange: decl.range,
    },
  ];
}

/** Every use of the name under the cursor, the declaration first when asked for. */
function usesOfNameAt(view: StudyView, position: Position): NameUse[] | undefined {
  const use = useAt(view, offsetAt(view.parsed, position));
  if (!use || !declarationOf(view, use.name)) return undefined;
  return view.uses.filter((u) => u.name === use.name);
}

export function references(view: StudyView, position: Position, includeDeclaration: boolean): Location[] {
  return (usesOfNameAt(view, position) ?? [])
    .filter((u) => includeDeclaration || !u.declaration)
    .map((u) => ({ uri: view.parsed.uri, range: u.range }));
}

export function documentHighlights(view: StudyView, position: Position): DocumentHighlight[] {
  return (usesOfNameAt(view, position) ?? []).map((u) => ({
    range: u.range,
    kind: u.declaration ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
  }));
}

/** The range of a renameable name at the cursor, or why there is none. */
export function prepareRename(view: StudyView, position: Position): { range: Range; placeholder: string } | { error: string } {
  const use = useAt(view, offsetAt(view.parsed, position));
  if (!use) return { error: 'Only the names of statements (models, images, datasets, analyses) can be renamed.' };
  if (!declarationOf(view, use.name)) return { error: `No statement is named \`${use.name}\`.` };
  return { range: use.range, placeholder: use.name };
}

export function rename(view: StudyView, position: Position, newName: string): WorkspaceEdit | { error: string } {
  const uses = usesOfNameAt(view, position);
  if (!uses) return { error: 'Only the names of statements can be renamed.' };
  const problem = renameProblem(view, uses[0]!.name, newName);
  if (problem) return { error: problem };
  return { changes: { [view.parsed.uri]: uses.map((u) => ({ range: u.range, newText: newName })) } };
}

function renameProblem(view: StudyView, oldName: string, newName: string): string | undefined {
  if (newName === oldName) return undefined;
  const id = terminalRegex('ID');
  const m = id.exec(newName);
  if (!m || m[0] !== newName) return `\`${newName}\` is not a name: use letters, digits, _ and -, starting with a letter.`;
  if (declarationOf(view, newName)) return `The name \`${newName}\` is already used in this study.`;
  // An allowed word or a kind would read as that word, not as a reference.
  const words = catalogueWords(view.catalogue);
  if (words.values.includes(newName) || Object.keys(view.catalogue).includes(newName)) {
    return `\`${newName}\` is a word of the language; choose another name.`;
  }
  return undefined;
}
