// Langium services for .lvi. The CLI uses the core services; the language server injects
// LviModule next to Langium's LSP module and its own providers:
//   const shared = inject(createDefaultSharedModule(ctx), LviGeneratedSharedModule);
//   const Lvi = inject(createDefaultModule({ shared }), LviGeneratedModule, LviModule, MyLspModule);
import {
  EmptyFileSystem,
  createDefaultCoreModule,
  createDefaultSharedCoreModule,
  inject,
  type DefaultSharedCoreModuleContext,
  type LangiumCoreServices,
  type LangiumSharedCoreServices,
  type Module,
  type PartialLangiumCoreServices,
} from 'langium';
import { LviGeneratedModule, LviGeneratedSharedModule } from './generated/module.js';
import { createBinaryGuardedParser } from './binary.js';
import { LviParserErrorMessageProvider } from './syntax.js';
import { LviDocumentValidator } from './validator.js';

export type LviServices = LangiumCoreServices;

/** lvi's additions to Langium's defaults: friendly syntax messages, a binary-file guard and the catalogue checker. */
export const LviModule: Module<LangiumCoreServices, PartialLangiumCoreServices> = {
  parser: {
    ParserErrorMessageProvider: () => new LviParserErrorMessageProvider(),
    LangiumParser: (services) => createBinaryGuardedParser(services),
  },
  validation: {
    // Every diagnostic the editor shows comes from checkStudy, the same code `lvi check` runs.
    DocumentValidator: () => new LviDocumentValidator(),
  },
};

export interface LviServiceSet {
  shared: LangiumSharedCoreServices;
  Lvi: LviServices;
}

/** Core (editor-free) services; pass a file system context to load documents from disk. */
export function createLviServices(context: DefaultSharedCoreModuleContext = EmptyFileSystem): LviServiceSet {
  const shared = inject(createDefaultSharedCoreModule(context), LviGeneratedSharedModule);
  const Lvi = inject(createDefaultCoreModule({ shared }), LviGeneratedModule, LviModule);
  shared.ServiceRegistry.register(Lvi);
  return { shared, Lvi };
}
