// The `lvi` command end to end: the command functions on real files, and the built binary
// (bin/lvi.js -> dist/, made by `npm run build`, which `npm ci` runs) as a user runs it.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCheck } from '../../src/cli/commands/check.js';
import { runFmt } from '../../src/cli/commands/fmt.js';
import { runGraph } from '../../src/cli/commands/graph.js';
import { formatStudy, type LviDiagnostic } from '../../src/compiler/index.js';
import { capture } from '../helpers/io.js';
import { deriveLr, readImage } from '../../src/runtime/image/index.js';
import { describePlan, planLam } from '../../src/runtime/methods/lam/plan.js';
import { resolveZooModel } from '../../src/runtime/models/zoo.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = path.join(root, 'test', 'compiler', 'corpus');
const valid = path.join(corpus, 'valid', 'lam-edges.lvi');
const broken = path.join(corpus, 'invalid', 'ten-mistakes.lvi');

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lvi-cli-'));
  fs.cpSync(path.join(corpus, 'files'), path.join(tmp, 'files'), { recursive: true });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('lvi check', () => {
  test('a valid study: exit 0, nothing on stdout', () => {
    const io = capture();
    expect(runCheck([valid], {}, io)).toBe(0);
    expect(io.stdout).toBe('');
    expect(io.stderr).toContain('no problems found');
  });

  test('a broken study: every mistake as file:line:col: error[code]: message, the line and a caret', () => {
    const io = capture();
    expect(runCheck([broken], {}, io)).toBe(1);
    const heads = io.stdout.split('\n').filter((l) => /^\S+:\d+:\d+: error\[/.test(l));
    expect(heads).toHaveLength(11);
    const shown = path.relative(process.cwd(), broken);
    expect(io.stdout).toContain(`${shown}:3:34: error[unknown-value]: `);
    expect(io.stdout).toContain(
      ['3 | study "ten" out="out/ten" device=gpu seed=0        # expect: unknown-value', '  |                                  ^^^'].join('\n'),
    );
    expect(io.stdout).toContain('= help: did you mean `steps`?');
    expect(io.stderr).toContain('11 errors found');
  });

  test('a missing study and a folder are one clear error each, with the path', () => {
    const io = capture();
    expect(runCheck([path.join(tmp, 'nope.lvi'), tmp], {}, io)).toBe(1);
    expect(io.stdout).toContain(`error[file-not-found]: cannot read the study file ${path.join(tmp, 'nope.lvi')}`);
    expect(io.stdout).toContain(`error[file-not-found]: cannot read the study file ${tmp}`);
    expect(io.stderr).toContain('2 errors found');
  });

  test('a binary file opened by mistake: one error at its first non-text byte, as in the editor', () => {
    const file = path.join(tmp, 'image.lvi');
    fs.copyFileSync(path.join(root, 'examples', 'images', 'camera.png'), file);
    const io = capture();
    expect(runCheck([file], {}, io)).toBe(1);
    expect(io.stdout).toMatch(/image\.lvi:\d+:\d+: error\[syntax\]: binary data: this is not a study file/);
    expect(io.stderr).toContain('1 error found');
  });

  test('--json: codes, ranges and suggestions for tools', () => {
    const io = capture();
    expect(runCheck([broken], { json: true }, io)).toBe(1);
    const out = JSON.parse(io.stdout) as { errors: number; files: { file: string; diagnostics: LviDiagnostic[] }[] };
    expect(out.errors).toBe(11);
    const d = out.files[0].diagnostics.find((x) => x.code === 'unknown-kind')!;
    expect(d).toMatchObject({ line: 6, column: 1, range: { start: { line: 5, character: 0 }, end: { line: 5, character: 5 } } });
    expect(d.suggestion).toEqual({ text: 'model', range: d.range });
  });
});

describe('the bundled examples', () => {
  const examples = fs.readdirSync(path.join(root, 'examples')).filter((f) => /^[^.].*\.lvi$/.test(f)).map((f) => path.join(root, 'examples', f));

  test('check clean and are in canonical layout', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const file of examples) {
      const io = capture();
      expect(runCheck([file], {}, io), io.stdout).toBe(0);
      expect(formatStudy(fs.readFileSync(file, 'utf8')), file).toBe(fs.readFileSync(file, 'utf8'));
    }
  });
});

describe('lvi fmt', () => {
  test('--check fails on a messy study; fmt rewrites it; then --check passes and fmt changes nothing', () => {
    const file = path.join(tmp, 'messy.lvi');
    const messy = 'model   m  file = "files/nearest_x4.onnx"   # the model\nlam e model=m  image=i window=( 0,0 , 4,4 )\n      steps = 5\nimage i file="files/hr.png"\n';
    fs.writeFileSync(file, messy);
    let io = capture();
    expect(runFmt([file], { check: true }, io)).toBe(1);
    expect(fs.readFileSync(file, 'utf8')).toBe(messy);
    io = capture();
    expect(runFmt([file], {}, io)).toBe(0);
    const formatted = fs.readFileSync(file, 'utf8');
    expect(formatted).toBe(
      'model m file="files/nearest_x4.onnx"  # the model\nlam e model=m image=i window=(0,0,4,4)\n    steps=5\nimage i file="files/hr.png"\n',
    );
    expect(runFmt([file], { check: true }, capture())).toBe(0);
    expect(runFmt([file], {}, capture())).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(formatted);
  });

  test('a study with syntax errors is left alone, with its errors printed', () => {
    const file = path.join(tmp, 'bad.lvi');
    fs.writeFileSync(file, 'model m file=(\n');
    const io = capture();
    expect(runFmt([file], {}, io)).toBe(1);
    expect(io.stderr).toContain('error[syntax]');
    expect(fs.readFileSync(file, 'utf8')).toBe('model m file=(\n');
  });
});

describe('lvi graph', () => {
  test('text, mermaid and dot name every node and edge', () => {
    for (const format of ['text', 'mermaid', 'dot'] as const) {
      const io = capture();
      expect(runGraph(valid, { format }, io)).toBe(0);
      for (const id of ['model:slim', 'lr:chelsea@x4', 'lam:edge#model=mine', 'table:di']) expect(io.stdout).toContain(id);
    }
    const mermaid = capture();
    runGraph(valid, { format: 'mermaid' }, mermaid);
    expect(mermaid.stdout.startsWith('flowchart LR\n')).toBe(true);
    expect(mermaid.stdout.match(/-->/g)).toHaveLength(14); // 1 image->lr, 3x (lr, model)->lam, 3 lam->table, 4 ->report
    const dot = capture();
    runGraph(valid, { format: 'dot' }, dot);
    expect(dot.stdout).toContain('"lr:chelsea@x4" -> "lam:edge#model=slim" [label="image"];');
  });

  test('--flops: under each lam node its FLOPs on the whole image, the crop and the cone, and the plan', async () => {
    const hr = path.join(root, 'test', 'fixtures', 'lam', 'astronaut_256.png');
    const file = path.join(tmp, 'flops.lvi');
    fs.writeFileSync(file, [
      'study "flops" out="out/flops"',
      'model slim zoo="esrgan-slim/x4"',
      'model mine file="files/nearest_x4.onnx" scale=4 range=1',
      `image astro file=${JSON.stringify(hr)}`,
      'lam eye model=[slim, mine] image=astro window=(96,120,16,16) steps=20',
      'lam off model=slim image=astro window=(96,120,16,16) steps=20 crop=off',
      '',
    ].join('\n'));
    const io = capture();
    expect(await runGraph(file, { flops: true }, io), io.stderr).toBe(0);
    // the same plan counted here: 64x64 LR (the HR image at x4), each statement's parameters
    const lr = deriveLr(readImage(hr), 4).lr;
    const win = { x: 96, y: 120, w: 16, h: 16 };
    const slim = planLam(await resolveZooModel('esrgan-slim/x4'), lr, { window: win, detector: 'gradient', reduce: 'sum', steps: 20, crop: 'auto' });
    expect(slim.plan).toBe('cone');
    const lines = io.stdout.split('\n');
    const under = (id: string) => lines.slice(lines.findIndex((l) => l.trim().startsWith(id)) + 1).slice(0, 2).map((l) => l.trim());
    expect(under('lam:eye#model=slim')).toEqual(describePlan(slim, 20));
    expect(under('lam:off')).toEqual(describePlan({ ...slim, plan: 'whole', reason: 'crop=off' }, 20));
    expect(under('lam:off')[1]).toMatch(/^plan: whole \(crop=off\); the path of 21 steps [\d.]+ GFLOP, 100% of/);
    // nearest_x4: a Resize alone, its cone a few pixels
    expect(under('lam:eye#model=mine')[1]).toMatch(/^plan: cone;/);
    // Mermaid and DOT carry the lines in the node's label
    const dot = capture();
    expect(await runGraph(file, { flops: true, format: 'dot' }, dot)).toBe(0);
    expect(dot.stdout).toContain(JSON.stringify(['lam:off', 'lam', ...describePlan({ ...slim, plan: 'whole', reason: 'crop=off' }, 20)].join('\n')));
  }, 120_000);

  test('a broken study prints its errors and exits 1', () => {
    const io = capture();
    expect(runGraph(broken, {}, io)).toBe(1);
    expect(io.stderr).toContain('error[unknown-kind]');
  });
});

describe('the built binary', () => {
  const bin = path.join(root, 'bin', 'lvi.js');
  const lvi = (args: string[], cwd = root) => spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });

  beforeAll(() => {
    if (!fs.existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  });

  test('--help on the program and on every subcommand', () => {
    const top = lvi(['--help']);
    expect(top.status).toBe(0);
    for (const cmd of ['check', 'fmt', 'graph', 'run']) {
      expect(top.stdout).toContain(cmd);
      const r = lvi([cmd, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`Usage: lvi ${cmd}`);
    }
  });

  test('check: exit codes and diagnostics', () => {
    expect(lvi(['check', valid]).status).toBe(0);
    const r = lvi(['check', path.relative(root, broken)]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('test/compiler/corpus/invalid/ten-mistakes.lvi:6:1: error[unknown-kind]: unknown statement kind `modle`');
  });

  test('fmt --check and graph --format', () => {
    const file = path.join(tmp, 'bin-fmt.lvi');
    fs.writeFileSync(file, formatStudy('model m  zoo="rdn/x4"\n'));
    expect(lvi(['fmt', '--check', file]).status).toBe(0);
    fs.appendFileSync(file, 'image i   file="files/hr.png"\n');
    expect(lvi(['fmt', '--check', file]).status).toBe(1);
    const g = lvi(['graph', valid, '--format', 'dot']);
    expect(g.status).toBe(0);
    expect(g.stdout.startsWith('digraph plan {')).toBe(true);
    expect(lvi(['graph', valid, '--format', 'svg']).status).not.toBe(0);
  });

  test('run: a study with errors runs nothing and exits 1', () => {
    const file = path.join(tmp, 'broken-run.lvi');
    fs.writeFileSync(file, 'image i file="files/missing.png"\n');
    const r = lvi(['run', file], tmp);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error[file-not-found]');
    expect(fs.existsSync(path.join(tmp, '.lvi'))).toBe(false);
  });

  test('run --json on images: the executor summary on stdout', () => {
    const file = path.join(tmp, 'images.lvi');
    fs.writeFileSync(file, 'study "imgs" out="out"\nimage a file="files/hr.png"\nimage b lr="files/lr.png"\n');
    const r = lvi(['run', file, '--json'], tmp);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { status: string; nodes: { id: string; status: string }[] };
    expect(summary.status).toBe('ok');
    expect(summary.nodes.map((n) => n.id).sort()).toEqual(['image:a', 'image:b']);
    const only = lvi(['run', file, '--json', '--only', 'b', '--device', 'cpu'], tmp);
    expect(only.status, only.stderr).toBe(0);
    expect((JSON.parse(only.stdout) as { nodes: { id: string }[] }).nodes.map((n) => n.id)).toEqual(['image:b']);
    expect(lvi(['run', file, '--device', 'tpu'], tmp).status).not.toBe(0);
  });
});
