// Where a study may write: inside its own folder. A study is a file people download and run, so
// an output path (study out=, report file=) that leaves the study's folder, or is absolute, is an
// error at its place; `lvi run --allow-out PATH` is the user's way to say otherwise. Names that
// become folder names (the study's name in the default out/<name>) are made safe, not refused.
import path from 'node:path';
import type { ParamSpec } from '../../grammar/catalogue.js';
import { makeDiagnostic, type LviDiagnostic } from './diagnostics.js';
import type { ParsedStudy } from './source.js';

/** The parts of a checked statement this rule reads (kept structural: no import cycle with check.ts). */
interface StatementLike {
  spec: { params: Record<string, ParamSpec> };
  params: Map<string, { key: string; node: { value?: { $cstNode?: { offset: number; end: number } } }; value?: unknown }>;
}

/** True when `p` is `dir` or lies below it (both absolute). */
export function isInside(dir: string, p: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(p));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * A name as one safe folder name: characters outside [A-Za-z0-9._-] become '-', leading and
 * trailing dots and dashes go (so `../../../x` is `x`), and an empty result is `study`.
 */
export function safeSegment(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+|[.-]+$/g, '');
  return s === '' ? 'study' : s;
}

/**
 * `path-escapes` for every output path of the study that is absolute or leaves the study's
 * folder, at the value's place. Pure: reads the checked statements only (no file system).
 */
export function confinePaths(parsed: ParsedStudy, statements: StatementLike[]): LviDiagnostic[] {
  if (!parsed.uri.startsWith('file:')) return []; // an unsaved study has no folder yet
  const studyDir = path.dirname(parsed.file);
  const out: LviDiagnostic[] = [];
  for (const st of statements) {
    for (const [key, cp] of st.params) {
      const spec = st.spec.params[key];
      if (!spec || spec.type.type !== 'path' || !spec.type.output || typeof cp.value !== 'string') continue;
      const cst = cp.node.value?.$cstNode;
      const given = parsed.text.slice(cst?.offset ?? 0, cst?.end ?? 0).replace(/^"|"$/g, '');
      const range = cst ? parsed.lines.range(cst.offset, cst.end) : parsed.lines.range(0, 0);
      if (path.isAbsolute(given) || /^[A-Za-z]:[\\/]/.test(given)) {
        out.push(makeDiagnostic(parsed.file, 'path-escapes', `\`${key}\`: "${given}" is an absolute path; outputs are written inside the study's folder, so give a path relative to it (or run with \`lvi run --allow-out PATH\`)`, range, { data: { path: cp.value } }));
      } else if (!isInside(studyDir, cp.value)) {
        out.push(makeDiagnostic(parsed.file, 'path-escapes', `\`${key}\`: "${given}" leaves the study's folder (${cp.value}); outputs stay inside it unless \`lvi run --allow-out PATH\` allows more`, range, { data: { path: cp.value } }));
      }
    }
  }
  return out;
}

/**
 * The check with the `path-escapes` errors that `lvi run --allow-out` allows removed (their path
 * lies inside one of `allowOut`, absolute folders), ready for compileChecked.
 */
export function allowEscapes<C extends { diagnostics: LviDiagnostic[]; hasErrors: boolean }>(check: C, allowOut: string[]): C {
  const allowed = (d: LviDiagnostic) => d.code === 'path-escapes' && typeof d.data?.path === 'string' && allowOut.some((a) => isInside(a, d.data!.path as string));
  const diagnostics = check.diagnostics.filter((d) => !allowed(d));
  return { ...check, diagnostics, hasErrors: diagnostics.some((d) => d.severity === 'error') };
}
