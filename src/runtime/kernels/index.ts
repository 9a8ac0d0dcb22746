// The runners of the core kinds (grammar/kinds/core.ts loads this module lazily): the loaders
// of models, images and datasets, the derive-LR step images pass through, tables and the report.

import { datasetKernel } from './dataset.js';
import { deriveLrKernel } from './derive-lr.js';
import { imageKernel } from './image.js';
import { modelKernel } from './model.js';
import { reportKernel } from './report.js';
import { tableKernel } from './table.js';

export const runners = [imageKernel, deriveLrKernel, modelKernel, datasetKernel, tableKernel, reportKernel];
