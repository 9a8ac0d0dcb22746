// lvi lsp --stdio: the language server (the one the VS Code extension starts; any LSP client
// can start it the same way). It only reads: it never runs a study or writes a file.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('lsp')
    .description('start the language server for editors (diagnostics, completion, hover, rename, formatting)')
    .option('--stdio', 'talk LSP over stdin/stdout (the default and only transport)')
    .action(async () => {
      // Loaded on demand so other commands do not pay for the language server's modules.
      const { runStdioServer } = await import('../../lsp/server.js');
      runStdioServer();
    });
}
