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
  const timed = async <T>(p: Promise<T>) => {
    const t = performance.now();
    const value = await p;
    return { value, ms: performance.now() - t };
  };

  it('a 5 MB document gets a too-large diagnostic and never blocks the server', async () => {
    const s = await start();
    const big = path.join(dir, 'big.lvi');
    const pushed = s.diagnostics(pathToFileURL(big).toString());
    const text = bigStudy(5_000_000);
    const t0 = performance.now();
    const uri = s.open(big, text);
    const diags = await pushed;
    expect(diags.map((d) => d.code)).toEqual(['too-large']);
    expect(diags[0].message).toMatch(/at most 512 KiB/);
    expect(performance.now() - t0).toBeLessThan(5000);
    // Every request on it answers, and answers quickly, also after a one-character edit.
    const position = { line: 2, character: 3 };
    for (let version = 2; version < 4; version++) {
      void s.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text: ' ' }],
      });
      const answers = await timed(
        Promise.all([
          s.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position }),
          s.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position }),
          s.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } }),
          s.connection.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } }),
          s.connection.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } }),
        ]),
      );
      expect(answers.ms).toBeLessThan(3000);
    }
    // Another document is served as usual meanwhile.
    const small = s.open(path.join(dir, 'small.lvi'), STUDY);
    const h = await timed(s.connection.sendRequest(HoverRequest.type, { textDocument: { uri: small }, position: { line: 2, character: 1 } }));
    expect(JSON.stringify(h.value)).toContain('lam');
    expect(h.ms).toBeLessThan(2000);
    expect(await alive(s)).toBe(true);
  });

  it('first hover on a 1 MB document, and on a study just under the limit', async () => {
    const s = await start();
    const position = { line: 2, character: 1 };
    const hoverOn = async (name: string, chars: number) => {
      const uri = s.open(path.join(dir, name), bigStudy(chars));
      return timed(s.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position }));
    };
    const mb = await hoverOn('one-mb.lvi', 1_000_000);
    const under = await hoverOn('under.lvi', 500_000);
    console.log(`first hover: 1 MB ${mb.ms.toFixed(0)} ms (too large, not read); 500 kB ${under.ms.toFixed(0)} ms (read in full)`);
    expect(mb.ms).toBeLessThan(1000);
    expect(JSON.stringify(under.value)).toContain('lam');
    expect(under.ms).toBeLessThan(10_000);
  });
});
