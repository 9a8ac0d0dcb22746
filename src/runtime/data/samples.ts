// The samples of a FAIG, DDR or SRGA statement: every (image or crop) x degradation as an exact network
// input, with its labels. A degradation is a call on the HR image (clean, blur, noise, jpeg;
// then the downscale) or an LR dataset whose files are the inputs themselves.

import path from 'node:path';
import type { ResolvedValue } from '../../compiler/plan.js';
import { cropToScale, readImage } from '../image/index.js';
import { cropImage, type Image } from '../image/image.js';
import type { DatasetValue } from '../kernels/dataset.js';
import { DEGRADATION_CALL } from '../../../grammar/kinds/degradations.js';
import { callFunction } from '../../../grammar/spec.js';
import { valueText } from '../kernels/params.js';
import { boxMean, degrade, quantise } from '../image/degrade.js';

export interface SampleLabel {
  /** The source file (HR image, or the LR file of an LR dataset), relative to the study folder. */
  file: string;
  degradation: string;
  /** The source image (file name without extension). */
  content: string;
  /** The crop: content@x,y (HR pixels) with patch=, else the content. */
  crop: string;
}

export type Degradation =
  | { kind: 'call'; call: string; args: Record<string, ResolvedValue>; text: string }
  | { kind: 'dataset'; name: string; value: DatasetValue };

export class InputError extends Error {
  override name = 'InputError';
}

/** A resolved degradation value (`clean`, a call, or an LR dataset reference with its dependency). */
export function toDegradation(v: ResolvedValue, dataset: (ref: string) => DatasetValue | undefined): Degradation {
  if (v === 'clean') return { kind: 'call', call: 'clean', args: {}, text: 'clean' };
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    if ('call' in v) return { kind: 'call', call: v.call, args: v.args, text: callLabel(v.call, v.args) };
    if ('ref' in v) {
      const value = dataset(v.ref);
      if (!value) throw new InputError(`degradation '${v.ref}' is not a loaded dataset`);
      if (!value.lr) throw new InputError(`dataset '${v.ref}' is given as a degradation but is not lr=true: its files would be taken as network inputs`);
      return { kind: 'dataset', name: v.ref, value };
    }
  }
  throw new InputError(`not a degradation: ${JSON.stringify(v)}`);
}

/** A call as the study would write it: arguments at their catalogue default left out (blur(sigma=2)). */
export function callLabel(call: string, args: Record<string, ResolvedValue>): string {
  const spec = callFunction(DEGRADATION_CALL, call);
  const shown = Object.fromEntries(Object.entries(args).filter(([k, a]) => spec?.args[k]?.default === undefined || spec.args[k].default !== a));
  return Object.keys(shown).length === 0 && call === 'clean' ? 'clean' : valueText({ call, args: shown });
}

export interface SampleOptions {
  data?: DatasetValue;
  scale: number;
  down: 'mean' | 'bicubic';
  patch: number;
  patches: number;
  /** The study's seed, for noise(...) without its own seed. */
  seed: number;
  studyDir: string;
  /** Keep each sample's HR image (the crop, cut to a multiple of the scale): FAIG's loss target. */
  withHr?: boolean;
}

export interface Samples {
  images: Image[];
  labels: SampleLabel[];
  /** With `withHr`: the HR image of each sample (undefined for LR-only data). */
  hr: (Image | undefined)[];
}

const stem = (f: string) => path.basename(f).replace(/\.[^.]+$/, '');

/** The longest common prefix of the names, without a trailing separator (the name itself when one). */
function commonStem(names: string[]): string {
  if (names.length === 1) return names[0];
  let p = names[0];
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  return p.replace(/[_\-. ]+$/, '') || names[0];
}

/** The longest suffix all the names share. */
function commonSuffix(names: string[]): string {
  let p = names[0]!;
  for (const n of names) while (!n.endsWith(p)) p = p.slice(1);
  return p;
}

/**
 * The first HR/LR pair whose names disagree once each set's shared suffix is removed
 * (astronaut_hr / astronaut_lr_blur agree; astronaut_hr / coffee_lr_blur do not). Sets of one
 * file, or names that share nothing, are taken as paired.
 */
function pairingMismatch(hr: string[], lr: string[]): [string, string] | undefined {
  if (hr.length < 2) return undefined;
  const a = hr.map(stem);
  const b = lr.map(stem);
  const sa = commonSuffix(a);
  const sb = commonSuffix(b);
  const core = (n: string, suffix: string) => n.slice(0, n.length - suffix.length).replace(/[_\-. ]+$/, '');
  const i = a.findIndex((n, k) => core(n, sa) !== core(b[k]!, sb));
  return i < 0 ? undefined : [hr[i]!, lr[i]!];
}

/** Crop boxes of an image: the whole image, or up to `patches` grid cells spread evenly. */
function boxes(img: Image, patch: number, patches: number): { x: number; y: number; w: number; h: number }[] {
  if (patch <= 0) return [{ x: 0, y: 0, w: img.width, h: img.height }];
  const cols = Math.floor(img.width / patch);
  const rows = Math.floor(img.height / patch);
  if (cols * rows === 0) throw new InputError(`patch=${patch} is larger than the ${img.width}x${img.height} image`);
  const cells = cols * rows;
  const take = Math.min(patches, cells);
  // Evenly spread over the cells in reading order (first, ..., last when take > 1).
  return Array.from({ length: take }, (_, i) => {
    const cell = take === 1 ? 0 : Math.round((i * (cells - 1)) / (take - 1));
    return { x: (cell % cols) * patch, y: Math.floor(cell / cols) * patch, w: patch, h: patch };
  });
}

/** s x s box mean rounded to 8 bits: the DDR/SRGA references' clean LR. */
export function downMean(img: Image, s: number): Image {
  return quantise(boxMean(img, s));
}

/** The clean LR of an HR crop (cut to a multiple of the scale). */
export function cleanLr(hr: Image, scale: number, down: 'mean' | 'bicubic'): Image {
  return degrade(hr, { x: 0, y: 0, w: hr.width, h: hr.height }, { call: 'clean', args: {}, text: 'clean' }, { scale, down, seed: 0, index: 0 }, new Map());
}

/**
 * Every sample, ordered source-major: for each HR image (or LR index), each crop, each
 * degradation. LR datasets are paired with the HR files (or with each other) by sorted position.
 */
export function buildSamples(degradations: Degradation[], o: SampleOptions): Samples {
  const images: Image[] = [];
  const labels: SampleLabel[] = [];
  const hrs: (Image | undefined)[] = [];
  const rel = (f: string) => path.relative(o.studyDir, f).split(path.sep).join('/');
  const lrSets = degradations.filter((d): d is Degradation & { kind: 'dataset' } => d.kind === 'dataset');
  const counts = new Set(lrSets.map((d) => d.value.files.length));
  if (o.data) counts.add(o.data.files.length);
  if (counts.size > 1) {
    const parts = lrSets.map((d) => `${d.name}: ${d.value.files.length}`);
    if (o.data) parts.unshift(`data: ${o.data.files.length}`);
    throw new InputError(`LR datasets are paired by sorted file name, so they need as many files as the HR data (${parts.join(', ')})`);
  }
  for (const d of lrSets) {
    const mismatch = o.data ? pairingMismatch(o.data.files, d.value.files) : undefined;
    if (mismatch) {
      throw new InputError(
        `LR dataset '${d.name}' does not pair with the HR data by sorted name: ${path.basename(mismatch[1])} comes where ${path.basename(mismatch[0])} does (the names without what all of a set's names share must agree, e.g. cat_hr.png and cat_lr_blur.png)`,
      );
    }
  }
  const calls = degradations.filter((d) => d.kind === 'call');
  if (calls.length > 0 && !o.data) throw new InputError(`degradations ${calls.map((d) => (d as { text: string }).text).join(', ')} need HR images: add data=<dataset>`);
  if (lrSets.length > 0 && o.patch > 0) throw new InputError('patch= cuts HR images; LR datasets are used whole (cut them beforehand, or use degradation calls)');
  const count = o.data ? o.data.files.length : lrSets[0]?.value.files.length ?? 0;
  if (count === 0) throw new InputError('no input images: the dataset is empty');
  for (let i = 0; i < count; i++) {
    const hrFile = o.data?.files[i];
    const hr = hrFile ? readImage(hrFile) : undefined;
    // LR-only: the crop is what the sets' file names share (astronaut_tl_clean, astronaut_tl_blur
    // -> astronaut_tl), the content that up to its first '_'.
    const shared = hrFile ? '' : commonStem(lrSets.map((d) => stem(d.value.files[i])));
    const content = hrFile ? stem(hrFile) : shared.split('_')[0];
    const cropBoxes = hr ? boxes(hr, o.patch, o.patches) : [undefined];
    const blurred = new Map<string, Image>(); // one whole-image blur per call, shared by the crops
    cropBoxes.forEach((box, ci) => {
      const hrCrop = o.withHr && hr && box ? cropToScale(box.w === hr.width && box.h === hr.height ? hr : cropImage(hr, box.x, box.y, box.w, box.h), o.scale) : undefined;
      const crop = box && o.patch > 0 ? `${content}@${box.x},${box.y}` : hrFile ? content : shared;
      for (const d of degradations) {
        if (d.kind === 'dataset') {
          const file = d.value.files[i];
          images.push(readImage(file));
          labels.push({ file: rel(file), degradation: d.name, content, crop });
          hrs.push(hrCrop);
          continue;
        }
        // Noise streams: one per crop of each image, fixed by the image's position and the crop.
        images.push(degrade(hr!, box!, d, { scale: o.scale, down: o.down, seed: o.seed, index: i * 100003 + ci }, blurred));
        labels.push({ file: rel(hrFile!), degradation: d.text, content, crop });
        hrs.push(hrCrop);
      }
    });
  }
  return { images, labels, hr: hrs };
}
