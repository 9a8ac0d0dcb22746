// A real study, compiled by the compiler and run with the shipped kernels (LAM included): the
// roles the compiler gives tables and reports are the ones their kernels read, a rerun does
// nothing, and a change to the table reruns the table and the report only.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture } from '../../helpers/paths.js';
import YAML from 'yaml';
import { compileText } from '../../../src/compiler/compile.js';
import { executePlan } from '../../../src/runtime/executor/index.js';
import { lastRunRecord, removeTempStudies, tempStudy } from './helpers.js';

afterAll(removeTempStudies);

const ref = fixture('lam');

const studyText = (columns: string) => `study "small" out="out"
model f file="${join(ref, 'fsrcnn_chelsea/model.onnx')}" scale=4
image chelsea file="${join(ref, 'chelsea_256.png')}"
lam edge model=f image=chelsea window=[(48,88,16,16), (100,100,16,16)] steps=5
table di rows=edge columns=${columns}
report
`;

describe('a compiled LAM study', () => {
  it('runs, reruns from the cache, and reruns only the table and report when the table changes', async () => {
    const study = tempStudy(studyText('[model, window, di, params]'));
    const compile = () => {
      const { plan, diagnostics } = compileText(readFileSync(study.file, 'utf8'), study.file);
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      return plan!;
    };
    const first = await executePlan(compile(), { progress: 'none' });
    expect(first.nodes.filter((n) => n.status !== 'ran')).toEqual([]);
    const lams = first.nodes.filter((n) => n.kind === 'lam');
    expect(lams).toHaveLength(2);

    const table = first.nodes.find((n) => n.kind === 'table')!;
    const json = JSON.parse(readFileSync(join(table.outDir!, 'table.json'), 'utf8'));
    expect(json.rows).toEqual([
      { model: 'f', window: '(48,88,16,16)', di: lams[0].summary.di, params: 24579 },
      { model: 'f', window: '(100,100,16,16)', di: lams[1].summary.di, params: 24579 },
    ]);
    const html = readFileSync(join(study.dir, 'out', 'report.html'), 'utf8');
    const inlined = [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((m) => Buffer.from(m[1], 'base64'));
    expect(inlined).toEqual(lams.map((n) => readFileSync(join(n.outDir!, 'figure.png'))));

    const again = await executePlan(compile(), { progress: 'none' });
    expect(again.counts).toEqual({ ran: 0, cached: first.nodes.length, failed: 0, skipped: 0 });

    writeFileSync(study.file, studyText('[model, window, gini]'));
    const changed = await executePlan(compile(), { progress: 'none' });
    expect(changed.nodes.filter((n) => n.status === 'ran').map((n) => n.kind).sort()).toEqual(['report', 'table']);
    const lock = YAML.parse(readFileSync(join(study.dir, 'study.lock.yaml'), 'utf8'));
    expect(lock.nodes[lams[0].id]).toMatchObject({ kind: 'lam', params: { steps: 5 }, summary: { di: Number((lams[0].summary.di as number).toPrecision(6)) } });
    const record = lastRunRecord(study.dir);
    expect(record.nodes[lams[0].id].status).toBe('cached');
    expect(['cpu', 'cuda', 'webgpu']).toContain(record.nodes[lams[0].id].device);
  });
});
