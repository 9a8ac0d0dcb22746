// `dataset` statements: the images of a folder that match a glob, in a stable (sorted) order.

import { join, relative, sep } from 'node:path';
import { datasetFiles } from '../../compiler/glob.js';
import type { NodeRunner } from '../runner.js';
import { optionalString } from './params.js';

/** The value of a `dataset` node. */
export interface DatasetValue {
  dir: string;
  /** Absolute paths, sorted by their name relative to dir. */
  files: string[];
  /** The files are LR network inputs (paired with an HR dataset by sorted name). */
  lr: boolean;
}

export function listDataset(dir: string, glob: string, lr = false): DatasetValue {
  return { dir, files: datasetFiles(dir, glob).map((n) => join(dir, n)), lr };
}

export const datasetKernel: NodeRunner = {
  kind: 'dataset',
  cache: false,
  async run({ node }) {
    const dir = optionalString(node, 'dir');
    if (!dir) throw new Error(`dataset '${node.statement ?? node.id}' needs dir="..."`);
    const value = listDataset(dir, optionalString(node, 'glob') ?? '*', node.params.lr === true);
    const names = value.files.map((f) => relative(dir, f).split(sep).join('/'));
    return { value, summary: { dir, count: names.length, files: names, lr: value.lr }, files: [] };
  },
};
