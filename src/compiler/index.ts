// The compiler's public API, used by the `lvi` command and the language server.
//
//   const parsed = parseStudy(text, uri);          // AST + syntax diagnostics (with recovery)
//   const checked = checkStudy(parsed);            // + every catalogue diagnostic, typed statements
//   const { plan, diagnostics } = compileStudy(file);   // read + parse + check + plan
//   formatStudy(text);                             // canonical layout (idempotent, keeps comments)
//
// Diagnostics carry a stable `code` (DIAGNOSTIC_CODES), a 0-based LSP `range`, 1-based
// `line`/`column`, and for typos a `suggestion` ({ text, range }) that a quick fix can apply.

export { CATALOGUE, TABLE_COLUMNS, describeType, refKinds } from '../../grammar/catalogue.js';
export type { Catalogue, DefaultValue, KindSpec, ParamSpec, ParamType } from '../../grammar/catalogue.js';
export { checkStudy, zooScale } from './check.js';
export type { CheckOptions, CheckResult, CheckedParam, CheckedStatement } from './check.js';
export { canonicalJson, compileChecked, compileStudy, compileText, defaultReportFile, lviVersion, sha256, slug, studyOutput } from './compile.js';
export type { CompileOptions, CompileResult } from './compile.js';
export {
  DIAGNOSTIC_CODES,
  LineIndex,
  renderDiagnostic,
  sortDiagnostics,
} from './diagnostics.js';
export type { DiagnosticCode, LviDiagnostic, Position, Range, Severity, Suggestion } from './diagnostics.js';
export { kindHover, paramHover, renderLanguageReference } from './docs.js';
export { StudySyntaxError, formatStudy } from './format.js';
export * as ast from './generated/ast.js';
export { LviGeneratedModule, LviGeneratedSharedModule, LviLanguageMetaData } from './generated/module.js';
export { renderPlan } from './graph.js';
export type { GraphFormat } from './graph.js';
export { lviServices, parseStudy } from './parse.js';
export { parsedFromDocument, toUri } from './source.js';
export type { ParsedStudy } from './source.js';
export type { Plan, PlanNode, ResolvedValue, SourceSpan } from './plan.js';
export { LviModule, createLviServices } from './services.js';
export type { LviServiceSet, LviServices } from './services.js';
export { LviDocumentValidator, toLspDiagnostic } from './validator.js';
export { locate } from './locate.js';
export type { CursorInfo } from './locate.js';
