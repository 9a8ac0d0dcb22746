// The shape of the language's catalogue: parameter types, parameter and kind specs, and the
// helpers every reader of the catalogue shares. The entries themselves live in grammar/kinds/
// (one file per method) and are assembled in grammar/catalogue.ts.

/** The type of a parameter's value. */
export type ParamType =
  | { type: 'int'; min?: number; max?: number; allowed?: number[]; odd?: boolean }
  | { type: 'number'; min?: number; max?: number; exclusiveMin?: boolean }
  /** A share written with `%` (5%); stored as the percentage number. */
  | { type: 'percent'; min?: number; max?: number }
  /** `values`: the strings accepted (checked with did-you-mean, offered by completion). */
  | { type: 'string'; pattern?: RegExp; patternDoc?: string; values?: readonly string[] }
  /** A file or folder, relative to the study file. `output` paths need not exist. */
  | { type: 'path'; extensions?: string[]; directory?: boolean; output?: boolean }
  | { type: 'enum'; values: string[] }
  /**
   * The name of another statement: of one of these kinds, or of any kind that produces one of
   * these products (a `mask` produces a model, so `model=` takes it); 'analysis' = any kind with
   * analysis: true.
   */
  | { type: 'ref'; kinds: string[] }
  | { type: 'tuple'; length: number; element: 'int' | 'number'; names: string[]; min?: number[] }
  /** A degradation or similar call, e.g. blur(sigma=2): function name -> its named arguments. */
  | { type: 'call'; functions: Record<string, CallFunction> }
  | { type: 'bool' }
  | { type: 'range'; min?: number; max?: number }
  /** A list value (not a sweep), e.g. table columns. `single` also accepts one bare item. */
  | { type: 'list'; of: ParamType; single?: boolean; unique?: boolean }
  /** Any of these types (e.g. batch=auto or batch=8); the first that fits wins. */
  | { type: 'union'; of: ParamType[] };

/** A default value as written in a study (numbers, words, strings, tuples, lists). */
export type DefaultValue = number | string | boolean | DefaultValue[] | { percent: number } | { range: [number, number] };

export interface ParamSpec {
  type: ParamType;
  /** One line of documentation (hover, completion, docs). */
  doc: string;
  required?: boolean;
  default?: DefaultValue;
  /** A default that depends on other parameters, described for people (hover, docs). */
  defaultDoc?: string;
  /**
   * Unset, the compiler fills in the study statement's parameter of this name (noise and random
   * choices take the study's seed), so the value is part of the node's content key.
   */
  studyDefault?: 'seed';
  /** A caveat shown in hover and the docs (e.g. what an unstated default assumes). */
  note?: string;
  /** A list given where one value is expected runs the statement once per value (a sweep). */
  sweep?: boolean;
  /** The statement's positional name doubles as this parameter (study "x" = study name="x"). */
  positional?: boolean;
  /**
   * For an image reference: the image is fed to the model named by this parameter, so the plan
   * routes it through a derive-LR node at that model's scale (dep role = this parameter's name;
   * the HR image, when there is one, comes as role 'hr').
   */
  lowResFor?: string;
}

/** What a kind's nodes are, for references (`model=` takes any kind that produces a model). */
export type Product = 'model' | 'image' | 'dataset' | 'features' | 'embedding' | 'scores' | 'results' | 'table' | 'report';

/** A result a kind's runs report in their summary: a table column, maybe the report's chart. */
export interface ResultSpec {
  doc: string;
  type: 'number' | 'int' | 'string';
  /** The report charts this result of every table that shows it (a bar per run). */
  chart?: 'bar';
  /** What a higher value means, said under the chart. */
  reading?: string;
}

/** Model passes one run of a kind makes, from its resolved parameters (for the editor's hover). */
export interface Cost {
  forward: number;
  backward: number;
  /** What a pass is, when it is not one pass of the statement's model over its image. */
  note?: string;
}

/**
 * What a kind's cross-parameter rule can see and say: its checked values and the statements
 * its references name, and an acceptor that reports at a parameter (or list item).
 */
export interface KindCheck {
  /** A parameter's value(s): the sweep's values, or the single value. */
  values(key: string): ResolvedLike[];
  /** The statement a reference value names (its kind, name and given parameters). */
  statement(ref: ResolvedLike): CheckedLike | undefined;
  /** An HR/LR image statement's pixel size, read from the file header (undefined: unreadable). */
  imageSize(file: string): { width: number; height: number } | undefined;
  /** The scale of the model a statement is or derives from. */
  modelScale(st: CheckedLike | undefined): number | undefined;
  /**
   * What an ONNX file model (or the model a statement derives from) holds, read from the file
   * without running it: every tensor a node computes (what `layer=` takes) and the weights by
   * name and shape. Undefined for zoo models and unreadable files (the run checks those).
   */
  modelGraph(st: CheckedLike | undefined): ModelFacts | undefined;
  /** The columns a table of these kinds' runs can show. */
  kindColumns(kinds: string[]): string[];
  /** Reports at a parameter's value, or at item `index` of a list value. Marks the statement broken. */
  accept(code: string, message: string, at: { param: string; index?: number }, data?: Record<string, unknown>): void;
}

/** What a model file holds, for checks (see KindCheck.modelGraph). */
export interface ModelFacts {
  file: string;
  tensors: string[];
  weights: { name: string; dims: number[] }[];
}

/** A resolved value as checks see it (the plan's ResolvedValue, kept structural here). */
export type ResolvedLike = unknown;

/** A checked statement as checks see it. */
export interface CheckedLike {
  kind: string;
  name: string;
  value(key: string): ResolvedLike | undefined;
}

/** The runners a kind's module provides (typed loosely here: grammar/ never loads the runtime). */
export interface RunnerModule {
  runners: readonly { kind: string }[];
}

export interface KindSpec {
  doc: string;
  /** The plan-node kind that runs statements of this kind (none: settings only). */
  runner?: string;
  /**
   * Loads the module with this kind's node runners, lazily: the checker and the language
   * server never load it (and with it ONNX Runtime).
   */
  load?: () => Promise<RunnerModule>;
  /** What the kind's nodes are, for typed references. */
  produces?: Product;
  /** For kinds that produce a model from another (a mask): the parameter naming that model, whose scale it keeps. */
  modelFrom?: string;
  /** Its nodes only load inputs (model, image, dataset): implicit in the plan and the report. */
  loader?: boolean;
  /** required: references need a name; optional: defaults to the kind; none: never named. */
  name: 'required' | 'optional';
  /** The name may be written as a string (study "lam-edges"). */
  nameIsString?: boolean;
  /** At most one statement of this kind per study. */
  single?: boolean;
  /** Produces per-run results that tables and reports can list. */
  analysis?: boolean;
  /** The results its runs report (table columns; the report's chart). */
  results?: Record<string, ResultSpec>;
  /** A table's columns when it names none, for rows of this kind. */
  columns?: string[];
  /** Model passes per run (every analysis kind has one: a test checks). */
  cost?: (params: Record<string, ResolvedLike>) => Cost;
  /** Cross-parameter rules of this kind. */
  check?: (st: CheckedLike, c: KindCheck) => void;
  params: Record<string, ParamSpec>;
  /** Kinds (or 'analysis') whose every node this one depends on, e.g. a report. */
  collects?: string[];
  /** Exactly one of each group must be given (a group of one is simply required). */
  oneOf?: string[][];
  example: string;
}

export type Catalogue = Record<string, KindSpec>;

/**
 * Kinds a ref type accepts: each named kind, every kind that produces a named product, and for
 * 'analysis' every analysis kind.
 */
export function refKinds(kinds: string[], catalogue: Catalogue): string[] {
  const out = new Set<string>();
  for (const k of kinds) {
    if (k === 'analysis') Object.keys(catalogue).filter((name) => catalogue[name].analysis).forEach((n) => out.add(n));
    else {
      if (catalogue[k]) out.add(k);
      for (const [name, spec] of Object.entries(catalogue)) if (spec.produces === k) out.add(name);
    }
  }
  return [...out];
}

/** Columns a table of these kinds' runs can show: generic facts, their parameters and results. */
export function tableColumns(catalogue: Catalogue, kinds: string[] = Object.keys(catalogue).filter((k) => catalogue[k].analysis)): string[] {
  const out = new Set<string>(GENERIC_COLUMNS);
  for (const k of kinds) {
    const spec = catalogue[k];
    if (!spec) continue;
    Object.keys(spec.params).forEach((p) => out.add(p));
    Object.keys(spec.results ?? {}).forEach((r) => out.add(r));
  }
  return [...out];
}

/** Columns every analysis run has: its model's size and receptive field, its time, its run id. */
export const GENERIC_COLUMNS = ['params', 'receptive-field', 'seconds', 'run'] as const;

/** One function of a call type (`blur` in `degradation=blur(sigma=2)`). */
export type CallFunction = { doc: string; args: Record<string, ParamSpec> };

/** The function `name` of a call-valued type, looked up through lists and unions. */
export function callFunction(t: ParamType | undefined, name: string): CallFunction | undefined {
  switch (t?.type) {
    case 'call':
      return t.functions[name];
    case 'list':
      return callFunction(t.of, name);
    case 'union':
      return t.of.map((u) => callFunction(u, name)).find(Boolean);
    default:
      return undefined;
  }
}

/** A short human description of a type, for messages, hover and docs. */
export function describeType(t: ParamType, catalogue: Catalogue): string {
  switch (t.type) {
    case 'int':
      if (t.allowed) return t.allowed.join(' | ');
      return `integer${rangeText(t.min, t.max)}${t.odd ? ', odd' : ''}`;
    case 'number':
      return `number${rangeText(t.min, t.max, t.exclusiveMin)}`;
    case 'percent':
      return `percentage (e.g. 5%)${rangeText(t.min, t.max)}`;
    case 'string':
      return t.patternDoc ?? 'string';
    case 'path':
      return t.directory ? 'folder path' : `file path${t.extensions ? ` (${t.extensions.join(', ')})` : ''}`;
    case 'enum':
      return t.values.join(' | ');
    case 'ref':
      {
      const kinds = refKinds(t.kinds, catalogue).join(' or ');
      return `name of ${/^[aeiou]/i.test(kinds) ? 'an' : 'a'} ${kinds} statement`;
    }
    case 'tuple':
      return `(${t.names.join(',')}) ${t.element === 'int' ? 'integers' : 'numbers'}`;
    case 'call':
      return Object.keys(t.functions).map((f) => `${f}(...)`).join(' | ');
    case 'bool':
      return 'true | false';
    case 'range':
      return 'range lo..hi';
    case 'list':
      return t.single
        ? `${describeType(t.of, catalogue)}, or a list [a, b] of them`
        : `list [a, b] of ${describeType(t.of, catalogue)}`;
    case 'union':
      return t.of.map((u) => describeType(u, catalogue)).join(' | ');
  }
}

function rangeText(min?: number, max?: number, exclusiveMin?: boolean): string {
  if (min === undefined && max === undefined) return '';
  if (max === undefined) return exclusiveMin ? ` > ${min}` : ` >= ${min}`;
  if (min === undefined) return ` <= ${max}`;
  return exclusiveMin ? ` in (${min}, ${max}]` : ` in [${min}, ${max}]`;
}
