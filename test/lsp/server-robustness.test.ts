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
