// Starts the real language server (`node bin/lvi.js lsp --stdio`) and talks to it over stdio
// with vscode-languageserver-protocol's client connection: the same bytes an editor exchanges.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import {
  createProtocolConnection,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
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
}

export async function startServer(rootDir: string): Promise<ServerUnderTest> {
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
  const waiters: { uri: string; accept: (d: Diagnostic[]) => boolean; resolve: (d: Diagnostic[]) => void }[] = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (p: PublishDiagnosticsParams) => {
    latest.set(p.uri, p.diagnostics);
    for (const w of [...waiters]) {
      if (w.uri === p.uri && w.accept(p.diagnostics)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p.diagnostics);
      }
    }
  });
  connection.listen();
  const rootUri = pathToFileURL(rootDir).toString();
  const initializeResult = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: path.basename(rootDir) }],
    capabilities: {
      textDocument: {
        publishDiagnostics: { relatedInformation: true },
        completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown'] } },
        hover: { contentFormat: ['markdown', 'plaintext'] },
      },
      workspace: { workspaceFolders: true },
    },
  });
  await connection.sendNotification(InitializedNotification.type, {});
  return {
    connection,
    process: child,
    initializeResult,
    stderr: () => stderr,
    diagnostics(uri, accept = () => true) {
      return new Promise((resolve) => waiters.push({ uri, accept, resolve }));
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
