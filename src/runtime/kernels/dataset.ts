// `dataset` statements: the images of a folder that match a glob, in a stable (sorted) order.

import { readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { NodeRunner } from '../runner.js';
import { globToRegExp } from './glob.js';
import { optionalString } from './params.js';

/** Extensions lvi reads (see src/runtime/image). */
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** The value of a `dataset` node. */
export interface DatasetValue {
  dir: string;
  /** Absolute paths, sorted by their name relative to dir. */
  files: string[];
}

export function listDataset(dir: string, glob: string): DatasetValue {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new Error(`dataset folder ${dir} does not exist`);
  }
  if (!isDir) throw new Error(`dataset folder ${dir} is a file, not a folder`);
  const pattern = globToRegExp(glob);
  const recursive = glob.includes('/');
  const names = (readdirSync(dir, { recursive }) as string[]).map((n) => n.split(sep).join('/')).sort();
  const matching = names.filter((n) => pattern.test(n) && statSync(join(dir, n)).isFile());
  const images = matching.filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase()));
  if (images.length === 0) {
    const why =
      matching.length > 0
        ? `${matching.length} file(s) match glob "${glob}" but none is a PNG or JPEG (e.g. ${matching[0]})`
        : `no file matches glob "${glob}"${names.length ? ` among its ${names.length} entries` : ' (the folder is empty)'}`;
    throw new Error(`dataset folder ${dir} has no images: ${why}`);
  }
  return { dir, files: images.map((n) => join(dir, n)) };
}

export const datasetKernel: NodeRunner = {
  kind: 'dataset',
  cache: false,
  async run({ node }) {
    const dir = optionalString(node, 'dir');
    if (!dir) throw new Error(`dataset '${node.statement ?? node.id}' needs dir="..."`);
    const value = listDataset(dir, optionalString(node, 'glob') ?? '*');
    const names = value.files.map((f) => relative(dir, f).split(sep).join('/'));
    return { value, summary: { dir, count: names.length, files: names }, files: [] };
  },
};
