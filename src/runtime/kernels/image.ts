// `image` statements: read the HR picture (or a given LR one); LR derivation is its own node.

import { readImage, type Image } from '../image/index.js';
import type { NodeRunner } from '../runner.js';
import { optionalString } from './params.js';

/** The value of an `image` node: the HR image, the given LR image, or both. */
export interface ImageValue {
  hr?: Image;
  lr?: Image;
}

export const imageKernel: NodeRunner = {
  kind: 'image',
  cache: false,
  async run({ node }) {
    const file = optionalString(node, 'file');
    const lrFile = optionalString(node, 'lr');
    if (!file && !lrFile) throw new Error(`image '${node.statement ?? node.id}' needs file="..." (HR) or lr="..." (LR)`);
    const value: ImageValue = {};
    const summary: Record<string, unknown> = {};
    if (file) {
      value.hr = readImage(file);
      summary.file = file;
      summary.width = value.hr.width;
      summary.height = value.hr.height;
    }
    if (lrFile) {
      value.lr = readImage(lrFile);
      summary.lrFile = lrFile;
      summary.lrWidth = value.lr.width;
      summary.lrHeight = value.lr.height;
    }
    return { value, summary, files: [] };
  },
};
