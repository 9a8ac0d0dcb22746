// docs/language.md, generated from the catalogue (scripts/gen-docs.ts writes it; a test keeps it current),
// and how a default is written in a study, which the editor shows too.
import { CATALOGUE, describeType, type Catalogue, type DefaultValue, type ParamSpec, type ParamType } from '../../grammar/catalogue.js';
import { DIAGNOSTIC_CODES } from './diagnostics.js';

/** A default as it would be written in a study (`progressive-blur`, `"*.png"`, `[model, di]`). */
export function writeDefault(d: DefaultValue, t?: ParamType): string {
  if (Array.isArray(d)) return `[${d.map((x) => writeDefault(x, t?.type === 'list' ? t.of : t)).join(', ')}]`;
  if (typeof d === 'object') return 'range' in d ? `${d.range[0]}..${d.range[1]}` : `${d.percent}%`;
  if (typeof d === 'string') return quoted(t) ? JSON.stringify(d) : d;
  return String(d);
}

/** Whether values of this type are written in quotes. */
export function quoted(t?: ParamType): boolean {
  return t?.type === 'string' || t?.type === 'path';
}

/** The default as written, else the words that say what it is (`defaultDoc`). */
export function defaultText(spec: ParamSpec): string | undefined {
  if (spec.default !== undefined) return writeDefault(spec.default, spec.type);
  return spec.defaultDoc;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function paramRow(name: string, p: ParamSpec, catalogue: Catalogue): string {
  const def = p.required ? 'required' : p.default !== undefined ? `\`${writeDefault(p.default, p.type)}\`` : (p.defaultDoc ?? '');
  const flags = [p.sweep ? 'yes' : ''].join('');
  return `| \`${name}\` | ${cell(describeType(p.type, catalogue))} | ${cell(def)} | ${flags} | ${cell(p.note ? `${p.doc} ${p.note}` : p.doc)} |`;
}

/** Markdown hover for a statement kind (the language server shows it on the kind word). */
export function kindHover(kind: string, catalogue: Catalogue = CATALOGUE): string | undefined {
  const spec = catalogue[kind];
  if (!spec) return undefined;
  const params = Object.entries(spec.params).map(([k, p]) => `\`${k}\`${p.required ? ' (required)' : ''}`);
  return [`**${kind}**: ${spec.doc}`, '', `Parameters: ${params.join(', ')}`, '', '```lvi', spec.example, '```'].join('\n');
}

/** Markdown hover for a parameter of a kind: type, default, sweepability, doc and caveats. */
export function paramHover(kind: string, key: string, catalogue: Catalogue = CATALOGUE): string | undefined {
  const p = catalogue[kind]?.params[key];
  if (!p) return undefined;
  const def = defaultText(p);
  const facts = [
    `type: ${describeType(p.type, catalogue)}`,
    p.required ? 'required' : def !== undefined ? `default: ${def}` : 'optional',
    ...(p.sweep ? ['a list sweeps it'] : []),
  ];
  return [`**${kind} ${key}**: ${p.doc}`, '', facts.join(' · '), ...(p.note ? ['', p.note] : [])].join('\n');
}

export function renderLanguageReference(catalogue: Catalogue = CATALOGUE): string {
  const out: string[] = [
    '# The .lvi language',
    '',
    '<!-- Generated from grammar/catalogue.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'A study is a list of statements `kind [name] key=value ...`. A statement starts at the',
    'beginning of a line; an indented line continues it. `#` starts a comment.',
    '',
    'Values: integers and decimals (`50`, `1.2`, `-3`), percentages (`5%`), strings (`"a.png"`),',
    'names (`slim`, `progressive-blur`), tuples (`(110,150,16,16)`), lists (`[a, b]`), calls with',
    'named arguments (`blur(sigma=2)`) and ranges (`0..1`). Paths are relative to the study file.',
    '',
    'A list given where one value is expected is a **sweep**: the statement runs once for every',
    'combination of its swept parameters, and its name stands for the whole family.',
    '',
    '## Statement kinds',
    '',
  ];
  for (const [kind, spec] of Object.entries(catalogue)) {
    out.push(`- [\`${kind}\`](#${kind}): ${spec.doc}`);
  }
  for (const [kind, spec] of Object.entries(catalogue)) {
    out.push('', `## ${kind}`, '', spec.doc, '');
    const naming =
      spec.name === 'required' ? 'A name is required.' : `The name is optional${spec.nameIsString ? ' (a string)' : ''}.`;
    const notes = [naming];
    if (spec.single) notes.push('At most one per study.');
    for (const g of spec.oneOf ?? []) notes.push(`Give exactly one of ${g.map((k) => `\`${k}\``).join(', ')}.`);
    notes.push(spec.runner ? `Runs as plan node kind \`${spec.runner}\`.` : 'Settings for the whole plan (no node of its own).');
    out.push(notes.join(' '), '');
    out.push('```lvi', spec.example, '```', '');
    out.push('| parameter | type | default | sweep | description |', '| --- | --- | --- | --- | --- |');
    for (const [name, p] of Object.entries(spec.params)) out.push(paramRow(name, p, catalogue));
  }
  out.push('', '## Diagnostic codes', '', '| code | meaning |', '| --- | --- |');
  for (const [code, meaning] of Object.entries(DIAGNOSTIC_CODES)) out.push(`| \`${code}\` | ${cell(meaning)} |`);
  return `${out.join('\n')}\n`;
}
