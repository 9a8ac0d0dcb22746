// The Langium services the language server builds on: documents validated through them get
// exactly the diagnostics `lvi check` prints (same codes, ranges and suggestions).
import path from 'node:path';
import { URI } from 'langium';
import { expect, test } from 'vitest';
import { checkStudy, createLviServices, parseStudy, toLspDiagnostic } from '../../src/compiler/index.js';
import { corpusDir } from './helpers.js';

test('a Langium document is validated by the lvi checker', async () => {
  const { shared } = createLviServices();
  const text = 'model slim zoo="esrgan-slim/x4"\nlam e model=slimm image=nothing window=(1,2,3)\n  stepz=4\n= oops\n';
  const file = path.join(corpusDir, 'valid', 'lsp.lvi');
  const doc = shared.workspace.LangiumDocumentFactory.fromString(text, URI.file(file));
  await shared.workspace.DocumentBuilder.build([doc], { validation: true });
  const expected = checkStudy(parseStudy(text, file)).diagnostics.map(toLspDiagnostic);
  expect(doc.diagnostics).toEqual(expected);
  expect(doc.diagnostics!.map((d) => d.code)).toEqual(['unresolved-ref', 'unresolved-ref', 'wrong-type', 'unknown-param', 'syntax']);
  const typo = doc.diagnostics![0];
  expect(typo).toMatchObject({ severity: 1, source: 'lvi', range: { start: { line: 1, character: 12 }, end: { line: 1, character: 17 } } });
  expect((typo.data as { suggestion: { text: string } }).suggestion.text).toBe('slim');
});

test('LviModule composes with Langium\'s LSP modules (as the language server does)', async () => {
  const { EmptyFileSystem, inject } = await import('langium');
  const { createDefaultModule, createDefaultSharedModule } = await import('langium/lsp');
  const { LviGeneratedModule, LviGeneratedSharedModule, LviModule, LviDocumentValidator } = await import('../../src/compiler/index.js');
  const shared = inject(createDefaultSharedModule(EmptyFileSystem), LviGeneratedSharedModule);
  const Lvi = inject(createDefaultModule({ shared }), LviGeneratedModule, LviModule);
  shared.ServiceRegistry.register(Lvi);
  expect(Lvi.validation.DocumentValidator).toBeInstanceOf(LviDocumentValidator);
  const doc = shared.workspace.LangiumDocumentFactory.fromString('lamm x\n', URI.parse('untitled:a.lvi'));
  await shared.workspace.DocumentBuilder.build([doc], { validation: true });
  expect(doc.diagnostics!.map((d) => [d.code, (d.data as { suggestion?: { text: string } }).suggestion?.text])).toEqual([['unknown-kind', 'lam']]);
});
