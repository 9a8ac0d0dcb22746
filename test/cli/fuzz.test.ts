// Issue 8: `lvi check` and `lvi fmt` on seeded mutations of the bundled examples, in a folder
// that links the examples' models, images and data (so the checks that read files read real
// ones): never an exception or a stack trace, exit 0 or 1, and everything printed is a diagnostic
// `file:line:column: severity[code]: message` inside the text, with its source line and a caret
// under the range; `lvi fmt` is idempotent and keeps the diagnostics. The seed names each case.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/commands/check.js';
import { runFmt } from '../../src/cli/commands/fmt.js';
import { shownPath, type Io } from '../../src/cli/io.js';
import { compileStudy } from '../../src/compiler/index.js';
import { MORE_PIECES, mangle } from '../helpers/mangle.js';
import { repoRoot } from '../helpers/paths.js';
import { rng } from '../helpers/tensors.js';
import { buildServer } from '../lsp/helpers/server-process.js';

// A longer run: LVI_FUZZ_SCALE=20 npx vitest run test/cli/fuzz.test.ts (LVI_FUZZ_SEED for other texts).
const SCALE = Number(process.env.LVI_FUZZ_SCALE ?? 1);
const CASES = 150 * SCALE;
const examples = path.join(repoRoot, 'examples');
const studies = fs.readdirSync(examples, { withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.lvi')).map((e) => e.name).sort();
let dir: string;
const cases: { file: string; text: string }[] = [];

let bin: string;
beforeAll(async () => {
  bin = await buildServer(); // bin/lvi.js runs dist/: bring it up to date with the sources
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvi-fuzz-cli-'));
  for (const sub of ['models', 'images', 'data']) fs.symlinkSync(path.join(examples, sub), path.join(dir, sub));
  const r = rng(Number(process.env.LVI_FUZZ_SEED ?? 8));
  for (let i = 0; i < CASES; i++) {
    const source = studies[i % studies.length]!;
    const text = mangle(fs.readFileSync(path.join(examples, source), 'utf8'), r, MORE_PIECES);
    const file = path.join(dir, `case-${i}-${source}`);
    fs.writeFileSync(file, text);
    cases.push({ file, text });
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Each call of an Io, as written (a diagnostic is one call). */
function calls(): Io & { out: (t: string) => void; outs: string[]; errs: string[] } {
  const io = { outs: [] as string[], errs: [] as string[], out: (t: string) => void io.outs.push(t), err: (t: string) => void io.errs.push(t) };
  return io;
}

const HEAD = /^(.+):(\d+):(\d+): (error|warning|info)\[([a-z0-9-]+)\]: (\S.*)$/;

/** A rendered diagnostic: its head names the file and a place inside `text`, then the line and a caret. */
function expectDiagnostic(block: string, file: string, text: string): string {
  const lines = block.replace(/\n$/, '').split('\n');
  const head = HEAD.exec(lines[0]!);
  expect(head, `not a diagnostic head: ${JSON.stringify(lines[0])}`).not.toBeNull();
  const [, shown, line, column, , code] = head!;
  expect(shown).toBe(shownPath(file));
  const source = text.split(/\r\n|\r|\n/);
  const n = Number(line);
  expect(n).toBeGreaterThanOrEqual(1);
  expect(n).toBeLessThanOrEqual(source.length);
  expect(Number(column)).toBeGreaterThanOrEqual(1);
  expect(Number(column)).toBeLessThanOrEqual(source[n - 1]!.length + 1);
  expect(lines[1], block).toBe(`${n} | ${source[n - 1]}`);
  expect(lines[2], block).toMatch(new RegExp(`^ {${String(n).length}} \\| {${Number(column)}}\\^+$`));
  for (const extra of lines.slice(3)) expect(extra, block).toMatch(/^ += help: did you mean `.*`\?$/);
  return code!;
}

const findings = (file: string) => compileStudy(file).diagnostics.map((d) => `${d.severity}[${d.code}] ${d.message}`).sort();

describe(`lvi check and lvi fmt on ${CASES} mutated examples`, () => {
  it('check: exit 0 or 1, diagnostics only, each at a place in the text', () => {
    let failing = 0;
    for (const { file, text } of cases) {
      const io = calls();
      const code = runCheck([file], {}, io);
      expect([0, 1], file).toContain(code);
      for (const block of io.outs) expectDiagnostic(block, file, text);
      expect(io.errs).toEqual([code === 0 ? `${shownPath(file)}: no problems found` : expect.stringMatching(/^\d+ errors? found$/)]);
      if (code === 1) failing++;
    }
    // The mutations must break studies often, or this proves little.
    expect(failing).toBeGreaterThan(CASES / 3);
  }, 120_000 * SCALE);

  it('fmt: exit 0 or 1, idempotent, the same diagnostics after formatting, a study it cannot format untouched', () => {
    let formatted = 0;
    for (const { file, text } of cases) {
      const before = findings(file);
      const io = calls();
      const code = runFmt([file], {}, io);
      expect([0, 1], file).toContain(code);
      expect(io.outs).toEqual([]);
      const after = fs.readFileSync(file, 'utf8');
      if (code === 1) {
        expect(after, file).toBe(text);
        const [notFormatted, ...blocks] = [io.errs.at(-1)!, ...io.errs.slice(0, -1)];
        expect(notFormatted).toBe(`${shownPath(file)}: not formatted: fix the syntax errors first`);
        expect(blocks.length).toBeGreaterThan(0);
        for (const block of blocks) expectDiagnostic(block, file, text);
        continue;
      }
      expect(io.errs).toEqual(after === text ? [] : [`formatted ${shownPath(file)}`]);
      if (after !== text) formatted++;
      expect(findings(file), file).toEqual(before);
      const again = calls();
      expect(runFmt([file], {}, again)).toBe(0);
      expect(again.errs, `${file}: a second fmt changed it`).toEqual([]);
    }
    expect(formatted).toBeGreaterThan(10);
  }, 120_000 * SCALE);

  it('the lvi process itself on all of them: no stack trace, every line part of a diagnostic', () => {
    const files = cases.map((c) => c.file);
    const run = spawnSync(process.execPath, [bin, 'check', ...files], { cwd: dir, encoding: 'utf8' });
    expect(run.signal).toBeNull();
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toMatch(/^\d+ errors found$/);
    // Diagnostics blocks one after another: head, source line, caret, optional help.
    const lines = run.stdout.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(CASES);
    for (const l of lines) expect(l).toMatch(/^(case-\d+-[a-z-]+\.lvi:\d+:\d+: (error|warning|info)\[[a-z0-9-]+\]: \S|\d+ \| | +\| +\^+$| += help: )/);
    expect(run.stdout).not.toMatch(/^\s+at /m);
  }, 120_000 * SCALE);
});
