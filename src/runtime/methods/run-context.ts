// What every method's runners read from their RunContext the same way: dependencies by role
// (a list parameter's runs as key[0], key[1], ...), statement names, the datasets among the
// dependencies, list values; and the small JSON and Markdown files they write.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ResolvedValue } from '../../compiler/plan.js';
import { buildSamples, toDegradation, type Degradation, type Samples } from '../data/samples.js';
import type { DatasetValue } from '../kernels/dataset.js';
import { numberParam, wordParam } from '../kernels/params.js';
import type { NodeResult, RunContext } from '../runner.js';

const roleIndex = (role: string) => Number(/\[(\d+)\]$/.exec(role)?.[1] ?? -1);

/** Dependency results of a parameter, in order: role `key`, or `key[0]`, `key[1]`, ... */
export function depsOf(ctx: RunContext, key: string): { role: string; nodeId: string; result: NodeResult }[] {
  return Object.entries(ctx.node.deps)
    .filter(([role]) => role === key || role.startsWith(`${key}[`))
    .sort(([a], [b]) => roleIndex(a) - roleIndex(b))
    .map(([role, nodeId]) => ({ role, nodeId, result: ctx.deps[role]! }));
}

/** Statement name of a plan node. */
export function statementOf(ctx: RunContext, nodeId: string | undefined): string {
  return ctx.plan.nodes.find((n) => n.id === nodeId)?.statement ?? nodeId ?? '?';
}

/** A node as tables name it: its statement, and its run when the statement is a sweep (top/share=1pct). */
export function runLabel(ctx: RunContext, nodeId: string): string {
  const n = ctx.plan.nodes.find((x) => x.id === nodeId);
  if (!n) return nodeId;
  return n.runId && n.runId !== 'default' ? `${n.statement}/${n.runId}` : n.statement ?? nodeId;
}

/** The datasets among the dependencies, by statement name. */
export function datasets(ctx: RunContext): Map<string, DatasetValue> {
  const out = new Map<string, DatasetValue>();
  for (const [role, nodeId] of Object.entries(ctx.node.deps)) {
    const v = ctx.deps[role]?.value as DatasetValue | undefined;
    if (v && Array.isArray(v.files) && typeof v.dir === 'string') out.set(statementOf(ctx, nodeId), v);
  }
  return out;
}

export function asList(v: ResolvedValue | undefined): ResolvedValue[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Writes `value` as indented JSON into dir; returns the file name. */
export function writeJson(dir: string, file: string, value: unknown): string {
  writeFileSync(path.join(dir, file), JSON.stringify(value, null, 1) + '\n');
  return file;
}

/** Four significant digits, whole numbers whole, exponents for the very small and large. */
export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 0.001 || a >= 1e5) ? v.toExponential(3) : v.toPrecision(4).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** A Markdown table: the first row is the header; numbers right-aligned and formatted. */
export function markdownTable(rows: (string | number)[][]): string {
  const fmt = (v: string | number) => (typeof v === 'number' ? formatNumber(v) : v);
  const [head, ...body] = rows.map((r) => r.map(fmt));
  return [`| ${head!.join(' | ')} |`, `| ${head!.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n';
}

/**
 * The samples of the given degradations from the node's data= (or `dataKey`), down=, patch= and
 * patches=, with the study's seed; `withHr` keeps each sample's HR image.
 */
export function samplesFor(ctx: RunContext, degradations: ResolvedValue[], scale: number, o: { dataKey?: string; withHr?: boolean } = {}): { samples: Samples; degradations: Degradation[] } {
  const sets = datasets(ctx);
  const ds = degradations.map((d) => toDegradation(d, (ref) => sets.get(ref)));
  const samples = buildSamples(ds, {
    data: ctx.deps[o.dataKey ?? 'data']?.value as DatasetValue | undefined,
    scale,
    down: wordParam(ctx.node, 'down', ['mean', 'bicubic'] as const),
    patch: numberParam(ctx.node, 'patch'),
    patches: numberParam(ctx.node, 'patches'),
    seed: ctx.plan.study.seed,
    studyDir: ctx.plan.studyDir,
    ...(o.withHr ? { withHr: true } : {}),
  });
  return { samples, degradations: ds };
}
