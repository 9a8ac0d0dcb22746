// Builds the TextMate grammar of .lvi (extension/syntaxes/lvi.tmLanguage.json) from the two
// sources of truth: the Langium grammar's terminals (comments, strings, numbers, names) and the
// catalogue (statement kinds, parameter names, allowed words, call names). Never edited by hand:
// extension/scripts/generate-grammar.mjs writes it, and a test checks the file is current.
import { GrammarAST, GrammarUtils } from 'langium';
import { CATALOGUE, type Catalogue, type ParamSpec, type ParamType } from '../../grammar/catalogue.js';
import { LviGrammar } from '../compiler/generated/grammar.js';

export const SCOPE_NAME = 'source.lvi';

/** Every word the catalogue gives meaning to, by role. */
export interface CatalogueWords {
  kinds: string[];
  params: string[];
  values: string[];
  calls: string[];
}

export function catalogueWords(catalogue: Catalogue = CATALOGUE): CatalogueWords {
  const params = new Set<string>();
  const values = new Set<string>();
  const calls = new Set<string>();
  const visitType = (t: ParamType): void => {
    switch (t.type) {
      case 'enum':
        t.values.forEach((v) => values.add(v));
        break;
      case 'bool':
        values.add('true');
        values.add('false');
        break;
      case 'call':
        for (const [fn, spec] of Object.entries(t.functions)) {
          calls.add(fn);
          visitParams(spec.args);
        }
        break;
      case 'list':
        visitType(t.of);
        break;
      case 'union':
        t.of.forEach(visitType);
        break;
      default:
        break;
    }
  };
  const visitParams = (ps: Record<string, ParamSpec>): void => {
    for (const [name, spec] of Object.entries(ps)) {
      params.add(name);
      visitType(spec.type);
    }
  };
  for (const kind of Object.values(catalogue)) visitParams(kind.params);
  const sorted = (s: Iterable<string>) => [...s].sort();
  return { kinds: sorted(Object.keys(catalogue)), params: sorted(params), values: sorted(values), calls: sorted(calls) };
}

function terminalSource(name: string): string {
  const rule = LviGrammar().rules.find((r) => GrammarAST.isTerminalRule(r) && r.name === name);
  if (!rule || !GrammarAST.isTerminalRule(rule)) throw new Error(`grammar has no terminal ${name}`);
  return GrammarUtils.terminalRegex(rule).source;
}

/** Split a regex source at its top-level `|` (outside groups and classes). */
function alternatives(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth--;
    } else if (c === '|' && depth === 0) {
      out.push(source.slice(start, i));
      start = i + 1;
    }
  }
  out.push(source.slice(start));
  return out;
}

/** The same regex with every capturing group made non-capturing, so captures stay numbered. */
function nonCapturing(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      out += c + (source[i + 1] ?? '');
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(' && source[i + 1] !== '?') {
      out += '(?:';
      continue;
    }
    out += c;
  }
  return out;
}

const escape = (w: string) => w.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
/** Longest first, so no word shadows a longer one that starts with it. */
const wordList = (ws: string[]) => [...ws].sort((a, b) => b.length - a.length || a.localeCompare(b)).map(escape).join('|');

type Rule = Record<string, unknown>;

export function textMateGrammar(catalogue: Catalogue = CATALOGUE): Rule {
  const words = catalogueWords(catalogue);
  const id = nonCapturing(terminalSource('ID'));
  const number = nonCapturing(terminalSource('NUMBER'));
  const comment = nonCapturing(terminalSource('SL_COMMENT'));
  // Names may hold hyphens, so a word ends where no name character follows.
  const before = '(?<![A-Za-z0-9_.-])';
  const after = '(?![A-Za-z0-9_-])';
  const known = (ws: string[]) => (ws.length > 0 ? `(?:${wordList(ws)})` : '(?!)');

  // One begin/end rule per quote style of the STRING terminal: `"..."` and `'...'`.
  const strings: Rule[] = alternatives(terminalSource('STRING')).map((alt) => {
    const quote = alt[0]!;
    const style = quote === '"' ? 'double' : 'single';
    return {
      name: `string.quoted.${style}.lvi`,
      begin: escape(quote),
      end: `${escape(quote)}|$`,
      beginCaptures: { '0': { name: 'punctuation.definition.string.begin.lvi' } },
      endCaptures: { '0': { name: 'punctuation.definition.string.end.lvi' } },
      patterns: [{ match: '\\\\.', name: 'constant.character.escape.lvi' }],
    };
  });

  return {
    $schema: 'https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json',
    name: 'lvi',
    scopeName: SCOPE_NAME,
    fileTypes: ['lvi'],
    comment: 'Generated by extension/scripts/generate-grammar.mjs from grammar/lvi.langium and grammar/catalogue.ts. Do not edit.',
    patterns: [
      { include: '#comment' },
      { include: '#statement-head' },
      { include: '#value' },
    ],
    repository: {
      comment: { match: comment, name: 'comment.line.number-sign.lvi' },
      'statement-head': {
        comment: 'A statement starts at column 0: its kind, then an optional name (a word or a string).',
        patterns: [
          {
            match: `^(${known(words.kinds)})${after}(?:[ \\t]+(${id})${after}(?![ \\t]*=))?`,
            captures: { '1': { name: 'keyword.other.kind.lvi' }, '2': { name: 'entity.name.statement.lvi' } },
          },
          {
            match: `^(${id})${after}(?:[ \\t]+(${id})${after}(?![ \\t]*=))?`,
            captures: { '1': { name: 'keyword.other.kind.unknown.lvi' }, '2': { name: 'entity.name.statement.lvi' } },
          },
        ],
      },
      value: {
        patterns: [
          { include: '#comment' },
          { include: '#string' },
          {
            match: `${before}(${known(words.params)})[ \\t]*(=)`,
            captures: { '1': { name: 'variable.parameter.lvi' }, '2': { name: 'keyword.operator.assignment.lvi' } },
          },
          {
            match: `${before}(${id})[ \\t]*(=)`,
            captures: { '1': { name: 'variable.parameter.unknown.lvi' }, '2': { name: 'keyword.operator.assignment.lvi' } },
          },
          {
            match: `${before}(${known(words.calls)})(?=[ \\t]*\\()`,
            captures: { '1': { name: 'support.function.lvi' } },
          },
          {
            match: `${before}(${id})(?=[ \\t]*\\()`,
            captures: { '1': { name: 'entity.name.function.call.lvi' } },
          },
          { match: `${before}${known(words.values)}${after}`, name: 'constant.language.lvi' },
          { match: '\\.\\.', name: 'keyword.operator.range.lvi' },
          {
            match: `${before}(${number})(%)?`,
            captures: { '1': { name: 'constant.numeric.lvi' }, '2': { name: 'keyword.other.unit.percent.lvi' } },
          },
          { match: `${before}${id}`, name: 'variable.other.reference.lvi' },
          { match: '[\\[\\]]', name: 'punctuation.section.brackets.lvi' },
          { match: '[()]', name: 'punctuation.section.parens.lvi' },
          { match: ',', name: 'punctuation.separator.comma.lvi' },
        ],
      },
      string: { patterns: strings },
    },
  };
}

/** The file's exact text: what the generator writes and the test compares. */
export function textMateGrammarJson(catalogue: Catalogue = CATALOGUE): string {
  return `${JSON.stringify(textMateGrammar(catalogue), null, 2)}\n`;
}
