// Catalogue entries as the editor shows them: markdown for hover and completion, default values
// as they are written in a study, snippets for completion.
import { describeType, type CallFunction, type KindSpec, type ParamSpec } from '../../grammar/catalogue.js';
import { defaultText, quoted, writeDefault } from '../compiler/docs.js';

export { defaultText, quoted, writeDefault };

/** Markdown for one parameter: documentation, type, default, whether it sweeps. */
export function paramMarkdown(kind: string, key: string, spec: ParamSpec): string {
  const lines = [`**${kind} ${key}=** — ${spec.doc}`, '', `- type: ${describeType(spec.type)}`];
  if (spec.required) lines.push('- required');
  const d = defaultText(spec);
  if (d !== undefined) lines.push(`- default: ${spec.default !== undefined ? `\`${d}\`` : d}`);
  if (spec.sweep) lines.push('- a list `[a, b]` runs the statement once per value (a sweep)');
  return lines.join('\n');
}

export function kindMarkdown(kind: string, spec: KindSpec): string {
  const params = Object.entries(spec.params).map(([k, p]) => {
    const d = defaultText(p);
    const note = p.required ? 'required' : d !== undefined ? `default ${p.default !== undefined ? `\`${d}\`` : d}` : 'optional';
    return `- \`${k}=\` ${describeType(p.type)} (${note})`;
  });
  const groups = (spec.oneOf ?? []).map((g) => `- one of ${g.map((k) => `\`${k}=\``).join(', ')}`);
  return [`**${kind}** — ${spec.doc}`, '', ...params, ...groups, '', '```lvi', spec.example, '```'].join('\n');
}

/** A call function's arguments, one markdown bullet each (hover and completion show them). */
export function callArgsMarkdown(fn: CallFunction): string[] {
  return Object.entries(fn.args).map(([k, a]) => `- \`${k}=\` ${a.doc} (${describeType(a.type)})`);
}

/** Escape text for a snippet placeholder. */
export function snippetText(s: string): string {
  return s.replace(/[$}\\|,]/g, '\\$&');
}

/** The value a snippet proposes for a parameter: its default, its example's value, or a hint. */
export function valueSnippet(spec: ParamSpec, index: number, exampleValue?: string): string {
  const t = spec.type;
  if (t.type === 'enum') {
    const first = spec.default !== undefined ? String(spec.default) : undefined;
    const values = first ? [first, ...t.values.filter((v) => v !== first)] : t.values;
    return `\${${index}|${values.map(snippetText).join(',')}|}`;
  }
  if (t.type === 'tuple') {
    const ex = exampleValue?.match(/^\((.*)\)$/)?.[1]?.split(',');
    return `(${t.names.map((n, i) => `\${${index + i}:${snippetText(ex?.[i]?.trim() ?? n)}}`).join(',')})`;
  }
  const d = spec.default !== undefined ? writeDefault(spec.default, t) : exampleValue;
  if (quoted(t)) {
    const inner = d?.replace(/^"(.*)"$/, '$1') ?? '';
    return `"\${${index}${inner ? `:${snippetText(inner)}` : ''}}"`;
  }
  return `\${${index}${d !== undefined ? `:${snippetText(d)}` : ''}}`;
}

/** `key=value` as written in the kind's example, if the example sets it. */
export function exampleValue(spec: KindSpec, key: string): string | undefined {
  const re = new RegExp(`(?:^|\\s)${key.replace(/[-]/g, '\\-')}=("[^"]*"|\\([^)]*\\)|\\[[^\\]]*\\]|[^\\s]+)`);
  return re.exec(spec.example)?.[1];
}
