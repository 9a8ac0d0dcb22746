// A study folder on disk for tests that need real files (paths, file checks, reports).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CATALOGUE, type Catalogue } from '../../../grammar/catalogue.js';
import { createEnvironment, type Environment } from '../../../src/lsp/environment.js';
import { studyFromText, type StudyView } from '../../../src/lsp/study.js';
import { cursor, positionAt } from './cursor.js';

export function makeStudyFolder(files: Record<string, string | Buffer> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvi-lsp-'));
  const all: Record<string, string | Buffer> = {
    'images/chelsea.png': tinyPng(8, 6),
    'images/notes.txt': 'not an image',
    'models/net.onnx': Buffer.from([0x08, 0x07]),
    'data/set14/a.png': tinyPng(4, 4),
    ...files,
  };
  for (const [rel, content] of Object.entries(all)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return dir;
}

/** A minimal PNG of the given size: its header and the IEND chunk that closes it (enough for size probes; lvi check calls a PNG without IEND truncated). */
export function tinyPng(width: number, height: number): Buffer {
  const b = Buffer.alloc(45);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'ascii');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b[24] = 8;
  b[25] = 2;
  b.write('IEND', 37, 'ascii'); // a 0-byte chunk at 33: length 0, type, CRC
  b.writeUInt32BE(0xae426082, 41);
  return b;
}

export interface At {
  view: StudyView;
  position: { line: number; character: number };
  offset: number;
  env: Environment;
}

/** Parse a snippet with a `<|>` cursor as the study `study.lvi` in `dir` (or untitled). */
export function at(
  marked: string,
  dir?: string,
  env: Environment = createEnvironment(),
  catalogue: Catalogue = CATALOGUE,
): At {
  const { text, offset } = cursor(marked.includes('<|>') ? marked : `<|>${marked}`);
  const uri = dir ? pathToFileURL(path.join(dir, 'study.lvi')).toString() : 'untitled:study.lvi';
  return { view: studyFromText(text, uri, catalogue), position: positionAt(text, offset), offset, env };
}

/**
 * The real catalogue plus a kind with a call-valued parameter, as FAIG's `degradation=blur(...)`
 * will have, so call completion and signature help are tested before such a kind ships.
 */
export const CATALOGUE_WITH_CALLS: Catalogue = {
  ...CATALOGUE,
  degrade: {
    doc: 'Test kind: degrades an image.',
    runner: 'degrade',
    name: 'required',
    params: {
      image: { type: { type: 'ref', kinds: ['image'] }, doc: 'The image.', required: true },
      degradation: {
        type: {
          type: 'call',
          functions: {
            blur: {
              doc: 'Gaussian blur.',
              args: {
                sigma: { type: { type: 'number', min: 0 }, doc: 'Blur sigma.', required: true },
                size: { type: { type: 'int', min: 1, odd: true }, doc: 'NodeRunner size.', default: 21 },
              },
            },
            noise: { doc: 'Gaussian noise.', args: { sigma: { type: { type: 'number', min: 0 }, doc: 'Noise sigma (0..255).', default: 25 } } },
          },
        },
        doc: 'What is done to the image.',
        required: true,
      },
    },
    example: 'degrade d image=cat degradation=blur(sigma=2)',
  },
  // As DDR's `features` will be: a layer of the referenced model.
  features: {
    doc: 'Test kind: deep features of a layer.',
    runner: 'features',
    name: 'required',
    params: {
      model: { type: { type: 'ref', kinds: ['model'] }, doc: 'The model.', required: true },
      layer: { type: { type: 'string' }, doc: 'Layer (node) name in the model.', required: true },
    },
    example: 'features f model=slim layer="conv2d_11"',
  },
};
