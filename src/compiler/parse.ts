// Text -> AST plus syntax diagnostics. One Langium service set is shared by every call.
import type { Study } from './generated/ast.js';
import { createLviServices, type LviServiceSet } from './services.js';
import { assemble, toUri, withoutBom, type ParsedStudy } from './source.js';

let services: LviServiceSet | undefined;

/** The shared core services (created on first use). */
export function lviServices(): LviServiceSet {
  services ??= createLviServices();
  return services;
}

export function parseStudy(text: string, uri = 'untitled.lvi'): ParsedStudy {
  return assemble(toUri(uri), text, lviServices().Lvi.parser.LangiumParser.parse<Study>(withoutBom(text)));
}
