// The checker: every statement against the catalogue. It reports every mistake of a file (one
// diagnostic per mistake, each at its place) and returns the typed statements the compiler uses.
import fs from 'node:fs';
import path from 'node:path';
import { GrammarUtils, type AstNode, type CstNode } from 'langium';
import {
  CATALOGUE,
  describeType,
  refKinds,
  type Catalogue,
  type KindSpec,
  type ParamSpec,
  type ParamType,
} from '../../grammar/catalogue.js';
import type { ResolvedValue } from './plan.js';
import { makeDiagnostic, sortDiagnostics, type DiagnosticCode, type LviDiagnostic, type Range, type Suggestion } from './diagnostics.js';
import type { Param, Statement, Value } from './generated/ast.js';
import { studyFolder, type ParsedStudy } from './source.js';
import { imageProblem, imageSize } from './image-size.js';
import { closest } from './suggest.js';
import { runKindCheck } from './kind-check.js';
import { confinePaths } from './confine.js';

/** Paths with these extensions must hold an image the checker can read the size of. */
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

export interface CheckOptions {
  catalogue?: Catalogue;
  /** Stat a path (default: node:fs); return undefined when it does not exist. */
  stat?: (absPath: string) => { isDirectory: boolean } | undefined;
}

/** A parameter's checked value: one value, or a sweep over several. */
export interface CheckedParam {
  key: string;
  node: Param;
  /** Set when a list was given where one value is expected. */
  sweep?: ResolvedValue[];
  value?: ResolvedValue;
}

export interface CheckedStatement {
  node: Statement;
  kind: string;
  spec: KindSpec;
  /** The given name, or the kind itself for optional names. */
  name: string;
  named: boolean;
  /** Given parameters that passed their checks, in source order. */
  params: Map<string, CheckedParam>;
  /** True when anything in this statement was wrong (the compiler skips it). */
  broken: boolean;
}

export interface CheckResult {
  parsed: ParsedStudy;
  diagnostics: LviDiagnostic[];
  statements: CheckedStatement[];
  /** Declared names -> their statements (first declaration wins). */
  symbols: Map<string, CheckedStatement>;
  hasErrors: boolean;
}

interface Symbol {
  kind: string;
  statement?: CheckedStatement;
}

const defaultStat = (p: string) => {
  try {
    return { isDirectory: fs.statSync(p).isDirectory() };
  } catch {
    return undefined;
  }
};

/** Check a parsed study; includes its syntax diagnostics. Pure apart from file-system stats. */
export function checkStudy(parsed: ParsedStudy, options: CheckOptions = {}): CheckResult {
  const checker = new Checker(parsed, options.catalogue ?? CATALOGUE, options.stat ?? defaultStat);
  return checker.run();
}

class Checker {
  private readonly diags: LviDiagnostic[] = [];
  private readonly symbols = new Map<string, Symbol>();
  private readonly baseDir: string | undefined;
  private current: CheckedStatement | undefined;
  /** Where syntax errors are: parts of the AST around them are partial, so checks skip them. */
  private readonly syntaxOffsets: number[];

  constructor(
    private readonly parsed: ParsedStudy,
    readonly catalogue: Catalogue,
    private readonly stat: (p: string) => { isDirectory: boolean } | undefined,
  ) {
    this.syntaxOffsets = parsed.diagnostics.map((d) => parsed.lines.offset(d.range.start));
    // Only studies on disk have a folder that relative paths start from.
    this.baseDir = studyFolder(parsed);
  }

  run(): CheckResult {
    const statements: CheckedStatement[] = [];
    const statementsAst = (this.parsed.ast?.statements ?? []).filter((s): s is Statement => !!s && !!s.kind);
    // Pass 1: kinds and names, so references may point forwards.
    const seenSingle = new Map<string, Statement>();
    for (const st of statementsAst) {
      const spec = this.catalogue[st.kind];
      if (!spec) {
        const guess = closest(st.kind, Object.keys(this.catalogue));
        this.report('unknown-kind', `unknown statement kind \`${st.kind}\`${guess ? `; did you mean \`${guess}\`?` : ''} (kinds: ${Object.keys(this.catalogue).join(', ')})`, this.propRange(st, 'kind'), {
          suggestion: guess ? { text: guess, range: this.propRange(st, 'kind') } : undefined,
          data: { kinds: Object.keys(this.catalogue) },
        });
        if (st.name) this.declare(st.name, { kind: st.kind }, st);
        continue;
      }
      const checked: CheckedStatement = {
        node: st,
        kind: st.kind,
        spec,
        name: st.name ?? st.kind,
        named: st.name !== undefined,
        params: new Map(),
        broken: false,
      };
      if (spec.single) {
        const first = seenSingle.get(st.kind);
        if (first) {
          this.report('duplicate-statement', `a study has at most one \`${st.kind}\` statement; the first is on line ${this.lineOf(first)}`, this.propRange(st, 'kind'));
          checked.broken = true;
        } else seenSingle.set(st.kind, st);
      }
      if (st.name === undefined && spec.name === 'required') {
        this.report('missing-name', `a \`${st.kind}\` statement needs a name so others can refer to it, e.g. \`${spec.example.split(/\s+/).slice(0, 2).join(' ')} ...\``, this.propRange(st, 'kind'));
        checked.broken = true;
      }
      if (st.name !== undefined && !spec.nameIsString && this.nameIsString(st)) {
        this.report('wrong-type', `a \`${st.kind}\` name is a plain word, not a string: write ${st.name.replace(/[^A-Za-z0-9_-]/g, '_')}`, this.propRange(st, 'name'));
        checked.broken = true;
      }
      if (!spec.single) this.declare(checked.name, { kind: st.kind, statement: checked }, st, st.name !== undefined);
      else if (st.name !== undefined && !spec.nameIsString) this.declare(st.name, { kind: st.kind, statement: checked }, st);
      statements.push(checked);
    }
    // Pass 2: parameters.
    for (const checked of statements) {
      this.current = checked;
      this.checkParams(checked);
    }
    // Pass 3: rules across parameters and statements, now that every statement is typed.
    for (const checked of statements) {
      if (!this.hasSyntaxError(checked.node)) runKindCheck(checked, this);
    }
    this.diags.push(...confinePaths(this.parsed, statements));
    const symbols = new Map<string, CheckedStatement>();
    for (const [name, sym] of this.symbols) if (sym.statement) symbols.set(name, sym.statement);
    const diagnostics = sortDiagnostics([...this.parsed.diagnostics, ...this.diags]);
    return {
      parsed: this.parsed,
      diagnostics,
      statements,
      symbols,
      hasErrors: diagnostics.some((d) => d.severity === 'error'),
    };
  }

  private declare(name: string, sym: Symbol, st: Statement, explicit = true): void {
    const prev = this.symbols.get(name);
    if (prev) {
      const where = prev.statement ? ` (first declared on line ${this.lineOf(prev.statement.node)})` : '';
      const message = explicit
        ? `the name \`${name}\` is already used${where}; every statement needs its own name`
        : `a second unnamed \`${st.kind}\` statement would also be called \`${name}\`${where}; give each one a name, e.g. \`${st.kind} ${st.kind}2 ...\``;
      this.report('duplicate-name', message, st.name !== undefined ? this.propRange(st, 'name') : this.propRange(st, 'kind'));
      if (sym.statement) sym.statement.broken = true;
      return;
    }
    this.symbols.set(name, sym);
  }

  private checkParams(checked: CheckedStatement): void {
    const { node: st, spec } = checked;
    const given = new Map<string, Param>();
    // After a syntax error the parser's reading of the rest of the statement is a guess.
    const firstError = this.firstSyntaxError(st);
    // A misspelt parameter is reported once, not again as the parameter that is missing.
    const misspelt = new Set<string>();
    for (const p of st.params) {
      if (!p || !p.key) continue;
      if (!p.value || this.hasSyntaxError(p) || (p.$cstNode?.offset ?? Infinity) >= firstError) {
        checked.broken = true; // a syntax error already says what is wrong here
        continue;
      }
      const pspec = spec.params[p.key];
      if (!pspec) {
        const guess = closest(p.key, Object.keys(spec.params).filter((k) => !given.has(k)));
        if (guess) misspelt.add(guess);
        const range = this.propRange(p, 'key');
        this.report('unknown-param', `\`${st.kind}\` has no parameter \`${p.key}\`${guess ? `; did you mean \`${guess}\`?` : ''} (parameters: ${Object.keys(spec.params).join(', ')})`, range, {
          suggestion: guess ? { text: guess, range } : undefined,
          data: { params: Object.keys(spec.params) },
        });
        checked.broken = true;
        continue;
      }
      if (given.has(p.key)) {
        this.report('duplicate-param', `\`${p.key}\` is given twice; the first is on line ${this.lineOf(given.get(p.key)!)}`, this.propRange(p, 'key'));
        checked.broken = true;
        continue;
      }
      given.set(p.key, p);
      const cp = this.checkParam(p, pspec, `${st.kind} ${p.key}`);
      if (cp) checked.params.set(p.key, cp);
      else checked.broken = true;
    }
    // The positional name of a study doubles as its `name` parameter.
    const positional = Object.entries(spec.params).find(([, s]) => s.positional)?.[0];
    if (positional && st.name !== undefined) {
      if (given.has(positional)) {
        this.report('conflicting-params', `the name is given twice: as \`${st.kind} "${st.name}"\` and as ${positional}=`, this.propRange(given.get(positional)!, 'key'));
        checked.broken = true;
      }
    }
    const head = this.headRange(st);
    // A syntax error may have swallowed parameters: do not guess what is missing.
    if (this.hasSyntaxError(st)) {
      checked.broken = true;
      return;
    }
    for (const [key, pspec] of Object.entries(spec.params)) {
      if (pspec.required && !given.has(key) && !misspelt.has(key)) {
        this.report('missing-param', `\`${st.kind}\` needs \`${key}=\`: ${pspec.doc}`, head, { data: { param: key } });
        checked.broken = true;
      }
    }
    for (const group of spec.oneOf ?? []) {
      const present = group.filter((k) => given.has(k));
      if (present.length === 0 && !group.some((k) => misspelt.has(k))) {
        this.report('missing-param', `\`${st.kind}\` needs ${group.map((k) => `\`${k}=\``).join(' or ')}`, head, { data: { params: group } });
        checked.broken = true;
      } else if (present.length > 1) {
        const second = given.get(present[1])!;
        this.report('conflicting-params', `give either ${present.map((k) => `\`${k}=\``).join(' or ')}, not both`, this.propRange(second, 'key'), { data: { params: present } });
        checked.broken = true;
      }
    }
  }

  private checkParam(p: Param, spec: ParamSpec, where: string): CheckedParam | undefined {
    const t = spec.type;
    if (p.value.$type === 'ListLit' && !acceptsList(t)) {
      const items = p.value.items ?? [];
      if (!spec.sweep) {
        this.report('not-sweepable', `\`${p.key}\` takes one value, not a list (lists sweep only: ${this.sweepables().join(', ') || 'none here'})`, this.nodeRange(p.value));
        return undefined;
      }
      if (items.length === 0) {
        this.report('empty-list', `\`${p.key}=[]\` sweeps over nothing; give at least one value`, this.nodeRange(p.value));
        return undefined;
      }
      const values: ResolvedValue[] = [];
      const seen = new Set<string>();
      let ok = true;
      for (const item of items) {
        if (!item) {
          ok = false;
          continue;
        }
        const v = this.value(item, t, where);
        if (v === undefined) ok = false;
        else if (seen.has(JSON.stringify(v))) {
          this.report('duplicate-value', `${where}: ${this.text(item)} appears twice in the sweep; each run needs its own value`, this.nodeRange(item));
          ok = false;
        } else {
          seen.add(JSON.stringify(v));
          values.push(v);
        }
      }
      return ok ? { key: p.key, node: p, sweep: values } : undefined;
    }
    const v = this.value(p.value, t, where);
    return v === undefined ? undefined : { key: p.key, node: p, value: v };
  }

  private sweepables(): string[] {
    const spec = this.current?.spec;
    return spec ? Object.entries(spec.params).filter(([, s]) => s.sweep).map(([k]) => k) : [];
  }

  /** Check one value against a type; report and return undefined when it does not fit. */
  value(v: Value, t: ParamType, where: string, quiet?: LviDiagnostic[]): ResolvedValue | undefined {
    const report = (code: DiagnosticCode, message: string, range = this.nodeRange(v), extra: { suggestion?: Suggestion; data?: Record<string, unknown> } = {}) => {
      const d = makeDiagnostic(this.parsed.file, code, message, range, extra);
      if (quiet) quiet.push(d);
      else this.diags.push(d);
      return undefined;
    };
    const shown = this.text(v);
    const wrongType = () => report('wrong-type', `${where}: expected ${describeType(t, this.catalogue)}, got \`${shown}\``, this.nodeRange(v), { data: { expected: describeType(t, this.catalogue) } });
    switch (t.type) {
      case 'int':
      case 'number': {
        if (v.$type !== 'NumberLit') return wrongType();
        if (v.percent) return report('wrong-type', `${where}: expected ${describeType(t, this.catalogue)}, got a percentage \`${shown}\``);
        const n = v.value;
        if (t.type === 'int' && !Number.isInteger(n)) return report('wrong-type', `${where}: expected a whole number, got \`${shown}\``);
        if (t.type === 'int' && t.allowed && !t.allowed.includes(n)) return report('out-of-range', `${where}: must be one of ${t.allowed.join(', ')}, got ${shown}`);
        if (t.min !== undefined && (n < t.min || (t.type === 'number' && t.exclusiveMin && n === t.min))) {
          return report('out-of-range', `${where}: must be ${t.type === 'number' && t.exclusiveMin ? 'greater than' : 'at least'} ${t.min}, got ${shown}`);
        }
        if (t.max !== undefined && n > t.max) return report('out-of-range', `${where}: must be at most ${t.max}, got ${shown}`);
        if (t.type === 'int' && t.odd && n % 2 === 0) return report('out-of-range', `${where}: must be odd (a kernel has a centre), got ${shown}`);
        return n;
      }
      case 'percent': {
        if (v.$type !== 'NumberLit') return wrongType();
        if (!v.percent) return report('wrong-type', `${where}: expected a percentage such as ${shown}%, got \`${shown}\``, this.nodeRange(v), { suggestion: { text: `${shown}%`, range: this.nodeRange(v) } });
        const n = v.value;
        if ((t.min ?? 0) > n || n > (t.max ?? 100)) return report('out-of-range', `${where}: must be between ${t.min ?? 0}% and ${t.max ?? 100}%, got ${shown}`);
        return { percent: n };
      }
      case 'string': {
        if (v.$type !== 'StringLit') {
          return report('wrong-type', `${where}: expected ${describeType(t, this.catalogue)} in quotes, got \`${shown}\``, this.nodeRange(v), v.$type === 'NameLit' ? { suggestion: { text: JSON.stringify(v.name), range: this.nodeRange(v) } } : {});
        }
        if (t.pattern && !t.pattern.test(v.value)) return report('bad-format', `${where}: expected ${t.patternDoc ?? `text matching ${t.pattern}`}, got ${shown}`);
        if (t.values && !t.values.includes(v.value)) {
          const guess = closest(v.value, [...t.values]);
          return report('unknown-value', `${where}: ${shown} is not one of ${t.values.join(', ')}${guess ? `; did you mean "${guess}"?` : ''}`, this.nodeRange(v), {
            suggestion: guess ? { text: JSON.stringify(guess), range: this.nodeRange(v) } : undefined,
            data: { values: t.values },
          });
        }
        return v.value;
      }
      case 'path': {
        if (v.$type !== 'StringLit') {
          return report('wrong-type', `${where}: expected a ${describeType(t, this.catalogue)} in quotes, got \`${shown}\``, this.nodeRange(v), v.$type === 'NameLit' ? { suggestion: { text: JSON.stringify(v.name), range: this.nodeRange(v) } } : {});
        }
        const rel = v.value;
        const abs = this.baseDir ? path.resolve(this.baseDir, rel) : rel;
        if (t.extensions && !t.directory && !t.extensions.includes(path.extname(rel).toLowerCase())) {
          return report('wrong-file-type', `${where}: expected a ${t.extensions.join(' or ')} file, got ${shown}`);
        }
        if (!t.output && this.baseDir) {
          const st = this.stat(abs);
          if (!st) return report('file-not-found', `${where}: ${t.directory ? 'folder' : 'file'} ${shown} does not exist (looked for ${abs})`, this.nodeRange(v), { data: { path: abs } });
          if (t.directory && !st.isDirectory) return report('wrong-file-type', `${where}: ${shown} is a file; a folder is expected`);
          if (!t.directory && st.isDirectory) return report('wrong-file-type', `${where}: ${shown} is a folder; a file is expected`);
          if (!t.directory && IMAGE_EXTENSIONS.has(path.extname(rel).toLowerCase()) && !imageSize(abs)) {
            return report('not-an-image', `${where}: ${shown} ${imageProblem(abs) ?? 'is not a PNG or JPEG image (its header cannot be read)'}; looked at ${abs}`, this.nodeRange(v), { data: { path: abs } });
          }
        }
        return abs;
      }
      case 'enum': {
        if (v.$type !== 'NameLit') {
          if (v.$type === 'StringLit' && t.values.includes(v.value)) {
            return report('wrong-type', `${where}: write ${v.value} without quotes`, this.nodeRange(v), { suggestion: { text: v.value, range: this.nodeRange(v) } });
          }
          return wrongType();
        }
        if (!t.values.includes(v.name)) {
          const guess = closest(v.name, t.values);
          return report('unknown-value', `${where}: \`${v.name}\` is not one of ${t.values.join(', ')}${guess ? `; did you mean \`${guess}\`?` : ''}`, this.nodeRange(v), {
            suggestion: guess ? { text: guess, range: this.nodeRange(v) } : undefined,
            data: { values: t.values },
          });
        }
        return v.name;
      }
      case 'bool': {
        if (v.$type !== 'NameLit' || (v.name !== 'true' && v.name !== 'false')) return wrongType();
        return v.name === 'true';
      }
      case 'ref': {
        const kinds = refKinds(t.kinds, this.catalogue);
        if (v.$type !== 'NameLit') return report('wrong-type', `${where}: expected the name of ${article(kinds.join(' or '))} statement, got \`${shown}\``);
        const sym = this.symbols.get(v.name);
        if (!sym) {
          const sameKind = [...this.symbols].filter(([, s]) => kinds.includes(s.kind)).map(([n]) => n);
          const guess = closest(v.name, sameKind) ?? closest(v.name, this.symbols.keys());
          return report('unresolved-ref', `${where}: no statement is named \`${v.name}\`${guess ? `; did you mean \`${guess}\`?` : sameKind.length ? ` (${kinds.join('/')} names: ${sameKind.join(', ')})` : ''}`, this.nodeRange(v), {
            suggestion: guess ? { text: guess, range: this.nodeRange(v) } : undefined,
            data: { kinds },
          });
        }
        if (!this.catalogue[sym.kind]) return undefined; // already reported as unknown-kind
        if (!kinds.includes(sym.kind)) {
          return report('wrong-ref-kind', `${where}: \`${v.name}\` is ${article(sym.kind)}, but ${article(kinds.join(' or '))} is expected`, this.nodeRange(v), { data: { expected: kinds, actual: sym.kind } });
        }
        return { ref: v.name, kind: sym.kind, node: '' };
      }
      case 'tuple': {
        if (v.$type !== 'TupleLit') return wrongType();
        const items = v.items ?? [];
        if (items.length !== t.length) return report('wrong-type', `${where}: expected ${t.length} numbers (${t.names.join(',')}), got ${items.length}`);
        const out: number[] = [];
        let ok = true;
        items.forEach((item, i) => {
          const n = this.value(item, { type: t.element === 'int' ? 'int' : 'number', min: t.min?.[i] }, `${where} ${t.names[i]}`, quiet);
          if (typeof n === 'number') out.push(n);
          else ok = false;
        });
        return ok ? out : undefined;
      }
      case 'range': {
        if (v.$type !== 'RangeLit') return wrongType();
        if (!(v.from < v.to)) return report('out-of-range', `${where}: a range goes from low to high, got ${shown}`);
        if ((t.min !== undefined && v.from < t.min) || (t.max !== undefined && v.to > t.max)) {
          return report('out-of-range', `${where}: must lie within ${t.min ?? '-inf'}..${t.max ?? 'inf'}, got ${shown}`);
        }
        return { range: [v.from, v.to] };
      }
      case 'list': {
        const items = v.$type === 'ListLit' ? v.items ?? [] : t.single ? [v] : undefined;
        if (!items) return wrongType();
        if (items.length === 0) return report('empty-list', `${where}: give at least one value`);
        const out: ResolvedValue[] = [];
        const seen = new Set<string>();
        let ok = true;
        for (const item of items) {
          const r = item ? this.value(item, t.of, where, quiet) : undefined;
          if (r === undefined) ok = false;
          else if (t.unique && seen.has(JSON.stringify(r))) {
            report('duplicate-value', `${where}: ${this.text(item)} is listed twice`, this.nodeRange(item));
            ok = false;
          } else {
            seen.add(JSON.stringify(r));
            out.push(r);
          }
        }
        return ok ? out : undefined;
      }
      case 'call': {
        if (v.$type !== 'CallLit' && v.$type !== 'NameLit') return wrongType();
        const fname = v.name;
        const fn = t.functions[fname];
        if (!fn) {
          const guess = closest(fname, Object.keys(t.functions));
          const range = v.$type === 'CallLit' ? this.propRange(v, 'name') : this.nodeRange(v);
          return report('unknown-value', `${where}: \`${fname}\` is not one of ${Object.keys(t.functions).join(', ')}${guess ? `; did you mean \`${guess}\`?` : ''}`, range, {
            suggestion: guess ? { text: guess, range } : undefined,
            data: { values: Object.keys(t.functions) },
          });
        }
        const args: Record<string, ResolvedValue> = {};
        let ok = true;
        const given = new Set<string>();
        for (const a of v.$type === 'CallLit' ? v.args ?? [] : []) {
          if (!a?.key || !a.value) {
            ok = false;
            continue;
          }
          const aspec = fn.args[a.key];
          if (!aspec) {
            const guess = closest(a.key, Object.keys(fn.args));
            if (guess) given.add(guess); // reported once, as the misspelling
            const range = this.propRange(a, 'key');
            report('unknown-param', `${fname}() has no argument \`${a.key}\`${guess ? `; did you mean \`${guess}\`?` : ''} (arguments: ${Object.keys(fn.args).join(', ') || 'none'})`, range, {
              suggestion: guess ? { text: guess, range } : undefined,
            });
            ok = false;
            continue;
          }
          given.add(a.key);
          const r = this.value(a.value, aspec.type, `${fname}(${a.key})`, quiet);
          if (r === undefined) ok = false;
          else args[a.key] = r;
        }
        for (const [k, aspec] of Object.entries(fn.args)) {
          if (given.has(k)) continue;
          if (aspec.required) {
            report('missing-param', `${fname}() needs \`${k}=\`: ${aspec.doc}`, this.nodeRange(v));
            ok = false;
          } else if (aspec.default !== undefined) args[k] = defaultToResolved(aspec.default);
        }
        return ok ? { call: fname, args } : undefined;
      }
      case 'union': {
        // The first alternative that fits wins (its warnings kept); otherwise report the closest
        // alternative's problem.
        const attempts: LviDiagnostic[][] = [];
        for (const [i, alt] of t.of.entries()) {
          const sink: LviDiagnostic[] = [];
          const r = this.value(v, alt, where, sink);
          if (r !== undefined && sink.every((d) => d.severity !== 'error')) {
            for (const d of sink) (quiet ?? this.diags).push(d);
            if (v.$type === 'NameLit' && alt.type === 'call') this.shadowed(v.name, alt, t.of.slice(i + 1), v, where, quiet);
            return r;
          }
          attempts.push(sink);
        }
        const specific = attempts.find((s) => s.length > 0 && s.every((d) => d.code !== 'wrong-type'));
        if (specific) {
          for (const d of specific) (quiet ?? this.diags).push(d);
          return undefined;
        }
        return wrongType();
      }
    }
  }

  /**
   * A bare word taken as a call (`clean` in degradations=) while a statement of a kind a later
   * alternative accepts has the same name: the word wins, so that statement is not what is used
   * here. Said as a warning at the word, not silently.
   */
  private shadowed(name: string, call: ParamType & { type: 'call' }, later: ParamType[], v: Value, where: string, quiet?: LviDiagnostic[]): void {
    const sym = this.symbols.get(name);
    if (!sym) return;
    const accepts = later.some((alt) => alt.type === 'ref' && alt.kinds.includes(sym.kind));
    if (!accepts) return;
    const line = sym.statement ? ` (line ${this.lineOf(sym.statement.node)})` : '';
    const doc = call.functions[name]?.doc.replace(/\.$/, '') ?? '';
    const d = makeDiagnostic(
      this.parsed.file,
      'shadowed-name',
      `${where}: \`${name}\` here is the word ${name}${doc ? ` (${doc.charAt(0).toLowerCase()}${doc.slice(1)})` : ''}, not the ${sym.kind} \`${name}\`${line}; rename the ${sym.kind} to use it here`,
      this.nodeRange(v),
      { severity: 'warning', data: { kind: sym.kind } },
    );
    (quiet ?? this.diags).push(d);
  }

  /** The checked statement declared under a name (undefined for unknown names and kinds). */
  statement(name: string | undefined): CheckedStatement | undefined {
    return name === undefined ? undefined : this.symbols.get(name)?.statement;
  }

  report(code: DiagnosticCode, message: string, range: Range, extra: { suggestion?: Suggestion; data?: Record<string, unknown> } = {}): void {
    this.diags.push(makeDiagnostic(this.parsed.file, code, message, range, extra));
  }

  nodeRange(node: AstNode | undefined): Range {
    const cst = node?.$cstNode;
    return cst ? this.parsed.lines.range(cst.offset, cst.end) : this.parsed.lines.range(0, 0);
  }

  propRange(node: AstNode, prop: string): Range {
    const cst: CstNode | undefined = GrammarUtils.findNodeForProperty(node.$cstNode, prop);
    return cst ? this.parsed.lines.range(cst.offset, cst.end) : this.nodeRange(node);
  }

  /** The statement's kind and name: where statement-wide problems are shown. */
  headRange(st: Statement): Range {
    const kind = GrammarUtils.findNodeForProperty(st.$cstNode, 'kind');
    const name = GrammarUtils.findNodeForProperty(st.$cstNode, 'name');
    if (!kind) return this.nodeRange(st);
    return this.parsed.lines.range(kind.offset, (name ?? kind).end);
  }

  /**
   * True when a syntax error lies in the node's extent: its text plus the rest of its last line
   * (errors at the end of a line, like `steps=` with no value, belong to what precedes them).
   */
  private hasSyntaxError(node: AstNode): boolean {
    return this.firstSyntaxError(node) !== Infinity;
  }

  private firstSyntaxError(node: AstNode): number {
    const cst = node.$cstNode;
    if (!cst) return this.syntaxOffsets.length ? Math.min(...this.syntaxOffsets) : Infinity;
    const newline = this.parsed.text.indexOf('\n', cst.end);
    const end = newline < 0 ? this.parsed.text.length + 1 : newline + 1;
    return Math.min(Infinity, ...this.syntaxOffsets.filter((o) => o >= cst.offset && o < end));
  }

  private nameIsString(st: Statement): boolean {
    const cst = GrammarUtils.findNodeForProperty(st.$cstNode, 'name');
    return !!cst && /^["']/.test(cst.text);
  }

  private lineOf(node: AstNode): number {
    return (node.$cstNode?.range.start.line ?? 0) + 1;
  }

  private text(v: AstNode): string {
    const t = v.$cstNode?.text ?? '';
    return t.length > 40 ? `${t.slice(0, 37)}...` : t;
  }
}

/** 'a model', 'an image'. */
export function article(word: string): string {
  return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;
}

function acceptsList(t: ParamType): boolean {
  return t.type === 'list' || (t.type === 'union' && t.of.some(acceptsList));
}

/** A catalogue default in the plan's value form. */
export function defaultToResolved(d: import('../../grammar/catalogue.js').DefaultValue): ResolvedValue {
  if (Array.isArray(d)) return d.map(defaultToResolved);
  return d as ResolvedValue;
}

export { zooScale } from '../../grammar/zoo-table.js';
