// Starts the real language server (`node bin/lvi.js lsp --stdio`) and talks to it over stdio
// with vscode-languageserver-protocol's client connection: the same bytes an editor exchanges.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { MessageConnection } from 'vscode-jsonrpc';
import {
  createProtocolConnection,
  DidOpenTextDocumentNotification,
  ErrorCodes,
  ResponseError,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type ClientCapabilities,
  type Diagnostic,
  type InitializeResult,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function tsFiles(dir: string, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) tsFiles(p, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/**
 * Bring dist/ up to date for the server's sources. `npm run build` (tsc) writes the same files;
 * this transpiles only the stale ones with esbuild, so the test runs the current sources
 * without waiting for a full type-checked build.
 */
export async function buildServer(): Promise<string> {
  const sources = [...tsFiles(path.join(repoRoot, 'src')), ...tsFiles(path.join(repoRoot, 'grammar'))];
  const stale = sources.filter((src) => {
    const out = path.join(repoRoot, 'dist', path.relative(repoRoot, src)).replace(/\.ts$/, '.js');
    return !fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs;
  });
  if (stale.length > 0) {
    await esbuild.build({
      entryPoints: stale,
      outdir: path.join(repoRoot, 'dist'),
      outbase: repoRoot,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
    });
  }
  return path.join(repoRoot, 'bin', 'lvi.js');
}

export interface ServerUnderTest {
  connection: ProtocolConnection;
  process: ChildProcessWithoutNullStreams;
  initializeResult: InitializeResult;
  stderr: () => string;
  /** Resolves with the next diagnostics pushed for `uri` that satisfy `accept`. */
  diagnostics(uri: string, accept?: (d: Diagnostic[]) => boolean): Promise<Diagnostic[]>;
  open(file: string, text: string, version?: number): string;
  stop(): Promise<number | null>;
  /** Methods of the requests the server sent to the client, in order. */
  serverRequests: string[];
}

export interface ServerOptions {
  /** Client capabilities in place of an editor's usual ones. */
  capabilities?: ClientCapabilities;
  /**
   * How the client answers the server's own requests (client/registerCapability,
   * workspace/configuration). Without a handler, vscode-jsonrpc answers MethodNotFound.
   */
  onServerRequest?: (method: string, params: unknown) => unknown;
}

export const EDITOR_CAPABILITIES: ClientCapabilities = {
  textDocument: {
    publishDiagnostics: { relatedInformation: true },
    completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown'] } },
    hover: { contentFormat: ['markdown', 'plaintext'] },
  },
  workspace: { workspaceFolders: true },
};

export async function startServer(rootDir: string, options: ServerOptions = {}): Promise<ServerUnderTest> {
  const entry = await buildServer();
  const child = spawn(process.execPath, [entry, 'lsp', '--stdio'], {
    cwd: rootDir,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const connection = createProtocolConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  const latest = new Map<string, Diagnostic[]>();
  const waiters: { uri: string; accept: (d: Diagnostic[]) => boolean; resolve: (d: Diagnostic[]) => void; reject: (e: Error) => void }[] = [];
  child.once('exit', (code, signal) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`server exited (${code ?? signal}) before diagnostics for ${w.uri}:\n${stderr}`));
  });
  connection.onNotification(PublishDiagnosticsNotification.type, (p: PublishDiagnosticsParams) => {
    latest.set(p.uri, p.diagnostics);
    for (const w of [...waiters]) {
      if (w.uri === p.uri && w.accept(p.diagnostics)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p.diagnostics);
      }
    }
  });
  const serverRequests: string[] = [];
  // Every request the server sends, whatever its method (the protocol connection's types lack
  // the underlying message connection's catch-all handler).
  (connection as unknown as MessageConnection).onRequest((method: string, params: unknown) => {
    serverRequests.push(method);
    if (options.onServerRequest) return options.onServerRequest(method, params);
    return new ResponseError(ErrorCodes.MethodNotFound, `Unhandled method ${method}`);
  });
  connection.listen();
  const rootUri = pathToFileURL(rootDir).toString();
  const initializeResult = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: path.basename(rootDir) }],
    capabilities: options.capabilities ?? EDITOR_CAPABILITIES,
  });
  await connection.sendNotification(InitializedNotification.type, {});
  return {
    connection,
    process: child,
    initializeResult,
    stderr: () => stderr,
    serverRequests,
    diagnostics(uri, accept = () => true) {
      // A server that exits never pushes: fail at once with what it printed, not at a timeout.
      return new Promise((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`server exited before diagnostics for ${uri}:\n${stderr}`));
        else waiters.push({ uri, accept, resolve, reject });
      });
    },
    open(file, text, version = 1) {
      const uri = pathToFileURL(file).toString();
      void connection.sendNotification(DidOpenTextDocumentNotification.type, {
        textDocument: { uri, languageId: 'lvi', version, text },
      });
      return uri;
    },
    async stop() {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await connection.sendRequest(ShutdownRequest.type);
      await connection.sendNotification(ExitNotification.type);
      const code = await exited;
      connection.dispose();
      return code;
    },
  };
}
