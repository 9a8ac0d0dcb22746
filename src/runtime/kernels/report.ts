// `report` statements: ONE self-contained HTML page (figures inlined as base64 PNG, tables,
// the study's text, the lock-file facts), readable from disk or mail with no server.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import type { Plan, PlanNode } from '../../compiler/plan.js';
import type { NodeRunner, RunContext, NodeResult } from '../runner.js';
import { CATALOGUE } from '../../../grammar/catalogue.js';
import { barChart, xml as esc } from '../render/bar-chart.js';
import { optionalString, valueText } from './params.js';
import { formatCell, readTable, type TableData } from './table.js';

export const reportKernel: NodeRunner = {
  kind: 'report',
  cache: true,
  // The page shows the study's text, so a new comment must give a new page.
  keyInputs: (plan) => studyText(plan).hash,
  async run(ctx) {
    const html = await renderReport(ctx);
    writeFileSync(join(ctx.runDir, 'report.html'), html);
    const dest = optionalString(ctx.node, 'file') ?? join(ctx.plan.outDir, 'report.html');
    return {
      summary: { file: dest, bytes: Buffer.byteLength(html), figures: countFigures(html) },
      files: ['report.html'],
      exports: { 'report.html': dest },
    };
  },
};

function studyText(plan: Plan): { text: string; hash: string } {
  const text = existsSync(plan.studyFile) ? readFileSync(plan.studyFile, 'utf8') : '';
  return { text, hash: createHash('sha256').update(text).digest('hex') };
}

function countFigures(html: string): number {
  return (html.match(/<img |<svg /g) ?? []).length;
}

interface Part {
  node: PlanNode;
  result: NodeResult;
}

/** The PNG figures of a run: its `figure*.png` files, or every PNG when it has none of those. */
export function figuresOf(result: NodeResult): string[] {
  const pngs = result.files.filter((f) => f.toLowerCase().endsWith('.png'));
  const figures = pngs.filter((f) => /^figure[^/]*\.png$/i.test(f.split('/').pop()!));
  return figures.length ? figures : pngs;
}

export async function renderReport(ctx: RunContext): Promise<string> {
  const { plan, node } = ctx;
  const index = new Map(plan.nodes.map((n, i) => [n.id, i]));
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const parts: Part[] = Object.entries(node.deps)
    .map(([role, id]) => ({ node: byId.get(id)!, result: ctx.deps[role] }))
    .sort((a, b) => index.get(a.node.id)! - index.get(b.node.id)!);
  // A run that writes table.json (a table statement, cluster) is shown as a table; a run with
  // figures (analyses, embeddings' scatter plots) in the figures; an analysis with neither by its numbers.
  const hasTable = (p: Part) => !!p.result.dir && p.result.files.includes('table.json');
  const tables = parts.filter(hasTable);
  const analyses = parts.filter((p) => !p.node.implicit && (!hasTable(p) || (p.result.dir !== undefined && figuresOf(p.result).length > 0)));
  const facts = ctx.facts?.();
  const title = optionalString(node, 'title') ?? plan.study.name;
  const body: string[] = [];

  body.push(`<header><h1>${esc(title)}</h1><p class="meta">${esc(metaLine(plan, facts))}</p></header>`);
  body.push('<nav><a href="#figures">Figures</a> · <a href="#tables">Tables</a> · <a href="#study">Study</a> · <a href="#lock">Lock-file facts</a></nav>');

  body.push('<section id="figures"><h2>Figures</h2>');
  const groups = new Map<string, Part[]>();
  for (const p of analyses) {
    const name = p.node.statement ?? p.node.id;
    groups.set(name, [...(groups.get(name) ?? []), p]);
  }
  if (groups.size === 0) body.push('<p>No analyses.</p>');
  for (const [name, runs] of groups) {
    body.push(`<h3>${esc(runs[0].node.kind)} ${esc(name)}</h3><div class="grid">`);
    for (const { node: run, result } of runs) {
      const figures = result.dir ? figuresOf(result) : [];
      const caption = captionOf(result);
      if (figures.length === 0) body.push(`<div class="nofig"><strong>${esc(runLabel(run))}</strong><br>${esc(caption)}</div>`);
      for (const f of figures) {
        const bytes = readFileSync(join(result.dir!, f));
        const data = bytes.toString('base64');
        body.push(
          `<figure${isWide(bytes) ? ' class="wide"' : ''}><img src="data:image/png;base64,${data}" alt="${esc(`${name} ${run.runId} ${f}`)}">` +
            `<figcaption><strong>${esc(runLabel(run))}</strong> ${esc(f)}<br>${esc(caption)}</figcaption></figure>`,
        );
      }
    }
    body.push('</div>');
  }
  body.push('</section>');

  body.push('<section id="tables"><h2>Tables</h2>');
  if (tables.length === 0) body.push('<p>No tables.</p>');
  for (const [i, { node: t, result }] of tables.entries()) {
    const data = result.dir ? readTable(result.dir) : undefined;
    body.push(`<h3>${esc(t.kind)} ${esc(t.statement ?? t.id)}</h3>`);
    if (data) body.push(await chartFigure(data, `chart-${i}`));
    body.push(data ? htmlTable(data) : '<p>(table data missing)</p>');
  }
  body.push('</section>');

  body.push(`<section id="study"><h2>Study</h2><p class="meta">${esc(plan.studyFile)}</p><pre>${esc(studyText(plan).text)}</pre></section>`);

  body.push('<section id="lock"><h2>Lock-file facts</h2>');
  if (facts) body.push(lockFacts(facts));
  else body.push('<p>(not available)</p>');
  body.push('</section>');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lvi ${esc(plan.lviVersion)}">
<title>${esc(title)} · lvi report</title>
<style>${STYLE}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}

/** Strips of panels (LAM's figure: HR | map | blend | SR) get a whole row of the grid. */
function isWide(png: Buffer): boolean {
  // IHDR: width and height are the big-endian words at bytes 16 and 20.
  if (png.length < 24) return false;
  return png.readUInt32BE(16) >= 2.5 * png.readUInt32BE(20);
}

function metaLine(plan: Plan, facts: Record<string, unknown> | undefined): string {
  const run = facts?.run as Record<string, unknown> | undefined;
  const versions = facts?.versions as Record<string, unknown> | undefined;
  const bits = [`lvi ${plan.lviVersion}`];
  if (versions?.onnxruntime) bits.push(`onnxruntime ${versions.onnxruntime}`);
  if (versions?.node) bits.push(`node ${versions.node}`);
  if (run?.date) bits.push(`run ${run.date}`);
  if (run?.device) bits.push(`device ${run.device}`);
  return bits.join(' · ');
}

function runLabel(run: PlanNode): string {
  const sweep = Object.entries(run.sweep).map(([k, v]) => `${k}=${valueText(v)}`);
  return sweep.length ? sweep.join(', ') : run.runId;
}

/** The run's scalar results, e.g. `di 12.34 · gini 0.8765 · seconds 3.21`. */
function captionOf(result: NodeResult): string {
  const facts = Object.entries(result.summary)
    .filter(([, v]) => typeof v === 'number')
    .slice(0, 8)
    .map(([k, v]) => `${k} ${formatCell(v as number)}`);
  return facts.join(' · ');
}

/** The result a table's chart shows: its first column that a kind declares as charted (DI for LAM). */
export function chartedResult(columns: string[]): { key: string; reading: string } | undefined {
  for (const c of columns) {
    for (const spec of Object.values(CATALOGUE)) {
      const r = spec.results?.[c];
      if (r?.chart === 'bar') return { key: c, reading: r.reading ?? '' };
    }
  }
  return undefined;
}

/** "DI vs network": a bar chart above every table with a charted column (empty otherwise). */
async function chartFigure(t: TableData, id: string): Promise<string> {
  const charted = chartedResult(t.columns);
  if (!charted) return '';
  const chart = await barChart(t.columns, t.rows, { value: charted.key, id });
  if (!chart) return '';
  // The caption wraps at the chart's width instead of stretching the frame.
  return (
    `<figure class="chart" style="max-width:${chart.width}px">${chart.svg}` +
    `<figcaption>${esc(chart.description)} ${esc(charted.reading)}</figcaption></figure>`
  );
}

function htmlTable(t: TableData): string {
  const numeric = t.columns.map((c) => t.rows.some((r) => typeof r[c] === 'number'));
  const head = t.columns.map((c, i) => `<th${numeric[i] ? ' class="num"' : ''}>${esc(c)}</th>`).join('');
  const rows = t.rows.map(
    (r) => `<tr>${t.columns.map((c, i) => `<td${numeric[i] ? ' class="num"' : ''}>${esc(formatCell(r[c]))}</td>`).join('')}</tr>`,
  );
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function lockFacts(facts: Record<string, unknown>): string {
  const out: string[] = [];
  const versions = (facts.versions ?? {}) as Record<string, unknown>;
  out.push(`<table class="kv"><tbody>${Object.entries(versions).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`).join('')}</tbody></table>`);
  const nodes = (facts.nodes ?? {}) as Record<string, Record<string, unknown>>;
  const rows = Object.entries(nodes).map(
    ([id, n]) =>
      `<tr><td>${esc(id)}</td><td>${esc(String(n.kind ?? ''))}</td><td>${esc(String(n.status ?? ''))}</td>` +
      `<td><code>${esc(String(n.key ?? '').slice(0, 12))}</code></td><td>${esc(String(n.device ?? ''))}</td>` +
      `<td class="num">${n.seconds === undefined ? '' : esc(formatCell(n.seconds as number))}</td></tr>`,
  );
  out.push(
    '<table><thead><tr><th>node</th><th>kind</th><th>status</th><th>key</th><th>device</th><th class="num">seconds</th></tr></thead>' +
      `<tbody>${rows.join('')}</tbody></table>`,
  );
  out.push(`<details><summary>Full lock facts (YAML)</summary><pre>${esc(YAML.stringify(facts, { lineWidth: 0 }))}</pre></details>`);
  return out.join('\n');
}

const STYLE = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:1.5em;color:#1b1b1f;background:#fff}
h1{margin:0 0 .2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.meta{color:#666;font-size:.9em;margin:.2em 0}
nav{margin:.8em 0;font-size:.95em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1em}
figure.wide{grid-column:1/-1}
figure.chart{background:#fff;overflow-x:auto;margin:.6em 0}
figure.chart svg{display:block}
figure{margin:0;border:1px solid #e3e3e3;border-radius:4px;padding:.5em;background:#fafafa}
figure img{display:block;width:100%;height:auto;image-rendering:pixelated}
figcaption,.nofig{font-size:.85em;color:#333;margin-top:.4em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left}
th{background:#f3f3f5}.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f6f8;border:1px solid #e3e3e3;padding:.8em;overflow:auto;font-size:.85em}
code{font-size:.9em}
`;
