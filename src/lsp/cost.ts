// What an analysis statement will cost when run: model passes per run, the number of runs its
// sweeps make, and a rough time on the chosen device. Shown on hover so a user sees that
// steps=500 over three models is an hour before pressing run.
import path from 'node:path';
import type { Statement, Value } from '../compiler/generated/ast.js';
import { imageSize } from '../compiler/image-size.js';
import type { Environment } from './environment.js';
import type { ModelSummary } from './model-summary.js';
import { modelRefOf, statementNamed, stringParam, studyDir, type StudyView } from './study.js';

/**
 * Sustained fp32 throughput assumed per device, for estimates only. CPU: about 45% of a
 * desktop's peak, as measured for ONNX Runtime on an EDSR conv net (DESIGN.md); GPUs: a
 * conservative share of a mid-range card's peak.
 */
export const DEVICE_FLOPS: Record<string, number> = { cpu: 1e11, webgpu: 2e12, cuda: 1e13 };

export interface AnalysisCost {
  runs: number;
  forwardPerRun: number;
  backwardPerRun: number;
  /** Seconds for all runs, when the models are read and the image sizes known. */
  seconds?: number;
  device: string;
  /** Why there is no time estimate yet. */
  pending?: string;
}

export function values(v: Value | undefined): Value[] {
  if (!v) return [];
  return v.$type === 'ListLit' ? (v.items ?? []).filter(Boolean) : [v];
}

export function scalar(v: Value | undefined): number | string | undefined {
  if (!v) return undefined;
  if (v.$type === 'NumberLit') return v.value;
  if (v.$type === 'NameLit') return v.name;
  if (v.$type === 'StringLit') return v.value;
  return undefined;
}

export function analysisCost(view: StudyView, st: Statement, env: Environment): AnalysisCost | undefined {
  const spec = view.catalogue[st.kind];
  if (!spec?.analysis) return undefined;
  const given = new Map((st.params ?? []).filter((p) => p?.key).map((p) => [p.key, p.value]));
  // Runs: the product of the sweep lengths.
  let runs = 1;
  for (const [key, p] of Object.entries(spec.params)) {
    const v = given.get(key);
    if (p.sweep && v?.$type === 'ListLit') runs *= Math.max(1, v.items?.length ?? 0);
  }
  const params: Record<string, number | string | undefined> = {};
  for (const [key, p] of Object.entries(spec.params)) {
    const v = given.get(key);
    params[key] = v && v.$type !== 'ListLit' ? scalar(v) : typeof p.default === 'number' || typeof p.default === 'string' ? p.default : undefined;
  }
  // Every analysis kind declares its cost in the catalogue (a test checks), so hover never
  // shows a made-up zero.
  if (!spec.cost) return undefined;
  const passes = spec.cost(params);
  const studyDevice = statementsOfKind(view, 'study')[0]?.params?.find((p) => p?.key === 'device')?.value;
  let device = studyDevice?.$type === 'NameLit' ? studyDevice.name : env.device;
  if (device === 'auto') device = env.device === 'auto' ? 'cpu' : env.device;
  const cost: AnalysisCost = { runs, forwardPerRun: passes.forward, backwardPerRun: passes.backward, device };

  // Time: the model's measured forward FLOPs per input pixel (lvi inspect's count), else
  // 2 x parameters per pixel as for a conv net at LR resolution; a backward pass ~ 2 forwards.
  const flops = DEVICE_FLOPS[device] ?? DEVICE_FLOPS.cpu!;
  const modelValues = values(given.get('model'));
  const imageValues = values(given.get('image'));
  const windows = values(given.get('window'));
  let seconds = 0;
  for (const mv of modelValues) {
    const mst = mv.$type === 'NameLit' ? statementNamed(view, mv.name) : undefined;
    const ref = mst ? modelRefOf(view, mst) : undefined;
    const state = ref ? env.models.peek(ref) : undefined;
    if (state?.status !== 'ready') {
      return { ...cost, pending: state?.status === 'loading' ? 'reading the model' : 'the model cannot be read' };
    }
    for (const iv of imageValues.length ? imageValues : []) {
      const ist = iv.$type === 'NameLit' ? statementNamed(view, iv.name) : undefined;
      const size = ist ? lrSize(view, ist, state.summary) : undefined;
      if (!size) return { ...cost, pending: 'the image size is unknown' };
      for (const w of windows.length ? windows : [undefined]) {
        const pixels = inputPixels(size, state.summary, w);
        const fwd = (state.summary.flopsPerPixel ?? 2 * state.summary.parameters) * pixels;
        seconds += (passes.forward * fwd + passes.backward * 2 * fwd) / flops;
      }
    }
  }
  // Other swept parameters multiply the runs already counted over models x images x windows.
  const counted = Math.max(1, modelValues.length) * Math.max(1, imageValues.length) * Math.max(1, windows.length);
  cost.seconds = seconds * (runs / counted);
  return cost;
}

function statementsOfKind(view: StudyView, kind: string): Statement[] {
  return (view.parsed.ast?.statements ?? []).filter((s) => s?.kind === kind);
}

/** LR input size of an image statement for a model: the LR file, or the HR file / scale. */
export function lrSize(view: StudyView, st: Statement, model: ModelSummary): { w: number; h: number } | undefined {
  const dir = studyDir(view);
  if (!dir) return undefined;
  const lr = stringParam(st, 'lr');
  const hr = stringParam(st, 'file');
  if (lr) {
    const s = imageSize(path.resolve(dir, lr));
    return s ? { w: s.width, h: s.height } : undefined;
  }
  const s = hr ? imageSize(path.resolve(dir, hr)) : undefined;
  return s ? { w: Math.floor(s.width / model.scale), h: Math.floor(s.height / model.scale) } : undefined;
}

/** Input pixels of one pass: the window plus the receptive field when cropping applies. */
function inputPixels(lr: { w: number; h: number }, model: ModelSummary, window: Value | undefined): number {
  const rf = model.receptiveField;
  if (rf === undefined || model.hasGlobalOps || window?.$type !== 'TupleLit') return lr.w * lr.h;
  const [, , w, h] = (window.items ?? []).map((i) => (i?.$type === 'NumberLit' ? i.value : 0));
  const cw = Math.min(lr.w, Math.ceil((w ?? 0) / model.scale) + rf);
  const ch = Math.min(lr.h, Math.ceil((h ?? 0) / model.scale) + rf);
  return Math.max(1, cw * ch);
}

/** "about 3 min" */
export function formatEstimate(s: number): string {
  if (s < 1) return 'under a second';
  if (s < 90) return `about ${Math.round(s)} s`;
  if (s < 5400) return `about ${Math.round(s / 60)} min`;
  return `about ${(s / 3600).toFixed(1)} h`;
}
