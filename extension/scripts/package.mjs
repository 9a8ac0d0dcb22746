#!/usr/bin/env node
// Builds the VS Code extension: regenerates the TextMate grammar from the language's grammar and
// catalogue, type-checks and bundles the client with esbuild, then packs a .vsix with vsce
// (offline: no dependencies to list, everything is in the bundle).
// Usage: node extension/scripts/package.mjs [--out file.vsix] [--skip-typecheck] [--keep-grammar]
// (--keep-grammar packs the committed grammar as it is: tests use it so they never rewrite it.)
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const extensionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(extensionDir, '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = path.resolve(outIndex >= 0 ? args[outIndex + 1] : path.join(extensionDir, 'lvi-vscode.vsix'));
const bin = (name) => path.join(repoRoot, 'node_modules', '.bin', name);

if (!args.includes('--keep-grammar')) {
  execFileSync(process.execPath, [path.join(extensionDir, 'scripts', 'generate-grammar.mjs')], { stdio: 'inherit' });
}

if (!args.includes('--skip-typecheck')) {
  execFileSync(bin('tsc'), ['-p', path.join(extensionDir, 'tsconfig.json')], { stdio: 'inherit' });
}

await esbuild.build({
  entryPoints: [path.join(extensionDir, 'src', 'extension.ts')],
  outfile: path.join(extensionDir, 'dist', 'extension.js'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  external: ['vscode'],
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
});

fs.mkdirSync(path.dirname(out), { recursive: true });
execFileSync(
  bin('vsce'),
  ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', out],
  { cwd: extensionDir, stdio: 'inherit' },
);
console.log(`extension: ${path.relative(process.cwd(), out)}`);
