// Reading resolved plan parameters inside kernels, with messages that name the parameter.

import type { PlanNode, ResolvedValue } from '../../compiler/plan.js';

// The compiler fills every catalogue default into node.params, so runners read required values
// and never repeat a default: a missing one is a plan bug, named as such.

function missing(node: PlanNode, key: string): Error {
  return new Error(`${node.kind} '${node.statement ?? node.id}': parameter '${key}' is missing from the plan (the compiler fills every default)`);
}

/** A number parameter. */
export function numberParam(node: PlanNode, key: string): number {
  const v = node.params[key];
  if (v === undefined || v === null) throw missing(node, key);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${node.kind} parameter ${key}=${JSON.stringify(v)}: expected a number`);
  return v;
}

/** A word parameter, one of `allowed` (the catalogue's enum values). */
export function wordParam<T extends string>(node: PlanNode, key: string, allowed: readonly T[]): T {
  const v = node.params[key];
  if (v === undefined || v === null) throw missing(node, key);
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw new Error(`${node.kind} parameter ${key}=${JSON.stringify(v)}: expected one of ${allowed.join(', ')}`);
  return v as T;
}

export function optionalString(node: PlanNode, key: string): string | undefined {
  const v = node.params[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Error(`parameter '${key}' must be a string, got ${JSON.stringify(v)}`);
  return v;
}

export function optionalNumber(node: PlanNode, key: string): number | undefined {
  const v = node.params[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`parameter '${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/** A reference's statement name (`model=slim` -> 'slim'), or undefined when the value is not one. */
export function refName(v: ResolvedValue | undefined): string | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'ref' in v ? v.ref : undefined;
}

/** A resolved value as short text: `slim`, `(110,150,16,16)`, `blur(sigma=2)`, `5%`. */
export function valueText(v: ResolvedValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `(${v.map(valueText).join(',')})`;
  if ('ref' in v) return v.ref;
  if ('percent' in v) return `${v.percent}%`;
  if ('range' in v) return `${v.range[0]}..${v.range[1]}`;
  const args = Object.entries(v.args).map(([k, a]) => `${k}=${valueText(a)}`);
  return `${v.call}(${args.join(',')})`;
}
