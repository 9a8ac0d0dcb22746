// Checked study -> Plan: defaults filled, references resolved to node ids, sweeps expanded,
// implicit nodes added (load model, load image, derive LR), nodes sorted so every node comes
// after its dependencies, and a content key per node.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { callFunction, refKinds, type Catalogue, type ParamSpec, type ParamType, CATALOGUE } from '../../grammar/catalogue.js';
import { modelStatementScale } from './kind-check.js';
import { checkStudy, defaultToResolved, type CheckOptions, type CheckResult, type CheckedStatement } from './check.js';
import { makeDiagnostic, sortDiagnostics, type LviDiagnostic } from './diagnostics.js';
import { datasetFiles } from './glob.js';
import { parseStudy } from './parse.js';
import { safeSegment } from './confine.js';
import type { Plan, PlanNode, ResolvedValue } from './plan.js';

export interface CompileOptions extends CheckOptions {
  /** Overrides the version read from package.json (tests). */
  lviVersion?: string;
}

export interface CompileResult {
  /** Present only when the study has no errors. */
  plan?: Plan;
  diagnostics: LviDiagnostic[];
  check: CheckResult;
}

/** Read, parse, check and compile a study file. */
export function compileStudy(file: string, options: CompileOptions = {}): CompileResult {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    const parsed = parseStudy('', abs);
    const d = makeDiagnostic(abs, 'file-not-found', `cannot read the study file ${abs}: ${(e as Error).message}`, parsed.lines.range(0, 0));
    return { diagnostics: [d], check: { parsed, diagnostics: [d], statements: [], symbols: new Map(), hasErrors: true } };
  }
  return compileText(text, abs, options);
}

/** Compile study text as if it were the file at `file` (paths resolve from its folder). */
export function compileText(text: string, file: string, options: CompileOptions = {}): CompileResult {
  const check = checkStudy(parseStudy(text, path.resolve(file)), options);
  return compileChecked(check, options);
}

export function compileChecked(check: CheckResult, options: CompileOptions = {}): CompileResult {
  if (check.hasErrors) return { diagnostics: check.diagnostics, check };
  const builder = new PlanBuilder(check, options.catalogue ?? CATALOGUE, options.lviVersion ?? lviVersion());
  const plan = builder.build();
  const diagnostics = sortDiagnostics([...check.diagnostics, ...builder.diagnostics]);
  return diagnostics.some((d) => d.severity === 'error') ? { diagnostics, check } : { plan, diagnostics, check };
}

let cachedVersion: string | undefined;

/** lvi's version from its package.json (found upwards from this file, in src/ or dist/). */
export function lviVersion(): string {
  if (cachedVersion) return cachedVersion;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      const pkg = JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'lvi' && pkg.version) return (cachedVersion = pkg.version);
    }
    const up = path.dirname(dir);
    if (up === dir) return (cachedVersion = '0.0.0');
    dir = up;
  }
}

/** JSON with object keys sorted, so equal values always hash alike. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A value as a short, filesystem-safe piece of a run id. */
export function slug(v: ResolvedValue): string {
  let s: string;
  if (Array.isArray(v)) s = v.map(slug).join('-');
  else if (typeof v === 'object' && v !== null) {
    // A reference pinned to one run of a swept statement names that run too (m.share-1pct).
    if ('ref' in v) s = v.node.includes('#') ? `${v.ref}.${v.node.slice(v.node.indexOf('#') + 1)}` : v.ref;
    else if ('percent' in v) s = `${v.percent}pct`;
    else if ('range' in v) s = `${v.range[0]}..${v.range[1]}`;
    else s = [v.call, ...Object.keys(v.args).sort().map((k) => `${k}-${slug(v.args[k])}`)].join('-');
  } else if (typeof v === 'number') return String(v); // keeps the sign: -1 and 1 differ
  else s = String(v);
  s = s.replace(/[^A-Za-z0-9.+-]+/g, '-').replace(/^-+|-+$/g, '');
  return s.length > 40 ? s.slice(0, 40) : s || 'x';
}

interface Run {
  runId: string;
  sweep: Record<string, ResolvedValue>;
  values: Record<string, ResolvedValue>;
}

class PlanBuilder {
  readonly diagnostics: LviDiagnostic[] = [];
  private readonly nodes: PlanNode[] = [];
  private readonly byId = new Map<string, PlanNode>();
  /** Statement name -> ids of its nodes (one per run). */
  private readonly runsOf = new Map<string, string[]>();
  private readonly fileHashes = new Map<string, string>();
  private readonly studyDir: string;

  constructor(
    private readonly check: CheckResult,
    private readonly catalogue: Catalogue,
    private readonly version: string,
  ) {
    this.studyDir = path.dirname(check.parsed.file);
  }

  build(): Plan {
    const studySt = this.check.statements.find((s) => s.kind === 'study');
    const given = (k: string) => studySt?.params.get(k)?.value;
    const { name, outDir } = studyOutput(this.check);
    const study = {
      name,
      device: (given('device') as string | undefined) ?? String(this.catalogue.study?.params.device?.default ?? 'auto'),
      seed: (given('seed') as number | undefined) ?? Number(this.catalogue.study?.params.seed?.default ?? 0),
      out: outDir,
    };
    this.ctx = { outDir, studyName: name, catalogue: this.catalogue, kindOf: (n) => this.check.symbols.get(n)?.kind };

    // Declarations first, then everything that refers to them (source order within each group).
    const ordered = [
      ...this.check.statements.filter((s) => s.kind !== 'study' && !this.hasRefs(s)),
      ...this.check.statements.filter((s) => s.kind !== 'study' && this.hasRefs(s)),
    ];
    // Analyses before their collectors (table rows, reports): refs may point forwards.
    const pending = [...ordered];
    let guard = pending.length * pending.length + 1;
    while (pending.length && guard-- > 0) {
      const st = pending.shift()!;
      if (this.refsReady(st)) this.addStatement(st);
      else pending.push(st);
    }
    if (pending.length) throw new Error(`internal error: cannot order ${pending.map((s) => s.name).join(', ')}`);
    const nodes = topoSort(this.nodes);
    for (const n of nodes) n.key = this.keyOf(n);
    return {
      studyFile: this.check.parsed.file,
      studyDir: this.studyDir,
      outDir,
      study,
      nodes,
      lviVersion: this.version,
    };
  }

  private ctx: { outDir: string; studyName: string; catalogue: Catalogue; kindOf: (name: string) => string | undefined } = { outDir: '', studyName: '', catalogue: {}, kindOf: () => undefined };

  private hasRefs(st: CheckedStatement): boolean {
    return Object.values(st.spec.params).some((p) => isRefType(p)) || !!st.spec.collects;
  }

  private refsReady(st: CheckedStatement): boolean {
    for (const [key, pspec] of Object.entries(st.spec.params)) {
      if (!isRefType(pspec)) continue;
      const cp = st.params.get(key);
      const vals = cp ? (cp.sweep ?? [cp.value!]) : [];
      for (const v of vals.flatMap((x) => (Array.isArray(x) ? x : [x]))) {
        if (isRef(v) && !this.runsOf.has(v.ref)) return false;
      }
    }
    if (st.spec.collects) {
      const kinds = refKinds(st.spec.collects, this.catalogue);
      for (const other of this.check.statements) {
        if (other !== st && kinds.includes(other.kind) && !this.runsOf.has(other.name)) return false;
      }
    }
    return true;
  }

  private addStatement(st: CheckedStatement): void {
    const spec = st.spec;
    // Every parameter with its given value, its catalogue default, or a derived default.
    const base: Record<string, ResolvedValue> = {};
    for (const [key, pspec] of Object.entries(spec.params)) {
      const cp = st.params.get(key);
      if (cp?.value !== undefined) base[key] = cp.value;
      else if (!cp && pspec.default !== undefined) base[key] = defaultToResolved(pspec.default);
      else if (!cp && pspec.studyDefault) base[key] = this.studyValue(pspec.studyDefault);
    }
    DERIVED_DEFAULTS[st.kind]?.(base, st, this.ctx);
    const runs = expandSweeps(st, base, (name) => this.runsOf.get(name) ?? []);
    const ids: string[] = [];
    for (const run of runs) {
      const id = runs.length === 1 && run.runId === 'default' ? `${st.kind}:${st.name}` : `${st.kind}:${st.name}#${run.runId}`;
      const params: Record<string, ResolvedValue> = {};
      const deps: Record<string, string> = {};
      const files: Record<string, string> = {};
      for (const [key, value] of Object.entries(run.values)) {
        const pspec = spec.params[key];
        params[key] = this.resolveRefs(key, pspec ? this.withStudyDefaults(value, pspec.type) : value, pspec, run.values, deps);
      }
      for (const [key, pspec] of Object.entries(spec.params)) {
        const v = params[key];
        if (pspec.type.type !== 'path' || pspec.type.output || typeof v !== 'string') continue;
        if (pspec.type.directory) this.hashDirectory(st, key, v, params, files);
        else files[v] = this.hashFile(v);
      }
      if (spec.collects) {
        const kinds = refKinds(spec.collects, this.catalogue);
        const count = new Map<string, number>();
        for (const other of this.check.statements) {
          if (other === st || !kinds.includes(other.kind)) continue;
          for (const dep of this.runsOf.get(other.name) ?? []) {
            const i = count.get(other.kind) ?? 0;
            count.set(other.kind, i + 1);
            deps[`${other.kind}[${i}]`] = dep;
          }
        }
      }
      const sweep: Record<string, ResolvedValue> = {};
      for (const key of Object.keys(run.sweep)) sweep[key] = params[key];
      const start = st.node.$cstNode?.range.start ?? { line: 0, character: 0 };
      this.addNode({
        id,
        kind: spec.runner ?? st.kind,
        statement: st.name,
        runId: run.runId,
        sweep,
        params,
        deps,
        key: '',
        files,
        source: { file: this.check.parsed.file, line: start.line + 1, column: start.character + 1 },
        // Loading models, images and datasets only feeds the analyses.
        implicit: !!spec.loader,
      });
      ids.push(id);
    }
    this.runsOf.set(st.name, ids);
  }

  /** Replace refs by node ids and record the dependency edges they make. */
  private resolveRefs(
    key: string,
    value: ResolvedValue,
    pspec: ParamSpec | undefined,
    runValues: Record<string, ResolvedValue>,
    deps: Record<string, string>,
  ): ResolvedValue {
    if (!pspec || !isRefType(pspec)) return value;
    const refs = Array.isArray(value) ? value : [value];
    const listed = Array.isArray(value);
    const out: ResolvedValue[] = [];
    let index = 0;
    for (const r of refs) {
      if (!isRef(r)) {
        out.push(r);
        continue;
      }
      const all = this.runsOf.get(r.ref) ?? [];
      // Pinned to one run by a sweep over a swept statement's runs (expandSweeps).
      const runs = all.includes(r.node) && all.length > 1 ? [r.node] : all;
      const target = this.check.symbols.get(r.ref);
      if (pspec.lowResFor && target?.kind === 'image') {
        const lrId = this.lowRes(target, runValues[pspec.lowResFor]);
        deps[key] = lrId;
        out.push({ ...r, node: lrId });
        continue;
      }
      if (runs.length === 1 && !listed) {
        deps[key] = runs[0];
        out.push({ ...r, node: runs[0] });
      } else {
        // A sweep family (or a list of refs): one dependency per run, in order.
        for (const dep of runs) deps[`${key}[${index++}]`] = dep;
        out.push({ ...r, node: `${r.kind}:${r.ref}` });
      }
    }
    return listed ? out : out[0];
  }

  /**
   * The derive-LR node for an image at a model's scale (created once per pair). Its value holds
   * the LR input and, when the study gives one, the HR image cropped to match; an LR-only image
   * passes through the same node, which checks it against the scale.
   */
  private lowRes(image: CheckedStatement, modelRef: ResolvedValue | undefined): string {
    const imageId = this.runsOf.get(image.name)![0];
    const model = isRef(modelRef) ? this.byId.get(this.runsOf.get(modelRef.ref)?.[0] ?? '') : undefined;
    const scale = model ? this.scaleOf(model) : undefined;
    if (scale === undefined) throw new Error(`internal error: no scale for the model of image ${image.name}`);
    const id = `lr:${image.name}@x${scale}`;
    if (!this.byId.has(id)) {
      this.addNode({
        id,
        kind: 'derive-lr',
        runId: 'default',
        sweep: {},
        params: { scale, method: 'bicubic-pil' },
        deps: { image: imageId },
        key: '',
        files: {},
        implicit: true,
      });
    }
    return id;
  }

  /** A study-wide setting (the seed) as resolved for the plan. */
  private studyValue(key: 'seed'): ResolvedValue {
    const st = this.check.statements.find((s) => s.kind === 'study');
    const given = st?.params.get(key)?.value;
    return given ?? defaultToResolved(this.catalogue.study?.params[key]?.default ?? 0);
  }

  /** Call arguments left unset that take a study-wide value (noise(seed=) from the study's seed). */
  private withStudyDefaults(v: ResolvedValue, t: ParamType): ResolvedValue {
    if (Array.isArray(v)) return t.type === 'list' ? v.map((x) => this.withStudyDefaults(x, t.of)) : v;
    if (typeof v !== 'object' || v === null || !('call' in v)) return v;
    const fn = callFunction(t, v.call);
    if (!fn) return v;
    const args = { ...v.args };
    for (const [k, a] of Object.entries(fn.args)) if (args[k] === undefined && a.studyDefault) args[k] = this.studyValue(a.studyDefault);
    return { call: v.call, args };
  }

  /**
   * The scale of a model node: its own (a `model` statement: filled in by DERIVED_DEFAULTS), or
   * for a kind that makes a model from another (a `mask`), that model's.
   */
  private scaleOf(node: PlanNode, depth = 0): number | undefined {
    if (typeof node.params.scale === 'number') return node.params.scale;
    const spec = node.statement !== undefined ? this.check.symbols.get(node.statement)?.spec : undefined;
    const from = spec?.modelFrom ? node.params[spec.modelFrom] : undefined;
    const source = isRef(from) ? this.byId.get(this.runsOf.get(from.ref)?.[0] ?? '') : undefined;
    return source && depth < 64 ? this.scaleOf(source, depth + 1) : undefined;
  }

  private hashDirectory(st: CheckedStatement, key: string, dir: string, params: Record<string, ResolvedValue>, files: Record<string, string>): void {
    const glob = typeof params.glob === 'string' ? params.glob : '*';
    let names: string[];
    try {
      names = datasetFiles(dir, glob);
    } catch (e) {
      this.report(st, key, (e as Error).message);
      return;
    }
    for (const n of names) files[path.join(dir, n)] = this.hashFile(path.join(dir, n));
  }

  private report(st: CheckedStatement, key: string, message: string): void {
    const p = st.params.get(key)?.node;
    const cst = p?.$cstNode ?? st.node.$cstNode;
    const range = cst ? this.check.parsed.lines.range(cst.offset, cst.end) : this.check.parsed.lines.range(0, 0);
    this.diagnostics.push(makeDiagnostic(this.check.parsed.file, 'file-not-found', message, range));
  }

  private hashFile(file: string): string {
    let h = this.fileHashes.get(file);
    if (!h) {
      h = sha256(fs.readFileSync(file));
      this.fileHashes.set(file, h);
    }
    return h;
  }

  private addNode(n: PlanNode): void {
    this.nodes.push(n);
    this.byId.set(n.id, n);
  }

  /**
   * sha256 over what determines the node's result: kind, parameters (input paths replaced by
   * their content hashes, references by the referenced node's key), dependency keys and the lvi
   * version. Names, node ids, layout, order and comments are left out.
   */
  private keyOf(n: PlanNode): string {
    const depKey = (id: string) => this.byId.get(id)?.key ?? id;
    const rel = (p: string) => path.relative(this.studyDir, p).split(path.sep).join('/');
    const spec = n.statement !== undefined ? this.check.symbols.get(n.statement)?.spec ?? this.catalogue[n.kind] : undefined;
    const keyValue = (v: ResolvedValue, pspec?: ParamSpec): unknown => {
      if (Array.isArray(v)) return v.map((x) => keyValue(x, pspec));
      if (isRef(v)) return { ref: (this.runsOf.get(v.ref) ?? [v.node]).map(depKey) };
      if (typeof v === 'string' && pspec?.type.type === 'path') {
        if (pspec.type.directory && !pspec.type.output) return { dir: Object.keys(n.files).map((f) => [path.basename(f), n.files[f]]) };
        return n.files[v] ? { file: n.files[v] } : { path: rel(v) };
      }
      return v;
    };
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n.params)) params[k] = keyValue(v, spec?.params[k]);
    // A derive-LR node's ref-free params; image refs routed through LR use the LR node's key.
    for (const [k, v] of Object.entries(n.params)) {
      if (isRef(v) && n.deps[k]) params[k] = { ref: depKey(n.deps[k]) };
    }
    const deps: Record<string, string> = {};
    for (const [role, id] of Object.entries(n.deps)) deps[role] = depKey(id);
    return sha256(
      canonicalJson({
        lvi: this.version,
        kind: n.kind,
        params,
        deps,
        files: Object.values(n.files).sort(),
      }),
    );
  }
}

/**
 * The study's name and output folder, read off the check alone (no input file is hashed): the
 * study statement's name (else the file's name) and out= (else out/<name> beside the study).
 * Also the language server's answer to "where will the report be".
 */
export function studyOutput(check: CheckResult): { name: string; outDir: string } {
  const studyFile = check.parsed.file;
  const studySt = check.statements.find((s) => s.kind === 'study');
  const given = (k: string) => studySt?.params.get(k)?.value;
  const name = (studySt?.named ? studySt.name : undefined) ?? (given('name') as string | undefined) ?? path.basename(studyFile).replace(/\.lvi$/, '');
  const outDir = (given('out') as string | undefined) ?? path.join(path.dirname(studyFile), 'out', safeSegment(name));
  return { name, outDir };
}

/** Where the report goes when its statement gives no `file=` (the catalogue's `<out>/report.html`). */
export function defaultReportFile(outDir: string): string {
  return path.join(outDir, 'report.html');
}

/** Defaults that depend on other parameters or on the study (kept by kind, beside the compiler). */
const DERIVED_DEFAULTS: Record<string, (p: Record<string, ResolvedValue>, st: CheckedStatement, ctx: { outDir: string; studyName: string; catalogue: Catalogue; kindOf: (name: string) => string | undefined }) => void> = {
  model(p) {
    if (p.scale === undefined) p.scale = modelStatementScale(p.scale, p.zoo);
    if (p.range === undefined && typeof p.file === 'string') p.range = 1;
  },
  table(p, _st, ctx) {
    // The rows' kinds' own columns, in the order the rows name them.
    if (p.columns !== undefined) return;
    const rows = Array.isArray(p.rows) ? p.rows : [p.rows];
    const columns: string[] = [];
    for (const r of rows) {
      const kind = isRef(r) ? ctx.kindOf(r.ref) : undefined;
      for (const c of (kind && ctx.catalogue[kind]?.columns) || ['run']) if (!columns.includes(c)) columns.push(c);
    }
    p.columns = columns;
  },
  report(p, _st, ctx) {
    if (p.file === undefined) p.file = defaultReportFile(ctx.outDir);
    if (p.title === undefined) p.title = ctx.studyName;
  },
};

/** The parameter can hold references (directly, in a list, or as one alternative of a union). */
function isRefType(p: ParamSpec): boolean {
  const holds = (t: ParamType): boolean => t.type === 'ref' || ((t.type === 'list') && holds(t.of)) || (t.type === 'union' && t.of.some(holds));
  return holds(p.type);
}

function isRef(v: ResolvedValue | undefined): v is { ref: string; kind: string; node: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'ref' in v;
}

/**
 * Every combination of the swept parameters (catalogue order), with a run id for each. In a
 * parameter that can sweep, a reference to a swept statement (a mask with share=[1%, 5%]) sweeps
 * over that statement's runs, each reference pinned to its run's node.
 */
function expandSweeps(st: CheckedStatement, base: Record<string, ResolvedValue>, runsOf: (name: string) => string[]): Run[] {
  const valuesOf = new Map<string, ResolvedValue[]>();
  for (const [key, pspec] of Object.entries(st.spec.params)) {
    const given = st.params.get(key)?.sweep ?? (pspec.sweep && base[key] !== undefined ? [base[key]!] : undefined);
    if (!given) continue;
    const pinned = pspec.sweep
      ? given.flatMap((v) => (isRef(v) && runsOf(v.ref).length > 1 ? runsOf(v.ref).map((node) => ({ ...v, node })) : [v]))
      : given;
    if (st.params.get(key)?.sweep || pinned.length > given.length) valuesOf.set(key, pinned);
  }
  const swept = Object.keys(st.spec.params).filter((k) => valuesOf.has(k));
  let runs: Run[] = [{ runId: '', sweep: {}, values: { ...base } }];
  for (const key of swept) {
    const next: Run[] = [];
    for (const run of runs) {
      for (const v of valuesOf.get(key)!) {
        const piece = `${key}=${slug(v)}`;
        next.push({
          runId: run.runId ? `${run.runId}_${piece}` : piece,
          sweep: { ...run.sweep, [key]: v },
          values: { ...run.values, [key]: v },
        });
      }
    }
    runs = next;
  }
  if (swept.length === 0) return [{ ...runs[0], runId: 'default' }];
  // Distinct values can slug alike ("a b" and "a-b"); a short hash keeps run ids unique.
  const seen = new Map<string, number>();
  for (const r of runs) seen.set(r.runId, (seen.get(r.runId) ?? 0) + 1);
  for (const r of runs) {
    if ((seen.get(r.runId) ?? 0) > 1 || r.runId.length > 100) {
      r.runId = `${r.runId.slice(0, 80)}~${sha256(canonicalJson(r.sweep)).slice(0, 8)}`;
    }
  }
  return runs;
}

/** Kahn's algorithm, keeping creation order among nodes that are ready together. */
function topoSort(nodes: PlanNode[]): PlanNode[] {
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const indeg = new Map(nodes.map((n) => [n.id, 0]));
  const users = new Map<string, string[]>();
  for (const n of nodes) {
    for (const dep of new Set(Object.values(n.deps))) {
      if (!index.has(dep)) continue;
      indeg.set(n.id, indeg.get(n.id)! + 1);
      users.set(dep, [...(users.get(dep) ?? []), n.id]);
    }
  }
  const ready = nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
  const out: PlanNode[] = [];
  while (ready.length) {
    ready.sort((a, b) => index.get(a)! - index.get(b)!);
    const id = ready.shift()!;
    out.push(nodes[index.get(id)!]);
    for (const u of users.get(id) ?? []) {
      indeg.set(u, indeg.get(u)! - 1);
      if (indeg.get(u) === 0) ready.push(u);
    }
  }
  if (out.length !== nodes.length) throw new Error('internal error: the plan has a dependency cycle');
  return out;
}
