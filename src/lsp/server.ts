// The language server: Langium's LSP plumbing (document sync, builds, pushed diagnostics,
// request scheduling and cancellation) with every lvi feature plugged in as a plain function
// of the study view. This file only wires protocol messages to those functions.
import {
  DefaultConfigurationProvider,
  DefaultLangiumDocumentFactory,
  DefaultLinker,
  DefaultReferenceDescriptionProvider,
  DocumentState,
  inject,
  isOperationCancelled,
  MultiMap,
  OperationCancelled,
  URI,
  type AstNode,
  type AstNodeDescription,
  type ConfigurationInitializedParams,
  type LangiumDocument,
  type LangiumSharedCoreServices,
  type Module,
  type ReferenceDescription,
} from 'langium';
import {
  createDefaultModule,
  createDefaultSharedModule,
  startLanguageServer,
  type DefaultSharedModuleContext,
  type LangiumServices,
  type LangiumSharedServices,
  type PartialLangiumServices,
} from 'langium/lsp';
import { NodeFileSystem } from 'langium/node';
import { CancellationToken as CancellationTokens, LSPErrorCodes, ResponseError, type CancellationToken, type Connection, type InitializeParams } from 'vscode-languageserver';
import { createConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node.js';
import { LviGeneratedModule, LviGeneratedSharedModule, LviModule, toLspDiagnostic } from '../compiler/index.js';
import { codeActions } from './code-actions.js';
import { codeLenses, reportPath } from './code-lens.js';
import { COMPLETION_TRIGGERS, completion } from './completion.js';
import { reportPathRequest, type ReportPathParams } from './custom-requests.js';
import { createEnvironment, type Environment } from './environment.js';
import { formatting } from './formatting.js';
import { hover } from './hover.js';
import { inlayHints } from './inlay-hints.js';
import { definition, documentHighlights, prepareRename, references, rename } from './navigation.js';
import { documentSymbols, foldingRanges } from './outline.js';
import { SEMANTIC_LEGEND, semanticTokens, TOKEN_MODIFIERS, TOKEN_TYPES } from './semantic-tokens.js';
import { PlanDiagnostics } from './plan-diagnostics.js';
import { SIGNATURE_TRIGGERS, signatureHelp } from './signature-help.js';
import { studyOfDocument, type StudyView } from './study.js';
import { current, currentByUri, DebouncedUpdateHandler } from './updates.js';

const view = (doc: LangiumDocument) => studyOfDocument(doc);

/**
 * Run a feature on the view of the document's current text (see updates.ts). A request the
 * client cancelled is answered RequestCancelled (Langium maps OperationCancelled), not computed:
 * one cancelled before it was dispatched has its token cancelled from the start, and Langium
 * lets it through when the document is already built; one cancelled while it waited for a parse
 * is caught here too, however the wait ended.
 */
async function on<T>(services: LangiumServices, doc: LangiumDocument, token: CancellationToken | undefined, feature: (v: StudyView) => T): Promise<T> {
  if (token?.isCancellationRequested) throw OperationCancelled;
  const latest = await current(services.shared, doc, token);
  if (token?.isCancellationRequested) throw OperationCancelled;
  return feature(view(latest));
}

/**
 * Registers for configuration changes only when the client supports dynamic registration, and
 * never lets the client's refusal (or a failed configuration fetch) reject unhandled: Langium's
 * default registers unconditionally and drops the promise, which ended the process.
 */
class LviConfigurationProvider extends DefaultConfigurationProvider {
  private dynamicRegistration = false;

  override initialize(params: InitializeParams): void {
    super.initialize(params);
    this.dynamicRegistration = params.capabilities.workspace?.didChangeConfiguration?.dynamicRegistration === true;
  }

  override async initialized(params: ConfigurationInitializedParams): Promise<void> {
    const register = params.register;
    const fetch = params.fetchConfiguration;
    return super.initialized({
      ...params,
      register:
        this.dynamicRegistration && register
          ? (options) => {
              Promise.resolve(register(options) as unknown).catch((err: unknown) =>
                console.error('lvi: the client refused to register workspace/didChangeConfiguration:', errorText(err)),
              );
            }
          : undefined,
      fetchConfiguration: fetch
        ? async (items) => {
            try {
              return await fetch(items);
            } catch (err) {
              console.error('lvi: the client did not send its configuration:', errorText(err));
              return [];
            }
          }
        : undefined,
    });
  }
}

/**
 * A document that an open editor holds is made from the editor's text, never read from disk:
 * a request right after didOpen (before the debounced build has added it) used to read the
 * file and fail with ENOENT for an unsaved study.
 */
class EditorFirstDocumentFactory extends DefaultLangiumDocumentFactory {
  override async fromUri<T extends AstNode = AstNode>(uri: URI, token?: CancellationToken): Promise<LangiumDocument<T>> {
    const open = this.textDocuments?.get(uri.toString());
    return open ? this.fromTextDocument<T>(open, uri, token ?? CancellationTokens.None) : super.fromUri<T>(uri, token);
  }
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : JSON.stringify(err));

class NoLinker extends DefaultLinker {
  override async link(): Promise<void> {}
}

class NoReferenceDescriptions extends DefaultReferenceDescriptionProvider {
  override async createDescriptions(): Promise<ReferenceDescription[]> {
    return [];
  }
}

/** Features as Langium services; each one calls its function over the document's study view. */
export function createLviLspModule(env: Environment, plan?: PlanDiagnostics): Module<LangiumServices, PartialLangiumServices> {
  // A refusal is not a fault of the server: RequestFailed, whose message editors show as is.
  const fail = (result: { error: string }) => {
    throw new ResponseError(LSPErrorCodes.RequestFailed, result.error);
  };
  return {
    // Names resolve in the checker (catalogue-typed), not through Langium's cross-references
    // (the grammar has none), so its scope, link and reference-index walks over every node on
    // every edit would be spent for nothing: about a fifth of an edit's time on 2,000 lines.
    references: {
      ScopeComputation: () => ({
        computeExports: async () => [],
        computeLocalScopes: async () => new MultiMap<AstNode, AstNodeDescription>(),
      }),
      Linker: (services) => new NoLinker(services),
    },
    workspace: {
      ReferenceDescriptionProvider: (services) => new NoReferenceDescriptions(services),
    },
    validation: {
      // What `lvi check` reports: the check (computed once per parse and shared with requests),
      // completed by the compiler's findings once a background compile has them.
      DocumentValidator: () => ({
        validateDocument: async (doc: LangiumDocument) =>
          (plan ? plan.diagnostics(view(doc)) : view(doc).check.diagnostics).map(toLspDiagnostic),
      }),
    },
    lsp: {
      CompletionProvider: () => ({
        getCompletion: (doc, params) => completion(view(doc), params.position, env, doc.textDocument.getText()),
        completionOptions: { triggerCharacters: COMPLETION_TRIGGERS },
      }),
      HoverProvider: (s) => ({ getHoverContent: (doc, params, token) => on(s, doc, token, (v) => hover(v, params.position, env)) }),
      DefinitionProvider: (s) => ({ getDefinition: (doc, params, token) => on(s, doc, token, (v) => definition(v, params.position)) }),
      ReferencesProvider: (s) => ({
        findReferences: (doc, params, token) => on(s, doc, token, (v) => references(v, params.position, params.context.includeDeclaration)),
      }),
      DocumentHighlightProvider: (s) => ({
        getDocumentHighlight: (doc, params, token) => on(s, doc, token, (v) => documentHighlights(v, params.position)),
      }),
      RenameProvider: (s) => ({
        prepareRename: (doc, params, token) =>
          on(s, doc, token, (v) => {
            const r = prepareRename(v, params.position);
            return 'error' in r ? fail(r) : r.range;
          }),
        rename: (doc, params, token) =>
          on(s, doc, token, (v) => {
            const r = rename(v, params.position, params.newName);
            return 'error' in r ? fail(r) : r;
          }),
      }),
      DocumentSymbolProvider: (s) => ({ getSymbols: (doc, _params, token) => on(s, doc, token, documentSymbols) }),
      FoldingRangeProvider: (s) => ({ getFoldingRanges: (doc, _params, token) => on(s, doc, token, foldingRanges) }),
      Formatter: (s) => ({
        formatDocument: (doc, _params, token) => on(s, doc, token, formatting),
        // `lvi fmt` formats whole studies; a range request gets the same edits.
        formatDocumentRange: (doc, _params, token) => on(s, doc, token, formatting),
        formatDocumentOnType: () => [],
        formatOnTypeOptions: undefined,
      }),
      SemanticTokenProvider: (s) => ({
        semanticHighlight: (doc, _params, token) => on(s, doc, token, (v) => semanticTokens(v)),
        semanticHighlightRange: (doc, params, token) => on(s, doc, token, (v) => semanticTokens(v, params.range)),
        semanticHighlightDelta: (doc, _params, token) => on(s, doc, token, (v) => semanticTokens(v)),
        tokenTypes: Object.fromEntries(TOKEN_TYPES.map((t, i) => [t, i])),
        tokenModifiers: Object.fromEntries(TOKEN_MODIFIERS.map((m, i) => [m, 1 << i])),
        semanticTokensOptions: { legend: SEMANTIC_LEGEND, full: { delta: false }, range: true },
      }),
      SignatureHelp: (s) => ({
        provideSignatureHelp: (doc, params, token) => on(s, doc, token, (v) => signatureHelp(v, params.position)),
        signatureHelpOptions: { triggerCharacters: SIGNATURE_TRIGGERS, retriggerCharacters: [','] },
      }),
      InlayHintProvider: (s) => ({ getInlayHints: (doc, params, token) => on(s, doc, token, (v) => inlayHints(v, params.range)) }),
      CodeActionProvider: (s) => ({
        getCodeActions: (doc, params, token) => on(s, doc, token, (v) => codeActions(v, params.range, params.context.diagnostics, env)),
      }),
      CodeLensProvider: (s) => ({ provideCodeLens: (doc, _params, token) => on(s, doc, token, codeLenses) }),
    },
  };
}

export interface LviLanguageServer {
  shared: LangiumSharedServices;
  Lvi: LangiumServices;
  env: Environment;
  plan: PlanDiagnostics;
}

/**
 * Langium's LSP services with lvi's features. Without a connection (tests, Langium's test
 * helpers) everything works except pushing.
 */
export function createLviLspServices(context: DefaultSharedModuleContext, env: Environment = createEnvironment()): LviLanguageServer {
  const connection = context.connection;
  // Compile-time findings arrive after the check's: push them when they change the picture.
  const plan = new PlanDiagnostics((uri, text, diagnostics) => {
    const doc = shared.workspace.LangiumDocuments.getDocument(URI.parse(uri));
    if (!doc || doc.textDocument.getText() !== text) return;
    const lsp = diagnostics.map(toLspDiagnostic);
    if (JSON.stringify(lsp) === JSON.stringify(doc.diagnostics ?? [])) return;
    doc.diagnostics = lsp;
    void connection?.sendDiagnostics({ uri, version: doc.textDocument.version, diagnostics: lsp });
  });
  const shared = inject(createDefaultSharedModule(context), LviGeneratedSharedModule, {
    lsp: { DocumentUpdateHandler: (services: LangiumSharedServices) => new DebouncedUpdateHandler(services) },
    workspace: {
      ConfigurationProvider: (services: LangiumSharedCoreServices) => new LviConfigurationProvider(services),
      LangiumDocumentFactory: (services: LangiumSharedCoreServices) => new EditorFirstDocumentFactory(services),
    },
  });
  const Lvi = inject(
    createDefaultModule({ shared }),
    LviGeneratedModule,
    LviModule as Module<LangiumServices, PartialLangiumServices>,
    createLviLspModule(env, plan),
  );
  shared.ServiceRegistry.register(Lvi);

  // Device for time estimates: the client's `lvi.device` setting.
  shared.lsp.LanguageServer.onInitialize((params) => {
    const device = (params.initializationOptions as { device?: unknown } | undefined)?.device;
    if (typeof device === 'string') env.device = device;
  });
  shared.workspace.ConfigurationProvider.onConfigurationSectionUpdate((update) => {
    const device = (update.configuration as { device?: unknown } | undefined)?.device;
    if (update.section === 'lvi' && typeof device === 'string') env.device = device;
  });

  connection?.onRequest(reportPathRequest, async (params: ReportPathParams) => {
    const doc = await currentByUri(shared, URI.parse(params.uri), DocumentState.IndexedReferences);
    if (!doc) return { path: null, exists: false };
    return reportPath(view(doc));
  });
  return { shared, Lvi, env, plan };
}

/** Services for a connection, reading studies and models from disk. */
export function createLviLanguageServer(connection: Connection, env: Environment = createEnvironment()): LviLanguageServer {
  return createLviLspServices({ connection, ...NodeFileSystem }, env);
}


/**
 * Completion without waiting for the parse of the latest keystroke (Langium's handler waits for
 * it: a full reparse on a long study, where typing needs an answer within 50 ms). The cursor's
 * context comes from the editor's current text; names come from the latest parse.
 */
export function addImmediateCompletion(connection: Connection, server: LviLanguageServer): void {
  const { shared, env } = server;
  connection.onCompletion(async (params, token) => {
    const uri = URI.parse(params.textDocument.uri);
    const text = shared.workspace.TextDocuments.get(params.textDocument.uri);
    if (!text) return null;
    if (token.isCancellationRequested) return new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
    try {
      let doc = shared.workspace.LangiumDocuments.getDocument(uri);
      // A document opened a moment ago may not be parsed at all yet.
      if (!doc || doc.parseResult.value.$type !== 'Study') doc = await currentByUri(shared, uri, DocumentState.Parsed, token);
      if (!doc) return null;
      return completion(view(doc), params.position, env, text.getText());
    } catch (err) {
      if (isOperationCancelled(err)) return new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
      console.error('lvi: completion failed:', err);
      return null;
    }
  });
}

/** `lvi lsp --stdio`: serve on stdin/stdout until the client says exit. */
export function runStdioServer(): void {
  // stdout carries the protocol: anything logged must go to stderr.
  console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
  // A promise some library drops must not end the editor's server (Node exits on an unhandled
  // rejection): say what it was and keep serving.
  process.on('unhandledRejection', (reason) => console.error('lvi: unhandled rejection:', reason));
  const connection = createConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
  const server = createLviLanguageServer(connection);
  startLanguageServer(server.shared);
  addImmediateCompletion(connection, server); // replaces Langium's handler, registered above
}
