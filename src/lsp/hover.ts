// Hover: a kind's or parameter's documentation, type, default and range; on a model, what the
// model is (inputs, outputs, parameters, scale); on an analysis, what running it costs.
import fs from 'node:fs';
import path from 'node:path';
import { MarkupKind, type Hover, type Position } from 'vscode-languageserver';
import { callFunction, type ParamSpec } from '../../grammar/catalogue.js';
import type { Statement } from '../compiler/generated/ast.js';
import { imageSize } from '../compiler/image-size.js';
import { analysisCost, formatEstimate } from './cost.js';
import { callArgsMarkdown, kindMarkdown, paramMarkdown } from './docs.js';
import type { Environment } from './environment.js';
import { lamPlanLines } from './lam-plans.js';
import type { ModelState } from './models.js';
import { modelRefOf, nodeAt, offsetAt, rangeOf, statementNamed, stringParam, studyDir, useAt, type StudyView } from './study.js';

export function hover(view: StudyView, position: Position, env: Environment): Hover | undefined {
  const offset = offsetAt(view.parsed, position);
  const hit = nodeAt(view, offset);
  if (!hit) return undefined;
  const st = hit.statement;
  const spec = view.catalogue[st.kind];
  const range = rangeOf(view.parsed, hit.start, hit.end);
  const md = (value: string | undefined): Hover | undefined =>
    value ? { contents: { kind: MarkupKind.Markdown, value }, range } : undefined;

  switch (hit.part) {
    case 'kind':
      if (!spec) return undefined;
      return md([kindMarkdown(st.kind, spec), statementFacts(view, st, env)].filter(Boolean).join('\n\n---\n\n'));
    case 'name':
      return md(statementFacts(view, st, env) ?? (spec ? `**${st.kind} ${st.name}** — ${spec.doc}` : undefined));
    case 'key': {
      const pspec = spec?.params[hit.param!.key];
      return pspec ? md(paramMarkdown(st.kind, hit.param!.key, pspec)) : undefined;
    }
    case 'call': {
      const fn = callFunction(spec?.params[hit.param?.key ?? '']?.type, hit.call!.name);
      return fn ? md(`**${hit.call!.name}(...)** — ${fn.doc}\n\n${callArgsMarkdown(fn).join('\n')}`) : undefined;
    }
    case 'arg-key': {
      const a = callFunction(spec?.params[hit.param?.key ?? '']?.type, hit.call!.name)?.args[hit.arg!.key];
      return a ? md(paramMarkdown(`${hit.call!.name}()`, hit.arg!.key, a)) : undefined;
    }
    case 'value': {
      const use = useAt(view, offset);
      if (use && !use.declaration) {
        const target = statementNamed(view, use.name);
        return md(target ? statementFacts(view, target, env) ?? `**${target.kind} ${use.name}**` : undefined);
      }
      const pspec: ParamSpec | undefined = hit.arg
        ? callFunction(spec?.params[hit.param?.key ?? '']?.type, hit.call!.name)?.args[hit.arg.key]
        : spec?.params[hit.param?.key ?? ''];
      if (!pspec) return undefined;
      const v = hit.value!;
      if (v.$type === 'StringLit' && hit.param?.key === 'zoo') return md(zooFacts(env, v.value, studyDir(view)));
      if (v.$type === 'StringLit' && pspec.type.type === 'path') return md(pathFacts(view, v.value, pspec));
      return md(paramMarkdown(hit.arg ? `${hit.call!.name}()` : st.kind, (hit.arg ?? hit.param)!.key, pspec));
    }
    default:
      return undefined;
  }
}

/** Facts about a declared statement: a model's summary, an image's size, an analysis's cost. */
function statementFacts(view: StudyView, st: Statement, env: Environment): string | undefined {
  const title = st.name ? `**${st.kind} ${st.name}**` : `**${st.kind}**`;
  if (st.kind === 'model') {
    const ref = modelRefOf(view, st);
    if (!ref) return `${title} — no model file or zoo id yet`;
    const where = 'zoo' in ref ? `zoo \`${ref.zoo}\`` : `file \`${path.relative(studyDir(view) ?? '', ref.file)}\``;
    return `${title} — ${where}\n\n${modelFacts(env.models.peek(ref))}`;
  }
  if (st.kind === 'image') {
    const dir = studyDir(view);
    const file = stringParam(st, 'file') ?? stringParam(st, 'lr');
    const size = dir && file ? imageSize(path.resolve(dir, file)) : undefined;
    const which = stringParam(st, 'file') ? 'high-resolution' : 'low-resolution';
    return `${title} — ${which} \`${file ?? '?'}\`${size ? `, ${size.width}×${size.height} px` : ''}`;
  }
  const cost = analysisCost(view, st, env);
  if (cost) {
    const lines = [
      `${title} — ${cost.runs} run${cost.runs === 1 ? '' : 's'}`,
      '',
      `- per run: ${cost.forwardPerRun} forward and ${cost.backwardPerRun} backward passes`,
      `- in all: ${cost.forwardPerRun * cost.runs} forward, ${cost.backwardPerRun * cost.runs} backward`,
    ];
    if (cost.seconds !== undefined) lines.push(`- time on ${cost.device}: ${formatEstimate(cost.seconds)} (a rough estimate from model size and image size)`);
    else if (cost.pending) lines.push(`- time on ${cost.device}: not estimated yet (${cost.pending})`);
    lines.push(...(lamPlanLines(view, st, env) ?? []));
    return lines.join('\n');
  }
  return undefined;
}

export function modelFacts(state: ModelState): string {
  if (state.status === 'loading') return '_Reading the model…_';
  if (state.status === 'error') return `Cannot read the model: ${state.message}`;
  const s = state.summary;
  const shape = (v: { name: string; shape: (number | string)[] }) => `\`${v.name}\` [${v.shape.join(', ')}]`;
  const lines = [
    `- scale: x${s.scale}, values 0..${s.range === 255 ? 255 : 1}`,
    `- inputs: ${s.inputs.map(shape).join(', ')}`,
    `- outputs: ${s.outputs.map(shape).join(', ')}`,
    `- parameters: ${s.parameters.toLocaleString('en-US')}`,
  ];
  if (s.flopsPerPixel !== undefined) lines.push(`- forward pass: ${(s.flopsPerPixel / 1e6).toFixed(2)} MFLOP per input pixel`);
  if (s.receptiveField !== undefined) lines.push(`- receptive field: ${s.receptiveField} LR pixels`);
  if (s.hasGlobalOps) lines.push('- has global operators (no cropping to the receptive field)');
  lines.push(`- operators: ${s.operators.slice(0, 6).map(([op, n]) => `${op} ×${n}`).join(', ')}`);
  return lines.join('\n');
}

function zooFacts(env: Environment, id: string, dir: string | undefined): string {
  const z = env.zoo(dir).find((e) => e.id === id);
  if (!z) return `\`${id}\` is not a zoo id. Known: ${env.zoo(dir).map((e) => `\`${e.id}\``).join(', ')}`;
  const state = z.installed ? env.models.peek({ zoo: id }) : undefined;
  return [
    `**${z.id}** — ${z.description}`,
    '',
    `- package \`${z.package}\`${z.installed ? '' : ` (not installed: \`npm install ${z.package}\`)`}`,
    ...(state ? [modelFacts(state)] : []),
  ].join('\n');
}

function pathFacts(view: StudyView, rel: string, spec: ParamSpec): string {
  const dir = studyDir(view);
  if (!dir) return `\`${rel}\` (relative to the study file, once it is saved)`;
  const abs = path.resolve(dir, rel);
  let what = 'does not exist yet';
  try {
    const st = fs.statSync(abs);
    if (st.isDirectory()) what = 'a folder';
    else {
      const size = imageSize(abs);
      what = `${(st.size / 1024).toFixed(1)} KiB${size ? `, ${size.width}×${size.height} px` : ''}`;
    }
  } catch {
    // stays "does not exist yet"
  }
  return `\`${abs}\` — ${what}\n\n${spec.doc}`;
}
