// Issue 8: one real language server process over stdio, fed seeded mutations of the bundled
// examples (opened, edited once through a ranged change, closed) and random requests of every
// kind at random positions: the process never exits, no request fails with an internal error
// (renames may be refused with RequestFailed), every answer that names a place names one inside
// the document it was asked about, and every pushed diagnostic lies inside a text the document
// had. The study folder links the examples' models, images and data, so features that read
// files (layer names, image sizes, model summaries) read real ones. The seed names each case.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CodeActionRequest,
  CodeLensRequest,
  CompletionRequest,
  DefinitionRequest,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DocumentFormattingRequest,
  DocumentHighlightRequest,
  DocumentRangeFormattingRequest,
  DocumentSymbolRequest,
  FoldingRangeRequest,
  HoverRequest,
  InlayHintRequest,
  LSPErrorCodes,
  PrepareRenameRequest,
  PublishDiagnosticsNotification,
  ReferencesRequest,
  RenameRequest,
  ResponseError,
  SemanticTokensRangeRequest,
  SemanticTokensRequest,
  SignatureHelpRequest,
  type Position,
  type Range,
} from 'vscode-languageserver-protocol/node.js';
import { MORE_PIECES, mangle } from '../helpers/mangle.js';
import { repoRoot } from '../helpers/paths.js';
import { rng, type Rng } from '../helpers/tensors.js';
import { positionAt } from './helpers/cursor.js';
import { makeStudyFolder } from './helpers/fixture.js';
import { startServer, type ServerUnderTest } from './helpers/server-process.js';

// A longer run: LVI_FUZZ_SCALE=20 npx vitest run test/lsp/fuzz.test.ts (LVI_FUZZ_SEED for other texts).
const SCALE = Number(process.env.LVI_FUZZ_SCALE ?? 1);
const DOCUMENTS = 120 * SCALE;
const REQUESTS = 8; // per text: before and after the edit

const examples = path.join(repoRoot, 'examples');
const sources = fs.readdirSync(examples, { withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.lvi'))
  .map((e) => fs.readFileSync(path.join(examples, e.name), 'utf8'));

const dir = makeStudyFolder();
for (const sub of ['models', 'images', 'data']) {
  fs.rmSync(path.join(dir, sub), { recursive: true, force: true });
  fs.symlinkSync(path.join(examples, sub), path.join(dir, sub));
}
let server: ServerUnderTest;
beforeAll(async () => {
  server = await startServer(dir);
});
afterAll(async () => {
  if (server.process.exitCode === null) await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const lines = (text: string) => text.split(/\r\n|\r|\n/);
const before = (a: Position, b: Position) => a.line < b.line || (a.line === b.line && a.character <= b.character);
function insidePosition(p: Position, text: string): boolean {
  const ls = lines(text);
  return p.line >= 0 && p.line < ls.length && p.character >= 0 && p.character <= ls[p.line]!.length;
}
const inside = (r: Range, text: string) => insidePosition(r.start, text) && insidePosition(r.end, text) && before(r.start, r.end);

/** Every range (and position) in an answer, wherever it sits in the structure. */
function places(value: unknown, out: { ranges: Range[]; positions: Position[] } = { ranges: [], positions: [] }) {
  if (Array.isArray(value)) for (const v of value) places(v, out);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (isPosition(o.start) && isPosition(o.end)) out.ranges.push(o as unknown as Range);
    else for (const [k, v] of Object.entries(o)) {
      if (k === 'position' && isPosition(v)) out.positions.push(v);
      else places(v, out);
    }
  }
  return out;
}
function isPosition(v: unknown): v is Position {
  return !!v && typeof v === 'object' && typeof (v as Position).line === 'number' && typeof (v as Position).character === 'number';
}

type Ask = (uri: string, position: Position, range: Range) => Promise<unknown>;
const ASKS: [string, Ask][] = [
  ['completion', (uri, position) => server.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position })],
  ['hover', (uri, position) => server.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position })],
  ['definition', (uri, position) => server.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position })],
  ['references', (uri, position) => server.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position, context: { includeDeclaration: true } })],
  ['highlight', (uri, position) => server.connection.sendRequest(DocumentHighlightRequest.type, { textDocument: { uri }, position })],
  ['prepareRename', (uri, position) => server.connection.sendRequest(PrepareRenameRequest.type, { textDocument: { uri }, position })],
  ['rename', (uri, position) => server.connection.sendRequest(RenameRequest.type, { textDocument: { uri }, position, newName: 'fresh' })],
  ['formatting', (uri) => server.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 4, insertSpaces: true } })],
  ['rangeFormatting', (uri, _p, range) => server.connection.sendRequest(DocumentRangeFormattingRequest.type, { textDocument: { uri }, range, options: { tabSize: 4, insertSpaces: true } })],
  ['symbols', (uri) => server.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })],
  ['folding', (uri) => server.connection.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } })],
  ['semanticTokens', (uri) => server.connection.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } })],
  ['semanticTokensRange', (uri, _p, range) => server.connection.sendRequest(SemanticTokensRangeRequest.type, { textDocument: { uri }, range })],
  ['signatureHelp', (uri, position) => server.connection.sendRequest(SignatureHelpRequest.type, { textDocument: { uri }, position })],
  ['inlayHints', (uri, _p, range) => server.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range })],
  ['codeActions', (uri, _p, range) => server.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range, context: { diagnostics: [] } })],
  ['codeLens', (uri) => server.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } })],
];

/** Checks one answer against the text it is about; returns a complaint or undefined. */
function complaint(kind: string, answer: unknown, text: string): string | undefined {
  if (kind === 'folding') {
    const n = lines(text).length;
    const bad = (answer as { startLine: number; endLine: number }[] | null)?.find((f) => !(f.startLine <= f.endLine && f.endLine < n));
    return bad && `folding range ${JSON.stringify(bad)} outside ${n} lines`;
  }
  if (kind === 'semanticTokens' || kind === 'semanticTokensRange') {
    const data = (answer as { data: number[] } | null)?.data ?? [];
    if (data.length % 5 !== 0) return `${data.length} numbers of semantic tokens`;
    const ls = lines(text);
    let line = 0;
    let char = 0;
    for (let i = 0; i < data.length; i += 5) {
      line += data[i]!;
      char = data[i] === 0 ? char + data[i + 1]! : data[i + 1]!;
      if (line >= ls.length || char + data[i + 2]! > ls[line]!.length) return `token at ${line}:${char}+${data[i + 2]} outside the text`;
    }
    return undefined;
  }
  const { ranges, positions } = places(answer);
  const badRange = ranges.find((r) => !inside(r, text));
  if (badRange) return `range ${JSON.stringify(badRange)} outside the text`;
  const badPosition = positions.find((p) => !insidePosition(p, text));
  return badPosition && `position ${JSON.stringify(badPosition)} outside the text`;
}

/** A random place in `text`: a position and a range starting there. */
function placeIn(text: string, r: Rng): { position: Position; range: Range } {
  const a = Math.floor(r() * (text.length + 1));
  const b = Math.min(text.length, a + Math.floor(r() * 200));
  return { position: positionAt(text, a), range: { start: positionAt(text, a), end: positionAt(text, b) } };
}

/** The text after replacing `range` with `insert`, as the protocol defines ranged changes. */
function applyChange(text: string, range: Range, insert: string): string {
  const offsetOf = (p: Position) => {
    const re = /\r\n|\r|\n/g;
    let start = 0;
    for (let l = 0; l < p.line; l++) {
      const m = re.exec(text);
      start = m ? m.index + m[0].length : text.length;
    }
    return start + p.character;
  };
  return text.slice(0, offsetOf(range.start)) + insert + text.slice(offsetOf(range.end));
}

describe(`language server over stdio: ${DOCUMENTS} mutated examples, ${2 * REQUESTS} random requests each`, () => {
  it('never exits, never an internal error, every place inside the document', async () => {
    const r = rng(Number(process.env.LVI_FUZZ_SEED ?? 2024));
    const texts = new Map<string, string[]>(); // every text each document had
    const outside: string[] = [];
    server.connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
      const had = texts.get(p.uri) ?? [];
      for (const d of p.diagnostics) if (!had.some((t) => inside(d.range, t))) outside.push(`${p.uri}: ${d.code} at ${JSON.stringify(d.range)}`);
    });
    const failures: string[] = [];
    const counts = { answered: 0, refused: 0 };
    const ask = async (uri: string, text: string, label: string) => {
      await Promise.all(Array.from({ length: REQUESTS }, async () => {
        const [kind, fn] = ASKS[Math.floor(r() * ASKS.length)]!;
        const { position, range } = placeIn(text, r);
        try {
          const answer = await fn(uri, position, range);
          counts.answered++;
          const bad = complaint(kind, answer, text);
          if (bad) failures.push(`${label} ${kind} at ${JSON.stringify(position)}: ${bad}`);
        } catch (e) {
          if (e instanceof ResponseError && e.code === LSPErrorCodes.RequestFailed && /rename/i.test(kind)) counts.refused++;
          else failures.push(`${label} ${kind} at ${JSON.stringify(position)}: ${e instanceof ResponseError ? `${e.code} ${e.message}` : String(e)}`);
        }
      }));
    };
    for (let i = 0; i < DOCUMENTS; i++) {
      const text = mangle(sources[i % sources.length]!, r, MORE_PIECES);
      const file = path.join(dir, `fuzz-${i}.lvi`);
      const uri = pathToFileURL(file).toString();
      texts.set(uri, [text]);
      server.open(file, text);
      await ask(uri, text, `case ${i}`);
      // One ranged edit (an editor's usual change), then requests about the new text.
      const { range } = placeIn(text, r);
      const insert = r() < 0.5 ? '' : MORE_PIECES[Math.floor(r() * MORE_PIECES.length)]!;
      const edited = applyChange(text, range, insert);
      texts.get(uri)!.push(edited);
      await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: 2 },
        contentChanges: [{ range, text: insert }],
      });
      await ask(uri, edited, `case ${i} after the edit`);
      await server.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
      expect(server.process.exitCode, `the server exited at case ${i}:\n${server.stderr()}`).toBeNull();
    }
    expect(failures).toEqual([]);
    expect(outside).toEqual([]);
    expect(counts.answered + counts.refused).toBe(DOCUMENTS * 2 * REQUESTS);
    expect(server.stderr()).not.toMatch(/^\s+at /m); // no stack trace logged
    expect(server.process.exitCode).toBeNull();
  }, 120_000 * SCALE);
});
