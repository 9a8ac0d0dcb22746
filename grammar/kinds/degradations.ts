// Degradations as values, shared by every kind that feeds degraded images to a network (faig,
// evaluate, features, srga...): a call such as blur(sigma=2), the word `clean`, or the name of a
// `dataset lr=true` whose files ARE the degraded LR inputs. The image operations behind each call
// live in src/runtime/image/degrade.ts.

import type { ParamSpec, ParamType } from '../spec.js';

export const DEGRADATION_CALL: ParamType = {
  type: 'call',
  functions: {
    clean: { doc: 'No degradation: the downscaled HR image itself.', args: {} },
    blur: {
      doc: 'Isotropic Gaussian blur of the HR image (reflect-101 borders), before the downscale.',
      args: {
        sigma: { type: { type: 'number', min: 0, exclusiveMin: true, max: 50 }, doc: 'Standard deviation in HR pixels.', required: true },
        size: { type: { type: 'int', min: 1, max: 101, odd: true }, doc: 'Side of the square kernel (odd).', default: 21 },
      },
    },
    noise: {
      doc: 'Additive Gaussian noise on the LR image (0..1 scale), seeded per image.',
      args: {
        sigma: { type: { type: 'number', min: 0, exclusiveMin: true, max: 1 }, doc: 'Standard deviation on the 0..1 scale (0.1 = 25.5 grey levels).', required: true },
        seed: { type: { type: 'int', min: 0 }, doc: 'Seed of the noise (each image draws its own stream from it).', defaultDoc: 'the study\'s seed', studyDefault: 'seed' },
      },
    },
    jpeg: {
      doc: 'JPEG compression of the LR image.',
      args: {
        quality: { type: { type: 'int', min: 1, max: 100 }, doc: 'JPEG quality (1-100).', required: true },
      },
    },
  },
};

/** One degradation: a call, `clean`, or an LR dataset's name. */
export const DEGRADATION: ParamType = { type: 'union', of: [DEGRADATION_CALL, { type: 'ref', kinds: ['dataset'] }] };

/** A list of degradations (`degradations=[clean, blur(sigma=2), noisy]`). */
export const DEGRADATIONS: ParamType = { type: 'list', of: DEGRADATION, single: true, unique: true };

/** How HR images become LR network inputs. */
export const DOWN: ParamSpec = {
  type: { type: 'enum', values: ['mean', 'bicubic'] },
  doc: 'Downscale to LR: s x s mean (what the FAIG code\'s cv2 INTER_LINEAR computes at x2) or Pillow\'s bicubic (as LAM).',
  default: 'mean',
};

/** How HR images become a statement's LR samples: the downscale and the crops cut from each image. */
export const SAMPLE_PARAMS: Record<string, ParamSpec> = {
  down: DOWN,
  patch: {
    type: { type: 'int', min: 0, max: 4096 },
    doc: 'Cut each HR image into square crops of this many HR pixels (on a grid from the top-left); 0 uses whole images.',
    default: 0,
  },
  patches: {
    type: { type: 'int', min: 1, max: 10000 },
    doc: 'At most this many crops per image (spread evenly over the grid), when patch= is set.',
    default: 4,
  },
};
