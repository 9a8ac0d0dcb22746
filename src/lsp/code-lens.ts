// Code lenses: "Run" above each analysis and "Run study" / "Open report" above the first
// statement. They name editor-side commands (the extension registers them); the server itself
// never runs a study.
import fs from 'node:fs';
import type { CodeLens } from 'vscode-languageserver';
import { clientCommands, type ReportPathResult } from './custom-requests.js';
import { propertySpan, rangeOf, statements, type StudyView } from './study.js';
import { defaultReportFile, studyOutput } from '../compiler/index.js';

export function codeLenses(view: StudyView): CodeLens[] {
  if (!view.parsed.uri.startsWith('file:')) return [];
  const uri = view.parsed.uri;
  const out: CodeLens[] = [];
  const all = statements(view);
  const first = all[0] && propertySpan(all[0], 'kind');
  if (first) {
    const range = rangeOf(view.parsed, first.start, first.end);
    out.push({ range, command: { title: '▶ Run study', command: clientCommands.runStudy, arguments: [uri] } });
    out.push({ range, command: { title: 'Open report', command: clientCommands.openReport, arguments: [uri] } });
  }
  for (const st of all) {
    if (!view.catalogue[st.kind]?.analysis) continue;
    const kind = propertySpan(st, 'kind');
    if (!kind) continue;
    const name = st.name ?? st.kind;
    out.push({
      range: rangeOf(view.parsed, kind.start, kind.end),
      command: { title: `▶ Run ${name}`, command: clientCommands.runStatement, arguments: [uri, name] },
    });
  }
  return out;
}

/** Where `lvi run` writes the report: the report statement's file=, else <out>/report.html. */
export function reportPath(view: StudyView): ReportPathResult {
  if (!view.parsed.uri.startsWith('file:')) return { path: null, exists: false };
  const { outDir } = studyOutput(view.check);
  const report = view.check.statements.find((s) => s.kind === 'report');
  const file = (report?.params.get('file')?.value as string | undefined) ?? defaultReportFile(outDir);
  return { path: file, exists: fs.existsSync(file) };
}
