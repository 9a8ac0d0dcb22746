// Image sizes from file headers (PNG and JPEG), checked against sizes Pillow wrote.
import path from 'node:path';
import { expect, test } from 'vitest';
import { imageSize } from '../../src/compiler/image-size.js';
import { filesDir } from './helpers.js';

test('PNG and JPEG headers; anything else is unknown', () => {
  expect(imageSize(path.join(filesDir, 'hr.png'))).toEqual({ width: 32, height: 32 });
  expect(imageSize(path.join(filesDir, 'lr.png'))).toEqual({ width: 8, height: 8 });
  expect(imageSize(path.join(filesDir, 'small.jpg'))).toEqual({ width: 20, height: 12 });
  expect(imageSize(path.join(filesDir, 'nearest_x4.onnx'))).toBeUndefined();
  expect(imageSize(path.join(filesDir, 'missing.png'))).toBeUndefined();
});
