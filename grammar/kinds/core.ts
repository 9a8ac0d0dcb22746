// The kinds every study uses: settings, inputs (models, images, datasets) and outputs (tables,
// the report). Their runners are the loaders and writers of src/runtime/kernels.

import { type Catalogue, type CheckedLike, type KindCheck } from '../spec.js';
import { ZOO, zooScale } from '../zoo-table.js';

export const CORE_KINDS: Catalogue = {
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
    runner: 'model',
    load: () => import('../../src/runtime/kernels/index.js'),
    loader: true,
    produces: 'model',
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
    check: checkZooScale,
    example: 'model mine file="models/my_rcan_x4.onnx" scale=4 range=1',
  },

  image: {
    doc: 'A test image: a high-resolution file (LR derived by each model\'s scale) or an LR file.',
    runner: 'image',
    load: () => import('../../src/runtime/kernels/index.js'),
    loader: true,
    produces: 'image',
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
    runner: 'dataset',
    load: () => import('../../src/runtime/kernels/index.js'),
    loader: true,
    produces: 'dataset',
    name: 'required',
    params: {
      dir: {
        type: { type: 'path', directory: true },
        doc: 'Folder holding the images, relative to the study file.',
        required: true,
      },
      glob: {
        type: { type: 'string' },
        doc: 'Which files of the folder to use: * and ? within a name, ** across folders, [abc] and {a,b}.',
        default: '*.png',
      },
      lr: {
        type: { type: 'bool' },
        doc: 'The files ARE low-resolution network inputs, paired with an HR dataset by sorted file name.',
        default: false,
      },
    },
    example: 'dataset set14 dir="data/set14" glob="*.png"',
  },

  table: {
    doc: 'A table of results, one row per run of the listed analyses.',
    runner: 'table',
    load: () => import('../../src/runtime/kernels/index.js'),
    produces: 'table',
    name: 'optional',
    params: {
      rows: {
        type: { type: 'list', of: { type: 'ref', kinds: ['analysis'] }, single: true, unique: true },
        doc: 'The analysis statement(s) whose runs become rows (a sweep\'s name stands for all its runs).',
        required: true,
      },
      columns: {
        // The values are every analysis kind's parameters and results, filled in by
        // grammar/catalogue.ts once all kinds are known; the table's check narrows them to the rows' kinds.
        type: { type: 'list', of: { type: 'enum', values: [] }, single: true, unique: true },
        doc: 'Which columns to show, in order: parameters and results of the rows\' kinds, params, receptive-field, seconds, run.',
        defaultDoc: 'the row kinds\' own columns (lam: model, image, window, di)',
      },
      format: {
        type: { type: 'enum', values: ['markdown', 'csv', 'json', 'all'] },
        doc: 'File format(s) the table is written in.',
        default: 'markdown',
      },
    },
    check: checkColumns,
    example: 'table di rows=edge columns=[model, di, psnr]',
  },

  report: {
    doc: 'An HTML report with every table and map of the study.',
    runner: 'report',
    load: () => import('../../src/runtime/kernels/index.js'),
    produces: 'report',
    name: 'optional',
    single: true,
    // Analyses and tables, and what people look at rather than read: DDR's embeddings (scatter plots).
    collects: ['analysis', 'table', 'embedding'],
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

/** The zoo id carries the scale (esrgan-slim/x4); a different scale= is a contradiction. */
function checkZooScale(st: CheckedLike, c: KindCheck): void {
  const zoo = st.value('zoo');
  const scale = st.value('scale');
  if (typeof zoo !== 'string' || typeof scale !== 'number') return;
  const fromId = zooScale(zoo);
  if (fromId !== undefined && fromId !== scale) {
    c.accept('conflicting-params', `scale=${scale} contradicts the zoo id "${zoo}", which is a x${fromId} model`, { param: 'scale' });
  }
}

/** A table shows what its rows have: the columns of the rows' kinds. */
function checkColumns(_st: CheckedLike, c: KindCheck): void {
  const kinds = [...new Set(c.values('rows').flatMap((v) => (Array.isArray(v) ? v : [v])).map((v) => c.statement(v)?.kind).filter((k): k is string => !!k))];
  if (kinds.length === 0) return;
  const known = new Set(c.kindColumns(kinds));
  const columns = c.values('columns').flatMap((v) => (Array.isArray(v) ? v : [v]));
  columns.forEach((col, index) => {
    if (typeof col === 'string' && !known.has(col)) {
      c.accept('unknown-value', `table columns: ${kinds.join('/')} runs have no column \`${col}\` (columns: ${[...known].join(', ')})`, { param: 'columns', index });
    }
  });
}
