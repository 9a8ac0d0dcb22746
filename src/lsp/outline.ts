// Document symbols (the outline: one entry per statement) and folding ranges (statements that
// span lines, lists that span lines, runs of comment lines).
import { FoldingRangeKind, SymbolKind, type DocumentSymbol, type FoldingRange } from 'vscode-languageserver';
import type { Catalogue } from '../../grammar/catalogue.js';
import type { Value } from '../compiler/generated/ast.js';
import { propertySpan, rangeOf, statements, type StudyView } from './study.js';

function symbolKind(kind: string, catalogue: Catalogue): SymbolKind {
  if (kind === 'study') return SymbolKind.Namespace;
  if (kind === 'model') return SymbolKind.Class;
  if (kind === 'image') return SymbolKind.File;
  if (kind === 'dataset') return SymbolKind.Package;
  if (catalogue[kind]?.analysis) return SymbolKind.Function;
  return SymbolKind.Object;
}

export function documentSymbols(view: StudyView): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const st of statements(view)) {
    const whole = propertySpan(st);
    const head = propertySpan(st, 'name') ?? propertySpan(st, 'kind');
    if (!whole || !head) continue;
    out.push({
      name: st.name ?? st.kind,
      detail: st.kind,
      kind: symbolKind(st.kind, view.catalogue),
      range: rangeOf(view.parsed, whole.start, whole.end),
      selectionRange: rangeOf(view.parsed, head.start, head.end),
    });
  }
  return out;
}

export function foldingRanges(view: StudyView): FoldingRange[] {
  const out: FoldingRange[] = [];
  const lineOf = (offset: number) => view.parsed.lines.position(offset).line;
  const add = (start: number, end: number, kind?: FoldingRangeKind) => {
    const a = lineOf(start);
    const b = lineOf(end);
    if (b > a) out.push({ startLine: a, endLine: b, ...(kind ? { kind } : {}) });
  };
  const visit = (v: Value | undefined) => {
    if (!v) return;
    if (v.$type === 'ListLit' || v.$type === 'TupleLit') {
      const span = propertySpan(v);
      if (span) add(span.start, span.end - 1);
      (v.items ?? []).forEach(visit);
    } else if (v.$type === 'CallLit') {
      const span = propertySpan(v);
      if (span) add(span.start, span.end - 1);
      (v.args ?? []).forEach((a) => visit(a?.value));
    }
  };
  for (const st of statements(view)) {
    const span = propertySpan(st);
    if (!span) continue;
    add(span.start, span.end - 1);
    (st.params ?? []).forEach((p) => visit(p?.value));
  }
  // Runs of two or more whole-line comments.
  const lines = view.parsed.lines;
  let start = -1;
  for (let i = 0; i <= lines.starts.length; i++) {
    const isComment = i < lines.starts.length && /^\s*#/.test(lines.lineText(i));
    if (isComment && start < 0) start = i;
    if (!isComment && start >= 0) {
      if (i - 1 > start) out.push({ startLine: start, endLine: i - 1, kind: FoldingRangeKind.Comment });
      start = -1;
    }
  }
  return out.sort((a, b) => a.startLine - b.startLine || b.endLine - a.endLine);
}
