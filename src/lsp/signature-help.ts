// Signature help inside calls (`blur(sigma=2, |`) and tuples (`window=(110, |`): the arguments
// with their documentation, the one being typed highlighted.
import { MarkupKind, type ParameterInformation, type Position, type SignatureHelp } from 'vscode-languageserver';
import { callFunction, describeType } from '../../grammar/catalogue.js';
import { defaultText } from './docs.js';
import { scanCursor } from './scan.js';
import { offsetAt, type StudyView } from './study.js';

export const SIGNATURE_TRIGGERS = ['(', ','];

export function signatureHelp(view: StudyView, position: Position): SignatureHelp | undefined {
  const offset = offsetAt(view.parsed, position);
  const scan = scanCursor(view.parsed.text, offset);
  const ctx = scan.context;
  if (scan.call) {
    const { kind, key, call, index, arg } = scan.call;
    const pspec = view.catalogue[kind]?.params[key];
    const fn = callFunction(pspec?.type, call);
    if (!fn) return undefined;
    const args = Object.entries(fn.args);
    let label = `${call}(`;
    const parameters: ParameterInformation[] = args.map(([k, a], i) => {
      if (i > 0) label += ', ';
      const d = defaultText(a);
      const text = `${k}=${d ?? describeType(a.type)}`;
      const start = label.length;
      label += text;
      return { label: [start, label.length], documentation: { kind: MarkupKind.Markdown, value: `${a.doc} (${describeType(a.type)})` } };
    });
    label += ')';
    // The argument being typed: by its key once written, else by position.
    const byKey = arg ? args.findIndex(([k]) => k === arg) : -1;
    return {
      signatures: [{ label, documentation: fn.doc, parameters }],
      activeSignature: 0,
      activeParameter: byKey >= 0 ? byKey : Math.min(index, Math.max(0, args.length - 1)),
    };
  }
  if (ctx.type === 'value' && ctx.inTuple) {
    const pspec = view.catalogue[ctx.kind]?.params[ctx.key];
    const t = pspec?.type;
    if (!pspec || t?.type !== 'tuple') return undefined;
    // Which item: count the commas between the tuple's `(` and the cursor.
    const text = view.parsed.text;
    const open = text.lastIndexOf('(', offset - 1);
    const index = (text.slice(open + 1, offset).match(/,/g) ?? []).length;
    let label = `${ctx.key}=(`;
    const parameters: ParameterInformation[] = t.names.map((n, i) => {
      if (i > 0) label += ',';
      const start = label.length;
      label += n;
      return { label: [start, label.length] };
    });
    label += ')';
    return {
      signatures: [{ label, documentation: { kind: MarkupKind.Markdown, value: pspec.doc }, parameters }],
      activeSignature: 0,
      activeParameter: Math.min(index, t.names.length - 1),
    };
  }
  return undefined;
}
