// The features as Langium services, through Langium's own test helpers: what the wiring in
// server.ts hands the protocol layer, without a process.
import { NodeFileSystem } from 'langium/node';
import { expectCompletion, expectFindReferences, expectGoToDefinition, expectHover, expectSymbols, validationHelper } from 'langium/test';
import { describe, expect, it } from 'vitest';
import { checkStudy, parseStudy } from '../../src/compiler/index.js';
import { createLviLspServices } from '../../src/lsp/server.js';

const { Lvi } = createLviLspServices({ ...NodeFileSystem });
const STUDY = 'model <|slim|> zoo="esrgan-slim/x4"\nimage cat file="x.png"\nlam e model=<|<|>slim|> image=cat window=(0,0,4,4)\n';

describe('lvi features as Langium services', () => {
  it('validates with the diagnostics of the check, matched by code', async () => {
    const text = 'lam e stpes=5 model=nope';
    const result = await validationHelper(Lvi)(text);
    const expected = checkStudy(parseStudy(text, result.document.uri.toString())).diagnostics.map((d) => d.code);
    expect(result.diagnostics.map((d) => d.code)).toEqual(expected);
    expect(expected).toEqual(expect.arrayContaining(['unknown-param', 'unresolved-ref', 'missing-param']));
    await result.dispose();
  });

  it('completes references of the expected kind', async () => {
    await expectCompletion(Lvi)({
      text: 'model slim zoo="esrgan-slim/x4"\nimage cat file="x.png"\nlam e model=<|>',
      index: 0,
      expectedItems: ['slim'],
      disposeAfterCheck: true,
    });
  });

  it('hovers a parameter with its documentation', async () => {
    await expectHover(Lvi)({ text: 'lam e st<|>eps=5', index: 0, hover: /Path steps[\s\S]*default: `50`/, disposeAfterCheck: true });
  });

  it('goes to the declaration and finds the references', async () => {
    await expectGoToDefinition(Lvi)({ text: STUDY, index: 0, rangeIndex: 0, disposeAfterCheck: true });
    await expectFindReferences(Lvi)({ text: STUDY.replace('<|<|>slim|>', '<|slim|>').replace('<|slim|> zoo', '<|<|>slim|> zoo'), includeDeclaration: true, disposeAfterCheck: true });
  });

  it('lists the statements as symbols', async () => {
    await expectSymbols(Lvi)({
      text: 'model slim zoo="esrgan-slim/x4"\nlam e model=slim',
      assert: (symbols) => expect(symbols.map((s) => [s.name, s.detail])).toEqual([['slim', 'model'], ['e', 'lam']]),
      disposeAfterCheck: true,
    });
  });
});
