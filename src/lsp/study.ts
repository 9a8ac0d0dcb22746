// One view of a study that every feature reads: the parse and the check (the same checkStudy
// that `lvi check` runs), plus the names it declares and uses. Built once per parse of a
// document and shared by diagnostics and every request on that version.
import path from 'node:path';
import { GrammarUtils, type AstNode, type LangiumDocument } from 'langium';
import { CATALOGUE, refKinds, type Catalogue, type KindSpec, type ParamSpec, type ParamType } from '../../grammar/catalogue.js';
import { checkStudy, type CheckResult, type CheckedStatement } from '../compiler/check.js';
import type { LineIndex, Position, Range } from '../compiler/diagnostics.js';
import type { CallLit, NameLit, Param, Statement, Study, Value } from '../compiler/generated/ast.js';
import { parseStudy } from '../compiler/parse.js';
import { parsedFromDocument, studyFolder, type ParsedStudy } from '../compiler/source.js';
import type { ModelRef } from './model-summary.js';

/** A statement name where it is declared or used. */
export interface NameUse {
  name: string;
  start: number;
  end: number;
  range: Range;
  declaration: boolean;
  statement: Statement;
  /** For a use: the parameter it is the value of, and the kinds that parameter accepts. */
  param?: string;
  kinds?: string[];
}

export interface StudyView {
  parsed: ParsedStudy;
  check: CheckResult;
  /** Declarations and references of statement names, in source order. */
  uses: NameUse[];
  /** The catalogue the study was checked against (tests may pass their own). */
  catalogue: Catalogue;
  /** Declarations by name (the first wins, as in the checker). */
  declarations: Map<string, NameUse>;
}

export function viewOf(parsed: ParsedStudy, catalogue: Catalogue = CATALOGUE): StudyView {
  const check = checkStudy(parsed, { catalogue });
  const uses = collectUses(parsed, check, catalogue);
  const declarations = new Map<string, NameUse>();
  for (const u of uses) if (u.declaration && !declarations.has(u.name)) declarations.set(u.name, u);
  return { parsed, check, uses, catalogue, declarations };
}

/** For tests, tools and the benchmark: parse and check a text. */
export function studyFromText(text: string, uri = 'untitled.lvi', catalogue: Catalogue = CATALOGUE): StudyView {
  return viewOf(parseStudy(text, uri), catalogue);
}

// Keyed by the parse's root node: a new parse makes a new view, requests on the same one share it.
const views = new WeakMap<object, StudyView>();

/**
 * The view of a document's latest parse. The editor's text may already be newer (an edit whose
 * parse has not run yet), so the view is built from the text that was parsed, which the parse
 * tree keeps: positions in the view always match its tree.
 */
export function studyOfDocument(document: LangiumDocument): StudyView {
  const root = document.parseResult.value as Study;
  let view = views.get(root);
  if (!view) {
    view = viewOf(parsedFromDocument(document, root.$cstNode?.root.fullText));
    views.set(root, view);
  }
  return view;
}

export function offsetAt(parsed: { lines: LineIndex }, position: Position): number {
  return parsed.lines.offset(position);
}

export function rangeOf(parsed: { lines: LineIndex }, start: number, end: number): Range {
  return parsed.lines.range(start, end);
}

/** Source span of a node's property (e.g. a statement's `name`), or of the node itself. */
export function propertySpan(node: AstNode, property?: string): { start: number; end: number } | undefined {
  const cst = property ? GrammarUtils.findNodeForProperty(node.$cstNode, property) : node.$cstNode;
  return cst ? { start: cst.offset, end: cst.end } : undefined;
}

export function statements(view: StudyView): Statement[] {
  return ((view.parsed.ast as Study | undefined)?.statements ?? []).filter((s): s is Statement => !!s?.kind);
}

export function checkedOf(view: StudyView, st: Statement): CheckedStatement | undefined {
  return view.check.statements.find((c) => c.node === st);
}

/** The statement a name declares, if any statement declares it. */
export function declarationOf(view: StudyView, name: string): NameUse | undefined {
  return view.declarations.get(name);
}

/** The name use under an offset (a declaration or a reference). */
export function useAt(view: StudyView, offset: number): NameUse | undefined {
  return view.uses.find((u) => u.start <= offset && offset <= u.end);
}

/** Whether a type accepts a statement name, and which kinds. */
export function refKindsOf(t: ParamType, catalogue: Catalogue = CATALOGUE): string[] | undefined {
  switch (t.type) {
    case 'ref':
      return refKinds(t.kinds, catalogue);
    case 'list':
      return refKindsOf(t.of, catalogue);
    case 'union': {
      const ks = t.of.flatMap((u) => refKindsOf(u, catalogue) ?? []);
      return ks.length ? ks : undefined;
    }
    default:
      return undefined;
  }
}

/** Words a type takes as values (enum values, true/false), through lists and unions. */
export function enumValuesOf(t: ParamType): string[] {
  switch (t.type) {
    case 'enum':
      return t.values;
    case 'bool':
      return ['true', 'false'];
    case 'list':
      return enumValuesOf(t.of);
    case 'union':
      return t.of.flatMap(enumValuesOf);
    default:
      return [];
  }
}

function collectUses(parsed: ParsedStudy, check: CheckResult, catalogue: Catalogue): NameUse[] {
  const uses: NameUse[] = [];
  const lines = parsed.lines;
  const checkedByNode = new Map(check.statements.map((c) => [c.node, c]));
  for (const st of (parsed.ast?.statements ?? []).filter((s): s is Statement => !!s?.kind)) {
    const spec: KindSpec | undefined = checkedByNode.get(st)?.spec;
    if (st.name !== undefined && !spec?.nameIsString) {
      const span = propertySpan(st, 'name');
      if (span && !/^["']/.test(parsed.text.slice(span.start, span.end))) {
        uses.push({ name: st.name, ...span, range: lines.range(span.start, span.end), declaration: true, statement: st });
      }
    }
    if (!spec) continue;
    for (const p of st.params ?? []) {
      const pspec: ParamSpec | undefined = p?.key ? spec.params[p.key] : undefined;
      const kinds = pspec ? refKindsOf(pspec.type, catalogue) : undefined;
      if (!pspec || !kinds || !p.value) continue;
      const words = enumValuesOf(pspec.type);
      for (const lit of nameLits(p.value)) {
        if (words.includes(lit.name)) continue;
        const span = propertySpan(lit);
        if (!span) continue;
        uses.push({ name: lit.name, ...span, range: lines.range(span.start, span.end), declaration: false, statement: st, param: p.key, kinds });
      }
    }
  }
  return uses.sort((a, b) => a.start - b.start);
}

/** Bare names in a value: the value itself, or the items of a list (a sweep or a list type). */
function nameLits(v: Value): NameLit[] {
  if (v.$type === 'NameLit') return [v];
  if (v.$type === 'ListLit') return (v.items ?? []).flatMap((i) => (i ? nameLits(i) : []));
  return [];
}

/** The string a statement gives a parameter, when it is a plain string. */
export function stringParam(st: Statement, key: string): string | undefined {
  const v = st.params?.find((p) => p?.key === key)?.value;
  return v?.$type === 'StringLit' ? v.value : undefined;
}

/** Folder that relative paths in the study start from (none for unsaved studies). */
export function studyDir(view: StudyView): string | undefined {
  return studyFolder(view.parsed);
}

/** What a `model` statement points at: a zoo id or a model file (absolute). */
export function modelRefOf(view: StudyView, st: Statement): ModelRef | undefined {
  if (st.kind !== 'model') return undefined;
  const zoo = stringParam(st, 'zoo');
  if (zoo) return { zoo };
  const file = stringParam(st, 'file');
  const dir = studyDir(view);
  if (file && dir) return { file: path.resolve(dir, file) };
  return undefined;
}

/** The statement declaring `name`. */
export function statementNamed(view: StudyView, name: string): Statement | undefined {
  return declarationOf(view, name)?.statement;
}

/** What the parsed tree has at an offset: the statement and, within it, the part hit. */
export interface NodeAt {
  statement: Statement;
  part: 'kind' | 'name' | 'key' | 'value' | 'call' | 'arg-key' | 'other';
  /** The statement parameter hit (for keys and values). */
  param?: Param;
  /** For calls: the call and the argument hit. */
  call?: CallLit;
  arg?: Param;
  /** The innermost value hit. */
  value?: Value;
  start: number;
  end: number;
}

const inside = (span: { start: number; end: number } | undefined, offset: number) =>
  !!span && span.start <= offset && offset < span.end;

export function nodeAt(view: StudyView, offset: number): NodeAt | undefined {
  const st = statements(view).find((s) => inside(propertySpan(s), offset));
  if (!st) return undefined;
  const kindSpan = propertySpan(st, 'kind');
  if (inside(kindSpan, offset)) return { statement: st, part: 'kind', ...kindSpan! };
  const nameSpan = propertySpan(st, 'name');
  if (inside(nameSpan, offset)) return { statement: st, part: 'name', ...nameSpan! };
  for (const p of st.params ?? []) {
    if (!p || !inside(propertySpan(p), offset)) continue;
    const keySpan = propertySpan(p, 'key');
    if (inside(keySpan, offset)) return { statement: st, part: 'key', param: p, ...keySpan! };
    const hit = valueAt(p.value, offset);
    if (hit) return { statement: st, param: p, ...hit };
    return { statement: st, part: 'other', param: p, ...propertySpan(p)! };
  }
  return { statement: st, part: 'other', ...propertySpan(st)! };
}

function valueAt(v: Value | undefined, offset: number): Omit<NodeAt, 'statement' | 'param'> | undefined {
  if (!v) return undefined;
  const span = propertySpan(v);
  if (!inside(span, offset)) return undefined;
  switch (v.$type) {
    case 'ListLit':
    case 'TupleLit':
      for (const item of v.items ?? []) {
        const hit = valueAt(item, offset);
        if (hit) return hit;
      }
      return { part: 'other', value: v, ...span! };
    case 'CallLit': {
      const nameSpan = propertySpan(v, 'name');
      if (inside(nameSpan, offset)) return { part: 'call', call: v, value: v, ...nameSpan! };
      for (const a of v.args ?? []) {
        if (!a) continue;
        const keySpan = propertySpan(a, 'key');
        if (inside(keySpan, offset)) return { part: 'arg-key', call: v, arg: a, ...keySpan! };
        const hit = valueAt(a.value, offset);
        if (hit) return { ...hit, call: v, arg: a };
      }
      return { part: 'other', value: v, ...span! };
    }
    default:
      return { part: 'value', value: v, ...span! };
  }
}
