// The VS Code extension's package: manifest, language configuration, the command line it runs,
// and the .vsix that `npm run package:extension` builds (offline).
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installCommandLine, resolveLviCommand, runCommandLine, shellQuote } from '../../extension/src/lvi-command.js';
import { clientCommands } from '../../src/lsp/custom-requests.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ext = path.join(root, 'extension');
const manifest = JSON.parse(fs.readFileSync(path.join(ext, 'package.json'), 'utf8'));

describe('extension manifest', () => {
  it('registers .lvi with its configuration and generated grammar', () => {
    const [lang] = manifest.contributes.languages;
    expect(lang).toMatchObject({ id: 'lvi', extensions: ['.lvi'] });
    expect(fs.existsSync(path.join(ext, lang.configuration))).toBe(true);
    const [grammar] = manifest.contributes.grammars;
    expect(grammar).toMatchObject({ language: 'lvi', scopeName: 'source.lvi' });
    expect(fs.existsSync(path.join(ext, grammar.path))).toBe(true);
  });

  it('declares the commands the server\'s code lenses name, and the settings', () => {
    const declared = manifest.contributes.commands.map((c: { command: string }) => c.command);
    for (const c of [clientCommands.runStudy, clientCommands.runStatement, clientCommands.openReport]) expect(declared).toContain(c);
    const titles = manifest.contributes.commands.map((c: { category: string; title: string }) => `${c.category}: ${c.title}`);
    expect(titles).toEqual(expect.arrayContaining(['lvi: Run study', 'lvi: Run statement', 'lvi: Open report']));
    expect(Object.keys(manifest.contributes.configuration.properties)).toEqual(expect.arrayContaining(['lvi.path', 'lvi.device']));
    const source = fs.readFileSync(path.join(ext, 'src', 'extension.ts'), 'utf8');
    for (const c of Object.values(clientCommands)) expect(source).toContain(`clientCommands.${Object.entries(clientCommands).find(([, v]) => v === c)![0]}`);
  });

  it('treats hyphenated names as one word, and # as the comment', () => {
    const config = JSON.parse(fs.readFileSync(path.join(ext, 'language-configuration.json'), 'utf8'));
    expect(config.comments.lineComment).toBe('#');
    const word = new RegExp(config.wordPattern, 'g');
    expect('path=progressive-blur top=[1%, 5.5%] x=-3'.match(word)).toEqual(['path', 'progressive-blur', 'top', '1%', '5.5%', 'x', '-3']);
    expect(config.brackets).toEqual([['[', ']'], ['(', ')']]);
  });
});

describe('the lvi command line', () => {
  const exists = (files: string[]) => (f: string) => files.includes(f);

  it('prefers the workspace install, then a clone, then PATH', () => {
    const ws = '/w';
    expect(resolveLviCommand('lvi', [ws], exists(['/w/node_modules/.bin/lvi']), 'linux')).toEqual({ command: '/w/node_modules/.bin/lvi', args: [], shell: false });
    expect(resolveLviCommand(undefined, [ws], exists(['/w/bin/lvi.js', '/w/dist/src/cli/main.js']), 'linux')).toEqual({ command: 'node', args: ['/w/bin/lvi.js'], shell: false });
    expect(resolveLviCommand('', [ws], exists([]), 'linux')).toEqual({ command: 'lvi', args: [], shell: false });
    expect(resolveLviCommand('tools/lvi.js', [ws], exists([]), 'linux')).toEqual({ command: 'node', args: ['/w/tools/lvi.js'], shell: false });
    expect(resolveLviCommand('/opt/lvi', [ws], exists([]), 'linux').command).toBe('/opt/lvi');
  });

  it('quotes paths for the terminal and passes --only and --device', () => {
    expect(runCommandLine({ command: 'lvi', args: [], shell: false }, "/a b/it's.lvi", { device: 'cuda', only: 'edge' }, 'linux')).toBe(
      "lvi run '/a b/it'\\''s.lvi' --only edge --device cuda",
    );
    expect(runCommandLine({ command: 'C:\\lvi tools\\lvi.cmd', args: [], shell: true }, 'C:\\s.lvi', { device: 'auto' }, 'win32')).toBe(
      '& "C:\\lvi tools\\lvi.cmd" run "C:\\s.lvi"',
    );
    expect(shellQuote('plain-word_1.lvi', 'linux')).toBe('plain-word_1.lvi');
    expect(installCommandLine('@upscalerjs/models', 'linux')).toBe('ONNXRUNTIME_NODE_INSTALL=skip npm install @upscalerjs/models');
  });
});

/** Names of the entries of a zip file, from its central directory. */
function zipEntries(file: string): string[] {
  const b = fs.readFileSync(file);
  const eocd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = b.readUInt16LE(eocd + 10);
  let p = b.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const nameLen = b.readUInt16LE(p + 28);
    const extraLen = b.readUInt16LE(p + 30);
    const commentLen = b.readUInt16LE(p + 32);
    names.push(b.toString('utf8', p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

describe('npm run package:extension', () => {
  it('type-checks, bundles and packs a .vsix offline', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lvi-vsix-')), 'lvi.vsix');
    execFileSync(process.execPath, [path.join(ext, 'scripts', 'package.mjs'), '--out', out, '--keep-grammar'], { cwd: root, stdio: 'pipe' });
    const entries = zipEntries(out);
    expect(entries).toEqual(
      expect.arrayContaining([
        'extension/package.json',
        'extension/dist/extension.js',
        'extension/syntaxes/lvi.tmLanguage.json',
        'extension/language-configuration.json',
      ]),
    );
    expect(entries.some((e) => e.startsWith('extension/src/') || e.includes('node_modules'))).toBe(false);
    // The bundle carries the language client and leaves `vscode` to the editor.
    const bundle = fs.readFileSync(path.join(ext, 'dist', 'extension.js'), 'utf8');
    expect(bundle).toContain('require("vscode")');
    expect(bundle).toContain('lsp');
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  });
});
