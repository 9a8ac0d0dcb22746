// Completion: statement kinds, the parameters of the statement at the cursor, allowed values,
// references filtered by the kind a parameter expects, file paths relative to the study, zoo
// ids and layer names of the referenced model. The cursor's context comes from scan.ts, which
// reads half-typed lines the parser cannot.
import fs from 'node:fs';
import path from 'node:path';
import {
  CompletionItemKind,
  InsertTextFormat,
  MarkupKind,
  type CompletionItem,
  type CompletionList,
  type Position,
  type Range,
} from 'vscode-languageserver';
import { callFunction, describeType, refKinds, type KindSpec, type ParamSpec, type ParamType } from '../../grammar/catalogue.js';
import { LineIndex } from '../compiler/diagnostics.js';
import { callArgsMarkdown, defaultText, exampleValue, kindMarkdown, paramMarkdown, quoted, snippetText, valueSnippet, writeDefault } from './docs.js';
import type { Environment } from './environment.js';
import type { LayerSummary, ModelSummary } from './model-summary.js';
import { scanCursor, type CursorContext } from './scan.js';
import { modelRefOf, offsetAt, rangeOf, statementNamed, statements, studyDir, type StudyView } from './study.js';

/** Re-open the suggestion list after inserting `key=`, so values are offered at once. */
const TRIGGER_SUGGEST = { title: 'values', command: 'editor.action.triggerSuggest' };

export const COMPLETION_TRIGGERS = ['=', '[', '(', ',', '"', "'", '/'];

/** Most entries listed from one folder. */
const MAX_DIR_ENTRIES = 500;

/**
 * Completion at `position` of `text`: the editor's current text, which may be a keystroke ahead
 * of the view's parse. The cursor's context is read from that text; declared names come from
 * the view (at most one parse behind), so completion never waits for a parse.
 */
export function completion(view: StudyView, position: Position, env: Environment, text = view.parsed.text): CompletionList {
  const current = text === view.parsed.text ? view.parsed : { text, lines: new LineIndex(text) };
  const offset = offsetAt(current, position);
  const scan = scanCursor(text, offset);
  const ctx = scan.context;
  const range = (c: { from: number; to: number }) => rangeOf(current, c.from, c.to);
  const list = (items: CompletionItem[], isIncomplete = false): CompletionList => ({ isIncomplete, items });
  switch (ctx.type) {
    case 'kind':
      return list(kindItems(view, range(ctx)));
    case 'key': {
      const spec = view.catalogue[ctx.kind];
      return list(spec ? keyItems(ctx.kind, spec, ctx.present, range(ctx)) : []);
    }
    case 'value': {
      const pspec = view.catalogue[ctx.kind]?.params[ctx.key];
      if (!pspec) return list([]);
      return valueItems(view, env, ctx, pspec, scan.name, range(ctx));
    }
    case 'call-key': {
      const fn = callFunction(view.catalogue[ctx.kind]?.params[ctx.key]?.type, ctx.call);
      if (!fn) return list([]);
      const items = Object.entries(fn.args)
        .filter(([k]) => !ctx.present.includes(k) || k === ctx.prefix)
        .map(([k, a], i): CompletionItem => ({
          label: k,
          kind: CompletionItemKind.Property,
          detail: describeType(a.type),
          documentation: { kind: MarkupKind.Markdown, value: paramMarkdown(ctx.call, k, a) },
          insertTextFormat: InsertTextFormat.Snippet,
          textEdit: { range: range(ctx), newText: `${k}=${valueSnippet(a, 1)}` },
          sortText: `${a.required ? 0 : 1}${String(i).padStart(3, '0')}`,
        }));
      return list(items);
    }
    case 'call-value': {
      const a = callFunction(view.catalogue[ctx.kind]?.params[ctx.key]?.type, ctx.call)?.args[ctx.arg];
      if (!a) return list([]);
      return list(simpleValueItems(a.type, a, range(ctx)));
    }
    case 'none':
      return list([]);
  }
}

function kindItems(view: StudyView, range: Range): CompletionItem[] {
  const present = new Set(statements(view).map((s) => s.kind));
  return Object.entries(view.catalogue)
    .filter(([kind, spec]) => !spec.single || !present.has(kind))
    .map(([kind, spec], i): CompletionItem => ({
      label: kind,
      kind: CompletionItemKind.Keyword,
      detail: spec.doc,
      documentation: { kind: MarkupKind.Markdown, value: kindMarkdown(kind, spec) },
      insertTextFormat: InsertTextFormat.Snippet,
      textEdit: { range, newText: statementSnippet(kind, spec) },
      sortText: String(i).padStart(3, '0'),
    }));
}

/** `lam ${1:name} model=$2 image=$3 window=(...)`: the kind, a name and what it requires. */
export function statementSnippet(kind: string, spec: KindSpec): string {
  let n = 1;
  const parts = [kind];
  // Analyses are named too: tables and reports refer to them by name.
  if (spec.nameIsString) parts.push(`"\${${n++}:name}"`);
  else if (spec.name === 'required' || spec.analysis) parts.push(`\${${n++}:name}`);
  const required = [
    ...Object.entries(spec.params).filter(([, p]) => p.required).map(([k]) => k),
    ...(spec.oneOf ?? []).map((g) => g[0]!),
  ];
  for (const key of required) {
    const p = spec.params[key]!;
    // The example's references name statements of the example, not of this study.
    const value = valueSnippet(p, n, p.type.type === 'ref' ? undefined : exampleValue(spec, key));
    n += p.type.type === 'tuple' ? p.type.length : 1;
    parts.push(`${key}=${value}`);
  }
  return `${parts.join(' ')}$0`;
}

function keyItems(kind: string, spec: KindSpec, present: string[], range: Range): CompletionItem[] {
  return Object.entries(spec.params)
    .filter(([k, p]) => !present.includes(k) && !p.positional)
    .map(([k, p], i): CompletionItem => {
      const d = defaultText(p);
      const wantsValues = ['ref', 'enum', 'path', 'string', 'call', 'list', 'bool', 'union'].includes(p.type.type);
      const item: CompletionItem = {
        label: k,
        kind: CompletionItemKind.Property,
        detail: `${describeType(p.type)}${p.required ? ' (required)' : d !== undefined ? ` = ${d}` : ''}`,
        documentation: { kind: MarkupKind.Markdown, value: paramMarkdown(kind, k, p) },
        insertTextFormat: InsertTextFormat.Snippet,
        textEdit: { range, newText: `${k}=${keySnippetValue(spec, k, p)}` },
        // Required parameters first, the rest in catalogue order.
        sortText: `${p.required || spec.oneOf?.some((g) => g.includes(k)) ? 0 : 1}${String(i).padStart(3, '0')}`,
      };
      if (wantsValues && p.default === undefined) item.command = TRIGGER_SUGGEST;
      return item;
    });
}

function keySnippetValue(spec: KindSpec, key: string, p: ParamSpec): string {
  // References, paths and ids are chosen from the value list that opens next; others get a
  // placeholder with the default.
  if (p.default === undefined && ['ref', 'path', 'string', 'list'].includes(p.type.type)) {
    return quoted(p.type) ? '"$1"' : '$1';
  }
  return valueSnippet(p, 1, p.type.type === 'ref' ? undefined : exampleValue(spec, key));
}

function valueItems(
  view: StudyView,
  env: Environment,
  ctx: Extract<CursorContext, { type: 'value' }>,
  spec: ParamSpec,
  selfName: string | undefined,
  range: Range,
): CompletionList {
  const t = spec.type;
  const items: CompletionItem[] = [];
  let isIncomplete = false;
  const inString = ctx.inString !== undefined;
  const dir = studyDir(view);

  // Paths: complete inside the quotes, or open them.
  const pathType = findType(t, 'path');
  if (pathType && pathType.type === 'path' && dir) {
    items.push(...pathItems(dir, ctx.prefix, pathType, inString, range));
  }
  // Zoo ids are the strings of `zoo=`.
  if (ctx.key === 'zoo' && findType(t, 'string')) {
    for (const z of env.zoo(dir)) {
      items.push({
        label: z.id,
        kind: CompletionItemKind.Module,
        detail: `${z.description}${z.installed ? '' : ' — not installed'}`,
        documentation: {
          kind: MarkupKind.Markdown,
          value: `x${z.scale}, trained on 0..${z.range === 255 ? 255 : 1}, from \`${z.package}\`` +
            (z.installed ? '' : `\n\nInstall it with \`npm install ${z.package}\`.`),
        },
        textEdit: { range, newText: inString ? z.id : JSON.stringify(z.id) },
        sortText: `${z.installed ? 0 : 1}${z.id}`,
      });
    }
  }
  // Layer names of the model(s) this statement references (`features model=m layer=`, or a
  // sweep `model=[a, b]`: the names every listed model has first, then those only some have).
  if (/^layers?$/.test(ctx.key) && findType(t, 'string')) {
    const st = statements(view).find((s) => s.name === selfName || (!s.name && s.kind === ctx.kind));
    const modelValue = st?.params?.find((p) => p?.key === 'model')?.value;
    const names = modelValue?.$type === 'NameLit' ? [modelValue.name]
      : modelValue?.$type === 'ListLit' ? (modelValue.items ?? []).flatMap((v) => (v?.$type === 'NameLit' ? [v.name] : []))
      : [];
    const ready: { name: string; summary: ModelSummary }[] = [];
    for (const name of names) {
      const modelSt = statementNamed(view, name);
      const ref = modelSt ? modelRefOf(view, modelSt) : undefined;
      if (!ref) continue;
      const state = env.models.peek(ref);
      if (state.status === 'ready') ready.push({ name, summary: state.summary });
      else if (state.status === 'loading') isIncomplete = true; // asked again as the user types, by when the model is read
    }
    const seen = new Map<string, { layer: LayerSummary; probe?: [number, number]; order: number; in: string[] }>();
    for (const { name, summary } of ready) {
      summary.layers.forEach((layer) => {
        const entry = seen.get(layer.name) ?? { layer, probe: summary.probe, order: seen.size, in: [] };
        entry.in.push(name);
        seen.set(layer.name, entry);
      });
    }
    for (const { layer, probe, order, in: models } of seen.values()) {
      const everywhere = models.length === ready.length;
      items.push({
        label: layer.name,
        kind: CompletionItemKind.Field,
        detail: `${layer.opType} ${layer.node} → [${layer.shape.join(', ')}]${everywhere ? '' : ` — only in ${models.join(', ')}`}`,
        documentation: probe
          ? { kind: MarkupKind.Markdown, value: `Output of \`${layer.node}\` (${layer.opType}), shape [${layer.shape.join(', ')}] for a ${probe[0]}×${probe[1]} input.` }
          : undefined,
        textEdit: { range, newText: inString ? layer.name : JSON.stringify(layer.name) },
        sortText: `${everywhere ? 0 : 1}${String(order).padStart(5, '0')}`,
      });
    }
  }
  if (inString) return { isIncomplete, items };

  // References to statements of the expected kinds (not the statement itself).
  const refType = findType(t, 'ref');
  if (refType && refType.type === 'ref') {
    const kinds = refKinds(refType.kinds, view.catalogue);
    for (const use of view.uses) {
      if (!use.declaration || use.name === selfName || !kinds.includes(use.statement.kind)) continue;
      const line = view.parsed.lines.lineText(use.range.start.line).trim();
      items.push({
        label: use.name,
        kind: use.statement.kind === 'model' ? CompletionItemKind.Class : CompletionItemKind.Variable,
        detail: use.statement.kind,
        documentation: { kind: MarkupKind.Markdown, value: `\`\`\`lvi\n${line}\n\`\`\`` },
        textEdit: { range, newText: use.name },
        sortText: `0${use.name}`,
      });
    }
  }
  items.push(...simpleValueItems(t, spec, range));
  return { isIncomplete, items };
}

/** Words, calls and defaults a type offers (no references, paths or ids). */
function simpleValueItems(t: ParamType, spec: ParamSpec, range: Range): CompletionItem[] {
  const items: CompletionItem[] = [];
  const seen = new Set<string>();
  const add = (item: CompletionItem) => {
    if (seen.has(item.label)) return;
    seen.add(item.label);
    items.push(item);
  };
  const def = spec.default !== undefined ? writeDefault(spec.default, spec.type) : undefined;
  const visit = (u: ParamType): void => {
    switch (u.type) {
      case 'enum':
      case 'bool':
        for (const v of u.type === 'enum' ? u.values : ['true', 'false']) {
          add({
            label: v,
            kind: CompletionItemKind.EnumMember,
            detail: v === def ? 'default' : undefined,
            textEdit: { range, newText: v },
            sortText: `${v === def ? 0 : 1}${v}`,
          });
        }
        break;
      case 'call':
        for (const [fn, f] of Object.entries(u.functions)) {
          const args = Object.entries(f.args).filter(([, a]) => a.required || a.default !== undefined);
          add({
            label: fn,
            kind: CompletionItemKind.Function,
            detail: f.doc,
            documentation: {
              kind: MarkupKind.Markdown,
              value: [f.doc, '', ...callArgsMarkdown(f)].join('\n'),
            },
            insertTextFormat: InsertTextFormat.Snippet,
            textEdit: { range, newText: `${fn}(${args.map(([k, a], i) => `${k}=${valueSnippet(a, i + 1)}`).join(', ')})` },
          });
        }
        break;
      case 'list':
        visit(u.of);
        break;
      case 'union':
        u.of.forEach(visit);
        break;
      case 'tuple':
        add({
          label: `(${u.names.join(',')})`,
          kind: CompletionItemKind.Value,
          detail: describeType(u),
          insertTextFormat: InsertTextFormat.Snippet,
          textEdit: { range, newText: `(${u.names.map((n, i) => `\${${i + 1}:${snippetText(n)}}`).join(',')})` },
        });
        break;
      case 'int':
      case 'number':
      case 'percent':
      case 'range':
        if (def !== undefined && !Array.isArray(spec.default)) {
          add({ label: def, kind: CompletionItemKind.Value, detail: 'default', textEdit: { range, newText: def } });
        }
        break;
      default:
        break;
    }
  };
  visit(t);
  return items;
}

/** The first alternative of a type (through lists and unions) of the given kind. */
function findType(t: ParamType, type: ParamType['type']): ParamType | undefined {
  if (t.type === type) return t;
  if (t.type === 'list') return findType(t.of, type);
  if (t.type === 'union') {
    for (const u of t.of) {
      const f = findType(u, type);
      if (f) return f;
    }
  }
  return undefined;
}

/** Files and folders in the study's folder and below matching what is typed so far. */
function pathItems(
  studyDirectory: string,
  typed: string,
  t: Extract<ParamType, { type: 'path' }>,
  inString: boolean,
  range: Range,
): CompletionItem[] {
  const slash = typed.lastIndexOf('/');
  const sub = slash >= 0 ? typed.slice(0, slash + 1) : '';
  const folder = path.resolve(studyDirectory, sub || '.');
  // Only the study's folder and below: a study is confined there (its outputs are), and
  // `../../../` must not list the machine's file system.
  const within = path.relative(studyDirectory, folder);
  if (within === '..' || within.startsWith(`..${path.sep}`) || path.isAbsolute(within)) return [];
  let entries: fs.Dirent[];
  try {
    entries = fs
      .readdirSync(folder, { withFileTypes: true })
      .slice(0, MAX_DIR_ENTRIES)
      .sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
  const showHidden = typed.slice(slash + 1).startsWith('.');
  const items: CompletionItem[] = [];
  for (const e of entries) {
    if (!showHidden && e.name.startsWith('.')) continue;
    if (e.name === 'node_modules') continue;
    let isDir = e.isDirectory();
    if (e.isSymbolicLink()) {
      try {
        isDir = fs.statSync(path.join(folder, e.name)).isDirectory();
      } catch {
        continue;
      }
    }
    if (!isDir && (t.directory || (t.extensions && !t.extensions.includes(path.extname(e.name).toLowerCase())))) continue;
    const rel = `${sub}${e.name}${isDir ? '/' : ''}`;
    const item: CompletionItem = {
      label: rel,
      kind: isDir ? CompletionItemKind.Folder : CompletionItemKind.File,
      // Inside quotes the client filters by what is typed, including the folder part.
      filterText: rel,
      sortText: `${isDir && !t.directory ? 1 : 0}${rel}`,
    };
    if (inString) {
      item.textEdit = { range, newText: rel };
    } else {
      item.textEdit = { range, newText: isDir ? `"${rel}` : JSON.stringify(rel) };
    }
    if (isDir && !t.directory) item.command = TRIGGER_SUGGEST;
    items.push(item);
  }
  return items;
}
