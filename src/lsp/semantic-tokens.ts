// Semantic tokens: what the TextMate grammar cannot know. A name is coloured by what it refers
// to (a model, an image, an analysis) and whether it resolves; allowed words and parameters are
// coloured only where the catalogue knows them for that statement.
import { SemanticTokensBuilder, type Range, type SemanticTokens } from 'vscode-languageserver';
import { callFunction, type Catalogue, type ParamSpec } from '../../grammar/catalogue.js';
import type { Param, Value } from '../compiler/generated/ast.js';
import { declarationOf, enumValuesOf, propertySpan, statements, type StudyView } from './study.js';

export const TOKEN_TYPES = ['keyword', 'class', 'variable', 'function', 'parameter', 'enumMember', 'type', 'property'] as const;
export const TOKEN_MODIFIERS = ['declaration', 'readonly', 'defaultLibrary'] as const;

const T = Object.fromEntries(TOKEN_TYPES.map((t, i) => [t, i])) as Record<(typeof TOKEN_TYPES)[number], number>;
const M = Object.fromEntries(TOKEN_MODIFIERS.map((m, i) => [m, 1 << i])) as Record<(typeof TOKEN_MODIFIERS)[number], number>;

export const SEMANTIC_LEGEND = { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] };

/** The token type a statement of this kind gives its name. */
function nameType(kind: string, catalogue: Catalogue): number {
  if (kind === 'model') return T.class;
  if (catalogue[kind]?.analysis) return T.function;
  return T.variable;
}

export interface RawToken {
  start: number;
  end: number;
  type: number;
  modifiers: number;
}

/** Tokens in source order, as offsets (also what the tests read). */
export function semanticTokenList(view: StudyView): RawToken[] {
  const out: RawToken[] = [];
  const push = (span: { start: number; end: number } | undefined, type: number, modifiers = 0) => {
    if (span && span.end > span.start) out.push({ ...span, type, modifiers });
  };
  const values = (v: Value | undefined, spec: ParamSpec | undefined) => {
    if (!v) return;
    switch (v.$type) {
      case 'NameLit': {
        const words = spec ? enumValuesOf(spec.type) : [];
        if (words.includes(v.name)) push(propertySpan(v), T.enumMember, M.readonly);
        else {
          const decl = declarationOf(view, v.name);
          if (decl) push(propertySpan(v), nameType(decl.statement.kind, view.catalogue));
        }
        break;
      }
      case 'ListLit':
      case 'TupleLit':
        (v.items ?? []).forEach((i) => values(i, spec));
        break;
      case 'CallLit': {
        push(propertySpan(v, 'name'), T.function, M.defaultLibrary);
        const fn = callFunction(spec?.type, v.name);
        (v.args ?? []).forEach((a) => param(a, fn?.args));
        break;
      }
      default:
        break;
    }
  };
  const param = (p: Param | undefined, specs: Record<string, ParamSpec> | undefined) => {
    if (!p?.key) return;
    const spec = specs?.[p.key];
    if (spec) push(propertySpan(p, 'key'), T.parameter);
    values(p.value, spec);
  };
  for (const st of statements(view)) {
    const spec = view.catalogue[st.kind];
    if (spec) push(propertySpan(st, 'kind'), T.keyword);
    const name = propertySpan(st, 'name');
    if (name && !/^["']/.test(view.parsed.text.slice(name.start, name.end))) {
      push(name, nameType(st.kind, view.catalogue), M.declaration);
    }
    (st.params ?? []).forEach((p) => param(p, spec?.params));
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Tokens of the whole study, or of the lines of `range`. */
export function semanticTokens(view: StudyView, range?: Range): SemanticTokens {
  const builder = new SemanticTokensBuilder();
  for (const t of semanticTokenList(view)) {
    const pos = view.parsed.lines.position(t.start);
    if (range && (pos.line < range.start.line || pos.line > range.end.line)) continue;
    builder.push(pos.line, pos.character, t.end - t.start, t.type, t.modifiers);
  }
  return builder.build();
}
