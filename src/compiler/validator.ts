// The language server's diagnostics come from checkStudy, the same code `lvi check` runs, so
// the editor and the command line always agree (codes, ranges, wording, suggestions).
import type { DocumentValidator, LangiumDocument } from 'langium';
import { checkStudy } from './check.js';
import type { LviDiagnostic } from './diagnostics.js';
import { parsedFromDocument } from './source.js';

type Diagnostic = Awaited<ReturnType<DocumentValidator['validateDocument']>>[number];

// LSP DiagnosticSeverity numbers.
const SEVERITY = { error: 1, warning: 2, info: 3 } as const;

/** An lvi diagnostic in LSP form; `data` carries the suggestion and extra facts for code actions. */
export function toLspDiagnostic(d: LviDiagnostic): Diagnostic {
  return {
    range: d.range,
    severity: SEVERITY[d.severity],
    code: d.code,
    source: 'lvi',
    message: d.message,
    data: { ...(d.data ?? {}), ...(d.suggestion ? { suggestion: d.suggestion } : {}) },
  };
}

export class LviDocumentValidator implements DocumentValidator {
  async validateDocument(document: LangiumDocument): Promise<Diagnostic[]> {
    return checkStudy(parsedFromDocument(document)).diagnostics.map(toLspDiagnostic);
  }
}
