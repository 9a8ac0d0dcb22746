// The generated TextMate grammar: current with the grammar and catalogue, and it colours every
// kind, parameter and allowed word of the catalogue as the editor will (vscode-textmate with the
// Oniguruma engine VS Code itself uses).
import { fileURLToPath } from 'node:url';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';
import { CATALOGUE } from '../../grammar/catalogue.js';
import { catalogueWords, SCOPE_NAME, textMateGrammarJson } from '../../src/lsp/textmate.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const grammarFile = path.join(root, 'extension', 'syntaxes', 'lvi.tmLanguage.json');

let grammar: vsctm.IGrammar;

beforeAll(async () => {
  const wasm = fs.readFileSync(path.join(root, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources: string[]) => new oniguruma.OnigScanner(sources),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) =>
      scope === SCOPE_NAME ? vsctm.parseRawGrammar(fs.readFileSync(grammarFile, 'utf8'), grammarFile) : null,
  });
  const g = await registry.loadGrammar(SCOPE_NAME);
  if (!g) throw new Error('grammar did not load');
  grammar = g;
});

/** Tokens of a study as [text, innermost scope] pairs, blank tokens dropped. */
function tokens(text: string): [string, string][] {
  let state = vsctm.INITIAL;
  const out: [string, string][] = [];
  for (const line of text.split('\n')) {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) {
      const s = line.slice(t.startIndex, t.endIndex);
      if (s.trim()) out.push([s, t.scopes.at(-1)!]);
    }
    state = r.ruleStack;
  }
  return out;
}

function scopeOf(text: string, word: string, nth = 0): string | undefined {
  return tokens(text).filter(([s]) => s === word)[nth]?.[1];
}

describe('generated TextMate grammar', () => {
  it('is current with the grammar and the catalogue (else: node extension/scripts/generate-grammar.mjs)', () => {
    expect(fs.readFileSync(grammarFile, 'utf8')).toBe(textMateGrammarJson());
  });

  it('colours every statement kind at the start of a line, and its name', () => {
    for (const kind of Object.keys(CATALOGUE)) {
      expect(scopeOf(`${kind} thing x=1`, kind), kind).toBe('keyword.other.kind.lvi');
      expect(scopeOf(`${kind} thing x=1`, 'thing'), kind).toBe('entity.name.statement.lvi');
    }
    expect(scopeOf('modle m zoo="a/x4"', 'modle')).toBe('keyword.other.kind.unknown.lvi');
  });

  it('colours every parameter of every kind as a parameter', () => {
    for (const [kind, spec] of Object.entries(CATALOGUE)) {
      for (const param of Object.keys(spec.params)) {
        const line = `${kind} s ${param}=1`;
        expect(scopeOf(line, param), `${kind} ${param}`).toBe('variable.parameter.lvi');
        // A continuation line too; the kind-named parameter (lam model=) is not a kind there.
        expect(scopeOf(`${kind} s\n    ${param} = 1`, param), `${kind} ${param} continued`).toBe('variable.parameter.lvi');
      }
    }
    expect(scopeOf('lam e stpes=5', 'stpes')).toBe('variable.parameter.unknown.lvi');
  });

  it('colours every allowed word as a constant and other names as references', () => {
    const { values } = catalogueWords();
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) {
      expect(scopeOf(`lam e x=${value} y=[${value}, other]`, value), value).toBe('constant.language.lvi');
      expect(scopeOf(`lam e x=${value} y=[${value}, other]`, value, 1), value).toBe('constant.language.lvi');
    }
    expect(scopeOf('lam e model=my-net', 'my-net')).toBe('variable.other.reference.lvi');
  });

  it('colours numbers, percentages, ranges, strings, calls and comments', () => {
    const text = 'lam e window=(110,150,16,16) top=[1%, 2.5e-1] r=0..1 file="a \\" # b" d=blur(sigma=2) u=mine(k=1) # note\n' +
      "study 'x-y'";
    const t = tokens(text);
    expect(t).toContainEqual(['110', 'constant.numeric.lvi']);
    expect(t).toContainEqual(['%', 'keyword.other.unit.percent.lvi']);
    expect(t).toContainEqual(['2.5e-1', 'constant.numeric.lvi']);
    expect(t).toContainEqual(['..', 'keyword.operator.range.lvi']);
    expect(t).toContainEqual(['\\"', 'constant.character.escape.lvi']);
    expect(t).toContainEqual([' # b', 'string.quoted.double.lvi']);
    // A call the catalogue knows (a degradation) is a support function; any other a plain call.
    expect(t).toContainEqual(['blur', 'support.function.lvi']);
    expect(t).toContainEqual(['mine', 'entity.name.function.call.lvi']);
    expect(t).toContainEqual(['sigma', 'variable.parameter.lvi']);
    expect(t).toContainEqual(['# note', 'comment.line.number-sign.lvi']);
    expect(t).toContainEqual(['x-y', 'string.quoted.single.lvi']);
  });

  it('ends an unclosed string at the end of its line', () => {
    const t = tokens('image i file="open\nmodel m zoo="a/x4"');
    expect(t).toContainEqual(['model', 'keyword.other.kind.lvi']);
  });
});
