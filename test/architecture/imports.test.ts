// The architecture as the import graph has it: no cycles between files or between folders, the
// language (grammar/) never imports the runtime, and what the editor loads never loads ONNX
// Runtime. Static imports only: a lazy `import()` (KindSpec.load) is how the catalogue names a
// kind's runners without loading them.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const roots = ['src', 'grammar'].map((d) => path.join(repoRoot, d));

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Static imports and re-exports of a file, resolved to files of the project (type-only ones too). */
function importsOf(file: string): string[] {
  const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const out: string[] = [];
  for (const st of src.statements) {
    const spec = (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier) ? st.moduleSpecifier.text : undefined;
    if (!spec?.startsWith('.')) continue;
    const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
    if (fs.existsSync(target)) out.push(target);
  }
  return out;
}

const files = roots.flatMap(sourceFiles);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f: string) => path.relative(repoRoot, f).split(path.sep).join('/');

/** Strongly connected components with more than one member (Tarjan). */
function cycles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('the import graph', () => {
  test('has no cycle between files', () => {
    expect(cycles(graph).map((c) => c.map(rel))).toEqual([]);
  });

  test('has no cycle between folders', () => {
    // A unit is a layer folder: grammar/, src/<layer>/, src/runtime/<part>/ or a method's folder;
    // sub-folders below it (grammar/kinds, cli/commands, compiler/generated) belong to it.
    const folder = (f: string) => {
      const parts = rel(path.dirname(f)).split('/');
      if (parts[0] === 'grammar') return 'grammar';
      if (parts[1] === 'runtime' && parts[2] === 'methods') return parts.slice(0, 4).join('/');
      return parts.slice(0, parts[1] === 'runtime' ? 3 : 2).join('/');
    };
    const g = new Map<string, Set<string>>();
    for (const [f, deps] of graph) {
      const from = folder(f);
      if (!g.has(from)) g.set(from, new Set());
      for (const d of deps) if (folder(d) !== from) g.get(from)!.add(folder(d));
    }
    expect(cycles(new Map([...g].map(([k, v]) => [k, [...v]])))).toEqual([]);
  });

  test('grammar/ (the language) imports nothing from src/', () => {
    const bad = [...graph].filter(([f]) => rel(f).startsWith('grammar/')).flatMap(([f, deps]) => deps.filter((d) => rel(d).startsWith('src/')).map((d) => `${rel(f)} -> ${rel(d)}`));
    expect(bad).toEqual([]);
  });

  test('the compiler and the language server never load ONNX Runtime', () => {
    const reach = (start: string[]) => {
      const seen = new Set<string>();
      const todo = [...start];
      while (todo.length) {
        const f = todo.pop()!;
        if (seen.has(f)) continue;
        seen.add(f);
        todo.push(...(graph.get(f) ?? []));
      }
      return seen;
    };
    const entry = files.filter((f) => /^src\/(compiler|lsp)\//.test(rel(f)));
    const loaded = [...reach(entry)];
    const ort = loaded.filter((f) => /from ['"]onnxruntime-node['"]/.test(fs.readFileSync(f, 'utf8')));
    expect(ort.map(rel)).toEqual([]);
  });
});
