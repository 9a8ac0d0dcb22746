// The one source of truth for the .lvi language's statement kinds and parameters. The checker,
// the compiler, the language server (completion, hover, signature help), docs/language.md and
// the tests all read this table. Adding a statement kind = one entry here + its kernel
// (registered under `kernel` in src/runtime/executor).

import { ZOO } from '../src/runtime/models/zoo-table.js';

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
  /** The name of another statement of one of these kinds ('analysis' = any kind with analysis: true). */
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
export type DefaultValue = number | string | boolean | DefaultValue[] | { percent: number };

export interface ParamSpec {
  type: ParamType;
  /** One line of documentation (hover, completion, docs). */
  doc: string;
  required?: boolean;
  default?: DefaultValue;
  /** A default that depends on other parameters, described for people (hover, docs). */
  defaultDoc?: string;
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

export interface KindSpec {
  doc: string;
  /** The plan-node kernel kind that runs statements of this kind (none: settings only). */
  kernel?: string;
  /** required: references need a name; optional: defaults to the kind; none: never named. */
  name: 'required' | 'optional';
  /** The name may be written as a string (study "lam-edges"). */
  nameIsString?: boolean;
  /** At most one statement of this kind per study. */
  single?: boolean;
  /** Produces per-run results that tables and reports can list. */
  analysis?: boolean;
  params: Record<string, ParamSpec>;
  /** Kinds (or 'analysis') whose every node this one depends on, e.g. a report. */
  collects?: string[];
  /** Exactly one of each group must be given (a group of one is simply required). */
  oneOf?: string[][];
  example: string;
}

export type Catalogue = Record<string, KindSpec>;

/** Columns a table can show: facts from the analyses' summaries and their parameters. */
export const TABLE_COLUMNS = [
  'model',
  'image',
  'window',
  'path',
  'sigma',
  'steps',
  'di',
  'gini',
  'psnr',
  'completeness',
  'params',
  'receptive-field',
  'seconds',
  'run',
] as const;

export const CATALOGUE: Catalogue = {
  study: {
    doc: 'Names the study and sets where results go and how it runs. At most one per file.',
    name: 'optional',
    nameIsString: true,
    single: true,
    params: {
      name: {
        type: { type: 'string' },
        doc: 'The study\'s name; also written positionally: study "lam-edges".',
        positional: true,
        defaultDoc: 'the study file\'s name without .lvi',
      },
      out: {
        type: { type: 'path', directory: true, output: true },
        doc: 'Folder for results, relative to the study file.',
        defaultDoc: 'out/<study name>',
      },
      device: {
        type: { type: 'enum', values: ['auto', 'cpu', 'webgpu', 'cuda'] },
        doc: 'Where tensors are computed; auto picks the fastest available.',
        default: 'auto',
      },
      seed: {
        type: { type: 'int', min: 0 },
        doc: 'Seed for every random choice (sampling, t-SNE, random baselines).',
        default: 0,
      },
    },
    example: 'study "lam-edges" out="out/lam-edges" device=auto seed=0',
  },

  model: {
    doc: 'A super-resolution network: an ONNX file or a pretrained model from the zoo.',
    kernel: 'model',
    name: 'required',
    params: {
      file: {
        type: { type: 'path', extensions: ['.onnx'] },
        doc: 'ONNX model file, relative to the study file.',
      },
      zoo: {
        type: {
          type: 'string',
          pattern: /^[a-z0-9][a-z0-9._-]*(\/x[0-9]+)?$/,
          patternDoc: 'a zoo id such as "esrgan-slim/x4" (name/x<scale>)',
          values: ZOO.map((e) => e.id),
        },
        doc: 'Pretrained model id, e.g. "esrgan-slim/x4" or "rdn/x4"; the scale comes from the id.',
      },
      scale: {
        type: { type: 'int', min: 1, max: 16 },
        doc: 'Upscaling factor of the network.',
        defaultDoc: 'from the zoo id; 4 for a file',
        note: 'A file model without scale= is taken to be x4; give scale= when it is not.',
      },
      range: {
        type: { type: 'int', allowed: [1, 255] },
        doc: 'Pixel value range the network expects: 1 (0..1) or 255 (0..255).',
        defaultDoc: '1 for a file; the zoo entry\'s own range for a zoo model',
      },
    },
    oneOf: [['file', 'zoo']],
    example: 'model mine file="models/my_rcan_x4.onnx" scale=4 range=1',
  },

  image: {
    doc: 'A test image: a high-resolution file (LR derived by each model\'s scale) or an LR file.',
    kernel: 'image',
    name: 'required',
    params: {
      file: {
        type: { type: 'path', extensions: ['.png', '.jpg', '.jpeg'] },
        doc: 'High-resolution image; the LR input is its bicubic downscale by the model\'s scale.',
      },
      lr: {
        type: { type: 'path', extensions: ['.png', '.jpg', '.jpeg'] },
        doc: 'Low-resolution image given directly (no HR, so no PSNR).',
      },
    },
    oneOf: [['file', 'lr']],
    example: 'image chelsea file="images/chelsea.png"',
  },

  dataset: {
    doc: 'A folder of images, e.g. Set14.',
    kernel: 'dataset',
    name: 'required',
    params: {
      dir: {
        type: { type: 'path', directory: true },
        doc: 'Folder holding the images, relative to the study file.',
        required: true,
      },
      glob: {
        type: { type: 'string' },
        doc: 'Which files of the folder to use (* and ? wildcards).',
        default: '*.png',
      },
    },
    example: 'dataset set14 dir="data/set14" glob="*.png"',
  },

  lam: {
    doc: 'Local Attribution Map (Gu & Dong, CVPR 2021): which input pixels a model uses to restore a window.',
    kernel: 'lam',
    name: 'optional',
    analysis: true,
    params: {
      model: {
        type: { type: 'ref', kinds: ['model'] },
        doc: 'The model to explain.',
        required: true,
        sweep: true,
      },
      image: {
        type: { type: 'ref', kinds: ['image'] },
        doc: 'The image to explain it on.',
        required: true,
        lowResFor: 'model',
        sweep: true,
      },
      window: {
        type: { type: 'tuple', length: 4, element: 'int', names: ['x', 'y', 'w', 'h'], min: [0, 0, 1, 1] },
        doc: 'Output window (x,y,w,h) in HR pixels, as in the LAM paper.',
        required: true,
        sweep: true,
      },
      path: {
        type: { type: 'enum', values: ['progressive-blur', 'linear', 'blur-linear'] },
        doc: 'Integration path from the baseline to the input.',
        default: 'progressive-blur',
        sweep: true,
      },
      sigma: {
        type: { type: 'number', min: 0, exclusiveMin: true, max: 100 },
        doc: 'Blur sigma of the baseline (start of the path).',
        default: 1.2,
        sweep: true,
      },
      steps: {
        type: { type: 'int', min: 1, max: 10000 },
        doc: 'Path steps (fold); more steps, closer integral.',
        default: 50,
        sweep: true,
      },
      kernel: {
        type: { type: 'int', min: 1, max: 101, odd: true },
        doc: 'Size of the square Gaussian blur kernel (odd).',
        default: 9,
        sweep: true,
      },
      detector: {
        type: { type: 'enum', values: ['gradient', 'intensity'] },
        doc: 'What is attributed in the window: edge strength (gradient) or summed intensity.',
        default: 'gradient',
        sweep: true,
      },
      reduce: {
        type: { type: 'enum', values: ['sum', 'mean'] },
        doc: 'How the detector combines the window\'s pixels.',
        default: 'sum',
      },
      crop: {
        type: { type: 'enum', values: ['auto', 'off'] },
        doc: 'Run on an LR crop around the window where the network allows it (same map, less work); off runs the whole image.',
        default: 'auto',
      },
      batch: {
        type: { type: 'union', of: [{ type: 'enum', values: ['auto'] }, { type: 'int', min: 1, max: 1024 }] },
        doc: 'Path steps per model run; auto times batch 1 against the largest batch that fits the device memory on the first steps and keeps the faster (probe in di.json).',
        default: 'auto',
      },
    },
    example:
      'lam edge model=[slim, rdn] image=chelsea window=(110,150,16,16)\n    path=progressive-blur sigma=1.2 steps=50 kernel=9 detector=gradient',
  },

  table: {
    doc: 'A table of results, one row per run of the listed analyses.',
    kernel: 'table',
    name: 'optional',
    params: {
      rows: {
        type: { type: 'list', of: { type: 'ref', kinds: ['analysis'] }, single: true, unique: true },
        doc: 'The analysis statement(s) whose runs become rows (a sweep\'s name stands for all its runs).',
        required: true,
      },
      columns: {
        type: { type: 'list', of: { type: 'enum', values: [...TABLE_COLUMNS] }, single: true, unique: true },
        doc: 'Which columns to show, in order.',
        default: ['model', 'image', 'window', 'di'],
      },
      format: {
        type: { type: 'enum', values: ['markdown', 'csv', 'json', 'all'] },
        doc: 'File format(s) the table is written in.',
        default: 'markdown',
      },
    },
    example: 'table di rows=edge columns=[model, di, psnr]',
  },

  report: {
    doc: 'An HTML report with every table and map of the study.',
    kernel: 'report',
    name: 'optional',
    single: true,
    collects: ['analysis', 'table'],
    params: {
      file: {
        type: { type: 'path', extensions: ['.html'], output: true },
        doc: 'Where the report is written, relative to the study file.',
        defaultDoc: '<out>/report.html',
      },
      title: {
        type: { type: 'string' },
        doc: 'Heading of the report.',
        defaultDoc: 'the study\'s name',
      },
    },
    example: 'report file="out/lam-edges/report.html" title="LAM on edges"',
  },
};

/** Kinds a ref type accepts, with 'analysis' expanded to every analysis kind. */
export function refKinds(kinds: string[], catalogue: Catalogue = CATALOGUE): string[] {
  return kinds.flatMap((k) =>
    k === 'analysis' ? Object.keys(catalogue).filter((name) => catalogue[name].analysis) : [k],
  );
}

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
export function describeType(t: ParamType, catalogue: Catalogue = CATALOGUE): string {
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
