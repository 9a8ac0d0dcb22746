// The LR input of an image for one model scale: HR cropped at the top-left to a multiple of the
// scale and downscaled as Pillow does (LAM's preparation), or the LR image the study gives.

import type { LoadedModel } from '../api.js';
import type { NodeRunner } from '../runner.js';
import { cropToScale, deriveLr, type Image } from '../image/index.js';
import type { ImageValue } from './image.js';
import { optionalNumber } from './params.js';

/** The value of a `derive-lr` node. `hr` is absent when the study gives only an LR image. */
export interface LrPair {
  hr?: Image;
  lr: Image;
  scale: number;
}

export const deriveLrKernel: NodeRunner = {
  kind: 'derive-lr',
  cache: false,
  async run({ node, deps }) {
    const image = deps.image?.value as ImageValue | undefined;
    if (!image) throw new Error(`derive-lr node '${node.id}' has no image dependency`);
    const model = deps.model?.value as LoadedModel | undefined;
    const scale = optionalNumber(node, 'scale') ?? model?.info.scale;
    if (scale === undefined || !Number.isInteger(scale) || scale < 1) {
      throw new Error(`cannot derive the LR image: the scale ${scale === undefined ? 'is unknown' : `${scale} is not a whole number >= 1`}`);
    }
    let pair: LrPair;
    if (image.lr) {
      const hr = image.hr ? cropToScale(image.hr, scale) : undefined;
      if (hr && (hr.width !== image.lr.width * scale || hr.height !== image.lr.height * scale)) {
        throw new Error(
          `the LR image is ${image.lr.width}x${image.lr.height}, so at x${scale} the HR image should be ` +
            `${image.lr.width * scale}x${image.lr.height * scale} (after cropping), but it is ${hr.width}x${hr.height}`,
        );
      }
      pair = { hr, lr: image.lr, scale };
    } else if (image.hr) {
      const derived = deriveLr(image.hr, scale);
      pair = { hr: derived.hr, lr: derived.lr, scale };
    } else {
      throw new Error(`derive-lr node '${node.id}': the image has neither an HR nor an LR picture`);
    }
    const summary: Record<string, unknown> = { scale, lrWidth: pair.lr.width, lrHeight: pair.lr.height };
    if (pair.hr) Object.assign(summary, { hrWidth: pair.hr.width, hrHeight: pair.hr.height });
    return { value: pair, summary, files: [] };
  },
};
