#!/usr/bin/env node
// Writes extension/syntaxes/lvi.tmLanguage.json from the grammar's terminals and the catalogue
// (src/lsp/textmate.ts builds it). `--check` only compares and exits 1 when the file is stale.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const extensionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(extensionDir, '..');
const target = path.join(extensionDir, 'syntaxes', 'lvi.tmLanguage.json');
// Inside the repository so the bundle's bare imports (langium) resolve from node_modules.
const bundle = path.join(extensionDir, 'dist', '.gen', 'textmate.mjs');

await esbuild.build({
  entryPoints: [path.join(repoRoot, 'src', 'lsp', 'textmate.ts')],
  outfile: bundle,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
const { textMateGrammarJson } = await import(pathToFileURL(bundle).href);
const json = textMateGrammarJson();
fs.rmSync(path.dirname(bundle), { recursive: true, force: true });

const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
if (process.argv.includes('--check')) {
  if (current !== json) {
    console.error(`${path.relative(process.cwd(), target)} is stale: run node extension/scripts/generate-grammar.mjs`);
    process.exit(1);
  }
} else if (current !== json) {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, json);
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}
