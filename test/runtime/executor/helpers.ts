// Hand-built plans for executor tests: a study file on disk, nodes with real content keys
// (hash of kind, params and input file hashes, as the compiler computes them).

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan, PlanNode, ResolvedValue } from '../../../src/compiler/plan.js';

const made: string[] = [];

export function tempStudy(text: string, name = 'study.lvi'): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lvi-exec-'));
  made.push(dir);
  const file = join(dir, name);
  writeFileSync(file, text);
  return { dir, file };
}

/** Removes every folder tempStudy made (call from afterAll). */
export function removeTempStudies(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface NodeSpec {
  id: string;
  kind: string;
  statement?: string;
  runId?: string;
  params?: Record<string, ResolvedValue>;
  deps?: Record<string, string>;
  files?: string[];
  sweep?: Record<string, ResolvedValue>;
  line?: number;
}

export function makePlan(study: { dir: string; file: string }, specs: NodeSpec[], name = 'demo'): Plan {
  const nodes: PlanNode[] = specs.map((s) => {
    const params = s.params ?? {};
    const files: Record<string, string> = {};
    for (const f of s.files ?? []) files[f] = fileHash(f);
    const key = createHash('sha256')
      .update(JSON.stringify({ kind: s.kind, params, files, version: '0.0.0-test' }))
      .digest('hex');
    return {
      id: s.id,
      kind: s.kind,
      statement: s.statement,
      runId: s.runId ?? 'default',
      sweep: s.sweep ?? {},
      params,
      deps: s.deps ?? {},
      key,
      files,
      source: s.line ? { file: study.file, line: s.line, column: 1 } : undefined,
      implicit: s.statement === undefined,
    };
  });
  return {
    studyFile: study.file,
    studyDir: study.dir,
    outDir: join(study.dir, 'out', name),
    study: { name, device: 'cpu', seed: 0 },
    nodes,
    lviVersion: '0.0.0-test',
  };
}

/** The newest run record under <dir>/.lvi/runs/ (parsed). */
export function lastRunRecord(dir: string): Record<string, any> {
  const runs = join(dir, '.lvi', 'runs');
  const names = readdirSync(runs).filter((n) => n.endsWith('.json')).sort();
  if (names.length === 0) throw new Error(`no run record in ${runs}`);
  return JSON.parse(readFileSync(join(runs, names.at(-1)!), 'utf8')) as Record<string, any>;
}
