// Quick fixes: apply a diagnostic's did-you-mean suggestion, add a missing required parameter,
// install the npm package of a zoo model that is not installed. The server never runs anything:
// installing is a command the editor runs in a terminal when the user picks it.
import {
  CodeActionKind,
  type CodeAction,
  type Command,
  type Diagnostic,
  type Range,
} from 'vscode-languageserver';
import type { KindSpec, ParamSpec } from '../../grammar/catalogue.js';
import type { Suggestion } from '../compiler/diagnostics.js';
import { clientCommands } from './custom-requests.js';
import { exampleValue, quoted, writeDefault } from './docs.js';
import type { Environment } from './environment.js';
import { nodeAt, offsetAt, propertySpan, refKindsOf, statements, studyDir, type StudyView } from './study.js';

export function codeActions(view: StudyView, range: Range, diagnostics: Diagnostic[], env: Environment): (CodeAction | Command)[] {
  const out: CodeAction[] = [];
  const uri = view.parsed.uri;
  for (const d of diagnostics) {
    const data = (d.data ?? {}) as { suggestion?: Suggestion; param?: string; params?: string[] };
    if (data.suggestion) {
      out.push({
        title: `Change to \`${data.suggestion.text}\``,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: true,
        edit: { changes: { [uri]: [{ range: data.suggestion.range, newText: data.suggestion.text }] } },
      });
    }
    if (d.code === 'missing-param') {
      const keys = data.param ? [data.param] : data.params ?? [];
      for (const key of keys) {
        const fix = addParameter(view, d.range, key, env);
        if (fix) out.push({ ...fix, diagnostics: [d], isPreferred: keys.length === 1 });
      }
    }
  }
  // A zoo model whose package is missing: offer to install it.
  const hit = nodeAt(view, offsetAt(view.parsed, range.start));
  const v = hit?.param?.key === 'zoo' && hit.statement.kind === 'model' ? hit.param.value : undefined;
  if (v?.$type === 'StringLit') {
    const z = env.zoo(studyDir(view)).find((e) => e.id === v.value);
    if (z && !z.installed) {
      out.push({
        title: `Install ${z.package} (npm install ${z.package})`,
        kind: CodeActionKind.QuickFix,
        command: {
          title: `npm install ${z.package}`,
          command: clientCommands.installPackage,
          arguments: [z.package, studyDir(view) ?? null],
        },
      });
    }
  }
  return out;
}

/** Insert ` key=value` at the end of the statement the diagnostic is on. */
function addParameter(view: StudyView, at: Range, key: string, env: Environment): CodeAction | undefined {
  const offset = offsetAt(view.parsed, at.start);
  const st = statements(view).find((s) => {
    const span = propertySpan(s);
    return span && span.start <= offset && offset <= span.end;
  });
  const spec: KindSpec | undefined = st ? view.catalogue[st.kind] : undefined;
  const p = spec?.params[key];
  const span = st && propertySpan(st);
  if (!st || !spec || !p || !span) return undefined;
  const value = proposedValue(view, spec, key, p, st.name, env);
  const pos = view.parsed.lines.position(span.end);
  return {
    title: `Add \`${key}=${value}\``,
    kind: CodeActionKind.QuickFix,
    edit: { changes: { [view.parsed.uri]: [{ range: { start: pos, end: pos }, newText: ` ${key}=${value}` }] } },
  };
}

/** A value that fits: a declared name of the right kind, the default, or the example's value. */
function proposedValue(view: StudyView, spec: KindSpec, key: string, p: ParamSpec, self: string | undefined, env: Environment): string {
  const kinds = refKindsOf(p.type, view.catalogue);
  if (kinds) {
    const name = view.uses.find((u) => u.declaration && u.name !== self && kinds.includes(u.statement.kind))?.name;
    if (name) return name;
  }
  if (p.default !== undefined) return writeDefault(p.default, p.type);
  // The example's files are not the user's: leave the path to fill in (completion helps there).
  if (p.type.type === 'path') return '""';
  if (key === 'zoo') {
    const installed = env.zoo(studyDir(view)).find((z) => z.installed);
    return installed ? JSON.stringify(installed.id) : '""';
  }
  const ex = exampleValue(spec, key);
  if (ex && !kinds) return ex;
  if (p.type.type === 'enum') return p.type.values[0]!;
  if (p.type.type === 'tuple') return `(${p.type.names.map(() => '0').join(',')})`;
  return quoted(p.type) ? '""' : kinds ? 'name' : '0';
}
