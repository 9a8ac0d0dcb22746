// Edits reach Langium's document builder a moment late (30 ms, restarted by each keystroke), so
// a completion request sent with the keystroke that triggers it (`=`, `[`) is answered from the
// editor's text before the study is parsed again, and a burst of keystrokes costs one parse.
// Every other request first waits for the parse of the text it is about (`current`).
import { DocumentState, URI, type LangiumDocument, type TextDocument } from 'langium';
import { DefaultDocumentUpdateHandler, type LangiumSharedServices } from 'langium/lsp';
import type { CancellationToken, TextDocumentChangeEvent } from 'vscode-languageserver';

export class DebouncedUpdateHandler extends DefaultDocumentUpdateHandler {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    services: LangiumSharedServices,
    private readonly delayMs = 30,
  ) {
    super(services);
  }

  override didChangeContent(change: TextDocumentChangeEvent<TextDocument>): void {
    this.pending.add(change.document.uri);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  isPending(uri: string): boolean {
    return this.pending.has(uri);
  }

  /** Hand the waiting edits to the builder now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const uris = [...this.pending].map((u) => URI.parse(u));
    this.pending.clear();
    this.fireDocumentUpdate(uris, []);
  }
}

/**
 * The document once the editor's latest text is parsed (and its references indexed). Requests
 * whose answers are positions in the text (formatting above all) must not use an older parse.
 */
export async function current(shared: LangiumSharedServices, doc: LangiumDocument, token?: CancellationToken): Promise<LangiumDocument> {
  return (await currentByUri(shared, doc.uri, DocumentState.IndexedReferences, token)) ?? doc;
}

export async function currentByUri(
  shared: LangiumSharedServices,
  uri: URI,
  state: DocumentState,
  token?: CancellationToken,
): Promise<LangiumDocument | undefined> {
  const handler = shared.lsp.DocumentUpdateHandler;
  if (handler instanceof DebouncedUpdateHandler && handler.isPending(uri.toString())) {
    handler.flush();
    // The builder takes the update over a few promise turns; let it invalidate the document.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await shared.workspace.DocumentBuilder.waitUntil(state, uri, token);
  return shared.workspace.LangiumDocuments.getDocument(uri);
}
