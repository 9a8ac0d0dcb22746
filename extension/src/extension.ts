// The VS Code side of lvi: it starts `lvi lsp --stdio` (the same server every LSP client
// uses) and adds the commands that run a study. Everything the editor knows about a study comes
// from the server; this file only wires VS Code to it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node.js';
import {
  clientCommands,
  reportPathRequest,
  type ReportPathParams,
  type ReportPathResult,
} from '../../src/lsp/custom-requests.js';
import { installCommandLine, resolveLviCommand, runCommandLine, type LviCommand } from './lvi-command.js';

let client: LanguageClient | undefined;

function lviCommand(): LviCommand {
  const setting = vscode.workspace.getConfiguration('lvi').get<string>('path');
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  return resolveLviCommand(setting, folders, (f) => fs.existsSync(f));
}

function device(): string {
  return vscode.workspace.getConfiguration('lvi').get<string>('device') ?? 'auto';
}

function startClient(context: vscode.ExtensionContext): LanguageClient {
  const lvi = lviCommand();
  // No `transport` field: the client would append its own `--stdio`; stdio is the default.
  const run = {
    command: lvi.command,
    args: [...lvi.args, 'lsp', '--stdio'],
    options: { shell: lvi.shell },
  };
  const serverOptions: ServerOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'lvi' },
      { scheme: 'untitled', language: 'lvi' },
    ],
    initializationOptions: { device: device() },
    synchronize: { configurationSection: 'lvi' },
  };
  const c = new LanguageClient('lvi', 'lvi language server', serverOptions, clientOptions);
  context.subscriptions.push(c);
  c.start().catch((err: unknown) => {
    void vscode.window.showErrorMessage(
      `lvi: could not start \`${[lvi.command, ...lvi.args].join(' ')} lsp --stdio\` (${String(err)}). ` +
        'Set "lvi.path" to the lvi command.',
    );
  });
  return c;
}

/** The study to act on: the command's argument, else the active .lvi editor. */
async function studyDocument(arg: unknown): Promise<vscode.TextDocument | undefined> {
  const uri =
    arg instanceof vscode.Uri ? arg : typeof arg === 'string' ? vscode.Uri.parse(arg) : undefined;
  const doc = uri
    ? await vscode.workspace.openTextDocument(uri)
    : vscode.window.activeTextEditor?.document;
  if (!doc || doc.languageId !== 'lvi') {
    void vscode.window.showWarningMessage('lvi: open a .lvi study first.');
    return undefined;
  }
  if (doc.uri.scheme !== 'file') {
    void vscode.window.showWarningMessage('lvi: save the study to a file before running it.');
    return undefined;
  }
  if (doc.isDirty) await doc.save();
  return doc;
}

function runInTerminal(doc: vscode.TextDocument, only?: string): void {
  const file = doc.uri.fsPath;
  const name = 'lvi';
  const terminal =
    vscode.window.terminals.find((t) => t.name === name) ??
    vscode.window.createTerminal({ name, cwd: path.dirname(file) });
  terminal.show(true);
  terminal.sendText(runCommandLine(lviCommand(), file, { device: device(), only }));
}

/** The analysis statement under the cursor, from the server's outline. */
async function statementAtCursor(doc: vscode.TextDocument): Promise<string | undefined> {
  const symbols =
    (await vscode.commands.executeCommand<vscode.DocumentSymbol[]>(
      'vscode.executeDocumentSymbolProvider',
      doc.uri,
    )) ?? [];
  const cursor = vscode.window.activeTextEditor?.selection.active;
  const named = symbols.filter((s) => s.name && s.detail !== 'study');
  const hit = cursor ? named.find((s) => s.range.contains(cursor)) : undefined;
  if (hit) return hit.name;
  const pick = await vscode.window.showQuickPick(
    named.map((s) => ({ label: s.name, description: s.detail })),
    { placeHolder: 'Statement to run' },
  );
  return pick?.label;
}

export function activate(context: vscode.ExtensionContext): void {
  client = startClient(context);

  context.subscriptions.push(
    vscode.commands.registerCommand(clientCommands.runStudy, async (arg?: unknown) => {
      const doc = await studyDocument(arg);
      if (doc) runInTerminal(doc);
    }),
    vscode.commands.registerCommand(
      clientCommands.runStatement,
      async (arg?: unknown, name?: unknown) => {
        const doc = await studyDocument(arg);
        if (!doc) return;
        const statement = typeof name === 'string' ? name : await statementAtCursor(doc);
        if (statement) runInTerminal(doc, statement);
      },
    ),
    vscode.commands.registerCommand(clientCommands.openReport, async (arg?: unknown) => {
      const doc = await studyDocument(arg);
      if (!doc || !client) return;
      const params: ReportPathParams = { uri: doc.uri.toString() };
      const result = await client.sendRequest<ReportPathResult>(reportPathRequest, params);
      if (!result.path) {
        void vscode.window.showWarningMessage('lvi: fix the study\'s errors to find its report.');
      } else if (!result.exists) {
        const choice = await vscode.window.showInformationMessage(
          `lvi: no report yet at ${result.path}. Run the study first.`,
          'Run study',
        );
        if (choice) runInTerminal(doc);
      } else {
        await vscode.env.openExternal(vscode.Uri.file(result.path));
      }
    }),
    // From the server's quick fix for a zoo model whose npm package is missing; the user picked
    // it, and it runs where they can see it.
    vscode.commands.registerCommand(clientCommands.installPackage, (pkg?: unknown, cwd?: unknown) => {
      if (typeof pkg !== 'string' || !/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+$/.test(pkg)) return;
      const folder = typeof cwd === 'string' ? cwd : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const terminal = vscode.window.createTerminal({ name: `npm install ${pkg}`, cwd: folder });
      terminal.show(true);
      terminal.sendText(installCommandLine(pkg));
    }),
    vscode.commands.registerCommand('lvi.restartServer', async () => {
      await client?.stop();
      client = startClient(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      // A new `lvi.path` means a different server binary.
      if (e.affectsConfiguration('lvi.path')) {
        await client?.stop();
        client = startClient(context);
      }
    }),
  );
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
