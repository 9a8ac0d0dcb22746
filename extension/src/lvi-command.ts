// How the extension finds the `lvi` command. Kept free of the `vscode` module so the tests can
// call it directly.
import * as path from 'node:path';

export interface LviCommand {
  command: string;
  /** Arguments that come before the subcommand (the script, when `lvi` is a .js file). */
  args: string[];
  /** Windows starts `lvi.cmd` shims through a shell. */
  shell: boolean;
}

/**
 * Resolve the `lvi.path` setting. The default `lvi` prefers the workspace's own install
 * (node_modules/.bin/lvi, or bin/lvi.js in a clone of lvi itself) so the server matches the
 * project's version; anything else is taken as written, relative to the first workspace folder.
 */
export function resolveLviCommand(
  setting: string | undefined,
  workspaceFolders: readonly string[],
  exists: (file: string) => boolean,
  platform: NodeJS.Platform = process.platform,
): LviCommand {
  const value = (setting ?? '').trim() || 'lvi';
  const win = platform === 'win32';
  if (value === 'lvi') {
    for (const folder of workspaceFolders) {
      const local = path.join(folder, 'node_modules', '.bin', win ? 'lvi.cmd' : 'lvi');
      if (exists(local)) return { command: local, args: [], shell: win };
      const clone = path.join(folder, 'bin', 'lvi.js');
      if (exists(clone) && exists(path.join(folder, 'dist', 'src', 'cli', 'main.js'))) {
        return { command: 'node', args: [clone], shell: win };
      }
    }
    return { command: 'lvi', args: [], shell: win };
  }
  // A bare name is looked up on PATH; a relative path is taken from the workspace.
  const bare = !value.includes('/') && !value.includes('\\');
  const absolute =
    path.isAbsolute(value) || bare || workspaceFolders.length === 0
      ? value
      : path.resolve(workspaceFolders[0]!, value);
  if (/\.[cm]?js$/.test(absolute)) return { command: 'node', args: [absolute], shell: win };
  return { command: absolute, args: [], shell: win };
}

/** Quote one argument for the integrated terminal's shell (POSIX sh or PowerShell/cmd). */
export function shellQuote(arg: string, platform: NodeJS.Platform = process.platform): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(arg)) return arg;
  if (platform === 'win32') return `"${arg.replace(/"/g, '""')}"`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line typed into the terminal by "lvi: Run study" / "lvi: Run statement". */
export function runCommandLine(
  lvi: LviCommand,
  studyFile: string,
  options: { device?: string; only?: string },
  platform: NodeJS.Platform = process.platform,
): string {
  const parts = [lvi.command, ...lvi.args, 'run', studyFile];
  if (options.only) parts.push('--only', options.only);
  if (options.device && options.device !== 'auto') parts.push('--device', options.device);
  const line = parts.map((p) => shellQuote(p, platform)).join(' ');
  // PowerShell needs the call operator before a quoted program path.
  return platform === 'win32' && line.startsWith('"') ? `& ${line}` : line;
}

/** `npm install <package>` for a zoo model's package (ONNX Runtime's CUDA download skipped). */
export function installCommandLine(pkg: string, platform: NodeJS.Platform = process.platform): string {
  const args = ['npm', 'install', pkg].map((a) => shellQuote(a, platform)).join(' ');
  return platform === 'win32' ? `$env:ONNXRUNTIME_NODE_INSTALL='skip'; ${args}` : `ONNXRUNTIME_NODE_INSTALL=skip ${args}`;
}
