// What is at a cursor: the statement, the parameter, the value and which part of it. The
// language server's hover, completion and go-to-definition start from here.
import { CstUtils, GrammarUtils, type AstNode, type CstNode } from 'langium';
import { CATALOGUE, type Catalogue, type KindSpec, type ParamSpec } from '../../grammar/catalogue.js';
import { isCallLit, isParam, isStatement, type CallLit, type Param, type Statement, type Value } from './generated/ast.js';
import type { ParsedStudy } from './source.js';

export interface CursorInfo {
  /** kind / name / key of a parameter / inside a value / elsewhere (blank, comment). */
  part: 'kind' | 'name' | 'key' | 'value' | 'none';
  statement?: Statement;
  /** The statement kind's catalogue entry, when the kind is known. */
  kindSpec?: KindSpec;
  /** The statement's parameter under the cursor (for call arguments: the outer parameter). */
  param?: Param;
  paramSpec?: ParamSpec;
  /** The innermost value under the cursor (a list item, a tuple element, a call, ...). */
  value?: Value;
  /** Set when the cursor is on a call's argument: the call and the argument. */
  call?: CallLit;
  arg?: Param;
}

/** What lies at a 0-based offset of the parsed text. */
export function locate(parsed: ParsedStudy, offset: number, catalogue: Catalogue = CATALOGUE): CursorInfo {
  const root = parsed.ast.$cstNode;
  const leaf = root ? CstUtils.findLeafNodeAtOffset(root, offset) ?? CstUtils.findLeafNodeBeforeOffset(root, offset) : undefined;
  if (!leaf || leaf.hidden || offset > leaf.end) return { part: 'none' };
  const chain: AstNode[] = [];
  for (let n: AstNode | undefined = leaf.astNode; n; n = n.$container) chain.push(n);
  const statement = chain.find(isStatement);
  if (!statement) return { part: 'none' };
  const info: CursorInfo = { part: 'none', statement, kindSpec: catalogue[statement.kind] };
  const within = (c: CstNode | undefined) => !!c && c.offset <= leaf.offset && leaf.end <= c.end;
  if (within(GrammarUtils.findNodeForProperty(statement.$cstNode, 'kind'))) return { ...info, part: 'kind' };
  if (within(GrammarUtils.findNodeForProperty(statement.$cstNode, 'name'))) return { ...info, part: 'name' };
  const params = chain.filter(isParam);
  const param = params[params.length - 1]; // the outermost: the statement's own parameter
  if (!param) return info;
  info.param = param;
  info.paramSpec = info.kindSpec?.params[param.key];
  const inner = params[0];
  if (inner !== param && isCallLit(inner.$container)) {
    info.call = inner.$container;
    info.arg = inner;
  }
  if (within(GrammarUtils.findNodeForProperty(inner.$cstNode, 'key'))) return { ...info, part: 'key' };
  // The leaf's own node is the innermost value, unless the cursor is on a parameter's `=`.
  if (!isParam(chain[0])) info.value = chain[0] as Value;
  return { ...info, part: 'value' };
}
