// Issue 8, items 3-6 and 9 (rename): the real server process must survive clients that refuse
// its requests, answer requests on a file it has not seen on disk, refuse renames with a
// RequestFailed error the editor shows, and keep answering with a pathological document open.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  DefinitionRequest,
  DocumentSymbolRequest,
  FoldingRangeRequest,
  HoverRequest,
  LSPErrorCodes,
  PrepareRenameRequest,
  RegistrationRequest,
  RenameRequest,
  ResponseError,
  SemanticTokensRequest,
  type RegistrationParams,
} from 'vscode-languageserver-protocol/node.js';
import { makeStudyFolder } from './helpers/fixture.js';
import { EDITOR_CAPABILITIES, startServer, type ServerUnderTest } from './helpers/server-process.js';

const dir = makeStudyFolder();
const servers: ServerUnderTest[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) if (s.process.exitCode === null) s.process.kill();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const STUDY = 'model slim zoo="esrgan-slim/x4"\nimage cat file="images/chelsea.png"\nlam edge model=slim image=cat window=(0,0,4,4) stpes=5\n';

async function start(options: Parameters<typeof startServer>[1] = {}) {
  const s = await startServer(dir, options);
  servers.push(s);
  return s;
}

/** Whether the process is still running a moment later (an unhandled rejection ends it at once). */
async function alive(s: ServerUnderTest): Promise<boolean> {
  await new Promise((r) => setTimeout(r, 300));
  return s.process.exitCode === null && s.process.signalCode === null;
}

describe('dynamic registration (item 5)', () => {
  const configClient = (dynamicRegistration: boolean) => ({
    ...EDITOR_CAPABILITIES,
    workspace: { ...EDITOR_CAPABILITIES.workspace, configuration: true, didChangeConfiguration: { dynamicRegistration } },
  });

  it('registers nothing dynamically when the client says dynamicRegistration: false', async () => {
    const s = await start({ capabilities: configClient(false), onServerRequest: (method) => (method === 'workspace/configuration' ? [null] : null) });
    const file = path.join(dir, 'a.lvi');
    const pushed = s.diagnostics(pathToFileURL(file).toString());
    s.open(file, STUDY);
    expect((await pushed).map((d) => d.code)).toContain('unknown-param');
    expect(s.serverRequests).not.toContain(RegistrationRequest.method);
    expect(await alive(s)).toBe(true);
  });

  it('survives a client that refuses client/registerCapability (vscode-jsonrpc answers MethodNotFound)', async () => {
    const registrations: RegistrationParams[] = [];
    const s = await start({
      capabilities: configClient(true),
      onServerRequest: (method, params) => {
        if (method === RegistrationRequest.method) registrations.push(params as RegistrationParams);
        return new ResponseError(-32601, `Unhandled method ${method}`);
      },
    });
    const file = path.join(dir, 'b.lvi');
    const pushed = s.diagnostics(pathToFileURL(file).toString());
    const uri = s.open(file, STUDY);
    expect((await pushed).map((d) => d.code)).toContain('unknown-param');
    expect(registrations.flatMap((r) => r.registrations.map((x) => x.method))).toEqual(['workspace/didChangeConfiguration']);
    const h = await s.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 2, character: 1 } });
    expect(JSON.stringify(h)).toContain('lam');
    expect(await alive(s)).toBe(true);
  });
});

describe('requests right after opening (item 6) and rename refusals (item 9)', () => {
  it('answers from the document text of an unsaved file, never ENOENT', async () => {
    const s = await start();
    for (let i = 0; i < 5; i++) {
      const file = path.join(dir, `unsaved-${i}.lvi`); // never written to disk
      const uri = s.open(file, STUDY);
      const td = { textDocument: { uri } };
      const position = { line: 2, character: 'lam edge model=s'.length };
      const [hover, def, symbols, folds, tokens] = await Promise.all([
        s.connection.sendRequest(HoverRequest.type, { ...td, position }),
        s.connection.sendRequest(DefinitionRequest.type, { ...td, position }),
        s.connection.sendRequest(DocumentSymbolRequest.type, td),
        s.connection.sendRequest(FoldingRangeRequest.type, td),
        s.connection.sendRequest(SemanticTokensRequest.type, td),
      ]);
      expect(JSON.stringify(hover)).toContain('slim');
      expect(JSON.stringify(def)).toContain('"line":0');
      expect((symbols as unknown[]).length).toBe(3);
      expect(folds).toBeDefined();
      expect((tokens as { data: number[] }).data.length).toBeGreaterThan(0);
    }
    expect(s.stderr()).not.toMatch(/ENOENT/);
  });

  it('refuses a rename with RequestFailed (-32803) and the reason', async () => {
    const s = await start();
    const file = path.join(dir, 'rename.lvi');
    const uri = s.open(file, STUDY);
    const td = { textDocument: { uri } };
    const refusal = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return e as ResponseError<unknown>;
      }
      throw new Error('the request was not refused');
    };
    const onKey = { line: 2, character: 'lam edge model=slim image=cat wi'.length };
    const prep = await refusal(s.connection.sendRequest(PrepareRenameRequest.type, { ...td, position: onKey }));
    expect(prep.code).toBe(LSPErrorCodes.RequestFailed);
    expect(prep.message).toMatch(/can be renamed/);
    const clash = await refusal(s.connection.sendRequest(RenameRequest.type, { ...td, position: { line: 0, character: 7 }, newName: 'cat' }));
    expect(clash.code).toBe(LSPErrorCodes.RequestFailed);
    expect(clash.message.length).toBeGreaterThan(10);
    expect(await alive(s)).toBe(true);
  });
});

describe('large documents and cancellation (item 4)', () => {
  /** A study of `chars` characters in whole lines, made of ordinary statements. */
  const bigStudy = (chars: number) => {
    const unit = STUDY.replace(/edge/g, 'e') + '# a comment line between the statements of a long study\n';
    let text = '';
    for (let i = 0; text.length < chars; i++) text += unit.replace(/\b(slim|cat|e)\b/g, `$1${i}`);
    return text.slice(0, text.lastIndexOf('\n', chars) + 1);
  };
  const requestsOn = (s: ServerUnderTest, uri: string, position: { line: number; character: number }) =>
    Promise.all([
      s.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position }),
      s.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position }),
      s.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } }),
      s.connection.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } }),
      s.connection.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } }),
    ]);

  it('a 5 MB document gets one too-large diagnostic, is not parsed, and every request on it answers', async () => {
    const s = await start();
    const big = path.join(dir, 'big.lvi');
    const pushed = s.diagnostics(pathToFileURL(big).toString());
    const uri = s.open(big, bigStudy(5_000_000));
    const diags = await pushed;
    expect(diags.map((d) => d.code)).toEqual(['too-large']);
    expect(diags[0].message).toMatch(/at most 512 KiB/);
    // Not parsed: no statement to hover, no symbol, token or fold; also after one-character edits.
    const position = { line: 2, character: 3 };
    for (let version = 2; version < 4; version++) {
      void s.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text: ' ' }],
      });
      const [hover, , symbols, tokens, folds] = await requestsOn(s, uri, position);
      expect(hover).toBeNull();
      expect(symbols).toEqual([]);
      expect((tokens as { data: number[] }).data).toEqual([]);
      expect(folds).toEqual([]);
    }
    // Another document is served as usual meanwhile.
    const small = s.open(path.join(dir, 'small.lvi'), STUDY);
    const h = await s.connection.sendRequest(HoverRequest.type, { textDocument: { uri: small }, position: { line: 2, character: 1 } });
    expect(JSON.stringify(h)).toContain('lam');
    expect(await alive(s)).toBe(true);
  });

  it('1 MB is too large and not read; a study just under the limit is read in full', async () => {
    const s = await start();
    const position = { line: 2, character: 1 };
    const open = async (name: string, chars: number) => {
      const file = path.join(dir, name);
      const pushed = s.diagnostics(pathToFileURL(file).toString());
      const uri = s.open(file, bigStudy(chars));
      return { uri, diagnostics: await pushed };
    };
    const mb = await open('one-mb.lvi', 1_000_000);
    expect(mb.diagnostics.map((d) => d.code)).toEqual(['too-large']);
    expect(await s.connection.sendRequest(HoverRequest.type, { textDocument: { uri: mb.uri }, position })).toBeNull();
    const under = await open('under.lvi', 500_000);
    expect(under.diagnostics.map((d) => d.code)).not.toContain('too-large');
    expect(JSON.stringify(await s.connection.sendRequest(HoverRequest.type, { textDocument: { uri: under.uri }, position }))).toContain('lam');
    const symbols = (await s.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: under.uri } })) as unknown[];
    const statements = bigStudy(500_000).split('\n').filter((l) => /^(model|image|lam) /.test(l)).length;
    expect(symbols).toHaveLength(statements); // every statement of the long study
  });

  /**
   * JSON-RPC messages written to the server's stdin in ONE write, beside the client connection
   * (which must be idle): a request and its $/cancelRequest in the same write reach the server
   * together, so what it does with them does not depend on timing.
   */
  const rawWrite = (s: ServerUnderTest, ...messages: object[]) => {
    const frames = messages.map((m) => {
      const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...m }), 'utf8');
      return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
    });
    s.process.stdin.write(Buffer.concat(frames));
  };
  /** The response to the raw request `id`, read from the server's stdout beside the client connection (which ignores ids it did not send). */
  const responseTo = (s: ServerUnderTest, id: string) =>
    new Promise<{ result?: unknown; error?: { code: number; message: string } }>((resolve) => {
      let buffer = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const headerEnd = buffer.indexOf('\r\n\r\n');
          if (headerEnd < 0) return;
          const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, headerEnd).toString('ascii'))![1]);
          if (buffer.length < headerEnd + 4 + length) return;
          const message = JSON.parse(buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8'));
          buffer = buffer.subarray(headerEnd + 4 + length);
          if (message.id === id) {
            s.process.stdout.off('data', onData);
            resolve(message);
            return;
          }
        }
      };
      s.process.stdout.on('data', onData);
    });

  it('a request cancelled before the server reaches it is answered RequestCancelled, not computed', async () => {
    const s = await start();
    const file = path.join(dir, 'cancel-early.lvi');
    const built = s.diagnostics(pathToFileURL(file).toString());
    const uri = s.open(file, STUDY);
    await built;
    const hover = { textDocument: { uri }, position: { line: 2, character: 1 } };
    const answer = responseTo(s, 'early');
    rawWrite(s, { id: 'early', method: HoverRequest.method, params: hover }, { method: '$/cancelRequest', params: { id: 'early' } });
    expect((await answer).error?.code).toBe(LSPErrorCodes.RequestCancelled);
    // The same request uncancelled is answered.
    expect(JSON.stringify(await s.connection.sendRequest(HoverRequest.type, hover))).toContain('lam');
  });

  it('a request waiting for the parse of a long edited study is cancelled by $/cancelRequest; newer versions supersede older', async () => {
    const s = await start();
    const file = path.join(dir, 'cancel-wait.lvi');
    const built = s.diagnostics(pathToFileURL(file).toString());
    const uri = s.open(file, bigStudy(450_000));
    await built;
    // An edit (the long study must be parsed again before anything can answer about it), a hover
    // that must wait for that parse, and, in the next write, its cancellation.
    const answer = responseTo(s, 'waiting');
    rawWrite(
      s,
      { method: 'textDocument/didChange', params: { textDocument: { uri, version: 2 }, contentChanges: [{ range: { start: { line: 2, character: 4 }, end: { line: 2, character: 5 } }, text: 'edited' }] } },
      { id: 'waiting', method: HoverRequest.method, params: { textDocument: { uri }, position: { line: 2, character: 1 } } },
    );
    rawWrite(s, { method: '$/cancelRequest', params: { id: 'waiting' } });
    expect((await answer).error?.code).toBe(LSPErrorCodes.RequestCancelled);
    // A burst of edits: the answer is about the last one.
    for (let version = 3; version <= 7; version++) {
      void s.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [{ range: { start: { line: 2, character: 4 }, end: { line: 2, character: 4 + 'edited0'.length } }, text: `edited${version}` }],
      });
    }
    const symbols = (await s.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as { name: string }[];
    expect(symbols[2]!.name).toBe('edited7');
    expect(await alive(s)).toBe(true);
  });
});
