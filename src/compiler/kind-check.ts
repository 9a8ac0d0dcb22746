// The acceptor through which a kind's own cross-parameter rule (KindSpec.check, kept beside the
// kind in grammar/kinds/) sees its statement and reports; ranges are computed here, not there.

import { tableColumns, type Catalogue, type CheckedLike, type KindCheck, type KindSpec, type ModelFacts } from '../../grammar/catalogue.js';
import type { DiagnosticCode, Range } from './diagnostics.js';
import fs from 'node:fs';
import { decodeModel } from '../runtime/onnx/codec.js';
import { imageSize } from './image-size.js';
import type { ResolvedValue } from './plan.js';
import type { Param, Statement } from './generated/ast.js';
import { zooScale } from '../../grammar/zoo-table.js';

/** A checked statement as this module needs it (check.ts's CheckedStatement fits). */
export interface CheckedStatement {
  node: Statement;
  kind: string;
  spec: KindSpec;
  name: string;
  params: Map<string, { node: Param; sweep?: ResolvedValue[]; value?: ResolvedValue }>;
  broken: boolean;
}

export interface CheckHost {
  statement(name: string | undefined): CheckedStatement | undefined;
  report(code: DiagnosticCode, message: string, range: Range, extra?: { data?: Record<string, unknown> }): void;
  nodeRange(node: import('langium').AstNode | undefined): Range;
  readonly catalogue: Catalogue;
}

/** Runs the statement's kind rule, if it has one. */
export function runKindCheck(st: CheckedStatement, host: CheckHost): void {
  const rule = st.spec.check;
  if (!rule) return;
  const view = (s: CheckedStatement): CheckedLike => ({ kind: s.kind, name: s.name, value: (k) => s.params.get(k)?.value });
  const refName = (v: unknown) => (typeof v === 'object' && v !== null && 'ref' in v ? (v as { ref: string }).ref : undefined);
  const byName = new Map<string, CheckedStatement>();
  const lookup = (v: unknown) => {
    const s = host.statement(refName(v));
    if (s) byName.set(s.name, s);
    return s;
  };
  const scaleOf = (s: CheckedStatement | undefined, depth = 0): number | undefined => {
    if (!s || depth > 64) return undefined;
    if (s.kind === 'model') return modelStatementScale(s.params.get('scale')?.value, s.params.get('zoo')?.value);
    const from = s.spec.modelFrom;
    return from ? scaleOf(lookup(s.params.get(from)?.value), depth + 1) : undefined;
  };
  const fileOf = (s: CheckedStatement | undefined, depth = 0): string | undefined => {
    if (!s || depth > 64) return undefined;
    if (s.kind === 'model') {
      const f = s.params.get('file')?.value;
      return typeof f === 'string' ? f : undefined;
    }
    const from = s.spec.modelFrom;
    return from ? fileOf(lookup(s.params.get(from)?.value), depth + 1) : undefined;
  };
  const check: KindCheck = {
    values(key) {
      const p = st.params.get(key);
      return p ? (p.sweep ?? (p.value === undefined ? [] : [p.value])) : [];
    },
    statement(ref) {
      const s = lookup(ref);
      return s && view(s);
    },
    imageSize: (file) => imageSize(file),
    modelGraph: (s) => {
      const file = fileOf(s ? byName.get(s.name) ?? host.statement(s.name) : undefined);
      return file ? modelFacts(file) : undefined;
    },
    kindColumns: (kinds) => tableColumns(host.catalogue, kinds),
    modelScale: (s) => scaleOf(s ? byName.get(s.name) ?? host.statement(s.name) : undefined),
    accept(code, message, at, data) {
      const p = st.params.get(at.param);
      const value = p?.node.value;
      const items = value?.$type === 'ListLit' ? value.items : undefined;
      const node = at.index !== undefined && items ? items[at.index] ?? value : value ?? p?.node ?? st.node;
      host.report(code as DiagnosticCode, message, host.nodeRange(node), { data });
      st.broken = true;
    },
  };
  rule(view(st), check);
}

/**
 * A model statement's scale as the compiler fills it in: scale=, else the zoo id's, else 4 (a
 * file model without scale= is taken to be x4, as the catalogue's note says).
 */
export function modelStatementScale(scale: ResolvedValue | undefined, zoo: ResolvedValue | undefined): number {
  if (typeof scale === 'number') return scale;
  return (typeof zoo === 'string' ? zooScale(zoo) : undefined) ?? 4;
}

const factsCache = new Map<string, { mtimeMs: number; facts: ModelFacts | undefined }>();

/** Tensor and weight names of an ONNX file (decoded, never run), cached by modification time. */
export function modelFacts(file: string): ModelFacts | undefined {
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const hit = factsCache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.facts;
  let facts: ModelFacts | undefined;
  try {
    const g = decodeModel(fs.readFileSync(file));
    facts = {
      file,
      tensors: [...g.inputs.map((v) => v.name), ...g.nodes.flatMap((n) => n.outputs.filter(Boolean))],
      weights: [...g.initializers].map(([name, t]) => ({ name, dims: [...t.dims] })),
    };
  } catch {
    facts = undefined; // not an ONNX model: the model statement's own check reports it
  }
  factsCache.set(file, { mtimeMs, facts });
  return facts;
}
