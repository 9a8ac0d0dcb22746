// Hover on a lam statement: the plan each run would take (methods/lam/plan.ts) and its FLOPs
// per step on the whole image, the receptive-field crop and the cone, counted off the request
// path like a model's summary (models.ts). One line pair per model, image and window, at most
// MAX_PLANS of them.
import type { Statement } from '../compiler/generated/ast.js';
import { describePlan } from '../runtime/methods/lam/plan.js';
import { lrSize, scalar, values } from './cost.js';
import type { Environment } from './environment.js';
import type { PlanQuery } from './model-summary.js';
import { modelRefOf, statementNamed, type StudyView } from './study.js';

export const MAX_PLANS = 6;

/** Markdown lines about the plans of a lam statement, or undefined for other kinds. */
export function lamPlanLines(view: StudyView, st: Statement, env: Environment): string[] | undefined {
  if (st.kind !== 'lam') return undefined;
  const spec = view.catalogue.lam;
  if (!spec) return undefined;
  const given = new Map((st.params ?? []).filter((p) => p?.key).map((p) => [p.key, p.value]));
  const word = <T extends string>(key: string, fallback: T): T => {
    const v = scalar(given.get(key));
    const d = spec.params[key]?.default;
    return (typeof v === 'string' ? v : typeof d === 'string' ? d : fallback) as T;
  };
  const stepsGiven = scalar(given.get('steps'));
  const stepsDefault = spec.params.steps?.default;
  const steps = typeof stepsGiven === 'number' ? stepsGiven : typeof stepsDefault === 'number' ? stepsDefault : 50;
  const base = { detector: word<'gradient' | 'intensity'>('detector', 'gradient'), reduce: word<'sum' | 'mean'>('reduce', 'sum'), steps, crop: word<'auto' | 'off'>('crop', 'auto') };
  const lines: string[] = [];
  let shown = 0;
  let more = 0;
  for (const mv of values(given.get('model'))) {
    const mst = mv.$type === 'NameLit' ? statementNamed(view, mv.name) : undefined;
    const ref = mst ? modelRefOf(view, mst) : undefined;
    if (!ref || !mst?.name) continue;
    const model = env.models.peek(ref);
    if (model.status !== 'ready') continue; // the cost lines say why
    for (const iv of values(given.get('image'))) {
      const ist = iv.$type === 'NameLit' ? statementNamed(view, iv.name) : undefined;
      const size = ist ? lrSize(view, ist, model.summary) : undefined;
      if (!size || !ist?.name) continue;
      for (const wv of values(given.get('window'))) {
        const win = wv.$type === 'TupleLit' ? (wv.items ?? []).map((i) => (i?.$type === 'NumberLit' ? i.value : NaN)) : [];
        if (win.length !== 4 || win.some((v) => !Number.isInteger(v))) continue;
        if (shown >= MAX_PLANS) {
          more++;
          continue;
        }
        shown++;
        const query: PlanQuery = { lr: [size.w, size.h], window: win as PlanQuery['window'], ...base };
        const state = env.models.peekPlan(ref, query);
        const head = `- ${mst.name} on ${ist.name}, window (${win.join(',')}):`;
        if (state.status === 'loading') lines.push(`${head} counting FLOPs…`);
        else if (state.status === 'error') lines.push(`${head} no plan (${state.message})`);
        else lines.push(head, ...describePlan(state.plan, steps).map((l) => `  - ${l}`));
      }
    }
  }
  if (more) lines.push(`- and ${more} more`);
  return lines.length ? ['', '**Plans** (crop=auto picks by FLOPs; windows of one image may share forward passes when run):', ...lines] : undefined;
}
