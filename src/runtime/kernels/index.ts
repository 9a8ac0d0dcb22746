// Every node kernel lvi ships, registered by kind. A new statement kind adds its kernel here.

import { registerKernel } from './registry.js';
import { datasetKernel } from './dataset.js';
import { deriveLrKernel } from './derive-lr.js';
import { imageKernel } from './image.js';
import { lamKernel } from '../methods/lam/kernel.js';
import { modelKernel } from './model.js';
import { reportKernel } from './report.js';
import { tableKernel } from './table.js';

for (const kernel of [imageKernel, deriveLrKernel, modelKernel, datasetKernel, tableKernel, reportKernel, lamKernel]) registerKernel(kernel);

export { getKernel, kernelKinds, registerKernel } from './registry.js';
