// Each language feature as a plain function of a study and a cursor (`<|>`).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatStudy } from '../../src/compiler/index.js';
import { codeActions } from '../../src/lsp/code-actions.js';
import { codeLenses, reportPath } from '../../src/lsp/code-lens.js';
import { completion } from '../../src/lsp/completion.js';
import { formatting } from '../../src/lsp/formatting.js';
import { hover } from '../../src/lsp/hover.js';
import { inlayHints } from '../../src/lsp/inlay-hints.js';
import { definition, documentHighlights, prepareRename, references, rename } from '../../src/lsp/navigation.js';
import { documentSymbols, foldingRanges } from '../../src/lsp/outline.js';
import { semanticTokenList, semanticTokens, TOKEN_TYPES } from '../../src/lsp/semantic-tokens.js';
import { signatureHelp } from '../../src/lsp/signature-help.js';
import { toLspDiagnostic } from '../../src/compiler/index.js';
import { at, CATALOGUE_WITH_CALLS, makeStudyFolder } from './helpers/fixture.js';

const dir = makeStudyFolder();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const STUDY = `study "s"
model slim zoo="esrgan-slim/x4"
image cat file="images/chelsea.png"
lam edge model=slim image=cat window=(0,0,4,4)
    steps=8
table di rows=edge
`;

function hoverText(marked: string, d = dir): string {
  const a = at(marked, d);
  const h = hover(a.view, a.position, a.env);
  return h ? (h.contents as { value: string }).value : '';
}

describe('hover', () => {
  it('documents a parameter: doc, type, default, range', () => {
    const text = hoverText('lam e st<|>eps=5');
    expect(text).toContain('Path steps');
    expect(text).toContain('integer in [1, 10000]');
    expect(text).toContain('default: `50`');
    expect(hoverText('lam e sig<|>ma=1')).toContain('number in (0, 100]');
  });

  it('documents a kind with its parameters and example', () => {
    expect(hoverText('ima<|>ge i file="images/chelsea.png"')).toMatch(/\*\*image\*\*[\s\S]*`file=`[\s\S]*```lvi/);
  });

  it('shows an analysis cost: passes per run, runs of a sweep', () => {
    const text = hoverText(STUDY.replace('lam edge', 'lam ed<|>ge').replace('model=slim', 'model=[slim, slim2]')
      + 'model slim2 zoo="esrgan-slim/x2"\n');
    expect(text).toContain('2 runs');
    expect(text).toContain('per run: 9 forward and 8 backward passes');
    expect(text).toContain('in all: 18 forward, 16 backward');
  });

  it('shows an image size and a path on disk', () => {
    expect(hoverText(STUDY.replace('image cat', 'image c<|>at'))).toContain('8×6 px');
    expect(hoverText(STUDY.replace('images/chelsea', 'images/<|>chelsea'))).toContain(path.join(dir, 'images', 'chelsea.png'));
  });

  it('says when a model is still being read, and what is wrong with one that cannot be', () => {
    expect(hoverText(STUDY.replace('model=slim', 'model=sl<|>im'))).toMatch(/Reading the model|parameters:/);
    expect(hoverText('model m file="models/ne<|>t.onnx"\nlam e model=m', dir)).toContain('KiB');
    const broken = hoverText('model <|>m file="models/net.onnx"', dir);
    expect(broken).toContain('file `models/net.onnx`');
  });

  it('is empty on whitespace and comments', () => {
    expect(hoverText('# lam <|>steps=5')).toBe('');
    expect(hoverText('lam e   <|>  steps=5')).toBe('');
  });
});

describe('definition, references, rename', () => {
  it('goes from a reference to its declaration', () => {
    const a = at(STUDY.replace('model=slim', 'model=sl<|>im'), dir);
    const [link] = definition(a.view, a.position);
    expect(link?.targetSelectionRange).toEqual({ start: { line: 1, character: 6 }, end: { line: 1, character: 10 } });
    expect(link?.originSelectionRange?.start).toEqual({ line: 3, character: 15 });
  });

  it('finds every use, with or without the declaration', () => {
    const a = at(STUDY.replace('model slim', 'model sl<|>im'), dir);
    expect(references(a.view, a.position, true).map((l) => l.range.start.line)).toEqual([1, 3]);
    expect(references(a.view, a.position, false).map((l) => l.range.start.line)).toEqual([3]);
    expect(documentHighlights(a.view, a.position).map((h) => h.kind)).toEqual([3, 2]);
  });

  it('renames a name everywhere it is used, within sweeps and lists', () => {
    const text = STUDY.replace('model=slim', 'model=[slim, other]').replace('table di rows=edge', 'table di rows=[edge]')
      + 'model other zoo="esrgan-slim/x2"\n';
    const a = at(text.replace('lam edge', 'lam ed<|>ge'), dir);
    expect(prepareRename(a.view, a.position)).toMatchObject({ placeholder: 'edge' });
    const edit = rename(a.view, a.position, 'edges');
    expect('changes' in edit && Object.values(edit.changes!)[0]!.map((e) => [e.range.start.line, e.newText])).toEqual([
      [3, 'edges'],
      [5, 'edges'],
    ]);
  });

  it('refuses names that clash, are not names, or are words of the language', () => {
    const a = at(STUDY.replace('model slim', 'model sl<|>im'), dir);
    expect(rename(a.view, a.position, 'cat')).toMatchObject({ error: expect.stringContaining('already used') });
    expect(rename(a.view, a.position, '9lives')).toMatchObject({ error: expect.stringContaining('not a name') });
    expect(rename(a.view, a.position, 'gradient')).toMatchObject({ error: expect.stringContaining('word of the language') });
    const b = at(STUDY.replace('steps=8', 'st<|>eps=8'), dir);
    expect(prepareRename(b.view, b.position)).toHaveProperty('error');
  });
});

describe('outline and folding', () => {
  it('lists one symbol per statement', () => {
    const a = at(STUDY, dir);
    expect(documentSymbols(a.view).map((s) => [s.name, s.detail, s.range.start.line, s.range.end.line])).toEqual([
      ['s', 'study', 0, 0],
      ['slim', 'model', 1, 1],
      ['cat', 'image', 2, 2],
      ['edge', 'lam', 3, 4],
      ['di', 'table', 5, 5],
    ]);
  });

  it('folds multi-line statements, lists and comment blocks', () => {
    const a = at('# one\n# two\nlam e model=[\n    a,\n    b]\n    steps=5\nmodel m zoo="x/x4"\n');
    expect(foldingRanges(a.view)).toEqual([
      { startLine: 0, endLine: 1, kind: 'comment' },
      { startLine: 2, endLine: 5 },
      { startLine: 2, endLine: 4 },
    ]);
  });
});

describe('formatting', () => {
  it('gives the same text as lvi fmt, as a minimal edit', () => {
    const messy = 'study "s"\nmodel slim   zoo = "esrgan-slim/x4"   # the model\nimage cat file="images/chelsea.png"\nlam e model=slim image=cat window=( 0, 0 ,4,4 )\n      steps=5\n';
    const a = at(messy, dir);
    const edits = formatting(a.view);
    expect(edits.length).toBe(1);
    const e = edits[0]!;
    const lines = messy.split('\n');
    const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).join('\n').length + (p.line ? 1 : 0) + p.character;
    const applied = messy.slice(0, offset(e.range.start)) + e.newText + messy.slice(offset(e.range.end));
    expect(applied).toBe(formatStudy(messy));
    expect(e.range.start.line).toBe(1); // the first line was already canonical
    expect(formatting(at(formatStudy(messy), dir).view)).toEqual([]);
  });

  it('leaves a study with syntax errors alone', () => {
    expect(formatting(at('lam e model=[slim,\n', dir).view)).toEqual([]);
  });
});

describe('semantic tokens', () => {
  it('colours names by what they refer to and words the catalogue knows', () => {
    const a = at(STUDY + 'lam f model=nosuch image=cat window=(0,0,1,1) path=linear\n', dir);
    const text = a.view.parsed.text;
    const tokens = semanticTokenList(a.view).map((t) => [text.slice(t.start, t.end), TOKEN_TYPES[t.type], t.modifiers]);
    expect(tokens).toContainEqual(['lam', 'keyword', 0]);
    expect(tokens).toContainEqual(['slim', 'class', 1]); // declaration
    expect(tokens).toContainEqual(['slim', 'class', 0]); // reference
    expect(tokens).toContainEqual(['edge', 'function', 0]);
    expect(tokens).toContainEqual(['cat', 'variable', 0]);
    expect(tokens).toContainEqual(['steps', 'parameter', 0]);
    expect(tokens).toContainEqual(['linear', 'enumMember', 2]);
    expect(tokens.filter(([s]) => s === 'nosuch')).toEqual([]); // unresolved: left to the diagnostic
    expect(semanticTokens(a.view).data.length).toBe(tokens.length * 5);
    const firstLines = semanticTokens(a.view, { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }).data;
    expect(firstLines.length).toBe(4 * 5); // study; model, slim, zoo
  });
});

describe('signature help', () => {
  it('shows a call\'s arguments with the current one active', () => {
    const a = at('degrade d degradation=blur(sigma=2, <|>', dir, undefined, CATALOGUE_WITH_CALLS);
    const help = signatureHelp(a.view, a.position)!;
    expect(help.signatures[0]?.label).toBe('blur(sigma=number >= 0, size=21)');
    expect(help.activeParameter).toBe(1);
    const b = at('degrade d degradation=blur(si<|>', dir, undefined, CATALOGUE_WITH_CALLS);
    expect(signatureHelp(b.view, b.position)?.activeParameter).toBe(0);
  });

  it('shows a tuple\'s fields', () => {
    const a = at('lam e window=(110, 150, <|>', dir);
    const help = signatureHelp(a.view, a.position)!;
    expect(help.signatures[0]?.label).toBe('window=(x,y,w,h)');
    expect(help.activeParameter).toBe(2);
  });

  it('completes call names and arguments from the catalogue', () => {
    const a = at('degrade d degradation=<|>', dir, undefined, CATALOGUE_WITH_CALLS);
    const items = completion(a.view, a.position, a.env).items;
    expect(items.map((i) => i.label)).toEqual(['blur', 'noise']);
    expect(items[0]?.textEdit).toMatchObject({ newText: 'blur(sigma=${1}, size=${2:21})' });
    const b = at('degrade d degradation=blur(sigma=2, <|>)', dir, undefined, CATALOGUE_WITH_CALLS);
    expect(completion(b.view, b.position, b.env).items.map((i) => i.label)).toEqual(['size']);
  });
});

describe('inlay hints', () => {
  it('shows the defaults a statement leaves out, at its end', () => {
    const a = at(STUDY, dir);
    const hints = inlayHints(a.view).filter((h) => h.position.line === 4);
    const labels = hints.map((h) => h.label as string);
    expect(labels.slice(0, 4)).toEqual(['path=progressive-blur', 'sigma=1.2', 'kernel=9', 'detector=gradient']);
    // Given parameters and those without a default (required ones) get no hint.
    expect(labels.filter((l) => /^(steps|model|image|window)=/.test(l))).toEqual([]);
    expect(hints.every((h) => h.position.character === '    steps=8'.length)).toBe(true);
    expect(inlayHints(a.view, { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }).map((h) => h.label)).toEqual(['device=auto', 'seed=0']);
  });
});

describe('code actions', () => {
  /** The actions offered for the diagnostics of one code, as an editor asks at a squiggle. */
  function actions(text: string, code: string) {
    const a = at(text, dir);
    const diags = a.view.check.diagnostics.map(toLspDiagnostic).filter((d) => d.code === code);
    expect(diags.length).toBeGreaterThan(0);
    return codeActions(a.view, diags[0]!.range, diags, a.env);
  }

  it('applies the did-you-mean suggestion', () => {
    const [fix] = actions('lam e stpes=5', 'unknown-param');
    expect(fix).toMatchObject({ title: 'Change to `steps`', isPreferred: true });
    expect(JSON.stringify(fix)).toContain('"newText":"steps"');
  });

  it('adds a missing required parameter with a value that fits', () => {
    const text = 'image cat file="images/chelsea.png"\nlam e window=(0,0,4,4) model=m\nmodel m zoo="esrgan-slim/x4"';
    expect(actions(text, 'missing-param').map((a) => a.title)).toEqual(['Add `image=cat`']);
    const edit = JSON.stringify(actions(text, 'missing-param')[0]);
    expect(edit).toContain('"newText":" image=cat"');
    // One of file= or zoo=: both offered; the path is left to fill in, the zoo id is an installed one.
    const titles = actions('model m', 'missing-param').map((a) => a.title);
    expect(titles[0]).toBe('Add `file=""`');
    expect(titles[1]).toMatch(/^Add `zoo="[a-z0-9-]+\/x[0-9]"`$|^Add `zoo=""`$/);
  });

  it('offers to install a zoo package that is missing, as an editor command', () => {
    const a = at('model m zoo="rdn/x<|>4"', dir);
    const z = a.env.zoo(dir).find((e) => e.id === 'rdn/x4')!;
    const found = codeActions(a.view, { start: a.position, end: a.position }, [], a.env);
    if (z.installed) expect(found).toEqual([]);
    else expect(found[0]).toMatchObject({ command: { command: 'lvi.installPackage', arguments: [z.package, dir] } });
  });
});

describe('code lenses and the report path', () => {
  it('puts Run above each analysis and Run study above the first statement', () => {
    const a = at(STUDY, dir);
    expect(codeLenses(a.view).map((l) => [l.range.start.line, l.command?.title, l.command?.arguments?.[1]])).toEqual([
      [0, '▶ Run study', undefined],
      [0, 'Open report', undefined],
      [3, '▶ Run edge', 'edge'],
    ]);
  });

  it('finds the report where lvi run writes it', () => {
    expect(reportPath(at(STUDY, dir).view)).toEqual({ path: path.join(dir, 'out', 's', 'report.html'), exists: false });
    expect(reportPath(at('study out="res"\nreport file="r/x.html"', dir).view).path).toBe(path.join(dir, 'r', 'x.html'));
    expect(reportPath(at('model m zoo="esrgan-slim/x4"', dir).view).path).toBe(path.join(dir, 'out', 'study', 'report.html'));
  });
});
