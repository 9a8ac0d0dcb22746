// `table` statements: one row per analysis run (a sweep's family or a list of statements),
// with columns read from the runs' summaries, parameters and models. Written as Markdown, CSV
// and JSON; the report embeds the JSON.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanNode, ResolvedValue } from '../../compiler/plan.js';
import type { NodeRunner, RunContext, NodeResult } from '../runner.js';
import { refName, valueText } from './params.js';

export type Cell = string | number | boolean | null;

export interface TableData {
  title: string;
  columns: string[];
  rows: Record<string, Cell>[];
}


export const tableKernel: NodeRunner = {
  kind: 'table',
  cache: true,
  async run(ctx) {
    const table = buildTable(ctx);
    const empty = table.columns.filter((c) => table.rows.every((r) => r[c] === null));
    if (empty.length) ctx.warn(`no run has a value for column ${empty.map((c) => `'${c}'`).join(', ')}`);
    // table.json is always written: the report reads it.
    const format = typeof ctx.node.params.format === 'string' ? ctx.node.params.format : 'all';
    const files: string[] = [];
    if (format === 'markdown' || format === 'all') {
      writeFileSync(join(ctx.runDir, 'table.md'), toMarkdown(table));
      files.push('table.md');
    }
    if (format === 'csv' || format === 'all') {
      writeFileSync(join(ctx.runDir, 'table.csv'), toCsv(table));
      files.push('table.csv');
    }
    writeFileSync(join(ctx.runDir, 'table.json'), JSON.stringify(table, null, 2) + '\n');
    files.push('table.json');
    return { summary: { columns: table.columns, rows: table.rows.length }, files };
  },
};

/**
 * The rows' dependency roles in order. The compiler names them `rows` (one run) or `rows[0]`,
 * `rows[1]`, ... (a sweep family or a list); any other deps are taken when none is named so.
 */
export function rowRoles(deps: Record<string, string>): string[] {
  const roles = Object.keys(deps);
  const rows = roles.filter((r) => /^rows?(\[\d+\]|:\d+)?$/.test(r));
  const num = (r: string) => Number(/(\d+)\]?$/.exec(r)?.[1] ?? -1);
  return (rows.length ? rows : roles).sort((a, b) => num(a) - num(b) || a.localeCompare(b));
}

export function buildTable(ctx: RunContext): TableData {
  const { plan, node } = ctx;
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const rows: { node: PlanNode; result: NodeResult }[] = rowRoles(node.deps).map((role) => ({
    node: byId.get(node.deps[role])!,
    result: ctx.deps[role],
  }));
  if (rows.length === 0) throw new Error(`table '${node.statement ?? node.id}' has no rows: give rows=NAME or rows=[A, B]`);
  // The compiler fills columns= from the rows' kinds when the study names none.
  const columns = columnNames(node.params.columns);
  if (!columns) throw new Error(`table '${node.statement ?? node.id}' has no columns (the plan should name them)`);
  const data = rows.map(({ node: run, result }) => {
    const model = modelSummary(run, ctx);
    const row: Record<string, Cell> = {};
    for (const col of columns) row[col] = cell(col, run, result, model);
    return row;
  });
  return { title: node.statement ?? 'table', columns, rows: data };
}

function columnNames(v: ResolvedValue | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v : [v];
  return list.map((c) => refName(c) ?? valueText(c));
}

/** The summary of the model an analysis run used (through its `model` dependency). */
function modelSummary(run: PlanNode, ctx: RunContext): Record<string, unknown> | undefined {
  const byKind = Object.values(run.deps).find((id) => ctx.plan.nodes.find((n) => n.id === id)?.kind === 'model');
  const id = run.deps.model ?? byKind;
  return id ? ctx.lookup?.(id)?.summary : undefined;
}

const camel = (s: string) => s.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snake = (s: string) => s.replace(/-/g, '_');

function cell(col: string, run: PlanNode, result: NodeResult, model: Record<string, unknown> | undefined): Cell {
  switch (col) {
    case 'run':
      return run.runId;
    case 'statement':
      return run.statement ?? run.id;
    case 'params':
    case 'parameters':
      return scalar(model?.parameters);
    case 'receptive-field':
      return scalar(model?.receptiveField ?? result.summary.receptiveField);
  }
  const fromSummary = [col, camel(col), snake(col)].map((k) => result.summary[k]).find((v) => v !== undefined);
  if (fromSummary !== undefined) return scalar(fromSummary);
  const p = run.sweep[col] ?? run.params[col];
  if (p !== undefined) return typeof p === 'number' || typeof p === 'boolean' ? p : valueText(p);
  if (col === 'scale' && model) return scalar(model.scale);
  return null;
}

function scalar(v: unknown): Cell {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

/** Numbers as a reader wants them: whole numbers whole, others to a sensible precision. */
export function formatCell(v: Cell): string {
  if (v === null) return '';
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return String(Number(v.toPrecision(4)));
}

export function toMarkdown(t: TableData): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const numeric = t.columns.map((c) => t.rows.some((r) => typeof r[c] === 'number'));
  const lines = [
    `| ${t.columns.map(esc).join(' | ')} |`,
    `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...t.rows.map((r) => `| ${t.columns.map((c) => esc(formatCell(r[c]))).join(' | ')} |`),
  ];
  return lines.join('\n') + '\n';
}

export function toCsv(t: TableData): string {
  const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const val = (v: Cell) => (v === null ? '' : quote(String(v)));
  return [t.columns.map(quote).join(','), ...t.rows.map((r) => t.columns.map((c) => val(r[c])).join(','))].join('\r\n') + '\r\n';
}

export function readTable(dir: string): TableData {
  return JSON.parse(readFileSync(join(dir, 'table.json'), 'utf8')) as TableData;
}
