// The real server process over stdio, driven by vscode-languageserver-protocol's client
// connection: what VS Code, Neovim or Emacs exchange with `lvi lsp --stdio`.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompletionRequest,
  DefinitionRequest,
  DidChangeTextDocumentNotification,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  FoldingRangeRequest,
  InlayHintRequest,
  SemanticTokensRequest,
  HoverRequest,
  RenameRequest,
  type CompletionList,
  type Hover,
  type LocationLink,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol/node.js';
import { compileText } from '../../src/compiler/index.js';
import { makeStudyFolder } from './helpers/fixture.js';
import { startServer, type ServerUnderTest } from './helpers/server-process.js';

const STUDY = [
  'study "proto"',
  'model slim zoo="esrgan-slim/x4"',
  'image cat file="images/chelsea.png"',
  'lam edge model=slim image=cat window=(0,0,4,4)',
  '    stpes=5',
  'table di rows=edge',
  '',
].join('\n');

let dir: string;
let server: ServerUnderTest;
let uri: string;
let file: string;

beforeAll(async () => {
  dir = makeStudyFolder();
  file = path.join(dir, 'study.lvi');
  fs.writeFileSync(file, STUDY);
  server = await startServer(dir);
});

afterAll(async () => {
  if (server && server.process.exitCode === null) server.process.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('lvi lsp --stdio', () => {
  it('initializes with the features it serves', () => {
    const caps = server.initializeResult.capabilities;
    expect(caps).toMatchObject({
      completionProvider: { triggerCharacters: expect.arrayContaining(['=', '[']) },
      hoverProvider: true,
      definitionProvider: true,
      referencesProvider: true,
      renameProvider: { prepareProvider: true },
      documentFormattingProvider: true,
      documentSymbolProvider: true,
      foldingRangeProvider: true,
      codeActionProvider: true,
      inlayHintProvider: expect.anything(),
      signatureHelpProvider: { triggerCharacters: ['(', ','] },
      semanticTokensProvider: expect.objectContaining({ legend: expect.anything() }),
    });
  });

  it('pushes the same diagnostics as `lvi check`, and new ones after an edit', async () => {
    const first = server.diagnostics(pathUri(file));
    uri = server.open(file, STUDY);
    const pushed = await first;
    const expected = compileText(STUDY, file).diagnostics;
    expect(pushed.map((d) => [d.code, d.range, d.message])).toEqual(expected.map((d) => [d.code, d.range, d.message]));
    expect(pushed.map((d) => d.code)).toContain('unknown-param');

    const fixed = server.diagnostics(uri, (d) => !d.some((x) => x.code === 'unknown-param'));
    await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 2 },
      contentChanges: [{ range: { start: { line: 4, character: 4 }, end: { line: 4, character: 9 } }, text: 'steps' }],
    });
    expect((await fixed).map((d) => d.code)).toEqual(compileText(STUDY.replace('stpes', 'steps'), file).diagnostics.map((d) => d.code));
  });

  it('pushes what only compiling finds, as `lvi check` does, once the study checks clean', async () => {
    fs.mkdirSync(path.join(dir, 'data', 'empty'), { recursive: true });
    const other = path.join(dir, 'empty.lvi');
    const text = 'dataset d dir="data/empty"\n';
    fs.writeFileSync(other, text);
    const expected = compileText(text, other).diagnostics;
    expect(expected.map((d) => d.code)).toEqual(['file-not-found']);
    const pushed = server.diagnostics(pathUri(other), (d) => d.length > 0);
    server.open(other, text);
    expect((await pushed).map((d) => [d.code, d.range, d.message])).toEqual(expected.map((d) => [d.code, d.range, d.message]));
  });

  it('completes, hovers, finds definitions, renames and formats', async () => {
    const c = (await server.connection.sendRequest(CompletionRequest.type, {
      textDocument: { uri },
      position: { line: 3, character: 'lam edge model='.length },
    })) as CompletionList;
    expect(c.items.map((i) => i.label)).toEqual(['slim']);

    const h = (await server.connection.sendRequest(HoverRequest.type, {
      textDocument: { uri },
      position: { line: 4, character: 6 },
    })) as Hover;
    expect(JSON.stringify(h.contents)).toContain('Path steps');

    const def = (await server.connection.sendRequest(DefinitionRequest.type, {
      textDocument: { uri },
      position: { line: 3, character: 'lam edge model=s'.length },
    })) as LocationLink[];
    expect(def[0]?.targetSelectionRange).toEqual({ start: { line: 1, character: 6 }, end: { line: 1, character: 10 } });

    const edit = (await server.connection.sendRequest(RenameRequest.type, {
      textDocument: { uri },
      position: { line: 1, character: 7 },
      newName: 'esr',
    })) as WorkspaceEdit;
    expect(edit.changes?.[uri]?.map((e) => e.range.start.line)).toEqual([1, 3]);

    const fmt = (await server.connection.sendRequest(DocumentFormattingRequest.type, {
      textDocument: { uri },
      options: { tabSize: 4, insertSpaces: true },
    })) as TextEdit[];
    expect(fmt).toEqual([]); // already in canonical layout
  });

  it('answers requests sent with an edit from the edited text', async () => {
    const f = path.join(dir, 'typing.lvi');
    const text = 'model slim zoo="esrgan-slim/x4"\nlam e model\n';
    fs.writeFileSync(f, text);
    const opened = server.diagnostics(pathUri(f));
    const u = server.open(f, text);
    await opened;
    // Typing `=` and asking at once, as an editor does on a trigger character.
    void server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: u, version: 2 },
      contentChanges: [{ range: { start: { line: 1, character: 11 }, end: { line: 1, character: 11 } }, text: '=' }],
    });
    const c = (await server.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: u }, position: { line: 1, character: 12 } })) as CompletionList;
    expect(c.items.map((i) => i.label)).toEqual(['slim']);
    // Formatting right after an edit must produce edits for the edited text.
    void server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: u, version: 3 },
      contentChanges: [{ range: { start: { line: 1, character: 12 }, end: { line: 1, character: 12 } }, text: 'slim   steps=5' }],
    });
    const fmt = (await server.connection.sendRequest(DocumentFormattingRequest.type, {
      textDocument: { uri: u },
      options: { tabSize: 4, insertSpaces: true },
    })) as TextEdit[];
    expect(fmt).toEqual([{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 'lam e model=slim   steps=5'.length } }, newText: 'lam e model=slim steps=5' }]);
  });

  it('answers every request on a binary file and on an unreadable model, and stays up', async () => {
    const junk = path.join(dir, 'junk.lvi');
    const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919 + 13) % 256));
    fs.writeFileSync(junk, bytes);
    const pushed = server.diagnostics(pathUri(junk));
    const junkUri = server.open(junk, bytes.toString('latin1'));
    expect((await pushed).map((d) => d.code)).toEqual(['syntax']);
    const position = { line: 0, character: 3 };
    const td = { textDocument: { uri: junkUri } };
    const answers = await Promise.all([
      server.connection.sendRequest(CompletionRequest.type, { ...td, position }),
      server.connection.sendRequest(HoverRequest.type, { ...td, position }),
      server.connection.sendRequest(DocumentSymbolRequest.type, td),
      server.connection.sendRequest(FoldingRangeRequest.type, td),
      server.connection.sendRequest(SemanticTokensRequest.type, td),
      server.connection.sendRequest(DocumentFormattingRequest.type, { ...td, options: { tabSize: 4, insertSpaces: true } }),
      server.connection.sendRequest(InlayHintRequest.type, { ...td, range: { start: position, end: { line: 5, character: 0 } } }),
    ]);
    expect(answers.length).toBe(7);

    // A model file that is not a model: hover answers now, and says why once it was read.
    const bad = path.join(dir, 'bad.lvi');
    const text = 'model m file="models/net.onnx"\n';
    fs.writeFileSync(bad, text);
    const badUri = server.open(bad, text);
    const ask = () =>
      server.connection.sendRequest(HoverRequest.type, { textDocument: { uri: badUri }, position: { line: 0, character: 6 } }) as Promise<Hover>;
    let value = JSON.stringify((await ask()).contents);
    for (let i = 0; i < 100 && value.includes('Reading the model'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      value = JSON.stringify((await ask()).contents);
    }
    expect(value).toContain('Cannot read the model');
  });

  it('shuts down and exits cleanly, having written nothing', async () => {
    expect(await server.stop()).toBe(0);
    // Only what this test wrote: no results, cache, lock file or report from the server.
    const files = (d: string): string[] =>
      fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name)) : [path.relative(dir, path.join(d, e.name))]));
    expect(files(dir).sort()).toEqual(
      ['bad.lvi', 'data/set14/a.png', 'empty.lvi', 'images/chelsea.png', 'images/notes.txt', 'junk.lvi', 'models/net.onnx', 'study.lvi', 'typing.lvi'].sort(),
    );
    expect(server.stderr()).not.toMatch(/Error|exception/i);
  });
});

function pathUri(p: string): string {
  return new URL(`file://${p}`).toString();
}
