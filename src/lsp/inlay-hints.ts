// Inlay hints: the parameters a statement leaves at their defaults, shown after its last line,
// so a reader sees what will run (`steps=50 sigma=1.2 …`) without the catalogue open.
import { InlayHintKind, MarkupKind, type InlayHint, type Range } from 'vscode-languageserver';
import { writeDefault } from './docs.js';
import { propertySpan, statements, type StudyView } from './study.js';

export function inlayHints(view: StudyView, range?: Range): InlayHint[] {
  const out: InlayHint[] = [];
  for (const st of statements(view)) {
    const spec = view.catalogue[st.kind];
    const span = propertySpan(st);
    if (!spec || !span) continue;
    const given = new Set((st.params ?? []).map((p) => p?.key));
    const end = view.parsed.lines.position(span.end);
    if (range && (end.line < range.start.line || end.line > range.end.line)) continue;
    for (const [key, p] of Object.entries(spec.params)) {
      if (given.has(key) || p.default === undefined) continue;
      out.push({
        position: end,
        label: `${key}=${writeDefault(p.default, p.type)}`,
        kind: InlayHintKind.Parameter,
        paddingLeft: true,
        tooltip: { kind: MarkupKind.Markdown, value: `default — ${p.doc}` },
      });
    }
  }
  return out;
}
