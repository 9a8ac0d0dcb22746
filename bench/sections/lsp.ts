// Language server on a generated 2,000-line study, over the real stdio protocol (`lvi lsp
// --stdio`, as an editor runs it): diagnostics pushed after an edit (target 200 ms) and
// completion answered (target 50 ms). Baselines measured in the same run: parsing and checking
// the same text in this process (the floor under the diagnostics time) and the same requests
// on a 10-line study (the protocol's own round trip).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CompletionRequest,
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  HoverRequest,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type CompletionList,
  type Diagnostic,
} from 'vscode-languageserver-protocol/node.js';
import { MAX_STUDY_CHARS } from '../../src/compiler/binary.js';
import { checkStudy, parseStudy } from '../../src/compiler/index.js';
import { type BenchContext, median, ms } from '../lib.js';

export const title = 'Language server: diagnostics after an edit and completion on a 2,000-line study, over stdio';

const EDITS = 20;
const COMPLETIONS = 50;

/** A study of about `lines` lines: models, images, multi-line LAM statements, tables, comments. */
export function generateStudy(lines: number): string {
  const out = ['study "bench" device=cpu', '# a generated study for the language-server benchmark'];
  let i = 0;
  while (out.length < lines) {
    out.push(`model m${i} zoo="esrgan-slim/x${[2, 3, 4, 8][i % 4]}"`);
    out.push(`image img${i} file="images/chelsea.png"   # the same picture each time`);
    out.push(`lam a${i} model=[m${i}, m${Math.max(0, i - 1)}] image=img${i} window=(${i % 50},${i % 40},16,16)`);
    out.push(`    path=progressive-blur sigma=1.2 steps=50`);
    out.push(`    kernel=9 detector=gradient`);
    out.push('');
    if (i % 10 === 9) out.push(`table t${i} rows=[${Array.from({ length: 10 }, (_, k) => `a${i - k}`).join(', ')}] columns=[model, di]`);
    i++;
  }
  return `${out.slice(0, lines).join('\n')}\n`;
}

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'bin', 'lvi.js'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('bin/lvi.js not found above the benchmark');
    dir = up;
  }
  return dir;
}

interface Measured {
  diagnostics: number[];
  completion: number[];
  completionAfterEdit: number[];
}

/** A server process on `dir`, initialised. */
async function connect(dir: string) {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'lvi.js'), 'lsp', '--stdio'], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  conn.listen();
  const rootUri = pathToFileURL(dir).toString();
  await conn.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri, workspaceFolders: [{ uri: rootUri, name: 'bench' }], capabilities: {} });
  await conn.sendNotification(InitializedNotification.type, {});
  return {
    conn,
    async close() {
      await conn.sendRequest(ShutdownRequest.type);
      await conn.sendNotification(ExitNotification.type);
      conn.dispose();
    },
  };
}

/** The first hover on a study just opened (one past the size limit is not read at all). */
async function firstHover(dir: string, text: string): Promise<number> {
  const { conn, close } = await connect(dir);
  const uri = pathToFileURL(path.join(dir, 'long.lvi')).toString();
  await conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'lvi', version: 1, text } });
  const t = performance.now();
  await conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 2, character: 1 } });
  const elapsed = performance.now() - t;
  await close();
  return elapsed;
}

async function measure(dir: string, text: string, editLine: number, completeAt: { line: number; character: number }): Promise<Measured> {
  const { conn, close } = await connect(dir);
  let waiting: ((d: Diagnostic[]) => void) | undefined;
  conn.onNotification(PublishDiagnosticsNotification.type, (p) => waiting?.(p.diagnostics));
  const file = path.join(dir, 'study.lvi');
  fs.writeFileSync(file, text);
  const uri = pathToFileURL(file).toString();
  const pushed = (accept: (d: Diagnostic[]) => boolean) =>
    new Promise<void>((resolve) => {
      waiting = (d) => {
        if (accept(d)) resolve();
      };
    });
  const opened = pushed(() => true);
  await conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'lvi', version: 1, text } });
  await opened;

  // Each edit toggles a typo in a parameter name, so the push that answers it is recognisable.
  const lineText = text.split('\n')[editLine]!;
  const col = lineText.indexOf('steps');
  const result: Measured = { diagnostics: [], completion: [], completionAfterEdit: [] };
  let version = 1;
  for (let e = 0; e < EDITS; e++) {
    const typo = e % 2 === 0;
    const done = pushed((d) => d.some((x) => x.code === 'unknown-param') === typo);
    const t = performance.now();
    await conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: ++version },
      contentChanges: [{ range: { start: { line: editLine, character: col }, end: { line: editLine, character: col + 5 } }, text: typo ? 'stpes' : 'steps' }],
    });
    await done;
    result.diagnostics.push(performance.now() - t);
  }
  for (let c = 0; c < COMPLETIONS; c++) {
    const t = performance.now();
    await conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: completeAt });
    result.completion.push(performance.now() - t);
  }
  // Typing `=` after `model` on the last line, then completing there (as an editor does on a
  // trigger character): the answer must already know the `=`. The server is idle before each.
  const last = text.split('\n').length - 1; // the empty line after the final newline
  const insert = async (newText: string, start: number, end: number) => {
    const done = pushed(() => true);
    await conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: ++version },
      contentChanges: [{ range: { start: { line: last, character: start }, end: { line: last, character: end } }, text: newText }],
    });
    return done;
  };
  await insert('lam zz model', 0, 0);
  for (let c = 0; c < EDITS; c++) {
    const typed = insert('=', 12, 12);
    const t = performance.now();
    const list = (await conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: last, character: 13 } })) as CompletionList;
    result.completionAfterEdit.push(performance.now() - t);
    if (!list.items.some((i) => i.label === 'm0')) throw new Error('completion after `model=` did not offer the models');
    await typed;
    await insert('', 12, 13);
  }
  await close();
  return result;
}

const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

export async function run(ctx: BenchContext): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvi-bench-lsp-'));
  try {
    fs.mkdirSync(path.join(dir, 'images'));
    fs.copyFileSync(path.join(repoRoot(), 'examples', 'images', 'chelsea.png'), path.join(dir, 'images', 'chelsea.png'));
    const big = generateStudy(2000);
    const small = generateStudy(10);
    // Edit a `steps=` line in the middle; complete a `model=` value near the end.
    const bigLines = big.split('\n');
    const bigEdit = bigLines.findIndex((l, i) => i > 1000 && l.includes('steps='));
    const bigLam = bigLines.findIndex((l, i) => i > 1800 && l.startsWith('lam '));
    const smallLines = small.split('\n');
    const smallEdit = smallLines.findIndex((l) => l.includes('steps='));
    const smallLam = smallLines.findIndex((l) => l.startsWith('lam '));
    const at = (lines: string[], line: number) => ({ line, character: lines[line]!.indexOf('model=') + 'model=['.length });

    // Baseline: parse + check of the big study in this process.
    const checks: number[] = [];
    for (let r = 0; r < 10; r++) {
      const t = performance.now();
      checkStudy(parseStudy(big, path.join(dir, 'study.lvi')));
      checks.push(performance.now() - t);
    }
    const s = await measure(dir, small, smallEdit, at(smallLines, smallLam));
    const b = await measure(dir, big, bigEdit, at(bigLines, bigLam));
    // First hover on long studies: one just under the size limit (read in full) and one past it
    // (one too-large diagnostic, not read), against the 10-line study.
    const under = generateStudy(8000).slice(0, MAX_STUDY_CHARS);
    const under2 = under.slice(0, under.lastIndexOf('\n') + 1);
    const over = generateStudy(16_000);
    const hovers = { small: await firstHover(dir, small), under: await firstHover(dir, under2), over: await firstHover(dir, over) };
    ctx.table([
      ['measure', 'lines', 'median', 'p90', 'target'],
      ['parse + check, in process (baseline)', 2000, ms(median(checks)), ms(p90(checks)), ''],
      ['diagnostics pushed after an edit', 10, ms(median(s.diagnostics)), ms(p90(s.diagnostics)), ''],
      ['diagnostics pushed after an edit', 2000, ms(median(b.diagnostics)), ms(p90(b.diagnostics)), '200 ms'],
      ['completion', 10, ms(median(s.completion)), ms(p90(s.completion)), ''],
      ['completion', 2000, ms(median(b.completion)), ms(p90(b.completion)), ''],
      ['completion right after typing `=`', 10, ms(median(s.completionAfterEdit)), ms(p90(s.completionAfterEdit)), ''],
      ['completion right after typing `=`', 2000, ms(median(b.completionAfterEdit)), ms(p90(b.completionAfterEdit)), '50 ms'],
      ['first hover after opening', 10, ms(hovers.small), '', ''],
      [`first hover after opening, ${(under2.length / 1024).toFixed(0)} KiB (read)`, under2.split('\n').length - 1, ms(hovers.under), '', ''],
      [`first hover after opening, ${(over.length / 1024).toFixed(0)} KiB (too large, not read)`, over.split('\n').length - 1, ms(hovers.over), '', ''],
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
