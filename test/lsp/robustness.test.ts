// Half-typed lines, unclosed brackets and strings, binary junk: every feature answers at every
// position and never throws.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { codeActions } from '../../src/lsp/code-actions.js';
import { codeLenses, reportPath } from '../../src/lsp/code-lens.js';
import { completion } from '../../src/lsp/completion.js';
import { createEnvironment } from '../../src/lsp/environment.js';
import { formatting } from '../../src/lsp/formatting.js';
import { hover } from '../../src/lsp/hover.js';
import { inlayHints } from '../../src/lsp/inlay-hints.js';
import { definition, documentHighlights, prepareRename, references, rename } from '../../src/lsp/navigation.js';
import { documentSymbols, foldingRanges } from '../../src/lsp/outline.js';
import { semanticTokens } from '../../src/lsp/semantic-tokens.js';
import { signatureHelp } from '../../src/lsp/signature-help.js';
import { toLspDiagnostic } from '../../src/compiler/index.js';
import { positionAt } from './helpers/cursor.js';
import { at, CATALOGUE_WITH_CALLS, makeStudyFolder } from './helpers/fixture.js';

const dir = makeStudyFolder();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const binary = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7919 + 13) % 256)).toString('latin1');

const TEXTS = [
  'lam e model=[slim, (rdn',
  'lam e window=(1,2,"unclosed\nmodel m zoo="esrgan-slim/x4',
  'model m zoo=\n    \n  file=\nimage',
  '  indented first line model=x',
  'lam e model=]]) image=((( steps=5%% path=..',
  '= = = [ ( , ) ]',
  'degrade d degradation=blur(sigma=2, size=(, noise(',
  'study "a" study "b"\nreport\nreport',
  '# only a comment',
  '',
  '\r\n\r\nlam\te\tmodel=a\r\n\tsteps=1\r\n',
  binary,
  'model slim zoo="esrgan-slim/x4"\nlam e model=slim image=slim window=(0,0,1,1)\ntable t rows=[e, e, slim] columns=[nope',
];

describe('every feature on broken text', () => {
  const env = createEnvironment();
  for (const [n, text] of TEXTS.entries()) {
    it(`text ${n} at every position`, () => {
      const a = at(text, dir, env, CATALOGUE_WITH_CALLS);
      const view = a.view;
      const diags = view.check.diagnostics.map(toLspDiagnostic);
      expect(() => {
        documentSymbols(view);
        foldingRanges(view);
        formatting(view);
        semanticTokens(view);
        inlayHints(view);
        codeLenses(view);
        reportPath(view);
      }).not.toThrow();
      for (let offset = 0; offset <= text.length; offset++) {
        const position = positionAt(text, offset);
        const range = { start: position, end: position };
        try {
          completion(view, position, env);
          hover(view, position, env);
          definition(view, position);
          references(view, position, true);
          documentHighlights(view, position);
          prepareRename(view, position);
          rename(view, position, 'fresh');
          signatureHelp(view, position);
          codeActions(view, range, diags, env);
        } catch (err) {
          throw new Error(`offset ${offset} of ${JSON.stringify(text.slice(Math.max(0, offset - 10), offset))}<|>: ${String(err)}`);
        }
      }
    });
  }
});
