// An Io that keeps what a command printed, for tests that call commands directly.
import type { Io } from '../../src/cli/io.js';

export function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += t.endsWith('\n') ? t : `${t}\n`),
    err: (t: string) => void (io.stderr += t.endsWith('\n') ? t : `${t}\n`),
  };
  return io;
}
